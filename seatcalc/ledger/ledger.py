"""The seat ledger: where seat events are stored, listed and read back (SPEC §7)."""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import polars as pl

from seatcalc.errors import InvalidSeatEvent, SeatEventNotFound
from seatcalc.events import CreateSeatEventRequest, SeatEvent, new_event_id
from seatcalc.frames import ACCOUNT, RECEIVED
from seatcalc.ledger.bulk import SOURCE_ROW, BatchSource, CreateManyResult, prepare_batch
from seatcalc.ledger.errors import InvalidLedgerArgument
from seatcalc.ledger.pages import (
    ListQuery,
    Pagination,
    SeatEventPage,
    check_instant,
    check_text,
    encode_cursor,
)
from seatcalc.ledger.store import SEGMENT_COLUMNS, LedgerStore, Row, from_micros, to_micros
from seatcalc.measures import seat_balances
from seatcalc.supersession import POLICIES, SupersedeBy

__all__ = ["EVENT_COLUMNS", "MAX_BUSY_TIMEOUT", "SeatLedger"]

EVENT_COLUMNS = (RECEIVED, "id", ACCOUNT, *SEGMENT_COLUMNS[2:])
"""Columns of :meth:`SeatLedger.events`, in order."""

OnError = Literal["raise", "skip"]
Progress = Callable[[int, int], None]


MAX_BUSY_TIMEOUT = 2_147_483
"""The longest ``busy_timeout``, in seconds (about 24.8 days): SQLite keeps it in
milliseconds in a C ``int``, and a longer one would wrap around and stop waiting at once."""


def _check_path(path: object) -> Path | None:
    """A file path (``str`` or ``os.PathLike`` of ``str``), or ``None`` for memory (so is the
    name ``":memory:"``). The path is a file name, always: never read as an SQLite URI."""
    if path is None:
        return None
    rule = "must be a file path (a str or an os.PathLike giving a str), or None for memory"
    name = os.fspath(path) if isinstance(path, str | os.PathLike) else None
    if not isinstance(name, str):
        raise InvalidLedgerArgument.for_value("path", path, rule)
    if name == ":memory:":
        return None
    if not name:
        raise InvalidLedgerArgument.for_value("path", path, "is empty; " + rule)
    if "\x00" in name:
        raise InvalidLedgerArgument.for_value(
            "path", path, "contains a NUL character; no file can have this name"
        )
    try:
        os.fsencode(name)
    except UnicodeEncodeError as error:
        raise InvalidLedgerArgument.for_value(
            "path", path, f"cannot be encoded for the file system ({error.reason}); check the name"
        ) from None
    return Path(name)


def _check_busy_timeout(busy_timeout: object) -> float:
    if (
        isinstance(busy_timeout, bool)
        or not isinstance(busy_timeout, int | float)
        or not 0 <= busy_timeout <= MAX_BUSY_TIMEOUT  # False for nan
    ):
        raise InvalidLedgerArgument.for_value(
            "busy_timeout",
            busy_timeout,
            f"must be a number of seconds ≥ 0 and at most {MAX_BUSY_TIMEOUT} s (about 24 days; "
            "SQLite keeps it in milliseconds in a 32-bit integer)",
        )
    return float(busy_timeout)


class SeatLedger:
    """The stored seat events of one account: create, get, list, balances, the events frame.

    Open it with :meth:`open`: ``path=None`` keeps the events in memory (an SQLite database
    in memory, so it behaves exactly as a file); a path stores them in an SQLite file,
    created if missing, which may hold several accounts. A create returns once its commit
    is on disk (WAL, ``synchronous=FULL``). One ledger object may be shared by threads;
    several processes may open the same file (each its own object). Writers wait up to
    ``busy_timeout`` seconds for the lock, then get a :class:`~seatcalc.errors.LedgerError`,
    as they do for a corrupt or foreign file: never a raw ``sqlite3`` error.

    Every version is kept: a superseding event is a new row, the old one stays retrievable.
    Receipt order is ``receivedSeq``: 1, 2, 3, … per account, in commit order.

    >>> with SeatLedger.open(account_id="acct-1") as ledger:
    ...     first = ledger.create({"customerEventId": "e-1", "customerAlias": "acme",
    ...         "seatType": "admin", "eventTimestamp": "2025-01-01T00:00:00Z", "total": 3})
    ...     fix = ledger.create({"customerEventId": "e-1", "customerAlias": "acme",
    ...         "seatType": "admin", "eventTimestamp": "2025-01-01T00:00:00Z", "total": 5})
    ...     (ledger.get(first.id).total, ledger.list(limit=1).items[0].total,
    ...      ledger.balances()["total"].to_list())
    (3, 5, [5])
    """

    def __init__(self, store: LedgerStore) -> None:
        """Use :meth:`open`."""
        self._store = store

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        account_id: str,
        busy_timeout: float = 5.0,
        create_missing: bool = True,
    ) -> SeatLedger:
        """Open the ledger of ``account_id``.

        Args:
            path: an SQLite file (created if missing), or ``None`` (or ``":memory:"``) for
                memory. It is a file name, always: ``"file:x?mode=ro"`` is a file of that
                name, never an SQLite URI.
            account_id: the ``sequenceAccountId`` of every event stored through this object
                (1 to 256 characters, no control characters).
            busy_timeout: seconds to wait for another connection's write lock, from 0 to
                :data:`MAX_BUSY_TIMEOUT`.
            create_missing: with ``False``, a missing file is a ``LedgerError``.

        Raises:
            InvalidLedgerArgument: an argument of the wrong type or out of its range.
            LedgerError: the file is corrupt, belongs to another application, has another
                schema version, is a directory, or cannot be opened or created there.
        """
        where = _check_path(path)
        account_id = check_text("account_id", account_id)
        timeout = _check_busy_timeout(busy_timeout)
        if not isinstance(create_missing, bool):
            raise InvalidLedgerArgument.for_value("create_missing", create_missing, "must be True or False")
        return cls(LedgerStore(where, account_id, busy_timeout=timeout, create_missing=create_missing))

    @property
    def account_id(self) -> str:
        """The ``sequenceAccountId`` of this ledger's events."""
        return self._store.account_id

    @property
    def path(self) -> Path | None:
        """The SQLite file, or ``None`` in memory."""
        return self._store.path

    @property
    def closed(self) -> bool:
        return self._store.closed

    def close(self) -> None:
        """Close the connection (idempotent); later calls raise ``LedgerError``."""
        self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def __len__(self) -> int:
        """The number of stored versions."""
        return self._store.count()

    def __repr__(self) -> str:
        where = "memory" if self.path is None else str(self.path)
        state = ", closed" if self.closed else ""
        return f"SeatLedger({where!r}, account_id={self.account_id!r}{state})"

    # -- writes ------------------------------------------------------------------------------

    def create(self, request: CreateSeatEventRequest | Mapping[str, Any] | str | bytes) -> SeatEvent:
        """Store one seat event; returns it with its new ``id`` once committed.

        Args:
            request: a :class:`CreateSeatEventRequest`, its wire dict, or its JSON text. A
                missing ``customerEventId`` gets a generated UUID.

        Raises:
            InvalidSeatEvent: the request breaks a rule of SPEC §1 (every bad field listed).
            LedgerError: the store cannot take the write (e.g. locked past ``busy_timeout``).
        """
        if isinstance(request, CreateSeatEventRequest):
            valid = request
        elif isinstance(request, Mapping):
            valid = CreateSeatEventRequest.model_validate(dict(request))
        elif isinstance(request, str | bytes):
            valid = CreateSeatEventRequest.model_validate_json(request)
        else:
            raise InvalidSeatEvent(
                f"a seat event request is a CreateSeatEventRequest, a dict of its JSON fields or "
                f"JSON text, not {type(request).__name__}"
            )
        event_id = new_event_id()
        self._store.append_one(
            event_id,
            valid.customer_event_id,
            valid.customer_alias,
            valid.seat_type,
            to_micros(valid.event_timestamp),
            valid.total,
        )
        return SeatEvent.from_request(valid, event_id=event_id, account_id=self.account_id)

    def create_many(
        self,
        source: BatchSource,
        *,
        on_error: OnError = "raise",
        chunk_rows: int | None = None,
        progress: Progress | None = None,
    ) -> CreateManyResult:
        """Store a batch of seat events, validated as a whole before anything is written.

        Rows are stored in source order (their ``receivedSeq`` follows it). By default the
        batch is one transaction: all rows or none.

        Args:
            source: requests or wire dicts, a polars frame of the request columns, or a
                path to an .ndjson/.jsonl, .csv or .parquet file.
            on_error: ``"raise"``: any bad row → nothing written and an
                :class:`InvalidSeatEvent` whose ``.problems`` names every bad value (row
                index, field, reason). ``"skip"``: the good rows are written and the bad
                ones returned in the result.
            chunk_rows: commit every ``chunk_rows`` rows instead of once (a failure then
                keeps the chunks already committed); ``None``: one transaction.
            progress: called as ``progress(rows_written, rows_to_write)`` while writing.

        Raises:
            InvalidSeatEvent: with ``on_error="raise"``, when any row is bad.
            FrameSchemaError: a frame or file lacks a column or has one of the wrong dtype.
            LedgerError: the store cannot take the write.
        """
        if on_error not in ("raise", "skip"):
            raise InvalidLedgerArgument.for_value("on_error", on_error, "must be 'raise' or 'skip'")
        if chunk_rows is not None and (
            isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1
        ):
            raise InvalidLedgerArgument.for_value(
                "chunk_rows", chunk_rows, "must be a positive integer or None"
            )
        rows, problems, rejected = prepare_batch(source, self.account_id)
        if problems and on_error == "raise":
            bad = f"{len(rejected)} of {rows.height + len(rejected)} rows bad; nothing was written"
            raise InvalidSeatEvent.from_problems(problems, what=f"the batch ({bad})")
        done = 0

        def written(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(done, rows.height)

        stored = []
        step = chunk_rows or max(rows.height, 1)
        for chunk in rows.iter_slices(step) if rows.height else ():
            fresh = self._store.append_frame(chunk.drop(SOURCE_ROW), written)
            stored.append(chunk.select(SOURCE_ROW).hstack(fresh.select(RECEIVED, "id")))
        ids = (
            pl.concat(stored)
            if stored
            else pl.DataFrame(schema={SOURCE_ROW: pl.Int64, RECEIVED: pl.Int64, "id": pl.String})
        )
        return CreateManyResult(
            created=ids.height, rejected_rows=tuple(rejected), problems=tuple(problems), ids=ids
        )

    # -- reads -------------------------------------------------------------------------------

    def get(self, event_id: str) -> SeatEvent:
        """The stored event ``event_id`` (superseded versions included).

        Raises:
            SeatEventNotFound: no event of this account has that id.
        """
        row = self._store.get(event_id) if isinstance(event_id, str) else None
        if row is None:
            raise SeatEventNotFound.for_id(str(event_id), self.account_id)
        return self._event(row)

    def list(
        self,
        *,
        customer_alias: str | None = None,
        seat_type: str | Sequence[str] | None = None,
        customer_event_id: str | None = None,
        event_timestamp_before: datetime | str | None = None,
        event_timestamp_after: datetime | str | None = None,
        sort_order: Literal["ASC", "DESC"] = "DESC",
        limit: int = 20,
        after: str | None = None,
        before: str | None = None,
    ) -> SeatEventPage:
        """One page of stored events, as the reference API's list endpoint.

        Order is receipt order (``receivedSeq``; no ties), newest first by default. Filters
        combine with AND; the time window is half-open, ``event_timestamp_after <=
        eventTimestamp < event_timestamp_before``. ``seat_type`` is one value or up to 25.
        Cursors are keyset positions: ``after=page.pagination.after`` gives the next page,
        ``before=page.pagination.before`` the previous one, and stay exact while others
        insert. A cursor is ``None`` when nothing lies beyond the page on its side.
        ``totalResultSize`` counts every match. Superseded versions are listed too.

        Raises:
            InvalidLedgerArgument: ``limit`` outside 1–100, a bad ``sort_order``, both
                cursors, a cursor of another ledger, more than 25 seat types, a bad instant,
                text an event cannot hold, any argument of the wrong type.
        """
        query = ListQuery.build(
            customer_alias=customer_alias,
            seat_type=seat_type,
            customer_event_id=customer_event_id,
            event_timestamp_before=event_timestamp_before,
            event_timestamp_after=event_timestamp_after,
            sort_order=sort_order,
            limit=limit,
            after=after,
            before=before,
        )
        rows, more_before, more_after, total = self._store.page(query)
        items = tuple(self._event(row) for row in rows)
        pagination = Pagination(
            after=encode_cursor(items[-1].id) if more_after else None,
            before=encode_cursor(items[0].id) if more_before else None,
            totalResultSize=total,
        )
        return SeatEventPage(items=items, pagination=pagination)

    def events(self) -> pl.DataFrame:
        """Every stored version, in receipt order, ready for ``billable_seats``.

        Columns: ``receivedSeq`` (Int64, 1, 2, 3, …), ``id``, ``sequenceAccountId``,
        ``customerEventId``, ``customerAlias``, ``seatType``, ``eventTimestamp``
        (Datetime(µs, UTC)), ``total`` (Int64). Read from one consistent snapshot.
        """
        account = pl.lit(self.account_id, dtype=pl.String).alias(ACCOUNT)
        return self._store.events().with_columns(account).select(EVENT_COLUMNS)

    def balances(
        self, at: datetime | str | None = None, *, supersede_by: SupersedeBy = "eventTimestamp"
    ) -> pl.DataFrame:
        """The balance of every (customer, seat type) at instant ``at`` (default: after the
        latest event), by :func:`seatcalc.seat_balances` on :meth:`events`.

        Columns: ``sequenceAccountId``, ``customerAlias``, ``seatType``, ``total``,
        ``changeTimestamp``; an event exactly at ``at`` counts.

        Raises:
            InvalidLedgerArgument: ``at`` is not an aware ``datetime`` or an RFC 3339 string
                with an offset, or ``supersede_by`` is not a policy.
        """
        instant = None if at is None else check_instant("at", at)
        if supersede_by not in POLICIES:
            raise InvalidLedgerArgument.for_value(
                "supersede_by", supersede_by, "must be 'eventTimestamp' or 'received'"
            )
        return seat_balances(self.events(), instant, supersede_by=supersede_by)

    def _event(self, row: Row) -> SeatEvent:
        _, event_id, event_key, alias, seat_type, micros, total = row
        return SeatEvent.model_construct(
            id=event_id,
            customer_event_id=event_key,
            customer_alias=alias,
            seat_type=seat_type,
            sequence_account_id=self.account_id,
            event_timestamp=from_micros(micros),
            total=total,
        )

    def accounts(self) -> builtins.list[str]:
        """Every account with events in this ledger's database (sorted)."""
        return self._store.accounts()
