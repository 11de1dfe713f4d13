"""SIGKILL under load: every acknowledged event survives, none is stored twice."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from seatcalc.ledger import SeatLedger
from tests.server_fixtures import make_key, start_server

CLIENTS = 8


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_event(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite"
    key = make_key(db, "acct-kill")
    server = start_server(db, tmp_path / "server.log", workers=2)
    acknowledged: list[list[tuple[str, str]]] = [[] for _ in range(CLIENTS)]
    retried: list[list[tuple[str, str]]] = [[] for _ in range(CLIENTS)]
    stop = threading.Event()

    def post(index: int) -> None:
        with httpx.Client(base_url=server.url, auth=key, timeout=10) as client:
            count = 0
            while not stop.is_set() and count < 10_000:
                count += 1
                idem = str(uuid.uuid4())
                body = {
                    "customerAlias": f"c{index}",
                    "seatType": "admin",
                    "eventTimestamp": "2025-01-01T00:00:00Z",
                    "total": count,
                }
                try:
                    response = client.post("/seat-events", json=body, headers={"Idempotency-Key": idem})
                except httpx.TransportError:
                    retried[index].append((idem, str(count)))  # outcome unknown: retry after restart
                    return
                if response.status_code == 201:
                    acknowledged[index].append((response.json()["id"], idem))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while sum(map(len, acknowledged)) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    for child in _children(server.process.pid):
        _kill(child)
    server.stop(signal.SIGKILL)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    ids = [event_id for client in acknowledged for event_id, _ in client]
    assert len(ids) >= 50
    with sqlite3.connect(db) as conn:  # the file opens cleanly
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with SeatLedger.open(db, account_id="acct-kill", create_missing=False) as ledger:
        stored = ledger.events()
        assert set(ids) <= set(stored["id"].to_list())
        for client in range(CLIENTS):
            totals = stored.filter(stored["customerAlias"] == f"c{client}")["total"].to_list()
            assert len(totals) == len(set(totals))  # nothing twice

    # a retry after the restart, with the same Idempotency-Key, never stores a second copy
    server = start_server(db, tmp_path / "server2.log", workers=1)
    try:
        with httpx.Client(base_url=server.url, auth=key, timeout=30) as client:
            for index, attempts in enumerate(retried):
                for idem, count in attempts:
                    body = {
                        "customerAlias": f"c{index}",
                        "seatType": "admin",
                        "eventTimestamp": "2025-01-01T00:00:00Z",
                        "total": int(count),
                    }
                    assert (
                        client.post("/seat-events", json=body, headers={"Idempotency-Key": idem}).status_code
                        == 201
                    )
            for acks in acknowledged:
                for event_id, idem in acks[-3:]:
                    again = client.get(f"/seat-events/{event_id}")
                    assert again.status_code == 200
                    body = {
                        k: again.json()[k] for k in ("customerAlias", "seatType", "eventTimestamp", "total")
                    }
                    replay = client.post("/seat-events", json=body, headers={"Idempotency-Key": idem})
                    assert replay.status_code == 201 and replay.json()["id"] == event_id
    finally:
        server.stop()
    with SeatLedger.open(db, account_id="acct-kill", create_missing=False) as ledger:
        stored = ledger.events()
        for client in range(CLIENTS):
            totals = stored.filter(stored["customerAlias"] == f"c{client}")["total"].to_list()
            assert len(totals) == len(set(totals))


def _children(pid: int) -> list[int]:
    """Worker processes of the server (Linux /proc)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.append(int(status.parent.name))
    return found


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
