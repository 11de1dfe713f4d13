"""Bad arguments to the schedule and measure entry points: each gets a SeatcalcError leaf
that is also a ValueError or TypeError and names the argument or field, never a raw
ValueError, TypeError, OverflowError or polars error. Hand-picked cases first, then fuzz."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seatcalc import (
    BillingSchedule,
    InvalidArgument,
    InvalidEventFrame,
    InvalidSchedule,
    SeatcalcError,
    SeatPrice,
    billable_seats,
    billing_periods,
    effective_events,
    price_seats,
    seat_balances,
    seat_log,
)
from seatcalc.cli import main

T0 = datetime(2025, 1, 1, tzinfo=UTC)
MONTHLY = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 3, 1))
PRICE = SeatPrice(seatType="admin", currency="GBP", pricePerSeat="10.00", prorationStrategy="USE_MAXIMUM")


def frame(**extra: Any) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customerEventId": ["e1", "e2"],
            "customerAlias": ["acme", "acme"],
            "seatType": ["admin", "admin"],
            "eventTimestamp": [T0, T0 + timedelta(days=3)],
            "total": [2, 5],
            **extra,
        }
    )


def assert_named(error: BaseException, *names: str) -> None:
    """A SeatcalcError leaf that a ValueError/TypeError handler also catches, naming one of ``names``."""
    assert isinstance(error, SeatcalcError), repr(error)
    assert isinstance(error, ValueError | TypeError), repr(error)
    message = str(error)
    assert any(name in message for name in names), f"{message!r} names none of {names}"


# --- supersede_by ------------------------------------------------------------------------------

CALLS_WITH_POLICY = {
    "effective_events": lambda policy: effective_events(frame(), supersede_by=policy),
    "seat_log": lambda policy: seat_log(frame(), supersede_by=policy),
    "seat_balances": lambda policy: seat_balances(frame(), supersede_by=policy),
    "billable_seats": lambda policy: billable_seats(frame(), MONTHLY, supersede_by=policy),
    "price_seats": lambda policy: price_seats(frame(), MONTHLY, [PRICE], supersede_by=policy),
    "lazy effective_events": lambda policy: effective_events(frame().lazy(), supersede_by=policy),
    "lazy billable_seats": lambda policy: billable_seats(frame().lazy(), MONTHLY, supersede_by=policy),
}


@pytest.mark.parametrize("function", sorted(CALLS_WITH_POLICY))
@pytest.mark.parametrize("policy", ["latest", "", "EventTimestamp", None, 1, ["received"]])
def test_unknown_policy_is_an_invalid_argument(function: str, policy: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        CALLS_WITH_POLICY[function](policy)
    assert_named(info.value, "supersede_by")
    assert "'eventTimestamp'" in str(info.value) and "'received'" in str(info.value)


# --- seat_balances(at=...) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2025-01-02T00:00:00Z", 2),
        ("2025-01-04T00:00:00+00:00", 5),
        ("2025-01-03T23:00:00-01:00", 5),  # = Jan 4 00:00Z, the second event's instant
        (datetime(2025, 1, 2, tzinfo=timezone(timedelta(hours=5))), 2),
    ],
)
def test_at_accepts_an_aware_instant_or_an_rfc3339_string(at: Any, expected: int) -> None:
    assert seat_balances(frame(), at)["total"].to_list() == [expected]


@pytest.mark.parametrize(
    "at",
    [
        datetime(2025, 1, 2),  # naive
        "2025-01-02",  # a date only
        "2025-01-02T00:00:00",  # no offset
        "yesterday",
        "",
        20250102,
        True,
        1.5,
        date(2025, 1, 2),
        datetime.max.replace(tzinfo=timezone(timedelta(hours=-5))),  # past year 9999 in UTC
        [T0],
    ],
)
def test_bad_at_is_an_invalid_argument(at: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        seat_balances(frame(), at)
    assert_named(info.value, "at=")


# --- BillingSchedule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ((date(2025, 1, 1), None), "interval"),
        ((date(2025, 1, 1), 1), "interval"),
        ((date(2025, 1, 1), b"1mo"), "interval"),
        ((date(2025, 1, 1), "1mo", 5), "time_zone"),
        ((date(2025, 1, 1), "1mo", ""), "time_zone"),
        ((date(2025, 1, 1), "1mo", None), "time_zone"),
        ((date(2025, 1, 1), "1mo", "A" * 300), "time_zone"),  # too long a file name
        ((date(2025, 1, 1), "1mo", "America"), "time_zone"),  # a directory
        (("2025-01-01", "1mo"), "start"),
        ((date(2025, 1, 1), "1mo", "UTC", "2025-02-01"), "end"),
        ((date(2025, 1, 1), "1d", "UTC", date(9999, 12, 31)), "end"),  # more than 100 000 periods
    ],
)
def test_bad_schedule_arguments(arguments: tuple[Any, ...], named: str) -> None:
    with pytest.raises(InvalidSchedule) as info:
        BillingSchedule(*arguments)
    assert_named(info.value, named)


def test_boundaries_past_year_9999_are_an_invalid_schedule() -> None:
    schedule = BillingSchedule(date(9999, 12, 1), "1mo")
    with pytest.raises(InvalidSchedule, match="9999-12-31"):
        billing_periods(schedule, until=date(9999, 12, 31))
    with pytest.raises(InvalidSchedule, match="9999-12-31"):
        BillingSchedule(date(9999, 12, 1), "1mo", end=date(9999, 12, 31))
    with pytest.raises(InvalidSchedule, match="9999-12-31"):
        BillingSchedule(date(9990, 1, 1), "1y", end=date(10, 1, 1).replace(year=9999, month=12, day=31))
    with pytest.raises(InvalidSchedule, match="9999-12-31"):
        BillingSchedule(date(9999, 12, 25), "1w", end=date(9999, 12, 31))
    with pytest.raises(InvalidSchedule):
        billable_seats(frame(), schedule, until=date(9999, 12, 31))
    # The last representable period is fine: [9999-11-01, 9999-12-01) in UTC.
    last = BillingSchedule(date(9999, 11, 1), "1mo", end=date(9999, 12, 1))
    assert billing_periods(last)["days"].to_list() == [30]


def test_day_starts_outside_years_1_to_9999_are_an_invalid_schedule() -> None:
    # 0001-01-01 00:00 in Tokyo is 0000-12-31 15:00Z: no such instant.
    with pytest.raises(InvalidSchedule, match="start of 0001-01-01"):
        billing_periods(BillingSchedule(date(1, 1, 1), "1d", "Asia/Tokyo", end=date(1, 1, 3)))


@pytest.mark.parametrize(
    "until",
    [
        "2025-02-01",
        20250201,
        1.0,
        True,
        datetime(2025, 2, 1),  # naive
        datetime.max.replace(tzinfo=timezone(timedelta(hours=-5))),
        datetime.min.replace(tzinfo=timezone(timedelta(hours=5))),
        date(1, 1, 1),  # its start in Tokyo is before year 1
    ],
)
def test_bad_until_is_an_invalid_schedule(until: Any) -> None:
    schedule = BillingSchedule(date(2025, 1, 1), "1mo", "Asia/Tokyo")
    for call in (
        lambda: billing_periods(schedule, until=until),
        lambda: billable_seats(frame(), schedule, until=until),
        lambda: price_seats(frame(), schedule, [PRICE], until=until),
    ):
        with pytest.raises(InvalidSchedule) as info:
            call()
        assert_named(info.value, "until")


def test_cli_until_9999_12_31_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "events.ndjson"
    event = {"customerAlias": "acme", "seatType": "admin", "eventTimestamp": "2025-01-01T00:00:00Z"}
    event["total"] = 1  # type: ignore[assignment]
    source.write_text(json.dumps(event) + "\n")
    args = ["bill", str(source), "--start", "9999-01-01", "--interval", "1mo", "--until", "9999-12-31"]
    assert main(args) == 2
    error = capsys.readouterr().err
    assert "9999-12-31" in error and len(error.strip().splitlines()) == 1


# --- per-customer schedules ------------------------------------------------------------------


def schedules_frame(**columns: Any) -> pl.DataFrame:
    base: dict[str, Any] = {
        "customerAlias": ["acme", "beta"],
        "start": [date(2025, 1, 1)] * 2,
        "interval": ["1mo", "1mo"],
        "end": [date(2025, 3, 1)] * 2,
    }
    return pl.DataFrame({**base, **columns})


@pytest.mark.parametrize(
    ("schedules", "named"),
    [
        ({1: MONTHLY}, "key 1"),
        ({"acme": MONTHLY, None: MONTHLY}, "key None"),
        ({"acme": "1mo"}, "'acme'"),
        ({"acme": None}, "'acme'"),
        (schedules_frame(timeZone=["UTC", ""]), "row 1"),
        (schedules_frame(timeZone=["UTC", "Mars/Olympus"]), "row 1"),
        (schedules_frame(timezone=["UTC", "UTC"]), "'timezone' (did you mean 'timeZone'?)"),
        (schedules_frame(note=["x", "y"]), "'note'"),
        (schedules_frame(customerAlias=["acme", None]), "row 1"),
        (schedules_frame(customerAlias=["acme", "acme"]), "row 1"),
        (schedules_frame(customerAlias=[1, 2]), "row 0"),
        (schedules_frame(interval=["1mo", "2mo"]), "row 1"),
        (schedules_frame(start=["2025-01-01", "2025-01-01"]), "row 0"),
        (schedules_frame(end=[date(2025, 3, 1), date(2025, 3, 2)]), "row 1"),
        (pl.DataFrame({"customerAlias": ["acme"], "start": [date(2025, 1, 1)]}), "interval"),
        ([MONTHLY], "schedule"),
    ],
)
def test_bad_per_customer_schedules(schedules: Any, named: str) -> None:
    with pytest.raises(InvalidSchedule) as info:
        billable_seats(frame(), schedules)
    assert_named(info.value, named)


def test_null_time_zone_in_a_schedules_frame_means_utc() -> None:
    zoned = schedules_frame(timeZone=pl.Series([None, "Asia/Tokyo"], dtype=pl.String))
    out = billable_seats(frame(), zoned)
    assert out["periodStart"].to_list() == [T0, datetime(2025, 2, 1, tzinfo=UTC)]


# --- receivedSeq beyond Int64 ------------------------------------------------------------------


def test_unsigned_received_seq_above_int64_names_the_column_and_rows() -> None:
    events = frame(receivedSeq=pl.Series([2**63 + 5, 1], dtype=pl.UInt64))
    for call in (
        lambda: effective_events(events),
        lambda: seat_log(events.lazy()).collect(),
        lambda: seat_balances(events),
        lambda: billable_seats(events, MONTHLY),
        lambda: price_seats(events, MONTHLY, [PRICE]),
    ):
        with pytest.raises(InvalidEventFrame) as info:
            call()
        assert_named(info.value, "receivedSeq")
        assert "row 0" in str(info.value) and "row 1" not in str(info.value)
    fits = frame(receivedSeq=pl.Series([2**63 - 1, 1], dtype=pl.UInt64))
    assert effective_events(fits)["receivedSeq"].to_list() == [2**63 - 1, 1]


# --- fuzz ----------------------------------------------------------------------------------------

GARBAGE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.binary(max_size=4),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.timezones()),
    st.lists(st.integers(), max_size=2),
    st.just(timedelta(days=1)),
)
INTERVALS = st.one_of(st.sampled_from(("1mo", "3mo", "6mo", "1y", "1d", "7d", "2w", "9999w")), GARBAGE)
ZONES = st.one_of(
    st.sampled_from(("UTC", "Pacific/Apia", "Asia/Tokyo", "America/New_York", "Pacific/Kiritimati")), GARBAGE
)


@st.composite
def ends(draw: st.DrawFn, start: Any) -> Any:
    if isinstance(start, date) and not isinstance(start, datetime) and draw(st.booleans()):
        try:
            return start + timedelta(days=draw(st.integers(-40, 800)))
        except OverflowError:
            return date.max
    return draw(GARBAGE)


@settings(max_examples=200)
@given(st.data())
def test_fuzz_billing_schedule(data: st.DataObject) -> None:
    start = data.draw(st.one_of(st.dates(), st.dates(min_value=date(9990, 1, 1)), GARBAGE), label="start")
    interval = data.draw(INTERVALS, label="interval")
    zone = data.draw(ZONES, label="time_zone")
    end = data.draw(ends(start), label="end")
    try:
        schedule = BillingSchedule(start, interval, zone, end)
    except SeatcalcError as error:
        assert_named(error, "start", "interval", "time_zone", "end")
        return
    assert schedule.end == end
    if end is not None:
        try:
            listed = billing_periods(schedule)
        except SeatcalcError as error:
            assert_named(error, "until", "end", "start of")
            return
        assert listed.height >= 1 and listed["days"].min() >= 1  # type: ignore[operator]


UNTILS = st.one_of(
    GARBAGE,
    st.dates(min_value=date(2024, 6, 1), max_value=date(2027, 1, 1)),
    st.datetimes(min_value=datetime(2024, 6, 1), max_value=datetime(2027, 1, 1), timezones=st.timezones()),
    st.sampled_from((date.max, date.min, datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC))),
)
SCHEDULES = st.sampled_from(
    (
        BillingSchedule(date(2025, 1, 31), "1mo", "Pacific/Apia"),
        BillingSchedule(date(2025, 1, 1), "1y", "Asia/Tokyo", end=date(2027, 1, 1)),
        BillingSchedule(date(9999, 10, 1), "1mo", "America/New_York"),
        BillingSchedule(date(2011, 12, 25), "1w", "Pacific/Apia"),
    )
)


def _small_until(until: Any, start: date = date(2025, 1, 1)) -> bool:
    """Cut-offs centuries after the start list up to 100 000 periods: slow, skipped."""
    if isinstance(until, date) and (not isinstance(until, datetime) or until.utcoffset() is not None):
        return until.year < 2030 or start.year >= 9990
    return True


@settings(max_examples=200)
@given(SCHEDULES, UNTILS)
def test_fuzz_billing_periods_until(schedule: BillingSchedule, until: Any) -> None:
    if not _small_until(until, schedule.start):
        return
    try:
        listed = billing_periods(schedule, until=until)
    except SeatcalcError as error:
        assert_named(error, "until")
        return
    assert listed.columns == ["periodStart", "periodEnd", "days"]
    assert listed.height == 0 or listed["days"].min() >= 1  # type: ignore[operator]


POLICIES = st.one_of(st.sampled_from(("eventTimestamp", "received")), GARBAGE)


@settings(max_examples=100)
@given(UNTILS, POLICIES, st.sampled_from(("eager", "lazy")))
def test_fuzz_billable_seats_keywords(until: Any, policy: Any, kind: str) -> None:
    if not _small_until(until):
        return
    events: pl.DataFrame | pl.LazyFrame = frame() if kind == "eager" else frame().lazy()
    schedule = BillingSchedule(date(2025, 1, 1), "1mo", "Europe/London")
    try:
        out = billable_seats(events, schedule, until=until, supersede_by=policy)
        if isinstance(out, pl.LazyFrame):
            out = out.collect()
    except SeatcalcError as error:
        assert_named(error, "until", "supersede_by")
        return
    assert out.height >= 0 and policy in ("eventTimestamp", "received")


AT = st.one_of(
    GARBAGE,
    st.datetimes(timezones=st.timezones()),
    st.datetimes(timezones=st.timezones()).map(lambda t: t.isoformat()),
    st.from_regex(
        re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)?"), fullmatch=True
    ),
)


@settings(max_examples=150)
@given(AT, POLICIES)
def test_fuzz_seat_balances_and_effective_events_keywords(at: Any, policy: Any) -> None:
    try:
        out = seat_balances(frame(), at, supersede_by=policy)
    except SeatcalcError as error:
        assert_named(error, "at=", "supersede_by")
    else:
        assert out.height <= 1
    try:
        effective_events(frame(), supersede_by=policy)
    except SeatcalcError as error:
        assert_named(error, "supersede_by")


CELL = st.one_of(GARBAGE, st.sampled_from(("acme", "beta", "1mo", "UTC", "Asia/Tokyo", "")))


KEYS = st.one_of(
    st.sampled_from(("acme", "beta")), st.none(), st.integers(), st.dates(), st.binary(max_size=3)
)


@settings(max_examples=150)
@given(st.dictionaries(KEYS, st.one_of(SCHEDULES, GARBAGE), max_size=3))
def test_fuzz_per_customer_mappings(schedules: dict[Any, Any]) -> None:
    try:
        billable_seats(frame(), schedules, until=date(2025, 6, 1))
    except SeatcalcError as error:
        assert_named(error, "key", "schedule", "customer")


@settings(max_examples=150)
@given(
    st.dictionaries(
        st.sampled_from(("customerAlias", "start", "interval", "timeZone", "end", "timezone", "Start", "x")),
        st.lists(CELL, min_size=2, max_size=2),
        max_size=6,
    )
)
def test_fuzz_per_customer_frames(columns: dict[str, list[Any]]) -> None:
    try:
        schedules = pl.DataFrame(
            {name: pl.Series(values, dtype=pl.Object) for name, values in columns.items()}
        )
    except Exception:  # polars cannot hold these: not a frame the library can be given
        return
    try:
        billable_seats(frame(), schedules, until=date(2025, 6, 1))
    except SeatcalcError as error:
        assert_named(error, "row", "column", "customer", "schedule")
