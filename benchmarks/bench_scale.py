"""Billing bigger than memory: generate N events as partitioned Parquet, bill them out of core.

    python -m benchmarks.bench_scale --sizes 10000000 30000000 100000000

For each size, the events are written in chunks of ``--chunk`` rows (each chunk a
``benchmarks.generate`` draw with its own customers, event ids and receipt numbers, so
the generator stays small) to ``DATA/events-N/chunk=K/data.parquet``; then a child process
runs ``seatcalc.partitioned.partitioned_billable_seats(folder, schedule, out=...,
memory_limit=...)`` while this process polls, every 0.2 s, the resident memory of the
child and all its descendants (``/proc``) and the size of its temporary directory.
Figures go to ``benchmarks/results/scale.md`` and ``scale.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl

from benchmarks.generate import generate_events

RESULTS = Path(__file__).parent / "results"
CUSTOMERS_PER_MILLION = 1_000  # about 1,000 events per customer a year
SCHEDULE_START, SCHEDULE_END = date(2025, 1, 1), date(2026, 1, 1)


def write_events(rows: int, folder: Path, *, chunk: int, seed: int) -> None:
    """``rows`` events in chunks under ``folder`` (hive-style ``chunk=K``), reproducibly."""
    if folder.is_dir() and (folder / "_complete").exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    offset = 0
    for number, start in enumerate(range(0, rows, chunk)):
        size = min(chunk, rows - start)
        customers = max(1, size * CUSTOMERS_PER_MILLION // 1_000_000)
        events = generate_events(size, customers=customers, seed=seed + number).with_columns(
            pl.format("k{}-{}", pl.lit(number), pl.col("customerEventId")).alias("customerEventId"),
            pl.format("k{}-{}", pl.lit(number), pl.col("customerAlias")).alias("customerAlias"),
            pl.col("receivedSeq") + offset,
        )
        offset += size
        target = folder / f"chunk={number:04d}"
        target.mkdir(parents=True)
        events.write_parquet(target / "data.parquet")
        del events
    (folder / "_complete").touch()


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and every descendant process."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    family, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in family]
        family.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in family)


def _disk(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def measure(source: Path, out: Path, memory_limit: int, temp_root: Path) -> dict[str, float]:
    """Bill ``source`` in a child process; wall time, peak tree RSS, peak temporary disk."""
    shutil.rmtree(temp_root, ignore_errors=True)
    temp_root.mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "benchmarks.bench_scale",
        "--child",
        str(source),
        str(out),
        str(memory_limit),
        str(temp_root),
    ]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak_rss = peak_disk = 0
    while child.poll() is None:
        peak_rss = max(peak_rss, _tree_rss(child.pid))
        peak_disk = max(peak_disk, _disk(temp_root))
        time.sleep(0.2)
    wall = time.perf_counter() - started
    output = child.stdout.read() if child.stdout else ""
    if child.returncode:
        raise SystemExit(f"the billing run failed ({child.returncode})")
    report = json.loads(output.strip().splitlines()[-1])
    return {"wall": wall, "rss": peak_rss, "disk": peak_disk, **report}


def _child(source: str, out: str, memory_limit: str, temp_root: str) -> None:
    from seatcalc import BillingSchedule
    from seatcalc.partitioned import partitioned_billable_seats

    schedule = BillingSchedule(SCHEDULE_START, "1mo", end=SCHEDULE_END)
    started = time.perf_counter()

    def say(line: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {line}", file=sys.stderr, flush=True)

    partitioned_billable_seats(
        source, schedule, memory_limit=int(memory_limit), out=out, temp_dir=temp_root, progress=say
    )
    rows = pl.scan_parquet(out).select(pl.len()).collect().item()
    buckets = max((len(list(Path(temp_root).glob("*"))), 0))
    print(json.dumps({"rows": rows, "leftover": buckets}))


def _write_results(rows: list[dict[str, float]], memory_limit: int, command: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    lines = [
        f"Machine: {os.cpu_count()} cores, {_memory_gb():.0f} GB, polars {pl.__version__}; shared with "
        "other work while measured. Command: `" + command + "`.",
        "",
        f"`memory_limit` = {memory_limit / 1e9:.1f} GB. Peak RSS is the whole process tree of the "
        "billing run (polled every 0.2 s); temporary disk the peak size of its temporary directory.",
        "",
        "| events | Parquet in (MB) | wall s | events/s | s per 10M | peak RSS (MB) "
        "| peak temp disk (MB) | output rows |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {int(row['events']):,} | {row['input'] / 1e6:,.0f} | {row['wall']:.1f} | "
            f"{row['events'] / row['wall']:,.0f} | {row['wall'] / row['events'] * 1e7:.1f} | "
            f"{row['rss'] / 1e6:,.0f} | {row['disk'] / 1e6:,.0f} | {int(row['rows']):,} |"
        )
    (RESULTS / "scale.md").write_text("\n".join(lines) + "\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    events = [row["events"] / 1e6 for row in rows]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(events, [row["wall"] for row in rows], "o-", label="measured")
    if rows:
        per = rows[0]["wall"] / rows[0]["events"]
        left.plot(events, [per * row["events"] for row in rows], "--", label=f"linear from {events[0]:.0f}M")
    left.set(xlabel="events (millions)", ylabel="wall time (s)", title="Out-of-core billing time")
    left.legend()
    right.plot(events, [row["rss"] / 1e9 for row in rows], "o-", label="peak RSS")
    right.plot(events, [row["disk"] / 1e9 for row in rows], "s-", label="peak temp disk")
    right.axhline(memory_limit / 1e9, color="grey", linestyle=":", label="memory_limit")
    right.set(xlabel="events (millions)", ylabel="GB", title="Memory and temporary disk")
    right.legend()
    figure.tight_layout()
    figure.savefig(RESULTS / "scale.png", dpi=100)


def _memory_gb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        _child(*argv[1:5])
        return
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_scale", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000_000, 30_000_000, 100_000_000])
    parser.add_argument("--memory-limit", type=float, default=3e9, help="bytes (default 3e9)")
    parser.add_argument("--chunk", type=int, default=2_000_000, help="rows per generated file")
    parser.add_argument("--data", type=Path, default=Path("/tmp/seatcalc-scale"), help="where the data goes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the generated Parquet for a rerun")
    args = parser.parse_args(argv)
    limit = int(args.memory_limit)
    rows: list[dict[str, float]] = []
    for size in args.sizes:
        folder = args.data / f"events-{size}"
        began = time.perf_counter()
        write_events(size, folder, chunk=args.chunk, seed=args.seed)
        print(f"{size:,} events generated in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        figures = measure(folder, args.data / f"seats-{size}.parquet", limit, args.data / "tmp")
        figures.update(events=size, input=_disk(folder))
        rows.append(figures)
        print(
            f"{size:,} events: {figures['wall']:.1f} s, peak RSS {figures['rss'] / 1e6:,.0f} MB, "
            f"peak temp {figures['disk'] / 1e6:,.0f} MB, {int(figures['rows']):,} rows",
            file=sys.stderr,
        )
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        (args.data / f"seats-{size}.parquet").unlink(missing_ok=True)
        _write_results(rows, limit, "python -m benchmarks.bench_scale " + " ".join(argv))


if __name__ == "__main__":
    main()
