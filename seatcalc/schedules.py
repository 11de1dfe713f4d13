"""Schedules in use and the calendar they span (SPEC §4): one schedule for every customer or
one per ``customerAlias``, and every local day and period of them on one integer axis.

Column names of the calendar's frames: ``__schedule`` (index of a distinct schedule),
``__period`` (global period number, −1 "before the schedule"), ``dayIndex`` (a day's index
within its period), ``periodStart``, ``periodEnd`` (UTC instants, half-open) and ``days``
(the period's local days).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from seatcalc.errors import InvalidSchedule
from seatcalc.frames import ALIAS, INSTANT
from seatcalc.periods import BillingSchedule, Until

__all__ = [
    "DAY",
    "DAYS",
    "PERIOD",
    "PERIOD_END",
    "PERIOD_START",
    "SCHEDULE",
    "Calendar",
    "Schedules",
    "schedule_table",
    "schedules_from_frame",
]

Schedules = BillingSchedule | Mapping[str, BillingSchedule] | pl.DataFrame
"""One schedule for every customer, or one per ``customerAlias`` (a mapping, or a frame
with columns ``customerAlias``, ``start``, ``interval`` and optionally ``timeZone``, ``end``)."""

PERIOD_START = "periodStart"
PERIOD_END = "periodEnd"
DAYS = "days"
SCHEDULE = "__schedule"
DAY = "dayIndex"
PERIOD = "__period"
DAY_US = 86_400_000_000


def schedule_table(schedule: Schedules) -> tuple[list[BillingSchedule], pl.DataFrame | None]:
    """Distinct schedules, and (per-customer case) ``customerAlias → __schedule`` index."""
    if isinstance(schedule, BillingSchedule):
        return [schedule], None
    if isinstance(schedule, pl.DataFrame):
        schedule = schedules_from_frame(schedule)
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


def schedules_from_frame(frame: pl.DataFrame) -> dict[str, BillingSchedule]:
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
class Calendar:
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
    uniform: bool  # every day of every schedule starts a whole number of 24 h after its first

    @classmethod
    def build(cls, schedules: list[BillingSchedule], until: Until) -> Calendar:
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
        uniform = True
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
                    drift = instant - base - (len(position) - marker[-1] - 1) * DAY_US
                    uniform = uniform and drift == 0
                    if abs(drift) >= 2 * DAY_US:
                        raise InvalidSchedule(f"{schedule.time_zone} drifts from UTC days by {drift} µs")
                    position.append(cursor + instant - base + 1)
                    period.append(number)
                    day.append(k)
                    day_start_us.append(instant)
                number += 1
            # the end, too, a whole number of 24 h after the first day (not so across a
            # daylight-saving change on the last day)
            uniform = uniform and length - 1 == (len(position) - marker[-1] - 1) * DAY_US
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
            uniform=uniform,
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
        guess = (marker + 1 + (relative - 1) // DAY_US).clip(marker, closing)
        positions = pl.lit(self.position.extend(pl.Series([2**63 - 1], dtype=pl.Int64)))
        row = pl.col(into)
        if self.uniform:  # days of 24 h (UTC, fixed offsets): the guess is the row
            return frame.with_columns(guess.alias(into))
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
