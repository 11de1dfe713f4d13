"""Spark (local mode) against the in-memory polars run, on one Parquet file of raw events.

Both read the same Parquet file (``benchmarks.generate.generate_events``: customers =
events / 100, 3 seat types, 5 % superseded versions, a year of monthly periods) and write
the billable seats to Parquet: in memory ``pl.read_parquet``, ``seatcalc.billable_seats``,
``write_parquet``; on Spark ``spark.read.parquet``, ``seatcalc.spark.billable_seats`` (both
passes and the validation) and ``.write.parquet`` (sorted). Collecting the Spark result into
this process (``seatcalc.spark.to_polars``) is timed too, as a third line. The session's
start is timed apart. The results are checked to be identical (rows, order, dtypes), then
the median wall time of ``--repeat`` runs is printed with the ratio.

    python -m benchmarks.bench_spark --events 10000000 --repeat 3 --master 'local[2]'
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import date
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from benchmarks.generate import generate_events
from seatcalc import BillingSchedule, billable_seats
from seatcalc import spark as on_spark

SCHEDULE = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2026, 1, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--buckets", type=int, default=None, help="default: spark.sql.shuffle.partitions")
    parser.add_argument("--partitions", default="8", help="spark.sql.shuffle.partitions")
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--data", type=Path, default=Path("/tmp/seatcalc-bench-spark"))
    args = parser.parse_args()

    args.data.mkdir(parents=True, exist_ok=True)
    path = args.data / f"events-{args.events}.parquet"
    if not path.exists():
        generate_events(args.events, customers=max(1, args.events // 100)).write_parquet(path)

    started = time.perf_counter()
    session = on_spark.spark_session(
        args.master,
        spark_sql_shuffle_partitions=args.partitions,
        spark_driver_memory=args.driver_memory,
    )
    session_seconds = time.perf_counter() - started

    polars_out, spark_out = args.data / "seats-polars.parquet", args.data / "seats-spark"

    def in_memory() -> None:
        billable_seats(pl.read_parquet(path), SCHEDULE).write_parquet(polars_out)

    def spark_to_parquet() -> None:
        seats = on_spark.billable_seats(session.read.parquet(str(path)), SCHEDULE, buckets=args.buckets)
        seats.write.mode("overwrite").parquet(str(spark_out))

    def spark_collect() -> None:
        seats = on_spark.billable_seats(session.read.parquet(str(path)), SCHEDULE, buckets=args.buckets)
        collected.append(on_spark.to_polars(seats))

    collected: list[pl.DataFrame] = []
    runs = {
        "polars (in memory), Parquet out": in_memory,
        f"Spark {args.master}, Parquet out": spark_to_parquet,
        f"Spark {args.master}, collected to polars": spark_collect,
    }
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, run in runs.items():
            begin = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - begin)
            print(f"  {name}: {timings[name][-1]:.2f} s", flush=True)
        memory = pl.read_parquet(polars_out)
        written = pl.read_parquet(spark_out / "*.parquet").with_columns(
            pl.col("seatMicroseconds").cast(pl.Int128)
        )
        assert_frame_equal(written, memory)  # identical rows, order and dtypes
        assert_frame_equal(collected.pop(), memory)
    session.stop()

    polars_median = statistics.median(timings["polars (in memory), Parquet out"])
    load = os.getloadavg()
    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, load average at the end "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}; {args.events:,} events, {memory.height:,} result rows, "
        f"identical results; Spark session start {session_seconds:.1f} s (not counted)\n"
    )
    print("| implementation | runs (s) | median s | × polars |")
    print("|---|---|---:|---:|")
    for name, seconds in timings.items():
        median = statistics.median(seconds)
        runs = ", ".join(f"{s:.1f}" for s in seconds)
        print(f"| {name} | {runs} | {median:.2f} | {median / polars_median:.2f} |")


if __name__ == "__main__":
    main()
