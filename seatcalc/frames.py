"""Validation of events frames, before anything is computed from them (SPEC §8).

An events frame carries the SPEC §1 columns (``customerEventId`` may be null or absent:
such a row is a fact of its own), optionally ``receivedSeq`` (receipt order, larger =
later, unique) and ``sequenceAccountId`` (then part of every key). Other columns ride along
untouched. Schema problems raise :class:`FrameSchemaError`; bad rows raise
:class:`InvalidEventFrame`, with the number of problems and the first rows at fault.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import polars as pl

from seatcalc.errors import FrameSchemaError, InvalidEventFrame, Problem
from seatcalc.wire import (
    INSTANT_RANGE,
    TEXT_RULES,
    TOTAL_RULES,
    instant_reason,
    timestamp_problems,
    with_instants,
)

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
    "ReceivedDuplicates",
    "canonical",
    "checked_events",
    "eager_or_lazy",
    "event_columns",
    "fact_columns",
    "key_columns",
    "key_columns_of",
    "parse_text_timestamps",
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
STORED_ID = "id"

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
_TEXT = "__timestampText"
_REASON = "__timestampReason"
_PARSED_REASON = "(the timestamp rule)"

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def key_columns(frame: pl.LazyFrame) -> list[str]:
    """The balance key of a validated frame: (account?, customerAlias, seatType)."""
    return key_columns_of(frame.collect_schema().names())


def key_columns_of(names: list[str]) -> list[str]:
    """The columns naming a balance key among ``names``: (account?, customerAlias, seatType)."""
    return ([ACCOUNT] if ACCOUNT in names else []) + [ALIAS, SEAT_TYPE]


def fact_columns(names: list[str]) -> list[str]:
    """The columns naming a fact among ``names``: (account?, customerEventId)."""
    return ([ACCOUNT] if ACCOUNT in names else []) + [EVENT_ID]


def _is_text(dtype: pl.DataType) -> bool:
    return dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)


def schema_problems(schema: pl.Schema) -> list[Problem]:
    problems: list[Problem] = []
    for name in _REQUIRED:
        if name not in schema:
            problems.append(Problem(None, name, "is missing"))
    for name in (*_TEXT_COLUMNS, EVENT_ID, ACCOUNT, STORED_ID):
        if name in schema and not (_is_text(schema[name]) or schema[name] == pl.Null):
            problems.append(Problem(None, name, f"must be String, not {schema[name]}"))
    if TIMESTAMP in schema:
        dtype = schema[TIMESTAMP]
        if not isinstance(dtype, pl.Datetime) and dtype not in (pl.String, pl.Null):
            problems.append(
                Problem(
                    None, TIMESTAMP, f"must be Datetime with a time zone or RFC 3339 strings, not {dtype}"
                )
            )
        elif isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
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
    for name in (*_TEXT_COLUMNS, EVENT_ID, ACCOUNT, STORED_ID):
        if name not in schema or schema[name] == pl.Null:
            continue
        text = pl.col(name).cast(pl.String)
        for reason, rule, _ in TEXT_RULES:
            checks[(name, reason)] = rule(text)
    if ACCOUNT in schema:
        checks[(ACCOUNT, "is null")] = pl.col(ACCOUNT).is_null()
    for reason, rule, _ in TOTAL_RULES:
        checks[(TOTAL, reason)] = rule(pl.col(TOTAL))
    if _REASON in schema:  # timestamps given as text: the rule's own reasons
        checks[(TIMESTAMP, "is null")] = pl.col(TIMESTAMP).is_null() & pl.col(_REASON).is_null()
        checks[(TIMESTAMP, _PARSED_REASON)] = pl.col(_REASON).is_not_null()
    else:
        checks[(TIMESTAMP, INSTANT_RANGE)] = instant_reason(pl.col(TIMESTAMP).dt.epoch("us")).is_not_null()
    dtype = schema[TIMESTAMP]
    if isinstance(dtype, pl.Datetime) and dtype.time_unit == "ns":
        checks[(TIMESTAMP, "has sub-microsecond precision")] = pl.col(TIMESTAMP).dt.nanosecond() % 1000 != 0
    if RECEIVED in schema:
        if schema[RECEIVED] == pl.UInt64:
            checks[(RECEIVED, f"is above {2**63 - 1}")] = pl.col(RECEIVED) > 2**63 - 1
        checks[(RECEIVED, "is null")] = pl.col(RECEIVED).is_null()
        checks[(RECEIVED, "is not unique")] = pl.col(RECEIVED).is_duplicated()
    return checks


@dataclass(frozen=True, slots=True)
class EventRanges:
    """Sizes of a valid events frame, read in the validation pass: rows, the least and
    greatest ``eventTimestamp`` (µs since the epoch) and receipt order, and the distinct
    values of each key column (sorted)."""

    rows: int
    first_micros: int
    last_micros: int
    first_received: int
    last_received: int
    key_values: dict[str, pl.Series] = dataclasses.field(default_factory=dict)


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


@dataclass(frozen=True, slots=True)
class ReceivedDuplicates:
    """``receivedSeq`` uniqueness found elsewhere (by a run too large to count it in one
    hash set): ``rows``, how many rows share their value with another row, and ``values``,
    the values of (at least) the first few such rows in source order."""

    rows: int
    values: pl.Series


def checked_events(
    events: pl.LazyFrame, *, received_duplicates: ReceivedDuplicates | None = None
) -> tuple[pl.LazyFrame, EventRanges]:
    """Check an events frame; return it with canonical dtypes, and its ranges.

    Text columns become String, ``eventTimestamp`` a UTC microsecond Datetime, ``total``
    and ``receivedSeq`` Int64; an absent ``customerEventId`` becomes a null column.
    Raises :class:`FrameSchemaError` for missing or mistyped columns and
    :class:`InvalidEventFrame` for bad rows; nothing is computed from a bad frame.
    ``received_duplicates`` replaces the ``receivedSeq`` uniqueness count (the same
    message results, the error quoting the same first rows).
    """
    schema = events.collect_schema()
    problems = schema_problems(schema)
    if problems:
        raise FrameSchemaError.from_problems(problems, schema.names())
    events = parse_text_timestamps(events)
    schema = events.collect_schema()

    checks = _row_checks(schema)
    if received_duplicates is not None and RECEIVED in schema:
        values = received_duplicates.values.cast(schema[RECEIVED], strict=False)
        checks[(RECEIVED, "is not unique")] = pl.col(RECEIVED).is_in(values.implode(), nulls_equal=True)
    names = [f"{field}\x1f{reason}" for field, reason in checks]

    # Counting is the hot path. Repeated receipts are counted on the sorted column (no
    # per-row flags, no hash table; an input in receipt order sorts in one pass). The text
    # rules of the key columns are checked on their distinct values, which the billing
    # run needs anyway; only when one fails are the rows checked one by one.
    def count(reason: str, expr: pl.Expr) -> pl.Expr:
        if reason != "is not unique":
            return expr.sum()
        if received_duplicates is not None:
            return pl.lit(received_duplicates.rows)
        ordered = pl.col(RECEIVED).sort()
        return (ordered == ordered.shift(1)).sum()

    keys = [name for name in (ACCOUNT, ALIAS, SEAT_TYPE) if name in schema and schema[name] != pl.Null]
    on_values = {(name, reason) for name in keys for reason, _, _ in TEXT_RULES}
    counted = {
        name: count(reason, expr)
        for name, (field_name, reason), expr in zip(names, checks, checks.values(), strict=True)
        if (field_name, reason) not in on_values
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
    distinct = [
        pl.col(name).cast(pl.String).drop_nulls().unique().sort().implode().alias(name) for name in keys
    ]
    counts = events.select(
        *ranges, *distinct, *(expr.alias(name) for name, expr in counted.items())
    ).collect()
    key_values = {name: counts.get_column(name).explode().rename(name) for name in keys}
    bad_value = any(
        pl.select(rule(pl.lit(values))).to_series().any()
        for values in key_values.values()
        for _, rule, _ in TEXT_RULES
        if values.len()
    )
    if bad_value or any(counts.select(list(counted)).row(0)):
        recount = events.select(
            (count(reason, expr) if received_duplicates is not None else expr.sum()).alias(name)
            for name, (_, reason), expr in zip(names, checks, checks.values(), strict=True)
        ).collect()
        total_problems = int(sum(recount.row(0)))
        raise _row_error(events, checks, total_problems)

    rows, first_micros, last_micros, first_received, last_received = (
        0 if value is None else int(value) for value in counts.row(0)[:5]
    )
    span = EventRanges(rows, first_micros, last_micros, first_received, last_received, key_values)
    return canonical(events), span


def event_columns(events: pl.LazyFrame) -> pl.LazyFrame:
    """The columns an events frame is checked and billed on, read once: a lazy source
    (a Parquet scan) is read here, only those columns, and not again. Other columns are
    left out; a frame with a schema problem is returned as it is, for the check to name."""
    schema = events.collect_schema()
    if schema_problems(schema):
        return events
    wanted = (ACCOUNT, EVENT_ID, ALIAS, SEAT_TYPE, TIMESTAMP, TOTAL, RECEIVED, STORED_ID)
    return events.select([name for name in wanted if name in schema]).collect().lazy()


def canonical(events: FrameT) -> FrameT:
    """The SPEC §1 columns in canonical dtypes (text String, ``eventTimestamp`` UTC µs,
    ``total`` and ``receivedSeq`` Int64, ``customerEventId`` present); rows unchecked."""
    events = parse_text_timestamps(events)
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
    helpers = [name for name in (_TEXT, _REASON) if name in schema]
    done = events.lazy().with_columns(columns).drop(helpers)
    return done.collect(engine="in-memory") if isinstance(events, pl.DataFrame) else done


def parse_text_timestamps(events: FrameT) -> FrameT:
    """Timestamps given as text become UTC instants by the one timestamp rule
    (:func:`seatcalc.wire.with_instants`); the text and the reason it fails, if it does, ride
    along until :func:`canonical` drops them. A frame of instants is returned unchanged."""
    dtype = events.collect_schema().get(TIMESTAMP)
    if dtype not in (pl.String, pl.Null):
        return events
    events = events.with_columns(pl.col(TIMESTAMP).cast(pl.String).alias(_TEXT))
    return with_instants(events, _TEXT, instant=TIMESTAMP, reason=_REASON)


def row_problems(
    events: FrameT,
    checks: dict[tuple[str, str], pl.Expr] | None = None,
    *,
    limit: int | None = None,
) -> list[Problem]:
    """Every bad value of every bad row, in row order (the first ``limit`` rows at fault),
    found in one query."""
    events = parse_text_timestamps(events)
    checks = checks if checks is not None else _row_checks(events.collect_schema())
    flags = [expr.fill_null(False).alias(f"__bad{i}") for i, expr in enumerate(checks.values())]
    fields = sorted({field for field, _ in checks})
    names = events.collect_schema().names()
    quoted = [pl.col(TIMESTAMP).cast(pl.String)] if TIMESTAMP in names else []
    if _TEXT in names:
        quoted = [pl.col(_TEXT).alias(TIMESTAMP)]
    at_fault = pl.any_horizontal(f"__bad{i}" for i in range(len(flags)))
    bad = events.lazy().with_row_index(_ROW).with_columns(flags).filter(at_fault).sort(_ROW)
    rows = (bad.head(limit) if limit is not None else bad).collect(engine="in-memory")  # a few rows
    if _TEXT in names:
        rows = rows.with_columns(timestamp_problems(rows, _TEXT, _REASON))
    rows = rows.with_columns(quoted)  # years past 9999 cannot become Python datetimes
    problems: list[Problem] = []
    for row in rows.iter_rows(named=True):
        for i, (field, reason) in enumerate(checks):
            if row[f"__bad{i}"]:
                value = row[field] if field in fields and reason != "is null" else None
                said = row[_REASON] if reason == _PARSED_REASON else reason
                problems.append(Problem(int(row[_ROW]), field, said, value))
    return problems


def _row_error(events: pl.LazyFrame, checks: dict[tuple[str, str], pl.Expr], count: int) -> InvalidEventFrame:
    """Quote the first rows at fault, every bad field of each."""
    problems = row_problems(events, checks, limit=_SHOWN_ROWS)
    return InvalidEventFrame.from_problems(problems, what="events frame", count=count)


def eager_or_lazy(frame: FrameT, compute: Callable[[pl.LazyFrame], pl.LazyFrame]) -> FrameT:
    """Run a ``LazyFrame -> LazyFrame`` step on either kind: eager in, eager out."""
    if isinstance(frame, pl.DataFrame):
        return compute(frame.lazy()).collect()
    if isinstance(frame, pl.LazyFrame):
        return compute(frame)
    raise FrameSchemaError(
        f"expected a polars DataFrame or LazyFrame of seat events, got {type(frame).__name__}"
    )
