"""Billing schedules and their periods (SPEC §4), every boundary worked out by hand."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import polars as pl
import pytest

from seatcalc import BillingSchedule, InvalidSchedule, SeatcalcError, billing_periods

HOUR = timedelta(hours=1)


def utc(y: int, m: int, d: int, h: int = 0) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def rows(schedule: BillingSchedule, until: Any = None) -> list[tuple[datetime, datetime, int]]:
    out = billing_periods(schedule, until)
    return [(r["periodStart"], r["periodEnd"], r["days"]) for r in out.iter_rows(named=True)]


def midnights(*days: date) -> list[datetime]:
    return [datetime(d.year, d.month, d.day, tzinfo=UTC) for d in days]


def assert_contiguous(periods: list[tuple[datetime, datetime, int]]) -> None:
    for (_, end, _), (start, _, _) in itertools.pairwise(periods):
        assert end == start  # no gap, no overlap


# --- frame shape -----------------------------------------------------------------------------


def test_billing_periods_frame_schema() -> None:
    out = billing_periods(BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 3, 1)))
    expected: dict[str, Any] = {
        "periodStart": pl.Datetime("us", "UTC"),
        "periodEnd": pl.Datetime("us", "UTC"),
        "days": pl.Int32,
    }
    assert out.schema == pl.Schema(expected)
    assert out.height == 2


# --- anchored months ------------------------------------------------------------------------


def test_jan_31_anchor_clamps_and_stays_anchored() -> None:
    periods = rows(BillingSchedule(date(2024, 1, 31), "1mo", end=date(2024, 4, 30)))
    # Jan 31 → Feb 29 (leap year: clamp to 29) → Mar 31 (back to the anchor) → Apr 30 (clamp).
    # days: Jan 31..Feb 28 = 1 + 28 = 29; Feb 29..Mar 30 = 1 + 30 = 31; Mar 31..Apr 29 = 1 + 29 = 30.
    assert periods == [
        (utc(2024, 1, 31), utc(2024, 2, 29), 29),
        (utc(2024, 2, 29), utc(2024, 3, 31), 31),
        (utc(2024, 3, 31), utc(2024, 4, 30), 30),
    ]
    assert_contiguous(periods)


def test_jan_31_anchor_over_a_year() -> None:
    periods = rows(BillingSchedule(date(2025, 1, 31), "1mo", end=date(2026, 1, 31)))
    # 2025 (not leap): ends Feb 28, Mar 31, Apr 30, May 31, Jun 30, Jul 31, Aug 31, Sep 30,
    # Oct 31, Nov 30, Dec 31, Jan 31: twelve periods whose days add up to 365.
    ends = [p[1].date() for p in periods]
    assert ends == [
        date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30), date(2025, 5, 31),
        date(2025, 6, 30), date(2025, 7, 31), date(2025, 8, 31), date(2025, 9, 30),
        date(2025, 10, 31), date(2025, 11, 30), date(2025, 12, 31), date(2026, 1, 31),
    ]  # fmt: skip
    assert sum(p[2] for p in periods) == 365
    assert_contiguous(periods)


def test_three_months_from_feb_29() -> None:
    periods = rows(BillingSchedule(date(2024, 2, 29), "3mo", end=date(2025, 5, 29)))
    # Anchored on the 29th: May 29, Aug 29, Nov 29, Feb 28 2025 (clamped), May 29 2025.
    # days: Feb 29→May 29 = 1 + 31 + 30 + 28 = 90 (Feb 29, March, April, May 1-28);
    # May 29→Aug 29 = 3 + 30 + 31 + 28 = 92; Aug 29→Nov 29 = 3 + 30 + 31 + 28 = 92;
    # Nov 29→Feb 28 = 2 + 31 + 31 + 27 = 91; Feb 28→May 29 = 1 + 31 + 30 + 28 = 90.
    assert periods == [
        (utc(2024, 2, 29), utc(2024, 5, 29), 90),
        (utc(2024, 5, 29), utc(2024, 8, 29), 92),
        (utc(2024, 8, 29), utc(2024, 11, 29), 92),
        (utc(2024, 11, 29), utc(2025, 2, 28), 91),
        (utc(2025, 2, 28), utc(2025, 5, 29), 90),
    ]


def test_six_months_from_aug_31() -> None:
    periods = rows(BillingSchedule(date(2023, 8, 31), "6mo", end=date(2024, 8, 31)))
    # Aug 31 → Feb 29 2024 (clamped, leap) → Aug 31 2024.
    # days: Aug 31 2023..Feb 28 2024 = 1+30+31+30+31+31+28 = 182; Feb 29..Aug 30 = 1+31+30+31+30+31+30 = 184.
    assert periods == [
        (utc(2023, 8, 31), utc(2024, 2, 29), 182),
        (utc(2024, 2, 29), utc(2024, 8, 31), 184),
    ]


def test_one_year_from_feb_29() -> None:
    periods = rows(BillingSchedule(date(2024, 2, 29), "1y", end=date(2028, 2, 29)))
    # Twelve anchored months: Feb 28 2025, Feb 28 2026, Feb 28 2027, then Feb 29 2028 again.
    # days: 2024-02-29 → 2025-02-28 = 365 (a year of 366 days from Feb 29 2024 would end on
    # Mar 1 2025, one day later); 2025-02-28 → 2026-02-28 = 365; → 2027-02-28 = 365;
    # 2027-02-28 → 2028-02-29 = 365 + 1 (Feb 29 2028) = 366.
    assert periods == [
        (utc(2024, 2, 29), utc(2025, 2, 28), 365),
        (utc(2025, 2, 28), utc(2026, 2, 28), 365),
        (utc(2026, 2, 28), utc(2027, 2, 28), 365),
        (utc(2027, 2, 28), utc(2028, 2, 29), 366),
    ]


# --- day and week intervals -------------------------------------------------------------------


def test_ten_days() -> None:
    periods = rows(BillingSchedule(date(2025, 1, 1), "10d", end=date(2025, 1, 31)))
    # Jan 1, 11, 21, 31: three periods of 10 days.
    assert periods == [
        (utc(2025, 1, 1), utc(2025, 1, 11), 10),
        (utc(2025, 1, 11), utc(2025, 1, 21), 10),
        (utc(2025, 1, 21), utc(2025, 1, 31), 10),
    ]


def test_ten_days_across_feb_in_a_leap_year() -> None:
    periods = rows(BillingSchedule(date(2024, 2, 20), "10d", end=date(2024, 3, 11)))
    # Feb 20 + 10 days = Mar 1 (Feb has 29 days: 20..29 is 10 days); + 10 = Mar 11.
    assert [(p[0].date(), p[1].date(), p[2]) for p in periods] == [
        (date(2024, 2, 20), date(2024, 3, 1), 10),
        (date(2024, 3, 1), date(2024, 3, 11), 10),
    ]


def test_two_weeks() -> None:
    periods = rows(BillingSchedule(date(2025, 1, 6), "2w", end=date(2025, 2, 17)))
    # 2w = 14 days: Jan 6 → Jan 20 → Feb 3 → Feb 17.
    assert periods == [
        (utc(2025, 1, 6), utc(2025, 1, 20), 14),
        (utc(2025, 1, 20), utc(2025, 2, 3), 14),
        (utc(2025, 2, 3), utc(2025, 2, 17), 14),
    ]


def test_one_day_and_one_week() -> None:
    assert rows(BillingSchedule(date(2025, 1, 1), "1d", end=date(2025, 1, 3))) == [
        (utc(2025, 1, 1), utc(2025, 1, 2), 1),
        (utc(2025, 1, 2), utc(2025, 1, 3), 1),
    ]
    assert rows(BillingSchedule(date(2025, 1, 1), "1w", end=date(2025, 1, 8))) == [
        (utc(2025, 1, 1), utc(2025, 1, 8), 7),
    ]


# --- time zones and daylight saving ---------------------------------------------------------


def test_new_york_march_is_743_hours() -> None:
    [(start, end, days)] = rows(
        BillingSchedule(date(2025, 3, 1), "1mo", "America/New_York", end=date(2025, 4, 1))
    )
    # Mar 1 00:00 EST (−05:00) = 05:00Z; Apr 1 00:00 EDT (−04:00) = 04:00Z;
    # 31 days × 24 h − 1 h (Mar 9 is 23 h long) = 743 h.
    assert start == utc(2025, 3, 1, 5)
    assert end == utc(2025, 4, 1, 4)
    assert end - start == 743 * HOUR
    assert days == 31


def test_london_october_is_745_hours() -> None:
    [(start, end, days)] = rows(
        BillingSchedule(date(2025, 10, 1), "1mo", "Europe/London", end=date(2025, 11, 1))
    )
    # Oct 1 00:00 BST (+01:00) = Sep 30 23:00Z; Nov 1 00:00 GMT = 00:00Z;
    # 31 × 24 + 1 (Oct 26 is 25 h long) = 745 h.
    assert start == utc(2025, 9, 30, 23)
    assert end == utc(2025, 11, 1)
    assert end - start == 745 * HOUR
    assert days == 31


def test_new_york_days_around_the_spring_change() -> None:
    periods = rows(BillingSchedule(date(2025, 3, 8), "1d", "America/New_York", end=date(2025, 3, 11)))
    # Mar 8: 05:00Z → Mar 9 05:00Z (24 h); Mar 9: 05:00Z → Mar 10 04:00Z (23 h);
    # Mar 10: 04:00Z → Mar 11 04:00Z (24 h).
    assert periods == [
        (utc(2025, 3, 8, 5), utc(2025, 3, 9, 5), 1),
        (utc(2025, 3, 9, 5), utc(2025, 3, 10, 4), 1),
        (utc(2025, 3, 10, 4), utc(2025, 3, 11, 4), 1),
    ]


def test_skipped_midnight_starts_the_day_at_its_first_instant() -> None:
    # Havana springs forward at midnight: 2025-03-09 00:00 CST (−05:00) jumps to 01:00 CDT.
    # Mar 9 therefore begins at 01:00 CDT = 05:00Z (= the instant 00:00 CST would have been).
    # Mar 8: 00:00 CST = 05:00Z; Mar 10: 00:00 CDT (−04:00) = 04:00Z.
    periods = rows(BillingSchedule(date(2025, 3, 8), "1d", "America/Havana", end=date(2025, 3, 11)))
    assert periods == [
        (utc(2025, 3, 8, 5), utc(2025, 3, 9, 5), 1),  # 24 h
        (utc(2025, 3, 9, 5), utc(2025, 3, 10, 4), 1),  # 23 h
        (utc(2025, 3, 10, 4), utc(2025, 3, 11, 4), 1),
    ]


def test_repeated_midnight_starts_the_day_at_its_first_occurrence() -> None:
    # Havana falls back at 01:00 CDT on 2025-11-02 to 00:00 CST: midnight happens twice,
    # first at 00:00 CDT (−04:00) = 04:00Z, then at 00:00 CST (−05:00) = 05:00Z.
    # Nov 2 starts at the first: 04:00Z; it ends at Nov 3 00:00 CST = 05:00Z (25 h).
    periods = rows(BillingSchedule(date(2025, 11, 1), "1d", "America/Havana", end=date(2025, 11, 4)))
    assert periods == [
        (utc(2025, 11, 1, 4), utc(2025, 11, 2, 4), 1),  # 24 h
        (utc(2025, 11, 2, 4), utc(2025, 11, 3, 5), 1),  # 25 h
        (utc(2025, 11, 3, 5), utc(2025, 11, 4, 5), 1),
    ]


def test_tokyo_month_boundaries() -> None:
    periods = rows(BillingSchedule(date(2025, 1, 1), "1mo", "Asia/Tokyo", end=date(2025, 3, 1)))
    # JST is +09:00 all year: local midnight = 15:00Z the day before.
    assert periods == [
        (utc(2024, 12, 31, 15), utc(2025, 1, 31, 15), 31),
        (utc(2025, 1, 31, 15), utc(2025, 2, 28, 15), 28),
    ]


# --- end and until ------------------------------------------------------------------------------


def test_end_not_a_boundary_names_the_nearest_boundaries() -> None:
    with pytest.raises(InvalidSchedule) as info:
        BillingSchedule(date(2024, 1, 31), "1mo", end=date(2024, 3, 15))
    # Boundaries of a Jan 31 monthly schedule around Mar 15: Feb 29 and Mar 31.
    assert "2024-02-29" in str(info.value) and "2024-03-31" in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, SeatcalcError)


def test_end_not_a_boundary_of_a_day_schedule() -> None:
    with pytest.raises(InvalidSchedule) as info:
        BillingSchedule(date(2025, 1, 1), "2w", end=date(2025, 1, 20))
    # 2w boundaries: Jan 1, Jan 15, Jan 29.
    assert "2025-01-15" in str(info.value) and "2025-01-29" in str(info.value)


@pytest.mark.parametrize("end", [date(2025, 1, 1), date(2024, 12, 1)])
def test_end_at_or_before_start(end: date) -> None:
    with pytest.raises(InvalidSchedule):
        BillingSchedule(date(2025, 1, 1), "1mo", end=end)


def test_no_end_and_no_until_is_invalid() -> None:
    schedule = BillingSchedule(date(2025, 1, 1), "1mo")  # fine on its own
    with pytest.raises(InvalidSchedule):
        billing_periods(schedule)


def test_until_as_a_date_keeps_whole_periods_starting_before_it() -> None:
    schedule = BillingSchedule(date(2025, 1, 1), "1mo")
    # Mar 15: Jan, Feb and Mar start before it; March is kept whole (to Apr 1).
    assert rows(schedule, date(2025, 3, 15)) == [
        (utc(2025, 1, 1), utc(2025, 2, 1), 31),
        (utc(2025, 2, 1), utc(2025, 3, 1), 28),
        (utc(2025, 3, 1), utc(2025, 4, 1), 31),
    ]
    # Mar 1 is March's start, not before it: Jan and Feb only.
    assert [p[0] for p in rows(schedule, date(2025, 3, 1))] == [utc(2025, 1, 1), utc(2025, 2, 1)]
    # Mar 2: March starts before → kept.
    assert len(rows(schedule, date(2025, 3, 2))) == 3


def test_until_date_is_a_local_midnight() -> None:
    schedule = BillingSchedule(date(2025, 1, 1), "1mo", "America/New_York")
    # until Mar 1 = Mar 1 00:00 EST = 05:00Z = March's start: March is not kept.
    assert len(rows(schedule, date(2025, 3, 1))) == 2
    # An instant 1 µs before 05:00Z is still before March's start: 2 periods.
    assert len(rows(schedule, datetime(2025, 3, 1, 4, 59, 59, 999999, tzinfo=UTC))) == 2
    # 05:00:00.000001Z is after March's start: March is kept, whole.
    last = rows(schedule, datetime(2025, 3, 1, 5, 0, 0, 1, tzinfo=UTC))[-1]
    assert last == (utc(2025, 3, 1, 5), utc(2025, 4, 1, 4), 31)


def test_until_as_an_aware_datetime_with_an_offset() -> None:
    schedule = BillingSchedule(date(2025, 1, 1), "1mo")
    # 2025-03-01 00:30 at +01:00 is Feb 28 23:30Z: March has not started → Jan, Feb.
    cut = datetime(2025, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert len(rows(schedule, cut)) == 2
    # 2025-02-28 20:00 at −05:00 is Mar 1 01:00Z: March started → kept whole.
    cut = datetime(2025, 2, 28, 20, tzinfo=timezone(timedelta(hours=-5)))
    assert rows(schedule, cut)[-1] == (utc(2025, 3, 1), utc(2025, 4, 1), 31)


def test_until_before_the_first_period_gives_no_period() -> None:
    out = billing_periods(BillingSchedule(date(2025, 1, 1), "1mo"), date(2024, 12, 1))
    assert out.height == 0


def test_until_beyond_end_stops_at_end() -> None:
    schedule = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 3, 1))
    assert [p[1] for p in rows(schedule, date(2030, 1, 1))] == [utc(2025, 2, 1), utc(2025, 3, 1)]


def test_until_before_end_cuts_the_schedule() -> None:
    schedule = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2026, 1, 1))
    assert [p[1] for p in rows(schedule, date(2025, 2, 10))] == [utc(2025, 2, 1), utc(2025, 3, 1)]


def test_naive_until_is_invalid() -> None:
    schedule = BillingSchedule(date(2025, 1, 1), "1mo")
    with pytest.raises(InvalidSchedule):
        billing_periods(schedule, datetime(2025, 3, 1))


# --- bad schedules -------------------------------------------------------------------------------


@pytest.mark.parametrize("interval", ["2mo", "0d", "1x", "", "12mo", "0w", "-1d", "1 mo", "1M", "2y"])
def test_bad_interval(interval: str) -> None:
    with pytest.raises(InvalidSchedule) as info:
        BillingSchedule(date(2025, 1, 1), interval, end=None)
    assert repr(interval) in str(info.value)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "EST+5", "../etc/passwd", "Europe/london "])
def test_bad_time_zone(zone: str) -> None:
    with pytest.raises(InvalidSchedule):
        BillingSchedule(date(2025, 1, 1), "1mo", zone)


def test_start_must_be_a_date() -> None:
    with pytest.raises(InvalidSchedule):
        BillingSchedule(datetime(2025, 1, 1, tzinfo=UTC), "1mo", end=date(2025, 2, 1))


# --- a local date that never existed ------------------------------------------------------------
# Pacific/Apia skipped 2011-12-30: Thursday Dec 29 (−10:00) was followed by Saturday Dec 31
# (+14:00). Local day starts: Dec 29 = 10:00Z, Dec 31 = Dec 30 10:00Z, Jan 1 = Dec 31 10:00Z.


def test_skipped_date_gets_no_daily_period() -> None:
    periods = rows(BillingSchedule(date(2011, 12, 28), "1d", "Pacific/Apia"), date(2012, 1, 2))
    assert periods == [
        (utc(2011, 12, 28, 10), utc(2011, 12, 29, 10), 1),
        (utc(2011, 12, 29, 10), utc(2011, 12, 30, 10), 1),  # Dec 29
        (utc(2011, 12, 30, 10), utc(2011, 12, 31, 10), 1),  # Dec 31; Dec 30 has no row
        (utc(2011, 12, 31, 10), utc(2012, 1, 1, 10), 1),
    ]
    assert_contiguous(periods)


def test_skipped_date_is_not_counted_in_the_month() -> None:
    schedule = BillingSchedule(date(2011, 12, 1), "1mo", "Pacific/Apia", end=date(2012, 2, 1))
    assert rows(schedule) == [
        (utc(2011, 12, 1, 10), utc(2011, 12, 31, 10), 30),  # 31 dates, Dec 30 is none
        (utc(2011, 12, 31, 10), utc(2012, 1, 31, 10), 31),
    ]


def test_period_starting_on_the_skipped_date() -> None:
    # Anchored on the 30th: Dec 30 starts where Dec 31 does; [Dec 30, Jan 30) has 30 days.
    schedule = BillingSchedule(date(2011, 11, 30), "1mo", "Pacific/Apia", end=date(2012, 1, 30))
    assert rows(schedule) == [
        (utc(2011, 11, 30, 10), utc(2011, 12, 30, 10), 30),
        (utc(2011, 12, 30, 10), utc(2012, 1, 29, 10), 30),  # Jan 30 00:00 +14:00
    ]
    # A schedule that starts and ends inside the skipped date has no period at all.
    assert rows(BillingSchedule(date(2011, 12, 30), "1d", "Pacific/Apia", end=date(2011, 12, 31))) == []


def test_two_day_period_over_the_skipped_date_has_one_day() -> None:
    schedule = BillingSchedule(date(2011, 12, 29), "2d", "Pacific/Apia", end=date(2012, 1, 2))
    assert rows(schedule) == [
        (utc(2011, 12, 29, 10), utc(2011, 12, 30, 10), 1),
        (utc(2011, 12, 30, 10), utc(2012, 1, 1, 10), 2),
    ]


@pytest.mark.parametrize(
    ("zone", "skipped"),
    [
        ("Pacific/Apia", date(2011, 12, 30)),
        ("Pacific/Fakaofo", date(2011, 12, 30)),
        ("Pacific/Kwajalein", date(1993, 8, 21)),
        ("Pacific/Kiritimati", date(1994, 12, 31)),
    ],
)
def test_every_skipped_date_is_left_out(zone: str, skipped: date) -> None:
    schedule = BillingSchedule(skipped - timedelta(days=3), "1d", zone, end=skipped + timedelta(days=3))
    periods = rows(schedule)
    assert len(periods) == 5 and all(days == 1 and start < end for start, end, days in periods)
    assert_contiguous(periods)
    weekly = rows(BillingSchedule(skipped - timedelta(days=3), "1w", zone, end=skipped + timedelta(days=4)))
    assert [days for _, _, days in weekly] == [6]
