"""The input rules of a seat event, each written once (SPEC §1).

Every path — the wire models, frames, files, the ledger, the HTTP server — reads its input
through this module, so one value gets one verdict everywhere:

- **JSON text** (:func:`loads_json`): one JSON value; duplicate keys in an object, lone
  surrogates, ``NaN``/``Infinity``, nesting deeper than 64 levels and numbers longer than
  40 characters are errors. Numbers with a fraction or exponent become ``Decimal``.
- **Records** (:func:`record_columns`): each record is a JSON object whose fields are the
  request's (plus ``id`` and ``sequenceAccountId`` where a stored event is accepted);
  text fields are JSON strings, ``total`` a JSON integer (not a bool, not a float), an
  ``eventTimestamp`` an RFC 3339 string (or, from Python, an aware ``datetime``).
- **Text** (:data:`TEXT_RULES`): 1–256 characters, no control character (Unicode Cc).
- **Timestamps** (:func:`with_instants`): exactly
  ``YYYY-MM-DDTHH:MM:SS[.f]`` then ``Z`` or ``±hh:mm``, ``T`` and ``Z`` in either case,
  1–6 fractional digits (never truncated), seconds 00–59 (no leap second), offset hours
  ≤ 23 and minutes ≤ 59, the instant within ``1970-01-01T00:00:00Z`` …
  ``9999-12-31T23:59:59.999999Z``. Digits are ASCII digits.
- **Totals** (:data:`TOTAL_RULES`): ``0 ≤ total ≤ 2_147_483_647``.

Each rule is written here once, as data: a regular expression or a comparison, with its
reason. A frame (a file, a batch, ten million rows) is checked by the polars half of each
rule, vectorised; a single request by the Python half on its values
(:func:`check_record`, :func:`parse_timestamp`), since a polars query per request would
cost milliseconds. ``tests/test_wire_paths.py`` feeds the same fuzzed values to both and
asserts one verdict, one instant and one reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import polars as pl

from seatcalc.errors import InvalidArgument, InvalidJson, InvalidSeatEvent, Problem, shown

__all__ = [
    "FIRST_MICROS",
    "INSTANT_RANGE",
    "MAX_JSON_DEPTH",
    "MAX_TEXT",
    "MAX_TOTAL",
    "REQUEST_FIELDS",
    "SPAN_MICROS",
    "STORED_FIELDS",
    "TEXT_RULES",
    "TOTAL_RULES",
    "check_record",
    "check_text",
    "format_timestamp",
    "instant_argument",
    "instant_reason",
    "is_valid_unicode",
    "loads_json",
    "parse_timestamp",
    "record_columns",
    "text_problem",
    "timestamp_problems",
    "with_instants",
]

MAX_TEXT = 256
"""Longest accepted text field, in characters."""
MAX_TOTAL = 2_147_483_647
"""Largest accepted ``total`` (a signed 32-bit integer, as the public API)."""
FIRST_MICROS = 0
"""``1970-01-01T00:00:00Z`` in microseconds since the epoch: the first accepted instant."""
SPAN_MICROS = 253_402_300_800_000_000
"""``10000-01-01T00:00:00Z`` in microseconds since the epoch: the first instant refused."""
INSTANT_RANGE = "is outside 1970-01-01T00:00:00Z … 9999-12-31T23:59:59.999999Z (in UTC)"
MAX_JSON_DEPTH = 64
_MAX_NUMBER_CHARS = 40

_CONTROL_CHARACTERS = [chr(code) for code in (*range(0x20), *range(0x7F, 0xA0))]  # Unicode category Cc
_CONTROL_CHARACTER = re.compile("[" + re.escape("".join(_CONTROL_CHARACTERS)) + "]")

Rule = tuple[str, Callable[[pl.Expr], pl.Expr], Callable[[Any], bool]]
"""(reason, the test on a polars column, the same test on one Python value): true on a bad
value. A frame is checked by the first, a single request by the second; both are written
here side by side, and ``tests/test_wire_paths.py`` fuzzes them against each other."""

TEXT_RULES: tuple[Rule, ...] = (
    ("is empty", lambda text: text.str.len_bytes() == 0, lambda text: not text),
    (
        f"is longer than {MAX_TEXT} characters",
        lambda text: text.str.len_chars() > MAX_TEXT,
        lambda text: len(text) > MAX_TEXT,
    ),
    (
        "contains a control character",
        lambda text: text.str.contains_any(_CONTROL_CHARACTERS),
        lambda text: _CONTROL_CHARACTER.search(text) is not None,
    ),
)
"""The rules of every text field (1–256 characters, no control character)."""

TOTAL_RULES: tuple[Rule, ...] = (
    ("is negative", lambda total: total < 0, lambda total: total < 0),
    (f"is above {MAX_TOTAL}", lambda total: total > MAX_TOTAL, lambda total: total > MAX_TOTAL),
)
"""The rules of ``total`` (0 ≤ total ≤ 2_147_483_647)."""


# -- JSON ------------------------------------------------------------------------------------


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidJson(f"the key {key!r} appears twice in one object; each field is given once")
        result[key] = value
    return result


def _number(text: str) -> int:
    if len(text) > _MAX_NUMBER_CHARS:
        raise InvalidJson(f"a number of {len(text)} digits is too long (at most {_MAX_NUMBER_CHARS})")
    return int(text)


def _fraction(text: str) -> Decimal:
    if len(text) > _MAX_NUMBER_CHARS:
        raise InvalidJson(f"a number of {len(text)} characters is too long (at most {_MAX_NUMBER_CHARS})")
    return Decimal(text)


def _constant(name: str) -> Any:
    raise InvalidJson(f"{name} is not a JSON number")


def _check_depth_and_text(value: Any) -> None:
    """Nesting depth ≤ :data:`MAX_JSON_DEPTH`; every string valid Unicode (no lone surrogate)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_unicode(item)
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise InvalidJson(f"nesting is deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_unicode(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def is_valid_unicode(text: str) -> bool:
    """Whether ``text`` holds no lone surrogate (so it can be written as UTF-8)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_SURROGATE = "holds a lone surrogate, which is not valid Unicode"


def _check_unicode(text: str) -> None:
    if not is_valid_unicode(text):
        raise InvalidJson(f"the text {text!r} {_SURROGATE}")


def loads_json(data: str | bytes | bytearray) -> Any:
    """Parse one JSON value by the wire rules (see the module docstring).

    Raises:
        InvalidJson: not UTF-8, not JSON, or breaking one of the rules; the message says
            which and where.

    >>> loads_json('{"total": 2, "price": 1.10}')
    {'total': 2, 'price': Decimal('1.10')}
    >>> loads_json('{"a": 1, "a": 2}')
    Traceback (most recent call last):
    ...
    seatcalc.errors.InvalidJson: the key 'a' appears twice in one object; each field is given once
    """
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidJson(
                f"is not UTF-8 text (byte {error.start}: {data[error.start : error.start + 1]!r})"
            ) from None
    elif isinstance(data, str):
        text = data
    else:
        raise InvalidJson(f"JSON text must be str or bytes, not {type(data).__name__}")
    text = text.removeprefix("\ufeff")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_number,
            parse_float=_fraction,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as error:
        raise InvalidJson(f"is not JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except RecursionError:
        raise InvalidJson(f"nesting is deeper than {MAX_JSON_DEPTH} levels") from None
    _check_depth_and_text(value)
    return value


# -- timestamps ------------------------------------------------------------------------------

_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = "[0-9]{2}:[0-9]{2}:[0-9]{2}"
_RFC3339 = (
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
"""The timestamp grammar, fields in range, on the text with ``t``/``z`` made upper case."""
_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%#z"
_NOT_RFC3339 = (
    "is not an RFC 3339 date-time: expected YYYY-MM-DDTHH:MM:SS[.ffffff] then 'Z' or '±hh:mm', "
    "e.g. '2022-10-01T00:00:00Z'"
)
_SHAPED = rf"^{_DATE}[Tt]{_TIME}(?:\.[0-9]{{1,6}})?(?:[Zz]|[+-][0-9]{{2}}:[0-9]{{2}})$"
_REASONS: tuple[tuple[str, str], ...] = (
    (rf"^{_DATE}$", "is a date only; a date-time with an offset is required, e.g. '2022-10-01T00:00:00Z'"),
    (r"^(?:[+-]|[0-9]{5})", "has a signed or 5-digit year; the year is exactly 4 digits"),
    (
        rf"^{_DATE}[Tt ][0-9]{{2}}:[0-9]{{2}}(?::[0-9]{{2}}(?:[.,][0-9]+)?)?$",
        "has no UTC offset; add 'Z' or '+hh:mm' to say which instant it is",
    ),
    (
        rf"^{_DATE}[Tt]{_TIME}\.[0-9]{{7,}}",
        "has more than 6 fractional digits; instants are kept to the microsecond and never truncated",
    ),
    (
        rf"^{_DATE}[Tt]{_TIME}(?:\.[0-9]+)?[+-](?:[0-9]{{1,2}}|[0-9]{{4}}|[0-9]{{2}}:[0-9]{{2}}:.*)$",
        "has an offset that is not written ±hh:mm (hours and minutes, with a colon)",
    ),
    (rf"^{_DATE}[Tt][0-9]{{2}}:[0-9]{{2}}:60", "is a leap second (:60); seconds run from 00 to 59"),
    (r"(?:[+-](?:2[4-9]|[3-9][0-9]):[0-9]{2}|[+-][0-9]{2}:[6-9][0-9])$", "has an offset outside ±23:59"),
    (
        _SHAPED,
        "names a date or time that does not exist (month 01–12, day within the month, hour 00–23, "
        "minute and second 00–59)",
    ),
)
"""Why a text is not a valid timestamp: the first pattern it matches, else ``_NOT_RFC3339``."""


def _python_pattern(pattern: str) -> re.Pattern[str]:
    """A pattern of the polars (Rust) dialect for Python's ``re``: ``$`` is the very end."""
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


_GRAMMAR = _python_pattern(_RFC3339)
_PYTHON_REASONS = tuple((_python_pattern(pattern), reason) for pattern, reason in _REASONS)


def _timestamp_verdict(text: str) -> tuple[datetime | None, str | None]:
    """The timestamp rule on one text, by the same grammar, reasons and range as
    :func:`with_instants`: ``(instant, None)`` or ``(None, reason)``."""
    upper = text.upper()
    instant: datetime | None = None
    if _GRAMMAR.match(upper):
        if upper.startswith("0000"):  # Python has no year 0; a real date there is out of range
            try:
                datetime.fromisoformat("2000" + upper[4:])
            except ValueError:
                pass
            else:
                return None, INSTANT_RANGE
        try:
            instant = datetime.fromisoformat(upper).astimezone(UTC)
        except ValueError:
            instant = None
        except OverflowError:
            return None, INSTANT_RANGE
    if instant is None:
        return None, next(
            (reason for pattern, reason in _PYTHON_REASONS if pattern.search(text)), _NOT_RFC3339
        )
    micros = (instant - _EPOCH) // _MICROSECOND
    if not FIRST_MICROS <= micros < SPAN_MICROS:
        return None, INSTANT_RANGE
    return instant, None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def instant_reason(micros: pl.Expr) -> pl.Expr:
    """The range rule on an instant (µs since the epoch): :data:`INSTANT_RANGE` or null."""
    return pl.when((micros < FIRST_MICROS) | (micros >= SPAN_MICROS)).then(pl.lit(INSTANT_RANGE))


FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def with_instants(frame: FrameT, column: str, *, instant: str, reason: str) -> FrameT:
    """The timestamp rule, vectorised: add ``instant`` and ``reason`` for a String column.

    ``instant`` is the UTC instant (``Datetime("us", "UTC")``) where the text is valid,
    else null; ``reason`` is null where the text is valid (or null), else why not. A text
    that fails the grammar gets a generic reason here; :func:`timestamp_problems` tells
    those few apart (a date only, no offset, a leap second, …). A DataFrame is computed in
    one in-memory query.
    """
    upper = pl.col(column).str.to_uppercase()
    parsed = pl.when(upper.str.contains(_RFC3339)).then(
        upper.str.to_datetime(_FORMAT, time_zone="UTC", time_unit="us", strict=False)
    )
    why = (
        pl.when(pl.col(column).is_null())
        .then(pl.lit(None, pl.String))
        .when(pl.col(instant).is_null())
        .then(pl.lit(_NOT_RFC3339))
        .otherwise(instant_reason(pl.col(instant).dt.epoch("us")))
    )
    checked = (
        frame.lazy()
        .with_columns(parsed.alias(instant))
        .with_columns(why.alias(reason))
        .with_columns(pl.when(pl.col(reason).is_null()).then(pl.col(instant)).alias(instant))
    )
    # a frame in hand (a request, a file) is checked by the in-memory engine: no start-up cost
    return checked.collect(engine="in-memory") if isinstance(frame, pl.DataFrame) else checked


def timestamp_problems(frame: pl.DataFrame, column: str, reason: str) -> pl.Series:
    """``frame[reason]`` (from :func:`with_instants`) with each generic reason made precise."""
    generic = frame[reason] == _NOT_RFC3339
    if not generic.any():
        return frame[reason]
    why = pl.lit(_NOT_RFC3339)
    for pattern, text in reversed(_REASONS):
        why = pl.when(pl.col(column).str.contains(pattern)).then(pl.lit(text)).otherwise(why)
    precise = frame.filter(generic).select(why.alias(reason))[reason]
    return frame[reason].scatter(generic.arg_true(), precise)


def parse_timestamp(value: object) -> datetime:
    """An RFC 3339 string or an aware ``datetime`` → the UTC instant it names.

    Raises:
        InvalidSeatEvent: the value breaks the timestamp rule; the message says how.

    >>> parse_timestamp("2022-10-01T02:00:00+02:00")
    datetime.datetime(2022, 10, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    text, reason = _timestamp_text(value)
    if text is None:
        raise InvalidSeatEvent(reason)
    instant, why = _timestamp_verdict(text)
    if instant is None:
        raise InvalidSeatEvent(str(why))
    return instant


def format_timestamp(instant: datetime) -> str:
    """A UTC instant in the wire form ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``.

    >>> format_timestamp(datetime(2022, 10, 1, tzinfo=UTC))
    '2022-10-01T00:00:00Z'
    """
    instant = instant.astimezone(UTC)
    text = instant.strftime("%Y-%m-%dT%H:%M:%S")
    if instant.microsecond:
        text += f".{instant.microsecond:06d}"
    return text + "Z"


def instant_argument(name: str, value: object, error: type[InvalidArgument] = InvalidArgument) -> datetime:
    """An instant given as a function argument (``at=``, a list filter): an RFC 3339 string
    or an aware ``datetime``, by the timestamp rule, as a UTC instant; otherwise ``error``
    naming the argument (``at='2025-01-01': is a date only; …``)."""
    try:
        return parse_timestamp(value)
    except InvalidSeatEvent as problem:
        raise error.for_value(name, value, str(problem)) from None


def _timestamp_text(value: object) -> tuple[str | None, str]:
    """The text the timestamp rule reads: a string as it is, an aware ``datetime`` as its
    UTC instant in the wire form; ``(None, reason)`` for anything else."""
    if isinstance(value, str):
        return (value, "") if is_valid_unicode(value) else (None, _SURROGATE)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return None, "is a naive datetime; give it a time zone (e.g. tzinfo=UTC)"
        try:
            instant = value.astimezone(UTC)
        except OverflowError:
            return None, INSTANT_RANGE
        return format_timestamp(instant), ""
    return None, f"must be an RFC 3339 date-time string (or an aware datetime), not {type(value).__name__}"


def check_text(value: object) -> str:
    """The text rule on one value; returns it unchanged.

    Raises:
        InvalidSeatEvent: not a string, not valid Unicode, empty, too long or holding a
            control character.
    """
    reason = text_problem(value)
    if reason is not None:
        raise InvalidSeatEvent(reason)
    return value  # type: ignore[return-value]


def text_problem(value: object) -> str | None:
    """Why ``value`` breaks the text rule, or ``None``."""
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if not is_valid_unicode(value):
        return _SURROGATE
    return next((reason for reason, _, bad in TEXT_RULES if bad(value)), None)


# -- records ---------------------------------------------------------------------------------

REQUEST_FIELDS = ("customerEventId", "customerAlias", "seatType", "eventTimestamp", "total")
STORED_FIELDS = ("id", "sequenceAccountId")
_INTEGER_FIELDS = ("total", "receivedSeq")


def record_columns(
    records: Iterable[object], *, fields: tuple[str, ...] = REQUEST_FIELDS
) -> tuple[pl.DataFrame, list[Problem]]:
    """Wire records → one String column per text field and ``eventTimestamp`` (the text
    the timestamp rule reads) and an Int64 ``total``, with a problem for every value of a
    wrong JSON type, every unknown field and every record that is not an object.

    A value of the wrong type becomes null in its column (and is reported here, not again
    as missing). Request models are read through their wire JSON.
    """
    columns: dict[str, list[Any]] = {name: [] for name in fields}
    problems: list[Problem] = []
    seen: set[str] = set(REQUEST_FIELDS)
    for index, record in enumerate(records):
        for name, value in _record_values(index, record, fields, problems, seen).items():
            columns[name].append(value)
    frame = pl.DataFrame(
        {
            name: pl.Series(values, dtype=pl.Int64 if name in _INTEGER_FIELDS else pl.String)
            for name, values in columns.items()
            if name in seen
        }
    )
    return frame, problems


def _record_values(
    index: int | None, record: object, fields: tuple[str, ...], problems: list[Problem], seen: set[str]
) -> dict[str, Any]:
    """One record's values by JSON type (the rest of the rules run on these values): a
    value of the wrong type is reported and becomes null; an unknown field is reported."""
    if hasattr(record, "model_dump"):
        record = record.model_dump(by_alias=True, mode="json")
    if not isinstance(record, Mapping):
        problems.append(Problem(index, "(row)", f"is not a JSON object but {_json_kind(record)}"))
        record = {}
    for name in record:
        if name not in fields:
            problems.append(Problem(index, _field_name(name), "is not a field of a seat event", record[name]))
        else:
            seen.add(name)
    values: dict[str, Any] = {}
    for name in fields:
        value = record.get(name)
        if name in _INTEGER_FIELDS:
            if value is not None and type(value) is not int:
                quoted = float(value) if isinstance(value, Decimal) and value.is_finite() else value
                problems.append(
                    Problem(index, name, f"must be a JSON integer, not {_json_kind(value)}", quoted)
                )
                value = None
            elif value is not None and not -(2**63) <= value < 2**63:
                limit = MAX_TOTAL if name == "total" else 2**63 - 1
                problems.append(
                    Problem(index, name, f"is {'above' if value > 0 else 'below'} {limit}", value)
                )
                value = None
        elif name == "eventTimestamp":
            if value is not None:
                text, reason = _timestamp_text(value)
                if text is None:
                    problems.append(Problem(index, name, reason, value))
                value = text
        elif value is not None:
            wrong = None if isinstance(value, str) else f"must be a string, not {_json_kind(value)}"
            if wrong is None and not is_valid_unicode(value):
                wrong = _SURROGATE
            if wrong is not None:
                problems.append(Problem(index, name, wrong, value))
                value = None
        values[name] = value
    return values


_REQUIRED_FIELDS = ("customerAlias", "eventTimestamp", "seatType", "total")


def check_record(
    record: object, *, fields: tuple[str, ...] = REQUEST_FIELDS, required: tuple[str, ...] = _REQUIRED_FIELDS
) -> tuple[dict[str, Any], list[Problem]]:
    """One wire record by the rules a batch row meets (:func:`record_columns`, then the
    text, timestamp and total rules), each evaluated on the values in Python: the values
    (``eventTimestamp`` as its UTC instant) and every problem, sorted by field.

    >>> check_record({"customerAlias": "", "seatType": "x", "eventTimestamp": "2025-01-01",
    ...     "total": -1})[1]  # doctest: +NORMALIZE_WHITESPACE
    [Problem(row=None, field='customerAlias', reason='is empty', value=''),
     Problem(row=None, field='eventTimestamp', reason="is a date only; a date-time with an offset is
     required, e.g. '2022-10-01T00:00:00Z'", value='2025-01-01'),
     Problem(row=None, field='total', reason='is negative', value=-1)]
    """
    problems: list[Problem] = []
    values = _record_values(None, record, fields, problems, set())
    explained = {p.field for p in problems}
    for name, value in values.items():
        if value is None:
            if name in required and name not in explained:
                problems.append(Problem(None, name, "is missing"))
        elif name in _INTEGER_FIELDS:
            if name == "total":
                problems += [
                    Problem(None, name, reason, value) for reason, _, bad in TOTAL_RULES if bad(value)
                ]
        elif name == "eventTimestamp":
            instant, reason = _timestamp_verdict(value)
            if reason is not None:
                problems.append(Problem(None, name, reason, value))
            values[name] = instant
        else:
            problems += [Problem(None, name, reason, value) for reason, _, bad in TEXT_RULES if bad(value)]
    problems.sort(key=lambda p: (p.field, p.reason))
    return values, problems


def _field_name(name: object) -> str:
    return name if isinstance(name, str) and name.isprintable() and len(name) <= 80 else shown(name)


def _json_kind(value: object) -> str:
    kinds = {bool: "a boolean", int: "an integer", str: "a string", list: "an array", dict: "an object"}
    if value is None:
        return "null"
    if isinstance(value, float | Decimal):
        return f"the number {value}"
    return kinds.get(type(value), f"a {type(value).__name__}")
