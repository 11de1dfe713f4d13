"""The SQLite store behind :class:`~seatcalc.ledger.SeatLedger` (both backends).

A file path gives a durable SQLite database; ``None`` gives an SQLite database in memory,
so both backends run the same statements and behave the same by construction.

Layout (schema version 1, ``PRAGMA application_id`` = ``0x53454154``, "SEAT"):

* ``accounts`` maps each ``sequenceAccountId`` to a small integer ``accountKey``; one file
  may hold many accounts.
* ``seat_events`` holds every stored version, clustered by ``(accountKey, receivedSeq)``.
  ``receivedSeq`` is the receipt order: 1, 2, 3, … per account, assigned inside the write
  transaction, so it is strictly increasing in commit order and has no gaps. ``id`` (a
  UUIDv7) is unique; ``eventTimestamp`` is an integer of microseconds since the Unix epoch.
* ``seat_event_segments`` holds the same rows again, columnar: each segment is a Parquet
  blob of the consecutive ``receivedSeq`` range ``firstSeq..lastSeq``. Once an account has
  ``SEGMENT_MIN`` rows past its last segment, the write that crossed the line also writes
  them as segments, in the same transaction. Reading every event is then a few Parquet
  decodes plus a short SQL tail, instead of a million-row cursor.

Durability: WAL with ``synchronous=FULL``, so a commit has reached the disk (the WAL is
fsynced) before a create returns. ``NORMAL`` would survive a crash of the process but may
lose the last commits on a power cut; a billing ledger takes the fsync. Writers take the
lock up front (``BEGIN IMMEDIATE``) and wait up to ``busy_timeout`` seconds for it; readers
never block writers. One connection per store, shared by its threads under a lock.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from seatcalc.frames import ALIAS, EVENT_ID, INSTANT, RECEIVED, SEAT_TYPE, TIMESTAMP, TOTAL
from seatcalc.ledger import errors
from seatcalc.ledger.errors import InvalidLedgerArgument, translating
from seatcalc.ledger.pages import ListQuery
from seatcalc.wire import is_valid_unicode

__all__ = [
    "AFTER_WRITE",
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "SEGMENT_COLUMNS",
    "SEGMENT_SCHEMA",
    "LedgerStore",
    "Row",
    "file_uri",
    "from_micros",
    "rows_frame",
    "to_micros",
]

APPLICATION_ID = 0x53454154  # "SEAT"
SCHEMA_VERSION = 1
SEGMENT_MIN = 16_384
"""Rows past the last segment that make the next write also write segments."""
SEGMENT_MAX = 262_144
"""Most rows in one segment."""
WRITE_SLICE = 50_000
"""Rows per ``executemany`` call of a bulk write (progress is reported per slice)."""
_CACHE_KIB = 32_768
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

ID = "id"
SEGMENT_SCHEMA = pl.Schema(
    [
        (RECEIVED, pl.Int64()),
        (ID, pl.String()),
        (EVENT_ID, pl.String()),
        (ALIAS, pl.String()),
        (SEAT_TYPE, pl.String()),
        (TIMESTAMP, INSTANT),
        (TOTAL, pl.Int64()),
    ]
)
"""Columns of a segment and of :meth:`LedgerStore.events` (the ``seat_events`` columns)."""
SEGMENT_COLUMNS = tuple(SEGMENT_SCHEMA.names())
_ROW_SCHEMA = pl.Schema(
    [(name, pl.Int64() if name == TIMESTAMP else dtype) for name, dtype in SEGMENT_SCHEMA.items()]
)
_ROW = ", ".join(SEGMENT_COLUMNS)
_INSERT = f"INSERT INTO seat_events (accountKey, {_ROW}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

AFTER_WRITE: ContextVar[Callable[[sqlite3.Connection, int, int, int], None] | None] = ContextVar(
    "seatcalc_after_write", default=None
)
"""Called as ``hook(conn, accountKey, firstSeq, lastSeq)`` inside each write transaction of
this context, before its commit: tables kept beside the ledger (e.g. a server's idempotency
records) commit with the events or not at all; an exception rolls the write back."""

Row = tuple[int, str, str, str, str, int, int]
"""A stored event as SQLite gives it: the :data:`SEGMENT_COLUMNS`, timestamp in µs."""

_TABLES = ("accounts", "seat_events", "seat_event_segments")
_DDL = (
    """CREATE TABLE accounts (
        accountKey INTEGER PRIMARY KEY,
        sequenceAccountId TEXT NOT NULL UNIQUE
    )""",
    """CREATE TABLE seat_events (
        accountKey INTEGER NOT NULL REFERENCES accounts (accountKey),
        receivedSeq INTEGER NOT NULL,
        id TEXT NOT NULL,
        customerEventId TEXT NOT NULL,
        customerAlias TEXT NOT NULL,
        seatType TEXT NOT NULL,
        eventTimestamp INTEGER NOT NULL,
        total INTEGER NOT NULL,
        PRIMARY KEY (accountKey, receivedSeq)
    ) WITHOUT ROWID""",
    "CREATE UNIQUE INDEX seat_events_id ON seat_events (id)",
    """CREATE TABLE seat_event_segments (
        accountKey INTEGER NOT NULL REFERENCES accounts (accountKey),
        firstSeq INTEGER NOT NULL,
        lastSeq INTEGER NOT NULL,
        parquet BLOB NOT NULL,
        UNIQUE (accountKey, firstSeq)
    )""",
    f"PRAGMA application_id = {APPLICATION_ID}",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)


def rows_frame(rows: Sequence[Row]) -> pl.DataFrame:
    """SQLite rows → a frame of :data:`SEGMENT_SCHEMA`."""
    frame = pl.DataFrame(rows, schema=_ROW_SCHEMA, orient="row")
    return frame.with_columns(pl.col(TIMESTAMP).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"))


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=False)
    return buffer.getvalue()


class LedgerStore:
    """The rows of one account in one SQLite database (file or memory)."""

    def __init__(
        self, path: Path | None, account_id: str, *, busy_timeout: float, create_missing: bool
    ) -> None:
        _check_encodable(account_id=account_id)
        self.path = path
        self.account_id = account_id
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._key: int | None = None
        self._conn: sqlite3.Connection | None = _connect(path, busy_timeout, create_missing)

    # -- connection and transactions -------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._conn is None

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                with translating(self.path, self.busy_timeout):
                    conn.close()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise errors.closed(self.path)
            with translating(self.path, self.busy_timeout):
                yield self._conn

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        """A snapshot read (``BEGIN``) or a write that holds the lock from the start."""
        with self._connection() as conn, _atomic(conn, "BEGIN IMMEDIATE" if write else "BEGIN"):
            yield conn

    def _lookup_key(self, conn: sqlite3.Connection) -> int | None:
        if self._key is None:
            row = conn.execute(
                "SELECT accountKey FROM accounts WHERE sequenceAccountId = ?", (self.account_id,)
            ).fetchone()
            self._key = None if row is None else int(row[0])
        return self._key

    def _ensure_account(self) -> int:
        """The account's key, registering the account (its own small commit) on first write."""
        with self._connection() as conn:
            key = self._lookup_key(conn)
            if key is None:
                conn.execute(
                    "INSERT OR IGNORE INTO accounts (sequenceAccountId) VALUES (?)", (self.account_id,)
                )
                key = self._lookup_key(conn)
            if key is None:
                raise errors.corrupt(self.path, f"account {self.account_id!r} cannot be registered")
            return key

    # -- writes ------------------------------------------------------------------------------

    def append_one(
        self, event_id: str, event_key: str, alias: str, seat_type: str, micros: int, total: int
    ) -> int:
        """Store one event; returns its ``receivedSeq`` once committed."""
        _check_encodable(id=event_id, customerEventId=event_key, customerAlias=alias, seatType=seat_type)
        key = self._ensure_account()
        with self._transaction(write=True) as conn:
            seq = _next_seq(conn, key)
            conn.execute(_INSERT, (key, seq, event_id, event_key, alias, seat_type, micros, total))
            self._compact(conn, key, seq, None)
            if (hook := AFTER_WRITE.get()) is not None:
                hook(conn, key, seq, seq)
        return seq

    def append_frame(
        self, batch: pl.DataFrame, on_written: Callable[[int], None] | None = None
    ) -> pl.DataFrame:
        """Store ``batch`` (the :data:`SEGMENT_COLUMNS` but ``receivedSeq``) in one
        transaction; returns it with the ``receivedSeq`` values it got."""
        key = self._ensure_account()
        with self._transaction(write=True) as conn:
            start = _next_seq(conn, key)
            fresh = batch.select(
                pl.int_range(start, start + batch.height, dtype=pl.Int64).alias(RECEIVED),
                *SEGMENT_COLUMNS[1:],
            )
            for part in fresh.iter_slices(WRITE_SLICE):
                columns = part.select(*SEGMENT_COLUMNS[:5], pl.col(TIMESTAMP).dt.epoch("us"), TOTAL)
                conn.executemany(
                    _INSERT, zip(itertools.repeat(key), *(c.to_list() for c in columns.get_columns()))
                )
                if on_written is not None:
                    on_written(part.height)
            if fresh.height:
                self._compact(conn, key, start + fresh.height - 1, fresh)
            if (hook := AFTER_WRITE.get()) is not None:
                hook(conn, key, start, start + fresh.height - 1)
        return fresh

    def _compact(self, conn: sqlite3.Connection, key: int, last_seq: int, fresh: pl.DataFrame | None) -> None:
        """Write the rows past the last segment as segments once there are enough of them.

        ``fresh`` holds the newest rows (ending at ``last_seq``) when the caller has them
        as a frame already; older ones are read back.
        """
        covered = _covered(conn, key)
        if last_seq - covered < SEGMENT_MIN:
            return
        first_fresh = last_seq + 1 if fresh is None else int(fresh[RECEIVED][0])
        older = conn.execute(
            f"SELECT {_ROW} FROM seat_events WHERE accountKey = ? AND receivedSeq > ? "
            "AND receivedSeq < ? ORDER BY receivedSeq",
            (key, covered, first_fresh),
        ).fetchall()
        parts = [rows_frame(older)] + ([] if fresh is None else [fresh])
        tail = pl.concat(parts)
        for segment in tail.iter_slices(SEGMENT_MAX):
            first, last = int(segment[RECEIVED][0]), int(segment[RECEIVED][-1])
            conn.execute(
                "INSERT INTO seat_event_segments (accountKey, firstSeq, lastSeq, parquet) "
                "VALUES (?, ?, ?, ?)",
                (key, first, last, _parquet(segment)),
            )

    # -- reads -------------------------------------------------------------------------------

    def get(self, event_id: str) -> Row | None:
        if not is_valid_unicode(event_id):
            return None  # no stored id holds a lone surrogate
        with self._connection() as conn:
            key = self._lookup_key(conn)
            if key is None:
                return None
            row = conn.execute(
                f"SELECT {_ROW} FROM seat_events WHERE id = ? AND accountKey = ?", (event_id, key)
            ).fetchone()
            return None if row is None else _row(row)

    def count(self) -> int:
        with self._connection() as conn:
            key = self._lookup_key(conn)
            if key is None:
                return 0
            # receivedSeq is 1, 2, 3, … per account: its maximum is the count
            found = conn.execute("SELECT max(receivedSeq) FROM seat_events WHERE accountKey = ?", (key,))
            return int(found.fetchone()[0] or 0)

    def accounts(self) -> list[str]:
        """Every account id in the database with at least one event, sorted."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT sequenceAccountId FROM accounts AS a WHERE EXISTS "
                "(SELECT 1 FROM seat_events AS e WHERE e.accountKey = a.accountKey) ORDER BY 1"
            ).fetchall()
            return [str(row[0]) for row in rows]

    def events(self) -> pl.DataFrame:
        """Every stored row of the account as a frame of :data:`SEGMENT_SCHEMA`, in receipt
        order, read from one snapshot."""
        with self._transaction(write=False) as conn:
            key = self._lookup_key(conn)
            if key is None:
                return pl.DataFrame(schema=SEGMENT_SCHEMA)
            segments = conn.execute(
                "SELECT firstSeq, lastSeq, parquet FROM seat_event_segments "
                "WHERE accountKey = ? ORDER BY firstSeq",
                (key,),
            ).fetchall()
            covered = int(segments[-1][1]) if segments else 0
            tail = conn.execute(
                f"SELECT {_ROW} FROM seat_events WHERE accountKey = ? AND receivedSeq > ? "
                "ORDER BY receivedSeq",
                (key, covered),
            ).fetchall()
        parts = [self._segment(first, last, blob) for first, last, blob in segments]
        parts.append(rows_frame(tail))
        frame = pl.concat(parts, rechunk=True)
        seq = frame[RECEIVED]
        if frame.height and (seq[0] != 1 or seq[-1] != frame.height or not seq.is_sorted()):
            raise errors.corrupt(self.path, "receivedSeq is not 1, 2, 3, … in the stored rows")
        return frame

    def _segment(self, first: int, last: int, blob: bytes) -> pl.DataFrame:
        try:
            frame = pl.read_parquet(io.BytesIO(blob))
        except pl.exceptions.PolarsError as error:
            raise errors.corrupt(self.path, f"segment {first}..{last}: {error}") from None
        if frame.schema != SEGMENT_SCHEMA or frame.height != last - first + 1:
            raise errors.corrupt(self.path, f"segment {first}..{last} does not hold those rows")
        return frame

    def page(self, query: ListQuery) -> tuple[list[Row], bool, bool, int]:
        """``(rows, more_before, more_after, total)`` of one listing page (rules in
        :mod:`seatcalc.ledger.pages`), all read from one snapshot.

        Pages are keyset reads on the ``(accountKey, receivedSeq)`` key; other filters are
        checked on the rows passed over (there is no index per filter: it would slow every
        write), so a selective filter on a large account reads through the account.
        """
        _check_encodable(
            customer_alias=query.customer_alias or "",
            seat_type="".join(query.seat_types),
            customer_event_id=query.customer_event_id or "",
            after=query.after or "",
            before=query.before or "",
        )
        with self._transaction(write=False) as conn:
            key = self._lookup_key(conn)
            position = self._cursor_position(conn, key, query)
            if key is None:
                return [], False, False, 0
            where, params = _filters(query, key)
            ascending = query.sort_order == "ASC"
            forward = query.before is None  # reading in the requested order, away from the cursor
            read_up = ascending == forward
            sql = f"SELECT {_ROW} FROM seat_events WHERE {where}"
            bound: list[Any] = []
            if position is not None:
                sql += " AND receivedSeq > ?" if read_up else " AND receivedSeq < ?"
                bound = [position]
            sql += f" ORDER BY receivedSeq {'ASC' if read_up else 'DESC'} LIMIT ?"
            rows = [_row(r) for r in conn.execute(sql, [*params, *bound, query.limit + 1]).fetchall()]
            extra = len(rows) > query.limit
            rows = rows[: query.limit]
            if not forward:
                rows.reverse()

            def exists(operator: str, seq: int) -> bool:
                found = conn.execute(
                    f"SELECT EXISTS (SELECT 1 FROM seat_events WHERE {where} AND receivedSeq {operator} ?)",
                    [*params, seq],
                ).fetchone()
                return bool(found[0])

            if position is None and not extra:
                total = len(rows)  # the first page holds every match
            else:
                # receivedSeq is 1, 2, 3, … per account: without filters its maximum is the count
                counting = "max(receivedSeq)" if len(params) == 1 else "count(*)"
                found = conn.execute(f"SELECT coalesce({counting}, 0) FROM seat_events WHERE {where}", params)
                total = int(found.fetchone()[0])
            if not rows:
                return [], False, False, total
            first_seq, last_seq = rows[0][0], rows[-1][0]
            if forward:
                more_after = extra
                more_before = position is not None and exists("<" if ascending else ">", first_seq)
            else:
                more_before = extra
                more_after = exists(">" if ascending else "<", last_seq)
            return rows, more_before, more_after, total

    def _cursor_position(self, conn: sqlite3.Connection, key: int | None, query: ListQuery) -> int | None:
        """The ``receivedSeq`` of the event a cursor names, or ``None`` without a cursor."""
        cursor_id = query.after if query.after is not None else query.before
        if cursor_id is None:
            return None
        found = None
        if key is not None:
            found = conn.execute(
                "SELECT receivedSeq FROM seat_events WHERE id = ? AND accountKey = ?", (cursor_id, key)
            ).fetchone()
        if found is None:
            name = "after" if query.after is not None else "before"
            raise InvalidLedgerArgument(
                f"{name}: the cursor names event {cursor_id!r}, which is not in account "
                f"{self.account_id!r}; use a cursor from a page of this ledger"
            )
        return int(found[0])


def _check_encodable(**texts: str) -> None:
    """SQLite stores UTF-8: text with a lone surrogate is refused before it reaches it."""
    for name, text in texts.items():
        if not is_valid_unicode(text):
            bad = next(char for char in text if not is_valid_unicode(char))
            raise InvalidLedgerArgument.for_value(
                name, text, f"contains the lone surrogate {bad!r}; text must be valid Unicode"
            )


def _row(row: Sequence[Any]) -> Row:
    return (int(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]), int(row[5]), int(row[6]))


def _next_seq(conn: sqlite3.Connection, key: int) -> int:
    row = conn.execute("SELECT max(receivedSeq) FROM seat_events WHERE accountKey = ?", (key,)).fetchone()
    return 1 if row[0] is None else int(row[0]) + 1


def _covered(conn: sqlite3.Connection, key: int) -> int:
    row = conn.execute("SELECT max(lastSeq) FROM seat_event_segments WHERE accountKey = ?", (key,)).fetchone()
    return 0 if row[0] is None else int(row[0])


def _filters(query: ListQuery, key: int) -> tuple[str, list[Any]]:
    clauses: list[str] = ["accountKey = ?"]
    params: list[Any] = [key]
    if query.customer_alias is not None:
        clauses.append("customerAlias = ?")
        params.append(query.customer_alias)
    if query.seat_types:
        clauses.append(f"seatType IN ({', '.join('?' * len(query.seat_types))})")
        params.extend(query.seat_types)
    if query.customer_event_id is not None:
        clauses.append("customerEventId = ?")
        params.append(query.customer_event_id)
    if query.after_instant is not None:
        clauses.append("eventTimestamp >= ?")
        params.append(to_micros(query.after_instant))
    if query.before_instant is not None:
        clauses.append("eventTimestamp < ?")
        params.append(to_micros(query.before_instant))
    return " AND ".join(clauses), params


def to_micros(instant: datetime) -> int:
    """An aware ``datetime`` → integer microseconds since the Unix epoch (exact)."""
    return (instant - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    """Integer microseconds since the Unix epoch → the UTC ``datetime``."""
    return _EPOCH + timedelta(microseconds=micros)


# -- opening a database ----------------------------------------------------------------------


def _connect(path: Path | None, busy_timeout: float, create_missing: bool) -> sqlite3.Connection:
    with translating(path, busy_timeout):
        conn = sqlite3.connect(
            ":memory:" if path is None else file_uri(path, create_missing),
            timeout=busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            uri=path is not None,
        )
    try:
        with translating(path, busy_timeout):
            _prepare(conn, path, busy_timeout)
    except BaseException:
        conn.close()
        raise
    return conn


def file_uri(path: Path, create_missing: bool) -> str:
    """The ``file:`` URI of ``path`` read as a plain file name: absolute, every byte
    SQLite would parse (``?``, ``#``, ``%``) percent-quoted, so no query string or special
    name (``:memory:``, ``mode=``, ``immutable=``) can come from the path itself.
    ``mode=rw`` when the file must exist already, so it is never created then."""
    try:
        if path.is_dir():
            raise errors.LedgerError(f"{str(path)!r} is a directory; a ledger is a file")
        if not create_missing and not path.exists():
            raise errors.missing_file(path)
        absolute = os.fsencode(path.absolute())
    except errors.LedgerError:
        raise
    except OSError as error:
        raise errors.LedgerError(
            f"cannot open ledger file {str(path)!r} ({error.strerror or error}): does its directory "
            "exist, and may you write there?"
        ) from None
    mode = "" if create_missing else "?mode=rw"
    return f"file://{urllib.parse.quote(absolute, safe='/')}{mode}"


def _prepare(conn: sqlite3.Connection, path: Path | None, busy_timeout: float) -> None:
    """Check what the file is before changing anything, then set it up.

    Another process may be setting up the same new file meanwhile: the check reads the
    header and the schema in one snapshot (never a mix of before and after its commit),
    and the setup re-checks under the write lock, so exactly one process creates the schema
    and none takes the half-made file for a foreign one.
    """
    with _atomic(conn, "BEGIN"):
        fresh = _is_fresh(conn, path)
    if path is not None:
        mode = _use_wal(conn, busy_timeout)
        if mode != "wal":
            raise errors.LedgerError(
                f"ledger file {str(path)!r} cannot use write-ahead logging (journal_mode is {mode}); "
                "put it on a local file system"
            )
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
    conn.execute("PRAGMA journal_size_limit = 67108864")
    if fresh:
        with _atomic(conn, "BEGIN IMMEDIATE"):
            if _is_fresh(conn, path):  # another process may have set it up meanwhile
                for statement in _DDL:
                    conn.execute(statement)


def _use_wal(conn: sqlite3.Connection, busy_timeout: float) -> str:
    """Switch to write-ahead logging; the journal mode it ends in.

    The switch of a new file needs its exclusive lock, and SQLite answers "busy" at once,
    without waiting, while another process reads or switches it: retry for up to
    ``busy_timeout`` seconds, as any other wait for a lock.
    """
    deadline = time.monotonic() + busy_timeout
    pause = 0.001
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
        except sqlite3.OperationalError as error:
            code = getattr(error, "sqlite_errorcode", 0) & 0xFF  # the primary result code
            busy = code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not busy or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(2 * pause, 0.05)


@contextlib.contextmanager
def _atomic(conn: sqlite3.Connection, begin: str) -> Iterator[None]:
    """``begin`` … ``COMMIT``, or ``ROLLBACK`` on any exception (then re-raised)."""
    conn.execute(begin)
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


def _is_fresh(conn: sqlite3.Connection, path: Path | None) -> bool:
    """True for an empty database, False for a ledger of this schema; raises for anything else."""
    application_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    tables = [
        str(row[0])
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
        )
    ]
    if application_id == APPLICATION_ID:
        if version != SCHEMA_VERSION:
            raise errors.version_mismatch(path, version, SCHEMA_VERSION)
        missing = sorted(set(_TABLES) - set(tables))
        if missing:
            raise errors.corrupt(path, f"the ledger lacks its tables {', '.join(missing)}")
        return False
    if application_id == 0 and version == 0 and not tables:
        return True
    raise errors.foreign(path, tables, application_id)
