"""Hand-computed checks of the plain-Python reference (tests/reference.py).

Every expected number is worked out in the comment beside it, from SPEC §2-§5, without
running the code: the reference is only trusted as an oracle once these hold.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

import pytest

from tests.reference import (
    Row,
    ref_average,
    ref_billable_seats,
    ref_day_start,
    ref_effective_events,
    ref_periods,
    ref_seat_balances,
    ref_seat_log,
)

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US


def ts(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


def ev(event_id: str | None, alias: str, when: datetime, total: int, seat: str = "std", **extra: Any) -> Row:
    return {
        "customerEventId": event_id,
        "customerAlias": alias,
        "seatType": seat,
        "eventTimestamp": when,
        "total": total,
        **extra,
    }


def measures(row: Row) -> dict[str, Any]:
    """The integer measures of a billable row, for compact comparison."""
    names = ["startSeats", "endSeats", "minSeats", "maxSeats", "days", "seatDays"]
    return {name: row[name] for name in [*names, "incrementSeatDays", "seatMicroseconds"]}


# --- §5 basics -------------------------------------------------------------


def test_mid_month_add() -> None:
    # 5 seats carried in from December, 8 from Jan 16 12:00; January 2024 (31 days, UTC).
    rows = [ev("a", "acme", ts(2023, 12, 20), 5), ev("b", "acme", ts(2024, 1, 16, 12), 8)]
    [row] = ref_billable_seats(rows, date(2024, 1, 1), "1mo", end=date(2024, 2, 1))
    # ∫ = 5·15.5 d + 8·15.5 d = 201.5 seat-days; average = 201.5 / 31 = 6.5.
    # seatDays = 15 days·5 (Jan 1-15) + 16 days·8 (Jan 16-31, the 16th counts at 8) = 203;
    # the balance only rises, so the running max equals the day max: incrementSeatDays 203.
    assert row["periodStart"] == ts(2024, 1, 1) and row["periodEnd"] == ts(2024, 2, 1)
    assert measures(row) == {
        "startSeats": 5, "endSeats": 8, "minSeats": 5, "maxSeats": 8, "days": 31,
        "seatDays": 203, "incrementSeatDays": 203, "seatMicroseconds": 201 * DAY_US + DAY_US // 2,
    }  # fmt: skip
    assert row["averageSeats"] == 6.5


def test_removal() -> None:
    # 10 seats from December, down to 4 at Jan 11 12:00.
    rows = [ev("a", "acme", ts(2023, 12, 20), 10), ev("b", "acme", ts(2024, 1, 11, 12), 4)]
    [row] = ref_billable_seats(rows, date(2024, 1, 1), "1mo", end=date(2024, 2, 1))
    # seatDays = 11·10 (Jan 1-11: the day it went counts) + 20·4 (Jan 12-31) = 190;
    # incrementSeatDays = 31·10 (removals give no credit) = 310;
    # ∫ = 10·10.5 d + 4·20.5 d = 105 + 82 = 187 seat-days; average 187/31.
    assert measures(row) == {
        "startSeats": 10, "endSeats": 4, "minSeats": 4, "maxSeats": 10, "days": 31,
        "seatDays": 190, "incrementSeatDays": 310, "seatMicroseconds": 187 * DAY_US,
    }  # fmt: skip
    assert row["averageSeats"] == 187 / 31


def test_same_instant_ties_only_last_received_counts() -> None:
    # At Jan 10 three events; by receivedSeq the order is 3 (seq 1), 100 (seq 2), 5 (seq 3),
    # the reverse of list order. Only 5 counts: the 100 is a zero-length state, never a max.
    rows = [
        ev("a", "acme", ts(2024, 1, 1), 2, receivedSeq=0),
        ev("d", "acme", ts(2024, 1, 10), 5, receivedSeq=3),
        ev("c", "acme", ts(2024, 1, 10), 100, receivedSeq=2),
        ev("b", "acme", ts(2024, 1, 10), 3, receivedSeq=1),
    ]
    [row] = ref_billable_seats(rows, date(2024, 1, 1), "1mo", end=date(2024, 2, 1))
    # seatDays = 9·2 (Jan 1-9) + 22·5 (Jan 10-31) = 128; ∫ = 2·9 d + 5·22 d = 128 seat-days.
    assert measures(row) == {
        "startSeats": 2, "endSeats": 5, "minSeats": 2, "maxSeats": 5, "days": 31,
        "seatDays": 128, "incrementSeatDays": 128, "seatMicroseconds": 128 * DAY_US,
    }  # fmt: skip
    # The log shows one entry per instant: 0 → 2 (added 2), then 2 → 5 (added 3).
    log = ref_seat_log(rows)
    assert [(r["customerEventId"], r["added"], r["removed"]) for r in log] == [
        ("a", 2, 0),
        ("d", 3, 0),
    ]
    # Without receivedSeq, list position is the receipt order: the last listed (3) wins.
    plain = [{k: v for k, v in r.items() if k != "receivedSeq"} for r in rows]
    assert [(r["total"], r["added"], r["removed"]) for r in ref_seat_log(plain)] == [
        (2, 2, 0),
        (3, 1, 0),
    ]


def test_supersession_moves_event_to_another_customer() -> None:
    rows = [
        ev("e1", "alpha", ts(2024, 1, 5), 5),  # position 0
        ev("e1", "beta", ts(2024, 1, 5), 7),  # same instant, received later: wins
        ev("e1", "alpha", ts(2024, 1, 4), 9),  # received last but earlier timestamp: loses
    ]
    # Default policy: the beta version (latest timestamp, then later receipt). alpha has no
    # effective event at all, so it gets neither a balance nor a billable row.
    assert [r["customerAlias"] for r in ref_effective_events(rows)] == ["beta"]
    assert ref_seat_balances(rows) == [
        {"customerAlias": "beta", "seatType": "std", "total": 7, "changeTimestamp": ts(2024, 1, 5)}
    ]
    billed = ref_billable_seats(rows, date(2024, 1, 1), "1mo", end=date(2024, 2, 1))
    # beta: 0 on Jan 1-4, 7 from Jan 5: seatDays = 27·7 = 189, min 0, start 0.
    assert [(r["customerAlias"], r["minSeats"], r["seatDays"]) for r in billed] == [("beta", 0, 189)]
    # "received" policy: the last received (alpha, 9 at Jan 4) wins; beta is gone.
    assert ref_seat_balances(rows, supersede_by="received") == [
        {"customerAlias": "alpha", "seatType": "std", "total": 9, "changeTimestamp": ts(2024, 1, 4)}
    ]


def test_received_policy_moves_event_back_in_time() -> None:
    rows = [
        ev("e1", "acme", ts(2024, 1, 10), 5, receivedSeq=10),
        ev("e1", "acme", ts(2024, 1, 5), 7, receivedSeq=20),  # a correction, back in time
    ]
    # Default: the Jan 10 version (latest timestamp) wins -> 22 days (Jan 10-31) · 5 = 110.
    [default] = ref_billable_seats(rows, date(2024, 1, 1), "1mo", end=date(2024, 2, 1))
    assert (default["startSeats"], default["maxSeats"], default["seatDays"]) == (0, 5, 110)
    # "received": the Jan 5 version (received last) wins -> 27 days (Jan 5-31) · 7 = 189.
    [received] = ref_billable_seats(
        rows, date(2024, 1, 1), "1mo", end=date(2024, 2, 1), supersede_by="received"
    )
    assert (received["startSeats"], received["maxSeats"], received["seatDays"]) == (0, 7, 189)
    assert received["seatMicroseconds"] == 7 * 27 * DAY_US


def test_null_event_id_is_never_superseded() -> None:
    rows = [ev(None, "acme", ts(2024, 1, 1), 1), ev(None, "acme", ts(2024, 1, 2), 4)]
    # Both are facts of their own: 1 then 4 (added 1, added 3).
    assert len(ref_effective_events(rows)) == 2
    assert [(r["added"], r["removed"]) for r in ref_seat_log(rows)] == [(1, 0), (3, 0)]


def test_event_exactly_at_period_boundary() -> None:
    rows = [
        ev("a", "acme", ts(2024, 1, 2), 3),
        ev("b", "acme", ts(2024, 1, 3), 1),
        ev("c", "acme", ts(2024, 1, 4, 12), 6),
    ]
    billed = ref_billable_seats(rows, date(2024, 1, 1), "1d", end=date(2024, 1, 5))
    # The Jan 1 period ends at Jan 2 00:00, not after the first event (Jan 2 00:00): omitted.
    # Jan 2: the event at periodStart counts: 3 all day.
    # Jan 3: starts at 1 (event at its start); Jan 2 ended at 3 (b just before Jan 3).
    # Jan 4: 1 for 12 h then 6 for 12 h: ∫ = 7·12 h, average 3.5; max 6, seatDays 6.
    assert [(r["periodStart"], r["startSeats"], r["endSeats"]) for r in billed] == [
        (ts(2024, 1, 2), 3, 3),
        (ts(2024, 1, 3), 1, 1),
        (ts(2024, 1, 4), 1, 6),
    ]
    assert measures(billed[2]) == {
        "startSeats": 1, "endSeats": 6, "minSeats": 1, "maxSeats": 6, "days": 1,
        "seatDays": 6, "incrementSeatDays": 6, "seatMicroseconds": 7 * 12 * HOUR_US,
    }  # fmt: skip
    assert billed[2]["averageSeats"] == 3.5


def test_rows_continue_after_zero_and_start_at_first_event() -> None:
    rows = [ev("a", "acme", ts(2024, 1, 1), 2), ev("b", "acme", ts(2024, 1, 15), 0)]
    billed = ref_billable_seats(rows, date(2023, 12, 1), "1mo", end=date(2024, 4, 1))
    # December ends at Jan 1 00:00 = the first event: no row. Jan, Feb, Mar follow, the last
    # two at zero. January: 14 days · 2 = 28 seat-days.
    assert [(r["periodStart"].month, r["maxSeats"], r["seatDays"]) for r in billed] == [
        (1, 2, 28),
        (2, 0, 0),
        (3, 0, 0),
    ]


def test_constant_balance_and_ref_average() -> None:
    # A constant balance averages to itself; the average is one exact rounding.
    assert ref_average(7 * 31 * DAY_US, 31 * DAY_US) == 7.0
    assert ref_average(1, 3) == float(Fraction(1, 3))


# --- §3 balances -----------------------------------------------------------


def test_balances_at_an_instant() -> None:
    plus2 = timezone(timedelta(hours=2))
    rows = [
        ev("a", "acme", ts(2024, 1, 1), 3),
        ev("b", "acme", datetime(2024, 1, 5, 2, tzinfo=plus2), 7),  # = Jan 5 00:00 UTC
        ev("c", "zeta", ts(2024, 1, 10), 1),
    ]
    # At Jan 5 00:00 exactly the event counts; zeta (first event Jan 10) is omitted.
    assert ref_seat_balances(rows, at=ts(2024, 1, 5)) == [
        {"customerAlias": "acme", "seatType": "std", "total": 7, "changeTimestamp": ts(2024, 1, 5)}
    ]
    # One microsecond earlier the Jan 1 event is still in force.
    [before] = ref_seat_balances(rows, at=ts(2024, 1, 5) - timedelta(microseconds=1))
    assert (before["total"], before["changeTimestamp"]) == (3, ts(2024, 1, 1))
    # Default: the latest balance of every key.
    assert [(r["customerAlias"], r["total"]) for r in ref_seat_balances(rows)] == [
        ("acme", 7),
        ("zeta", 1),
    ]


def test_account_is_part_of_every_key() -> None:
    rows = [
        ev("e1", "acme", ts(2024, 1, 1), 2, sequenceAccountId="acc2"),
        ev("e1", "acme", ts(2024, 1, 3), 5, sequenceAccountId="acc1"),
    ]
    # The same customerEventId in two accounts is two facts: nothing is superseded.
    balances = ref_seat_balances(rows)
    assert [(r["sequenceAccountId"], r["total"]) for r in balances] == [("acc1", 5), ("acc2", 2)]
    assert list(balances[0]) == [
        "sequenceAccountId", "customerAlias", "seatType", "total", "changeTimestamp"
    ]  # fmt: skip
    billed = ref_billable_seats(rows, date(2024, 1, 1), "1mo", end=date(2024, 2, 1))
    assert list(billed[0]) == [
        "sequenceAccountId", "customerAlias", "seatType", "periodStart", "periodEnd",
        "startSeats", "endSeats", "minSeats", "maxSeats", "averageSeats", "seatMicroseconds",
        "days", "seatDays", "incrementSeatDays",
    ]  # fmt: skip
    # acc1: 5 from Jan 3 -> 29 days · 5 = 145; acc2: 2 all month -> 62.
    assert [(r["sequenceAccountId"], r["seatDays"]) for r in billed] == [
        ("acc1", 145),
        ("acc2", 62),
    ]


# --- §4 periods ------------------------------------------------------------


def test_jan_31_anchor_monthly_periods() -> None:
    periods = ref_periods(date(2024, 1, 31), "1mo", end=date(2024, 7, 31))
    # Anchored on day 31, clamped: Jan 31 → Feb 29 → Mar 31 → Apr 30 → May 31 → Jun 30 → Jul 31
    # with 29, 31, 30, 31, 30, 31 days; each end is the next start.
    assert periods == [
        (ts(2024, 1, 31), ts(2024, 2, 29), 29),
        (ts(2024, 2, 29), ts(2024, 3, 31), 31),
        (ts(2024, 3, 31), ts(2024, 4, 30), 30),
        (ts(2024, 4, 30), ts(2024, 5, 31), 31),
        (ts(2024, 5, 31), ts(2024, 6, 30), 30),
        (ts(2024, 6, 30), ts(2024, 7, 31), 31),
    ]
    # Quarterly from Jan 31: Apr 30, Jul 31, Oct 31.
    assert [p[1] for p in ref_periods(date(2024, 1, 31), "3mo", end=date(2024, 10, 31))] == [
        ts(2024, 4, 30),
        ts(2024, 7, 31),
        ts(2024, 10, 31),
    ]
    # Yearly from Feb 29: Feb 28 three times, then Feb 29 2028 (365, 365, 365, 366 days).
    yearly = ref_periods(date(2024, 2, 29), "1y", end=date(2028, 2, 29))
    assert [(p[1].date(), p[2]) for p in yearly] == [
        (date(2025, 2, 28), 365),
        (date(2026, 2, 28), 365),
        (date(2027, 2, 28), 365),
        (date(2028, 2, 29), 366),
    ]


def test_day_and_week_intervals_and_bad_schedules() -> None:
    assert [p[2] for p in ref_periods(date(2024, 1, 1), "2w", end=date(2024, 1, 29))] == [14, 14]
    assert [p[2] for p in ref_periods(date(2024, 1, 1), "10d", end=date(2024, 1, 21))] == [10, 10]
    with pytest.raises(ValueError, match="not a period boundary"):
        ref_periods(date(2024, 1, 31), "1mo", end=date(2024, 3, 30))
    with pytest.raises(ValueError, match="no last period"):
        ref_periods(date(2024, 1, 1), "1mo")
    with pytest.raises(ValueError, match="unknown interval"):
        ref_periods(date(2024, 1, 1), "2mo", end=date(2024, 3, 1))


def test_until_keeps_periods_starting_before_it() -> None:
    # A date means its local midnight: Jan 3 00:00 -> the periods of Jan 1 and Jan 2.
    assert len(ref_periods(date(2024, 1, 1), "1d", until=date(2024, 1, 3))) == 2
    # An instant one microsecond after Jan 3 00:00 keeps Jan 3 too, whole.
    later = ts(2024, 1, 3) + timedelta(microseconds=1)
    periods = ref_periods(date(2024, 1, 1), "1d", until=later)
    assert len(periods) == 3 and periods[-1][1] == ts(2024, 1, 4)
    # A monthly schedule with until mid-February keeps January and February.
    assert len(ref_periods(date(2024, 1, 1), "1mo", until=date(2024, 2, 15))) == 2
    # In New York, until Mar 2 means Mar 2 05:00 UTC: only the Mar 1 period starts before.
    assert len(ref_periods(date(2024, 3, 1), "1d", "America/New_York", until=date(2024, 3, 2))) == 1
    with pytest.raises(ValueError, match="timezone-aware"):
        ref_periods(date(2024, 1, 1), "1d", until=datetime(2024, 1, 3))


def test_new_york_march_has_a_23_hour_day() -> None:
    tz = "America/New_York"
    # March 2024: Mar 1 00:00 EST = 05:00Z to Apr 1 00:00 EDT = 04:00Z: 31 days, 743 hours.
    [(start, end, days)] = ref_periods(date(2024, 3, 1), "1mo", tz, end=date(2024, 4, 1))
    assert (start, end, days) == (ts(2024, 3, 1, 5), ts(2024, 4, 1, 4), 31)
    assert end - start == timedelta(hours=743)
    # Mar 10 (DST starts 02:00 → 03:00): 05:00Z to Mar 11 04:00Z, 23 hours.
    assert ref_day_start(date(2024, 3, 11), tz) - ref_day_start(date(2024, 3, 10), tz) == timedelta(hours=23)
    rows = [
        ev("a", "acme", ts(2024, 2, 15), 2),
        ev("b", "acme", ts(2024, 3, 10, 7, 30), 4),  # Mar 10 03:30 EDT
        ev("c", "acme", ts(2024, 3, 11), 1),  # Mar 10 20:00 EDT: still local Mar 10
    ]
    [row] = ref_billable_seats(rows, date(2024, 3, 1), "1mo", tz, end=date(2024, 4, 1))
    # Local Mar 10 holds 2, 4 and 1: its max is 4.
    # seatDays = 9·2 (Mar 1-9) + 4 (Mar 10) + 21·1 (Mar 11-31) = 43.
    # incrementSeatDays = 9·2 + 22·4 (running max 4 from Mar 10 on) = 106.
    # ∫: 2 · (Mar 1 05:00Z → Mar 10 07:30Z = 218.5 h) + 4 · 16.5 h + 1 · (Mar 11 00:00Z →
    #    Apr 1 04:00Z = 508 h) = 437 + 66 + 508 = 1011 seat-hours; average 1011/743.
    assert measures(row) == {
        "startSeats": 2, "endSeats": 1, "minSeats": 1, "maxSeats": 4, "days": 31,
        "seatDays": 43, "incrementSeatDays": 106, "seatMicroseconds": 1011 * HOUR_US,
    }  # fmt: skip
    assert row["averageSeats"] == 1011 / 743
    # A constant 2 seats over the same 743-hour month averages exactly 2 and is 62 seat-days.
    [flat] = ref_billable_seats(rows[:1], date(2024, 3, 1), "1mo", tz, end=date(2024, 4, 1))
    assert (flat["averageSeats"], flat["seatDays"], flat["seatMicroseconds"]) == (
        2.0,
        62,
        2 * 743 * HOUR_US,
    )


def test_midnight_that_does_not_exist() -> None:
    # Havana, 2024-03-10: 00:00 CST jumps to 01:00 CDT, so local midnight does not exist;
    # the day starts at its first instant, 05:00Z (= 01:00 CDT), and lasts 23 h.
    tz = "America/Havana"
    assert ref_day_start(date(2024, 3, 10), tz) == ts(2024, 3, 10, 5)
    assert ref_day_start(date(2024, 3, 11), tz) == ts(2024, 3, 11, 4)
    # Santiago, 2024-09-08: Saturday 24:00 -04 jumps to Sunday 01:00 -03: starts 04:00Z, 23 h.
    assert ref_day_start(date(2024, 9, 8), "America/Santiago") == ts(2024, 9, 8, 4)
    assert ref_day_start(date(2024, 9, 9), "America/Santiago") == ts(2024, 9, 9, 3)
    # Apia skipped Dec 30 2011 entirely: it starts and ends at Dec 30 10:00Z (zero length).
    assert ref_day_start(date(2011, 12, 30), "Pacific/Apia") == ts(2011, 12, 30, 10)
    assert ref_day_start(date(2011, 12, 31), "Pacific/Apia") == ts(2011, 12, 30, 10)
    rows = [
        ev("a", "acme", ts(2024, 3, 1), 1),
        ev("b", "acme", ts(2024, 3, 10, 4, 30), 9),  # Mar 9 23:30 CST: still local Mar 9
        ev("c", "acme", ts(2024, 3, 10, 5), 2),  # 01:00 CDT, the first instant of Mar 10
    ]
    billed = ref_billable_seats(rows, date(2024, 3, 9), "1d", tz, end=date(2024, 3, 12))
    # Mar 9: 05:00Z → Mar 10 05:00Z (24 h): 1 for 23.5 h, 9 for 0.5 h: ∫ = 28 seat-hours.
    # Mar 10: 05:00Z → Mar 11 04:00Z (23 h): the event at periodStart counts: 2 · 23 h.
    # Mar 11: 04:00Z → Mar 12 04:00Z (24 h): 2 · 24 h.
    assert [
        (r["periodStart"], r["periodEnd"], r["startSeats"], r["endSeats"], r["maxSeats"],
         r["seatDays"], r["seatMicroseconds"]) for r in billed
    ] == [
        (ts(2024, 3, 9, 5), ts(2024, 3, 10, 5), 1, 9, 9, 9, 28 * HOUR_US),
        (ts(2024, 3, 10, 5), ts(2024, 3, 11, 4), 2, 2, 2, 2, 46 * HOUR_US),
        (ts(2024, 3, 11, 4), ts(2024, 3, 12, 4), 2, 2, 2, 2, 48 * HOUR_US),
    ]  # fmt: skip


def test_midnight_that_happens_twice() -> None:
    # Havana, 2024-11-03: 01:00 CDT falls back to 00:00 CST, so midnight happens at 04:00Z
    # (CDT) and again at 05:00Z (CST); the day starts at the first: 04:00Z, and lasts 25 h.
    tz = "America/Havana"
    assert ref_day_start(date(2024, 11, 3), tz) == ts(2024, 11, 3, 4)
    assert ref_day_start(date(2024, 11, 4), tz) == ts(2024, 11, 4, 5)
    # Santiago, 2024-04-07: Saturday 24:00 -03 falls back to Saturday 23:00 -04, so Sunday's
    # midnight happens once (04:00Z) and Saturday Apr 6 (from 03:00Z) lasts 25 h.
    assert ref_day_start(date(2024, 4, 6), "America/Santiago") == ts(2024, 4, 6, 3)
    assert ref_day_start(date(2024, 4, 7), "America/Santiago") == ts(2024, 4, 7, 4)
    # An event at 04:30Z (local 00:30 CDT, Nov 3) belongs to Nov 3, not to Nov 2.
    rows = [ev("a", "acme", ts(2024, 11, 1), 1), ev("b", "acme", ts(2024, 11, 3, 4, 30), 3)]
    billed = ref_billable_seats(rows, date(2024, 11, 2), "1d", tz, end=date(2024, 11, 4))
    # Nov 2: 1 all 24 h. Nov 3 (25 h): 1 for 0.5 h, 3 for 24.5 h: ∫ = 0.5 + 73.5 = 74 seat-h.
    assert [(r["days"], r["maxSeats"], r["seatMicroseconds"]) for r in billed] == [
        (1, 1, 24 * HOUR_US),
        (1, 3, 74 * HOUR_US),
    ]


# --- a local date that never existed ---------------------------------------------------------

APIA = "Pacific/Apia"
# Apia skipped 2011-12-30: Thursday Dec 29 (−10:00) was followed by Saturday Dec 31 (+14:00).
# Local day starts in UTC: Dec 1 10:00Z, Dec 29 10:00Z, Dec 31 = Dec 30 10:00Z, Jan 1 = Dec 31 10:00Z.
APIA_EVENTS = [
    ev("a", "acme", ts(2011, 12, 1, 10), 2),  # Dec 1 00:00 local
    ev("b", "acme", ts(2011, 12, 29, 22), 5),  # Dec 29 12:00 local
    ev("c", "acme", ts(2011, 12, 30, 12), 3),  # Dec 31 02:00 local
]


def test_skipped_date_is_no_day_in_the_periods() -> None:
    # December 2011 runs Dec 1 10:00Z → Dec 31 10:00Z: 30 local days (Dec 30 is none).
    assert ref_periods(date(2011, 12, 1), "1mo", APIA, end=date(2012, 1, 1)) == [
        (ts(2011, 12, 1, 10), ts(2011, 12, 31, 10), 30)
    ]
    # Daily: Dec 29, then Dec 31; no period for Dec 30 (it would have zero length).
    assert ref_periods(date(2011, 12, 29), "1d", APIA, end=date(2012, 1, 1)) == [
        (ts(2011, 12, 29, 10), ts(2011, 12, 30, 10), 1),
        (ts(2011, 12, 30, 10), ts(2011, 12, 31, 10), 1),
    ]
    # Two-day periods: [Dec 29, Dec 31) holds one day; [Dec 31, Jan 2) two.
    assert ref_periods(date(2011, 12, 29), "2d", APIA, end=date(2012, 1, 2)) == [
        (ts(2011, 12, 29, 10), ts(2011, 12, 30, 10), 1),
        (ts(2011, 12, 30, 10), ts(2012, 1, 1, 10), 2),
    ]


def test_skipped_date_counts_in_no_seat_days() -> None:
    [row] = ref_billable_seats(APIA_EVENTS, date(2011, 12, 1), "1mo", APIA, end=date(2012, 1, 1))
    # Days Dec 1-28 hold 2 (56 seat-days), Dec 29 peaks at 5, Dec 31 starts at 5 then 3: 66.
    # Running max: 2 for 28 days, then 5 on Dec 29 and Dec 31: 66 as well.
    # ∫: 2 · 28.5 d (to Dec 29 22:00Z) + 5 · 14 h + 3 · 22 h = 57 d + 136 h.
    assert measures(row) == {
        "startSeats": 2, "endSeats": 3, "minSeats": 2, "maxSeats": 5, "days": 30,
        "seatDays": 66, "incrementSeatDays": 66, "seatMicroseconds": 57 * DAY_US + 136 * HOUR_US,
    }  # fmt: skip
    daily = ref_billable_seats(APIA_EVENTS, date(2011, 12, 28), "1d", APIA, end=date(2012, 1, 1))
    assert [(r["periodStart"], r["days"], r["seatDays"]) for r in daily] == [
        (ts(2011, 12, 28, 10), 1, 2),
        (ts(2011, 12, 29, 10), 1, 5),
        (ts(2011, 12, 30, 10), 1, 5),  # local Dec 31
    ]
