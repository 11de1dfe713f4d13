"""Validation of events frames, before anything is computed from them (SPEC §8).

An events frame carries the SPEC §1 columns (``customerEventId`` may be null or absent:
such a row is a fact of its own), optionally ``receivedSeq`` (receipt order, larger =
later, unique) and ``sequenceAccountId`` (then part of every key). Other columns ride along
untouched. Schema problems raise :class:`FrameSchemaError`; bad rows raise
:class:`InvalidEventFrame`, with the number of problems and the first rows at fault.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import polars as pl

from seatcalc.errors import FrameSchemaError, InvalidEventFrame, Problem
from seatcalc.events import MAX_TEXT, MAX_TOTAL

__all__ = [
    "ACCOUNT",
    "ALIAS",
    "EVENT_ID",
    "EVENT_SCHEMA",
    "RECEIVED",
    "SEAT_TYPE",
    "TIMESTAMP",
    "TOTAL",
    "EventRanges",
    "FrameT",
    "canonical",
    "checked_events",
    "eager_or_lazy",
    "key_columns",
    "row_problems",
    "schema_problems",
    "validate_events",
]

EVENT_ID = "customerEventId"
ALIAS = "customerAlias"
SEAT_TYPE = "seatType"
TIMESTAMP = "eventTimestamp"
TOTAL = "total"
RECEIVED = "receivedSeq"
ACCOUNT = "sequenceAccountId"

INSTANT = pl.Datetime("us", "UTC")
EVENT_SCHEMA: dict[str, pl.DataType] = {
    EVENT_ID: pl.String(),
    ALIAS: pl.String(),
    SEAT_TYPE: pl.String(),
    TIMESTAMP: INSTANT,
    TOTAL: pl.Int64(),
}
"""The SPEC §1 columns in their canonical dtypes (what :func:`canonical` produces)."""
_TEXT_COLUMNS = (ALIAS, SEAT_TYPE)
_REQUIRED = (ALIAS, SEAT_TYPE, TIMESTAMP, TOTAL)
_SHOWN_ROWS = 5
_ROW = "__row"
_CONTROL = r"[\x00-\x1f\x7f-\x9f]"
_YEAR_10000 = 253_402_300_800_000_000  # 10000-01-01T00:00:00Z in µs since the epoch

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def key_columns(frame: pl.LazyFrame) -> list[str]:
    """The balance key of a validated frame: (account?, customerAlias, seatType)."""
    names = frame.collect_schema().names()
    return ([ACCOUNT] if ACCOUNT in names else []) + [ALIAS, SEAT_TYPE]


def _is_text(dtype: pl.DataType) -> bool:
    return dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)


def schema_problems(schema: pl.Schema) -> list[Problem]:
    problems: list[Problem] = []
    for name in _REQUIRED:
        if name not in schema:
            problems.append(Problem(None, name, "is missing"))
    for name in (*_TEXT_COLUMNS, EVENT_ID, ACCOUNT):
        if name in schema and not (_is_text(schema[name]) or schema[name] == pl.Null):
            problems.append(Problem(None, name, f"must be String, not {schema[name]}"))
    if TIMESTAMP in schema:
        dtype = schema[TIMESTAMP]
        if not isinstance(dtype, pl.Datetime):
            hint = " (parse strings with .str.to_datetime(time_zone='UTC'))" if dtype == pl.String else ""
            problems.append(Problem(None, TIMESTAMP, f"must be Datetime with a time zone, not {dtype}{hint}"))
        elif dtype.time_zone is None:
            problems.append(
                Problem(
                    None,
                    TIMESTAMP,
                    "is a naive Datetime: say which instants it holds with "
                    ".dt.replace_time_zone('UTC') (or the zone it was recorded in)",
                )
            )
    for name in (TOTAL, RECEIVED):
        if name in schema and not schema[name].is_integer():
            problems.append(Problem(None, name, f"must be an integer dtype, not {schema[name]}"))
    return problems


def _row_checks(schema: pl.Schema) -> dict[tuple[str, str], pl.Expr]:
    """(field, reason) → a boolean expression that is true on the rows at fault."""
    checks: dict[tuple[str, str], pl.Expr] = {}
    for name in _REQUIRED:
        checks[(name, "is null")] = pl.col(name).is_null()
    for name in (*_TEXT_COLUMNS, EVENT_ID, ACCOUNT):
        if name not in schema or schema[name] == pl.Null:
            continue
        text = pl.col(name).cast(pl.String)
        checks[(name, "is empty")] = text.str.len_bytes() == 0
        checks[(name, f"is longer than {MAX_TEXT} characters")] = text.str.len_chars() > MAX_TEXT
        checks[(name, "contains a control character")] = text.str.contains(_CONTROL)
    if ACCOUNT in schema:
        checks[(ACCOUNT, "is null")] = pl.col(ACCOUNT).is_null()
    checks[(TOTAL, "is negative")] = pl.col(TOTAL) < 0
    checks[(TOTAL, f"is above {MAX_TOTAL}")] = pl.col(TOTAL) > MAX_TOTAL
    micros = pl.col(TIMESTAMP).dt.epoch("us")
    checks[(TIMESTAMP, "is outside the years 1970–9999 (in UTC)")] = (micros < 0) | (micros >= _YEAR_10000)
    dtype = schema[TIMESTAMP]
    if isinstance(dtype, pl.Datetime) and dtype.time_unit == "ns":
        checks[(TIMESTAMP, "has sub-microsecond precision")] = pl.col(TIMESTAMP).dt.nanosecond() % 1000 != 0
    if RECEIVED in schema:
        checks[(RECEIVED, "is null")] = pl.col(RECEIVED).is_null()
        checks[(RECEIVED, "is not unique")] = pl.col(RECEIVED).is_duplicated()
    return checks


@dataclass(frozen=True, slots=True)
class EventRanges:
    """Sizes of a valid events frame, read in the validation pass: rows, and the least and
    greatest ``eventTimestamp`` (µs since the epoch) and receipt order."""

    rows: int
    first_micros: int
    last_micros: int
    first_received: int
    last_received: int


def validate_events(events: pl.LazyFrame) -> pl.LazyFrame:
    """Check an events frame and return it with canonical dtypes (see :func:`checked_events`).

    >>> from datetime import datetime, UTC
    >>> frame = pl.LazyFrame({"customerAlias": ["a"], "seatType": ["x"],
    ...     "eventTimestamp": [datetime(2025, 1, 1, tzinfo=UTC)], "total": [-2]})
    >>> validate_events(frame)
    Traceback (most recent call last):
    ...
    seatcalc.errors.InvalidEventFrame: 1 problem in events frame: row 0: total: is negative (got -2)
    """
    return checked_events(events)[0]


def checked_events(events: pl.LazyFrame) -> tuple[pl.LazyFrame, EventRanges]:
    """Check an events frame; return it with canonical dtypes, and its ranges.

    Text columns become String, ``eventTimestamp`` a UTC microsecond Datetime, ``total``
    and ``receivedSeq`` Int64; an absent ``customerEventId`` becomes a null column.
    Raises :class:`FrameSchemaError` for missing or mistyped columns and
    :class:`InvalidEventFrame` for bad rows; nothing is computed from a bad frame.
    """
    schema = events.collect_schema()
    problems = schema_problems(schema)
    if problems:
        raise FrameSchemaError.from_problems(problems, schema.names())

    checks = _row_checks(schema)
    names = [f"{field}\x1f{reason}" for field, reason in checks]
    # Counting is the hot path: uniqueness is counted with n_unique (no per-row flags).
    counted = {
        name: (pl.len() - pl.col(RECEIVED).n_unique()) if reason == "is not unique" else expr.sum()
        for name, (_, reason), expr in zip(names, checks, checks.values(), strict=True)
    }
    micros = pl.col(TIMESTAMP).dt.epoch("us")
    received = pl.col(RECEIVED) if RECEIVED in schema else pl.int_range(pl.len(), dtype=pl.Int64)
    ranges = [
        pl.len().alias("__rows"),
        micros.min().alias("__firstMicros"),
        micros.max().alias("__lastMicros"),
        received.min().alias("__firstReceived"),
        received.max().alias("__lastReceived"),
    ]
    counts = events.select(*ranges, *(expr.alias(name) for name, expr in counted.items())).collect()
    if any(counts.select(list(counted)).row(0)):
        recount = events.select(
            expr.sum().alias(name) for name, expr in zip(names, checks.values(), strict=True)
        ).collect()
        total_problems = int(sum(recount.row(0)))
        raise _row_error(events, checks, total_problems)

    size = counts.row(0)
    span = EventRanges(*(0 if value is None else int(value) for value in size[:5]))
    return canonical(events), span


def canonical(events: pl.LazyFrame) -> pl.LazyFrame:
    """The SPEC §1 columns in canonical dtypes (text String, ``eventTimestamp`` UTC µs,
    ``total`` and ``receivedSeq`` Int64, ``customerEventId`` present); rows unchecked."""
    schema = events.collect_schema()
    columns = [
        pl.col(ALIAS).cast(pl.String),
        pl.col(SEAT_TYPE).cast(pl.String),
        pl.col(TIMESTAMP).dt.convert_time_zone("UTC").dt.cast_time_unit("us"),
        pl.col(TOTAL).cast(pl.Int64),
        (pl.col(EVENT_ID) if EVENT_ID in schema else pl.lit(None)).cast(pl.String).alias(EVENT_ID),
    ]
    if RECEIVED in schema:
        columns.append(pl.col(RECEIVED).cast(pl.Int64))
    if ACCOUNT in schema:
        columns.append(pl.col(ACCOUNT).cast(pl.String))
    return events.with_columns(columns)


def row_problems(
    events: pl.LazyFrame, checks: dict[tuple[str, str], pl.Expr] | None = None, *, limit: int | None = None
) -> list[Problem]:
    """Every bad value of every bad row, in row order (the first ``limit`` rows at fault)."""
    checks = checks if checks is not None else _row_checks(events.collect_schema())
    flags = [expr.fill_null(False).alias(f"__bad{i}") for i, expr in enumerate(checks.values())]
    fields = sorted({field for field, _ in checks})
    quoted = [pl.col(TIMESTAMP).cast(pl.String)] if TIMESTAMP in events.collect_schema() else []
    bad = (
        events.with_row_index(_ROW)
        .with_columns(flags)
        .with_columns(quoted)  # years past 9999 cannot become Python datetimes
        .filter(pl.any_horizontal(f"__bad{i}" for i in range(len(flags))))
        .sort(_ROW)
    )
    rows = (bad.head(limit) if limit is not None else bad).collect()
    problems: list[Problem] = []
    for row in rows.iter_rows(named=True):
        for i, (field, reason) in enumerate(checks):
            if row[f"__bad{i}"]:
                value = row[field] if field in fields and reason != "is null" else None
                problems.append(Problem(int(row[_ROW]), field, reason, value))
    return problems


def _row_error(events: pl.LazyFrame, checks: dict[tuple[str, str], pl.Expr], count: int) -> InvalidEventFrame:
    """Quote the first rows at fault, every bad field of each."""
    problems = row_problems(events, checks, limit=_SHOWN_ROWS)
    noun = "problem" if count == 1 else "problems"
    shown = "; ".join(str(p) for p in problems)
    more = f"; and {count - len(problems)} more" if count > len(problems) else ""
    return InvalidEventFrame(f"{count} {noun} in events frame: {shown}{more}", problems)


def eager_or_lazy(frame: FrameT, compute: Callable[[pl.LazyFrame], pl.LazyFrame]) -> FrameT:
    """Run a ``LazyFrame -> LazyFrame`` step on either kind: eager in, eager out."""
    if isinstance(frame, pl.DataFrame):
        return compute(frame.lazy()).collect()
    if isinstance(frame, pl.LazyFrame):
        return compute(frame)
    raise FrameSchemaError(
        f"expected a polars DataFrame or LazyFrame of seat events, got {type(frame).__name__}"
    )
