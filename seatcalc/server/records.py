"""API keys and idempotency records, kept in the ledger's own SQLite file.

Tables ``api_keys`` and ``idempotency_records`` sit beside the ledger's tables (the ledger
is set up first, so the file is always a ledger). A key's secret is stored only as a
PBKDF2-HMAC-SHA256 hash with its own salt and compared in constant time.

An idempotency record holds the response of the first successful write made with a key
(per account): it is inserted by the ledger's after-write hook, inside the transaction that
stores the events, so an acknowledged write always has its record and a record always has
its events, even if the process is killed between the two.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seatcalc.ledger import SeatLedger
from seatcalc.ledger.errors import translating
from seatcalc.ledger.store import AFTER_WRITE, file_uri

__all__ = ["ApiKey", "IdempotencyRace", "NewKey", "Records", "StoredResponse", "fingerprint"]

_ITERATIONS = 120_000
_DDL = (
    """CREATE TABLE IF NOT EXISTS api_keys (
        clientId TEXT PRIMARY KEY,
        accountId TEXT NOT NULL,
        salt BLOB NOT NULL,
        secretHash BLOB NOT NULL,
        iterations INTEGER NOT NULL,
        createdAt INTEGER NOT NULL,
        revokedAt INTEGER
    )""",
    """CREATE TABLE IF NOT EXISTS idempotency_records (
        accountId TEXT NOT NULL,
        idempotencyKey TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        status INTEGER NOT NULL,
        body BLOB NOT NULL,
        location TEXT,
        createdAt INTEGER NOT NULL,
        PRIMARY KEY (accountId, idempotencyKey)
    )""",
)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key (never its secret)."""

    client_id: str
    account_id: str
    created_at: int
    revoked_at: int | None


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just created: the secret is shown once and never stored."""

    client_id: str
    client_secret: str
    account_id: str


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first response to a write made with an idempotency key."""

    fingerprint: str
    status: int
    body: bytes
    location: str | None


class IdempotencyRace(Exception):
    """Another process stored a record for the key first; the write is rolled back."""


def _hash(secret: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations)


class Records:
    """Keys and idempotency records of one ledger file (one connection, shared by threads)."""

    def __init__(self, path: Path, *, busy_timeout: float = 30.0, create_missing: bool = True) -> None:
        # opening a ledger sets the file up (or refuses a foreign one) before our tables go in
        SeatLedger.open(
            path, account_id="-", busy_timeout=busy_timeout, create_missing=create_missing
        ).close()
        self.path = path
        self._busy = busy_timeout
        self._lock = threading.RLock()
        self._verified: dict[str, tuple[bytes, bytes]] = {}  # clientId → (stored hash, sha256(secret))
        with translating(path, busy_timeout):
            self._conn = sqlite3.connect(  # the ledger's file name, never read as a URI
                file_uri(path, create_missing=False),
                timeout=busy_timeout,
                isolation_level=None,
                check_same_thread=False,
                uri=True,
            )
            self._conn.execute("PRAGMA synchronous = FULL")
            with self._write() as conn:
                for statement in _DDL:
                    conn.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, translating(self.path, self._busy):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock, translating(self.path, self._busy):
            return list(self._conn.execute(sql, params).fetchall())

    # -- API keys ----------------------------------------------------------------------------

    def create_key(self, account_id: str) -> NewKey:
        """A new key of ``account_id``; its secret is returned once and stored as a hash."""
        SeatLedger.open(None, account_id=account_id).close()  # the ledger's rule for account ids
        client_id = "sk_" + secrets.token_hex(12)
        secret = secrets.token_urlsafe(32)
        salt = os.urandom(16)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO api_keys (clientId, accountId, salt, secretHash, iterations, createdAt) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    client_id,
                    account_id,
                    salt,
                    _hash(secret, salt, _ITERATIONS),
                    _ITERATIONS,
                    int(time.time()),
                ),
            )
        return NewKey(client_id, secret, account_id)

    def keys(self) -> list[ApiKey]:
        """Every key, oldest first."""
        rows = self._read("SELECT clientId, accountId, createdAt, revokedAt FROM api_keys ORDER BY rowid")
        return [ApiKey(str(r[0]), str(r[1]), int(r[2]), None if r[3] is None else int(r[3])) for r in rows]

    def revoke(self, client_id: str) -> bool:
        """Revoke ``client_id``; False if no such live key."""
        with self._write() as conn:
            done = conn.execute(
                "UPDATE api_keys SET revokedAt = ? WHERE clientId = ? AND revokedAt IS NULL",
                (int(time.time()), client_id),
            ).rowcount
        return bool(done)

    def authenticate(self, client_id: str, secret: str) -> str | None:
        """The account of a live key whose secret matches, else ``None`` (constant-time compare)."""
        rows = self._read(
            "SELECT accountId, salt, secretHash, iterations FROM api_keys "
            "WHERE clientId = ? AND revokedAt IS NULL",
            (client_id,),
        )
        if not rows:
            _hash(secret, b"no such key", _ITERATIONS)  # the same work whether or not the id exists
            return None
        account, salt, stored, iterations = (
            str(rows[0][0]),
            bytes(rows[0][1]),
            bytes(rows[0][2]),
            int(rows[0][3]),
        )
        quick = hashlib.sha256(secret.encode()).digest()
        seen = self._verified.get(client_id)
        if seen is not None and hmac.compare_digest(seen[0], stored) and hmac.compare_digest(seen[1], quick):
            return account
        if not hmac.compare_digest(_hash(secret, salt, iterations), stored):
            return None
        self._verified[client_id] = (stored, quick)
        return account

    # -- idempotency -------------------------------------------------------------------------

    def recorded(self, account_id: str, key: str) -> StoredResponse | None:
        rows = self._read(
            "SELECT fingerprint, status, body, location FROM idempotency_records "
            "WHERE accountId = ? AND idempotencyKey = ?",
            (account_id, key),
        )
        if not rows:
            return None
        fingerprint, status, body, location = rows[0]
        return StoredResponse(str(fingerprint), int(status), bytes(body), location)

    def record(self, account_id: str, key: str, response: StoredResponse) -> None:
        """Store a response that wrote nothing (the write itself is recorded by :meth:`writing`)."""
        with self._write() as conn:
            _insert(conn, account_id, key, response)

    @contextlib.contextmanager
    def writing(
        self,
        account_id: str,
        key: str | None,
        respond: Callable[[sqlite3.Connection, int, int, int], StoredResponse],
    ) -> Iterator[list[StoredResponse]]:
        """Around a ledger write: ``respond(conn, accountKey, firstSeq, lastSeq)`` builds the
        response inside the write transaction, where it is also recorded under ``key``.

        Yields a list that holds the response once the write committed. Raises
        :class:`IdempotencyRace` (write rolled back) when a record for ``key`` appeared meanwhile.
        """
        made: list[StoredResponse] = []

        def hook(conn: sqlite3.Connection, account_key: int, first: int, last: int) -> None:
            response = respond(conn, account_key, first, last)
            if key is not None:
                found = conn.execute(
                    "SELECT 1 FROM idempotency_records WHERE accountId = ? AND idempotencyKey = ?",
                    (account_id, key),
                ).fetchone()
                if found is not None:
                    raise IdempotencyRace(key)
                _insert(conn, account_id, key, response)
            made.append(response)

        token = AFTER_WRITE.set(hook)
        try:
            yield made
        finally:
            AFTER_WRITE.reset(token)


def _insert(conn: sqlite3.Connection, account_id: str, key: str, response: StoredResponse) -> None:
    conn.execute(
        "INSERT INTO idempotency_records (accountId, idempotencyKey, fingerprint, status, body, location, "
        "createdAt) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            account_id,
            key,
            response.fingerprint,
            response.status,
            response.body,
            response.location,
            int(time.time()),
        ),
    )


def fingerprint(method: str, path: str, query: str, payload: Any) -> str:
    """What makes two requests "the same" for an idempotency key: method, path, query and
    the parsed body (key order and whitespace aside)."""
    canonical = json.dumps([method, path, query, payload], sort_keys=True, separators=(",", ":"), default=str)
    return base64.b64encode(hashlib.sha256(canonical.encode()).digest()).decode()
