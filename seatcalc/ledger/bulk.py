"""Bulk ingest: a batch of requests, a frame or a file → validated rows with fresh ids.

Reading and validation are :func:`seatcalc.io.load_events`' (the one parser of events): a
problem is reported for every bad value of every bad row, with the row's 0-based index in
the source. The whole batch is checked before anything is written.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import polars as pl

from seatcalc.errors import InvalidEventFrame, Problem
from seatcalc.events import CreateSeatEventRequest
from seatcalc.frames import ACCOUNT, ALIAS, EVENT_ID, RECEIVED, SEAT_TYPE, TIMESTAMP, TOTAL
from seatcalc.io import load_events

__all__ = ["BatchSource", "CreateManyResult", "bulk_event_ids", "prepare_batch"]

BatchSource = str | Path | pl.DataFrame | pl.LazyFrame | Iterable[CreateSeatEventRequest | Mapping[str, Any]]
"""What :meth:`SeatLedger.create_many` takes: a path (.ndjson/.jsonl/.csv/.parquet), a
polars frame of the request columns, or requests / wire dicts."""

_REQUEST_COLUMNS = (EVENT_ID, ALIAS, SEAT_TYPE, TIMESTAMP, TOTAL)
SOURCE_ROW = "sourceRow"


@dataclass(frozen=True, slots=True)
class CreateManyResult:
    """What a bulk create wrote and what it rejected.

    Attributes:
        created: events written.
        rejected_rows: 0-based source indexes of the rows not written (``on_error="skip"``).
        problems: every bad value of those rows (row index, field, reason).
        ids: one row per created event: ``sourceRow``, ``receivedSeq``, ``id``, in receipt
            order (which is source order).
    """

    created: int
    rejected_rows: tuple[int, ...]
    problems: tuple[Problem, ...]
    ids: pl.DataFrame

    @property
    def rejected(self) -> int:
        """Number of rows not written."""
        return len(self.rejected_rows)


def bulk_event_ids(count: int) -> list[str]:
    """``count`` fresh UUIDv7 strings in increasing order (RFC 9562, method 2).

    All take the current millisecond and one random ``rand_a``; ``rand_b`` is a counter
    seeded at random for the batch (14 random bits, then 48 bits that count up from a
    random start). Ids of two batches collide only if both draws coincide within one
    millisecond. Formatting one counter per id keeps bulk ingest fast.
    """
    if count <= 0:
        return []
    head = f"{time.time_ns() // 1_000_000:012x}"
    rand_a = int.from_bytes(os.urandom(2)) & 0xFFF
    high = int.from_bytes(os.urandom(2)) & 0x3FFF
    start = int.from_bytes(os.urandom(6)) % ((1 << 48) - count)
    prefix = f"{head[:8]}-{head[8:]}-7{rand_a:03x}-{0x8000 | high:04x}-"
    return [f"{prefix}{counter:012x}" for counter in range(start, start + count)]


def _check_frame_columns(frame: pl.DataFrame) -> None:
    extra = [name for name in frame.columns if name not in _REQUEST_COLUMNS]
    if extra:
        problems = [
            Problem(
                None,
                name,
                "is not a field of a seat event request (the ledger assigns "
                "id, receivedSeq and sequenceAccountId); select the request columns first",
            )
            for name in extra
        ]
        raise InvalidEventFrame.from_problems(problems, what="the events frame")


def prepare_batch(source: BatchSource, account_id: str) -> tuple[pl.DataFrame, list[Problem], list[int]]:
    """``(rows, problems, rejected_rows)``: the valid rows in source order with ``sourceRow``,
    a fresh ``id`` and a ``customerEventId`` (a UUID where the source had none).

    A file may be an export of stored events: its ``sequenceAccountId`` must be the
    ledger's account (a row of another account is a problem); its ``id`` and
    ``receivedSeq`` are assigned anew, as for every event the ledger stores.
    """
    if isinstance(source, pl.LazyFrame):
        source = source.collect()
    if isinstance(source, pl.DataFrame):
        _check_frame_columns(source)
    elif not isinstance(source, str | Path):
        source = list(source)
    good, problems = load_events(cast(Any, source))
    if ACCOUNT in good.columns:
        foreign = good.filter(pl.col(ACCOUNT) != account_id).select(SOURCE_ROW, ACCOUNT)
        problems += [
            Problem(int(row), ACCOUNT, f"belongs to another account; this ledger is {account_id!r}", value)
            for row, value in foreign.iter_rows()
        ]
        good = good.filter(~pl.col(SOURCE_ROW).is_in(foreign[SOURCE_ROW].implode()))
        problems.sort(key=lambda p: (-1 if p.row is None else p.row, p.field))
    rejected = sorted({p.row for p in problems if p.row is not None})
    keys = good[EVENT_ID]
    missing = keys.is_null()
    if missing.any():
        fill = pl.Series(EVENT_ID, [str(uuid.uuid4()) for _ in range(int(missing.sum()))], dtype=pl.String)
        keys = keys.scatter(missing.arg_true(), fill)
    rows = good.select(
        pl.col(SOURCE_ROW).cast(pl.Int64),
        pl.Series("id", bulk_event_ids(good.height), dtype=pl.String),
        keys.alias(EVENT_ID),
        ALIAS,
        SEAT_TYPE,
        TIMESTAMP,
        TOTAL,
    )
    return rows, problems, rejected


def id_table(written: pl.DataFrame) -> pl.DataFrame:
    """``sourceRow``, ``receivedSeq``, ``id`` of written rows."""
    return written.select(SOURCE_ROW, RECEIVED, "id")
