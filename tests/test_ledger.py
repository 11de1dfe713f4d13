"""The ledger (SPEC §7): one suite, run on both backends (memory and an SQLite file)."""

from __future__ import annotations

import itertools
import json
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from seatcalc import (
    BillingSchedule,
    CreateSeatEventRequest,
    InvalidSeatEvent,
    LedgerError,
    SeatcalcError,
    SeatEvent,
    SeatEventNotFound,
    SeatLedger,
    billable_seats,
    seat_balances,
)
from seatcalc.cli import main
from seatcalc.errors import FrameSchemaError
from seatcalc.io import read_events
from seatcalc.ledger import EVENT_COLUMNS, InvalidLedgerArgument, SeatEventPage
from seatcalc.ledger import store as store_module
from seatcalc.ledger.store import SEGMENT_MIN, rows_frame

BACKENDS = ["memory", "sqlite"]
T0 = datetime(2025, 1, 1, tzinfo=UTC)
Opener = Callable[..., SeatLedger]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_ledger(backend: str, tmp_path: Path) -> Iterator[Opener]:
    """Open ledgers on this backend (one file per test for SQLite); all closed afterwards."""
    opened: list[SeatLedger] = []

    def opener(account_id: str = "acct-1", **options: Any) -> SeatLedger:
        path = None if backend == "memory" else tmp_path / "ledger.sqlite"
        ledger = SeatLedger.open(path, account_id=account_id, **options)
        opened.append(ledger)
        return ledger

    yield opener
    for ledger in opened:
        ledger.close()


@pytest.fixture
def ledger(open_ledger: Opener) -> SeatLedger:
    return open_ledger()


def wire(i: int, **fields: Any) -> dict[str, Any]:
    """A valid request dict; ``i`` makes it distinct."""
    body = {
        "customerEventId": f"evt-{i}",
        "customerAlias": f"cust-{i % 3}",
        "seatType": ("admin", "editor")[i % 2],
        "eventTimestamp": (T0 + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "total": i,
    }
    body.update(fields)
    return body


def stored_rows(path: Path) -> pl.DataFrame:
    """Every row of every account straight from SQL (no segments): the ground truth."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT a.sequenceAccountId, e.receivedSeq, e.id, e.customerEventId, e.customerAlias, "
            "e.seatType, e.eventTimestamp, e.total FROM seat_events e JOIN accounts a USING (accountKey) "
            "ORDER BY a.sequenceAccountId, e.receivedSeq"
        ).fetchall()
    conn.close()
    return pl.DataFrame(
        rows,
        schema=[
            "sequenceAccountId",
            "receivedSeq",
            "id",
            "customerEventId",
            "customerAlias",
            "seatType",
            "eventTimestamp",
            "total",
        ],
        orient="row",
    )


# -- create and get ------------------------------------------------------------------------------


def test_create_returns_the_stored_event_with_a_uuidv7_and_the_account(ledger: SeatLedger) -> None:
    event = ledger.create(wire(1))
    assert isinstance(event, SeatEvent)
    assert uuid.UUID(event.id).version == 7
    assert event.sequence_account_id == "acct-1"
    assert (event.customer_event_id, event.customer_alias, event.total) == ("evt-1", "cust-1", 1)
    assert ledger.get(event.id) == event
    body = json.loads(event.to_json())
    assert list(body) == [
        "id",
        "customerEventId",
        "customerAlias",
        "seatType",
        "sequenceAccountId",
        "eventTimestamp",
        "total",
    ]
    assert body["eventTimestamp"] == "2025-01-01T01:00:00Z"


def test_create_takes_a_model_a_dict_or_json_text(ledger: SeatLedger) -> None:
    model = CreateSeatEventRequest.model_validate(wire(1))
    made = [ledger.create(model), ledger.create(wire(2)), ledger.create(json.dumps(wire(3)))]
    assert [e.total for e in made] == [1, 2, 3]
    assert len({e.id for e in made}) == 3
    assert ledger.events()["id"].to_list() == [e.id for e in made]


def test_create_generates_a_customer_event_id_when_absent(ledger: SeatLedger) -> None:
    body = wire(1)
    del body["customerEventId"]
    first, second = ledger.create(body), ledger.create(body)
    assert first.customer_event_id != second.customer_event_id
    assert uuid.UUID(first.customer_event_id)


def test_a_bad_request_names_every_bad_field_and_stores_nothing(ledger: SeatLedger) -> None:
    with pytest.raises(InvalidSeatEvent) as caught:
        ledger.create(wire(1, total=-1, eventTimestamp="2025-01-01T00:00:00", extra=1))
    assert {p.field for p in caught.value.problems} == {"total", "eventTimestamp", "extra"}
    with pytest.raises(InvalidSeatEvent, match="not list"):
        ledger.create([wire(1)])  # type: ignore[arg-type]
    assert len(ledger) == 0
    assert ledger.events().height == 0


def test_get_keeps_superseded_versions_and_raises_for_unknown_ids(ledger: SeatLedger) -> None:
    old = ledger.create(wire(1, total=3))
    new = ledger.create(wire(1, total=5))
    assert ledger.get(old.id).total == 3
    assert ledger.get(new.id).total == 5
    with pytest.raises(SeatEventNotFound, match="no seat event with id 'nope'") as caught:
        ledger.get("nope")
    assert isinstance(caught.value, LookupError)
    assert ledger.balances()["total"].to_list() == [5]


# -- events and balances -------------------------------------------------------------------------


def test_events_is_every_version_in_receipt_order_ready_for_billing(ledger: SeatLedger) -> None:
    made = [ledger.create(wire(i)) for i in range(6)]
    made.append(ledger.create(wire(2, total=40)))  # a correction of evt-2, same instant
    frame = ledger.events()
    assert frame.columns == list(EVENT_COLUMNS)
    assert frame.schema["receivedSeq"] == pl.Int64
    assert frame.schema["eventTimestamp"] == pl.Datetime("us", "UTC")
    assert frame["receivedSeq"].to_list() == list(range(1, 8))
    assert frame["id"].to_list() == [e.id for e in made]
    assert frame["sequenceAccountId"].unique().to_list() == ["acct-1"]

    schedule = BillingSchedule(date(2025, 1, 1), "1d", end=date(2025, 1, 3))
    plain = read_events([wire(i) for i in range(6)])
    fixed = plain.with_columns(
        pl.when(pl.col("customerEventId") == "evt-2").then(40).otherwise(pl.col("total")).alias("total")
    )
    billed = billable_seats(frame, schedule).drop("sequenceAccountId")
    assert_frame_equal(billed, billable_seats(fixed, schedule))


def test_balances_at_any_instant(ledger: SeatLedger) -> None:
    ledger.create(wire(0, customerAlias="acme", seatType="admin", total=2))
    ledger.create(wire(1, customerAlias="acme", seatType="admin", total=7))
    assert ledger.balances()["total"].to_list() == [7]
    assert ledger.balances(T0 + timedelta(minutes=30))["total"].to_list() == [2]
    assert ledger.balances("2025-01-01T01:00:00+00:00")["total"].to_list() == [7]
    assert ledger.balances(T0 - timedelta(seconds=1)).height == 0
    assert_frame_equal(ledger.balances(T0), seat_balances(ledger.events(), T0))
    with pytest.raises(InvalidLedgerArgument, match="no UTC offset"):
        ledger.balances("2025-01-01T00:00:00")


def test_an_empty_ledger(ledger: SeatLedger) -> None:
    assert len(ledger) == 0
    assert ledger.events().columns == list(EVENT_COLUMNS)
    assert ledger.balances().height == 0
    page = ledger.list()
    assert page.items == ()
    assert page.pagination.model_dump() == {"after": None, "before": None, "total_result_size": 0}


# -- list ----------------------------------------------------------------------------------------


def test_list_pages_newest_first_with_cursors_both_ways(ledger: SeatLedger) -> None:
    made = [ledger.create(wire(i)) for i in range(7)]
    ids = [e.id for e in made]
    first = ledger.list(limit=3)
    assert [e.id for e in first.items] == ids[::-1][:3]
    assert first.pagination.before is None and first.pagination.after is not None
    assert first.pagination.total_result_size == 7
    second = ledger.list(limit=3, after=first.pagination.after)
    assert [e.id for e in second.items] == ids[::-1][3:6]
    third = ledger.list(limit=3, after=second.pagination.after)
    assert [e.id for e in third.items] == ids[::-1][6:]
    assert third.pagination.after is None and third.pagination.before is not None
    back = ledger.list(limit=3, before=third.pagination.before)
    assert back.items == second.items and back.pagination == second.pagination
    assert ledger.list(limit=3, before=back.pagination.before) == first

    ascending = ledger.list(limit=4, sort_order="ASC")
    assert [e.id for e in ascending.items] == ids[:4]
    rest = ledger.list(limit=4, sort_order="ASC", after=ascending.pagination.after)
    assert [e.id for e in rest.items] == ids[4:]


def test_list_page_is_the_reference_json(ledger: SeatLedger) -> None:
    event = ledger.create(wire(1))
    ledger.create(wire(2))
    page = ledger.list(limit=1, sort_order="ASC")
    body = json.loads(page.to_json())
    assert body["items"] == [json.loads(event.to_json())]
    assert set(body["pagination"]) == {"after", "before", "totalResultSize"}
    assert body["pagination"]["totalResultSize"] == 2
    assert isinstance(page, SeatEventPage)


def test_list_filters_combine(ledger: SeatLedger) -> None:
    for i in range(12):
        ledger.create(wire(i))
    ledger.create(wire(4, total=99))  # a second version of evt-4
    every = ledger.events()

    def listed(**filters: Any) -> list[int]:
        return [e.total for e in ledger.list(limit=100, sort_order="ASC", **filters).items]

    assert (
        listed(customer_alias="cust-1")
        == every.filter(pl.col("customerAlias") == "cust-1")["total"].to_list()
    )
    assert listed(seat_type="admin") == [0, 2, 4, 6, 8, 10, 99]
    assert listed(seat_type=["admin", "editor"]) == every["total"].to_list()
    assert listed(customer_event_id="evt-4") == [4, 99]
    window = {
        "event_timestamp_after": T0 + timedelta(hours=3),
        "event_timestamp_before": "2025-01-01T06:00:00Z",
    }
    assert listed(**window) == [3, 4, 5, 99]  # after is inclusive, before exclusive
    assert listed(customer_alias="cust-0", seat_type="editor", **window) == [3]
    assert listed(customer_alias="nobody") == []
    assert ledger.list(seat_type="admin", limit=2).pagination.total_result_size == 7


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"limit": 0}, "limit=0: must be an integer from 1 to 100"),
        ({"limit": 101}, "limit=101"),
        ({"limit": True}, "limit=True"),
        ({"sort_order": "UP"}, "sort_order='UP': must be 'ASC' or 'DESC'"),
        ({"after": "x", "before": "y"}, "at most one of after= and before="),
        ({"after": "%%%"}, "after='%%%': is not a cursor this ledger issued"),
        ({"before": ""}, "before=''"),
        ({"seat_type": [f"t{i}" for i in range(26)]}, "give 1 to 25 seat types"),
        ({"seat_type": []}, "give 1 to 25 seat types"),
        ({"customer_alias": ""}, "customer_alias='': must be a string of 1 to 256 characters"),
        ({"event_timestamp_after": "2025-01-01"}, "event_timestamp_after='2025-01-01': is a date only"),
        ({"event_timestamp_before": datetime(2025, 1, 1)}, "naive"),
    ],
)
def test_list_rejects_bad_arguments(ledger: SeatLedger, arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(
        InvalidLedgerArgument, match=message.replace("(", r"\(").replace("[", r"\[")
    ) as caught:
        ledger.list(**arguments)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, SeatcalcError)


def test_a_cursor_of_another_account_is_refused(open_ledger: Opener) -> None:
    mine, theirs = open_ledger("acct-1"), open_ledger("acct-2")
    mine.create(wire(1))
    theirs.create(wire(1))
    theirs.create(wire(2))
    cursor = theirs.list(limit=1).pagination.after
    assert cursor is not None
    with pytest.raises(InvalidLedgerArgument, match="not in account 'acct-1'"):
        mine.list(after=cursor)


def test_cursors_stay_exact_while_others_insert(open_ledger: Opener, backend: str) -> None:
    reader = open_ledger()
    writer = reader if backend == "memory" else open_ledger()  # a second connection to the file
    for i in range(10):
        writer.create(wire(i))
    before_walk = [e.id for e in reader.list(limit=100, sort_order="ASC").items]
    for order in ("ASC", "DESC"):
        seen: list[str] = []
        cursor: str | None = None
        step = 100
        while True:
            page = reader.list(limit=3, sort_order=order, after=cursor)  # type: ignore[arg-type]
            seen += [e.id for e in page.items]
            writer.create(wire(step))  # a new event between every two pages
            writer.create(wire(step + 1))
            step += 2
            cursor = page.pagination.after
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) > 10
        expected = before_walk if order == "ASC" else before_walk[::-1]
        assert [i for i in seen if i in set(before_walk)] == expected
        if order == "DESC":
            assert seen[: len(expected)] == expected  # newer events never enter behind the cursor
        before_walk = [e.id for e in reader.list(limit=100, sort_order="ASC").items]


@settings(max_examples=25, deadline=None)
@given(
    data=st.data(),
    totals=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(0, 5)), max_size=30),
)
@pytest.mark.parametrize("kind", BACKENDS)
def test_pages_walked_either_way_are_the_filtered_listing(
    kind: str, data: st.DataObject, totals: list[tuple[int, int, int]]
) -> None:
    """Law: the pages of any walk, concatenated, are exactly the matching events in order;
    walking back with ``before`` gives the same pages."""
    with tempfile.TemporaryDirectory() as folder:
        path = None if kind == "memory" else Path(folder) / "l.sqlite"
        with SeatLedger.open(path, account_id="a") as ledger:
            ledger.create_many(
                [
                    wire(n, customerAlias=f"c{alias}", seatType=f"s{seat}",
                         eventTimestamp=(T0 + timedelta(hours=hour)).isoformat())
                    for n, (alias, seat, hour) in enumerate(totals)
                ]
            )  # fmt: skip
            alias = data.draw(st.none() | st.sampled_from(["c0", "c1", "c9"]))
            seats = data.draw(st.none() | st.sampled_from(["s0", ("s1", "s2")]))
            lower = data.draw(st.none() | st.integers(0, 5))
            order = data.draw(st.sampled_from(["ASC", "DESC"]))
            limit = data.draw(st.integers(1, 4))
            filters: dict[str, Any] = {
                "customer_alias": alias,
                "seat_type": seats,
                "event_timestamp_after": None if lower is None else T0 + timedelta(hours=lower),
            }
            frame = ledger.events()
            keep = pl.lit(True)
            if alias is not None:
                keep &= pl.col("customerAlias") == alias
            if seats is not None:
                keep &= pl.col("seatType").is_in([seats] if isinstance(seats, str) else list(seats))
            if lower is not None:
                keep &= pl.col("eventTimestamp") >= T0 + timedelta(hours=lower)
            expected = frame.filter(keep).sort("receivedSeq", descending=order == "DESC")["id"].to_list()

            pages: list[SeatEventPage] = []
            cursor: str | None = None
            while True:
                page = ledger.list(limit=limit, sort_order=order, after=cursor, **filters)
                pages.append(page)
                assert page.pagination.total_result_size == len(expected)
                assert len(page.items) <= limit
                cursor = page.pagination.after
                if cursor is None:
                    break
            assert [e.id for p in pages for e in p.items] == expected
            assert pages[0].pagination.before is None
            back = pages[-1]
            for previous in reversed(pages[:-1]):
                assert back.pagination.before is not None
                back = ledger.list(limit=limit, sort_order=order, before=back.pagination.before, **filters)
                assert back.items == previous.items
            if expected:
                assert back.pagination.before is None


# -- create_many ---------------------------------------------------------------------------------


def test_create_many_is_atomic_and_names_every_bad_row(ledger: SeatLedger) -> None:
    ledger.create(wire(100))
    batch = [wire(i) for i in range(6)]
    batch[1]["total"] = -3
    batch[4]["eventTimestamp"] = "yesterday"
    batch[4]["seatType"] = ""
    batch[5]["total"] = 1.5
    with pytest.raises(InvalidSeatEvent) as caught:
        ledger.create_many(batch)
    problems = {(p.row, p.field) for p in caught.value.problems}
    assert problems == {(1, "total"), (4, "eventTimestamp"), (4, "seatType"), (5, "total")}
    assert "nothing was written" in str(caught.value)
    assert len(ledger) == 1


def test_create_many_can_skip_bad_rows(ledger: SeatLedger) -> None:
    batch = [wire(i) for i in range(5)]
    batch[2]["total"] = -1
    result = ledger.create_many(batch, on_error="skip")
    assert (result.created, result.rejected, result.rejected_rows) == (4, 1, (2,))
    assert [(p.row, p.field, p.reason) for p in result.problems] == [(2, "total", "is negative")]
    assert result.ids["sourceRow"].to_list() == [0, 1, 3, 4]
    assert result.ids["receivedSeq"].to_list() == [1, 2, 3, 4]
    for source_row, event_id in result.ids.select("sourceRow", "id").iter_rows():
        assert ledger.get(event_id).total == source_row
    assert ledger.events()["id"].to_list() == result.ids["id"].to_list()


@pytest.mark.parametrize("form", ["dicts", "models", "frame", "lazy", ".ndjson", ".csv", ".parquet"])
def test_create_many_reads_every_source(ledger: SeatLedger, tmp_path: Path, form: str) -> None:
    rows = [wire(i) for i in range(5)]
    del rows[3]["customerEventId"]  # generated, as for create()
    frame = pl.DataFrame(rows).select(
        "customerEventId", "customerAlias", "seatType", "eventTimestamp", "total"
    )
    source: Any
    if form == "dicts":
        source = rows
    elif form == "models":
        source = [CreateSeatEventRequest.model_validate(r) for r in rows]
    elif form in ("frame", "lazy"):
        typed = frame.with_columns(pl.col("eventTimestamp").str.to_datetime(time_zone="UTC"))
        source = typed if form == "frame" else typed.lazy()
    else:
        source = tmp_path / f"events{form}"
        if form == ".ndjson":
            source.write_text("".join(json.dumps(r) + "\n" for r in rows))
        elif form == ".csv":
            frame.write_csv(source)
        else:
            frame.write_parquet(source)
    result = ledger.create_many(source)
    assert result.created == 5 and result.rejected == 0
    stored = ledger.events()
    assert stored["total"].to_list() == [0, 1, 2, 3, 4]
    assert stored["customerEventId"].null_count() == 0
    assert stored["customerEventId"][3] not in {"evt-3", ""}
    assert stored["eventTimestamp"].to_list() == [T0 + timedelta(hours=i) for i in range(5)]
    assert len(set(stored["id"].to_list())) == 5
    assert all(uuid.UUID(i).version == 7 for i in stored["id"])


def test_create_many_rejects_columns_the_ledger_assigns(ledger: SeatLedger) -> None:
    ledger.create(wire(1))
    with pytest.raises(InvalidSeatEvent, match="receivedSeq: is not a field of a seat event request"):
        ledger.create_many(ledger.events().drop("sequenceAccountId", "id"))
    with pytest.raises(FrameSchemaError, match="total"):
        ledger.create_many(
            pl.DataFrame({"customerAlias": ["a"], "seatType": ["b"], "eventTimestamp": [T0], "total": [1.5]})
        )
    with pytest.raises(InvalidLedgerArgument, match="on_error='ignore'"):
        ledger.create_many([wire(1)], on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(InvalidLedgerArgument, match="chunk_rows=0"):
        ledger.create_many([wire(1)], chunk_rows=0)
    assert len(ledger) == 1


def test_create_many_in_chunks_reports_progress(ledger: SeatLedger) -> None:
    calls: list[tuple[int, int]] = []
    result = ledger.create_many(
        [wire(i) for i in range(10)], chunk_rows=4, progress=lambda done, total: calls.append((done, total))
    )
    assert result.created == 10
    assert calls == [(4, 10), (8, 10), (10, 10)]
    assert ledger.events()["total"].to_list() == list(range(10))
    empty = ledger.create_many([])
    assert (empty.created, empty.rejected, empty.ids.height) == (0, 0, 0)


def test_events_read_through_segments_equal_the_stored_rows(
    open_ledger: Opener, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bulk and single writes cross the segment threshold several times; the columnar read
    is the same as the rows, before and after reopening."""
    monkeypatch.setattr(store_module, "SEGMENT_MIN", 7)
    monkeypatch.setattr(store_module, "SEGMENT_MAX", 5)
    ledger = open_ledger()
    made = [ledger.create(wire(i)) for i in range(9)]
    ledger.create_many([wire(i) for i in range(9, 20)])
    made += [ledger.create(wire(i)) for i in range(20, 23)]
    ledger.create_many([wire(i) for i in range(23, 40)], chunk_rows=6)
    frame = ledger.events()
    assert frame["receivedSeq"].to_list() == list(range(1, 41))
    assert frame["total"].to_list() == list(range(40))
    assert frame["id"].head(9).to_list() == [e.id for e in made[:9]]
    with ledger._store._connection() as conn:
        segments = conn.execute("SELECT firstSeq, lastSeq FROM seat_event_segments ORDER BY 1").fetchall()
        raw = conn.execute(
            "SELECT receivedSeq, id, customerEventId, customerAlias, seatType, "
            "eventTimestamp, total FROM seat_events ORDER BY receivedSeq"
        ).fetchall()
    assert len(segments) >= 4 and segments[0][0] == 1
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(segments))
    assert_frame_equal(frame.drop("sequenceAccountId"), rows_frame(raw))
    if backend == "sqlite":
        ledger.close()
        assert_frame_equal(open_ledger().events(), frame)


def test_segment_threshold_is_large_enough_for_the_benchmarks() -> None:
    assert SEGMENT_MIN >= 4096


# -- sharing -------------------------------------------------------------------------------------


def test_threads_share_one_ledger(ledger: SeatLedger) -> None:
    made: list[SeatEvent] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        for i in range(25):
            event = ledger.create(wire(worker * 100 + i))
            with lock:
                made.append(event)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    frame = ledger.events()
    assert frame["receivedSeq"].to_list() == list(range(1, 101))
    assert sorted(frame["id"].to_list()) == sorted(e.id for e in made)


def test_one_file_holds_several_accounts(backend: str, tmp_path: Path) -> None:
    if backend == "memory":
        pytest.skip("each in-memory ledger is its own store")
    path = tmp_path / "shared.sqlite"
    with SeatLedger.open(path, account_id="a") as a, SeatLedger.open(path, account_id="b") as b:
        a1, b1, a2 = a.create(wire(1)), b.create(wire(2)), a.create(wire(3))
        assert a.events()["id"].to_list() == [a1.id, a2.id]
        assert b.events()["receivedSeq"].to_list() == [1]
        assert b.events()["sequenceAccountId"].to_list() == ["b"]
        with pytest.raises(SeatEventNotFound, match="in account 'b'"):
            b.get(a1.id)
        assert b.get(b1.id).sequence_account_id == "b"
        assert a.accounts() == ["a", "b"]
    assert stored_rows(path)["sequenceAccountId"].to_list() == ["a", "a", "b"]


def test_a_file_keeps_its_events(tmp_path: Path) -> None:
    path = tmp_path / "keep.sqlite"
    with SeatLedger.open(path, account_id="a") as ledger:
        made = ledger.create(wire(1))
        ledger.create_many([wire(i) for i in range(2, 5)])
    with SeatLedger.open(str(path), account_id="a", create_missing=False) as ledger:
        assert ledger.get(made.id) == made
        assert ledger.events()["total"].to_list() == [1, 2, 3, 4]
        assert ledger.create(wire(9)).id > made.id
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


# -- opening and closing -------------------------------------------------------------------------


def test_a_closed_ledger_says_so(open_ledger: Opener) -> None:
    ledger = open_ledger()
    with ledger:
        ledger.create(wire(1))
    assert ledger.closed
    ledger.close()  # idempotent
    with pytest.raises(LedgerError, match="is closed"):
        ledger.create(wire(2))
    with pytest.raises(LedgerError, match="is closed"):
        ledger.events()
    assert "closed" in repr(ledger)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"account_id": ""}, "account_id='': must be a string of 1 to 256 characters"),
        ({"account_id": "a\nb"}, "control character"),
        ({"account_id": 7}, "account_id=7"),
        ({"account_id": "a", "busy_timeout": -1}, "busy_timeout=-1"),
        ({"account_id": "a", "busy_timeout": float("nan")}, "busy_timeout=nan"),
    ],
)
def test_open_checks_its_arguments(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidLedgerArgument, match=message):
        SeatLedger.open(None, **options)


# -- the command line ----------------------------------------------------------------------------


def test_cli_import_then_bill_from_the_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.ndjson"
    events.write_text("".join(json.dumps(wire(i, customerAlias="acme")) + "\n" for i in range(4)))
    db = tmp_path / "ledger.sqlite"
    assert main(["import", str(events), "--db", str(db), "--account", "acct-9"]) == 0
    out = capsys.readouterr().out
    assert "imported 4 events" in out and "0 rows rejected" in out
    billed_csv = tmp_path / "bill.csv"
    args = ["--start", "2025-01-01", "--interval", "1d", "--end", "2025-01-02", "--out", str(billed_csv)]
    assert main(["bill", "--db", str(db), "--account", "acct-9", *args]) == 0
    from_db = pl.read_csv(billed_csv)
    assert main(["bill", str(events), *args]) == 0
    from_file = pl.read_csv(billed_csv)
    assert from_db["sequenceAccountId"].to_list() == ["acct-9", "acct-9"]
    assert_frame_equal(from_db.drop("sequenceAccountId"), from_file)


def test_cli_import_skip_bad_rows_and_chunks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.ndjson"
    lines = [json.dumps(wire(i)) for i in range(5)]
    lines[1] = "{not json"
    events.write_text("\n".join(lines) + "\n")
    db = tmp_path / "ledger.sqlite"
    assert main(["import", str(events), "--db", str(db), "--account", "a"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "row 1" in err and "nothing was written" in err
    assert (
        main(["import", str(events), "--db", str(db), "--account", "a", "--skip-bad", "--chunk-rows", "2"])
        == 0
    )
    captured = capsys.readouterr()
    assert "imported 4 events" in captured.out and "1 rows rejected" in captured.out
    assert "skipped 1 bad rows: row 1: (row): line 2 is not JSON" in captured.err
    with SeatLedger.open(db, account_id="a") as ledger:
        assert ledger.events()["total"].to_list() == [0, 2, 3, 4]


def test_cli_import_draws_a_progress_bar_for_large_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    n = 60_000
    events = tmp_path / "big.parquet"
    pl.DataFrame(
        {
            "customerEventId": [f"e{i}" for i in range(n)],
            "customerAlias": ["acme"] * n,
            "seatType": ["admin"] * n,
            "eventTimestamp": pl.datetime_range(
                T0, T0 + timedelta(seconds=n - 1), "1s", eager=True, time_zone="UTC"
            ),
            "total": list(range(n)),
        }
    ).write_parquet(events)
    assert main(["import", str(events), "--db", str(tmp_path / "l.sqlite"), "--account", "a"]) == 0
    err = capsys.readouterr().err
    assert "\rimporting big.parquet [" in err and "100% 60,000/60,000 rows\n" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bill", "--start", "2025-01-01"], "give an EVENTS file or --db FILE --account ID"),
        (["bill", "E.ndjson", "--db", "x.sqlite", "--account", "a", "--start", "2025-01-01"], "exactly one"),
        (["bill", "--db", "DB", "--start", "2025-01-01"], "--db needs --account ID"),
        (["bill", "E.ndjson", "--account", "a", "--start", "2025-01-01"], "--account goes with --db"),
        (["bill", "--db", "missing.sqlite", "--account", "a", "--start", "2025-01-01"], "no ledger file at"),
        (["bill", "--db", "DB", "--account", "zz", "--start", "2025-01-01"], "has no events in .*'a'"),
        (["import", "missing.ndjson", "--db", "x.sqlite", "--account", "a"], "no such file"),
        (["import", "E.ndjson", "--db", "FOREIGN", "--account", "a"], "another application"),
        (["import", "E.ndjson", "--db", "x.sqlite", "--account", "a", "--chunk-rows", "0"], "chunk_rows=0"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("E.ndjson").write_text(json.dumps(wire(1)) + "\n")
    with SeatLedger.open("DB", account_id="a") as ledger:
        ledger.create(wire(1))
    with sqlite3.connect("FOREIGN") as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.close()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"seatcalc {argv[0]}: ")
    import re

    assert re.search(message, err), err
