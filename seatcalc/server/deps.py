"""Request dependencies: the ledger file, the caller's account, and reading JSON bodies."""

from __future__ import annotations

import base64
import binascii
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from seatcalc.errors import InvalidJson
from seatcalc.ledger import SeatLedger
from seatcalc.server.errors import BadRequest, NotAuthenticated, PayloadTooLarge, UnsupportedMediaType
from seatcalc.server.records import Records
from seatcalc.wire import loads_json as wire_loads_json

__all__ = ["BATCH_LIMIT", "BODY_LIMIT", "Account", "Caller", "Server", "read_json"]

BODY_LIMIT = 1 << 20
"""Largest request body: 1 MiB."""
BATCH_LIMIT = 16 << 20
"""Largest body of ``POST /seat-events/batch``: 16 MiB."""
MAX_DEPTH = 64


class Server:
    """What one process of the server holds: the keys and records, and a ledger per account."""

    def __init__(self, db: Path, *, busy_timeout: float = 30.0) -> None:
        self.db = db
        self.busy_timeout = busy_timeout
        self.records = Records(db, busy_timeout=busy_timeout)
        self._ledgers: dict[str, SeatLedger] = {}
        self._lock = threading.Lock()

    def ledger(self, account_id: str) -> SeatLedger:
        with self._lock:
            ledger = self._ledgers.get(account_id)
            if ledger is None:
                ledger = SeatLedger.open(self.db, account_id=account_id, busy_timeout=self.busy_timeout)
                self._ledgers[account_id] = ledger
            return ledger

    def close(self) -> None:
        with self._lock:
            for ledger in self._ledgers.values():
                ledger.close()
            self._ledgers.clear()
        self.records.close()


@dataclass(frozen=True, slots=True)
class Account:
    """The authenticated caller: its account and that account's ledger."""

    account_id: str
    ledger: SeatLedger
    records: Records


def _server(request: Request) -> Server:
    server: Server = request.app.state.server
    return server


def _credentials(header: str | None) -> tuple[str, str]:
    if header is None:
        raise NotAuthenticated("send Authorization: Basic base64(clientId:clientSecret)")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        raise NotAuthenticated("the Authorization header must use the Basic scheme")
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise NotAuthenticated("the Basic credentials are not base64 of clientId:clientSecret") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id or not secret:
        raise NotAuthenticated("the Basic credentials are not base64 of clientId:clientSecret")
    return client_id, secret


def caller(request: Request) -> Account:
    """The account of the request's API key, or 401."""
    client_id, secret = _credentials(request.headers.get("authorization"))
    server = _server(request)
    account_id = server.records.authenticate(client_id, secret)
    if account_id is None:
        raise NotAuthenticated("unknown client id, revoked key or wrong secret")
    return Account(account_id, server.ledger(account_id), server.records)


Caller = Annotated[Account, Depends(caller)]


def loads_json(raw: bytes) -> Any:
    """A request body by the one JSON rule of :func:`seatcalc.wire.loads_json` (UTF-8, no
    duplicate keys, no lone surrogates, no NaN, bounded nesting and numbers; fractions are
    exact ``Decimal`` values); a breach is a 400 naming the body."""
    try:
        return wire_loads_json(raw)
    except InvalidJson as error:
        raise BadRequest.at("body", str(error)) from None


async def read_json(request: Request, limit: int = BODY_LIMIT) -> Any:
    """The request's JSON body: 415 unless ``application/json``, 413 past ``limit`` bytes,
    400 for anything :func:`loads_json` refuses."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise UnsupportedMediaType(
            f"send the body as application/json, not {media or 'no Content-Type'}",
            [("header.Content-Type", "must be application/json")],
        )
    too_big = PayloadTooLarge(
        f"the body is larger than {limit:,} bytes", [("body", f"at most {limit:,} bytes")]
    )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return loads_json(b"".join(chunks))
