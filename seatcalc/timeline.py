"""The timeline: effective events placed on the calendar, one row per (key, instant), with
the per-event terms whose sums are the period measures (SPEC §3 and §5).

Every path that bills (``billable_seats``, ``price_seats``, ``explain``, and the
partitioned and Spark runs, which call these kernels per bucket of keys) goes through this
module, so each rule of the balance lives here once. The stages, in order (the names of
:func:`profile_stages`):

1. validation and supersession (:func:`effective_frame`): the effective events;
2. key numbering (:class:`KeyCodes`): each key an exact integer code that sorts as the key;
3. sort (:func:`in_event_order`): one packed Int128 column sorted alone; the dense key
   number ``__kid`` and the ``key_table`` (``__kid``, the key columns, ``__schedule``);
4. per-event terms (:func:`placed`, :func:`with_terms`) → ``rows``, one per effective
   event that is the last received at its (key, instant), in (key, instant) order:

   * ``__kid`` (UInt32), ``__schedule`` (UInt32), ``__period`` (Int32, −1 before the
     schedule), ``dayIndex``; ``eventTimestamp`` (Int64 µs since the epoch), ``total``;
   * ``__before`` (the balance just before), ``dayMax`` (max of ``b`` over the day so
     far), ``runMax`` (running max since ``periodStart``), ``tailDays`` (event-free days
     after this event's day in the period), ``__integral`` (Int128 seat·µs up to the next
     event or the period's end), flags ``__periodFirst``/``__periodLast``/``__dayFirst``/
     ``__dayLast``;

5. per-period sums (:func:`period_sums`): one row per (key, period) with events;
6. fill (:func:`period_rows`): one row per (key, period) from the key's first period on,
   periods without events holding the balance carried in; :func:`day_view` gives the
   per-day runs that pricing needs.

Everything after the sort is a pass over rows in order (shifts, running sums and maxima
that restart per run): no hash table, no join on events, and nothing expanded to a row per
day.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import polars as pl

from seatcalc.errors import InvalidSchedule
from seatcalc.events import MAX_TOTAL
from seatcalc.frames import ALIAS, EVENT_ID, TIMESTAMP, TOTAL, EventRanges, event_columns, key_columns
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

__all__ = [
    "KID",
    "STAGES",
    "KeyCodes",
    "billed_periods",
    "check_schedules",
    "day_view",
    "effective_frame",
    "event_rows",
    "in_event_order",
    "key_chunks",
    "period_rows",
    "period_sums",
    "placed",
    "profile_stages",
    "with_schedules",
    "with_terms",
]

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
) -> tuple[list[pl.LazyFrame], pl.DataFrame, Calendar, list[str]]:
    """Effective events, one per (key, instant), in (key, instant) order, each with its
    period, day and the per-row terms that sum to the period measures.

    Returns ``(rows, key_table, calendar, keys)``. ``key_table`` maps the dense key number
    ``__kid`` (keys sorted, so it is the same on every engine) to the key columns and the
    key's schedule.
    """
    schedules, index = schedule_table(schedule)
    calendar = Calendar.build(schedules, until)
    effective, ranges, keys = effective_frame(events, supersede_by)
    codes = KeyCodes(keys, [ranges.key_values[name] for name in keys])
    ordered = in_event_order(codes.coded(effective), codes.bits, ranges).collect()
    key_table = with_schedules(codes.key_table(ordered), index)
    rows = [with_terms(placed(chunk, key_table, calendar), calendar) for chunk in key_chunks(ordered)]
    return rows, key_table, calendar, keys


_CHUNK_ROWS = 250_000
"""Fewer rows than this per thread: one chunk (cutting costs more than it saves)."""


def key_chunks(ordered: pl.DataFrame) -> list[pl.DataFrame]:
    """Ordered rows cut into about one part per polars thread, every cut between two keys.

    Each term compares neighbours of one key only, so the parts are independent: their
    lazy plans, concatenated, run in parallel, and concatenated in order they give the
    rows of one plan.
    """
    parts = min(pl.thread_pool_size(), ordered.height // _CHUNK_ROWS)
    if parts <= 1:
        return [ordered]
    kids = ordered.get_column(KID)
    inner = (kids.search_sorted(kids[ordered.height * i // parts]) for i in range(1, parts))
    cuts = sorted({0, ordered.height, *inner})  # each cut: the first row of a key
    return [ordered.slice(start, stop - start) for start, stop in itertools.pairwise(cuts)]


def billed_periods(rows: list[pl.LazyFrame], key_table: pl.DataFrame, calendar: Calendar) -> pl.LazyFrame:
    """:func:`period_rows` of every chunk of rows, in key order."""
    return pl.concat([period_rows(period_sums(chunk), key_table, calendar) for chunk in rows])


def effective_frame(
    events: pl.LazyFrame, supersede_by: SupersedeBy
) -> tuple[pl.DataFrame, EventRanges, list[str]]:
    """Validated events, superseded versions left out: the key columns, ``eventTimestamp``,
    ``total`` and ``__seq``. Returns ``(frame, ranges, keys)``.

    Only the event columns are read, once (a Parquet scan is not read twice)."""
    valid, ranges = with_receipt_order(event_columns(events))
    keys = key_columns(valid)
    return _superseded(valid, keys, supersede_by), ranges, keys


def _superseded(valid: pl.LazyFrame, keys: list[str], supersede_by: SupersedeBy) -> pl.DataFrame:
    """The effective versions of validated events: keys, instant, total, receipt."""
    needed = [*keys, EVENT_ID, TIMESTAMP, TOTAL, SEQ]
    return resolve(valid.select(needed), supersede_by).select(*keys, TIMESTAMP, TOTAL, SEQ).collect()


@dataclass(frozen=True)
class KeyCodes:
    """Keys coded as integers that sort as the keys do, exactly (no hash).

    Each key column's value becomes its rank among the column's distinct values (sorted
    by their UTF-8 bytes, as polars sorts text); the ranks are the digits of one mixed-radix
    number ``Σ rank_i · stride_i``. Codes are sparse: only the keys present get numbers
    ``__kid`` (dense, in key order) once the rows are sorted.
    """

    keys: list[str]
    values: list[pl.Series]  # per key column: its distinct values, sorted

    @property
    def strides(self) -> list[int]:
        strides, stride = [], 1
        for values in reversed(self.values):
            strides.append(stride)
            stride *= max(values.len(), 1)
        return strides[::-1]

    @property
    def bits(self) -> int:
        """Bits of the largest code."""
        size = 1
        for values in self.values:
            size *= max(values.len(), 1)
        return (size - 1).bit_length()

    def code(self) -> pl.Expr:
        """The key code of each row (Int64)."""
        digits = [
            pl.col(name).cast(pl.Enum(values)).to_physical().cast(pl.Int64) * stride
            for name, values, stride in zip(self.keys, self.values, self.strides, strict=True)
        ]
        return pl.sum_horizontal(digits) if digits else pl.lit(0, dtype=pl.Int64)

    def coded(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with its key columns replaced by their code ``__code``."""
        return frame.lazy().with_columns(self.code().alias(_CODE)).drop(self.keys).collect()

    def key_table(self, ordered: pl.DataFrame) -> pl.DataFrame:
        """``__kid`` and the key columns, one row per key of rows in key order."""
        firsts = ordered.filter(pl.col(KID).diff().fill_null(1) != 0)
        code = firsts.get_column(_CODE)
        columns = [
            values.gather((code // stride) % max(values.len(), 1)).alias(name)
            for name, values, stride in zip(self.keys, self.values, self.strides, strict=True)
        ]
        return pl.DataFrame([firsts.get_column(KID), *columns])


_CODE = "__code"
_ORDER = "__order"


def in_event_order(coded: pl.DataFrame, code_bits: int, ranges: EventRanges) -> pl.LazyFrame:
    """Coded rows (:meth:`KeyCodes.coded`) sorted by (key, instant, receipt), only the
    last received at each (key, instant) kept: ``__kid``, ``__code``, ``eventTimestamp``
    (µs since the epoch), ``total``.

    When they fit (always, short of centuries of microseconds or 2^32 rows), the four are
    packed into one Int128 ``high·2^b + low`` of two Int64 words, ``high = code·2^(a−k) +
    (t − t₀) >> k`` and ``low = (((t − t₀) mod 2^k)·2^s + seq − seq₀)·2^31 + total``, the
    instant's ``k`` lowest bits moved to the low word when the high one is full. Only that
    column is sorted, then unpacked: a sort that carries no other column is several times
    faster than one that does, and the words keep the arithmetic in Int64 but for one
    product and one quotient.
    """
    time_bits = (ranges.last_micros - ranges.first_micros).bit_length()
    seq_bits = (ranges.last_received - ranges.first_received).bit_length()
    moved = max(0, code_bits + time_bits - 63)  # instant bits carried by the low word
    low_bits = moved + seq_bits + _TOTAL_BITS
    code, ts = pl.col(_CODE), pl.col(TIMESTAMP)
    if low_bits <= 63:
        instant = pl.col(TIMESTAMP).dt.epoch("us") - ranges.first_micros
        high = pl.col(_CODE) * (1 << (time_bits - moved)) + instant // (1 << moved)
        low = ((instant % (1 << moved)) * (1 << seq_bits) + pl.col(SEQ) - ranges.first_received) * (
            1 << _TOTAL_BITS
        ) + pl.col(TOTAL)
        order, high_back, instant_low = pl.col(_ORDER), pl.col("__high"), pl.col("__instantLow")
        ordered = (
            coded.lazy()
            .select((high.cast(pl.Int128) * pl.lit(1 << low_bits, pl.Int128) + low).alias(_ORDER))
            .sort(_ORDER)
            .select(
                (order // pl.lit(1 << low_bits, pl.Int128)).cast(pl.Int64).alias("__high"),
                order.cast(pl.Int64, wrap_numerical=True).alias("__low"),  # low 64 bits: low word + high's
            )
            .with_columns(
                ((pl.col("__low") // (1 << (seq_bits + _TOTAL_BITS))) % (1 << moved)).alias("__instantLow")
            )
            # several events at one (key, instant): only the last received counts
            .filter(
                ((high_back.shift(-1) == high_back) & (instant_low.shift(-1) == instant_low))
                .not_()
                .fill_null(True)
            )
            .select(
                (high_back // (1 << (time_bits - moved))).alias(_CODE),
                ((high_back % (1 << (time_bits - moved))) * (1 << moved) + instant_low).alias(TIMESTAMP),
                (pl.col("__low") % (1 << _TOTAL_BITS)).alias(TOTAL),
            )
            .with_columns(ts + ranges.first_micros)
        )
    else:
        ordered = (
            coded.lazy()
            .select(_CODE, pl.col(TIMESTAMP).dt.epoch("us"), TOTAL, SEQ)
            .sort(_CODE, TIMESTAMP, SEQ)
            .drop(SEQ)
            # several events at one (key, instant): only the last received counts
            .filter(((code.shift(-1) == code) & (ts.shift(-1) == ts)).not_().fill_null(True))
        )
    return ordered.with_columns(
        ((code != code.shift(1)).fill_null(True).cum_sum() - 1).cast(pl.UInt32).alias(KID)
    )


_TOTAL_BITS = MAX_TOTAL.bit_length()


def with_schedules(key_table: pl.DataFrame, index: pl.DataFrame | None) -> pl.DataFrame:
    """The key table with each key's schedule; a customer without one is an error."""
    if index is None:
        return key_table.with_columns(pl.lit(0, dtype=pl.UInt32).alias(SCHEDULE))
    key_table = key_table.join(index, on=ALIAS, how="left").sort(KID)
    check_schedules(key_table)  # on the distinct keys, not on every event
    return key_table


def placed(ordered: pl.DataFrame, key_table: pl.DataFrame, calendar: Calendar) -> pl.LazyFrame:
    """Ordered rows with their schedule, calendar row, period and day; rows after their
    schedule's end are left out (no period)."""
    schedule_of_key = key_table.get_column(SCHEDULE)
    ts = pl.col(TIMESTAMP)
    return (
        ordered.lazy()
        .select(KID, pl.lit(schedule_of_key).gather(pl.col(KID)).alias(SCHEDULE), TIMESTAMP, TOTAL)
        .pipe(calendar.locate, TIMESTAMP, SCHEDULE, "__row")
        .with_columns(
            pl.lit(calendar.period).gather(pl.col("__row")).alias(PERIOD),
            pl.lit(calendar.day).gather(pl.col("__row")).alias(DAY),
            (pl.lit(calendar.day_start).gather(pl.col("__row")) == ts).fill_null(False).alias("__atDayStart"),
        )
        .filter(pl.col(PERIOD).is_not_null())  # after the schedule's end: no period
    )


def with_terms(rows: pl.LazyFrame, calendar: Calendar) -> pl.LazyFrame:
    """Per-row terms; every shift compares neighbours in (key, instant) order."""
    kid, period, day, ts, total = (pl.col(c) for c in (KID, PERIOD, DAY, TIMESTAMP, TOTAL))
    same_key_before = (kid.shift(1) == kid).fill_null(False)
    same_key_after = (kid.shift(-1) == kid).fill_null(False)
    period_first = ~(same_key_before & (period.shift(1) == period).fill_null(False))
    period_last = ~(same_key_after & (period.shift(-1) == period).fill_null(False))
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
    )


def period_sums(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Per (key, period) with events, in (key, period) order: ``__kid``, ``__period``,
    ``startSeats``, ``endSeats``, ``__min``, ``__max`` and the sums ``__integral``,
    ``__seatDays``, ``__incrementDays`` of the row terms.

    The rows are in (key, instant) order, so each (key, period) is a run of rows from
    ``__periodFirst`` to ``__periodLast``: its sums are differences of running sums at
    the run ends, its extremes running extremes that restart with each run. No hashing.
    """
    day_last, first = pl.col("__dayLast"), pl.col("__periodFirst")
    seat_days = pl.col("__quietSeatDays") + pl.when(day_last).then(
        pl.col("dayMax") + pl.col(TOTAL) * pl.col("tailDays")
    ).otherwise(0)
    increment_days = pl.col("__quietSeatDays") + pl.when(day_last).then(
        pl.col("runMax") * (pl.col("tailDays") + 1)
    ).otherwise(0)
    running = {
        "__integral": pl.col("__integral"),
        "__seatDays": seat_days.cast(pl.Int128).fill_null(0),
        "__incrementDays": increment_days.cast(pl.Int128).fill_null(0),
    }
    return (
        rows.select(
            KID,
            PERIOD,
            pl.when(first).then("__startSeats").forward_fill().alias("startSeats"),
            pl.col(TOTAL).alias("endSeats"),
            (-_segment_cum_max(-pl.col(TOTAL), first)).alias("__min"),
            _segment_cum_max(pl.col(TOTAL), first).alias("__max"),
            *(value.cum_sum().alias(name) for name, value in running.items()),
            "__periodLast",
        )
        .filter("__periodLast")
        .select(
            KID,
            PERIOD,
            "startSeats",
            "endSeats",
            "__min",
            "__max",
            (pl.col("__integral") - pl.col("__integral").shift(1, fill_value=0)).alias("__integral"),
            *(
                (pl.col(name) - pl.col(name).shift(1, fill_value=0)).cast(pl.Int64).alias(name)
                for name in ("__seatDays", "__incrementDays")
            ),
        )
    )


def period_rows(sums: pl.LazyFrame, key_table: pl.DataFrame, calendar: Calendar) -> pl.LazyFrame:
    """One row per (key, period) from the key's first period on, in (key, period) order,
    measures filled in from :func:`period_sums`.

    Each (key, period) with events is followed by the periods without events up to the
    key's next one (or its schedule's last): they hold its ``endSeats`` all along. The
    "before the schedule" period (−1) is followed by the schedule's first periods.
    """
    kid, period, offset = pl.col(KID), pl.col(PERIOD), pl.col("__offset")
    schedule = pl.lit(key_table.get_column(SCHEDULE)).gather(kid)
    opening = pl.lit(calendar.first_period).gather(schedule)
    last_period = pl.lit(calendar.last_period).gather(schedule)
    following = pl.when(period < 0).then(opening).otherwise(period + 1)
    next_with_events = pl.when(kid.shift(-1) == kid).then(period.shift(-1)).otherwise(last_period + 1)
    quiet = (next_with_events - following).clip(lower_bound=0)
    has_events = offset == 0
    carried = pl.col("endSeats")

    def filled(name: str, quiet_value: pl.Expr) -> pl.Expr:
        return pl.when(has_events).then(pl.col(name)).otherwise(quiet_value).alias(name)

    begin = calendar.period_column(PERIOD_START, period.clip(0))
    end = calendar.period_column(PERIOD_END, period.clip(0))
    length_us = (pl.col(PERIOD_END) - pl.col(PERIOD_START)).dt.total_microseconds().cast(pl.Int128)
    integral = pl.col("seatMicroseconds")
    whole = integral // length_us  # exact quotient first: a constant balance averages to itself
    average = whole.cast(pl.Float64) + (integral - whole * length_us).cast(pl.Float64) / length_us.cast(
        pl.Float64
    )
    quiet_days = carried * pl.col(DAYS).cast(pl.Int64)
    return (
        sums.with_columns(following.alias("__following"), pl.int_ranges(0, quiet + 1).alias("__offset"))
        .explode("__offset")
        .with_columns(
            pl.when(has_events)
            .then(period)
            .otherwise(pl.col("__following") + offset - 1)
            .cast(pl.Int32)
            .alias(PERIOD)
        )
        .filter(period >= 0)
        .with_columns(
            begin.alias(PERIOD_START),
            end.alias(PERIOD_END),
            calendar.period_column(DAYS, period.clip(0)).alias(DAYS),
        )
        .with_columns(
            filled("startSeats", carried),
            filled("__min", carried),
            filled("__max", carried),
            filled("__integral", carried.cast(pl.Int128) * length_us).alias("seatMicroseconds"),
            filled("__seatDays", quiet_days).alias("seatDays"),
            filled("__incrementDays", quiet_days).alias("incrementSeatDays"),
        )
        .with_columns(average.alias("averageSeats"))
        .with_columns(
            pl.lit(key_table.get_column(name)).gather(kid).alias(name) for name in _key_names(key_table)
        )
    )


def _key_names(key_table: pl.DataFrame) -> list[str]:
    return [name for name in key_table.columns if name not in (KID, SCHEDULE)]


def day_view(
    events: pl.LazyFrame, schedule: Schedules, until: Until, supersede_by: SupersedeBy
) -> tuple[pl.LazyFrame, pl.LazyFrame, list[str]]:
    """The day-level view that :mod:`seatcalc.pricing.lines` prices, on the dense key ids.

    ``periods``: keys, ``__kid``, ``__period``, ``periodStart``, ``periodEnd``, ``days``,
    ``startSeats`` and ``maxSeats`` (max of ``b`` over the period). ``days``: one row per
    event day with ``__kid``, ``__period``, ``dayIndex``, ``dayMax``, ``runMax``,
    ``lastTotal`` (the balance at the day's end) and ``tailDays``: ``dayMax`` is the day's max
    balance, ``runMax`` the running max from ``periodStart`` to the day's end, and the
    ``tailDays`` days after it have no event, so they hold ``lastTotal`` all day and keep
    ``runMax``. Days before a period's first event day hold ``startSeats``.
    """
    chunks, key_table, calendar, keys = event_rows(events, schedule, until, supersede_by)
    rows = [chunk.cache() for chunk in chunks]  # read by both frames: computed once
    periods = billed_periods(rows, key_table, calendar).select(
        *keys,
        KID,
        PERIOD,
        PERIOD_START,
        PERIOD_END,
        DAYS,
        "startSeats",
        pl.max_horizontal("startSeats", "__max").alias("maxSeats"),
    )
    days = pl.concat(
        chunk.filter(pl.col("__dayLast") & (pl.col(PERIOD) >= 0)).select(
            KID, PERIOD, DAY, "dayMax", "runMax", pl.col(TOTAL).alias("lastTotal"), "tailDays"
        )
        for chunk in rows
    )
    return periods, days, keys


STAGES = (
    "validation",
    "supersession",
    "key numbering",
    "sort",
    "per-event terms",
    "per-period sums",
    "fill",
)
"""The stages of :func:`profile_stages`, in the order they run."""


def profile_stages(
    events: pl.DataFrame | pl.LazyFrame,
    schedule: Schedules,
    *,
    until: Until = None,
    supersede_by: SupersedeBy = "eventTimestamp",
    engine: str = "auto",
) -> dict[str, float]:
    """Wall seconds of each stage of ``billable_seats`` (:data:`STAGES`), the same steps
    materialised one after another, so the sum is a little above one fused run."""
    clock = _Clock()
    schedules, index = schedule_table(schedule)
    calendar = Calendar.build(schedules, until)
    valid, ranges = with_receipt_order(event_columns(events.lazy()))
    clock("validation")
    keys = key_columns(valid)
    effective = _superseded(valid, keys, supersede_by)
    clock("supersession")
    codes = KeyCodes(keys, [ranges.key_values[name] for name in keys])
    coded = codes.coded(effective)
    clock("key numbering")
    ordered = in_event_order(coded, codes.bits, ranges).collect(engine=engine)  # type: ignore[call-overload]
    key_table = with_schedules(codes.key_table(ordered), index)
    clock("sort")
    chunks = [with_terms(placed(chunk, key_table, calendar), calendar) for chunk in key_chunks(ordered)]
    rows = pl.collect_all(chunks, engine=engine)  # type: ignore[call-overload]
    clock("per-event terms")
    sums = pl.collect_all([period_sums(chunk.lazy()) for chunk in rows], engine=engine)  # type: ignore[call-overload]
    clock("per-period sums")
    pl.concat([period_rows(chunk.lazy(), key_table, calendar) for chunk in sums]).collect(engine=engine)  # type: ignore[call-overload]
    clock("fill")
    return clock.seconds


class _Clock:
    """Records the wall time since the previous call under each name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = now - self._last
        self._last = now
