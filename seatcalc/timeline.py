"""The timeline: effective events placed on the calendar, one row per (key, instant), with
the per-event terms whose sums are the period measures (SPEC §3 and §5).

Every path that bills (``billable_seats``, ``price_seats``, and the partitioned and Spark
runs, which call these kernels per bucket of keys) goes through this module, so each rule
of the balance lives here once. Frame contract:

``event_rows`` → ``rows`` (lazy), one per effective event that is the last received at its
(key, instant), sorted by (key, instant):

* ``__kid`` (UInt32): the dense key number, keys numbered in sorted key order;
* ``__schedule`` (UInt32), ``__period`` (Int32, −1 before the schedule), ``dayIndex``;
* ``eventTimestamp`` (Int64 µs since the epoch), ``total``;
* ``__before`` (the balance just before), ``dayMax`` (max of ``b`` over the day so far),
  ``runMax`` (running max since ``periodStart``), ``tailDays`` (event-free days after this
  event's day in the period), ``__integral`` (Int128 seat·µs up to the next event or the
  period's end), flags ``__periodFirst``/``__periodLast``/``__dayFirst``/``__dayLast``.

and ``key_table`` (lazy): ``__kid``, the key columns (account?, customerAlias, seatType)
and ``__schedule``. ``period_rows`` then gives one row per (key, period) from the key's
first period on, with carried balances filled in; ``day_view`` the per-day runs that
pricing needs. Nothing is ever expanded to a row per day.
"""

from __future__ import annotations

import polars as pl

from seatcalc.errors import InvalidSchedule
from seatcalc.frames import ALIAS, EVENT_ID, TIMESTAMP, TOTAL, EventRanges, key_columns
from seatcalc.periods import Until
from seatcalc.schedules import (
    DAY,
    DAYS,
    PERIOD,
    PERIOD_END,
    PERIOD_START,
    SCHEDULE,
    Calendar,
    Schedules,
    schedule_table,
)
from seatcalc.supersession import SEQ, SupersedeBy, resolve, with_receipt_order

__all__ = ["KID", "check_schedules", "day_view", "event_rows", "key_hash", "number_keys", "period_rows"]

KID = "__kid"
_SEGMENT = 1 << 32  # > any total: lets one global cum_max restart at every segment


def _segment_cum_max(value: pl.Expr, starts: pl.Expr) -> pl.Expr:
    """Running max of ``value`` that restarts where ``starts`` is true (rows in order)."""
    segment = starts.cast(pl.Int64).cum_sum() * _SEGMENT
    return (segment + value).cum_max() - segment


def check_schedules(key_table: pl.DataFrame) -> None:
    """A customer with events but no schedule (a null ``__schedule``) is an error (checked
    on the distinct keys: ``customerAlias`` and ``__schedule``)."""
    unscheduled = key_table.filter(pl.col(SCHEDULE).is_null())[ALIAS].unique().sort()
    if unscheduled.len():
        shown = unscheduled.head(5).to_list()
        raise InvalidSchedule(
            f"{unscheduled.len()} customers have events but no schedule, e.g. {shown}; "
            "add them to the schedules mapping"
        )


def event_rows(
    events: pl.LazyFrame, schedule: Schedules, until: Until, supersede_by: SupersedeBy
) -> tuple[pl.LazyFrame, pl.LazyFrame, Calendar, list[str]]:
    """Effective events, one per (key, instant), in (key, instant) order, each with its
    period, day and the per-row terms that sum to the period measures.

    Returns ``(rows, key_table, calendar, keys)``. ``key_table`` maps the dense key number
    ``__kid`` (keys sorted, so it is the same on every engine) to the key columns and the
    key's schedule.
    """
    schedules, index = schedule_table(schedule)
    calendar = Calendar.build(schedules, until)
    valid, ranges = with_receipt_order(events)
    keys = key_columns(valid)
    # Materialised once: every later step reads it, and a lazy plan would recompute it.
    needed = [*keys, EVENT_ID, TIMESTAMP, TOTAL, SEQ]
    effective = resolve(valid.select(needed), supersede_by).select(*keys, TIMESTAMP, TOTAL, SEQ).collect()
    frame, key_table = number_keys(effective, keys)
    if index is None:
        key_table = key_table.with_columns(pl.lit(0, dtype=pl.UInt32).alias(SCHEDULE))
        frame = frame.with_columns(pl.lit(0, dtype=pl.UInt32).alias(SCHEDULE))
    else:
        key_table = key_table.join(index, on=ALIAS, how="left")
        check_schedules(key_table)  # on the distinct keys, not on every event
        frame = frame.join(key_table.select(KID, SCHEDULE), on=KID)

    ts = pl.col(TIMESTAMP)
    kid = pl.col(KID)
    rows = (
        frame.lazy()
        .select(KID, SCHEDULE, ts.dt.epoch("us").alias(TIMESTAMP), TOTAL, SEQ)
        .sort(_event_order(ranges))
        .drop(SEQ)
        # several events at one instant: only the last received counts
        .filter(((kid.shift(-1) == kid) & (ts.shift(-1) == ts)).not_().fill_null(True))
        .pipe(calendar.locate, TIMESTAMP, SCHEDULE, "__row")
        .with_columns(
            pl.lit(calendar.period).gather(pl.col("__row")).alias(PERIOD),
            pl.lit(calendar.day).gather(pl.col("__row")).alias(DAY),
            (pl.lit(calendar.day_start).gather(pl.col("__row")) == ts).fill_null(False).alias("__atDayStart"),
        )
        .filter(pl.col(PERIOD).is_not_null())  # after the schedule's end: no period
    )
    return _with_terms(rows, calendar), key_table.lazy(), calendar, keys


def key_hash(keys: list[str]) -> pl.Expr:
    """A 64-bit hash of the key columns (only a shortcut: see :func:`number_keys`)."""
    return pl.struct(keys).hash(seed=0)


def number_keys(effective: pl.DataFrame, keys: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Give every row its dense key number ``__kid`` (keys numbered in sorted order).

    Rows are matched to keys through a 64-bit hash, then every row's key text is compared
    with its key's: should two keys ever share a hash, the keys are matched by their text
    instead. Returns ``(rows with __kid, key table)``.
    """
    hashed = effective.with_columns(key_hash(keys).alias("__keyHash"))
    table = (
        hashed.unique(subset="__keyHash", keep="any")
        .select("__keyHash", *keys)
        .sort(keys)
        .with_row_index(KID)
    )
    matched = hashed.join(table.rename({k: f"__table_{k}" for k in keys}), on="__keyHash")
    collided = matched.select(
        pl.any_horizontal(pl.col(k) != pl.col(f"__table_{k}") for k in keys).any()
    ).item()
    if not collided:
        return matched.drop("__keyHash", *(f"__table_{k}" for k in keys)), table.drop("__keyHash")
    table = effective.select(keys).unique().sort(keys).with_row_index(KID)
    return effective.join(table, on=keys), table


def _event_order(ranges: EventRanges) -> pl.Expr | list[str]:
    """Sort key for (key, instant, receipt) order.

    One Int128 ``key·2^(a+b) + (t − t₀)·2^b + (seq − seq₀)`` when the three fit in 127
    bits (always, short of centuries of microseconds): one integer column sorts several
    times faster than three.
    """
    key_bits = max(ranges.rows, 1).bit_length()
    time_bits = (ranges.last_micros - ranges.first_micros).bit_length()
    seq_bits = (ranges.last_received - ranges.first_received).bit_length()
    if key_bits + time_bits + seq_bits > 127:
        return [KID, TIMESTAMP, SEQ]
    return (
        pl.col(KID).cast(pl.Int128) * pl.lit(1 << (time_bits + seq_bits), pl.Int128)
        + (pl.col(TIMESTAMP) - ranges.first_micros).cast(pl.Int128) * pl.lit(1 << seq_bits, pl.Int128)
        + (pl.col(SEQ) - ranges.first_received).cast(pl.Int128)
    )


def _with_terms(rows: pl.LazyFrame, calendar: Calendar) -> pl.LazyFrame:
    """Per-row terms; every shift compares neighbours in (key, instant) order."""
    kid, period, day, ts, total = (pl.col(c) for c in (KID, PERIOD, DAY, TIMESTAMP, TOTAL))
    same_key_before = (kid.shift(1) == kid).fill_null(False)
    same_key_after = (kid.shift(-1) == kid).fill_null(False)
    period_first = ~(same_key_before & (period.shift(1) == period).fill_null(False))
    period_last = ~(same_key_after & (period.shift(-1) == period).fill_null(False))
    in_period = period >= 0
    start = calendar.period_column(PERIOD_START, period.clip(0)).dt.epoch("us")
    end = calendar.period_column(PERIOD_END, period.clip(0)).dt.epoch("us")
    length = calendar.period_column(DAYS, period.clip(0)).cast(pl.Int64)
    return (
        rows.with_columns(
            # b(t⁻): the balance just before this event (0 before the key's first event)
            pl.when(same_key_before).then(total.shift(1)).otherwise(0).alias("__before"),
            period_first.alias("__periodFirst"),
            period_last.alias("__periodLast"),
            (period_first | (day.shift(1) != day).fill_null(True)).alias("__dayFirst"),
            (period_last | (day.shift(-1) != day).fill_null(True)).alias("__dayLast"),
            pl.when(period_last).then(end).otherwise(ts.shift(-1)).alias("__nextTs"),
            pl.when(period_last).then(length).otherwise(day.shift(-1)).alias("__nextDay"),
            start.alias("__start"),
        )
        .with_columns(
            # b(periodStart): this event if it is exactly at the start, else the one before
            pl.when(ts == pl.col("__start")).then(total).otherwise("__before").alias("__startSeats"),
            # the day's balance just after its first instant joins the day's maximum,
            # unless an event sits exactly on that instant
            pl.when(pl.col("__dayFirst") & ~pl.col("__atDayStart"))
            .then(pl.max_horizontal(total, "__before"))
            .otherwise(total)
            .alias("__dayCandidate"),
        )
        .with_columns(
            _segment_cum_max(pl.col("__dayCandidate"), pl.col("__dayFirst")).alias("dayMax"),
            _segment_cum_max(
                pl.when("__periodFirst")
                .then(pl.max_horizontal("__dayCandidate", "__startSeats"))
                .otherwise("__dayCandidate"),
                pl.col("__periodFirst"),
            ).alias("runMax"),
            (pl.col("__nextDay") - day - 1).alias("tailDays"),
        )
        .with_columns(
            (
                total.cast(pl.Int128) * (pl.col("__nextTs") - ts).cast(pl.Int128)
                + pl.when("__periodFirst")
                .then(pl.col("__startSeats").cast(pl.Int128) * (ts - pl.col("__start")).cast(pl.Int128))
                .otherwise(0)
            ).alias("__integral"),
            (pl.when("__periodFirst").then(pl.col("__startSeats") * day.cast(pl.Int64)).otherwise(0)).alias(
                "__quietSeatDays"
            ),
        )
        .with_columns(pl.when(in_period).then(pl.col(c)).alias(c) for c in ("__integral",))
    )


def period_rows(rows: pl.LazyFrame, key_table: pl.LazyFrame, calendar: Calendar) -> pl.LazyFrame:
    """One row per (key, period) from the key's first period on, measures filled in.

    Periods without events hold the balance carried in from the last event before them.
    """
    day_last = pl.col("__dayLast")
    # Per-row terms first, so that the group-by only runs plain sums, minima and maxima.
    sums = (
        rows.select(
            _pair(KID, PERIOD),
            pl.when("__periodFirst").then("__startSeats").alias("startSeats"),
            pl.when("__periodLast").then(TOTAL).alias("endSeats"),
            pl.col(TOTAL).alias("__min"),
            pl.col(TOTAL).alias("__max"),
            "__integral",
            (
                pl.col("__quietSeatDays")
                + pl.when(day_last).then(pl.col("dayMax") + pl.col(TOTAL) * pl.col("tailDays")).otherwise(0)
            ).alias("__seatDays"),
            (
                pl.col("__quietSeatDays")
                + pl.when(day_last).then(pl.col("runMax") * (pl.col("tailDays") + 1)).otherwise(0)
            ).alias("__incrementDays"),
        )
        .group_by(_PAIR)
        .agg(
            pl.col("startSeats", "endSeats", "__max").max(),
            pl.col("__min").min(),
            pl.col("__integral", "__seatDays", "__incrementDays").sum(),
        )
    )
    first_period = rows.group_by(KID).agg(pl.col(PERIOD).min().alias("__firstPeriod"))
    # A key with events before its schedule lists "before" (−1), then its schedule's periods.
    opening = pl.lit(calendar.first_period).gather(pl.col(SCHEDULE))
    last_period = pl.lit(calendar.last_period).gather(pl.col(SCHEDULE))
    lowest = pl.when(pl.col("__firstPeriod") < 0).then(opening - 1).otherwise("__firstPeriod")
    listed = pl.int_ranges(lowest, last_period + 1, dtype=pl.Int32)
    carried = pl.col("endSeats").forward_fill()  # each key's first row has events: no leak
    start = pl.coalesce("startSeats", carried)
    begin = calendar.period_column(PERIOD_START, pl.col(PERIOD).clip(0))
    end = calendar.period_column(PERIOD_END, pl.col(PERIOD).clip(0))
    length_us = (pl.col(PERIOD_END) - pl.col(PERIOD_START)).dt.total_microseconds().cast(pl.Int128)
    integral = pl.coalesce("__integral", carried.cast(pl.Int128) * length_us)
    whole = integral // length_us  # exact quotient first: a constant balance averages to itself
    average = whole.cast(pl.Float64) + (integral - whole * length_us).cast(pl.Float64) / length_us.cast(
        pl.Float64
    )
    quiet_days = carried * pl.col(DAYS).cast(pl.Int64)
    return (
        key_table.join(first_period, on=KID)
        .with_columns(listed.alias(PERIOD))
        .explode(PERIOD)
        .with_columns(pl.when(pl.col(PERIOD) < opening).then(-1).otherwise(PERIOD).alias(PERIOD))
        .with_columns(_pair(KID, PERIOD))
        .join(sums, on=_PAIR, how="left")
        # keys are numbered in key order and periods in time order: one integer sorts both
        .sort(_PAIR)
        .with_columns(
            begin.alias(PERIOD_START),
            end.alias(PERIOD_END),
            calendar.period_column(DAYS, pl.col(PERIOD).clip(0)).alias(DAYS),
        )
        .with_columns(
            start.alias("startSeats"),
            carried.alias("endSeats"),
            pl.coalesce("__min", carried).alias("__min"),
            pl.coalesce("__max", carried).alias("__max"),
            integral.alias("seatMicroseconds"),
            average.alias("averageSeats"),
            pl.coalesce("__seatDays", quiet_days).alias("seatDays"),
            pl.coalesce("__incrementDays", quiet_days).alias("incrementSeatDays"),
        )
        .filter(pl.col(PERIOD) >= 0)
    )


_PAIR = "__keyPeriod"


def _pair(kid: str, period: str) -> pl.Expr:
    """(key, period) as one Int64 (period −1, "before the schedule", included)."""
    return (pl.col(kid).cast(pl.Int64) * (1 << 32) + pl.col(period).cast(pl.Int64) + 1).alias(_PAIR)


def day_view(
    events: pl.LazyFrame, schedule: Schedules, until: Until, supersede_by: SupersedeBy
) -> tuple[pl.LazyFrame, pl.LazyFrame, list[str]]:
    """The day-level view that :mod:`seatcalc.pricing` prices, on the dense key ids.

    ``periods``: keys, ``__kid``, ``__period``, ``periodStart``, ``periodEnd``, ``days``,
    ``startSeats`` and ``maxSeats`` (max of ``b`` over the period). ``days``: one row per
    event day with ``__kid``, ``__period``, ``dayIndex``, ``dayMax``, ``runMax``,
    ``lastTotal`` (the balance at the day's end) and ``tailDays``: ``dayMax`` is the day's max
    balance, ``runMax`` the running max from ``periodStart`` to the day's end, and the
    ``tailDays`` days after it have no event, so they hold ``lastTotal`` all day and keep
    ``runMax``. Days before a period's first event day hold ``startSeats``.
    """
    rows, key_table, calendar, keys = event_rows(events, schedule, until, supersede_by)
    rows = rows.cache()  # read by both frames: sorted and summed once (1.8× → 1.3× billable_seats)
    periods = period_rows(rows, key_table, calendar).select(
        *keys,
        KID,
        PERIOD,
        PERIOD_START,
        PERIOD_END,
        DAYS,
        "startSeats",
        pl.max_horizontal("startSeats", "__max").alias("maxSeats"),
    )
    days = rows.filter(pl.col("__dayLast") & (pl.col(PERIOD) >= 0)).select(
        KID, PERIOD, DAY, "dayMax", "runMax", pl.col(TOTAL).alias("lastTotal"), "tailDays"
    )
    return periods, days, keys
