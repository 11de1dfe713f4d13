"""Hypothesis strategies for the property tests: small event frames and billing schedules.

Frames are kept small on purpose (a few customers, seat types and event ids, a pool of a
handful of instants) so that supersession, same-instant ties and events exactly on period
boundaries happen often. Every drawn case is held twice: as plain ``Row`` dicts for the
reference (``tests/reference.py``) and as a polars frame for seatcalc.
"""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Literal, TypeAlias
from zoneinfo import ZoneInfo

import polars as pl
from hypothesis import settings
from hypothesis import strategies as st

from seatcalc import BillingSchedule
from tests.reference import Row, ref_day_start

__all__ = [
    "DST_ZONES",
    "MAX_TOTAL",
    "POLICIES",
    "SEAT_TYPES",
    "SEQ_STEP",
    "SKIPPING_INTERVALS",
    "SKIPPING_ZONES",
    "TOTALS",
    "Case",
    "Events",
    "Plan",
    "Policy",
    "at_most",
    "boundary",
    "cases",
    "events",
    "instant_pools",
    "plans",
]

Policy: TypeAlias = Literal["eventTimestamp", "received"]
Until: TypeAlias = date | datetime | None

ZONES = (
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
)
DST_ZONES = ("America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Santiago")
INTERVALS = ("1mo", "3mo", "1y", "7d", "2w", "10d")
SKIPPED_DATES = {
    "Pacific/Apia": date(2011, 12, 30),
    "Pacific/Kwajalein": date(1993, 8, 21),
    "Pacific/Kiritimati": date(1994, 12, 31),
}
"""Zones that skipped a whole local date, and that date (it has no instant at all)."""
SKIPPING_ZONES = tuple(SKIPPED_DATES)
SKIPPING_INTERVALS = ("1d", "2d", "7d", "1mo")
POLICIES: tuple[Policy, ...] = ("eventTimestamp", "received")
MAX_PERIODS = {"1mo": 3, "3mo": 2, "1y": 1, "7d": 4, "2w": 3, "10d": 3, "1d": 5, "2d": 4}
MONTHS = {"1mo": 1, "3mo": 3, "1y": 12}

MAX_TOTAL = 2_147_483_647
EVENT_IDS = ("e1", "e2", "e3")
ALIASES = ("acme", "beta")
SEAT_TYPES = ("admin", "std")
ACCOUNTS = ("acc1", "acc2")
SEQ_STEP = 10
"""receivedSeq values are multiples of this, leaving room to slip a re-sent row in."""

ONE_US = timedelta(microseconds=1)
OFFSETS = (  # repeated entries weight the draw towards exact anchors
    timedelta(0),
    timedelta(0),
    timedelta(0),
    timedelta(0),
    ONE_US,
    -ONE_US,
    timedelta(minutes=30),
    timedelta(hours=1),
    -timedelta(hours=1),
    timedelta(hours=12),
    timedelta(hours=23),
)


def at_most(examples: int) -> int:
    """``max_examples`` for a heavy property: ``examples``, or the profile's own count when
    that is fewer (the dev profile's 50). Each example of such a property calls seatcalc
    several times, milliseconds each whatever the frame; its reason is given where used."""
    return min(examples, settings.default.max_examples)


# ---------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------


def boundary(start: date, interval: str, k: int) -> date:
    """The k-th period boundary (local date) of a schedule from ``start``."""
    if interval in MONTHS:
        year, month0 = divmod(start.year * 12 + start.month - 1 + k * MONTHS[interval], 12)
        last = calendar.monthrange(year, month0 + 1)[1]
        return date(year, month0 + 1, min(start.day, last))
    match = re.fullmatch(r"(\d+)([dw])", interval)
    assert match is not None, interval
    return start + timedelta(days=k * int(match[1]) * (7 if match[2] == "w" else 1))


@functools.cache
def transitions(time_zone: str) -> tuple[datetime, ...]:
    """UTC instants (to the second) where ``time_zone`` changes its offset, 2023-2026."""
    zone = ZoneInfo(time_zone)
    found: list[datetime] = []
    t = datetime(2023, 1, 1, tzinfo=UTC)
    while t.year < 2027:  # offsets change at most twice a year: a day's step misses none
        nxt = t + timedelta(days=1)
        if t.astimezone(zone).utcoffset() != nxt.astimezone(zone).utcoffset():
            lo, hi = t, nxt
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) // 2
                if mid.astimezone(zone).utcoffset() == lo.astimezone(zone).utcoffset():
                    lo = mid
                else:
                    hi = mid
            found.append(hi.replace(microsecond=0))
        t = nxt
    return tuple(found)


@dataclass(frozen=True)
class Plan:
    """A billing schedule and the cut-off it is listed to."""

    start: date
    interval: str
    time_zone: str
    end: date | None
    until: Until
    horizon: date = field(compare=False)
    """The last boundary the draw aimed at: instants are drawn up to just after it."""

    @property
    def schedule(self) -> BillingSchedule:
        return BillingSchedule(self.start, self.interval, self.time_zone, self.end)

    def ref_args(self) -> dict[str, Any]:
        """Keyword arguments of ``ref_periods`` / ``ref_billable_seats``."""
        return {
            "start": self.start,
            "interval": self.interval,
            "time_zone": self.time_zone,
            "end": self.end,
            "until": self.until,
        }

    def day_start(self, day: date) -> datetime:
        return ref_day_start(day, self.time_zone)


@functools.cache
def change_dates(time_zone: str) -> tuple[date, ...]:
    """Local dates on which ``time_zone`` changes its offset, 2023-2026."""
    return tuple(t.astimezone(ZoneInfo(time_zone)).date() for t in transitions(time_zone))


ANY_START = st.builds(
    lambda year, month, day: date(year, month, min(day, calendar.monthrange(year, month)[1])),
    st.sampled_from((2024, 2025)),
    st.integers(1, 12),
    st.sampled_from((1, 2, 9, 15, 28, 29, 30, 31)),
)


@st.composite
def start_dates(draw: st.DrawFn, /, time_zone: str) -> date:
    """A schedule start: any day (29/30/31 anchors included) or just before a DST change;
    in a zone that skipped a date, on or shortly before that date."""
    if time_zone in SKIPPED_DATES:
        return SKIPPED_DATES[time_zone] - timedelta(days=draw(st.sampled_from((0, 0, 1, 2, 3, 5, 30, 31))))
    near_change = change_dates(time_zone)
    shortly_before_a_change: bool = draw(st.booleans())
    if near_change and shortly_before_a_change:
        return draw(st.sampled_from(near_change)) - timedelta(days=draw(st.integers(0, 35)))
    return draw(ANY_START)


@st.composite
def untils(draw: st.DrawFn, /, start: date, interval: str, time_zone: str, periods: int) -> Until:
    """A cut-off near the ``periods``-th boundary: a date or an aware instant."""
    last, after = boundary(start, interval, periods - 1), boundary(start, interval, periods)
    kind = draw(st.sampled_from(("boundary", "inside", "instant", "instant", "before")))
    if kind == "boundary":
        return after
    if kind == "inside":  # a date inside the last period keeps it whole
        return last + timedelta(days=draw(st.integers(1, max(1, (after - last).days - 1))))
    if kind == "before":  # nothing starts before it: no periods at all
        return start - timedelta(days=draw(st.integers(0, 3)))
    instant = ref_day_start(after, time_zone) + draw(st.sampled_from((timedelta(0), -ONE_US, ONE_US)))
    shown_in = draw(st.sampled_from((UTC, ZoneInfo(time_zone), timezone(timedelta(hours=-3)))))
    return instant.astimezone(shown_in)


@st.composite
def plans(
    draw: st.DrawFn,
    /,
    intervals: tuple[str, ...] = INTERVALS,
    zones: tuple[str, ...] = ZONES,
    need_end: bool = False,
) -> Plan:
    """A schedule (start, interval, zone, maybe an end) and maybe an ``until``."""
    interval = draw(st.sampled_from(intervals))
    time_zone = draw(st.sampled_from(zones))
    start = draw(start_dates(time_zone))
    periods = draw(st.integers(1, MAX_PERIODS[interval]))
    horizon = boundary(start, interval, periods)
    end = horizon if need_end or draw(st.booleans()) else None
    until: Until = None
    if end is None or (not need_end and draw(st.booleans())):
        until = draw(untils(start, interval, time_zone, periods))
    return Plan(start, interval, time_zone, end, until, horizon)


# ---------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------


ANCHOR_KINDS = st.sampled_from(("boundary", "boundary", "midnight", "change", "before"))
OFFSET = st.sampled_from(OFFSETS)
BEFORE = st.sampled_from((timedelta(days=1), timedelta(days=45)))


@st.composite
def instants(draw: st.DrawFn, /, plan: Plan) -> datetime:
    """One UTC instant near ``plan``: a period boundary, a local midnight, a DST change or
    a time before the start, nudged by an offset that is usually zero."""
    kind = draw(ANCHOR_KINDS)
    changes = [
        t
        for t in transitions(plan.time_zone)
        if plan.day_start(plan.start) - timedelta(days=1) <= t <= plan.day_start(plan.horizon)
    ]
    if kind == "change" and changes:
        anchor = changes[draw(st.integers(0, len(changes) - 1))]
    elif kind == "midnight":
        first = plan.start - timedelta(days=3)
        span = (plan.horizon - first).days + 1
        anchor = plan.day_start(first + timedelta(days=draw(st.integers(0, span))))
    elif kind == "before":
        anchor = plan.day_start(plan.start) - draw(BEFORE)
    else:
        k = draw(st.integers(0, MAX_PERIODS[plan.interval] + 1))
        anchor = plan.day_start(boundary(plan.start, plan.interval, k))
    return anchor + draw(OFFSET)


def instant_pools(
    plan: Plan, min_size: int = 1, max_size: int = 5, *, unique: bool = False
) -> st.SearchStrategy[list[datetime]]:
    """A few instants near ``plan`` for events to share (so that instants coincide)."""
    return st.lists(instants(plan), min_size=min_size, max_size=max_size, unique=unique)


EMPTY = st.sampled_from((False,) * 15 + (True,))
"""Whether a frame that may be empty is (see :func:`events`)."""
TOTALS = st.one_of(*[st.integers(0, 20)] * 6, st.sampled_from((MAX_TOTAL, MAX_TOTAL - 1, 1_000_000_000)))
ALIAS = st.sampled_from(ALIASES)
SEAT_TYPE = st.sampled_from(SEAT_TYPES)
TIME_UNIT: st.SearchStrategy[Literal["us", "ns"]] = st.sampled_from(("us", "ns"))
TOTAL_DTYPE = st.sampled_from((pl.Int64, pl.Int32, pl.UInt32))
SEQ_DTYPE = st.sampled_from((pl.Int64, pl.UInt32))


@dataclass(frozen=True)
class Events:
    """Raw seat events, as reference rows and as the columns of a polars frame.

    ``rows`` always carry ``customerEventId`` (None when null or when the column is absent),
    and ``receivedSeq`` / ``sequenceAccountId`` exactly when the frame has those columns.
    """

    rows: tuple[Row, ...]
    with_event_id: bool = True
    with_seq: bool = False
    with_account: bool = False
    with_note: bool = False
    """A ``note`` column beyond SPEC §1: billable_seats ignores it, the event listings keep it."""
    time_zone: str = "UTC"
    time_unit: Literal["us", "ns"] = "us"
    total_dtype: type[pl.DataType] = pl.Int64
    seq_dtype: type[pl.DataType] = pl.Int64
    order: tuple[int, ...] = ()
    """A permutation of the columns (default: their usual order)."""

    @property
    def ref_rows(self) -> list[Row]:
        return [dict(row) for row in self.rows]

    @property
    def columns(self) -> list[str]:
        """The frame's columns, in order."""
        names = ["customerEventId"] if self.with_event_id else []
        names += ["customerAlias", "seatType", "eventTimestamp", "total"]
        names += ["receivedSeq"] if self.with_seq else []
        names += ["sequenceAccountId"] if self.with_account else []
        names += ["note"] if self.with_note else []
        return [names[i] for i in self.order] if self.order else names

    def frame(self) -> pl.DataFrame:
        def column(name: str) -> list[Any]:
            return [row[name] for row in self.rows]

        stamps = pl.Series(column("eventTimestamp"), dtype=pl.Datetime(self.time_unit, "UTC"))
        dtypes = {"total": self.total_dtype, "receivedSeq": self.seq_dtype}
        return pl.DataFrame(
            [
                stamps.dt.convert_time_zone(self.time_zone).alias(name)
                if name == "eventTimestamp"
                else pl.Series(name, column(name), dtype=dtypes.get(name, pl.String))
                for name in self.columns
            ]
        )

    def with_rows(self, rows: list[Row]) -> Events:
        return replace(self, rows=tuple(rows))


@st.composite
def events(
    draw: st.DrawFn,
    /,
    plan: Plan,
    *,
    min_rows: int = 0,
    max_rows: int = 7,
    event_ids: tuple[str | None, ...] = (None, *EVENT_IDS),
    with_seq: bool | None = None,
    distinct_instants: bool = False,
) -> Events:
    """A small frame of raw events on instants drawn from a pool around ``plan``.

    The row count is the larger of two draws, and a frame that may be empty is empty about
    one time in sixteen: hypothesis draws the low end of a range far more often than its
    share (a quarter of the frames were empty, a fifth had one row), and such frames show
    little of supersession, ties and carried balances. A failure still shrinks to few rows.
    """
    pool_size = (max(1, min_rows), max_rows) if distinct_instants else (1, 5)
    pool = draw(instant_pools(plan, *pool_size, unique=distinct_instants))
    if distinct_instants:
        pool = sorted(pool)
        max_rows = min(max_rows, len(pool))
    min_rows = min(min_rows, max_rows)
    empty = max_rows == 0 or (min_rows == 0 and draw(EMPTY))
    counts = st.integers(max(min_rows, 1), max_rows)
    count = 0 if empty else max(draw(counts), draw(counts))
    with_seq = draw(st.booleans()) if with_seq is None else with_seq
    accounts = ACCOUNTS[: draw(st.integers(0, 2))]
    with_note: bool = draw(st.booleans())
    if distinct_instants:
        stamps = draw(st.permutations(pool))[:count]
    else:
        stamps = [pool[draw(st.integers(0, len(pool) - 1))] for _ in range(count)]
    receipts = [SEQ_STEP * (p + 1) for p in draw(st.permutations(range(count)))]
    event_id = st.sampled_from(event_ids)
    rows: list[Row] = []
    for i in range(count):
        row: Row = {
            "customerEventId": draw(event_id),
            "customerAlias": draw(ALIAS),
            "seatType": draw(SEAT_TYPE),
            "eventTimestamp": stamps[i],
            "total": draw(TOTALS),
        }
        if with_seq:
            row["receivedSeq"] = receipts[i]
        if accounts:
            row["sequenceAccountId"] = accounts[draw(st.integers(0, len(accounts) - 1))]
        if with_note:
            row["note"] = f"row {i}"
        rows.append(row)
    with_event_id = any(row["customerEventId"] is not None for row in rows) or draw(st.booleans())
    width = 4 + with_event_id + with_seq + bool(accounts) + with_note
    return Events(
        rows=tuple(rows),
        with_event_id=with_event_id,
        with_seq=with_seq,
        with_account=bool(accounts),
        with_note=with_note,
        order=tuple(draw(st.permutations(range(width)))) if draw(st.booleans()) else (),
        time_zone="UTC" if draw(st.booleans()) else plan.time_zone,
        time_unit=draw(TIME_UNIT),
        total_dtype=draw(TOTAL_DTYPE),
        seq_dtype=draw(SEQ_DTYPE),
    )


@dataclass(frozen=True)
class Case:
    """One drawn scenario: a plan, raw events and a supersession policy."""

    plan: Plan
    events: Events
    policy: Policy


@st.composite
def cases(
    draw: st.DrawFn,
    /,
    *,
    intervals: tuple[str, ...] = INTERVALS,
    zones: tuple[str, ...] = ZONES,
    policies: tuple[Policy, ...] = POLICIES,
    **event_options: Any,
) -> Case:
    plan = draw(plans(intervals, zones))
    return Case(plan, draw(events(plan, **event_options)), draw(st.sampled_from(policies)))
