"""billable_seats against the SQL a billing engineer would write, on the same data.

Run from the repository root (after ``pip install -e '.[bench]'``)::

    python -m benchmarks.bench_core                      # 1M, 2M, 5M, 10M events, 3 runs each
    python -m benchmarks.bench_core --sizes 200000 --repeat 3

For every size one seeded event set is generated (100 events per customer a year, 3 seat
types, 5% superseded versions, monthly UTC periods over 2025), then seatcalc on the
in-memory engine, seatcalc on the streaming engine and the DuckDB query run alternately
in this process. Each is checked to give the same numbers, and timed: median wall time,
events per second, the peak of resident memory above what the process held before the
call, and the ratio to DuckDB. A plain row-by-row Python loop runs once at a small size.
The table goes to stdout and ``benchmarks/results/billable_seats.md``; the plot of time
against events to ``benchmarks/results/billable_seats.png``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from benchmarks.duckdb_peer import duckdb_billable_seats
from benchmarks.generate import generate_events, monthly_periods
from benchmarks.python_loop import python_billable_seats
from seatcalc import BillingSchedule, billable_seats

RESULTS = Path(__file__).resolve().parent / "results"
SCHEDULE = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2026, 1, 1))
PERIODS = monthly_periods(datetime(2025, 1, 1, tzinfo=UTC), 12)
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm", "rb") as handle:
        return int(handle.read().split()[1]) * _PAGE


class PeakMemory:
    """Samples resident memory every millisecond while a call runs; ``peak`` is the
    highest reading above the level at the start."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss() - self._base)
            time.sleep(0.001)

    def __enter__(self) -> PeakMemory:
        gc.collect()
        self._base = _rss()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss() - self._base)


@dataclass
class Runner:
    name: str
    run: Callable[[pl.DataFrame], pl.DataFrame]
    seconds: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)

    def once(self, events: pl.DataFrame) -> pl.DataFrame:
        with PeakMemory() as memory:
            start = time.perf_counter()
            result = self.run(events)
            self.seconds.append(time.perf_counter() - start)
        self.peaks.append(memory.peak)
        return result


def _seatcalc(engine: str) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def run(events: pl.DataFrame) -> pl.DataFrame:
        return billable_seats(events.lazy(), SCHEDULE).collect(engine=engine)  # type: ignore[call-overload]

    return run


def _duckdb(events: pl.DataFrame) -> pl.DataFrame:
    return duckdb_billable_seats(events, PERIODS)


def same_numbers(ours: pl.DataFrame, theirs: pl.DataFrame) -> None:
    """Every column equal; averageSeats to 1e-12 relative (both divide exact integrals)."""
    theirs = theirs.select(ours.columns).cast(ours.schema)  # type: ignore[arg-type]
    assert_frame_equal(ours.drop("averageSeats"), theirs.drop("averageSeats"))
    assert_frame_equal(ours.select("averageSeats"), theirs.select("averageSeats"), rel_tol=1e-12)


def python_loop_check(events: int) -> tuple[float, float]:
    """(seconds of the Python loop, seconds of seatcalc) at a small size, same answer."""
    frame = generate_events(events, customers=max(1, events // 100), seed=7)
    rows = frame.to_dicts()
    periods = list(PERIODS.select("periodStart", "periodEnd").iter_rows())
    start = time.perf_counter()
    loop = pl.DataFrame(python_billable_seats(rows, periods))
    loop_seconds = time.perf_counter() - start
    start = time.perf_counter()
    ours = billable_seats(frame, SCHEDULE)
    ours_seconds = time.perf_counter() - start
    same_numbers(ours, loop.select(ours.columns).cast(ours.schema))  # type: ignore[arg-type]
    return loop_seconds, ours_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 2_000_000, 5_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--loop-events", type=int, default=20_000)
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args()

    machine = f"{platform.machine()}, {os.cpu_count()} cores, polars {pl.__version__}"
    print(f"billable_seats benchmark on {machine}; {args.repeat} runs per size, median shown", flush=True)
    lines = [
        "| events | implementation | median s | events/s | peak MB | × DuckDB time |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    curves: dict[str, list[tuple[int, float]]] = {}
    for size in args.sizes:
        events = generate_events(size, customers=max(1, size // 100))
        runners = [
            Runner("seatcalc (in-memory)", _seatcalc("in-memory")),
            Runner("seatcalc (streaming)", _seatcalc("streaming")),
            Runner("DuckDB SQL", _duckdb),
        ]
        for round_ in range(args.repeat):
            order = runners if round_ % 2 == 0 else runners[::-1]  # alternate who goes first
            results = {runner.name: runner.once(events) for runner in order}
            reference = results["seatcalc (in-memory)"]
            same_numbers(reference, results["seatcalc (streaming)"])
            same_numbers(reference, results["DuckDB SQL"])
            del results, reference
        duck = statistics.median(runners[2].seconds)
        for runner in runners:
            median = statistics.median(runner.seconds)
            curves.setdefault(runner.name, []).append((size, median))
            line = (
                f"| {size:,} | {runner.name} | {median:.2f} | {size / median:,.0f} | "
                f"{max(runner.peaks) / 2**20:,.0f} | {median / duck:.2f} |"
            )
            lines.append(line)
            print(line, flush=True)
        del events
        gc.collect()

    loop_seconds, ours_seconds = python_loop_check(args.loop_events)
    loop_line = (
        f"Plain Python loop at {args.loop_events:,} events: {loop_seconds:.2f} s; seatcalc on the same "
        f"data: {ours_seconds:.3f} s ({loop_seconds / ours_seconds:.0f}× faster), same numbers."
    )
    print(loop_line)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "billable_seats.md").write_text(
        f"Machine: {machine}. Command: `python -m benchmarks.bench_core "
        f"--sizes {' '.join(map(str, args.sizes))} --repeat {args.repeat}`.\n\n"
        + "\n".join(lines)
        + f"\n\n{loop_line}\n"
    )
    if not args.no_plot:
        _plot(curves, RESULTS / "billable_seats.png")
        print(f"plot: {RESULTS / 'billable_seats.png'}")


def _plot(curves: dict[str, list[tuple[int, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for name, points in curves.items():
        axes.plot([p[0] / 1e6 for p in points], [p[1] for p in points], marker="o", label=name)
    axes.set_xlabel("events (millions)")
    axes.set_ylabel("wall time (s), median")
    axes.set_title("billable_seats: monthly periods over a year, 5% superseded")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
