"""Events-frame validation (SPEC §8) through the public functions.

Every public entry point validates before computing: a missing or mistyped column is a
``FrameSchemaError``; bad rows are an ``InvalidEventFrame`` counting the problems and quoting
the first rows at fault; nothing is returned from bad data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from seatcalc import (
    BillingSchedule,
    FrameSchemaError,
    InvalidEventFrame,
    InvalidSeatEvent,
    SeatcalcError,
    billable_seats,
    effective_events,
    seat_balances,
    seat_log,
)

SCHEDULE = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 2, 1))

Public = Callable[[Any], Any]
FUNCTIONS: dict[str, Public] = {
    "billable_seats": lambda frame: billable_seats(frame, SCHEDULE),
    "effective_events": effective_events,
    "seat_log": seat_log,
    "seat_balances": seat_balances,
}


def ts(y: int, m: int, d: int, h: int = 0) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def good(n: int = 3) -> dict[str, list[Any]]:
    """``n`` valid events of one key, one a day from Jan 1 2025, totals 1, 2, 3, …"""
    return {
        "customerEventId": [f"e{i}" for i in range(n)],
        "customerAlias": ["acme"] * n,
        "seatType": ["admin"] * n,
        "eventTimestamp": [ts(2025, 1, 1) + timedelta(days=i) for i in range(n)],
        "total": list(range(1, n + 1)),
    }


def frame(columns: dict[str, list[Any]], **dtypes: pl.DataType) -> pl.DataFrame:
    schema: dict[str, Any] = {
        "customerEventId": pl.String,
        "customerAlias": pl.String,
        "seatType": pl.String,
        "eventTimestamp": pl.Datetime("us", "UTC"),
        "total": pl.Int64,
        "receivedSeq": pl.Int64,
        "sequenceAccountId": pl.String,
    }
    schema.update(dtypes)
    return pl.DataFrame(columns, schema={name: schema.get(name, pl.String) for name in columns})


def run(function: Public, events: Any) -> Any:
    """Call and, for a lazy result, collect: an error may come at either step."""
    out = function(events)
    return out.collect() if isinstance(out, pl.LazyFrame) else out


def raises_everywhere(events: pl.DataFrame, error: type[Exception]) -> list[Any]:
    """Every public function, eager and lazy, raises ``error``; return the errors."""
    caught: list[Any] = []
    for function in FUNCTIONS.values():
        for given in (events, events.lazy()):
            with pytest.raises(error) as info:
                run(function, given)
            caught.append(info.value)
    return caught


def count_in(message: str) -> int:
    match = re.match(r"(\d+) problems?\b", message)
    assert match is not None, message
    return int(match.group(1))


# --- schema problems ---------------------------------------------------------------


@pytest.mark.parametrize("missing", ["customerAlias", "seatType", "eventTimestamp", "total"])
def test_missing_column_is_a_schema_error_naming_it(missing: str) -> None:
    columns = good()
    del columns[missing]
    for error in raises_everywhere(frame(columns), FrameSchemaError):
        assert isinstance(error, TypeError) and isinstance(error, SeatcalcError)
        assert missing in str(error)


def test_every_missing_column_is_named() -> None:
    columns = good()
    del columns["seatType"], columns["total"]
    for error in raises_everywhere(frame(columns), FrameSchemaError):
        assert "seatType" in str(error) and "total" in str(error)


@pytest.mark.parametrize(
    ("column", "values", "dtype"),
    [
        ("total", [1.0, 2.0, 3.0], pl.Float64),
        ("total", ["1", "2", "3"], pl.String),
        ("eventTimestamp", [1, 2, 3], pl.Int64),
        ("eventTimestamp", [datetime(2025, 1, d) for d in (1, 2, 3)], pl.Datetime("us")),  # naive
        ("eventTimestamp", [date(2025, 1, d) for d in (1, 2, 3)], pl.Date),
        ("customerAlias", [1, 2, 3], pl.Int64),
        ("receivedSeq", [1.0, 2.0, 3.0], pl.Float64),
    ],
    ids=["total-f64", "total-str", "ts-int", "ts-naive", "ts-date", "alias-int", "seq-f64"],
)
def test_mistyped_column_is_a_schema_error_naming_it(
    column: str, values: list[Any], dtype: pl.DataType
) -> None:
    columns = {**good(), column: values}
    for error in raises_everywhere(frame(columns, **{column: dtype}), FrameSchemaError):
        assert column in str(error)
        assert not isinstance(error, InvalidSeatEvent)  # a schema problem, not a bad row


@pytest.mark.parametrize("given", [None, [1, 2], {"customerAlias": ["a"]}, "events.csv", 3])
def test_non_frame_input_is_a_schema_error(given: Any) -> None:
    for function in FUNCTIONS.values():
        with pytest.raises(FrameSchemaError):
            run(function, given)


# --- bad rows ----------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["customerAlias", "seatType", "eventTimestamp", "total"])
def test_null_in_required_column(column: str) -> None:
    columns = good(4)
    columns[column][2] = None  # row 2 only
    for error in raises_everywhere(frame(columns), InvalidEventFrame):
        assert isinstance(error, InvalidSeatEvent)
        assert isinstance(error, FrameSchemaError)
        assert isinstance(error, ValueError) and isinstance(error, TypeError)
        message = str(error)
        assert count_in(message) == 1  # one null, one problem
        assert "row 2" in message and column in message
        assert "row 0" not in message and "row 1" not in message and "row 3" not in message


@pytest.mark.parametrize(
    ("column", "row", "value"),
    [
        ("total", 1, -1),
        ("total", 2, 2_147_483_648),  # one above the largest accepted total
        ("customerAlias", 0, ""),
        ("seatType", 1, ""),
        ("customerEventId", 2, ""),
        ("customerAlias", 1, "x" * 257),
        ("seatType", 2, "a\nb"),
        ("customerAlias", 0, "nul\x00"),
        ("eventTimestamp", 1, ts(1969, 12, 31, 23)),
    ],
    ids=[
        "negative-total", "total-2**31", "empty-alias", "empty-seat", "empty-event-id",
        "long-alias", "newline-seat", "nul-alias", "year-1969",
    ],
)  # fmt: skip
def test_one_bad_value(column: str, row: int, value: Any) -> None:
    columns = good(3)
    columns[column][row] = value
    for error in raises_everywhere(frame(columns), InvalidEventFrame):
        message = str(error)
        assert count_in(message) == 1
        assert f"row {row}" in message and column in message
        assert [(p.row, p.field) for p in error.problems] == [(row, column)]


def test_largest_total_is_accepted() -> None:
    columns = good(1)
    columns["total"] = [2_147_483_647]
    out = effective_events(frame(columns))
    assert out["total"].to_list() == [2_147_483_647]


def test_duplicate_received_seq() -> None:
    # Rows 1 and 3 share receivedSeq 7: both are at fault → 2 problems.
    columns = {**good(4), "receivedSeq": [1, 7, 2, 7]}
    for error in raises_everywhere(frame(columns), InvalidEventFrame):
        message = str(error)
        assert count_in(message) == 2
        assert "receivedSeq" in message and "row 1" in message and "row 3" in message
        assert "row 0" not in message and "row 2" not in message


def test_null_received_seq() -> None:
    columns = {**good(4), "receivedSeq": [1, 2, None, 4]}
    for error in raises_everywhere(frame(columns), InvalidEventFrame):
        assert count_in(str(error)) == 1
        assert "receivedSeq" in str(error) and "row 2" in str(error)


def test_null_account() -> None:
    columns = {**good(3), "sequenceAccountId": ["a", None, "a"]}
    for error in raises_everywhere(frame(columns), InvalidEventFrame):
        assert count_in(str(error)) == 1
        assert "sequenceAccountId" in str(error) and "row 1" in str(error)


def test_several_problems_are_counted_with_their_rows() -> None:
    # row 1: negative total; row 3: null alias and empty seat type (2 problems) → 3 in all.
    columns = good(5)
    columns["total"][1] = -4
    columns["customerAlias"][3] = None
    columns["seatType"][3] = ""
    for error in raises_everywhere(frame(columns), InvalidEventFrame):
        message = str(error)
        assert count_in(message) == 3
        assert "row 1" in message and "row 3" in message
        assert {(p.row, p.field) for p in error.problems} == {
            (1, "total"),
            (3, "customerAlias"),
            (3, "seatType"),
        }


def test_a_thousand_bad_rows_are_counted_but_only_the_first_quoted() -> None:
    n = 1000
    columns = good(n)
    columns["total"] = [-1] * n  # every row negative: 1000 problems
    for error in raises_everywhere(frame(columns), InvalidEventFrame):
        message = str(error)
        assert count_in(message) == 1000
        assert "row 0" in message  # the first offender is quoted
        quoted = [int(r) for r in re.findall(r"row (\d+)", message)]
        assert quoted == sorted(quoted) and quoted[0] == 0
        assert 1 <= len(quoted) <= 10  # a few, not a thousand
        assert "row 999" not in message
        assert len(message) < 2000


def test_bad_rows_late_in_a_big_frame_are_found() -> None:
    # 5000 rows, bad ones at 4321 and 4999 only: the count is 2 and both rows are quoted.
    n = 5000
    columns: dict[str, list[Any]] = {
        "customerAlias": ["acme"] * n,
        "seatType": ["admin"] * n,
        "eventTimestamp": [datetime(2025, 1, 1, tzinfo=UTC)] * n,
        "total": [1] * n,
    }
    columns["total"][4321] = -1
    columns["total"][4999] = -2
    with pytest.raises(InvalidEventFrame) as info:
        run(FUNCTIONS["billable_seats"], frame(columns))
    assert count_in(str(info.value)) == 2
    assert "row 4321" in str(info.value) and "row 4999" in str(info.value)


def test_nothing_is_computed_from_a_partly_bad_frame() -> None:
    # Key "good" is fine; key "bad" has a negative total: no partial output for "good".
    columns: dict[str, list[Any]] = {
        "customerEventId": ["g1", "b1"],
        "customerAlias": ["good", "bad"],
        "seatType": ["admin", "admin"],
        "eventTimestamp": [ts(2025, 1, 1), ts(2025, 1, 2)],
        "total": [3, -3],
    }
    raises_everywhere(frame(columns), InvalidEventFrame)


def test_sub_microsecond_timestamps_are_rejected_not_truncated() -> None:
    # 1 ns after midnight cannot be stored as a µs instant: truncating would move the event.
    columns = good(2)
    stamps = pl.Series([ts(2025, 1, 1), ts(2025, 1, 2)], dtype=pl.Datetime("ns", "UTC")) + pl.Series(
        [0, 1], dtype=pl.Duration("ns")
    )
    events = frame(columns).with_columns(eventTimestamp=stamps)
    for error in raises_everywhere(events, InvalidEventFrame):
        assert count_in(str(error)) == 1 and "row 1" in str(error)


# --- accepted variants -------------------------------------------------------------------


def test_paris_nanosecond_timestamps_become_utc_microseconds() -> None:
    # 2025-01-15 01:00 in Paris (CET, +01:00) is 00:00 UTC; 2025-07-15 02:00 (CEST, +02:00)
    # is 00:00 UTC too.
    paris = pl.Series(
        [datetime(2025, 1, 15, 1), datetime(2025, 7, 15, 2)], dtype=pl.Datetime("ns")
    ).dt.replace_time_zone("Europe/Paris")
    events = pl.DataFrame(
        {"customerAlias": ["acme"] * 2, "seatType": ["admin"] * 2, "eventTimestamp": paris, "total": [1, 2]}
    )
    out = effective_events(events)
    assert out.schema["eventTimestamp"] == pl.Datetime("us", "UTC")
    assert out["eventTimestamp"].to_list() == [ts(2025, 1, 15), ts(2025, 7, 15)]
    balances = seat_balances(events)
    assert balances["changeTimestamp"].to_list() == [ts(2025, 7, 15)]
    assert balances.schema["changeTimestamp"] == pl.Datetime("us", "UTC")
    # The same events in UTC µs give the same billable rows.
    utc = events.with_columns(pl.col("eventTimestamp").dt.convert_time_zone("UTC").dt.cast_time_unit("us"))
    schedule = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 9, 1))
    assert_frame_equal(billable_seats(events, schedule), billable_seats(utc, schedule))


def test_int32_totals_and_categorical_alias_are_accepted() -> None:
    base = frame(good(3))
    variant = base.with_columns(
        pl.col("total").cast(pl.Int32),
        pl.col("customerAlias").cast(pl.Categorical),
        pl.col("seatType").cast(pl.Categorical),
    )
    expected = billable_seats(base, SCHEDULE)
    got = billable_seats(variant, SCHEDULE)
    assert got.schema["customerAlias"] == pl.String and got.schema["seatType"] == pl.String
    assert_frame_equal(got, expected)
    # Jan 2025 from totals 1, 2, 3 on Jan 1, 2, 3: seatDays = 1 + 2 + 3·29 = 90.
    assert got["seatDays"].to_list() == [90]
    assert seat_log(variant)["added"].to_list() == [1, 1, 1]
    assert seat_balances(variant)["total"].to_list() == [3]


def test_enum_alias_and_small_integer_totals_are_accepted() -> None:
    base = frame(good(3))
    variant = base.with_columns(
        pl.col("customerAlias").cast(pl.Enum(["acme", "globex"])),
        pl.col("total").cast(pl.UInt8),
    )
    assert_frame_equal(billable_seats(variant, SCHEDULE), billable_seats(base, SCHEDULE))


def test_absent_customer_event_id_column() -> None:
    # Without customerEventId every row is its own fact: nothing is superseded.
    columns = good(3)
    del columns["customerEventId"]
    out = effective_events(frame(columns))
    assert out.height == 3
    assert out["total"].to_list() == [1, 2, 3]
    assert billable_seats(frame(columns), SCHEDULE)["seatDays"].to_list() == [90]  # as above


def test_null_customer_event_id_is_allowed() -> None:
    # Two rows with a null id at different instants are two facts; both count.
    columns = good(2)
    columns["customerEventId"] = [None, None]
    assert effective_events(frame(columns))["total"].to_list() == [1, 2]


def test_extra_columns_ride_along() -> None:
    events = frame(good(2)).with_columns(note=pl.lit("hello"))
    out = effective_events(events)
    assert out["note"].to_list() == ["hello", "hello"]
    assert_frame_equal(billable_seats(events, SCHEDULE), billable_seats(frame(good(2)), SCHEDULE))


def test_empty_frame_gives_empty_results() -> None:
    events = frame(good(0))
    assert billable_seats(events, SCHEDULE).height == 0
    assert effective_events(events).height == 0
    assert seat_log(events).height == 0
    assert seat_balances(events).height == 0


def test_year_10000_is_rejected() -> None:
    # 253 402 300 800 000 000 µs after the epoch is 10000-01-01T00:00:00Z.
    columns = good(2)
    stamps = pl.Series([1_735_689_600_000_000, 253_402_300_800_000_000]).cast(pl.Datetime("us", "UTC"))
    events = frame(columns).with_columns(eventTimestamp=stamps)
    for error in raises_everywhere(events, InvalidEventFrame):
        assert count_in(str(error)) == 1 and "row 1" in str(error) and "eventTimestamp" in str(error)


def test_boolean_total_is_a_schema_error() -> None:
    events = frame(good(2)).with_columns(pl.col("total").cast(pl.Boolean))
    for error in raises_everywhere(events, FrameSchemaError):
        assert "total" in str(error)


def test_millisecond_timestamps_and_null_typed_event_id_are_accepted() -> None:
    base = frame(good(3))
    variant = base.with_columns(
        pl.col("eventTimestamp").dt.cast_time_unit("ms"),
        customerEventId=pl.lit(None),  # dtype Null: every row its own fact
    )
    assert variant.schema["customerEventId"] == pl.Null
    out = effective_events(variant)
    assert out.schema["eventTimestamp"] == pl.Datetime("us", "UTC")
    assert_frame_equal(billable_seats(variant, SCHEDULE), billable_seats(base, SCHEDULE))
