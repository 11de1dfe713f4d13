"""Billing schedules and their periods (SPEC §4).

Period boundaries are local midnights in the schedule's IANA time zone, converted to UTC
instants; periods are half-open ``[periodStart, periodEnd)`` and contiguous. Month
intervals stay anchored on the start's day of month and clamp to short months (Jan 31 →
Feb 29 → Mar 31 → Apr 30). A calendar day is a local day: 23 or 25 hours across a
daylight-saving change; a day whose midnight does not exist starts at its first instant,
a day whose midnight happens twice starts at the first occurrence. A local date with no
instant at all (Pacific/Apia skipped 2011-12-30) is not a day: no period counts it, and a
period lying wholly inside it does not exist.
"""

from __future__ import annotations

import calendar
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from seatcalc.errors import InvalidSchedule

__all__ = ["BillingSchedule", "Until", "billing_periods", "day_start", "has_instant"]

Until = date | datetime | None
"""A cut-off: a date (its local midnight in the schedule's zone) or an aware instant."""

_INTERVAL = re.compile(r"(?P<count>1|3|6)(?P<unit>mo)|(?P<year>1)y|(?P<n>[1-9]\d{0,3})(?P<unit2>w|d)")
_MAX_PERIODS = 100_000


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which local ``day`` begins in ``zone``.

    Normally its local midnight; where midnight is skipped by a daylight-saving jump, the
    first instant that exists on that day; where midnight happens twice, the first.

    >>> day_start(date(2025, 3, 9), ZoneInfo("America/New_York"))
    datetime.datetime(2025, 3, 9, 5, 0, tzinfo=datetime.timezone.utc)
    """
    midnight = datetime.combine(day, time(), zone)
    early = midnight.replace(fold=0).astimezone(UTC)
    late = midnight.replace(fold=1).astimezone(UTC)
    lo, hi = min(early, late), max(early, late)
    if lo.astimezone(zone).date() == day:
        return lo  # midnight exists (once, or twice: the first occurrence)
    # Midnight falls in a gap: the day starts at the transition, between lo and hi.
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).date() >= day:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)


def has_instant(day: date, zone: ZoneInfo) -> bool:
    """Whether local ``day`` has any instant in ``zone``.

    False only for a date skipped whole, as Pacific/Apia skipped 2011-12-30 when it moved
    across the date line: its start is then the next date's start.

    >>> has_instant(date(2011, 12, 30), ZoneInfo("Pacific/Apia"))
    False
    """
    midnight = datetime.combine(day, time(), zone)
    if midnight.astimezone(UTC).astimezone(zone).date() == day:
        return True  # the usual case: its midnight, or the hour after a skipped one, exists
    return day_start(day, zone) < day_start(day + timedelta(days=1), zone)


def _parse_interval(interval: object) -> tuple[int, str]:
    if not isinstance(interval, str):
        raise InvalidSchedule(
            f"interval must be a string such as '1mo', '3mo', '6mo', '1y', 'Nd' or 'Nw', got {interval!r}"
        )
    match = _INTERVAL.fullmatch(interval)
    if match is None:
        raise InvalidSchedule(
            f"interval {interval!r} is not one of '1mo', '3mo', '6mo', '1y', 'Nd', 'Nw' "
            "(N a whole number from 1)"
        )
    if match["unit"]:
        return int(match["count"]), "mo"
    if match["year"]:
        return 12, "mo"
    count = int(match["n"])
    return (7 * count, "d") if match["unit2"] == "w" else (count, "d")


def _zone(time_zone: object) -> ZoneInfo:
    if not isinstance(time_zone, str) or not time_zone:
        raise InvalidSchedule(
            f"time_zone must be an IANA time zone name such as 'Europe/London', got {time_zone!r}"
        )
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidSchedule(
            f"time_zone {time_zone!r} is not an IANA time zone name (e.g. 'Europe/London')"
        ) from None


def _add_months(anchor: date, months: int) -> date:
    """``anchor`` plus ``months``, on the anchor's day of month clamped to the month's end."""
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(anchor.day, last))


@dataclass(frozen=True, slots=True)
class BillingSchedule:
    """Billing periods from ``start`` every ``interval`` in ``time_zone``, up to ``end``.

    ``interval`` is ``"1mo"``, ``"3mo"``, ``"6mo"``, ``"1y"`` (twelve anchored months),
    ``"Nd"`` (N days) or ``"Nw"`` (7·N days). ``end`` is exclusive and must be a period
    boundary; without it, a cut-off (``until``) must be given when periods are listed.

    >>> schedule = BillingSchedule(date(2024, 1, 31), "1mo", end=date(2024, 4, 30))
    >>> [p.isoformat() for p in schedule.boundary_dates(date(2024, 4, 30))]
    ['2024-01-31', '2024-02-29', '2024-03-31', '2024-04-30']
    """

    start: date
    interval: str
    time_zone: str = "UTC"
    end: date | None = None
    _step: tuple[int, str] = field(init=False, repr=False, compare=False, hash=False)
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if isinstance(self.start, datetime) or not isinstance(self.start, date):
            raise InvalidSchedule(f"start must be a date, got {self.start!r}")
        if self.end is not None and (isinstance(self.end, datetime) or not isinstance(self.end, date)):
            raise InvalidSchedule(f"end must be a date or None, got {self.end!r}")
        object.__setattr__(self, "_step", _parse_interval(self.interval))
        object.__setattr__(self, "_zone", _zone(self.time_zone))
        if self.end is not None:
            self._check_end(self.end)

    def _check_end(self, end: date) -> None:
        if end <= self.start:
            raise InvalidSchedule(f"end {end} must be after start {self.start}")
        before = self.start
        for boundary in self._boundaries():
            if boundary == end:
                return
            if boundary > end:
                raise InvalidSchedule(
                    f"end {end} is not a period boundary of a {self.interval!r} schedule "
                    f"from {self.start}; the nearest boundaries are {before} and {boundary}"
                )
            before = boundary
        raise InvalidSchedule(
            f"end {end} is more than {_MAX_PERIODS} {self.interval!r} periods after start {self.start}"
        )

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def _boundaries(self) -> Iterator[date]:
        """The period boundaries from ``start`` on (at most ``_MAX_PERIODS`` + 1 of them).

        Raises :class:`InvalidSchedule` where a boundary would pass 9999-12-31.
        """
        count, unit = self._step
        for k in range(_MAX_PERIODS + 1):
            try:
                if unit == "mo":
                    yield _add_months(self.start, k * count)
                else:
                    yield self.start + timedelta(days=k * count)
            except (OverflowError, ValueError):
                raise InvalidSchedule(
                    f"the {self.interval!r} schedule from {self.start} needs a period boundary after "
                    f"{date.max}, the last date that can be represented; give an earlier until or end"
                ) from None

    def day_start(self, day: date) -> datetime:
        """The UTC instant at which local ``day`` begins in this schedule's zone.

        Raises :class:`InvalidSchedule` when that instant is outside the years 1–9999.
        """
        try:
            return day_start(day, self._zone)
        except OverflowError:
            raise InvalidSchedule(
                f"the start of {day} in {self.time_zone} is outside the years 1-9999 (in UTC)"
            ) from None

    def day_starts(self, first: date, after: date) -> list[tuple[date, datetime]]:
        """Every local date in ``[first, after)`` that exists, with its first instant.

        A date with no instant (Pacific/Apia's 2011-12-30) is left out.
        """
        return [
            (day, self.day_start(day))
            for day in (first + timedelta(days=k) for k in range((after - first).days))
            if self.has_instant(day)
        ]

    def has_instant(self, day: date) -> bool:
        """Whether local ``day`` exists in this schedule's zone (see :func:`has_instant`)."""
        try:
            return has_instant(day, self._zone)
        except OverflowError:
            raise InvalidSchedule(
                f"the start of {day} in {self.time_zone} is outside the years 1-9999 (in UTC)"
            ) from None

    def until_instant(self, until: Until) -> datetime | None:
        """The cut-off as a UTC instant (a date means its local midnight)."""
        if until is None:
            return None
        if isinstance(until, datetime):
            if until.tzinfo is None or until.utcoffset() is None:
                raise InvalidSchedule(f"until {until!r} is a naive datetime; give an aware instant or a date")
            try:
                return until.astimezone(UTC)
            except OverflowError:
                raise InvalidSchedule(f"until {until!r} is outside the years 1-9999 in UTC") from None
        if isinstance(until, date):
            try:
                return self.day_start(until)
            except InvalidSchedule as error:
                raise InvalidSchedule(f"until {until}: {error}") from None
        raise InvalidSchedule(f"until must be a date, an aware datetime or None, got {until!r}")

    def boundary_dates(self, until: Until = None) -> list[date]:
        """Local dates of the period boundaries, first to last (one more than periods).

        Keeps every period that starts before ``until`` (whole) and ends by ``end``.
        """
        cutoff = self.until_instant(until)
        if cutoff is None and self.end is None:
            raise InvalidSchedule(
                f"the {self.interval!r} schedule from {self.start} has no end: "
                "give BillingSchedule(end=...) or until=..."
            )
        dates: list[date] = []
        for boundary in self._boundaries():
            dates.append(boundary)
            if (self.end is not None and boundary >= self.end) or (
                cutoff is not None and self.day_start(boundary) >= cutoff
            ):
                break  # before the next boundary is computed: it may not be representable
        else:
            raise InvalidSchedule(f"more than {_MAX_PERIODS} periods requested; narrow until/end")
        return dates

    def periods(self, until: Until = None) -> list[tuple[datetime, datetime, int]]:
        """``(periodStart, periodEnd, days)`` for every period, in order (UTC instants).

        ``days`` counts the local dates that exist; a period with none (it lies wholly
        inside a skipped date) is left out, so the periods stay contiguous.
        """
        dates = self.boundary_dates(until)
        rows = []
        for lo, hi in itertools.pairwise(dates):
            days = sum(self.has_instant(lo + timedelta(days=k)) for k in range((hi - lo).days))
            if days:
                rows.append((self.day_start(lo), self.day_start(hi), days))
        return rows


def billing_periods(schedule: BillingSchedule, until: Until = None) -> pl.DataFrame:
    """The periods of ``schedule`` as a frame: ``periodStart``, ``periodEnd``, ``days``.

    >>> billing_periods(BillingSchedule(date(2024, 1, 31), "1mo"), until=date(2024, 3, 1))["days"].to_list()
    [29, 31]
    """
    rows = schedule.periods(until)
    instant = pl.Datetime("us", "UTC")
    return pl.DataFrame(
        {
            "periodStart": pl.Series([r[0] for r in rows], dtype=instant),
            "periodEnd": pl.Series([r[1] for r in rows], dtype=instant),
            "days": pl.Series([r[2] for r in rows], dtype=pl.Int32),
        }
    )
