"""Balances and billable seats per period (SPEC §3 and §5).

For each key (account?, customerAlias, seatType) the balance ``b(t)`` is the ``total`` of
the last effective event at or before ``t`` (0 before the first): a right-continuous step
function. Several events at one instant leave only the last received; that zero-length
state never counts, not even for a maximum.

The work is per *event day* (a local day holding at least one event), never per day:
days without an event hold one value all day, so they are counted in runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import polars as pl

from seatcalc.errors import InvalidSchedule
from seatcalc.frames import ALIAS, INSTANT, TIMESTAMP, TOTAL, FrameT, eager_or_lazy, key_columns
from seatcalc.periods import BillingSchedule, Until, schedule_days
from seatcalc.supersession import (
    SupersedeBy,
    collapse_instants,
    resolve,
    with_receipt_order,
)

__all__ = ["Schedules", "billable_seats", "seat_balances"]

Schedules = BillingSchedule | Mapping[str, BillingSchedule] | pl.DataFrame
"""One schedule for every customer, or one per ``customerAlias`` (a mapping, or a frame
with columns ``customerAlias``, ``start``, ``interval`` and optionally ``timeZone``, ``end``)."""

PERIOD_START = "periodStart"
PERIOD_END = "periodEnd"
DAYS = "days"
SCHEDULE = "__schedule"
DAY = "dayIndex"
DAY_START = "dayStart"

MEASURES = [
    "startSeats",
    "endSeats",
    "minSeats",
    "maxSeats",
    "averageSeats",
    DAYS,
    "seatDays",
    "incrementSeatDays",
    "seatMicroseconds",
]


def _schedule_table(schedule: Schedules) -> tuple[list[BillingSchedule], pl.DataFrame | None]:
    """Distinct schedules, and (per-customer case) ``customerAlias → __schedule`` index."""
    if isinstance(schedule, BillingSchedule):
        return [schedule], None
    if isinstance(schedule, pl.DataFrame):
        schedule = _schedules_from_frame(schedule)
    if not isinstance(schedule, Mapping):
        raise InvalidSchedule(
            f"schedule must be a BillingSchedule, a mapping or a frame by customerAlias, "
            f"got {type(schedule).__name__}"
        )
    distinct: dict[BillingSchedule, int] = {}
    aliases, ids = [], []
    for alias, item in schedule.items():
        if not isinstance(item, BillingSchedule):
            raise InvalidSchedule(f"schedule for {alias!r} is not a BillingSchedule: {item!r}")
        aliases.append(alias)
        ids.append(distinct.setdefault(item, len(distinct)))
    index = pl.DataFrame(
        {ALIAS: pl.Series(aliases, dtype=pl.String), SCHEDULE: pl.Series(ids, dtype=pl.UInt32)}
    )
    return list(distinct), index


def _schedules_from_frame(frame: pl.DataFrame) -> dict[str, BillingSchedule]:
    missing = {ALIAS, "start", "interval"} - set(frame.columns)
    if missing:
        raise InvalidSchedule(
            f"a schedules frame needs columns customerAlias, start, interval "
            f"(optional timeZone, end); missing {sorted(missing)}"
        )
    if frame[ALIAS].is_duplicated().any():
        dupes = frame.filter(pl.col(ALIAS).is_duplicated())[ALIAS].unique().sort().to_list()
        raise InvalidSchedule(f"customers with more than one schedule: {dupes[:5]}")
    schedules = {}
    for row in frame.iter_rows(named=True):
        schedules[row[ALIAS]] = BillingSchedule(
            start=row["start"],
            interval=row["interval"],
            time_zone=row.get("timeZone") or "UTC",
            end=row.get("end"),
        )
    return schedules


def _days_grid(schedules: list[BillingSchedule], until: Until) -> pl.LazyFrame:
    """Every local day of every schedule, tagged with its schedule number."""
    grids = [
        schedule_days(s, until).with_columns(pl.lit(i, dtype=pl.UInt32).alias(SCHEDULE))
        for i, s in enumerate(schedules)
    ]
    return pl.concat(grids).lazy()


def _period_table(days: pl.LazyFrame) -> pl.LazyFrame:
    return days.filter(pl.col(DAY) == 0).select(SCHEDULE, PERIOD_START, PERIOD_END, DAYS)


def _attach_schedule(events: pl.LazyFrame, index: pl.DataFrame | None) -> pl.LazyFrame:
    """Give each event its schedule number; a customer without a schedule is an error."""
    if index is None:
        return events.with_columns(pl.lit(0, dtype=pl.UInt32).alias(SCHEDULE))
    unscheduled = events.select(ALIAS).unique().join(index.lazy(), on=ALIAS, how="anti").sort(ALIAS).collect()
    if unscheduled.height:
        shown = unscheduled[ALIAS].head(5).to_list()
        raise InvalidSchedule(
            f"{unscheduled.height} customers have events but no schedule, e.g. {shown}; "
            "add them to the schedules mapping"
        )
    return events.join(index.lazy(), on=ALIAS, how="inner")


def _prepared(
    events: pl.LazyFrame, schedule: Schedules, until: Until, supersede_by: SupersedeBy
) -> tuple[pl.LazyFrame, pl.LazyFrame, list[str]]:
    """(effective collapsed events with their schedule number, days grid, key columns)."""
    schedules, index = _schedule_table(schedule)
    days = _days_grid(schedules, until)
    frame = collapse_instants(resolve(with_receipt_order(events), supersede_by))
    keys = key_columns(frame)
    frame = frame.select(*keys, TIMESTAMP, TOTAL)
    return _attach_schedule(frame, index), days, keys


def _key_periods(events: pl.LazyFrame, days: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """One row per (key, period) whose end is after the key's first event, with
    ``startSeats = b(periodStart)``."""
    firsts = events.group_by(*keys, SCHEDULE).agg(pl.col(TIMESTAMP).min().alias("__first"))
    rows = (
        firsts.join(_period_table(days), on=SCHEDULE)
        .filter(pl.col(PERIOD_END) > pl.col("__first"))
        .drop("__first")
        .sort(PERIOD_START)
    )
    carried = events.select(*keys, TIMESTAMP, TOTAL).sort(TIMESTAMP)
    return rows.join_asof(
        carried,
        left_on=PERIOD_START,
        right_on=TIMESTAMP,
        by=keys,
        strategy="backward",
        check_sortedness=False,
    ).select(
        *keys,
        SCHEDULE,
        PERIOD_START,
        PERIOD_END,
        DAYS,
        pl.col(TOTAL).fill_null(0).alias("startSeats"),
    )


def event_days(events: pl.LazyFrame, days: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """One row per (key, period, event day) inside the schedule.

    Columns: keys, period columns, ``dayIndex``, ``maxTotal``, ``minTotal``,
    ``lastTotal`` (the balance at the day's end), ``firstTs``, ``lastTs``,
    ``startsAtDayStart`` (an event exactly at the day's first instant) and
    ``innerIntegral`` (Int128 seat·µs between the day's first and last event).
    """
    located = (
        events.sort(TIMESTAMP)
        .join_asof(
            days.sort(DAY_START),
            left_on=TIMESTAMP,
            right_on=DAY_START,
            by=SCHEDULE,
            strategy="backward",
            check_sortedness=False,  # both sides are sorted on the instant just above
        )
        .filter(pl.col(PERIOD_START).is_not_null())
    )
    ordered_ts = pl.col(TIMESTAMP).sort()
    ordered_total = pl.col(TOTAL).sort_by(TIMESTAMP)
    gaps = (ordered_ts.shift(-1) - ordered_ts).dt.total_microseconds().cast(pl.Int128)
    return located.group_by(*keys, SCHEDULE, PERIOD_START, PERIOD_END, DAYS, DAY).agg(
        pl.col(TOTAL).max().alias("maxTotal"),
        pl.col(TOTAL).min().alias("minTotal"),
        ordered_total.last().alias("lastTotal"),
        pl.col(TIMESTAMP).min().alias("firstTs"),
        pl.col(TIMESTAMP).max().alias("lastTs"),
        (pl.col(TIMESTAMP).min() == pl.col(DAY_START).first()).alias("startsAtDayStart"),
        (ordered_total.cast(pl.Int128) * gaps).sum().alias("innerIntegral"),
    )


def daily_timeline(
    events: pl.LazyFrame, schedule: Schedules, until: Until, supersede_by: SupersedeBy
) -> tuple[pl.LazyFrame, pl.LazyFrame, list[str]]:
    """The day-level view shared by measures and pricing.

    Returns ``(periods, days, keys)``: ``periods`` has one row per (key, period) with
    ``startSeats``; ``days`` one row per event day with, besides :func:`event_days`,
    ``dayMax`` (the day's max balance), ``runMax`` (running max of the balance from
    ``periodStart`` to the day's end), ``nextDay`` (index of the next event day, or
    ``days``) and ``tailDays = nextDay − dayIndex − 1``: the following days without
    events, which hold ``lastTotal`` all day and keep ``runMax``.
    Days before the first event day hold ``startSeats``.
    """
    frame, grid, keys = _prepared(events, schedule, until, supersede_by)
    periods = _key_periods(frame, grid, keys)
    period_key = [*keys, PERIOD_START]
    in_order: dict[str, Any] = {"partition_by": period_key, "order_by": DAY}
    days = (
        event_days(frame, grid, keys)
        .join(periods.select(*period_key, "startSeats"), on=period_key, how="inner")
        .with_columns(
            pl.col("lastTotal").shift(1).over(**in_order).fill_null(pl.col("startSeats")).alias("__before"),
            pl.col(DAY).shift(-1).over(**in_order).fill_null(pl.col(DAYS)).alias("nextDay"),
            pl.col("firstTs").shift(-1).over(**in_order).fill_null(pl.col(PERIOD_END)).alias("__nextTs"),
        )
        .with_columns(
            pl.when(pl.col("startsAtDayStart"))
            .then(pl.col("maxTotal"))
            .otherwise(pl.max_horizontal("maxTotal", "__before"))
            .alias("dayMax"),
            (pl.col("nextDay") - pl.col(DAY) - 1).alias("tailDays"),
        )
        .with_columns(
            pl.max_horizontal(pl.col("dayMax").cum_max().over(**in_order), "startSeats").alias("runMax"),
            (
                pl.col("innerIntegral")
                + pl.col("lastTotal").cast(pl.Int128)
                * (pl.col("__nextTs") - pl.col("lastTs")).dt.total_microseconds().cast(pl.Int128)
            ).alias("__integral"),
        )
        .drop("__before", "__nextTs", "innerIntegral")
    )
    return periods, days, keys


def _billable(
    events: pl.LazyFrame, schedule: Schedules, until: Until, supersede_by: SupersedeBy
) -> pl.LazyFrame:
    periods, days, keys = daily_timeline(events, schedule, until, supersede_by)
    period_key = [*keys, PERIOD_START]
    sums = days.group_by(period_key).agg(
        pl.col(DAY).min().alias("__firstDay"),
        pl.col("firstTs").min().alias("__firstTs"),
        pl.col("lastTotal").sort_by(DAY).last().alias("__end"),
        pl.col("maxTotal").max().alias("__max"),
        pl.col("minTotal").min().alias("__min"),
        (pl.col("dayMax") + pl.col("lastTotal") * pl.col("tailDays")).sum().alias("__seatDays"),
        (pl.col("runMax") * (pl.col("tailDays") + 1)).sum().alias("__incrementDays"),
        pl.col("__integral").sum().alias("__integral"),
    )
    start = pl.col("startSeats")
    length_us = (pl.col(PERIOD_END) - pl.col(PERIOD_START)).dt.total_microseconds().cast(pl.Int128)
    quiet_days = pl.col("__firstDay").fill_null(pl.col(DAYS)).cast(pl.Int64)
    quiet_us = (
        (pl.col("__firstTs").fill_null(pl.col(PERIOD_END)) - pl.col(PERIOD_START))
        .dt.total_microseconds()
        .cast(pl.Int128)
    )
    integral = pl.col("__integral")
    whole = integral // length_us  # exact quotient first: a constant balance averages to itself
    average = whole.cast(pl.Float64) + (integral - whole * length_us).cast(pl.Float64) / length_us.cast(
        pl.Float64
    )
    return (
        periods.join(sums, on=period_key, how="left")
        .with_columns(
            (start.cast(pl.Int128) * quiet_us + pl.col("__integral").fill_null(0)).alias("__integral")
        )
        .select(
            *keys,
            PERIOD_START,
            PERIOD_END,
            start,
            pl.col("__end").fill_null(start).alias("endSeats"),
            pl.min_horizontal(start, "__min").alias("minSeats"),
            pl.max_horizontal(start, "__max").alias("maxSeats"),
            average.alias("averageSeats"),
            pl.col(DAYS),
            (start * quiet_days + pl.col("__seatDays").fill_null(0)).alias("seatDays"),
            (start * quiet_days + pl.col("__incrementDays").fill_null(0)).alias("incrementSeatDays"),
            pl.col("__integral").alias("seatMicroseconds"),
        )
        .sort(period_key)
    )


def billable_seats(
    events: FrameT,
    schedule: Schedules,
    *,
    until: Until = None,
    supersede_by: SupersedeBy = "eventTimestamp",
) -> FrameT:
    """Billable seats per (key, period): one row for every period whose end is after the
    key's first effective event, up to the schedule's ``end`` or ``until``.

    Takes raw events (superseded versions included). Columns: the key, ``periodStart``,
    ``periodEnd``, ``startSeats`` (``b(periodStart)``), ``endSeats`` (``b`` just before
    ``periodEnd``), ``minSeats``, ``maxSeats``, ``averageSeats`` (time-weighted by the
    microsecond), ``days`` (local days), ``seatDays`` (Σ of each day's max),
    ``incrementSeatDays`` (Σ of the running max to each day's end) and
    ``seatMicroseconds`` (Int128: the exact integral of ``b`` behind ``averageSeats``).

    >>> from datetime import date, datetime, UTC
    >>> events = pl.DataFrame({"customerAlias": ["acme"] * 2, "seatType": ["admin"] * 2,
    ...     "eventTimestamp": [datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 11, 12, tzinfo=UTC)],
    ...     "total": [2, 5]})
    >>> schedule = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 2, 1))
    >>> seats = billable_seats(events, schedule)
    >>> seats.select("startSeats", "endSeats", "seatDays", "incrementSeatDays").rows()
    [(2, 5, 125, 125)]
    """
    return eager_or_lazy(events, lambda frame: _billable(frame, schedule, until, supersede_by))


def seat_balances(
    events: FrameT,
    at: datetime | None = None,
    *,
    supersede_by: SupersedeBy = "eventTimestamp",
) -> FrameT:
    """The balance of every key at instant ``at`` (default: after the latest event).

    Columns: the key, ``total`` (``b(at)``; an event exactly at ``at`` counts) and
    ``changeTimestamp`` (when that balance was set). Keys whose first effective event is
    after ``at`` have no row.

    >>> from datetime import datetime, UTC
    >>> events = pl.DataFrame({"customerAlias": ["acme"] * 2, "seatType": ["admin"] * 2,
    ...     "eventTimestamp": [datetime(2025, 1, d, tzinfo=UTC) for d in (1, 5)], "total": [2, 7]})
    >>> seat_balances(events, datetime(2025, 1, 3, tzinfo=UTC))["total"].to_list()
    [2]
    """
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise ValueError(f"at={at!r} is a naive datetime; give an aware instant")

    def compute(frame: pl.LazyFrame) -> pl.LazyFrame:
        frame = collapse_instants(resolve(with_receipt_order(frame), supersede_by))
        keys = key_columns(frame)
        if at is not None:
            frame = frame.filter(pl.col(TIMESTAMP) <= pl.lit(at).cast(INSTANT))
        latest = pl.col(TIMESTAMP) == pl.col(TIMESTAMP).max().over(keys)
        return (
            frame.filter(latest).select(*keys, TOTAL, pl.col(TIMESTAMP).alias("changeTimestamp")).sort(keys)
        )

    return eager_or_lazy(events, compute)
