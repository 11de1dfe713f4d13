"""The wire models of a seat event, field for field as the public API (SPEC §1).

Python attributes are snake_case; JSON (by alias) is camelCase. ``eventTimestamp`` is an
ISO 8601 date-time *with* an offset, stored as a UTC instant with microsecond precision and
written back as ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``. Every bad input raises
:class:`~seatcalc.errors.InvalidSeatEvent` listing each bad field.
"""

from __future__ import annotations

import os
import re
import threading
import time
import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictInt,
    ValidationError,
)

from seatcalc.errors import InvalidSeatEvent, Problem

__all__ = [
    "MAX_TOTAL",
    "CreateSeatEventRequest",
    "SeatEvent",
    "format_timestamp",
    "new_event_id",
    "parse_timestamp",
]

MAX_TOTAL = 2_147_483_647
"""Largest accepted ``total`` (a signed 32-bit integer, as the public API)."""

MAX_TEXT = 256
_MIN_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)

_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?P<frac>[.,]\d+)?)?"
    r"(?P<offset>[Zz]|[+-]\d{2}:?\d{2}(?::?\d{2})?)?"
)


def parse_timestamp(value: object) -> datetime:
    """An aware ``datetime`` or ISO 8601 string → the UTC instant it names.

    Rejects naive times, bare dates, more than microsecond precision and years (in UTC)
    outside 1970–9999.

    >>> parse_timestamp("2022-10-01T02:00:00+02:00")
    datetime.datetime(2022, 10, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        match = _ISO_DATETIME.fullmatch(value.strip())
        if match is None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError("is a date only; a date-time with an offset is required")
        if match is None:
            raise ValueError("not an ISO 8601 date-time; expected e.g. '2022-10-01T00:00:00Z'")
        if match["offset"] is None:
            raise ValueError("has no UTC offset; add 'Z' or '+hh:mm' to say which instant it is")
        frac = (match["frac"] or ".")[1:]
        if len(frac) > 6 and frac[6:].strip("0"):
            raise ValueError("has more precision than microseconds")
        text = value.strip()
        if len(frac) > 6:
            text = text.replace(match["frac"], match["frac"][:7], 1)
        moment = datetime.fromisoformat(text)
    else:
        raise ValueError("must be an ISO 8601 date-time string with an offset")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("is a naive date-time; add 'Z' or '+hh:mm' to say which instant it is")
    try:
        instant = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the years 1970–9999") from None
    if instant < _MIN_INSTANT:
        raise ValueError("is outside the years 1970–9999 (in UTC)")
    return instant


def format_timestamp(instant: datetime) -> str:
    """A UTC instant as ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``.

    >>> format_timestamp(datetime(2022, 10, 1, tzinfo=UTC))
    '2022-10-01T00:00:00Z'
    """
    instant = instant.astimezone(UTC)
    text = instant.strftime("%Y-%m-%dT%H:%M:%S")
    if instant.microsecond:
        text += f".{instant.microsecond:06d}"
    return text + "Z"


def _check_text(value: object) -> object:
    """1–256 characters, no control characters (Unicode category Cc)."""
    if isinstance(value, str):
        if not value:
            raise ValueError("must not be empty")
        if len(value) > MAX_TEXT:
            raise ValueError(f"is {len(value)} characters long; at most {MAX_TEXT} are allowed")
        for char in value:
            if unicodedata.category(char) == "Cc":
                raise ValueError(f"contains the control character {char!r}")
    return value


Text = Annotated[str, Field(strict=True), BeforeValidator(_check_text)]
Timestamp = Annotated[
    datetime,
    BeforeValidator(parse_timestamp),
    PlainSerializer(format_timestamp, return_type=str),
]
Total = Annotated[StrictInt, Field(ge=0, le=MAX_TOTAL)]


class _UUIDv7Source:
    """Time-ordered UUIDv7 strings: 48-bit Unix milliseconds, then a 12-bit counter that
    keeps ids of one millisecond in creation order within a process, then random bits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def __call__(self) -> str:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            if ms > self._last_ms:
                self._last_ms, self._counter = ms, int.from_bytes(os.urandom(2)) & 0x3FF
            else:
                self._counter += 1
                if self._counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                    self._last_ms, self._counter = self._last_ms + 1, 0
            ms = self._last_ms
            counter = self._counter
        rand_b = int.from_bytes(os.urandom(8)) & ((1 << 62) - 1)
        value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand_b
        return str(uuid.UUID(int=value))


new_event_id = _UUIDv7Source()
"""Return a fresh UUIDv7 string (time-ordered within a process)."""


def _problems(error: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    for item in error.errors():
        cause = item.get("ctx", {}).get("error")
        if isinstance(cause, InvalidSeatEvent):  # raised by __init__ under model_validate
            problems.extend(cause.problems)
            continue
        field = ".".join(str(part) for part in item["loc"]) or "(body)"
        reason = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            reason = "is not a field of a seat event (unknown fields are rejected)"
        value = None if item["type"] == "missing" else item.get("input")
        problems.append(Problem(row=None, field=field, reason=reason, value=value))
    return problems


class _WireModel(BaseModel):
    """Strict, frozen, camelCase on the wire; pydantic errors become InvalidSeatEvent."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
    )

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise InvalidSeatEvent.from_problems(_problems(error)) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as error:
            raise InvalidSeatEvent.from_problems(_problems(error)) from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except ValidationError as error:
            raise InvalidSeatEvent.from_problems(_problems(error)) from None

    def to_json(self) -> str:
        """The wire JSON (camelCase, ``Z`` timestamps)."""
        return self.model_dump_json(by_alias=True)


class CreateSeatEventRequest(_WireModel):
    """The body of "create a seat event": at ``event_timestamp``, ``customer_alias`` holds
    ``total`` seats of ``seat_type`` (an absolute balance, not a delta).

    A missing (or null) ``customerEventId`` gets a generated UUID, so every stored event
    can be superseded later by re-sending its id.

    >>> request = CreateSeatEventRequest.model_validate(
    ...     {"customerEventId": "e-1", "customerAlias": "acme", "seatType": "admin",
    ...      "eventTimestamp": "2022-10-01T00:00:00Z", "total": 1})
    >>> request.to_json()
    '{"customerEventId":"e-1","customerAlias":"acme","seatType":"admin","eventTimestamp":"2022-10-01T00:00:00Z","total":1}'
    """

    customer_event_id: Annotated[Text, BeforeValidator(lambda v: str(uuid.uuid4()) if v is None else v)] = (
        Field(alias="customerEventId", default_factory=lambda: str(uuid.uuid4()))
    )
    customer_alias: Text = Field(alias="customerAlias")
    seat_type: Text = Field(alias="seatType")
    event_timestamp: Timestamp = Field(alias="eventTimestamp")
    total: Total


class SeatEvent(_WireModel):
    """A stored seat event (the 201 and GET body): the request plus the ``id`` the ledger
    assigned (a time-ordered UUIDv7) and the owning ``sequenceAccountId``."""

    id: Text
    customer_event_id: Text = Field(alias="customerEventId")
    customer_alias: Text = Field(alias="customerAlias")
    seat_type: Text = Field(alias="seatType")
    sequence_account_id: Text = Field(alias="sequenceAccountId")
    event_timestamp: Timestamp = Field(alias="eventTimestamp")
    total: Total

    @classmethod
    def from_request(cls, request: CreateSeatEventRequest, *, event_id: str, account_id: str) -> SeatEvent:
        """The stored form of ``request`` under ``event_id`` in ``account_id``."""
        return cls.model_construct(
            id=event_id,
            customer_event_id=request.customer_event_id,
            customer_alias=request.customer_alias,
            seat_type=request.seat_type,
            sequence_account_id=account_id,
            event_timestamp=request.event_timestamp,
            total=request.total,
        )
