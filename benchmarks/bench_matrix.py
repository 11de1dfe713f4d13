"""The benchmark matrix: ``seatcalc.billable_seats`` against the DuckDB query, shape by shape.

Run from the repository root (after ``pip install -e '.[bench]'``)::

    python -m benchmarks.bench_matrix            # every shape at 2M and 10M events, 3 runs each

    python -m benchmarks.bench_matrix --sizes 2000000 --shapes arrival   # a subset
    python -m benchmarks.bench_matrix --quick                            # smoke run, 20,000 events

Writes ``benchmarks/results/matrix.md`` (machine, command, tables),
``benchmarks/results/matrix.png`` (ratio to DuckDB per shape and size, with the 3× target) and
``benchmarks/results/matrix.json`` (every run); ``--quick`` writes to
``benchmarks/.cache/matrix-quick.*`` instead.

The event sets come from :mod:`benchmarks.shapes` (cached as Parquet under
``benchmarks/.cache/``); the schedule is monthly, UTC, over 2024. For every shape and size:

* seatcalc with an eager frame on the default engine (``billable_seats(frame, schedule)``,
  polars' ``auto``) and on the in-memory engine (``billable_seats(frame.lazy(),
  schedule).collect(engine="in-memory")``), against DuckDB given the same frame (as Arrow);
* for the shapes of ``--scan`` (default: the base shape ``arrival``), seatcalc with
  ``pl.scan_parquet(path)`` on both engines, against DuckDB reading the same file with
  ``read_parquet``; here the time includes reading the file, while for an eager frame
  loading it is not timed.

Every run is a fresh child process (``POLARS_MAX_THREADS`` and DuckDB's ``threads`` =
``--threads``, default 2), so the peak resident memory reported (``ru_maxrss`` of the
child, from ``os.wait4``) belongs to that run alone: it includes the input frame, the same for
both sides. Rounds go seatcalc, DuckDB, seatcalc, then the other way round. The first round's
results are compared (same rows after sorting by key and ``periodStart``, every column exact,
``averageSeats`` to 1e-12 relative): a difference stops the run. Reported per row: median
wall seconds, median CPU seconds of the call, events/s, peak RSS, DuckDB's median time over
seatcalc's, and a per-stage profile from ``seatcalc.timeline.profile_stages`` (one more
child per row; ``n/a`` while that function does not exist). The base shape also runs at
the ``--linearity`` sizes: growth = (time at the largest / time at the smallest) / (size ratio),
1.00 meaning linear.

Targets checked (marked ✓/✗): seatcalc ≥ 3× faster than DuckDB; peak RSS no higher than
DuckDB's; scan_parquet at least as fast as an eager frame; growth ≤ 1.15.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from seatcalc.timeline import STAGES

ROOT: Final = Path(__file__).resolve().parent.parent
RESULTS: Final = ROOT / "benchmarks" / "results"
BASE_SHAPE: Final = "arrival"
TARGET_RATIO: Final = 3.0
LINEAR_GROWTH: Final = 1.15
QUICK_SIZES: Final = (20_000,)
QUICK_LINEARITY: Final = (10_000, 40_000)


@dataclass(frozen=True)
class Variant:
    """One implementation on one kind of input."""

    key: str
    implementation: str  # "seatcalc" | "DuckDB"
    source: str  # "eager" | "scan"
    engine: str  # polars engine for seatcalc; "" for DuckDB

    @property
    def label(self) -> str:
        kind = "eager frame" if self.source == "eager" else "scan_parquet"
        if self.implementation == "DuckDB":
            kind = "Arrow frame" if self.source == "eager" else "read_parquet"
            return f"DuckDB ({kind})"
        return f"seatcalc ({kind}, {self.engine})"


VARIANTS: Final = {
    v.key: v
    for v in (
        Variant("sc-eager-auto", "seatcalc", "eager", "auto"),
        Variant("duck-eager", "DuckDB", "eager", ""),
        Variant("sc-eager-mem", "seatcalc", "eager", "in-memory"),
        Variant("sc-scan-auto", "seatcalc", "scan", "auto"),
        Variant("duck-parquet", "DuckDB", "scan", ""),
        Variant("sc-scan-mem", "seatcalc", "scan", "in-memory"),
    )
}
PEER: Final = {"eager": "duck-eager", "scan": "duck-parquet"}


# --------------------------------------------------------------------------- child side


def _run_variant(variant: Variant, path: Path, threads: int) -> Callable[[], Any]:
    """The timed call of ``variant`` (inputs loaded beforehand for an eager frame)."""
    import polars as pl

    from benchmarks.shapes import SCHEDULE, periods

    if variant.implementation == "DuckDB":
        from benchmarks.duckdb_peer import duckdb_billable_seats

        table = periods()
        if variant.source == "scan":
            return lambda: duckdb_billable_seats(path, table, threads=threads)
        frame = pl.read_parquet(path)
        return lambda: duckdb_billable_seats(frame, table, threads=threads)

    from seatcalc import billable_seats

    engine = variant.engine
    if variant.source == "scan":
        return lambda: billable_seats(pl.scan_parquet(path), SCHEDULE).collect(engine=engine)  # type: ignore[call-overload]
    frame = pl.read_parquet(path)
    if engine == "auto":
        return lambda: billable_seats(frame, SCHEDULE)  # the default call: polars' default engine
    return lambda: billable_seats(frame.lazy(), SCHEDULE).collect(engine=engine)  # type: ignore[call-overload]


def _profile(variant: Variant, path: Path) -> dict[str, float] | None:
    """Seconds per stage from ``seatcalc.timeline.profile_stages``."""
    import polars as pl

    from benchmarks.shapes import SCHEDULE
    from seatcalc.timeline import profile_stages

    events = pl.scan_parquet(path) if variant.source == "scan" else pl.read_parquet(path)
    stages = profile_stages(events, SCHEDULE, engine=variant.engine)
    return {name: float(seconds) for name, seconds in stages.items()}


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    """One measurement in this (fresh) process: ``kind`` is measure, profile, generate or check."""
    kind = spec["kind"]
    if kind == "generate":
        from benchmarks.shapes import cached_path

        path = cached_path(spec["shape"], spec["size"], spec["seed"], Path(spec["cache_dir"]))
        return {"path": str(path)}
    if kind == "check":
        return {"problem": compare_files(Path(spec["ours"]), Path(spec["theirs"]))}
    variant = VARIANTS[spec["variant"]]
    path = Path(spec["path"])
    if kind == "profile":
        return {"profile": _profile(variant, path)}
    call = _run_variant(variant, path, spec["threads"])
    gc.collect()
    loaded = _rss()
    cpu, start = time.process_time(), time.perf_counter()
    result = call()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if spec.get("out"):
        result.write_parquet(spec["out"])
    return {"seconds": seconds, "cpu": cpu, "loaded": loaded, "rows": result.height}


def _rss() -> int:
    with open("/proc/self/statm", "rb") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------- correctness


def compare_frames(ours: Any, theirs: Any) -> str | None:
    """None when both frames hold the same rows (sorted by key and ``periodStart``): every
    column exact, ``averageSeats`` to 1e-12 relative; else what differs."""
    from polars.testing import assert_frame_equal

    keys = [c for c in ("sequenceAccountId", "customerAlias", "seatType", "periodStart") if c in ours.columns]
    if sorted(ours.columns) != sorted(theirs.columns):
        return f"columns differ: {sorted(ours.columns)} vs {sorted(theirs.columns)}"
    ours = ours.sort(keys)
    theirs = theirs.select(ours.columns).cast(ours.schema).sort(keys)
    try:
        assert_frame_equal(ours.drop("averageSeats"), theirs.drop("averageSeats"))
        assert_frame_equal(
            ours.select("averageSeats"), theirs.select("averageSeats"), rel_tol=1e-12, abs_tol=0.0
        )
    except AssertionError as error:
        return str(error)
    return None


def compare_files(ours: Path, theirs: Path) -> str | None:
    import polars as pl

    return compare_frames(pl.read_parquet(ours), pl.read_parquet(theirs))


# --------------------------------------------------------------------------- parent side


@dataclass
class Row:
    shape: str
    size: int
    variant: Variant
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)
    loaded: list[int] = field(default_factory=list)
    profile: dict[str, float] | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak(self) -> int:
        return max(self.peaks)


def spawn(spec: dict[str, Any], threads: int) -> tuple[dict[str, Any], int]:
    """Run ``_child(spec)`` in a fresh interpreter; (its report, its peak RSS in bytes)."""
    env = {
        **os.environ,
        "POLARS_MAX_THREADS": str(threads),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    with tempfile.TemporaryDirectory(prefix="seatcalc-matrix-") as folder:
        report = Path(folder) / "report.json"
        command = [sys.executable, "-m", "benchmarks.bench_matrix", "--child", json.dumps(spec), str(report)]
        process = subprocess.Popen(command, cwd=ROOT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(f"child failed ({process.returncode}): {spec}")
        return json.loads(report.read_text()), usage.ru_maxrss * 1024


def _fmt_profile(profile: dict[str, float] | None) -> str:
    if profile is None:
        return "stages n/a"
    return " ".join(f"{name} {profile.get(name, float('nan')):.2f}" for name in STAGES)


class Matrix:
    """Runs the measurements and keeps the rows in the order they were made."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rows: list[Row] = []
        self.cache_dir = Path(args.cache_dir)
        self.checked: list[str] = []
        self.loads: list[float] = [os.getloadavg()[0]]  # 1-minute load average after each cell

    def measure(self, shape: str, size: int) -> None:
        args = self.args
        report, _ = spawn(
            {
                "kind": "generate",
                "shape": shape,
                "size": size,
                "seed": args.seed,
                "cache_dir": str(self.cache_dir),
            },
            args.threads,
        )
        path = report["path"]
        keys = ["sc-eager-auto", "duck-eager", "sc-eager-mem"]
        if args.scan == "all" or (args.scan == "base" and shape == BASE_SHAPE):
            keys += ["sc-scan-auto", "duck-parquet", "sc-scan-mem"]
        rows = {key: Row(shape, size, VARIANTS[key]) for key in keys}
        with tempfile.TemporaryDirectory(prefix="seatcalc-results-", dir=self.cache_dir) as folder:
            for round_ in range(args.repeat):
                for key in keys if round_ % 2 == 0 else keys[::-1]:
                    spec = {"kind": "measure", "variant": key, "path": path, "threads": args.threads}
                    if round_ == 0:
                        spec["out"] = str(Path(folder) / f"{key}.parquet")
                    result, peak = spawn(spec, args.threads)
                    row = rows[key]
                    row.seconds.append(result["seconds"])
                    row.cpu.append(result["cpu"])
                    row.loaded.append(result["loaded"])
                    row.peaks.append(peak)
                if round_ == 0:
                    self._check(shape, size, keys, Path(folder))
        if not args.no_profile:
            for key in keys:
                if VARIANTS[key].implementation == "seatcalc":
                    report, _ = spawn({"kind": "profile", "variant": key, "path": path}, args.threads)
                    rows[key].profile = report["profile"]
        self.rows.extend(rows.values())
        self.loads.append(os.getloadavg()[0])
        for row in rows.values():
            print(self.line(row), flush=True)

    def _check(self, shape: str, size: int, keys: Sequence[str], folder: Path) -> None:
        """Every result of the first round against DuckDB's on the same input (in a child)."""
        pairs = [
            (key, PEER[VARIANTS[key].source]) for key in keys if VARIANTS[key].implementation == "seatcalc"
        ]
        if "duck-parquet" in keys:
            pairs.append(("duck-parquet", "duck-eager"))
        for ours, theirs in pairs:
            spec = {
                "kind": "check",
                "ours": str(folder / f"{ours}.parquet"),
                "theirs": str(folder / f"{theirs}.parquet"),
            }
            report, _ = spawn(spec, self.args.threads)
            if report["problem"] is not None:
                raise SystemExit(f"{shape} at {size:,}: {ours} and {theirs} differ:\n{report['problem']}")
        self.checked.append(f"{shape} {size:,}")

    def find(self, shape: str, size: int, key: str) -> Row | None:
        return next((r for r in self.rows if (r.shape, r.size, r.variant.key) == (shape, size, key)), None)

    def peer(self, row: Row) -> Row:
        peer = self.find(row.shape, row.size, PEER[row.variant.source])
        assert peer is not None
        return peer

    def ratio(self, row: Row) -> float:
        return self.peer(row).median / row.median

    def line(self, row: Row) -> str:
        text = (
            f"{row.shape:>13} {row.size:>11,} {row.variant.label:<38} {row.median:7.2f} s "
            f"(cpu {statistics.median(row.cpu):6.2f}) {row.size / row.median:>11,.0f} ev/s "
            f"{row.peak / 2**20:7,.0f} MB"
        )
        if row.variant.implementation == "seatcalc":
            duck = self.find(row.shape, row.size, PEER[row.variant.source])
            if duck is not None:
                text += f"  ×DuckDB {duck.median / row.median:5.2f}"
            text += f"  | {_fmt_profile(row.profile)}"
        return text

    # ------------------------------------------------------------------- reporting

    def raw(self, command: str) -> dict[str, Any]:
        """Every run of every row, for a later look (medians hide the spread)."""
        return {
            "command": command,
            "threads": self.args.threads,
            "load_averages": self.loads,
            "rows": [
                {
                    "shape": r.shape,
                    "events": r.size,
                    "implementation": r.variant.label,
                    "seconds": r.seconds,
                    "cpu_seconds": r.cpu,
                    "peak_rss_bytes": r.peaks,
                    "rss_before_call_bytes": r.loaded,
                    "profile": r.profile,
                }
                for r in self.rows
            ],
        }

    def table(self) -> list[str]:
        lines = [
            "| shape | events | implementation | median s | CPU s | events/s | peak RSS MB "
            "| before call MB | DuckDB s / seatcalc s | ≥ 3× | RSS ≤ DuckDB | DuckDB CPU / seatcalc CPU |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|:-:|:-:|---:|",
        ]
        for row in self.rows:
            ratio = mark_ratio = mark_rss = cpu_ratio = ""
            if row.variant.implementation == "seatcalc":
                peer = self.peer(row)
                ratio = f"{peer.median / row.median:.2f}"
                cpu_ratio = f"{statistics.median(peer.cpu) / statistics.median(row.cpu):.2f}"
                mark_ratio = _mark(peer.median / row.median >= TARGET_RATIO)
                mark_rss = _mark(row.peak <= peer.peak)
            lines.append(
                f"| {row.shape} | {row.size:,} | {row.variant.label} | {row.median:.2f} | "
                f"{statistics.median(row.cpu):.2f} | {row.size / row.median:,.0f} | "
                f"{row.peak / 2**20:,.0f} | {statistics.median(row.loaded) / 2**20:,.0f} | "
                f"{ratio} | {mark_ratio} | {mark_rss} | {cpu_ratio} |"
            )
        return lines

    def profile_table(self) -> list[str]:
        lines = [
            "| shape | events | input, engine | " + " | ".join(STAGES) + " | Σ stages |",
            "|---|---:|---|" + "---:|" * (len(STAGES) + 1),
        ]
        for row in self.rows:
            if row.variant.implementation != "seatcalc":
                continue
            label = row.variant.label.removeprefix("seatcalc (").removesuffix(")")
            if row.profile is None:
                cells = ["n/a"] * (len(STAGES) + 1)
            else:
                cells = [f"{row.profile.get(name, float('nan')):.3f}" for name in STAGES]
                cells.append(f"{sum(row.profile.values()):.3f}")
            lines.append(f"| {row.shape} | {row.size:,} | {label} | " + " | ".join(cells) + " |")
        return lines

    def scan_lines(self) -> list[str]:
        lines = []
        for row in self.rows:
            if row.variant.source != "scan" or row.variant.implementation != "seatcalc":
                continue
            eager_key = "sc-eager-auto" if row.variant.engine == "auto" else "sc-eager-mem"
            eager = self.find(row.shape, row.size, eager_key)
            if eager is None:
                continue
            lines.append(
                f"- {row.shape} {row.size:,}, {row.variant.engine}: scan_parquet {row.median:.2f} s "
                f"(reading included) vs eager frame {eager.median:.2f} s → "
                f"{eager.median / row.median:.2f}× {_mark(row.median <= eager.median)}"
            )
        return lines

    def linearity_lines(self, sizes: Sequence[int]) -> list[str]:
        if len(sizes) < 2:
            return []
        small, large = min(sizes), max(sizes)
        lines = []
        for key, variant in VARIANTS.items():
            found = {
                r.size: r
                for r in self.rows
                if r.shape == BASE_SHAPE and r.variant.key == key and r.size in (small, large)
            }
            if len(found) == 2:
                growth = found[large].median / found[small].median / (large / small)
                mark = _mark(growth <= LINEAR_GROWTH) if variant.implementation == "seatcalc" else ""
                lines.append(
                    f"- {variant.label}: {found[small].median:.2f} s at {small:,} → "
                    f"{found[large].median:.2f} s at {large:,}: growth {growth:.2f} {mark}".rstrip()
                )
        return lines


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def _machine() -> str:
    import duckdb
    import polars as pl

    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return (
        f"{platform.machine()}, {model}, {os.cpu_count()} cores, {memory:.0f} GiB; Python "
        f"{platform.python_version()}, polars {pl.__version__}, DuckDB {duckdb.__version__}; "
        f"seatcalc at {commit or 'unknown commit'}"
    )


def _plot(matrix: Matrix, path: Path, sizes: Sequence[int]) -> None:
    """Bars of DuckDB time / seatcalc time per shape, one panel per size of ``sizes``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in matrix.rows if r.variant.implementation == "seatcalc" and r.size in sizes]
    sizes = sorted({r.size for r in rows})
    shapes = list(dict.fromkeys(r.shape for r in rows))
    variants = [
        v for v in VARIANTS.values() if v.implementation == "seatcalc" and any(r.variant == v for r in rows)
    ]
    figure, axes_list = plt.subplots(
        len(sizes), 1, figsize=(max(7.0, 1.1 * len(shapes) + 2), 3.2 * len(sizes)), squeeze=False
    )
    width = 0.8 / max(1, len(variants))
    for axes, size in zip((a[0] for a in axes_list), sizes, strict=True):
        for i, variant in enumerate(variants):
            xs, ys = [], []
            for j, shape in enumerate(shapes):
                row = next((r for r in rows if (r.shape, r.size, r.variant) == (shape, size, variant)), None)
                if row is not None:
                    xs.append(j + (i - (len(variants) - 1) / 2) * width)
                    ys.append(matrix.ratio(row))
            axes.bar(xs, ys, width=width, label=variant.label.removeprefix("seatcalc (").removesuffix(")"))
        axes.axhline(TARGET_RATIO, color="crimson", linestyle="--", linewidth=1, label="target 3×")
        top = max([TARGET_RATIO, *(matrix.ratio(r) for r in rows if r.size == size)])
        axes.set_ylim(0, top * 1.45)  # room for the legend above the bars and the target line
        axes.axhline(1.0, color="grey", linewidth=0.8)
        axes.set_xticks(range(len(shapes)), shapes)
        axes.set_ylabel("DuckDB time / seatcalc time")
        axes.set_title(f"{size:,} events, {matrix.args.threads} threads")
        axes.grid(True, axis="y", alpha=0.3)
    axes_list[0][0].legend(fontsize="small", ncols=2)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main(argv: Sequence[str] | None = None) -> None:
    from benchmarks.shapes import CACHE_DIR, SHAPES

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), default=list(SHAPES))
    parser.add_argument(
        "--linearity",
        type=int,
        nargs="*",
        default=[1_000_000, 10_000_000],
        help="sizes of the base shape for the growth line (none: skip)",
    )
    parser.add_argument(
        "--scan", choices=["base", "all", "none"], default="base", help="shapes with scan_parquet rows"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=str(CACHE_DIR))
    parser.add_argument(
        "--out", default=None, help="results path without suffix (default benchmarks/results/matrix)"
    )
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_SIZES[0]:,} events, 2 runs")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        spec, report = args.child
        Path(report).write_text(json.dumps(_child(json.loads(spec))))
        return

    if args.quick:
        args.sizes, args.repeat, args.linearity = list(QUICK_SIZES), 2, list(QUICK_LINEARITY)
    out = (
        Path(args.out)
        if args.out
        else (Path(args.cache_dir) / "matrix-quick" if args.quick else RESULTS / "matrix")
    )
    command = (
        "python -m benchmarks.bench_matrix"
        + (" " + shlex.join(argv if argv is not None else sys.argv[1:])).rstrip()
    )
    machine = _machine()
    print(
        f"{machine}\n{command}\nthreads {args.threads}, {args.repeat} runs per row, median shown", flush=True
    )

    matrix = Matrix(args)
    plan = [(shape, size) for size in args.sizes for shape in args.shapes]
    linearity = sorted(set(args.linearity)) if BASE_SHAPE in args.shapes else []
    plan += [(BASE_SHAPE, size) for size in linearity if (BASE_SHAPE, size) not in plan]
    plan.sort(key=lambda item: (item[1], args.shapes.index(item[0]) if item[0] in args.shapes else -1))
    for shape, size in plan:
        matrix.measure(shape, size)

    cores = os.cpu_count() or 1
    loads = f"1-minute load average {min(matrix.loads):.1f} to {max(matrix.loads):.1f} during the run"
    if max(matrix.loads) > cores:
        loads += (
            f" (above {cores}: the machine was shared, wall times include waiting for a core; the "
            "CPU columns are less affected)"
        )
    sections = [
        "# billable_seats: benchmark matrix against DuckDB",
        "",
        f"Machine: {machine}; {loads}.",
        f"Command: `{command}` ({args.threads} threads for polars and DuckDB, {args.repeat} runs per row "
        "in fresh processes, median shown; CPU s is the process CPU time of the call).",
        "Shapes (`benchmarks/shapes.py`, monthly UTC periods over 2024):",
        "",
        *(f"- `{name}`: {SHAPES[name].description}" for name in dict.fromkeys(s for s, _ in plan)),
        "",
        f"Same results checked on every row ({', '.join(matrix.checked)}).",
        "",
        *matrix.table(),
        "",
        "## scan_parquet against an eager frame (target: at least as fast)",
        "",
        *(matrix.scan_lines() or ["- no scan rows in this run"]),
        "",
        f"## Linearity of the base shape (growth = time ratio / size ratio; target ≤ {LINEAR_GROWTH})",
        "",
        *(matrix.linearity_lines(linearity) or ["- not measured in this run"]),
        "",
        "## Per-stage profile of seatcalc (seconds, `seatcalc.timeline.profile_stages`, one extra run)",
        "",
        *matrix.profile_table(),
        "",
    ]
    text = "\n".join(sections)
    print("\n".join(["", *matrix.scan_lines(), *matrix.linearity_lines(linearity)]))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text)
    out.with_suffix(".json").write_text(json.dumps(matrix.raw(command), indent=1) + "\n")
    print(f"table: {out.with_suffix('.md')}, every run: {out.with_suffix('.json')}")
    if not args.no_plot:
        _plot(matrix, out.with_suffix(".png"), args.sizes)
        print(f"plot: {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
