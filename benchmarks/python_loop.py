"""The naive peer: SPEC §5 ``billable_seats`` as a user would write it with dicts and loops.

Row by row, no dataframe: resolve supersession in a dict, build each key's timeline, then
walk every period and every day of it. Instants are turned into integer microseconds since
the epoch so every sum is exact. Used only at small sizes, as the "plain Python" baseline
and as an independent check of the DuckDB peer.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["python_billable_seats"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_DAY_US = 86_400_000_000


def _us(instant: datetime) -> int:
    return (instant - _EPOCH) // _US


def _instant(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _balance(times: list[int], totals: list[int], t: int) -> int:
    """b(t): the total of the last change at or before t, 0 before the first."""
    i = bisect_right(times, t)
    return totals[i - 1] if i else 0


def _pieces(times: list[int], totals: list[int], a: int, b: int) -> list[tuple[int, int, int]]:
    """(start, end, value) of the constant pieces of b over [a, b)."""
    cuts = [a, *times[bisect_right(times, a) : bisect_left(times, b)], b]
    return [(cuts[i], cuts[i + 1], _balance(times, totals, cuts[i])) for i in range(len(cuts) - 1)]


def python_billable_seats(
    events_rows: list[dict[str, Any]],
    periods: list[tuple[datetime, datetime]],
    days: list[tuple[datetime, datetime]] | None = None,
) -> list[dict[str, Any]]:
    """Billable seats per (customerAlias, seatType, period), SPEC §5, one schedule for all.

    ``events_rows``: dicts with customerEventId, customerAlias, seatType, eventTimestamp
    (aware datetime), total and optionally receivedSeq (else the list position is the
    receipt order). ``periods``: contiguous half-open (start, end) pairs. ``days``: the
    calendar days as (start, end) pairs covering the periods; by default UTC days.
    Rows come back sorted by customerAlias, seatType, periodStart.
    """
    # 1. supersession: per customerEventId, the latest eventTimestamp wins, then the later receipt
    winners: dict[Any, tuple[tuple[int, int], dict[str, Any]]] = {}
    for position, row in enumerate(events_rows):
        seq = row.get("receivedSeq", position)
        event_id = row.get("customerEventId")
        fact = event_id if event_id is not None else ("<no id>", seq)
        rank = (_us(row["eventTimestamp"]), seq)
        if fact not in winners or rank > winners[fact][0]:
            winners[fact] = (rank, row)

    # 2. timelines: per key, per instant, the last received total
    at_instant: dict[tuple[str, str], dict[int, tuple[int, int]]] = defaultdict(dict)
    for (ts, seq), row in winners.values():
        instants = at_instant[(row["customerAlias"], row["seatType"])]
        if ts not in instants or seq > instants[ts][0]:
            instants[ts] = (seq, row["total"])

    # 3. periods and their days, in microseconds
    spans = [(_us(start), _us(end)) for start, end in periods]
    if days is None:
        period_days = [[(d, d + _DAY_US) for d in range(start, end, _DAY_US)] for start, end in spans]
    else:
        all_days = [(_us(start), _us(end)) for start, end in days]
        period_days = [[(a, b) for a, b in all_days if start <= a and b <= end] for start, end in spans]

    out: list[dict[str, Any]] = []
    for key in sorted(at_instant):
        changes = sorted(at_instant[key].items())
        times = [ts for ts, _ in changes]
        totals = [total for _, (_, total) in changes]
        for (start, end), its_days in zip(spans, period_days, strict=True):
            if end <= times[0]:
                continue
            in_period = _pieces(times, totals, start, end)
            values = [value for _, _, value in in_period]
            integral = sum(value * (b - a) for a, b, value in in_period)
            seat_days = 0
            increment_seat_days = 0
            running_max = 0
            for day_start, day_end in its_days:
                day_max = max(value for _, _, value in _pieces(times, totals, day_start, day_end))
                running_max = max(running_max, day_max)
                seat_days += day_max
                increment_seat_days += running_max
            out.append(
                {
                    "customerAlias": key[0],
                    "seatType": key[1],
                    "periodStart": _instant(start),
                    "periodEnd": _instant(end),
                    "startSeats": _balance(times, totals, start),
                    "endSeats": in_period[-1][2],
                    "minSeats": min(values),
                    "maxSeats": max(values),
                    "averageSeats": integral / (end - start),
                    "seatMicroseconds": integral,
                    "days": len(its_days),
                    "seatDays": seat_days,
                    "incrementSeatDays": increment_seat_days,
                }
            )
    return out
