"""Billing bigger than memory on one machine: Parquet in, the same rows out.

``billable_seats`` and ``price_seats`` hand a Parquet source (a file, a glob, a directory of
files, hive-partitioned or not, a list of those, or a ``pl.scan_parquet`` LazyFrame) or any
frame given with ``memory_limit`` to :func:`partitioned_billable_seats` /
:func:`partitioned_price_seats`. They estimate the work (rows × bytes per row in memory ×
:data:`WORK_FACTOR`); when it fits in ``memory_limit`` the in-memory engine runs as usual,
otherwise the run goes in ``buckets`` partitions, the two passes of :mod:`seatcalc.buckets`:

0. **Check.** Every row is validated before anything is computed, with the same message as
   in memory (rows named by their position in the source). ``receivedSeq`` uniqueness is
   global: its values are bucketed by hash and each bucket checked. Rows without a
   ``receivedSeq`` get their position in the source as receipt order, before bucketing.
1. **Versions.** Rows are streamed into buckets of hash(account?, customerEventId); each
   bucket keeps its winners (a winner may move an event to another customer or seat type).
2. **Keys.** Winners are regrouped in buckets of hash(account?, customerAlias, seatType);
   each bucket runs the in-memory kernel (``bill_effective`` / ``price_effective``).

Intermediate buckets are LZ4 Parquet files in a temporary directory (``temp_dir`` or the
system's), removed when the run ends, whatever the end (an error, ``KeyboardInterrupt``).
The output is sorted exactly as in memory (key, ``periodStart``, then ``lineType``): the
buckets' results are concatenated and sorted once, in memory, then returned or written to
the Parquet file ``out`` (a temporary file beside it, renamed when complete). The output
has one row per key and period (or line): it must fit in memory, and is usually 10–100×
smaller than the events. One key (a customer's seat type) must fit in memory too: keys
are never split.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, TypeAlias

import polars as pl

from seatcalc.buckets import (
    bill_effective,
    key_bucket,
    price_effective_and_unpriced,
    resolve_versions,
    version_bucket,
)
from seatcalc.errors import FrameSchemaError, InvalidArgument, InvalidEventFrame, InvalidPrice
from seatcalc.frames import (
    ACCOUNT,
    ALIAS,
    EVENT_ID,
    RECEIVED,
    SEAT_TYPE,
    TIMESTAMP,
    TOTAL,
    ReceivedDuplicates,
    checked_events,
    key_columns_of,
    schema_problems,
)
from seatcalc.measures import billable_seats
from seatcalc.periods import Until
from seatcalc.pricing import Prices, describe_unpriced, price_seats
from seatcalc.schedules import PERIOD_START, SCHEDULE, Schedules, schedule_table
from seatcalc.supersession import SupersedeBy, check_policy
from seatcalc.timeline import check_schedules

__all__ = [
    "WORK_FACTOR",
    "EventSource",
    "Progress",
    "default_memory_limit",
    "is_parquet_source",
    "partitioned_billable_seats",
    "partitioned_price_seats",
    "plan_buckets",
    "scan_source",
]

EventSource: TypeAlias = (
    str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | pl.LazyFrame | pl.DataFrame
)
"""Parquet path(s) (a file, a glob, a directory), or a frame (a ``pl.scan_parquet`` LazyFrame)."""
Progress: TypeAlias = Callable[[str], None]
"""Called with one line of text per step of a partitioned run."""

WORK_FACTOR = 6
"""Peak working memory of the in-memory kernels per byte of the events frame they bill
(measured on ``benchmarks.generate`` data: about 4; 6 leaves room for pricing)."""
MAX_BUCKETS = 4096
_SAMPLE_ROWS = 10_000
_BUCKET = "__bucket"
_ROW = "__sourceRow"
_SHOWN = 5
_TEMP_COMPRESSION: Literal["lz4"] = "lz4"  # fast to write and read; the buckets live for one run


def default_memory_limit() -> int:
    """A quarter of the machine's memory, or of the cgroup's limit when that is lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    with contextlib.suppress(OSError, ValueError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            total = min(total, int(limit))
    return max(total // 4, 1)


def is_parquet_source(source: object) -> bool:
    """A path, a string or a list of them (what :func:`scan_source` reads as Parquet)."""
    if isinstance(source, str | os.PathLike):
        return True
    return (
        isinstance(source, list | tuple)
        and bool(source)
        and all(isinstance(item, str | os.PathLike) for item in source)
    )


def scan_source(source: EventSource) -> pl.LazyFrame:
    """The events of ``source`` as a LazyFrame (Parquet paths are scanned, not read)."""
    if isinstance(source, pl.LazyFrame):
        return source
    if isinstance(source, pl.DataFrame):
        return source.lazy()
    if not is_parquet_source(source):
        raise FrameSchemaError(
            "expected a polars DataFrame or LazyFrame of seat events or Parquet paths, "
            f"got {type(source).__name__}"
        )
    paths = [source] if isinstance(source, str | os.PathLike) else list(source)
    names = [str(path) for path in paths]
    for name in names:
        folder = Path(name)
        if folder.is_dir() and not any(folder.rglob("*.parquet")) and not any(folder.rglob("*.pq")):
            raise InvalidEventFrame(f"{name!r} is a directory with no Parquet files (*.parquet) in it")
    try:
        frame = pl.scan_parquet(names)
        frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InvalidEventFrame(f"cannot read {', '.join(names)!r} as PARQUET: {detail}") from None
    return frame


def _estimate(frame: pl.LazyFrame) -> tuple[int, int]:
    """(rows, bytes in memory): the row count (Parquet metadata) and a sample's width."""
    rows = int(frame.select(pl.len()).collect().item())
    sample = frame.head(_SAMPLE_ROWS).collect()
    width = sample.estimated_size() / max(sample.height, 1)
    return rows, math.ceil(rows * width)


def plan_buckets(rows: int, frame_bytes: int, memory_limit: int) -> int:
    """How many buckets keep each one's work (``frame_bytes × WORK_FACTOR / buckets``)
    within ``memory_limit``: 1 means the in-memory engine."""
    work = frame_bytes * WORK_FACTOR
    if work <= memory_limit:
        return 1
    return max(2, min(math.ceil(work / memory_limit), MAX_BUCKETS, max(rows, 1)))


def _check_memory_limit(memory_limit: object) -> int:
    if memory_limit is None:
        return default_memory_limit()
    if isinstance(memory_limit, bool) or not isinstance(memory_limit, int) or memory_limit <= 0:
        raise InvalidArgument.for_value("memory_limit", memory_limit, "must be a positive number of bytes")
    return memory_limit


def _check_buckets(buckets: object) -> int | None:
    if buckets is None:
        return None
    if isinstance(buckets, bool) or not isinstance(buckets, int) or not 1 <= buckets <= MAX_BUCKETS:
        raise InvalidArgument.for_value("buckets", buckets, f"must be an integer from 1 to {MAX_BUCKETS}")
    return buckets


def partitioned_billable_seats(
    source: EventSource,
    schedule: Schedules,
    *,
    until: Until = None,
    supersede_by: SupersedeBy = "eventTimestamp",
    memory_limit: int | None = None,
    buckets: int | None = None,
    out: str | os.PathLike[str] | None = None,
    temp_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> pl.DataFrame | None:
    """``billable_seats`` of a source that may not fit in memory: the same rows, sorted the
    same way, as a DataFrame, or written to the Parquet file ``out`` (then ``None``).

    ``memory_limit`` (bytes; default :func:`default_memory_limit`) sets the bucket count,
    unless ``buckets`` is given (1: the in-memory engine).
    """
    check_policy(supersede_by)

    def kernel(effective: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        return bill_effective(effective, schedule, until=until), None

    def whole(frame: pl.LazyFrame) -> pl.DataFrame:
        return billable_seats(frame, schedule, until=until, supersede_by=supersede_by).collect()

    return _run(
        source, schedule, supersede_by, memory_limit, buckets, out, temp_dir, progress, kernel, whole, []
    )


def partitioned_price_seats(
    source: EventSource,
    schedule: Schedules,
    prices: Prices,
    *,
    until: Until = None,
    supersede_by: SupersedeBy = "eventTimestamp",
    rounding: str = "ROUND_HALF_UP",
    unpriced: str = "skip",
    memory_limit: int | None = None,
    buckets: int | None = None,
    out: str | os.PathLike[str] | None = None,
    temp_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> pl.DataFrame | None:
    """``price_seats`` of a source that may not fit in memory (see
    :func:`partitioned_billable_seats`); ``unpriced="error"`` names the unpriced keys of all
    buckets at once, before anything is written."""

    def whole(frame: pl.LazyFrame) -> pl.DataFrame:
        lines = price_seats(
            frame,
            schedule,
            prices,
            until=until,
            supersede_by=supersede_by,
            rounding=rounding,
            unpriced=unpriced,
        )
        return lines.collect()

    # the arguments are checked by price_seats itself, on an empty frame, before any work
    empty = pl.DataFrame(schema={ALIAS: pl.String, SEAT_TYPE: pl.String, TIMESTAMP: pl.Datetime("us", "UTC")})
    price_seats(
        empty.with_columns(pl.lit(0).alias(TOTAL)),
        schedule,
        prices,
        until=until,
        supersede_by=supersede_by,
        rounding=rounding,
        unpriced=unpriced,
    )

    def kernel(effective: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        return price_effective_and_unpriced(effective, schedule, prices, until=until, rounding=rounding)

    def check(missing: pl.DataFrame) -> None:
        if unpriced == "error" and missing.height:
            raise InvalidPrice(
                describe_unpriced(missing, " (customerAlias/seatType)")
                + "; add them to the prices, or pass unpriced='skip' to leave them without lines"
            )

    return _run(
        source,
        schedule,
        supersede_by,
        memory_limit,
        buckets,
        out,
        temp_dir,
        progress,
        kernel,
        whole,
        ["lineType"],
        check,
    )


def _run(
    source: EventSource,
    schedule: Schedules,
    supersede_by: SupersedeBy,
    memory_limit: int | None,
    buckets: int | None,
    out: str | os.PathLike[str] | None,
    temp_dir: str | os.PathLike[str] | None,
    progress: Progress | None,
    kernel: Callable[[pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame | None]],
    whole: Callable[[pl.LazyFrame], pl.DataFrame],
    order_after: list[str],
    check_missing: Callable[[pl.DataFrame], None] | None = None,
) -> pl.DataFrame | None:
    limit = _check_memory_limit(memory_limit)
    count = _check_buckets(buckets)
    _, index = schedule_table(schedule)  # a bad schedule fails before any work
    frame = scan_source(source)
    say = progress or (lambda _line: None)
    if count is None:
        rows, size = _estimate(frame)
        count = plan_buckets(rows, size, limit)
        say(f"{rows:,} events, about {size / 1e9:.2f} GB in memory: {count} bucket(s)")
    with tempfile.TemporaryDirectory(prefix="seatcalc-", dir=temp_dir) as temporary:
        work = Path(temporary)
        if count == 1:
            result = whole(frame)
        else:
            result = _partitioned(
                frame, index, supersede_by, count, work, say, kernel, order_after, check_missing
            )
        if out is None:
            return result
        _write_atomic(result, Path(out))
        say(f"wrote {result.height:,} rows to {out}")
        return None


def _partitioned(
    frame: pl.LazyFrame,
    index: pl.DataFrame | None,
    supersede_by: SupersedeBy,
    count: int,
    work: Path,
    say: Progress,
    kernel: Callable[[pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame | None]],
    order_after: list[str],
    check_missing: Callable[[pl.DataFrame], None] | None,
) -> pl.DataFrame:
    valid = _validated(frame, count, work / "received", say)
    names = valid.collect_schema().names()
    keys = key_columns_of(names)
    say(f"pass 1: events into {count} version buckets")
    valid.with_columns(version_bucket(names, count).alias(_BUCKET)).sink_parquet(
        pl.PartitionBy(work / "versions", key=_BUCKET, include_key=False),
        mkdir=True,
        compression=_TEMP_COMPRESSION,
    )
    customers: list[pl.DataFrame] = []
    version_dirs = _bucket_dirs(work / "versions")
    for number, folder in enumerate(version_dirs):
        winners = resolve_versions(pl.read_parquet(folder / "*.parquet"), supersede_by)
        say(f"pass 1: version bucket {number + 1}/{len(version_dirs)}: {winners.height:,} effective events")
        customers.append(winners.select(ALIAS).unique())
        split = winners.with_columns(key_bucket(names, count).alias(_BUCKET))
        for (bucket,), part in split.partition_by(_BUCKET, as_dict=True, include_key=False).items():
            target = work / "keys" / f"{_BUCKET}={bucket}"
            target.mkdir(parents=True, exist_ok=True)
            part.write_parquet(target / f"{number:05d}.parquet", compression=_TEMP_COMPRESSION)
        del winners, split
    if index is not None and customers:
        seen = pl.concat(customers).unique()
        check_schedules(seen.join(index, on=ALIAS, how="left").select(ALIAS, SCHEDULE))

    results: list[pl.DataFrame] = []
    missing: list[pl.DataFrame] = []
    key_dirs = _bucket_dirs(work / "keys")
    for number, folder in enumerate(key_dirs):
        effective = pl.read_parquet(folder / "*.parquet")
        lines, unpriced = kernel(effective)
        say(
            f"pass 2: key bucket {number + 1}/{len(key_dirs)}: "
            f"{effective.height:,} events, {lines.height:,} rows"
        )
        results.append(lines)
        if unpriced is not None:
            missing.append(unpriced)
    if not key_dirs:  # no events: the kernel gives the empty frame its columns
        lines, unpriced = kernel(valid.head(0).collect())
        results.append(lines)
        missing.extend([] if unpriced is None else [unpriced])
    if check_missing is not None and missing:
        check_missing(pl.concat(missing).sort(keys))
    return pl.concat(results).sort([*keys, PERIOD_START, *order_after])


def _bucket_dirs(root: Path) -> list[Path]:
    """The non-empty buckets under ``root`` (``__bucket=N`` folders), in bucket order."""
    if not root.is_dir():
        return []
    found = [
        (int(path.name.split("=", 1)[1]), path) for path in root.iterdir() if path.name.startswith(_BUCKET)
    ]
    return [path for _, path in sorted(found)]


def _validated(frame: pl.LazyFrame, count: int, work: Path, say: Progress) -> pl.LazyFrame:
    """Every row checked as the in-memory engine checks it (same messages, same rows
    quoted); the canonical columns plus ``receivedSeq`` (the source position without one)."""
    schema = frame.collect_schema()
    problems = schema_problems(schema)
    if problems:
        raise FrameSchemaError.from_problems(problems, schema.names())
    duplicates = None
    if RECEIVED in schema:
        say(f"checking receivedSeq uniqueness in {count} buckets")
        duplicates = _received_duplicates(frame, count, work)
    say("checking every row")
    valid, _ = checked_events(frame, received_duplicates=duplicates)
    names = valid.collect_schema().names()
    if RECEIVED not in names:
        valid = valid.with_row_index(RECEIVED).with_columns(pl.col(RECEIVED).cast(pl.Int64))
    wanted = [
        *([ACCOUNT] if ACCOUNT in names else []),
        EVENT_ID,
        ALIAS,
        SEAT_TYPE,
        TIMESTAMP,
        TOTAL,
        RECEIVED,
    ]
    return valid.select(wanted)


def _received_duplicates(frame: pl.LazyFrame, count: int, work: Path) -> ReceivedDuplicates:
    """Rows whose ``receivedSeq`` another row shares, found per bucket of its hash."""
    seq = pl.col(RECEIVED)
    frame.select(RECEIVED).with_row_index(_ROW).with_columns(
        (seq.hash(seed=0) % count).alias(_BUCKET)
    ).sink_parquet(
        pl.PartitionBy(work, key=_BUCKET, include_key=False), mkdir=True, compression=_TEMP_COMPRESSION
    )
    rows = 0
    first: list[pl.DataFrame] = []
    for folder in _bucket_dirs(work):
        shared = pl.read_parquet(folder / "*.parquet").filter(seq.is_duplicated())
        rows += shared.height
        first.append(shared.sort(_ROW).head(_SHOWN))
    values = pl.concat(first).sort(_ROW).head(_SHOWN)[RECEIVED] if first else pl.Series(RECEIVED, [])
    return ReceivedDuplicates(rows=rows, values=values)


def _write_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write Parquet to a new file beside ``path``, then rename it over ``path``."""
    temporary = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        frame.write_parquet(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise
