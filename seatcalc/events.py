"""The wire models of a seat event, field for field as the public API (SPEC §1).

Python attributes are snake_case; JSON (by alias) is camelCase. ``eventTimestamp`` is an
ISO 8601 date-time *with* an offset, stored as a UTC instant with microsecond precision and
written back as ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``. Every bad input raises
:class:`~seatcalc.errors.InvalidSeatEvent` listing each bad field.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)

from seatcalc.errors import InvalidJson, InvalidSeatEvent, Problem
from seatcalc.wire import (
    MAX_TEXT,
    MAX_TOTAL,
    REQUEST_FIELDS,
    STORED_FIELDS,
    check_record,
    check_text,
    format_timestamp,
    loads_json,
    parse_timestamp,
)

__all__ = [
    "MAX_TEXT",
    "MAX_TOTAL",
    "CreateSeatEventRequest",
    "SeatEvent",
    "format_timestamp",
    "new_event_id",
    "parse_timestamp",
]


Text = Annotated[str, BeforeValidator(check_text)]
"""A text field by the one text rule (:data:`seatcalc.wire.TEXT_RULES`)."""
Timestamp = Annotated[datetime, PlainSerializer(lambda instant: format_timestamp(instant), return_type=str)]


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

    _wire_fields: ClassVar[tuple[str, ...]] = REQUEST_FIELDS
    _required: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _wire_rules(cls, data: Any) -> Any:
        """Every value through the rules of :mod:`seatcalc.wire` (:func:`~seatcalc.wire.check_record`)."""
        if not isinstance(data, Mapping):
            kind = "null" if data is None else type(data).__name__
            raise InvalidSeatEvent.from_problems(
                [Problem(None, "(body)", f"must be a JSON object, not {kind}")]
            )
        names = {info.alias or name: name for name, info in cls.model_fields.items()}
        by_name = {alias: alias for alias in names} | {name: alias for alias, name in names.items()}
        record = {
            by_name.get(key, key) if isinstance(key, str) else key: value for key, value in data.items()
        }
        values, problems = check_record(record, fields=cls._wire_fields)
        problems += [
            Problem(None, name, "is missing")
            for name in cls._required
            if record.get(name) is None and not any(p.field == name for p in problems)
        ]
        if problems:
            raise InvalidSeatEvent.from_problems(problems)
        return {alias: values[alias] for alias in names if values.get(alias) is not None}

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
        """Parse JSON text by the wire rules (:func:`seatcalc.wire.loads_json`), then validate."""
        try:
            data = loads_json(json_data)
        except InvalidJson as error:
            raise InvalidSeatEvent.from_problems([Problem(None, "(body)", str(error))]) from None
        return cls.model_validate(data, *args, **kwargs)

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

    customer_event_id: str = Field(alias="customerEventId", default_factory=lambda: str(uuid.uuid4()))
    customer_alias: str = Field(alias="customerAlias")
    seat_type: str = Field(alias="seatType")
    event_timestamp: Timestamp = Field(alias="eventTimestamp")
    total: int


class SeatEvent(_WireModel):
    """A stored seat event (the 201 and GET body): the request plus the ``id`` the ledger
    assigned (a time-ordered UUIDv7) and the owning ``sequenceAccountId``."""

    _wire_fields = (*REQUEST_FIELDS, *STORED_FIELDS)
    _required = ("id", "customerEventId", "sequenceAccountId")

    id: str
    customer_event_id: str = Field(alias="customerEventId")
    customer_alias: str = Field(alias="customerAlias")
    seat_type: str = Field(alias="seatType")
    sequence_account_id: str = Field(alias="sequenceAccountId")
    event_timestamp: Timestamp = Field(alias="eventTimestamp")
    total: int

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
