"""Reading seat events from files and records: NDJSON, CSV, Parquet, dicts.

Every source goes through the same two steps: the wire fields become typed columns (a
timestamp string is parsed as SPEC §1 says; a JSON ``total`` must be a JSON integer), then
the frame rules of :mod:`seatcalc.frames` apply. The result is the good rows, in source
order, and a :class:`~seatcalc.errors.Problem` for every bad value of every bad row, with
its 0-based row index in the source — nothing is dropped without a word.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from seatcalc.errors import FrameSchemaError, InvalidEventFrame, Problem
from seatcalc.events import parse_timestamp
from seatcalc.frames import (
    EVENT_ID,
    EVENT_SCHEMA,
    INSTANT,
    TIMESTAMP,
    TOTAL,
    canonical,
    row_problems,
    schema_problems,
)

__all__ = ["EventSource", "load_events", "read_events"]

WIRE_FIELDS = tuple(EVENT_SCHEMA)  # the request's fields, in the wire order
EventSource = str | Path | pl.DataFrame | Iterable[Mapping[str, Any]]
_ROW = "__source_row"
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%#z"


def _typed_problems(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem]]:
    """Parse timestamp strings: vectorised for the usual form, per value for the rest
    (so each failure gets its precise reason)."""
    problems: list[Problem] = []
    if frame.schema[TIMESTAMP] == pl.String:
        raw = pl.col(TIMESTAMP)
        normalised = raw.str.strip_chars().str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T")
        frame = frame.with_columns(
            normalised.str.to_datetime(_ISO_FORMAT, time_zone="UTC", time_unit="us", strict=False).alias(
                "__parsed"
            )
        )
        slow = frame.filter(pl.col("__parsed").is_null() & raw.is_not_null())
        fixed_rows, fixed_values = [], []
        for index, text in slow.select(_ROW, TIMESTAMP).iter_rows():
            try:
                fixed_values.append(parse_timestamp(text))
                fixed_rows.append(index)
            except ValueError as error:
                problems.append(Problem(index, TIMESTAMP, str(error), text))
        if fixed_rows:
            fixes = pl.DataFrame(
                {
                    _ROW: pl.Series(fixed_rows, dtype=frame.schema[_ROW]),
                    "__fixed": pl.Series(fixed_values, dtype=INSTANT),
                }
            )
            frame = (
                frame.join(fixes, on=_ROW, how="left", maintain_order="left")
                .with_columns(pl.coalesce("__parsed", "__fixed").alias("__parsed"))
                .drop("__fixed")
            )
        frame = frame.with_columns(pl.col("__parsed").alias(TIMESTAMP)).drop("__parsed")
    if frame.schema[TOTAL] == pl.String:
        digits = pl.col(TOTAL).str.strip_chars()
        is_int = digits.str.contains(r"^[0-9]{1,10}$")
        for index, text in (
            frame.filter(~is_int & pl.col(TOTAL).is_not_null()).select(_ROW, TOTAL).iter_rows()
        ):
            problems.append(Problem(index, TOTAL, "is not a whole number", text))
        frame = frame.with_columns(pl.when(is_int).then(digits.cast(pl.Int64, strict=False)).alias(TOTAL))
    return frame, problems


def _from_records(records: Iterable[Mapping[str, Any]]) -> tuple[pl.DataFrame, list[Problem]]:
    """Wire dicts (or request models) → string/int columns, checking JSON types per value."""
    columns: dict[str, list[Any]] = {name: [] for name in WIRE_FIELDS}
    problems: list[Problem] = []
    for index, record in enumerate(records):
        if hasattr(record, "model_dump"):
            record = record.model_dump(by_alias=True, mode="json")
        if not isinstance(record, Mapping):
            problems.append(Problem(index, "(row)", "is not a JSON object", record))
            record = {}
        if "__invalid__" in record:
            problems.append(Problem(index, "(row)", record["__invalid__"]))
            record = {}
        for name in record:
            if name not in WIRE_FIELDS:
                problems.append(Problem(index, str(name), "is not a field of a seat event", record[name]))
        for name in WIRE_FIELDS:
            value = record.get(name)
            if name == TOTAL:
                if value is not None and (type(value) is not int):
                    problems.append(Problem(index, TOTAL, "must be a JSON integer", value))
                    value = None
                elif value is not None and not -(2**63) <= value < 2**63:
                    problems.append(Problem(index, TOTAL, "is above 2147483647", value))
                    value = None
            elif value is not None and not isinstance(value, str):
                problems.append(Problem(index, name, "must be a string", value))
                value = None
            columns[name].append(value)
    frame = pl.DataFrame(
        {
            **{name: pl.Series(columns[name], dtype=pl.String) for name in WIRE_FIELDS if name != TOTAL},
            TOTAL: pl.Series(columns[TOTAL], dtype=pl.Int64),
        }
    )
    return frame.select(WIRE_FIELDS), problems


def _ndjson_records(path: Path) -> Iterable[Mapping[str, Any]]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                yield {"__invalid__": f"line {number + 1} is not JSON: {error.msg}"}


def _read_path(path: Path) -> tuple[pl.DataFrame, list[Problem]]:
    suffix = path.suffix.lower()
    if suffix in (".ndjson", ".jsonl", ".json"):
        return _from_records(_ndjson_records(path))
    if suffix == ".csv":
        frame = pl.read_csv(path, infer_schema=False)
    elif suffix in (".parquet", ".pq"):
        frame = pl.read_parquet(path)
    else:
        raise InvalidEventFrame(
            f"cannot read {str(path)!r}: the file name must end in .ndjson, .jsonl, .csv or .parquet"
        )
    unknown = [name for name in frame.columns if name not in WIRE_FIELDS]
    problems = [Problem(None, name, "is not a field of a seat event") for name in unknown]
    missing = [name for name in WIRE_FIELDS if name not in frame.columns and name != EVENT_ID]
    problems += [Problem(None, name, "column is missing") for name in missing]
    if problems:
        raise InvalidEventFrame.from_problems(problems, what=f"{path.name}")
    if EVENT_ID not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(EVENT_ID))
    return frame.select(WIRE_FIELDS), []


def _first_causes(problems: list[Problem]) -> list[Problem]:
    """Drop the echoes of a problem already reported: a value that failed to parse is
    not also "null", and a line that is not JSON has no fields to complain about."""
    unreadable = {p.row for p in problems if p.field == "(row)"}
    explained = {(p.row, p.field) for p in problems if p.reason != "is null"}
    kept = {
        p
        for p in problems
        if (p.field == "(row)" or p.row not in unreadable)
        and not (p.reason == "is null" and (p.row, p.field) in explained)
    }
    named = [Problem(p.row, p.field, "is missing", None) if p.reason == "is null" else p for p in kept]
    return sorted(named, key=lambda p: (-1 if p.row is None else p.row, p.field, p.reason))


def load_events(source: EventSource) -> tuple[pl.DataFrame, list[Problem]]:
    """Read events from a file path, a frame or wire records.

    Returns ``(good, problems)``: ``good`` holds the valid rows in source order with
    canonical dtypes and a ``sourceRow`` column (0-based position in the source);
    ``problems`` has one entry per bad value of every rejected row.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise InvalidEventFrame(f"no such file: {str(path)!r}")
        frame, problems = _read_path(path)
    elif isinstance(source, pl.DataFrame):
        frame, problems = source, []
    else:
        frame, problems = _from_records(source)
    frame = frame.with_row_index(_ROW)
    if TIMESTAMP in frame.columns and TOTAL in frame.columns:
        frame, parse_problems = _typed_problems(frame)
        problems += parse_problems
    schema_errors = schema_problems(frame.schema)
    if schema_errors:
        raise FrameSchemaError.from_problems(schema_errors, frame.columns)
    problems += [
        Problem(int(frame[_ROW][p.row]) if p.row is not None else None, p.field, p.reason, p.value)
        for p in row_problems(frame.lazy())
    ]
    problems = _first_causes(problems)
    bad_rows = sorted({p.row for p in problems if p.row is not None})
    good = frame.filter(~pl.col(_ROW).is_in(bad_rows))
    good = canonical(good.lazy()).collect().rename({_ROW: "sourceRow"})  # every row checked above
    return good, problems


def read_events(source: EventSource) -> pl.DataFrame:
    """Events from a file or records, all valid, or :class:`InvalidEventFrame` naming
    every bad row (index, field, reason).

    >>> read_events([{"customerAlias": "acme", "seatType": "admin",
    ...     "eventTimestamp": "2025-01-01T00:00:00+01:00", "total": 2}])["eventTimestamp"].to_list()
    [datetime.datetime(2024, 12, 31, 23, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
    """
    good, problems = load_events(source)
    if problems:
        raise InvalidEventFrame.from_problems(problems, what="seat events")
    return good.drop("sourceRow")
