"""Reading seat events from files and records: NDJSON, CSV, Parquet, dicts.

Every source goes through the same two steps: the wire fields become typed columns (a
timestamp string is parsed as SPEC §1 says; a JSON ``total`` must be a JSON integer), then
the frame rules of :mod:`seatcalc.frames` apply. The result is the good rows, in source
order, and a :class:`~seatcalc.errors.Problem` for every bad value of every bad row, with
its 0-based row index in the source — nothing is dropped without a word.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import polars as pl

from seatcalc.errors import FrameSchemaError, InvalidEventFrame, InvalidJson, Problem
from seatcalc.frames import (
    ACCOUNT,
    EVENT_ID,
    RECEIVED,
    TIMESTAMP,
    TOTAL,
    canonical,
    parse_text_timestamps,
    row_problems,
    schema_problems,
)
from seatcalc.wire import REQUEST_FIELDS, STORED_FIELDS, loads_json, record_columns

__all__ = ["EVENT_FILE_FIELDS", "EventSource", "load_events", "read_events"]

EventSource = str | Path | pl.DataFrame | Iterable[Mapping[str, Any]]
EVENT_FILE_FIELDS = (*REQUEST_FIELDS, *STORED_FIELDS, RECEIVED)
"""The fields an events file may hold: a request's, and a stored event's ``id``,
``sequenceAccountId`` and ``receivedSeq`` (an export of a ledger reads back as it was)."""
_ROW = "__source_row"
_SUFFIXES = ".ndjson, .jsonl, .json, .csv or .parquet"


def _total_text(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem]]:
    """A ``total`` read as text (CSV) must be ASCII digits; it becomes Int64."""
    if frame.schema[TOTAL] != pl.String:
        return frame, []
    is_int = pl.col(TOTAL).str.contains(r"^-?[0-9]{1,10}$")
    problems = [
        Problem(index, TOTAL, "is not a whole number", text)
        for index, text in frame.filter(~is_int & pl.col(TOTAL).is_not_null()).select(_ROW, TOTAL).iter_rows()
    ]
    return frame.with_columns(
        pl.when(is_int).then(pl.col(TOTAL).cast(pl.Int64, strict=False)).alias(TOTAL)
    ), problems


def _json_records(lines: Iterator[bytes]) -> Iterator[object]:
    """One JSON object per non-blank line; a bad line becomes a marker the loader reports."""
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            yield loads_json(line)
        except InvalidJson as error:
            yield _Unreadable(f"line {number + 1} {error}")


class _Unreadable:
    """A line that is not one JSON value; its reason becomes the row's problem."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _from_records(records: Iterable[object], fields: tuple[str, ...]) -> tuple[pl.DataFrame, list[Problem]]:
    unreadable: list[Problem] = []

    def readable() -> Iterator[object]:
        for index, record in enumerate(records):
            if isinstance(record, _Unreadable):
                unreadable.append(Problem(index, "(row)", record.reason))
                yield {}
            else:
                yield record

    frame, problems = record_columns(readable(), fields=fields)
    return frame, unreadable + problems


def _read_json_file(handle: IO[bytes]) -> Iterator[object]:
    """NDJSON, or one JSON array of objects (a ``.json`` file may be either)."""
    head = handle.read(1 << 16)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        try:
            value = loads_json(head + handle.read())
        except InvalidJson as error:
            yield _Unreadable(f"the file {error}")
            return
        if not isinstance(value, list):
            yield _Unreadable("the file is not a JSON array of objects")
            return
        yield from value
        return
    rest = handle.read()
    yield from _json_records(iter((head + rest).splitlines()))


def _read_path(path: Path, fields: tuple[str, ...]) -> tuple[pl.DataFrame, list[Problem]]:
    suffix = path.suffix.lower()
    if suffix in (".ndjson", ".jsonl", ".json"):
        with path.open("rb") as handle:
            return _from_records(list(_read_json_file(handle)), fields)
    try:
        if suffix == ".csv":
            frame = pl.read_csv(path, infer_schema=False, raise_if_empty=False, encoding="utf8")
        elif suffix in (".parquet", ".pq"):
            _check_parquet_frame(path)
            frame = pl.read_parquet(path)
        else:
            raise InvalidEventFrame(f"cannot read {str(path)!r}: the file name must end in {_SUFFIXES}")
    except pl.exceptions.PolarsError as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InvalidEventFrame(f"cannot read {str(path)!r} as {suffix[1:].upper()}: {detail}") from None
    return _frame_columns(frame, path.name, fields)


def _check_parquet_frame(path: Path) -> None:
    """A Parquet file starts and ends with ``PAR1`` and holds a footer; anything else is
    refused before the reader sees it (a garbage footer can abort the process)."""
    with path.open("rb") as handle:
        head = handle.read(4)
        size = handle.seek(0, 2)
        footer_length = -1
        if size >= 12:
            handle.seek(size - 8)
            tail = handle.read(8)
            footer_length = int.from_bytes(tail[:4], "little") if tail[4:] == b"PAR1" else -1
    if head != b"PAR1" or not 0 < footer_length <= size - 12:
        raise InvalidEventFrame(f"cannot read {str(path)!r} as PARQUET: it is not a Parquet file")


def _frame_columns(
    frame: pl.DataFrame, what: str, fields: tuple[str, ...]
) -> tuple[pl.DataFrame, list[Problem]]:
    unknown = [name for name in frame.columns if name not in fields]
    problems = [Problem(None, name, "is not a field of a seat event") for name in unknown]
    missing = [name for name in REQUEST_FIELDS if name not in frame.columns and name != EVENT_ID]
    problems += [Problem(None, name, "column is missing") for name in missing]
    if problems:
        raise InvalidEventFrame.from_problems(problems, what=what)
    if EVENT_ID not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(EVENT_ID))
    return frame.select(name for name in fields if name in frame.columns), []


def _first_causes(problems: list[Problem]) -> list[Problem]:
    """Drop the echoes of a problem already reported: a value that failed to parse is
    not also "null", and a line that is not JSON has no fields to complain about."""
    unreadable = {p.row for p in problems if p.field == "(row)"}
    explained = {(p.row, p.field) for p in problems if p.reason != "is null"}
    kept: dict[tuple[int | None, str, str], Problem] = {}
    for p in problems:
        if (p.field == "(row)" or p.row not in unreadable) and not (
            p.reason == "is null" and (p.row, p.field) in explained
        ):
            named = Problem(p.row, p.field, "is missing", None) if p.reason == "is null" else p
            kept.setdefault((named.row, named.field, named.reason), named)
    return sorted(kept.values(), key=lambda p: (-1 if p.row is None else p.row, p.field, p.reason))


def load_events(
    source: EventSource, *, fields: tuple[str, ...] = EVENT_FILE_FIELDS
) -> tuple[pl.DataFrame, list[Problem]]:
    """Read events from a file path, a frame or wire records.

    Returns ``(good, problems)``: ``good`` holds the valid rows in source order with
    canonical dtypes and a ``sourceRow`` column (0-based position in the source);
    ``problems`` has one entry per bad value of every rejected row. ``fields`` are the
    fields a record or file may carry (by default a request's and a stored event's).
    """
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir():
            raise InvalidEventFrame(f"{str(path)!r} is a directory; give an events file ({_SUFFIXES})")
        if not path.is_file():
            raise InvalidEventFrame(f"no such file: {str(path)!r}")
        frame, problems = _read_path(path, fields)
    elif isinstance(source, pl.DataFrame):
        frame, problems = source, []
    elif isinstance(source, Iterable) and not isinstance(source, str | bytes | Mapping):
        frame, problems = _from_records(source, fields)
    else:
        raise InvalidEventFrame(
            f"cannot read seat events from {type(source).__name__}: give a file path, a polars "
            "DataFrame or an iterable of wire dicts"
        )
    frame = frame.with_row_index(_ROW)
    if TOTAL in frame.columns:
        frame, total_problems = _total_text(frame)
        problems += total_problems
    schema_errors = schema_problems(frame.schema)
    if schema_errors:
        raise FrameSchemaError.from_problems(schema_errors, frame.columns)
    checked = parse_text_timestamps(canonical_or_text(frame))  # eager: a file or a batch in hand
    problems += [
        Problem(int(checked[_ROW][p.row]) if p.row is not None else None, p.field, p.reason, p.value)
        for p in row_problems(checked)
    ]
    problems = _first_causes(problems)
    bad_rows = sorted({p.row for p in problems if p.row is not None})
    good = checked.filter(~pl.col(_ROW).is_in(bad_rows)) if bad_rows else checked
    good = canonical(good).rename({_ROW: "sourceRow"})  # every row checked above
    return good, problems


def canonical_or_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Text columns of a file as text: an all-null column read as Null becomes String."""
    nulls = [name for name in (EVENT_ID, ACCOUNT, "id", TIMESTAMP) if frame.schema.get(name) == pl.Null]
    return frame.with_columns(pl.col(nulls).cast(pl.String)) if nulls else frame


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
