"""Balances and billable seats per period (SPEC §3 and §5).

For each key (account?, customerAlias, seatType) the balance ``b(t)`` is the ``total`` of
the last effective event at or before ``t`` (0 before the first): a right-continuous step
function. Several events at one instant leave only the last received; that zero-length
state never counts, not even for a maximum. The per-event terms behind every measure are
built in :mod:`seatcalc.timeline`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import overload

import polars as pl

from seatcalc.frames import INSTANT, TIMESTAMP, TOTAL, FrameT, eager_or_lazy, key_columns
from seatcalc.periods import Until
from seatcalc.schedules import DAYS, PERIOD_END, PERIOD_START, Schedules
from seatcalc.supersession import SupersedeBy, check_policy, collapse_instants, resolve, with_receipt_order
from seatcalc.timeline import billed_periods, event_rows
from seatcalc.wire import instant_argument

__all__ = ["Schedules", "billable_seats", "seat_balances"]


def _billable(
    events: pl.LazyFrame, schedule: Schedules, until: Until, supersede_by: SupersedeBy
) -> pl.LazyFrame:
    rows, key_table, calendar, keys = event_rows(events, schedule, until, supersede_by)
    return billed_periods(rows, key_table, calendar).select(
        *keys,
        PERIOD_START,
        PERIOD_END,
        "startSeats",
        "endSeats",
        pl.min_horizontal("startSeats", "__min").alias("minSeats"),
        pl.max_horizontal("startSeats", "__max").alias("maxSeats"),
        "averageSeats",
        DAYS,
        "seatDays",
        "incrementSeatDays",
        "seatMicroseconds",
    )


ParquetPaths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
"""A Parquet file, a glob, a directory of files (hive-partitioned or not), or a list of them."""


@overload
def billable_seats(
    events: pl.LazyFrame,
    schedule: Schedules,
    *,
    until: Until = None,
    supersede_by: SupersedeBy = "eventTimestamp",
    memory_limit: int | None = None,
) -> pl.LazyFrame: ...


@overload
def billable_seats(
    events: pl.DataFrame | ParquetPaths,
    schedule: Schedules,
    *,
    until: Until = None,
    supersede_by: SupersedeBy = "eventTimestamp",
    memory_limit: int | None = None,
) -> pl.DataFrame: ...


def billable_seats(
    events: pl.DataFrame | pl.LazyFrame | ParquetPaths,
    schedule: Schedules,
    *,
    until: Until = None,
    supersede_by: SupersedeBy = "eventTimestamp",
    memory_limit: int | None = None,
) -> pl.DataFrame | pl.LazyFrame:
    """Billable seats per (key, period): one row for every period whose end is after the
    key's first effective event, up to the schedule's ``end`` or ``until``.

    ``events`` is a frame, or Parquet paths (read out of core, see
    :mod:`seatcalc.partitioned`; a DataFrame results). With ``memory_limit`` (bytes; default
    for paths: a quarter of the machine's memory) an input whose billing would not fit is
    billed in buckets on disk, with the same result; a LazyFrame is then computed at once.

    Takes raw events (superseded versions included). Columns: the key, ``periodStart``,
    ``periodEnd``, ``startSeats`` (``b(periodStart)``), ``endSeats`` (``b`` just before
    ``periodEnd``), ``minSeats``, ``maxSeats``, ``averageSeats`` (time-weighted by the
    microsecond), ``days`` (local days), ``seatDays`` (Σ of each day's max),
    ``incrementSeatDays`` (Σ of the running max to each day's end) and
    ``seatMicroseconds`` (Int128: the exact integral of ``b`` behind ``averageSeats``).

    >>> from datetime import date, datetime, UTC
    >>> from seatcalc import BillingSchedule
    >>> events = pl.DataFrame({"customerAlias": ["acme"] * 2, "seatType": ["admin"] * 2,
    ...     "eventTimestamp": [datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 11, 12, tzinfo=UTC)],
    ...     "total": [2, 5]})
    >>> schedule = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 2, 1))
    >>> seats = billable_seats(events, schedule)
    >>> seats.select("startSeats", "endSeats", "seatDays", "incrementSeatDays").rows()
    [(2, 5, 125, 125)]
    """
    check_policy(supersede_by)
    if memory_limit is not None or not isinstance(events, pl.DataFrame | pl.LazyFrame):
        from seatcalc.partitioned import partitioned_billable_seats  # it builds on this module

        seats = partitioned_billable_seats(
            events, schedule, until=until, supersede_by=supersede_by, memory_limit=memory_limit
        )
        assert seats is not None  # no ``out``: the frame is returned
        return seats.lazy() if isinstance(events, pl.LazyFrame) else seats

    def compute(frame: pl.LazyFrame) -> pl.LazyFrame:
        return _billable(frame, schedule, until, supersede_by)

    if isinstance(events, pl.LazyFrame):
        return eager_or_lazy(events, compute)
    return eager_or_lazy(events, compute)


def seat_balances(
    events: FrameT,
    at: datetime | str | None = None,
    *,
    supersede_by: SupersedeBy = "eventTimestamp",
) -> FrameT:
    """The balance of every key at instant ``at`` (default: after the latest event).

    ``at`` is an aware ``datetime`` or an RFC 3339 string (``"2025-01-03T00:00:00Z"``);
    anything else is an :class:`~seatcalc.errors.InvalidArgument`.

    Columns: the key, ``total`` (``b(at)``; an event exactly at ``at`` counts) and
    ``changeTimestamp`` (when that balance was set). Keys whose first effective event is
    after ``at`` have no row.

    >>> from datetime import datetime, UTC
    >>> events = pl.DataFrame({"customerAlias": ["acme"] * 2, "seatType": ["admin"] * 2,
    ...     "eventTimestamp": [datetime(2025, 1, d, tzinfo=UTC) for d in (1, 5)], "total": [2, 7]})
    >>> seat_balances(events, datetime(2025, 1, 3, tzinfo=UTC))["total"].to_list()
    [2]
    """
    instant = None if at is None else instant_argument("at", at)
    check_policy(supersede_by)

    def compute(frame: pl.LazyFrame) -> pl.LazyFrame:
        frame = collapse_instants(resolve(with_receipt_order(frame)[0], supersede_by))
        keys = key_columns(frame)
        if instant is not None:
            frame = frame.filter(pl.col(TIMESTAMP) <= pl.lit(instant).cast(INSTANT))
        latest = pl.col(TIMESTAMP) == pl.col(TIMESTAMP).max().over(keys)
        return (
            frame.filter(latest).select(*keys, TOTAL, pl.col(TIMESTAMP).alias("changeTimestamp")).sort(keys)
        )

    return eager_or_lazy(events, compute)
