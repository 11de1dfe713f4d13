"""The exceptions seatcalc raises.

One root, :class:`SeatcalcError`; every leaf also inherits the builtin a caller would
catch anyway (``ValueError``, ``LookupError``, ``TypeError``), so ``except ValueError``
around a call keeps working. Messages name the value, the field or row, and a hint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

__all__ = [
    "FrameSchemaError",
    "InvalidArgument",
    "InvalidEventFrame",
    "InvalidJson",
    "InvalidPrice",
    "InvalidSchedule",
    "InvalidSeatEvent",
    "LedgerError",
    "Problem",
    "SeatEventNotFound",
    "SeatcalcError",
    "SeatsNotFound",
    "shown",
]

_SHOWN = 5  # offending rows quoted in a message; the count covers all of them


_QUOTED = 80  # characters of a bad value a message quotes


def shown(value: object) -> str:
    """A bad value as a message quotes it: its ``repr``, cut to 80 characters (a 5000-digit
    number is not echoed whole, and an int too long for ``str`` does not fail the message)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<an integer of about {int(value.bit_length() * 0.30103) + 1} digits>"
    try:
        text = repr(value)
    except ValueError:  # holds an int too long for str()
        return f"<a {type(value).__name__} too large to show>"
    return text if len(text) <= _QUOTED else text[: _QUOTED - 3] + "…"


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad value: where it is (row index or ``None``), which field, and why."""

    row: int | None
    field: str
    reason: str
    value: Any = None

    def __str__(self) -> str:
        where = f"row {self.row}: " if self.row is not None else ""
        quoted = "" if self.value is None else f" (got {shown(self.value)})"
        return f"{where}{self.field}: {self.reason}{quoted}"


class SeatcalcError(Exception):
    """Root of every error seatcalc raises on purpose."""


class InvalidSeatEvent(SeatcalcError, ValueError):
    """A seat event (a request, a row of a file or frame) breaks a rule of SPEC §1.

    ``problems`` lists every bad value found, not only the first.
    """

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[Problem, ...] = tuple(problems)

    @classmethod
    def from_problems(cls, problems: Sequence[Problem], *, what: str = "seat event") -> Self:
        """``"3 problems in seat events: row 0: total: …; …"``, quoting the first few."""
        return cls(_summary(problems, what), problems)


def _summary(problems: Sequence[Problem], what: str, count: int | None = None) -> str:
    """``"N problems in WHAT: p1; …; p5; and K more"``: the one way a list of problems is told.

    ``count`` is the number of problems in all when ``problems`` holds only the first few.
    """
    count = len(problems) if count is None else count
    noun = "problem" if count == 1 else "problems"
    quoted = problems[:_SHOWN]
    shown = "; ".join(str(p) for p in quoted)
    more = f"; and {count - len(quoted)} more" if count > len(quoted) else ""
    return f"{count} {noun} in {what}: {shown}{more}"


class InvalidJson(SeatcalcError, ValueError):
    """Text that is not one JSON value by the wire rules: not UTF-8, not JSON, a duplicate
    key, a lone surrogate, nesting or a number too large."""


class SeatEventNotFound(SeatcalcError, LookupError):
    """No stored seat event has this id."""

    @classmethod
    def for_id(cls, event_id: str, account_id: str) -> SeatEventNotFound:
        return cls(
            f"no seat event with id {event_id!r} in account {account_id!r}; "
            "ids are the UUIDv7 strings returned by create()"
        )


class SeatsNotFound(SeatcalcError, LookupError):
    """A customer, or a seat type of a customer, that has no seat events to explain."""


class InvalidSchedule(SeatcalcError, ValueError):
    """A billing schedule, or a request for its periods, that cannot be honoured."""


class InvalidPrice(SeatcalcError, ValueError):
    """A seat price structure that is inconsistent (tiers, currency, amounts)."""


class FrameSchemaError(SeatcalcError, TypeError):
    """An events frame lacks a column or carries one of the wrong dtype."""

    @classmethod
    def from_problems(cls, problems: Sequence[Problem], columns: Sequence[str]) -> FrameSchemaError:
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        listed = "; ".join(f"{p.field}: {p.reason}" for p in problems)
        return cls(f"{count} schema {noun} in the events frame: {listed}. Columns present: {list(columns)}")


class InvalidEventFrame(FrameSchemaError, InvalidSeatEvent):
    """An events frame whose rows break the rules: nulls, negative or oversized totals, …

    It is both a :class:`FrameSchemaError` (the frame is unusable) and an
    :class:`InvalidSeatEvent` (the rows are bad events): catch either.
    """

    @classmethod
    def from_problems(  # type: ignore[override]
        cls, problems: Sequence[Problem], *, what: str = "events frame", count: int | None = None
    ) -> Self:
        return cls(_summary(problems, what, count), problems)


class InvalidArgument(SeatcalcError, ValueError):
    """An argument of a public function outside its domain (a policy name, a rounding mode,
    a naive instant, a mistyped option), named with the value given and the values allowed."""

    @classmethod
    def for_value(cls, name: str, value: object, rule: str) -> Self:
        """``"name=value: rule"``, e.g. ``supersede_by='latest': must be 'eventTimestamp' or 'received'``."""
        return cls(f"{name}={value!r}: {rule}")


class LedgerError(SeatcalcError, OSError):
    """The store behind a ledger cannot be used (corrupt, locked too long, foreign file, a
    full disk). It is also an ``OSError``: the failure is the file's, not the caller's data."""
