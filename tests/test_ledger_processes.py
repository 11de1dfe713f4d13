"""Nothing lost, nothing half-written: real processes, SIGKILL, and files a ledger must refuse."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from seatcalc import LedgerError, SeatcalcError, SeatLedger
from seatcalc.ledger.store import APPLICATION_ID

WORKER = Path(__file__).with_name("ledger_worker.py")
ROOT = WORKER.parent.parent


def request(i: int) -> dict[str, object]:
    return {
        "customerEventId": f"e-{i}",
        "customerAlias": "acme",
        "seatType": "admin",
        "eventTimestamp": "2025-01-01T00:00:00Z",
        "total": i,
    }


def raw(path: Path, *statements: str) -> list[tuple[object, ...]]:
    """Run statements on a plain sqlite3 connection; the rows of the last one."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        rows: list[tuple[object, ...]] = []
        for statement in statements:
            rows = conn.execute(statement).fetchall()
        return rows
    finally:
        conn.close()


def assert_clean(error: BaseException) -> None:
    """A LedgerError with no sqlite3 exception attached to show in a traceback."""
    assert isinstance(error, LedgerError) and isinstance(error, SeatcalcError)
    assert error.__cause__ is None
    assert error.__suppress_context__ or not isinstance(error.__context__, sqlite3.Error)


# -- several processes, one killed -----------------------------------------------------------


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()


@pytest.mark.slow
def test_four_processes_two_threads_each_one_killed_lose_nothing(
    tmp_path: Path, workers: list[subprocess.Popen[str]]
) -> None:
    """Four processes open one new file at once (it is set up once), two threads each create
    events into two accounts, and one process is SIGKILLed mid-stream. Every create that
    returned is stored exactly once and whole; receipt order has no gap; the file is sound."""
    db, go = tmp_path / "ledger.sqlite", tmp_path / "go"
    plan = [("a", 60), ("a", 60), ("b", 60), ("b", 100_000)]  # (account, creates per thread)
    logs = [tmp_path / f"worker{n}.log" for n in range(len(plan))]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for n, (account, per_thread) in enumerate(plan):
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(WORKER),
                    str(db),
                    account,
                    str(logs[n]),
                    str(go),
                    f"w{n}",
                    "2",
                    str(per_thread),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
    for process in workers:  # every process has opened the (new) file: start together
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready", process.stderr.read() if process.stderr else ""
    go.touch()

    victim = workers[-1]
    deadline = time.monotonic() + 30
    while not (logs[-1].exists() and logs[-1].read_text().count("\n") >= 25):
        assert victim.poll() is None and time.monotonic() < deadline, "the victim never got going"
        time.sleep(0.005)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=10) == -signal.SIGKILL
    for process in workers[:-1]:
        assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""

    assert raw(db, "PRAGMA integrity_check") == [("ok",)]
    for account, members in (("a", [0, 1]), ("b", [2, 3])):
        with SeatLedger.open(db, account_id=account) as ledger:
            frame = ledger.events()
        assert frame["receivedSeq"].to_list() == list(range(1, frame.height + 1))
        assert frame["id"].is_unique().all()
        stored = {
            event_id: (key, total)
            for event_id, key, total in frame.select("id", "customerEventId", "total").iter_rows()
        }
        logged: list[str] = []
        for n in members:
            lines = [line.split() for line in logs[n].read_text().splitlines()]
            for event_id, key, total in lines:  # every logged create is there, whole
                assert stored[event_id] == (key, int(total))
            logged += [line[0] for line in lines]
        assert len(logged) == len(set(logged))
        if account == "a":
            assert len(logged) == frame.height == 2 * 2 * 60
        else:  # the victim's last creates may have committed without reaching its log
            assert 2 * 60 + 25 <= len(logged) <= frame.height <= len(logged) + 2
    all_ids = raw(db, "SELECT count(*), count(DISTINCT id) FROM seat_events")
    assert all_ids[0][0] == all_ids[0][1]


# -- files a ledger must refuse ----------------------------------------------------------------


def test_random_bytes_are_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "noise.sqlite"
    noise = os.urandom(16_384)
    path.write_bytes(noise)
    with pytest.raises(
        LedgerError, match=r"not a readable SQLite database .*restore it from a backup"
    ) as caught:
        SeatLedger.open(path, account_id="a")
    assert_clean(caught.value)
    assert path.read_bytes() == noise


def test_a_damaged_ledger_gives_ledger_errors(tmp_path: Path) -> None:
    path = tmp_path / "damaged.sqlite"
    with SeatLedger.open(path, account_id="a") as ledger:
        ledger.create_many([request(i) for i in range(3000)])
    raw(path, "PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[4096:] = os.urandom(len(data) - 4096)  # every page but the header's
    path.write_bytes(bytes(data))
    with pytest.raises(LedgerError) as caught, SeatLedger.open(path, account_id="a") as ledger:
        ledger.events()
        ledger.list()
        ledger.create(request(1))
    assert_clean(caught.value)


def test_a_foreign_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    raw(path, "CREATE TABLE invoices (id INTEGER PRIMARY KEY)", "CREATE TABLE customers (name TEXT)")
    before = path.read_bytes()
    with pytest.raises(LedgerError, match=r"another application .tables customers, invoices.") as caught:
        SeatLedger.open(path, account_id="a")
    assert_clean(caught.value)
    assert path.read_bytes() == before
    assert raw(path, "PRAGMA journal_mode") == [("delete",)]

    tagged = tmp_path / "tagged.db"
    raw(tagged, "PRAGMA application_id = 42")
    with pytest.raises(LedgerError, match="application_id 0x2a"):
        SeatLedger.open(tagged, account_id="a")


def test_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    SeatLedger.open(path, account_id="a").close()
    raw(path, "PRAGMA user_version = 99")
    with pytest.raises(
        LedgerError, match=r"schema version 99; this seatcalc reads version 1 .upgrade seatcalc."
    ):
        SeatLedger.open(path, account_id="a")
    raw(path, "PRAGMA user_version = 1", "DROP TABLE seat_event_segments")
    with pytest.raises(LedgerError, match="lacks its tables seat_event_segments"):
        SeatLedger.open(path, account_id="a")
    assert raw(path, "PRAGMA application_id") == [(APPLICATION_ID,)]


def test_a_lock_held_past_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite"
    with SeatLedger.open(path, account_id="a", busy_timeout=0.2) as ledger:
        ledger.create(request(0))
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            holder.execute("INSERT INTO accounts (sequenceAccountId) VALUES ('holder')")
            started = time.monotonic()
            with pytest.raises(LedgerError, match=r"is locked: .* more than busy_timeout=0.2 s") as caught:
                ledger.create(request(1))
            assert 0.15 <= time.monotonic() - started < 5
            assert_clean(caught.value)
            with pytest.raises(LedgerError, match="is locked"):
                ledger.create_many([request(i) for i in range(2, 10)])
            assert ledger.events()["total"].to_list() == [0]  # readers are never blocked
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        assert ledger.create(request(1)).total == 1
        assert len(ledger) == 2


def test_a_lock_held_while_opening(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("CREATE TABLE scratch (x)")
        with pytest.raises(LedgerError, match="is locked") as caught:
            SeatLedger.open(path, account_id="a", busy_timeout=0.1)
        assert_clean(caught.value)
    finally:
        holder.close()


def test_paths_that_cannot_be_ledgers(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="no ledger file at"):
        SeatLedger.open(tmp_path / "missing.sqlite", account_id="a", create_missing=False)
    assert not (tmp_path / "missing.sqlite").exists()
    with pytest.raises(LedgerError, match="is a directory"):
        SeatLedger.open(tmp_path, account_id="a")
    with pytest.raises(LedgerError, match=r"cannot open .*does its directory exist") as caught:
        SeatLedger.open(tmp_path / "no" / "such" / "dir.sqlite", account_id="a")
    assert_clean(caught.value)
