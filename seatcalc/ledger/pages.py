"""Listing seat events a page at a time, as the reference API's ``GET /seat-events``.

The rules:

* Events are listed in **receipt order** (``receivedSeq``, unique per account, so there are
  no ties): ``sort_order="DESC"`` (the default) gives the newest first, ``"ASC"`` the oldest.
  Every stored version is listed; superseded ones included.
* Filters combine with AND: ``customer_alias`` and ``customer_event_id`` match exactly,
  ``seat_type`` is one value or a list of up to 25 (any of them), and the time window is
  half-open like billing periods: ``event_timestamp_after <= eventTimestamp <
  event_timestamp_before``. Every argument is checked, never coerced: text filters are
  text an event can hold (1 to 256 characters, no control characters, no lone
  surrogates), instants are aware ``datetime`` objects or RFC 3339 strings with an offset,
  ``limit`` is an ``int`` from 1 to 100, ``sort_order`` exactly ``"ASC"`` or ``"DESC"``.
* Cursors are keyset positions, never offsets: a cursor names one event (it is the
  URL-safe base64 of its ``id``). ``after=c`` lists the events that follow ``c`` in the
  requested order; ``before=c`` the ``limit`` events that precede it, still shown in the
  requested order. Events inserted meanwhile by other writers get larger ``receivedSeq``
  values, so a walk never repeats or skips an event that existed when it started.
* ``pagination.after`` / ``pagination.before`` are set when, at the time of the call, at
  least one matching event lies beyond the page on that side (an empty page has neither);
  ``totalResultSize`` counts every matching event, cursors aside.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from seatcalc.events import MAX_TEXT, SeatEvent
from seatcalc.ledger.errors import InvalidLedgerArgument
from seatcalc.wire import instant_argument, text_problem

__all__ = [
    "MAX_LIMIT",
    "MAX_SEAT_TYPES",
    "ListQuery",
    "Pagination",
    "SeatEventPage",
    "check_instant",
    "check_text",
]

MAX_LIMIT = 100
MAX_SEAT_TYPES = 25
SortOrder = Literal["ASC", "DESC"]


class Pagination(BaseModel):
    """The reference API's ``PaginationMeta``: cursors to the neighbouring pages (``None``
    when nothing lies that way) and the number of matching events."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    after: str | None = None
    before: str | None = None
    total_result_size: int | None = Field(default=None, alias="totalResultSize")


class SeatEventPage(BaseModel):
    """One page of a listing: ``items`` in the requested order and ``pagination``.

    ``page.to_json()`` is the body of the reference API's list response.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    items: tuple[SeatEvent, ...]
    pagination: Pagination

    def to_json(self) -> str:
        """The wire JSON (camelCase, ``Z`` timestamps)."""
        return self.model_dump_json(by_alias=True)


def encode_cursor(event_id: str) -> str:
    """The opaque cursor naming the event ``event_id``."""
    return base64.urlsafe_b64encode(event_id.encode()).decode().rstrip("=")


def decode_cursor(name: str, cursor: object) -> str:
    """The event id inside a cursor, or :class:`InvalidLedgerArgument`."""
    if not isinstance(cursor, str) or not cursor:
        raise InvalidLedgerArgument.for_value(
            name, cursor, "a cursor is a non-empty string from pagination.after or .before"
        )
    text = cursor.strip().replace("+", "-").replace("/", "_")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        event_id = raw.decode("ascii")
    except (binascii.Error, ValueError):
        raise InvalidLedgerArgument.for_value(name, cursor, "is not a cursor this ledger issued") from None
    if not event_id.isprintable() or not 0 < len(event_id) <= 256:
        raise InvalidLedgerArgument.for_value(name, cursor, "is not a cursor this ledger issued")
    return event_id


def check_instant(name: str, value: object) -> datetime:
    """An aware ``datetime`` or an RFC 3339 string → its UTC instant, by the timestamp rule
    (:func:`seatcalc.wire.instant_argument`), or :class:`InvalidLedgerArgument` naming ``name``."""
    return instant_argument(name, value, InvalidLedgerArgument)


def check_text(name: str, value: object) -> str:
    """Text a seat event can hold, by the one text rule (:func:`seatcalc.wire.text_problem`),
    or :class:`InvalidLedgerArgument` naming ``name``."""
    reason = text_problem(value)
    if reason is None:
        return value  # type: ignore[return-value]
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        reason = f"must be a string of 1 to {MAX_TEXT} characters"
    raise InvalidLedgerArgument.for_value(name, value, reason)


def _optional_text(name: str, value: object) -> str | None:
    return None if value is None else check_text(name, value)


def _seat_types(seat_type: object) -> tuple[str, ...]:
    """``None`` → no filter; one seat type; or a list (any sequence but text) of 1 to 25."""
    if seat_type is None:
        return ()
    if isinstance(seat_type, str):
        return (check_text("seat_type", seat_type),)
    if not isinstance(seat_type, Sequence) or isinstance(seat_type, bytes | bytearray):
        raise InvalidLedgerArgument.for_value(
            "seat_type", seat_type, f"must be a seat type or a list of 1 to {MAX_SEAT_TYPES} seat types"
        )
    if not 1 <= len(seat_type) <= MAX_SEAT_TYPES:
        raise InvalidLedgerArgument.for_value(
            "seat_type", seat_type, f"give 1 to {MAX_SEAT_TYPES} seat types"
        )
    return tuple(check_text("seat_type", value) for value in seat_type)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A validated listing request (see the module's rules)."""

    customer_alias: str | None
    seat_types: tuple[str, ...]
    customer_event_id: str | None
    after_instant: datetime | None
    before_instant: datetime | None
    sort_order: SortOrder
    limit: int
    after: str | None
    before: str | None

    @classmethod
    def build(
        cls,
        *,
        customer_alias: str | None,
        seat_type: str | Sequence[str] | None,
        customer_event_id: str | None,
        event_timestamp_before: datetime | str | None,
        event_timestamp_after: datetime | str | None,
        sort_order: str,
        limit: int,
        after: str | None,
        before: str | None,
    ) -> ListQuery:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise InvalidLedgerArgument.for_value("limit", limit, f"must be an integer from 1 to {MAX_LIMIT}")
        if not isinstance(sort_order, str) or sort_order not in ("ASC", "DESC"):
            raise InvalidLedgerArgument.for_value("sort_order", sort_order, "must be 'ASC' or 'DESC'")
        if after is not None and before is not None:
            raise InvalidLedgerArgument(
                "give at most one of after= and before=: a page is read from one cursor"
            )
        return cls(
            customer_alias=_optional_text("customer_alias", customer_alias),
            seat_types=_seat_types(seat_type),
            customer_event_id=_optional_text("customer_event_id", customer_event_id),
            after_instant=None
            if event_timestamp_after is None
            else check_instant("event_timestamp_after", event_timestamp_after),
            before_instant=None
            if event_timestamp_before is None
            else check_instant("event_timestamp_before", event_timestamp_before),
            sort_order="ASC" if sort_order == "ASC" else "DESC",
            limit=limit,
            after=None if after is None else decode_cursor("after", after),
            before=None if before is None else decode_cursor("before", before),
        )
