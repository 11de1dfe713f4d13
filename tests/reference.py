"""A slow, plain-Python reference of SPEC §2-§5, the oracle of the property tests.

Nothing here touches polars: rows are dicts, instants are aware ``datetime``s, and every
quantity is computed the naive way (evaluate the step function at instants, walk the local
days one by one, integrate segment by segment with exact integers). Clarity beats speed.

A row has the keys ``customerEventId`` (str or None), ``customerAlias``, ``seatType``,
``eventTimestamp`` (aware datetime), ``total`` (int), and optionally ``receivedSeq`` (int)
and ``sequenceAccountId`` (str). Timestamps come back normalised to UTC.
"""

from __future__ import annotations

import calendar
import functools
import re
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any, Literal
from zoneinfo import ZoneInfo

__all__ = [
    "Row",
    "ref_average",
    "ref_billable_seats",
    "ref_day_start",
    "ref_effective_events",
    "ref_periods",
    "ref_seat_balances",
    "ref_seat_log",
]

Row = dict[str, Any]
Key = tuple[Any, ...]  # (sequenceAccountId?, customerAlias, seatType)
Step = tuple[datetime, int, Row]  # (instant in UTC, total, the event that set it)
SupersedeBy = Literal["eventTimestamp", "received"]

ONE_US = timedelta(microseconds=1)
MONTH_INTERVALS = {"1mo": 1, "3mo": 3, "6mo": 6, "1y": 12}
DAY_INTERVAL = re.compile(r"([1-9][0-9]*)([dw])")


# ---------------------------------------------------------------------------
# §2 Supersession
# ---------------------------------------------------------------------------


def _has_account(rows: list[Row]) -> bool:
    """The account is part of every key when any row carries ``sequenceAccountId``."""
    return any("sequenceAccountId" in row for row in rows)


def _key(row: Row, with_account: bool) -> Key:
    """The balance key: (sequenceAccountId?, customerAlias, seatType)."""
    key = (row["customerAlias"], row["seatType"])
    return (row.get("sequenceAccountId"), *key) if with_account else key


def _to_utc(instant: datetime, what: str) -> datetime:
    """An aware instant in UTC; a naive datetime is an error (it names no instant)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {instant!r}")
    return instant.astimezone(UTC)


def _received(rows: list[Row]) -> list[tuple[int, Row]]:
    """(receipt, row copy with a UTC eventTimestamp) in receipt order.

    Receipt is ``receivedSeq`` when the rows carry it, else the position in the list.
    """
    with_seq = any("receivedSeq" in row for row in rows)
    out = []
    for position, row in enumerate(rows):
        copy = dict(row)
        copy["eventTimestamp"] = _to_utc(row["eventTimestamp"], "eventTimestamp")
        out.append((row["receivedSeq"] if with_seq else position, copy))
    return sorted(out, key=lambda pair: pair[0])


def _effective(rows: list[Row], supersede_by: SupersedeBy) -> list[tuple[int, Row]]:
    """The effective versions, as (receipt, row), in receipt order.

    Versions share a fact when they share (sequenceAccountId?, customerEventId). The winner
    is the latest eventTimestamp, then the later receipt (``"eventTimestamp"``), or simply
    the last received (``"received"``). A None customerEventId is a fact of its own.
    """
    if supersede_by not in ("eventTimestamp", "received"):
        raise ValueError(f"unknown supersede_by {supersede_by!r}")
    with_account = _has_account(rows)
    winners: dict[tuple[Any, ...], tuple[int, Row]] = {}
    alone: list[tuple[int, Row]] = []
    for receipt, row in _received(rows):
        if row["customerEventId"] is None:
            alone.append((receipt, row))
            continue
        fact = (
            (row.get("sequenceAccountId"), row["customerEventId"])
            if with_account
            else (row["customerEventId"],)
        )
        if fact not in winners:
            winners[fact] = (receipt, row)
            continue
        old_receipt, old = winners[fact]
        if supersede_by == "received":
            wins = receipt > old_receipt
        else:
            wins = (row["eventTimestamp"], receipt) > (old["eventTimestamp"], old_receipt)
        if wins:
            winners[fact] = (receipt, row)
    return sorted([*winners.values(), *alone], key=lambda pair: pair[0])


def ref_effective_events(rows: list[Row], supersede_by: SupersedeBy = "eventTimestamp") -> list[Row]:
    """The effective version of every fact (SPEC §2), in receipt order, timestamps in UTC."""
    return [row for _, row in _effective(rows, supersede_by)]


# ---------------------------------------------------------------------------
# §3 The balance of one key
# ---------------------------------------------------------------------------


def _timelines(rows: list[Row], supersede_by: SupersedeBy) -> dict[Key, list[Step]]:
    """Per key, the steps of b: one per distinct instant, ascending.

    Events are ordered by (eventTimestamp, receipt); of several at one instant only the last
    received is kept, so a zero-length state never exists.
    """
    with_account = _has_account(rows)
    by_key: dict[Key, list[tuple[datetime, int, Row]]] = {}
    for receipt, row in _effective(rows, supersede_by):
        by_key.setdefault(_key(row, with_account), []).append((row["eventTimestamp"], receipt, row))
    timelines: dict[Key, list[Step]] = {}
    for key, events in by_key.items():
        events.sort(key=lambda event: (event[0], event[1]))
        steps: list[Step] = []
        for instant, _, row in events:
            if steps and steps[-1][0] == instant:
                steps.pop()  # a later receipt at the same instant replaces it
            steps.append((instant, row["total"], row))
        timelines[key] = steps
    return timelines


def _step_at(steps: list[Step], t: datetime) -> Step | None:
    """The step in force at t: the last with instant ≤ t (right-continuous), or None."""
    found = None
    for step in steps:
        if step[0] <= t:
            found = step
    return found


def _b(steps: list[Step], t: datetime) -> int:
    """b(t): the total of the last step at or before t; 0 before the first event."""
    step = _step_at(steps, t)
    return 0 if step is None else step[1]


def _b_before(steps: list[Step], t: datetime) -> int:
    """b(t⁻): the total of the last step strictly before t; 0 if none."""
    total = 0
    for instant, value, _ in steps:
        if instant < t:
            total = value
    return total


def _pieces(steps: list[Step], a: datetime, c: datetime) -> list[tuple[datetime, datetime, int]]:
    """[a, c) cut at every event instant inside it: (from, to, constant value of b)."""
    cuts = [a, *[instant for instant, _, _ in steps if a < instant < c], c]
    return [(cuts[i], cuts[i + 1], _b(steps, cuts[i])) for i in range(len(cuts) - 1)]


def _max(steps: list[Step], a: datetime, c: datetime) -> int:
    """max of b over [a, c) (the value at a when the interval is empty)."""
    return max(value for _, _, value in _pieces(steps, a, c)) if a < c else _b(steps, a)


def _min(steps: list[Step], a: datetime, c: datetime) -> int:
    """min of b over [a, c) (the value at a when the interval is empty)."""
    return min(value for _, _, value in _pieces(steps, a, c)) if a < c else _b(steps, a)


def _integral(steps: list[Step], a: datetime, c: datetime) -> int:
    """∫ b over [a, c) in seat·microseconds, exactly, piece by piece."""
    return sum(value * ((to - frm) // ONE_US) for frm, to, value in _pieces(steps, a, c))


def _ordered_row(key: Key, with_account: bool, fields: Row) -> Row:
    """A result row: sequenceAccountId first when present, then the key, then fields."""
    head: Row = {}
    if with_account:
        head["sequenceAccountId"] = key[0]
    head["customerAlias"], head["seatType"] = key[-2], key[-1]
    return {**head, **fields}


def ref_seat_log(rows: list[Row], supersede_by: SupersedeBy = "eventTimestamp") -> list[Row]:
    """Effective events with ``added``/``removed`` (SPEC §3), by key then instant.

    Of several events at one instant only the last received appears;
    added = max(0, total - b(t⁻)), removed = max(0, b(t⁻) - total).
    """
    log = []
    for _, steps in sorted(_timelines(rows, supersede_by).items()):
        for instant, total, row in steps:
            before = _b_before(steps, instant)
            log.append({**row, "added": max(0, total - before), "removed": max(0, before - total)})
    return log


def ref_seat_balances(
    rows: list[Row], at: datetime | None = None, supersede_by: SupersedeBy = "eventTimestamp"
) -> list[Row]:
    """Balance per key at ``at`` (default: after every event), sorted by key.

    total = b(at) (an event exactly at ``at`` counts); changeTimestamp is the instant of the
    event that set it. A key whose first effective event is after ``at`` is omitted.
    """
    with_account = _has_account(rows)
    out = []
    for key, steps in sorted(_timelines(rows, supersede_by).items()):
        step = steps[-1] if at is None else _step_at(steps, _to_utc(at, "at"))
        if step is not None:
            out.append(_ordered_row(key, with_account, {"total": step[1], "changeTimestamp": step[0]}))
    return out


# ---------------------------------------------------------------------------
# §4 Billing periods
# ---------------------------------------------------------------------------


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    """The naive local wall-clock reading of an instant."""
    return instant.astimezone(tz).replace(tzinfo=None)


@functools.cache
def ref_day_start(day: date, time_zone: str) -> datetime:
    """The UTC instant where local ``day`` begins in ``time_zone``.

    Its local midnight; where midnight happens twice, the first occurrence; where it does
    not exist (a gap), the first instant after the gap (found by bisection on microseconds).
    Remembered per (day, zone): it depends on nothing else, and the walks below ask for the
    same few hundred days again and again.
    """
    tz = ZoneInfo(time_zone)
    midnight = datetime.combine(day, time())
    instants = [midnight.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1)]
    real = [instant for instant in instants if _wall(instant, tz) == midnight]
    if real:
        return min(real)
    lo, hi = min(instants), max(instants)  # the gap's transition lies in (lo, hi]
    assert _wall(lo, tz) < midnight <= _wall(hi, tz)
    while hi - lo > ONE_US:
        mid = lo + ((hi - lo) // ONE_US // 2) * ONE_US
        if _wall(mid, tz) < midnight:
            lo = mid
        else:
            hi = mid
    return hi


def _local_days(first: date, after: date, time_zone: str) -> list[date]:
    """The local dates in [first, after) that have at least one instant.

    A date exists when it begins strictly before the next one does: Pacific/Apia's
    2011-12-30, skipped whole, begins where 2011-12-31 begins and is no day at all.
    """
    days = [first + timedelta(days=i) for i in range((after - first).days)]
    return [
        day
        for day in days
        if ref_day_start(day, time_zone) < ref_day_start(day + timedelta(days=1), time_zone)
    ]


def _add_months(anchor: date, months: int) -> date:
    """anchor + months, keeping anchor's day of month, clamped to the month's last day."""
    year, month0 = divmod(anchor.year * 12 + anchor.month - 1 + months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(anchor.day, last))


def _boundary(start: date, interval: str, k: int) -> date:
    """The k-th period boundary (a local date), always computed from the anchor ``start``."""
    if interval in MONTH_INTERVALS:
        return _add_months(start, k * MONTH_INTERVALS[interval])
    match = DAY_INTERVAL.fullmatch(interval)
    if match is None:
        raise ValueError(f"unknown interval {interval!r}: use 1mo, 3mo, 6mo, 1y, Nd or Nw")
    days = int(match[1]) * (7 if match[2] == "w" else 1)
    return start + timedelta(days=k * days)


def _period_dates(
    start: date,
    interval: str,
    time_zone: str = "UTC",
    end: date | None = None,
    until: date | datetime | None = None,
) -> list[tuple[date, date]]:
    """The periods as (first local day, local day after the last), see ``ref_periods``.

    A period without a single existing local day (wholly inside a skipped date) is left out.
    """
    ZoneInfo(time_zone)  # an unknown zone fails here
    if end is None and until is None:
        raise ValueError("a schedule needs an end or an until: it has no last period")
    if end is not None:
        if end <= start:
            raise ValueError(f"end {end} must be after start {start}")
        k = 0
        while _boundary(start, interval, k) < end:
            k += 1
        if _boundary(start, interval, k) != end:
            raise ValueError(f"end {end} is not a period boundary of {start} every {interval}")
    if until is None:
        limit = None
    elif isinstance(until, datetime):
        limit = _to_utc(until, "until")
    else:
        limit = ref_day_start(until, time_zone)
    periods = []
    k = 0
    while True:
        first, after = _boundary(start, interval, k), _boundary(start, interval, k + 1)
        if end is not None and first >= end:
            break
        if limit is not None and ref_day_start(first, time_zone) >= limit:
            break
        if _local_days(first, after, time_zone):
            periods.append((first, after))
        k += 1
    return periods


def ref_periods(
    start: date,
    interval: str,
    time_zone: str = "UTC",
    end: date | None = None,
    until: date | datetime | None = None,
) -> list[tuple[datetime, datetime, int]]:
    """The billing periods (SPEC §4) as (periodStart UTC, periodEnd UTC, days).

    Boundaries are local day starts of anchored dates: month intervals keep the start's day
    of month (clamped), ``Nd``/``Nw`` step N or 7·N days. ``end`` is exclusive and must be a
    boundary; ``until`` (a date = its local day start, or an aware instant) keeps every
    period that starts before it. With both, both apply; with neither, ValueError.
    ``days`` counts the local dates that exist (a skipped date is no day); a period with
    none does not exist.
    """
    return [
        (
            ref_day_start(first, time_zone),
            ref_day_start(after, time_zone),
            len(_local_days(first, after, time_zone)),
        )
        for first, after in _period_dates(start, interval, time_zone, end, until)
    ]


# ---------------------------------------------------------------------------
# §5 Billable seats per period
# ---------------------------------------------------------------------------


def ref_average(integral: int, length_us: int) -> float:
    """The time-weighted mean: the exact fraction integral / length, rounded once to float."""
    return float(Fraction(integral, length_us))


def ref_billable_seats(
    rows: list[Row],
    start: date,
    interval: str,
    time_zone: str = "UTC",
    end: date | None = None,
    until: date | datetime | None = None,
    supersede_by: SupersedeBy = "eventTimestamp",
) -> list[Row]:
    """One row per (key, period) whose end is after the key's first effective event.

    startSeats = b(periodStart); endSeats = b(periodEnd⁻); min/max of b over the period;
    seatMicroseconds = ∫ b exactly; averageSeats = that / period length; seatDays = Σ over
    the local days of the day's max; incrementSeatDays = Σ over the local days of the max
    of b from periodStart to the day's end; a skipped local date is no day. Sorted by key,
    then periodStart.
    """
    with_account = _has_account(rows)
    periods = _period_dates(start, interval, time_zone, end, until)
    out = []
    for key, steps in sorted(_timelines(rows, supersede_by).items()):
        first_event = steps[0][0]
        for first_day, day_after in periods:
            period_start = ref_day_start(first_day, time_zone)
            period_end = ref_day_start(day_after, time_zone)
            if period_end <= first_event:
                continue
            days = _local_days(first_day, day_after, time_zone)  # skipped dates are no days
            day_ends = [ref_day_start(day + timedelta(days=1), time_zone) for day in days]
            day_maxes = [
                _max(steps, ref_day_start(day, time_zone), day_end)
                for day, day_end in zip(days, day_ends, strict=True)
            ]
            running = [_max(steps, period_start, day_end) for day_end in day_ends]
            integral = _integral(steps, period_start, period_end)
            fields: Row = {
                "periodStart": period_start,
                "periodEnd": period_end,
                "startSeats": _b(steps, period_start),
                "endSeats": _b_before(steps, period_end),
                "minSeats": _min(steps, period_start, period_end),
                "maxSeats": _max(steps, period_start, period_end),
                "averageSeats": ref_average(integral, (period_end - period_start) // ONE_US),
                "seatMicroseconds": integral,
                "days": len(days),
                "seatDays": sum(day_maxes),
                "incrementSeatDays": sum(running),
            }
            out.append(_ordered_row(key, with_account, fields))
    return out
