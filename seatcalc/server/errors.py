"""HTTP errors: each :class:`~seatcalc.errors.SeatcalcError` leaf has one status, and every
error body is ``{"error": {"type", "message", "errors": [{"location", "reason"}]}}``.

The server's own failures (credentials, media type, size, idempotency, API version) are
leaves of :class:`ApiError`, so one handler maps them all. A fault of the server itself is
a 500 whose body says nothing of its internals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seatcalc.errors import (
    FrameSchemaError,
    InvalidArgument,
    InvalidPrice,
    InvalidSchedule,
    InvalidSeatEvent,
    LedgerError,
    Problem,
    SeatcalcError,
    SeatEventNotFound,
    SeatsNotFound,
)

__all__ = [
    "API_VERSION",
    "ApiError",
    "BadRequest",
    "IdempotencyConflict",
    "NotAuthenticated",
    "PayloadTooLarge",
    "UnrecognisedApiVersion",
    "UnsupportedMediaType",
    "error_body",
    "status_of",
]

API_VERSION = "2024-07-30"
"""The one ``Sequence-Version`` this server speaks (the value assumed when it is absent)."""

Located = tuple[str, str]
"""``(location, reason)``: ``body.total``, ``query.limit``, ``header.Authorization``, …"""


class ApiError(SeatcalcError):
    """A request the HTTP layer refuses before the library sees it."""

    status = 400

    def __init__(self, message: str, errors: Sequence[Located] = ()) -> None:
        super().__init__(message)
        self.errors: tuple[Located, ...] = tuple(errors)


class BadRequest(ApiError, ValueError):
    """A malformed body, query or header (not JSON, a duplicate key, a bad parameter)."""

    kind = "BadRequest"

    @classmethod
    def at(cls, location: str, reason: str, *, kind: str = "BadRequest") -> BadRequest:
        """One bad value at ``location``; ``kind`` names the library's error when it has one."""
        error = cls(f"{location}: {reason}", [(location, reason)])
        error.kind = kind
        return error


class NotAuthenticated(ApiError, PermissionError):
    """Missing, malformed, unknown, revoked or wrong credentials."""

    status = 401


class IdempotencyConflict(ApiError, ValueError):
    """An ``Idempotency-Key`` reused with another request."""

    status = 409


class PayloadTooLarge(ApiError, ValueError):
    status = 413


class UnsupportedMediaType(ApiError, ValueError):
    status = 415


class UnrecognisedApiVersion(ApiError, ValueError):
    @classmethod
    def for_value(cls, value: str) -> UnrecognisedApiVersion:
        reason = f"{value!r} is not an API version of this server; send {API_VERSION!r} or omit the header"
        return cls(f"Sequence-Version {reason}", [("header.Sequence-Version", reason)])


_STATUS: tuple[tuple[type[SeatcalcError], int], ...] = (
    (SeatEventNotFound, 404),
    (SeatsNotFound, 404),
    (InvalidSeatEvent, 400),
    (FrameSchemaError, 400),
    (InvalidSchedule, 400),
    (InvalidPrice, 400),
    (InvalidArgument, 400),
    (LedgerError, 503),
)


def status_of(error: SeatcalcError) -> int:
    """The HTTP status of a library or server error (500 for anything unlisted)."""
    if isinstance(error, ApiError):
        return error.status
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


def _located(problem: Problem, prefix: str) -> Located:
    where = prefix if problem.row is None else f"{prefix}.items[{problem.row}]"
    return (f"{where}.{problem.field}" if problem.field != "(body)" else where, problem.reason)


def error_body(error: SeatcalcError, *, prefix: str = "body") -> dict[str, Any]:
    """The JSON error body for ``error``; a ``LedgerError`` shows no file path."""
    kind = error.kind if isinstance(error, BadRequest) else type(error).__name__
    message = str(error)
    located: list[Located] = []
    if isinstance(error, ApiError):
        located = list(error.errors)
    elif isinstance(error, InvalidSeatEvent):
        located = [_located(p, prefix) for p in error.problems]
    elif isinstance(error, LedgerError):
        kind, message = "ServiceUnavailable", "the ledger cannot take the request right now; retry later"
    elif isinstance(error, InvalidArgument) and "=" in message.split(":", 1)[0]:
        name = message.split("=", 1)[0]
        camel = name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:])
        located = [(f"query.{camel}", message.split(":", 1)[-1].strip())]
    elif status_of(error) == 400:
        located = [(prefix, message)]
    return problem_body(kind, message, located)


def problem_body(kind: str, message: str, located: Sequence[Located] = ()) -> dict[str, Any]:
    return {
        "error": {
            "type": kind,
            "message": message,
            "errors": [{"location": where, "reason": reason} for where, reason in located],
        }
    }
