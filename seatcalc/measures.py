"""Balances and billable seats per period (SPEC §3 and §5).

For each key (account?, customerAlias, seatType) the balance ``b(t)`` is the ``total`` of
the last effective event at or before ``t`` (0 before the first): a right-continuous step
function. Several events at one instant leave only the last received; that zero-length
state never counts, not even for a maximum.

How it runs: effective events are sorted once by (key, instant, receipt) and every
measure is a sum of per-event terms over that order (shifts and running maxima that
restart per period), grouped once per (key, period). Nothing is done per day: days
without an event hold one value all day, so they are counted in runs.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from seatcalc.errors import InvalidSchedule
from seatcalc.frames import (
    ALIAS,
    EVENT_ID,
    INSTANT,
    TIMESTAMP,
    TOTAL,
    EventRanges,
    FrameT,
    eager_or_lazy,
    key_columns,
)
from seatcalc.periods import BillingSchedule, Until
from seatcalc.supersession import (
    SEQ,
    SupersedeBy,
    check_policy,
    collapse_instants,
    resolve,
    with_receipt_order,
)
from seatcalc.wire import instant_argument

__all__ = ["Schedules", "billable_seats", "seat_balances"]

Schedules = BillingSchedule | Mapping[str, BillingSchedule] | pl.DataFrame
"""One schedule for every customer, or one per ``customerAlias`` (a mapping, or a frame
with columns ``customerAlias``, ``start``, ``interval`` and optionally ``timeZone``, ``end``)."""

PERIOD_START = "periodStart"
PERIOD_END = "periodEnd"
DAYS = "days"
SCHEDULE = "__schedule"
DAY = "dayIndex"
KID = "__kid"
PERIOD = "__period"


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
        if not isinstance(alias, str):
            raise InvalidSchedule(
                f"schedules mapping: key {alias!r} is not a customerAlias (a str), "
                f"it is a {type(alias).__name__}"
            )
        if not isinstance(item, BillingSchedule):
            raise InvalidSchedule(f"schedule for {alias!r} is not a BillingSchedule: {item!r}")
        aliases.append(alias)
        ids.append(distinct.setdefault(item, len(distinct)))
    index = pl.DataFrame(
        {ALIAS: pl.Series(aliases, dtype=pl.String), SCHEDULE: pl.Series(ids, dtype=pl.UInt32)}
    )
    return list(distinct), index


_FRAME_COLUMNS = (ALIAS, "start", "interval", "timeZone", "end")


def _schedules_from_frame(frame: pl.DataFrame) -> dict[str, BillingSchedule]:
    """One schedule per row of a frame with columns customerAlias, start, interval and
    optionally timeZone (null: UTC) and end (null: none). Every error names its row."""
    unknown = [name for name in frame.columns if name not in _FRAME_COLUMNS]
    if unknown:
        hints = [
            f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name)
            for name in unknown
            for close in [difflib.get_close_matches(name, _FRAME_COLUMNS, n=1, cutoff=0.6)]
        ]
        raise InvalidSchedule(
            f"a schedules frame has only the columns customerAlias, start, interval, timeZone, end; "
            f"unknown: {', '.join(hints)}"
        )
    missing = [name for name in (ALIAS, "start", "interval") if name not in frame.columns]
    if missing:
        raise InvalidSchedule(
            f"a schedules frame needs columns customerAlias, start, interval "
            f"(optional timeZone, end); missing {missing}"
        )
    schedules: dict[str, BillingSchedule] = {}
    first_row: dict[str, int] = {}
    for number, row in enumerate(frame.iter_rows(named=True)):
        alias = row[ALIAS]
        if not isinstance(alias, str):
            raise InvalidSchedule(
                f"schedules frame row {number}: customerAlias must be a string, got {alias!r}"
            )
        if alias in first_row:
            raise InvalidSchedule(
                f"schedules frame row {number}: customerAlias {alias!r} already has a schedule "
                f"(row {first_row[alias]}); give one row per customer"
            )
        first_row[alias] = number
        zone = row.get("timeZone")
        try:
            schedules[alias] = BillingSchedule(
                start=row["start"],
                interval=row["interval"],
                time_zone="UTC" if zone is None else zone,
                end=row.get("end"),
            )
        except InvalidSchedule as error:
            raise InvalidSchedule(f"schedules frame row {number} ({alias!r}): {error}") from None
    return schedules


@dataclass(frozen=True)
class _Calendar:
    """Every local day and period of the schedules in use, packed on one integer axis.

    Schedule ``s`` owns the positions ``offset[s] .. offset[s] + span[s]``: position
    ``offset[s]`` means "before the schedule" (a virtual period −1 that only carries the
    balance in), ``offset[s] + (dayStart − first[s] + 1)`` each day's first instant and
    ``offset[s] + span[s]`` the schedule's end ("after": no period). An instant ``t`` of a
    key billed on ``s`` sits at ``clip(t − first[s] + 1, 0, span[s]) + offset[s]``; a
    binary search over the positions then gives its day, period and day index at once.
    """

    first: pl.Series  # per schedule: first day start (µs since the epoch)
    span: pl.Series  # per schedule: last period end − first + 1
    offset: pl.Series  # per schedule: where its block starts on the axis
    marker: pl.Series  # per schedule: its "before" row
    closing: pl.Series  # per schedule: its "after the end" row
    position: pl.Series  # per grid row, ascending
    period: pl.Series  # per grid row: global period number, −1 before, null after
    day: pl.Series  # per grid row: index of the day within its period
    day_start: pl.Series  # per grid row: the day's first instant (µs)
    periods: pl.DataFrame  # __period, __schedule, periodStart, periodEnd, days (incl. −1 rows)
    first_period: pl.Series  # per schedule: its first global period number
    last_period: pl.Series  # per schedule: its last global period number (first − 1: none)

    @classmethod
    def build(cls, schedules: list[BillingSchedule], until: Until) -> _Calendar:
        first: list[int] = []
        first_period: list[int] = []
        span: list[int] = []
        offset: list[int] = []
        marker: list[int] = []
        closing: list[int] = []
        position: list[int] = []
        period: list[int | None] = []
        day: list[int | None] = []
        day_start_us: list[int | None] = []
        p_schedule: list[int] = []
        p_number: list[int] = []
        p_start: list[datetime | None] = []
        p_end: list[datetime | None] = []
        p_days: list[int | None] = []
        cursor = number = 0
        for index, schedule in enumerate(schedules):
            dates = schedule.boundary_dates(until)
            starts = [schedule.day_start(d) for d in dates]
            base = _micros(starts[0])
            length = _micros(starts[-1]) - base + 1
            first.append(base)
            first_period.append(number)
            span.append(length)
            offset.append(cursor)
            marker.append(len(position))
            position.append(cursor)
            period.append(-1)
            day.append(None)
            day_start_us.append(None)
            p_number.append(-1)
            p_schedule.append(index)
            p_start.append(None)
            p_end.append(None)
            p_days.append(None)
            for lo, hi, begin, finish in zip(dates, dates[1:], starts, starts[1:], strict=False):
                local_days = schedule.day_starts(lo, hi)  # skipped dates left out
                if not local_days:
                    continue  # wholly inside a skipped date: no period
                p_number.append(number)
                p_schedule.append(index)
                p_start.append(begin)
                p_end.append(finish)
                p_days.append(len(local_days))
                for k, (_, instant_at) in enumerate(local_days):
                    instant = _micros(instant_at)
                    drift = instant - base - (len(position) - marker[-1] - 1) * _DAY_US
                    if abs(drift) >= 2 * _DAY_US:
                        raise InvalidSchedule(f"{schedule.time_zone} drifts from UTC days by {drift} µs")
                    position.append(cursor + instant - base + 1)
                    period.append(number)
                    day.append(k)
                    day_start_us.append(instant)
                number += 1
            closing.append(len(position))
            position.append(cursor + length)
            period.append(None)
            day.append(None)
            day_start_us.append(None)
            cursor += length + 1
        periods = pl.DataFrame(
            {
                PERIOD: pl.Series(p_number, dtype=pl.Int32),
                SCHEDULE: pl.Series(p_schedule, dtype=pl.UInt32),
                PERIOD_START: pl.Series(p_start, dtype=INSTANT),
                PERIOD_END: pl.Series(p_end, dtype=INSTANT),
                DAYS: pl.Series(p_days, dtype=pl.Int32),
            }
        )
        return cls(
            first=pl.Series(first, dtype=pl.Int64),
            span=pl.Series(span, dtype=pl.Int64),
            offset=pl.Series(offset, dtype=pl.Int64),
            marker=pl.Series(marker, dtype=pl.Int64),
            closing=pl.Series(closing, dtype=pl.Int64),
            position=pl.Series(position, dtype=pl.Int64),
            period=pl.Series(period, dtype=pl.Int32),
            day=pl.Series(day, dtype=pl.Int32),
            day_start=pl.Series(day_start_us, dtype=pl.Int64),
            periods=periods,
            first_period=pl.Series(first_period, dtype=pl.Int32),
            last_period=pl.Series([n - 1 for n in first_period[1:]] + [number - 1], dtype=pl.Int32),
        )

    def locate(self, frame: pl.LazyFrame, instant: str, schedule: str, into: str) -> pl.LazyFrame:
        """Add ``into``: the calendar row holding ``instant`` for a key on ``schedule``.

        Local days last 24 hours give or take a daylight-saving hour, so the day is first
        guessed by division, then moved by at most two rows each way to the row whose
        position is the last one at or before the instant (``build`` checks that no zone
        drifts further). Cheaper than a binary search per event.
        """
        first, span, offset, marker, closing = (
            pl.lit(series).gather(pl.col(schedule))
            for series in (self.first, self.span, self.offset, self.marker, self.closing)
        )
        relative = (pl.col(instant) - first + 1).clip(pl.lit(0, pl.Int64), span)
        guess = (marker + 1 + (relative - 1) // _DAY_US).clip(marker, closing)
        positions = pl.lit(self.position.extend(pl.Series([2**63 - 1], dtype=pl.Int64)))
        row = pl.col(into)
        frame = frame.with_columns(guess.alias(into), (relative + offset).alias("__at"))
        for _ in range(2):
            frame = frame.with_columns(row - (pl.col("__at") < positions.gather(row)).cast(pl.Int64))
        for _ in range(2):
            frame = frame.with_columns(row + (pl.col("__at") >= positions.gather(row + 1)).cast(pl.Int64))
        return frame.drop("__at")

    def period_column(self, name: str, period: pl.Expr) -> pl.Expr:
        """A column of the periods table looked up by global period number."""
        table = self.periods.filter(pl.col(PERIOD) >= 0).sort(PERIOD)[name]
        if table.is_empty():  # no periods at all: nothing to look up
            return pl.lit(None, dtype=table.dtype)
        # Padded to two values at least: a one-value literal is broadcast as a scalar, and
        # the in-memory engine divides by a scalar through its reciprocal (1 ulp off).
        padded = table.extend(pl.Series([None], dtype=table.dtype))
        return pl.lit(padded).gather(period)


def _micros(instant: datetime) -> int:
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_US = 86_400_000_000
_SEGMENT = 1 << 32  # > any total: lets one global cum_max restart at every segment


def _segment_cum_max(value: pl.Expr, starts: pl.Expr) -> pl.Expr:
    """Running max of ``value`` that restarts where ``starts`` is true (rows in order)."""
    segment = starts.cast(pl.Int64).cum_sum() * _SEGMENT
    return (segment + value).cum_max() - segment


def _check_schedules(key_table: pl.DataFrame) -> None:
    """A customer with events but no schedule (a null ``__schedule``) is an error."""
    unscheduled = key_table.filter(pl.col(SCHEDULE).is_null())[ALIAS].unique().sort()
    if unscheduled.len():
        shown = unscheduled.head(5).to_list()
        raise InvalidSchedule(
            f"{unscheduled.len()} customers have events but no schedule, e.g. {shown}; "
            "add them to the schedules mapping"
        )


def _event_rows(
    events: pl.LazyFrame, schedule: Schedules, until: Until, supersede_by: SupersedeBy
) -> tuple[pl.LazyFrame, pl.LazyFrame, _Calendar, list[str]]:
    """Effective events, one per (key, instant), in (key, instant) order, each with its
    period, day and the per-row terms that sum to the period measures.

    Returns ``(rows, key_table, calendar, keys)``. ``key_table`` maps the dense key number
    ``__kid`` (keys sorted, so it is the same on every engine) to the key columns and the
    key's schedule.
    """
    schedules, index = _schedule_table(schedule)
    calendar = _Calendar.build(schedules, until)
    valid, ranges = with_receipt_order(events)
    keys = key_columns(valid)
    # Materialised once: every later step reads it, and a lazy plan would recompute it.
    needed = [*keys, EVENT_ID, TIMESTAMP, TOTAL, SEQ]
    effective = resolve(valid.select(needed), supersede_by).select(*keys, TIMESTAMP, TOTAL, SEQ).collect()
    frame, key_table = _number_keys(effective, keys)
    if index is None:
        key_table = key_table.with_columns(pl.lit(0, dtype=pl.UInt32).alias(SCHEDULE))
        frame = frame.with_columns(pl.lit(0, dtype=pl.UInt32).alias(SCHEDULE))
    else:
        key_table = key_table.join(index, on=ALIAS, how="left")
        _check_schedules(key_table)  # on the distinct keys, not on every event
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
    """A 64-bit hash of the key columns (only a shortcut: see :func:`_number_keys`)."""
    return pl.struct(keys).hash(seed=0)


def _number_keys(effective: pl.DataFrame, keys: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
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


def _with_terms(rows: pl.LazyFrame, calendar: _Calendar) -> pl.LazyFrame:
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


def _period_rows(rows: pl.LazyFrame, key_table: pl.LazyFrame, calendar: _Calendar) -> pl.LazyFrame:
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


def pricing_timeline(
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
    rows, key_table, calendar, keys = _event_rows(events, schedule, until, supersede_by)
    rows = rows.cache()  # read by both frames: sorted and summed once (1.8× → 1.3× billable_seats)
    periods = _period_rows(rows, key_table, calendar).select(
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


def _billable(
    events: pl.LazyFrame, schedule: Schedules, until: Until, supersede_by: SupersedeBy
) -> pl.LazyFrame:
    rows, key_table, calendar, keys = _event_rows(events, schedule, until, supersede_by)
    return _period_rows(rows, key_table, calendar).select(
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
    check_policy(supersede_by)
    return eager_or_lazy(events, lambda frame: _billable(frame, schedule, until, supersede_by))


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
