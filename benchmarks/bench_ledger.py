"""Ledger benchmarks: bulk ingest into SQLite, reading every stored event back, one create.

Run: ``.venv/bin/python -m benchmarks.bench_ledger`` (defaults: 200k events per bulk create,
1M stored events, 300 single creates). Each number is compared with what a user would do
without the ledger: a bare ``executemany`` of the same rows into an SQLite table (no
validation, no ids: the floor), ``pl.read_database`` of the stored rows, and a loop of
single creates. Wall and CPU seconds are both shown: on a shared machine CPU time is the
steadier of the two.
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks.generate import generate_events
from seatcalc import SeatLedger
from seatcalc.ledger.bulk import BatchSource

ACCOUNT = "0184421e-a9cc-711b-af93-bf0511d4d833"
REQUEST_COLUMNS = ["customerEventId", "customerAlias", "seatType", "eventTimestamp", "total"]
Row = tuple[str, int, float | None, float | None, str]  # run, events, wall s, cpu s, note


def requests(n_events: int, seed: int) -> pl.DataFrame:
    """``n_events`` seeded requests (SPEC §1 columns) in receipt order."""
    frame = generate_events(n_events, customers=max(1, n_events // 100), seed=seed)
    return frame.sort("receivedSeq").select(REQUEST_COLUMNS)


def timed(run: Callable[[], Any]) -> tuple[float, float, Any]:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def fresh_file(folder: Path, name: str) -> Path:
    path = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def bulk(folder: Path, batch: pl.DataFrame, parquet: Path) -> list[Row]:
    n = batch.height
    rows: list[Row] = []
    dicts = batch.with_columns(pl.col("eventTimestamp").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")).to_dicts()
    sources: list[tuple[str, Callable[[], BatchSource]]] = [
        ("create_many, polars frame → SQLite", lambda: batch),
        ("create_many, wire dicts → SQLite", lambda: dicts),
        ("create_many, .parquet file → SQLite", lambda: parquet),
    ]
    for label, source in sources:
        path = fresh_file(folder, "bulk.sqlite")
        with SeatLedger.open(path, account_id=ACCOUNT) as ledger:
            wall, cpu, result = timed(lambda: ledger.create_many(source()))  # noqa: B023
            assert result.created == n
        rows.append((label, n, wall, cpu, f"{n / wall:,.0f} events/s"))
    with SeatLedger.open(None, account_id=ACCOUNT) as ledger:
        wall, cpu, _ = timed(lambda: ledger.create_many(batch))
    rows.append(("create_many, polars frame → memory", n, wall, cpu, f"{n / wall:,.0f} events/s"))

    path = fresh_file(folder, "bare.sqlite")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE events (customerEventId, customerAlias, seatType, eventTimestamp, total)")
    tuples = batch.with_columns(pl.col("eventTimestamp").dt.epoch("us")).rows()

    def bare() -> None:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", tuples)
        conn.execute("COMMIT")

    wall, cpu, _ = timed(bare)
    conn.close()
    rows = [(*row[:4], f"{row[4]}, {wall / row[2]:.2f}× the peer's rate") if row[2] else row for row in rows]
    rows.append(("peer: bare executemany (no checks, no ids)", n, wall, cpu, f"{n / wall:,.0f} events/s"))
    return rows


def stored(folder: Path, n_stored: int, seed: int, creates: int) -> list[Row]:
    rows: list[Row] = []
    path = fresh_file(folder, "big.sqlite")
    events = requests(n_stored, seed + 1)
    with SeatLedger.open(path, account_id=ACCOUNT) as ledger:
        wall, cpu, _ = timed(lambda: ledger.create_many(events))
    rows.append(
        (
            "create_many, polars frame (one transaction)",
            n_stored,
            wall,
            cpu,
            f"{n_stored / wall:,.0f} events/s",
        )
    )

    best: tuple[float, float] = (float("inf"), 0.0)
    for _ in range(3):
        with SeatLedger.open(path, account_id=ACCOUNT) as ledger:
            wall, cpu, frame = timed(ledger.events)
            assert frame.height == n_stored
        best = min(best, (wall, cpu))
    conn = sqlite3.connect(path)
    wall, cpu, frame = timed(lambda: pl.read_database("SELECT * FROM seat_events", conn))
    conn.close()
    assert frame.height == n_stored
    note = f"{n_stored / best[0]:,.0f} rows/s, {wall / best[0]:.1f}× faster than the peer"
    rows.append(("events() → DataFrame", n_stored, *best, note))
    rows.append(("peer: pl.read_database(SELECT *)", n_stored, wall, cpu, f"{n_stored / wall:,.0f} rows/s"))

    with SeatLedger.open(path, account_id=ACCOUNT) as ledger:
        latencies = []
        cpu0 = time.process_time()
        for i in range(creates):
            body = {
                "customerAlias": "cust-000001",
                "seatType": "editor",
                "eventTimestamp": "2025-06-01T00:00:00Z",
                "total": i,
            }
            started = time.perf_counter()
            ledger.create(body)
            latencies.append(time.perf_counter() - started)
        cpu = time.process_time() - cpu0
        latencies.sort()
        median = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        rows.append(
            (
                "create() one event, on disk (fsync)",
                creates,
                sum(latencies),
                cpu,
                f"median {median * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms, {creates / sum(latencies):,.0f}/s",
            )
        )

        listings: list[tuple[str, dict[str, Any]]] = [
            ("list(limit=100), newest first", {}),
            ("list(customer_alias=…, limit=100) (a scan)", {"customer_alias": "cust-000001"}),
        ]
        for label, filters in listings:
            pages = []
            cpu0 = time.process_time()
            for _ in range(20):
                started = time.perf_counter()
                ledger.list(limit=100, **filters)
                pages.append(time.perf_counter() - started)
            note = f"median {statistics.median(pages) * 1e3:.1f} ms per page (20 pages)"
            rows.append((label, n_stored, sum(pages), time.process_time() - cpu0, note))
    size = sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists())
    rows.append(("file size", n_stored, None, None, f"{size / 1e6:,.0f} MB ({size / n_stored:.0f} B/event)"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=200_000, help="events per bulk create (default 200k)")
    parser.add_argument(
        "--stored", type=int, default=1_000_000, help="events stored for reading (default 1M)"
    )
    parser.add_argument("--creates", type=int, default=300, help="single creates timed (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"polars {pl.__version__}, SQLite {sqlite3.sqlite_version}, {pl.thread_pool_size()} threads")
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as name:
        folder = Path(name)
        batch = requests(args.events, args.seed)
        parquet = folder / "batch.parquet"
        batch.write_parquet(parquet)
        table = bulk(folder, batch, parquet)
        table += stored(folder, args.stored, args.seed, args.creates)

    print(f"\n| {'run':<44} | {'events':>10} | {'wall s':>7} | {'cpu s':>7} | {'result':<46} |")
    print(f"|{'-' * 46}|{'-' * 12}|{'-' * 9}|{'-' * 9}|{'-' * 48}|")
    for label, n, wall, cpu, note in table:
        shown = [f"{value:>7.2f}" if value is not None else f"{'—':>7}" for value in (wall, cpu)]
        print(f"| {label:<44} | {n:>10,} | {shown[0]} | {shown[1]} | {note:<46} |")


if __name__ == "__main__":
    main()
