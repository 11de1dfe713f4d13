"""Billable seats per period (SPEC §3 and §5), with every number worked out by hand.

Units used in the comments: a "seat-day" is one seat held 24 h; ``DAY`` and ``HOUR`` below are
those lengths in microseconds, so ``seatMicroseconds = seat-days × DAY``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from seatcalc import (
    BillingSchedule,
    InvalidSchedule,
    billable_seats,
    effective_events,
    seat_balances,
    seat_log,
)

HOUR = 3_600_000_000  # µs
DAY = 24 * HOUR

INTEGER_MEASURES = [
    "startSeats", "endSeats", "minSeats", "maxSeats", "days", "seatDays", "incrementSeatDays",
    "seatMicroseconds",
]  # fmt: skip


def utc(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


def ev(
    when: datetime,
    total: int,
    alias: str = "acme",
    seat: str = "admin",
    event_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "customerEventId": event_id,
        "customerAlias": alias,
        "seatType": seat,
        "eventTimestamp": when,
        "total": total,
        **extra,
    }


def events(*rows: dict[str, Any]) -> pl.DataFrame:
    schema: dict[str, Any] = {
        "customerEventId": pl.String,
        "customerAlias": pl.String,
        "seatType": pl.String,
        "eventTimestamp": pl.Datetime("us", "UTC"),
        "total": pl.Int64,
    }
    extra = [name for name in (rows[0] if rows else {}) if name not in schema]
    for name in extra:
        schema[name] = pl.Int64 if name == "receivedSeq" else pl.String
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def monthly(start: date, end: date, zone: str = "UTC") -> BillingSchedule:
    return BillingSchedule(start, "1mo", zone, end=end)


def measures(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in INTEGER_MEASURES}


def expect(
    start: int, end: int, low: int, high: int, days: int, seat_days: int, increment: int, integral: int
) -> dict[str, int]:
    return dict(
        zip(INTEGER_MEASURES, [start, end, low, high, days, seat_days, increment, integral], strict=True)
    )


def approx(value: Fraction) -> Any:
    return pytest.approx(float(value), rel=1e-12, abs=0)


def only(frame: pl.DataFrame, **where: Any) -> list[dict[str, Any]]:
    for name, value in where.items():
        frame = frame.filter(pl.col(name) == value)
    return frame.to_dicts()


# --- single-key rules --------------------------------------------------------------------------


def test_mid_month_add() -> None:
    # 3 seats from Jan 1 00:00 (exactly periodStart), 7 from Jan 11 06:00; Jan + Feb 2025, UTC.
    data = events(ev(utc(2025, 1, 1), 3), ev(utc(2025, 1, 11, 6), 7))
    jan, feb = billable_seats(data, monthly(date(2025, 1, 1), date(2025, 3, 1))).to_dicts()
    # January (31 d = 744 h): 3 seats for 10 d 6 h = 246 h, 7 seats for 20 d 18 h = 498 h.
    # ∫ = 3·246 + 7·498 = 738 + 3486 = 4224 seat-hours; average = 4224 / 744.
    # seatDays: Jan 1-10: 10·3 = 30; Jan 11 (max 7): 7; Jan 12-31: 20·7 = 140 → 177.
    # Only rises: running max = day max → incrementSeatDays 177.
    assert (jan["periodStart"], jan["periodEnd"]) == (utc(2025, 1, 1), utc(2025, 2, 1))
    assert measures(jan) == expect(3, 7, 3, 7, 31, 177, 177, 4224 * HOUR)
    assert jan["averageSeats"] == approx(Fraction(4224, 744))
    # February (28 d): constant 7 → 196 seat-days, average exactly 7.
    assert measures(feb) == expect(7, 7, 7, 7, 28, 196, 196, 196 * DAY)
    assert feb["averageSeats"] == 7.0


def test_removal_back_to_zero_rows_continue() -> None:
    # 4 seats from Jan 10 00:00, back to 0 at Feb 14 12:00; Jan–Mar 2025.
    data = events(ev(utc(2025, 1, 10), 4), ev(utc(2025, 2, 14, 12), 0))
    jan, feb, mar = billable_seats(data, monthly(date(2025, 1, 1), date(2025, 4, 1))).to_dicts()
    # Jan: 0 until Jan 10, then 4 for Jan 10-31 = 22 days → ∫ 88 seat-days, seatDays 88.
    assert measures(jan) == expect(0, 4, 0, 4, 31, 88, 88, 88 * DAY)
    assert jan["averageSeats"] == approx(Fraction(88, 31))
    # Feb: 4 for 13.5 days → ∫ 54 seat-days (average 54/28); seatDays = Feb 1-14 (the day
    # they went counts) = 14·4 = 56; incrementSeatDays = 28·4 = 112 (removals give no credit).
    assert measures(feb) == expect(4, 0, 0, 4, 28, 56, 112, 54 * DAY)
    assert feb["averageSeats"] == approx(Fraction(54, 28))
    # Mar: still a row, all zero.
    assert measures(mar) == expect(0, 0, 0, 0, 31, 0, 0, 0)
    assert mar["averageSeats"] == 0.0


def test_month_end_anchor() -> None:
    # Jan 31 anchor in 2024: periods [Jan 31, Feb 29), [Feb 29, Mar 31), [Mar 31, Apr 30).
    # 2 seats from Jan 31 00:00, 5 from Mar 15 00:00.
    data = events(ev(utc(2024, 1, 31), 2), ev(utc(2024, 3, 15), 5))
    rows = billable_seats(data, monthly(date(2024, 1, 31), date(2024, 4, 30))).to_dicts()
    assert [(r["periodStart"], r["periodEnd"]) for r in rows] == [
        (utc(2024, 1, 31), utc(2024, 2, 29)),
        (utc(2024, 2, 29), utc(2024, 3, 31)),
        (utc(2024, 3, 31), utc(2024, 4, 30)),
    ]
    first, second, third = rows
    # 29 days of 2 → 58.
    assert measures(first) == expect(2, 2, 2, 2, 29, 58, 58, 58 * DAY)
    # Feb 29..Mar 14 = 15 days of 2 (30), Mar 15..30 = 16 days of 5 (80) → 110 (31 days).
    assert measures(second) == expect(2, 5, 2, 5, 31, 110, 110, 110 * DAY)
    assert second["averageSeats"] == approx(Fraction(110, 31))
    # 30 days of 5 → 150.
    assert measures(third) == expect(5, 5, 5, 5, 30, 150, 150, 150 * DAY)


def test_dst_month_weights_by_the_microsecond_and_counts_local_days() -> None:
    # America/New_York, March 2025: [Mar 1 05:00Z, Apr 1 04:00Z) = 743 h, 31 local days;
    # Mar 9 is 23 h long (05:00Z → Mar 10 04:00Z).
    schedule = monthly(date(2025, 3, 1), date(2025, 4, 1), "America/New_York")
    data = events(
        # admin: 10 carried in, 20 for exactly the 23-hour local day Mar 9, then 10.
        ev(utc(2025, 2, 15), 10),
        ev(utc(2025, 3, 9, 5), 20),  # Mar 9 00:00 EST
        ev(utc(2025, 3, 10, 4), 10),  # Mar 10 00:00 EDT
        # guest: 5 seats from Mar 15 03:30Z (Mar 14 23:30 EDT) to 04:30Z (Mar 15 00:30 EDT):
        # one UTC day, but two local days.
        ev(utc(2025, 3, 15, 3, 30), 5, seat="guest"),
        ev(utc(2025, 3, 15, 4, 30), 0, seat="guest"),
    )
    out = billable_seats(data, schedule)
    [admin] = only(out, seatType="admin")
    assert (admin["periodStart"], admin["periodEnd"]) == (utc(2025, 3, 1, 5), utc(2025, 4, 1, 4))
    # ∫ = 10·(743 − 23) + 20·23 = 7200 + 460 = 7660 seat-hours; average 7660 / 743
    # (a 24 h day would give 7670/744: the 23-hour day matters).
    # seatDays = 30 days·10 + 1 day·20 = 320 (Mar 10 starts at 10: the 20 ended at its first instant).
    # incrementSeatDays = Mar 1-8: 8·10 = 80; Mar 9-31: 23·20 = 460 → 540.
    assert measures(admin) == expect(10, 10, 10, 20, 31, 320, 540, 7660 * HOUR)
    assert admin["averageSeats"] == approx(Fraction(7660, 743))
    [guest] = only(out, seatType="guest")
    # ∫ = 5 seats · 1 h = 5 seat-hours; seatDays = local Mar 14 (5) + Mar 15 (5) = 10;
    # incrementSeatDays = running max 5 from Mar 14 to Mar 31 = 18 days · 5 = 90.
    assert measures(guest) == expect(0, 0, 0, 5, 31, 10, 90, 5 * HOUR)
    assert guest["averageSeats"] == approx(Fraction(5, 743))


def test_dst_fall_back_day_is_25_hours() -> None:
    # Europe/London, October 2025 (745 h): 1 seat all month, plus 2 more only on Oct 26 (25 h:
    # Oct 25 23:00Z → Oct 27 00:00Z).
    schedule = monthly(date(2025, 10, 1), date(2025, 11, 1), "Europe/London")
    data = events(ev(utc(2025, 9, 1), 1), ev(utc(2025, 10, 25, 23), 3), ev(utc(2025, 10, 27), 1))
    [row] = billable_seats(data, schedule).to_dicts()
    # ∫ = 1·745 + 2·25 = 795 seat-hours; seatDays = 30·1 + 3 = 33; increment = 25·1 + 6·3 = 43
    # (Oct 1-25: 25 days at 1; Oct 26-31: 6 days at running max 3).
    assert measures(row) == expect(1, 1, 1, 3, 31, 33, 43, 795 * HOUR)
    assert row["averageSeats"] == approx(Fraction(795, 745))


def test_event_exactly_at_period_start_and_end() -> None:
    # Schedule from Dec 2024; first event exactly at Jan 1 00:00 (the end of December): no
    # December row (its end is not after the first event). 9 seats exactly at Feb 1 00:00.
    data = events(ev(utc(2025, 1, 1), 4), ev(utc(2025, 2, 1), 9))
    rows = billable_seats(data, monthly(date(2024, 12, 1), date(2025, 3, 1))).to_dicts()
    assert [r["periodStart"] for r in rows] == [utc(2025, 1, 1), utc(2025, 2, 1)]
    jan, feb = rows
    # January: 4 from its first instant; the 9 at periodEnd is not in January.
    assert measures(jan) == expect(4, 4, 4, 4, 31, 124, 124, 124 * DAY)
    assert jan["averageSeats"] == 4.0
    # February: the event at periodStart counts in startSeats; 9 all month.
    assert measures(feb) == expect(9, 9, 9, 9, 28, 252, 252, 252 * DAY)


def test_same_instant_ties_only_the_last_received_counts() -> None:
    # 3 seats from Jan 1; at Jan 10 12:00 three events received in order 50, 1, 7: only 7
    # counts, even for max and min (zero-length states never count).
    data = events(
        ev(utc(2025, 1, 1), 3),
        ev(utc(2025, 1, 10, 12), 50),
        ev(utc(2025, 1, 10, 12), 1),
        ev(utc(2025, 1, 10, 12), 7),
    )
    [row] = billable_seats(data, monthly(date(2025, 1, 1), date(2025, 2, 1))).to_dicts()
    # ∫ = 3·9.5 + 7·21.5 = 28.5 + 150.5 = 179 seat-days.
    # seatDays = Jan 1-9: 27; Jan 10: max(3, 7) = 7; Jan 11-31: 21·7 = 147 → 181.
    assert measures(row) == expect(3, 7, 3, 7, 31, 181, 181, 179 * DAY)
    assert row["averageSeats"] == approx(Fraction(179, 31))
    log = seat_log(data)
    # One log entry at the tie: 3 → 7, added 4.
    assert log.select("eventTimestamp", "total", "added", "removed").rows() == [
        (utc(2025, 1, 1), 3, 3, 0),
        (utc(2025, 1, 10, 12), 7, 4, 0),
    ]


def test_same_instant_ties_follow_received_seq_not_row_order() -> None:
    # Same rows, but receivedSeq says 50 was received last: it wins the tie.
    data = events(
        ev(utc(2025, 1, 1), 3, receivedSeq=1),
        ev(utc(2025, 1, 10, 12), 50, receivedSeq=9),
        ev(utc(2025, 1, 10, 12), 1, receivedSeq=5),
        ev(utc(2025, 1, 10, 12), 7, receivedSeq=6),
    )
    [row] = billable_seats(data, monthly(date(2025, 1, 1), date(2025, 2, 1))).to_dicts()
    # ∫ = 3·9.5 + 50·21.5 = 28.5 + 1075 = 1103.5 seat-days = 2207 half-days.
    # seatDays = 27 + 50 + 21·50 = 1127.
    assert measures(row) == expect(3, 50, 3, 50, 31, 1127, 1127, 2207 * DAY // 2)
    assert seat_balances(data)["total"].to_list() == [50]


def test_same_instant_drop_to_zero_does_not_count_for_min() -> None:
    # 5 seats from Jan 1; at Jan 20 00:00, 0 then 5 again (received in that order): the 0
    # lasts no time: min 5, nothing logged at Jan 20 but a no-op.
    data = events(ev(utc(2025, 1, 1), 5), ev(utc(2025, 1, 20), 0), ev(utc(2025, 1, 20), 5))
    [row] = billable_seats(data, monthly(date(2025, 1, 1), date(2025, 2, 1))).to_dicts()
    assert measures(row) == expect(5, 5, 5, 5, 31, 155, 155, 155 * DAY)
    assert seat_log(data).select("total", "added", "removed").rows() == [(5, 5, 0), (5, 0, 0)]


# --- supersession ---------------------------------------------------------------------------


def test_supersession_by_later_timestamp() -> None:
    # e1 sent for Jan 10 (5 seats), then a version for Jan 5 (8 seats) received later.
    # Default policy: the latest eventTimestamp wins → Jan 10, 5 seats.
    data = events(ev(utc(2025, 1, 10), 5, event_id="e1"), ev(utc(2025, 1, 5), 8, event_id="e1"))
    schedule = monthly(date(2025, 1, 1), date(2025, 2, 1))
    eff = effective_events(data)
    assert eff.select("eventTimestamp", "total").rows() == [(utc(2025, 1, 10), 5)]
    [row] = billable_seats(data, schedule).to_dicts()
    # 5 seats Jan 10-31 = 22 days → 110 seat-days.
    assert measures(row) == expect(0, 5, 0, 5, 31, 110, 110, 110 * DAY)
    # Under "received", the correction moves the event back to Jan 5: 8 seats for 27 days = 216.
    eff = effective_events(data, supersede_by="received")
    assert eff.select("eventTimestamp", "total").rows() == [(utc(2025, 1, 5), 8)]
    [row] = billable_seats(data, schedule, supersede_by="received").to_dicts()
    assert measures(row) == expect(0, 8, 0, 8, 31, 216, 216, 216 * DAY)
    assert seat_balances(data, supersede_by="received")["total"].to_list() == [8]
    assert seat_log(data, supersede_by="received").select("total", "added").rows() == [(8, 8)]


def test_supersession_by_later_timestamp_received_first() -> None:
    # The later-timestamped version arrives first; it still wins by default.
    data = events(ev(utc(2025, 1, 20), 6, event_id="e1"), ev(utc(2025, 1, 3), 2, event_id="e1"))
    assert effective_events(data)["total"].to_list() == [6]
    assert effective_events(data, supersede_by="received")["total"].to_list() == [2]


def test_supersession_by_receipt_on_equal_timestamps() -> None:
    t = utc(2025, 1, 10)
    data = events(ev(t, 5, event_id="e2"), ev(t, 6, event_id="e2"))
    assert effective_events(data)["total"].to_list() == [6]  # row order: the second is later
    reordered = events(ev(t, 5, event_id="e2", receivedSeq=20), ev(t, 6, event_id="e2", receivedSeq=10))
    assert effective_events(reordered)["total"].to_list() == [5]  # receivedSeq 20 is later
    [row] = billable_seats(reordered, monthly(date(2025, 1, 1), date(2025, 2, 1))).to_dicts()
    # 5 seats for Jan 10-31 = 22 days = 110.
    assert row["seatDays"] == 110 and row["maxSeats"] == 5


def test_superseding_version_moves_the_event_to_another_key() -> None:
    # acme/admin holds 2 (e4) all January. e3 said acme/admin 40 on Jan 5; a later version
    # of e3 says globex/viewer 4 on Jan 6: the 40 counts nowhere.
    data = events(
        ev(utc(2025, 1, 1), 2, event_id="e4"),
        ev(utc(2025, 1, 5), 40, event_id="e3"),
        ev(utc(2025, 1, 6), 4, alias="globex", seat="viewer", event_id="e3"),
    )
    out = billable_seats(data, monthly(date(2025, 1, 1), date(2025, 2, 1)))
    assert out.select("customerAlias", "seatType").rows() == [("acme", "admin"), ("globex", "viewer")]
    [acme] = only(out, customerAlias="acme")
    assert measures(acme) == expect(2, 2, 2, 2, 31, 62, 62, 62 * DAY)
    [globex] = only(out, customerAlias="globex")
    # 4 seats Jan 6-31 = 26 days → 104.
    assert measures(globex) == expect(0, 4, 0, 4, 31, 104, 104, 104 * DAY)
    assert seat_balances(data).select("customerAlias", "seatType", "total").rows() == [
        ("acme", "admin", 2),
        ("globex", "viewer", 4),
    ]
    assert seat_log(data).select("customerAlias", "total", "added").rows() == [
        ("acme", 2, 2),
        ("globex", 4, 4),
    ]


def test_moved_event_leaves_no_row_for_its_old_key() -> None:
    # The only acme event is moved to globex: acme has no row anywhere (and needs no schedule).
    data = events(
        ev(utc(2025, 1, 5), 40, event_id="e3"),
        ev(utc(2025, 1, 6), 4, alias="globex", event_id="e3"),
    )
    schedules = {"globex": monthly(date(2025, 1, 1), date(2025, 2, 1))}
    out = billable_seats(data, schedules)
    assert out["customerAlias"].to_list() == ["globex"]
    assert seat_balances(data)["customerAlias"].to_list() == ["globex"]


def test_received_policy_correction_moves_event_back_across_periods() -> None:
    # e1 first said Feb 10 (6 seats); a correction received later says Jan 20 (6 seats).
    data = events(ev(utc(2025, 2, 10), 6, event_id="e1"), ev(utc(2025, 1, 20), 6, event_id="e1"))
    schedule = monthly(date(2025, 1, 1), date(2025, 3, 1))
    # Default: Feb 10 wins → no January row; Feb: 6 for Feb 10-28 = 19 days = 114.
    [feb] = billable_seats(data, schedule).to_dicts()
    assert feb["periodStart"] == utc(2025, 2, 1)
    assert measures(feb) == expect(0, 6, 0, 6, 28, 114, 114, 114 * DAY)
    # "received": Jan 20 wins → Jan: 6 for Jan 20-31 = 12 days = 72; Feb: 28·6 = 168.
    jan, feb = billable_seats(data, schedule, supersede_by="received").to_dicts()
    assert measures(jan) == expect(0, 6, 0, 6, 31, 72, 72, 72 * DAY)
    assert measures(feb) == expect(6, 6, 6, 6, 28, 168, 168, 168 * DAY)


def test_resending_a_superseded_version_changes_nothing() -> None:
    base = events(ev(utc(2025, 1, 5), 3, event_id="a"), ev(utc(2025, 1, 15), 7, event_id="a"))
    resent = events(
        ev(utc(2025, 1, 5), 3, event_id="a"),
        ev(utc(2025, 1, 15), 7, event_id="a"),
        ev(utc(2025, 1, 5), 3, event_id="a"),  # older timestamp: still loses
    )
    schedule = monthly(date(2025, 1, 1), date(2025, 2, 1))
    assert_frame_equal(billable_seats(base, schedule), billable_seats(resent, schedule))


def test_null_event_ids_are_never_superseded() -> None:
    # Two null-id events: both count (3 from Jan 1, 5 from Jan 16).
    data = events(ev(utc(2025, 1, 1), 3), ev(utc(2025, 1, 16), 5))
    [row] = billable_seats(data, monthly(date(2025, 1, 1), date(2025, 2, 1))).to_dicts()
    # 15·3 + 16·5 = 45 + 80 = 125.
    assert row["seatDays"] == 125


def test_invalid_policy() -> None:
    data = events(ev(utc(2025, 1, 1), 1))
    with pytest.raises(ValueError, match="supersede_by"):
        billable_seats(data, monthly(date(2025, 1, 1), date(2025, 2, 1)), supersede_by="latest")  # type: ignore[arg-type]


# --- schedule edges -----------------------------------------------------------------------------


def test_events_before_the_schedule_start_carry_the_balance() -> None:
    # 6 seats from Nov 15 2024, 9 from Jan 20 2025; the schedule starts Mar 1 2025.
    data = events(ev(utc(2024, 11, 15), 6), ev(utc(2025, 1, 20), 9))
    rows = billable_seats(data, monthly(date(2025, 3, 1), date(2025, 5, 1))).to_dicts()
    assert [r["periodStart"] for r in rows] == [utc(2025, 3, 1), utc(2025, 4, 1)]
    mar, apr = rows
    assert measures(mar) == expect(9, 9, 9, 9, 31, 279, 279, 279 * DAY)
    assert measures(apr) == expect(9, 9, 9, 9, 30, 270, 270, 270 * DAY)
    assert mar["averageSeats"] == 9.0


def test_carried_in_zero_still_gives_rows() -> None:
    # One event before the schedule, total 0: a row per period, all zero.
    data = events(ev(utc(2024, 12, 31, 23), 0))
    rows = billable_seats(data, monthly(date(2025, 1, 1), date(2025, 3, 1))).to_dicts()
    assert [measures(r) for r in rows] == [
        expect(0, 0, 0, 0, 31, 0, 0, 0),
        expect(0, 0, 0, 0, 28, 0, 0, 0),
    ]


def test_events_after_the_schedule_are_ignored() -> None:
    # 2 seats in January; 100 seats on Feb 1 00:00 (exactly the schedule's end) and later.
    data = events(ev(utc(2025, 1, 1), 2), ev(utc(2025, 2, 1), 100), ev(utc(2025, 3, 1), 50))
    [row] = billable_seats(data, monthly(date(2025, 1, 1), date(2025, 2, 1))).to_dicts()
    assert measures(row) == expect(2, 2, 2, 2, 31, 62, 62, 62 * DAY)


def test_key_first_seen_mid_schedule() -> None:
    data = events(
        ev(utc(2025, 1, 1), 1),
        ev(utc(2025, 2, 10, 12), 3, alias="globex"),
    )
    out = billable_seats(data, monthly(date(2025, 1, 1), date(2025, 4, 1)))
    assert len(only(out, customerAlias="acme")) == 3
    rows = only(out, customerAlias="globex")
    # No January row for globex (its first event is in February).
    assert [r["periodStart"] for r in rows] == [utc(2025, 2, 1), utc(2025, 3, 1)]
    feb, mar = rows
    # Feb: 3 seats from Feb 10 12:00 = 18.5 days → ∫ 55.5 seat-days = 111 half-days;
    # seatDays = Feb 10-28 = 19 days · 3 = 57.
    assert measures(feb) == expect(0, 3, 0, 3, 28, 57, 57, 111 * DAY // 2)
    assert feb["averageSeats"] == approx(Fraction(111, 56))
    assert measures(mar) == expect(3, 3, 3, 3, 31, 93, 93, 93 * DAY)


def test_until_cuts_the_rows() -> None:
    data = events(ev(utc(2025, 1, 1), 1))
    schedule = BillingSchedule(date(2025, 1, 1), "1mo")  # no end
    out = billable_seats(data, schedule, until=date(2025, 3, 15))
    # Jan, Feb and the whole of March (it starts before Mar 15).
    assert out["periodEnd"].to_list() == [utc(2025, 2, 1), utc(2025, 3, 1), utc(2025, 4, 1)]
    with pytest.raises(InvalidSchedule):
        billable_seats(data, schedule)  # neither end nor until


# --- seat-days vs increment seat-days --------------------------------------------------------


def test_increment_seat_days_vs_seat_days_on_rise_then_fall() -> None:
    # 2 seats carried in; 10 from Jan 11 12:00; 4 from Jan 21 12:00 (January 2025).
    data = events(ev(utc(2024, 12, 1), 2), ev(utc(2025, 1, 11, 12), 10), ev(utc(2025, 1, 21, 12), 4))
    [row] = billable_seats(data, monthly(date(2025, 1, 1), date(2025, 2, 1))).to_dicts()
    # seatDays (each day's max): Jan 1-10: 10·2 = 20; Jan 11: 10; Jan 12-20: 9·10 = 90;
    # Jan 21 (held 10 until noon): 10; Jan 22-31: 10·4 = 40 → 170.
    # incrementSeatDays (running max): Jan 1-10: 20; Jan 11-31: 21·10 = 210 → 230.
    # ∫ = 2·10.5 + 10·10 + 4·10.5 = 21 + 100 + 42 = 163 seat-days.
    assert measures(row) == expect(2, 4, 2, 10, 31, 170, 230, 163 * DAY)
    assert row["averageSeats"] == approx(Fraction(163, 31))
    assert seat_log(data).select("total", "added", "removed").rows() == [
        (2, 2, 0),
        (10, 8, 0),
        (4, 0, 6),
    ]


def test_several_changes_within_one_day() -> None:
    # 1 seat from Jan 1; on Jan 5: 08:00 → 6, 12:00 → 3, 18:00 → 2 (January 2025).
    data = events(
        ev(utc(2025, 1, 1), 1),
        ev(utc(2025, 1, 5, 8), 6),
        ev(utc(2025, 1, 5, 12), 3),
        ev(utc(2025, 1, 5, 18), 2),
    )
    [row] = billable_seats(data, monthly(date(2025, 1, 1), date(2025, 2, 1))).to_dicts()
    # seatDays = Jan 1-4: 4·1; Jan 5: 6; Jan 6-31: 26·2 = 52 → 62.
    # increment = 4·1 + 27·6 = 166.
    # ∫ (hours) = 1·(4·24 + 8) + 6·4 + 3·6 + 2·(6 + 26·24) = 104 + 24 + 18 + 1260 = 1406.
    assert measures(row) == expect(1, 2, 1, 6, 31, 62, 166, 1406 * HOUR)


# --- accounts and per-customer schedules -----------------------------------------------------


def test_sequence_account_id_is_part_of_the_key() -> None:
    # Same alias, seat type and customerEventId in two accounts: two separate facts.
    # Account B re-sends e1 (same instant, received later) with 6.
    data = events(
        ev(utc(2025, 1, 1), 3, event_id="e1", sequenceAccountId="acct-A"),
        ev(utc(2025, 1, 1), 5, event_id="e1", sequenceAccountId="acct-B"),
        ev(utc(2025, 1, 1), 6, event_id="e1", sequenceAccountId="acct-B"),
    )
    out = billable_seats(data, monthly(date(2025, 1, 1), date(2025, 2, 1)))
    assert out.columns[:3] == ["sequenceAccountId", "customerAlias", "seatType"]
    assert out.select("sequenceAccountId", "maxSeats", "seatDays").rows() == [
        ("acct-A", 3, 93),  # 31·3
        ("acct-B", 6, 186),  # 31·6
    ]
    eff = effective_events(data)
    assert eff.select("sequenceAccountId", "total").rows() == [("acct-A", 3), ("acct-B", 6)]
    assert seat_balances(data).columns[0] == "sequenceAccountId"
    assert seat_balances(data)["total"].to_list() == [3, 6]
    assert seat_log(data).select("sequenceAccountId", "added").rows() == [("acct-A", 3), ("acct-B", 6)]


def test_per_customer_schedule_mapping() -> None:
    # acme: UTC monthly from Jan 1. globex: Asia/Tokyo monthly from Jan 15 (midnight JST =
    # 15:00Z the day before).
    schedules = {
        "acme": monthly(date(2025, 1, 1), date(2025, 2, 1)),
        "globex": monthly(date(2025, 1, 15), date(2025, 2, 15), "Asia/Tokyo"),
    }
    data = events(
        ev(utc(2025, 1, 1), 2),
        ev(utc(2025, 1, 14, 15), 4, alias="globex"),  # Jan 15 00:00 JST
        ev(utc(2025, 2, 1, 3), 6, alias="globex"),  # Feb 1 12:00 JST
    )
    out = billable_seats(data, schedules)
    [acme] = only(out, customerAlias="acme")
    assert (acme["periodStart"], acme["periodEnd"]) == (utc(2025, 1, 1), utc(2025, 2, 1))
    assert measures(acme) == expect(2, 2, 2, 2, 31, 62, 62, 62 * DAY)
    [globex] = only(out, customerAlias="globex")
    assert (globex["periodStart"], globex["periodEnd"]) == (utc(2025, 1, 14, 15), utc(2025, 2, 14, 15))
    # Jan 15 – Feb 14 JST = 31 days: 4 seats for Jan 15-31 (17 days) and Feb 1 until noon
    # (0.5 day), 6 from Feb 1 noon (13.5 days).
    # seatDays = 17·4 + 6 (Feb 1) + 13·6 = 68 + 6 + 78 = 152;
    # ∫ = 4·17.5 + 6·13.5 = 70 + 81 = 151 seat-days.
    assert measures(globex) == expect(4, 6, 4, 6, 31, 152, 152, 151 * DAY)
    # The same schedules given as a frame.
    frame = pl.DataFrame(
        {
            "customerAlias": ["acme", "globex"],
            "start": [date(2025, 1, 1), date(2025, 1, 15)],
            "interval": ["1mo", "1mo"],
            "timeZone": ["UTC", "Asia/Tokyo"],
            "end": [date(2025, 2, 1), date(2025, 2, 15)],
        }
    )
    assert_frame_equal(billable_seats(data, frame), out)


def test_customer_without_a_schedule_is_an_error() -> None:
    data = events(ev(utc(2025, 1, 1), 2), ev(utc(2025, 1, 1), 4, alias="initech"))
    with pytest.raises(InvalidSchedule, match="initech"):
        billable_seats(data, {"acme": monthly(date(2025, 1, 1), date(2025, 2, 1))})
    frame = pl.DataFrame(
        {
            "customerAlias": ["acme"],
            "start": [date(2025, 1, 1)],
            "interval": ["1mo"],
            "end": [date(2025, 2, 1)],
        }
    )
    with pytest.raises(InvalidSchedule, match="initech"):
        billable_seats(data, frame)


# --- balances -------------------------------------------------------------------------------------


def test_seat_balances_at_an_instant() -> None:
    data = events(
        ev(utc(2025, 1, 1), 2),
        ev(utc(2025, 1, 10), 5),
        ev(utc(2025, 1, 20), 1, alias="globex"),
    )
    # Jan 10 00:00 exactly: the event at that instant counts (5); globex not yet seen: no row.
    at = seat_balances(data, utc(2025, 1, 10))
    assert at.select("customerAlias", "total", "changeTimestamp").rows() == [("acme", 5, utc(2025, 1, 10))]
    # 1 µs earlier: 2.
    before = seat_balances(data, utc(2025, 1, 10) - timedelta(microseconds=1))
    assert before["total"].to_list() == [2]
    # An aware instant at another offset: Jan 10 01:00 at +02:00 = Jan 9 23:00Z → 2.
    offset = datetime(2025, 1, 10, 1, tzinfo=timezone(timedelta(hours=2)))
    assert seat_balances(data, offset)["total"].to_list() == [2]
    # Jan 9 19:00 in New York (EST, −05:00) is Jan 10 00:00Z exactly → 5; 18:59 → 2.
    new_york = ZoneInfo("America/New_York")
    assert seat_balances(data, datetime(2025, 1, 9, 19, tzinfo=new_york))["total"].to_list() == [5]
    assert seat_balances(data, datetime(2025, 1, 9, 18, 59, tzinfo=new_york))["total"].to_list() == [2]
    # Default: the latest of every key.
    assert seat_balances(data).select("customerAlias", "total").rows() == [("acme", 5), ("globex", 1)]
    with pytest.raises(ValueError):
        seat_balances(data, datetime(2025, 1, 10))  # naive


# --- dtypes, frame kinds, engines, overflow ---------------------------------------------------


EXPECTED_SCHEMA: dict[str, Any] = {
    "customerAlias": pl.String,
    "seatType": pl.String,
    "periodStart": pl.Datetime("us", "UTC"),
    "periodEnd": pl.Datetime("us", "UTC"),
    "startSeats": pl.Int64,
    "endSeats": pl.Int64,
    "minSeats": pl.Int64,
    "maxSeats": pl.Int64,
    "averageSeats": pl.Float64,
    "days": pl.Int32,
    "seatDays": pl.Int64,
    "incrementSeatDays": pl.Int64,
    "seatMicroseconds": pl.Int128,
}


def test_output_dtypes() -> None:
    data = events(ev(utc(2025, 1, 1), 2))
    schedule = monthly(date(2025, 1, 1), date(2025, 2, 1))
    assert billable_seats(data, schedule).schema == pl.Schema(EXPECTED_SCHEMA)
    lazy = billable_seats(data.lazy(), schedule)
    assert lazy.collect_schema() == pl.Schema(EXPECTED_SCHEMA)
    with_account = data.with_columns(sequenceAccountId=pl.lit("acct"))
    assert billable_seats(with_account, schedule).schema == pl.Schema(
        {"sequenceAccountId": pl.String, **EXPECTED_SCHEMA}
    )


def test_empty_result_keeps_the_dtypes() -> None:
    data = events(ev(utc(2025, 3, 1), 2))  # after the schedule: no row
    out = billable_seats(data, monthly(date(2025, 1, 1), date(2025, 2, 1)))
    assert out.height == 0
    assert out.schema == pl.Schema(EXPECTED_SCHEMA)


def random_events(seed: int, n: int = 400) -> pl.DataFrame:
    rng = random.Random(seed)
    start = utc(2024, 11, 1)
    rows = []
    for i in range(n):
        when = start + timedelta(minutes=rng.randrange(0, 200 * 24 * 60, 30))
        rows.append(
            ev(
                when,
                rng.randrange(0, 40),
                alias=rng.choice(["acme", "globex", "initech"]),
                seat=rng.choice(["admin", "viewer"]),
                event_id=rng.choice([None, f"e{rng.randrange(60)}"]),
                receivedSeq=i * 3 + 1,
            )
        )
    frame = events(*rows)
    return frame.sample(fraction=1.0, shuffle=True, seed=seed)  # receivedSeq, not row order


def test_lazy_in_lazy_out_eager_in_eager_out() -> None:
    data = random_events(1)
    schedule = monthly(date(2025, 1, 1), date(2025, 4, 1), "America/New_York")
    calls: dict[str, Any] = {
        "billable_seats": lambda f: billable_seats(f, schedule),
        "effective_events": effective_events,
        "seat_log": seat_log,
        "seat_balances": seat_balances,
    }
    for name, call in calls.items():
        eager = call(data)
        lazy = call(data.lazy())
        assert isinstance(eager, pl.DataFrame), name
        assert isinstance(lazy, pl.LazyFrame), name
        assert_frame_equal(lazy.collect(), eager)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_engines_give_the_same_frame(seed: int) -> None:
    data = random_events(seed).lazy()
    schedules = {
        "acme": monthly(date(2025, 1, 1), date(2025, 4, 1), "America/New_York"),
        "globex": BillingSchedule(date(2024, 12, 15), "2w", "Europe/London", end=date(2025, 4, 6)),
        "initech": monthly(date(2025, 1, 31), date(2025, 4, 30)),
    }
    for lazy in (
        billable_seats(data, schedules),
        billable_seats(data, schedules, supersede_by="received"),
        effective_events(data),
        seat_log(data),
        seat_balances(data, utc(2025, 2, 1)),
    ):
        in_memory = lazy.collect(engine="in-memory")
        streaming = lazy.collect(engine="streaming")
        assert in_memory.height > 0
        assert_frame_equal(in_memory, streaming)


def test_laws_on_random_events() -> None:
    # min ≤ average ≤ max; startSeats and endSeats within [min, max];
    # seatDays ≤ incrementSeatDays ≤ maxSeats·days; seatMicroseconds = average × length.
    data = random_events(7)
    schedule = BillingSchedule(date(2024, 12, 1), "1mo", "America/New_York", end=date(2025, 6, 1))
    for row in billable_seats(data, schedule).iter_rows(named=True):
        assert row["minSeats"] <= row["averageSeats"] <= row["maxSeats"]
        assert row["minSeats"] <= row["startSeats"] <= row["maxSeats"]
        assert row["minSeats"] <= row["endSeats"] <= row["maxSeats"]
        assert row["minSeats"] * row["days"] <= row["seatDays"] <= row["incrementSeatDays"]
        assert row["incrementSeatDays"] <= row["maxSeats"] * row["days"]
        length = (row["periodEnd"] - row["periodStart"]) // timedelta(microseconds=1)
        assert row["averageSeats"] == approx(Fraction(row["seatMicroseconds"], length))


def test_shuffling_rows_with_distinct_timestamps_changes_nothing() -> None:
    rows = [ev(utc(2025, 1, 1) + timedelta(hours=7 * i), (i * 13) % 17) for i in range(300)]
    data = events(*rows)
    schedule = monthly(date(2025, 1, 1), date(2025, 4, 1), "Europe/London")
    expected = billable_seats(data, schedule)
    assert_frame_equal(billable_seats(data.sample(fraction=1.0, shuffle=True, seed=5), schedule), expected)


def test_a_billion_seats_for_a_year_does_not_overflow() -> None:
    # 10⁹ seats all of 2025 (365 days = 31 536 000 000 000 µs).
    data = events(ev(utc(2025, 1, 1), 1_000_000_000))
    schedule = BillingSchedule(date(2025, 1, 1), "1y", end=date(2026, 1, 1))
    [row] = billable_seats(data, schedule).to_dicts()
    assert row["days"] == 365
    assert row["seatMicroseconds"] == 1_000_000_000 * 31_536_000_000_000  # 3.1536 × 10²² > 2⁶³
    assert row["seatDays"] == 365_000_000_000
    assert row["incrementSeatDays"] == 365_000_000_000
    assert row["averageSeats"] == 1e9


def test_largest_total_for_a_leap_year_with_changes_does_not_overflow() -> None:
    # 2 147 483 647 seats from Jan 1 2024, down to 1 at Jul 1 2024 00:00, back up at Oct 1.
    top = 2_147_483_647
    data = events(ev(utc(2024, 1, 1), top), ev(utc(2024, 7, 1), 1), ev(utc(2024, 10, 1), top))
    schedule = BillingSchedule(date(2024, 1, 1), "1y", end=date(2025, 1, 1))
    [row] = billable_seats(data, schedule).to_dicts()
    # Jan 1 – Jul 1 2024 = 182 days, Jul 1 – Oct 1 = 92 days, Oct 1 – Jan 1 = 92 days (366 in all).
    # ∫ = top·182 d + 1·92 d + top·92 d = (274·top + 92) seat-days.
    assert row["seatMicroseconds"] == (274 * top + 92) * DAY
    # seatDays = 182·top + 92·1 + 92·top (Jul 1 and Oct 1 events are at midnight).
    assert row["seatDays"] == 274 * top + 92
    assert row["incrementSeatDays"] == 366 * top
    assert row["averageSeats"] == approx(Fraction(274 * top + 92, 366))


def test_a_one_microsecond_spike() -> None:
    # 1 seat from Jan 1; 1000 seats for exactly 1 µs (Jan 15 23:59:59.999999 → Jan 16 00:00).
    spike = datetime(2025, 1, 15, 23, 59, 59, 999999, tzinfo=UTC)
    data = events(ev(utc(2025, 1, 1), 1), ev(spike, 1000), ev(utc(2025, 1, 16), 1))
    [row] = billable_seats(data, monthly(date(2025, 1, 1), date(2025, 2, 1))).to_dicts()
    # ∫ = 1·31 days + 999 seats·1 µs = 31·DAY + 999 µs.
    # seatDays = 30·1 + 1000 (Jan 15's max) = 1030; Jan 16 starts at 1 (the spike ended at its
    # first instant). incrementSeatDays = Jan 1-14: 14·1 + Jan 15-31: 17·1000 = 17014.
    assert measures(row) == expect(1, 1, 1, 1000, 31, 1030, 17014, 31 * DAY + 999)
    assert row["averageSeats"] == approx(Fraction(31 * DAY + 999, 31 * DAY))
    assert row["averageSeats"] > 1.0  # 1 + 999/(2.6784·10¹²) is still above 1 in a double


def test_naive_until_in_billable_seats() -> None:
    data = events(ev(utc(2025, 1, 1), 1))
    with pytest.raises(InvalidSchedule):
        billable_seats(data, BillingSchedule(date(2025, 1, 1), "1mo"), until=datetime(2025, 3, 1))


def test_schedule_of_the_wrong_type() -> None:
    data = events(ev(utc(2025, 1, 1), 1))
    with pytest.raises(InvalidSchedule):
        billable_seats(data, "1mo")  # type: ignore[arg-type]
    with pytest.raises(InvalidSchedule):
        billable_seats(data, {"acme": "1mo"})  # type: ignore[dict-item]


def test_events_before_a_later_customer_schedule_list_only_its_own_periods() -> None:
    # beta bills fortnightly from Jan 15; its event on Jan 1 is carried in, not billed in
    # acme's January: rows Jan 15–29 and Jan 29–Feb 12 (the second starts before until).
    events = pl.DataFrame(
        {
            "customerAlias": ["acme", "beta"],
            "seatType": ["editor", "editor"],
            "eventTimestamp": [datetime(2025, 1, 1, tzinfo=UTC)] * 2,
            "total": [1, 3],
        }
    )
    schedules = {
        "acme": BillingSchedule(date(2025, 1, 1), "1mo"),
        "beta": BillingSchedule(date(2025, 1, 15), "2w"),
    }
    seats = billable_seats(events, schedules, until=date(2025, 2, 1))
    beta = seats.filter(pl.col("customerAlias") == "beta")
    assert beta["periodStart"].to_list() == [
        datetime(2025, 1, 15, tzinfo=UTC),
        datetime(2025, 1, 29, tzinfo=UTC),
    ]
    assert beta["startSeats"].to_list() == [3, 3]
    assert beta["seatDays"].to_list() == [3 * 14, 3 * 14]
    assert seats.filter(pl.col("customerAlias") == "acme")["seatDays"].to_list() == [31]


@pytest.mark.parametrize("engine", ["in-memory", "streaming"])
def test_average_is_correctly_rounded_on_a_one_period_schedule(engine: str) -> None:
    # 1 seat from Jan 2 over January: 30 of 31 days. A one-period schedule once made the
    # in-memory engine divide by a broadcast scalar (through its reciprocal: 1 ulp off).
    events = pl.DataFrame(
        {
            "customerAlias": ["acme"],
            "seatType": ["std"],
            "eventTimestamp": [datetime(2024, 1, 2, tzinfo=UTC)],
            "total": [1],
        }
    )
    schedule = BillingSchedule(date(2024, 1, 1), "1mo", end=date(2024, 2, 1))
    seats = billable_seats(events.lazy(), schedule).collect(engine=engine)  # type: ignore[call-overload]
    assert seats["averageSeats"].to_list() == [float(Fraction(30, 31))]


# --- a local date that never existed ---------------------------------------------------------
# Pacific/Apia skipped 2011-12-30: Thursday Dec 29 (−10:00) was followed by Saturday Dec 31
# (+14:00). Local day starts: Dec 1 = 10:00Z, Dec 29 = 10:00Z, Dec 31 = Dec 30 10:00Z,
# Jan 1 = Dec 31 10:00Z. Dec 30 is no day: it counts in no days and no seat-days.

APIA = "Pacific/Apia"


def apia_events() -> pl.DataFrame:
    return events(
        ev(utc(2011, 12, 1, 10), 2),  # Dec 1 00:00 local
        ev(utc(2011, 12, 29, 22), 5),  # Dec 29 12:00 local
        ev(utc(2011, 12, 30, 12), 3),  # Dec 31 02:00 local
    )


def test_skipped_date_counts_in_no_seat_days_of_the_month() -> None:
    [row] = billable_seats(apia_events(), monthly(date(2011, 12, 1), date(2012, 1, 1), APIA)).to_dicts()
    assert (row["periodStart"], row["periodEnd"]) == (utc(2011, 12, 1, 10), utc(2011, 12, 31, 10))
    # Dec 1-28 hold 2 (56 seat-days); Dec 29 peaks at 5; Dec 31 starts at 5, then 3: 66.
    # ∫ = 2 · 28.5 d + 5 · 14 h + 3 · 22 h = 57 d + 136 h over 30 d of 24 h.
    assert measures(row) == {
        "startSeats": 2, "endSeats": 3, "minSeats": 2, "maxSeats": 5, "days": 30,
        "seatDays": 66, "incrementSeatDays": 66, "seatMicroseconds": 57 * DAY + 136 * HOUR,
    }  # fmt: skip
    assert row["averageSeats"] == approx(Fraction(57 * 24 + 136, 30 * 24))


def test_skipped_date_has_no_daily_row() -> None:
    schedule = BillingSchedule(date(2011, 12, 28), "1d", APIA, end=date(2012, 1, 1))
    out = billable_seats(apia_events(), schedule)
    shown = ("periodStart", "startSeats", "endSeats", "days", "seatDays", "seatMicroseconds")
    assert out.select(shown).rows() == [
        (utc(2011, 12, 28, 10), 2, 2, 1, 2, 2 * DAY),
        (utc(2011, 12, 29, 10), 2, 5, 1, 5, 12 * 2 * HOUR + 12 * 5 * HOUR),  # Dec 29
        (utc(2011, 12, 30, 10), 5, 3, 1, 5, 2 * 5 * HOUR + 22 * 3 * HOUR),  # Dec 31
    ]  # fmt: skip


def test_event_at_the_skipped_date_start_belongs_to_the_next_day() -> None:
    # Dec 30 10:00Z is where Dec 30 "starts" and where Dec 31 really starts: Dec 31's event.
    frame = events(ev(utc(2011, 12, 29, 10), 1), ev(utc(2011, 12, 30, 10), 7))
    two_days = BillingSchedule(date(2011, 12, 29), "2d", APIA, end=date(2012, 1, 2))
    out = billable_seats(frame, two_days)
    # [Dec 29, Dec 31): Dec 29 only, holding 1. [Dec 31, Jan 2): 7 from its first instant.
    shown = ("startSeats", "endSeats", "maxSeats", "days", "seatDays", "incrementSeatDays")
    assert out.select(shown).rows() == [
        (1, 1, 1, 1, 1, 1),
        (7, 7, 7, 2, 14, 14),
    ]  # fmt: skip


@pytest.mark.parametrize("engine", ["in-memory", "streaming"])
def test_skipped_date_gives_no_price_line(engine: str) -> None:
    from decimal import Decimal

    from seatcalc import SeatPrice, price_seats

    price = SeatPrice(
        seatType="admin", currency="GBP", pricePerSeat="30.00", prorationStrategy="PRORATE_ALL_CHANGES"
    )
    monthly_lines = price_seats(
        apia_events().lazy(), monthly(date(2011, 12, 1), date(2012, 1, 1), APIA), [price]
    ).collect(engine=engine)
    # 66 seat-days over 30 days: 2.2 seats · 30.00.
    assert monthly_lines.select("quantity", "amount").rows() == [(Decimal("2.200000"), Decimal("66.00"))]
    daily = BillingSchedule(date(2011, 12, 28), "1d", APIA, end=date(2012, 1, 1))
    lines = price_seats(apia_events().lazy(), daily, [price]).collect(engine=engine)
    assert lines.select("periodStart", "amount").rows() == [
        (utc(2011, 12, 28, 10), Decimal("60.00")),
        (utc(2011, 12, 29, 10), Decimal("150.00")),
        (utc(2011, 12, 30, 10), Decimal("150.00")),  # local Dec 31; Dec 30 has no line
    ]


def test_a_schedule_ending_on_a_daylight_saving_day_places_instants_at_and_after_its_end() -> None:
    """Every day of this schedule lasts 24 h but the last (2023-03-12, 23 h in New York):
    instants at or after the end (2023-03-13T04:00Z) belong to no period."""
    schedule = BillingSchedule(date(2023, 2, 21), "10d", "America/New_York")

    def events(*rows: tuple[datetime, int]) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "customerAlias": ["a"] * len(rows),
                "seatType": ["x"] * len(rows),
                "eventTimestamp": [instant for instant, _ in rows],
                "total": [total for _, total in rows],
            }
        )

    at_end = billable_seats(
        events((datetime(2023, 3, 13, 4, tzinfo=UTC), 0)), schedule, until=date(2023, 3, 13)
    )
    assert at_end.height == 0  # no period ends after the key's first event
    later = billable_seats(
        events((datetime(2023, 2, 21, 5, tzinfo=UTC), 3), (datetime(2023, 3, 23, tzinfo=UTC), 1)),
        schedule,
        until=date(2023, 3, 13),
    )
    # 3 seats all along both periods: 10 days, then 10 days of which the last has 23 h
    assert later.select("endSeats", "seatDays", "averageSeats").rows() == [(3, 30, 3.0), (3, 30, 3.0)]
    assert later["seatMicroseconds"].to_list() == [
        3 * 10 * 86_400_000_000,
        3 * (10 * 86_400 - 3_600) * 1_000_000,
    ]
