"""The HTTP API against a real server process (SPEC §9)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest

from tests.server_fixtures import Session, live, make_key  # noqa: F401 - the fixture

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def event(
    alias: str = "acme",
    seat_type: str = "admin",
    when: str = "2025-01-01T00:00:00Z",
    total: int = 3,
    **extra: Any,
) -> dict[str, Any]:
    return {"customerAlias": alias, "seatType": seat_type, "eventTimestamp": when, "total": total, **extra}


def alias() -> str:
    return f"cust-{uuid.uuid4().hex[:10]}"


def errors_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"} and {"type", "message", "errors"} <= set(body["error"]), body
    assert response.headers["sequence-version"] == "2024-07-30"
    return dict(body["error"])


def test_create_get_and_location(live: Session) -> None:
    with live.server.client(live.key_a) as client:
        made = client.post("/seat-events", json=event(customerEventId="e-1", total=7))
        assert made.status_code == 201, made.text
        body = made.json()
        assert set(body) == {
            "id",
            "customerEventId",
            "customerAlias",
            "seatType",
            "sequenceAccountId",
            "eventTimestamp",
            "total",
        }
        assert (
            body["sequenceAccountId"] == "acct-a" and body["total"] == 7 and body["customerEventId"] == "e-1"
        )
        assert made.headers["location"] == f"/seat-events/{body['id']}"
        assert made.headers["sequence-version"] == "2024-07-30"
        got = client.get(made.headers["location"])
        assert got.status_code == 200 and got.json() == body
        missing = client.get("/seat-events/no-such-id")
        assert missing.status_code == 404 and errors_of(missing)["type"] == "SeatEventNotFound"


def test_accounts_never_see_each_other(live: Session) -> None:
    name = alias()
    with live.server.client(live.key_a) as a, live.server.client(live.key_b) as b:
        mine = a.post("/seat-events", json=event(name, total=4)).json()
        theirs = b.get(f"/seat-events/{mine['id']}")
        assert theirs.status_code == 404
        assert errors_of(theirs) == errors_of(b.get("/seat-events/0190-unknown")) | {
            "message": errors_of(theirs)["message"]
        }
        assert b.get("/seat-events", params={"customerAlias": name}).json()["items"] == []
        assert a.get("/seat-events", params={"customerAlias": name}).json()["items"] == [mine]
        assert b.get("/seat-balances", params={"customerAliases": name}).json()["items"] == []
        created_b = b.post("/seat-events", json=event(name, total=9)).json()
        assert created_b["sequenceAccountId"] == "acct-b"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer abc",
        "Basic !!!",
        "Basic " + base64.b64encode(b"nocolon").decode(),
        "Basic " + base64.b64encode(b"sk_unknown:secret").decode(),
    ],
)
def test_bad_credentials_are_401(live: Session, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = httpx.get(f"{live.server.url}/seat-events", headers=headers, timeout=30)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert errors_of(response)["type"] == "NotAuthenticated"


def test_wrong_secret_and_revoked_key(live: Session) -> None:
    client_id, _ = live.key_a
    with live.server.client((client_id, "wrong")) as client:
        assert client.get("/seat-events").status_code == 401
    key = make_key(live.server.db, "acct-c")
    with live.server.client(key) as client:
        assert client.get("/seat-events").status_code == 200
        import subprocess
        import sys

        subprocess.run(
            [sys.executable, "-m", "seatcalc.cli", "keys", "revoke", key[0], "--db", str(live.server.db)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        assert client.get("/seat-events").status_code == 401


def test_bad_bodies_are_400_naming_each_field(live: Session) -> None:
    with live.server.client(live.key_a) as client:
        bad = client.post(
            "/seat-events",
            json={
                "customerAlias": "",
                "seatType": "admin",
                "eventTimestamp": "2025-01-01T00:00:00",
                "total": -1,
                "x": 1,
            },
        )
        assert bad.status_code == 400
        where = {e["location"] for e in errors_of(bad)["errors"]}
        assert {"body.customerAlias", "body.eventTimestamp", "body.total", "body.x"} <= where
        assert errors_of(bad)["type"] == "InvalidSeatEvent"
        for raw in [
            b"{",
            b"[1]",
            b'{"total": 1, "total": 2}',
            b'{"customerAlias": "\\ud800"}',
            b"NaN",
            b"[" * 100_000,
            b"\xff",
            b'{"total": 1' + b"0" * 400 + b"}",
        ]:
            response = client.post("/seat-events", content=raw, headers={"content-type": "application/json"})
            assert response.status_code == 400, (raw[:20], response.text)
            assert errors_of(response)["errors"]
        float_total = client.post("/seat-events", json=event(total=1.0))  # type: ignore[arg-type]
        assert float_total.status_code == 400


def test_media_type_size_method_and_route(live: Session) -> None:
    with live.server.client(live.key_a) as client:
        text = client.post("/seat-events", content=b"{}", headers={"content-type": "text/plain"})
        assert text.status_code == 415 and errors_of(text)["type"] == "UnsupportedMediaType"
        big = client.post(
            "/seat-events", content=b" " * (1 << 20 + 1), headers={"content-type": "application/json"}
        )
        assert big.status_code == 413
        assert client.delete("/seat-events").status_code == 405
        assert errors_of(client.put("/seat-events/x"))["type"] == "MethodNotAllowed"
        nowhere = client.get("/no/such/path")
        assert nowhere.status_code == 404 and errors_of(nowhere)["type"] == "NotFound"


def test_version_header(live: Session) -> None:
    with live.server.client(live.key_a) as client:
        ok = client.get("/seat-events", headers={"Sequence-Version": "2024-07-30"})
        assert ok.status_code == 200 and ok.headers["sequence-version"] == "2024-07-30"
        bad = client.get("/seat-events", headers={"Sequence-Version": "2023-01-01"})
        assert bad.status_code == 400
        error = errors_of(bad)
        assert error["type"] == "UnrecognisedApiVersion" and "2023-01-01" in error["message"]
        assert client.get("/healthz").headers["sequence-version"] == "2024-07-30"


def test_idempotent_retries(live: Session) -> None:
    key = str(uuid.uuid4())
    name = alias()
    with live.server.client(live.key_a) as client:
        first = client.post("/seat-events", json=event(name, total=5), headers={"Idempotency-Key": key})
        assert first.status_code == 201
        again = client.post(
            "/seat-events",
            content=json.dumps(event(name, total=5), indent=2),
            headers={"Idempotency-Key": key, "content-type": "application/json"},
        )
        assert again.status_code == 201 and again.json() == first.json()
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["idempotent-replayed"] == "true"
        other = client.post("/seat-events", json=event(name, total=6), headers={"Idempotency-Key": key})
        assert other.status_code == 409 and errors_of(other)["type"] == "IdempotencyConflict"
        assert (
            client.get("/seat-events", params={"customerAlias": name}).json()["pagination"]["totalResultSize"]
            == 1
        )
    with live.server.client(live.key_b) as client:  # keys are per account
        assert (
            client.post(
                "/seat-events", json=event(name, total=6), headers={"Idempotency-Key": key}
            ).status_code
            == 201
        )


def test_list_filters_and_cursors(live: Session) -> None:
    name = alias()
    with live.server.client(live.key_a) as client:
        rows = [
            event(
                name,
                seat_type=("admin", "editor", "viewer")[i % 3],
                when=f"2025-01-{i + 1:02d}T00:00:00Z",
                total=i,
            )
            for i in range(7)
        ]
        made = client.post("/seat-events/batch", json={"items": rows})
        assert made.status_code == 201 and made.json()["created"] == 7
        ids = [item["id"] for item in made.json()["items"]]
        page = client.get(
            "/seat-events", params={"customerAlias": name, "limit": 3, "sortOrder": "ASC"}
        ).json()
        assert [i["id"] for i in page["items"]] == ids[:3]
        assert page["pagination"]["totalResultSize"] == 7 and page["pagination"]["before"] is None
        nxt = client.get(
            "/seat-events",
            params={
                "customerAlias": name,
                "limit": 3,
                "sortOrder": "ASC",
                "after": page["pagination"]["after"],
            },
        ).json()
        assert [i["id"] for i in nxt["items"]] == ids[3:6]
        desc = client.get("/seat-events", params={"customerAlias": name}).json()
        assert [i["id"] for i in desc["items"]] == ids[::-1]
        typed = client.get("/seat-events", params={"customerAlias": name, "seatType": "admin,viewer"}).json()
        assert sorted(i["total"] for i in typed["items"]) == [0, 2, 3, 5, 6]
        window = client.get(
            "/seat-events",
            params={
                "customerAlias": name,
                "eventTimestampAfter": "2025-01-02T00:00:00Z",
                "eventTimestampBefore": "2025-01-04T00:00:00Z",
            },
        ).json()
        assert sorted(i["total"] for i in window["items"]) == [1, 2]
        for params, where in [
            ({"limit": 0}, "query.limit"),
            ({"limit": "x"}, "query.limit"),
            ({"sortOrder": "UP"}, "query.sortOrder"),
            ({"seatType": ",".join(str(i) for i in range(26))}, "query.seatType"),
            ({"eventTimestampAfter": "yesterday"}, "query.eventTimestampAfter"),
            ({"after": "%%%"}, "query.after"),
        ]:
            bad = client.get("/seat-events", params=params)
            assert bad.status_code == 400, (params, bad.text)
            assert where in {e["location"] for e in errors_of(bad)["errors"]}, bad.text


def test_batch_atomic_and_skip(live: Session) -> None:
    name = alias()
    rows = [
        event(name, total=1),
        event(name, total=-1),
        "nope",
        event(name, total=2, extra=1),
        event(name, total=2.5),
    ]  # a fraction once made the request fingerprint fail (500)
    with live.server.client(live.key_a) as client:
        bad = client.post("/seat-events/batch", json={"items": rows})
        assert bad.status_code == 400
        where = {e["location"] for e in errors_of(bad)["errors"]}
        assert where == {"body.items[1].total", "body.items[2]", "body.items[3].extra", "body.items[4].total"}
        assert client.get("/seat-events", params={"customerAlias": name}).json()["items"] == []
        skip = client.post("/seat-events/batch", params={"onError": "skip"}, json={"items": rows})
        assert skip.status_code == 201
        assert skip.json()["created"] == 1 and skip.json()["rejectedRows"] == [1, 2, 3, 4]
        assert client.post("/seat-events/batch", json={"items": [event()] * 10_001}).status_code == 400


def test_balances_billable_seats_and_charges(live: Session) -> None:
    name = alias()
    rows = [
        event(name, "admin", "2025-01-01T00:00:00Z", 2),
        event(name, "admin", "2025-01-11T12:00:00Z", 5),
        event(name, "editor", "2025-01-05T00:00:00Z", 0),
    ]
    with live.server.client(live.key_a) as client:
        assert client.post("/seat-events/batch", json={"items": rows}).status_code == 201
        now = client.get("/seat-balances", params={"customerAliases": name}).json()
        assert now["items"] == [
            {
                "id": name,
                "sequenceAccountId": "acct-a",
                "legalName": name,
                "customerAliases": [name],
                "total": 5,
                "changeTimestamp": "2025-01-11T12:00:00Z",
                "balances": [
                    {"seatType": "admin", "total": 5, "changeTimestamp": "2025-01-11T12:00:00Z"},
                    {"seatType": "editor", "total": 0, "changeTimestamp": "2025-01-05T00:00:00Z"},
                ],
            }
        ]
        then = client.get(
            "/seat-balances", params={"customerAliases": name, "at": "2025-01-03T00:00:00Z"}
        ).json()
        assert [(c["total"], [b["total"] for b in c["balances"]]) for c in then["items"]] == [(2, [2])]
        assert client.get("/seat-balances", params={"at": "soon"}).status_code == 400
        seats = client.get(
            "/billable-seats",
            params={"start": "2025-01-01", "interval": "1mo", "end": "2025-02-01", "customerAlias": name},
        )
        assert seats.status_code == 200, seats.text
        admin = [r for r in seats.json()["items"] if r["seatType"] == "admin"]
        assert [(r["startSeats"], r["endSeats"], r["seatDays"], r["incrementSeatDays"]) for r in admin] == [
            (2, 5, 125, 125)
        ]
        assert admin[0]["periodStart"] == "2025-01-01T00:00:00Z"
        bad = client.get("/billable-seats", params={"start": "2025-01-01", "end": "2025-01-15"})
        assert bad.status_code == 400 and errors_of(bad)["type"] == "InvalidSchedule"
        assert client.get("/billable-seats", params={"start": "x", "until": "2025-02-01"}).status_code == 400
        price = {
            "seatType": "admin",
            "currency": "GBP",
            "pricePerSeat": "31",
            "prorationStrategy": "PRORATE_ALL_CHANGES",
        }
        charged = client.post(
            "/charges",
            json={
                "schedule": {"start": "2025-01-01", "end": "2025-02-01"},
                "prices": [price],
                "customerAlias": name,
            },
        )
        assert charged.status_code == 200, charged.text
        (line,) = charged.json()["items"]
        assert line["amount"] == "125.00" and line["currency"] == "GBP" and line["lineType"] == "ARREARS"
        wrong = client.post(
            "/charges",
            json={
                "schedule": {"start": "2025-01-01", "end": "2025-02-01"},
                "prices": [{**price, "currency": "XXX1"}],
            },
        )
        assert wrong.status_code == 400 and errors_of(wrong)["type"] == "InvalidPrice"


def test_openapi_and_docs(live: Session) -> None:
    spec = httpx.get(f"{live.server.url}/openapi.json", timeout=30).json()
    ops = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"postSeatEvents", "getSeatEventsById", "getSeatEvents", "getSeatBalances"} <= ops
    assert httpx.get(f"{live.server.url}/docs", timeout=30).status_code == 200
    assert httpx.get(f"{live.server.url}/healthz", timeout=30).json() == {"status": "ok"}


def test_request_log_lines(live: Session) -> None:
    httpx.get(f"{live.server.url}/healthz", timeout=30)
    assert "GET /healthz 200" in live.server.log.read_text()
