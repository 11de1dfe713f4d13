"""Time the generator and the DuckDB peer at a few sizes (monthly UTC periods over 2025).

Run: ``python -m benchmarks.time_duckdb [--sizes 1000000 10000000] [--repeat 3]``.
About 100 events per customer a year, as in the other benchmarks.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.duckdb_peer import duckdb_billable_seats
from benchmarks.generate import generate_events, monthly_periods


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    periods = monthly_periods(datetime(2025, 1, 1, tzinfo=UTC), 12)
    for n in args.sizes:
        t0 = time.perf_counter()
        events = generate_events(n, customers=max(1, n // 100))
        generated = time.perf_counter() - t0
        runs, cpu = [], []
        for _ in range(args.repeat):
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            result = duckdb_billable_seats(events, periods)
            runs.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        print(
            f"{n:>11,} events: generate {generated:6.2f}s | duckdb wall min {min(runs):6.2f}s "
            f"median {statistics.median(runs):6.2f}s, cpu min {min(cpu):6.2f}s "
            f"({result.height:,} rows; load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )
        del events, result


if __name__ == "__main__":
    main()
