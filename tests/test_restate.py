"""``restate``: a billed frame against today's events. Laws: against itself nothing
changes; ``billed + delta = now`` for every figure; a new event restates only the periods it
touches; plus a worked late event and correction, and the command."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seatcalc import FrameSchemaError, InvalidArgument, SeatPrice, billable_seats, price_seats, restate
from tests.strategies import TOTALS, Case, cases, instants
from tests.test_explain import DECEMBER_ON, worked_events
from tests.test_pricing_properties import price_lists

PRICE = SeatPrice.model_validate(
    {
        "seatType": "admin",
        "currency": "GBP",
        "pricePerSeat": "3.10",
        "prorationStrategy": "PRORATE_ALL_CHANGES",
    }
)


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def _before_correction() -> pl.DataFrame:
    return worked_events().head(3)  # Jan 11 noon still says 3 seats


def test_a_correction_restates_the_periods_it_touches() -> None:
    billed = billable_seats(_before_correction(), DECEMBER_ON)
    changes = restate(billed, worked_events(), DECEMBER_ON)
    assert changes.select(
        "periodStart", "change", "seatDaysBilled", "seatDaysNow", "seatDaysDelta"
    ).rows() == [
        (_utc(2025, 1, 1), "CHANGED", 182, 202, 20),  # 20 days at 3 → 4
        (_utc(2025, 2, 1), "CHANGED", 84, 112, 28),
    ]
    # December is untouched; January's running max (12) does not move
    assert changes["incrementSeatDaysDelta"].to_list() == [0, 28]
    assert changes["events"][1].to_list() == [
        "jan11#2: 3 seats at 2025-01-11T12:00:00Z",
        "jan11#3: 4 seats at 2025-01-11T12:00:00Z",
    ]
    lines = price_seats(_before_correction(), DECEMBER_ON, [PRICE])
    money = restate(lines, worked_events(), DECEMBER_ON, prices=[PRICE])
    assert money.select("periodStart", "lineType", "amountBilled", "amountNow", "amountDelta").rows() == [
        (_utc(2025, 1, 1), "ARREARS", Decimal("18.20"), Decimal("20.20"), Decimal("2.00")),
        (_utc(2025, 2, 1), "ARREARS", Decimal("9.30"), Decimal("12.40"), Decimal("3.10")),
    ]


def test_a_new_customer_is_added_and_a_moved_fact_removed() -> None:
    events = _before_correction()
    billed = billable_seats(events, DECEMBER_ON)
    moved = pl.concat(
        [
            events,
            events.head(1).with_columns(
                pl.lit("globex").alias("customerAlias"), pl.lit(99, pl.Int64).alias("total")
            ),
        ]
    )
    changes = restate(billed, moved.with_columns(pl.int_range(pl.len()).alias("receivedSeq")), DECEMBER_ON)
    # "dec" moved to globex: acme's December row goes, its January starts at 0 until Jan 6
    assert changes.select("customerAlias", "periodStart", "change").rows() == [
        ("acme", _utc(2024, 12, 1), "REMOVED"),
        ("acme", _utc(2025, 1, 1), "CHANGED"),  # February still holds 3 all month: unchanged
        ("globex", _utc(2024, 12, 1), "ADDED"),
        ("globex", _utc(2025, 1, 1), "ADDED"),
        ("globex", _utc(2025, 2, 1), "ADDED"),
    ]
    gone = restate(billed, events.filter(pl.col("customerEventId") == "nothing"), DECEMBER_ON)
    assert set(gone["change"]) == {"REMOVED"} and gone["seatDaysNow"].to_list() == [0, 0, 0]


def test_bad_billed_frames() -> None:
    with pytest.raises(FrameSchemaError, match="billed must be a billable_seats frame"):
        restate(pl.DataFrame({"x": [1]}), worked_events(), DECEMBER_ON)
    lines = price_seats(worked_events(), DECEMBER_ON, [PRICE])
    with pytest.raises(InvalidArgument, match="prices=None"):
        restate(lines, worked_events(), DECEMBER_ON)


# -- laws ---------------------------------------------------------------------------------------


def _seats(case: Case, frame: pl.DataFrame) -> pl.DataFrame:
    return billable_seats(frame, case.plan.schedule, until=case.plan.until, supersede_by=case.policy)


@given(case=cases(), prices=price_lists())
@settings(max_examples=60, deadline=None)
def test_restating_against_itself_changes_nothing(case: Case, prices: list[SeatPrice]) -> None:
    frame = case.events.frame()
    assert restate(_seats(case, frame), frame, case.plan.schedule, supersede_by=case.policy).height == 0
    lines = price_seats(frame, case.plan.schedule, prices, until=case.plan.until, supersede_by=case.policy)
    again = restate(lines, frame, case.plan.schedule, prices=prices, supersede_by=case.policy)
    assert again.height == 0


@given(case=cases(with_seq=True), data=st.data())
@settings(max_examples=100, deadline=None)
def test_billed_plus_delta_is_now_and_a_new_event_touches_only_its_periods(
    case: Case, data: st.DataObject
) -> None:
    frame = case.events.frame()
    billed = _seats(case, frame)
    if billed.height == 0 or "sequenceAccountId" in frame.columns:
        return
    key = data.draw(
        st.sampled_from(
            billed.select("customerAlias", "seatType").unique().sort("customerAlias", "seatType").rows()
        )
    )
    at = data.draw(instants(case.plan))
    extra = {
        "customerEventId": "late-event",
        "customerAlias": key[0],
        "seatType": key[1],
        "eventTimestamp": at,
        "total": data.draw(TOTALS),
        "receivedSeq": 10**9,
    }
    schema = {"customerEventId": pl.String, "customerAlias": pl.String, "seatType": pl.String}
    schema |= {"eventTimestamp": pl.Datetime("us", "UTC"), "total": pl.Int64, "receivedSeq": pl.Int64}
    if "customerEventId" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("customerEventId"))
    stamps = pl.col("eventTimestamp").dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    base = frame.with_columns(stamps).select(list(schema)).cast(schema)  # type: ignore[arg-type]
    late = pl.concat([base, pl.DataFrame([extra], schema=schema)])
    changes = restate(billed, late, case.plan.schedule, supersede_by=case.policy)
    now = _seats(case, late)
    for row in changes.iter_rows(named=True):
        # only the key's periods that end after the new event
        assert (row["customerAlias"], row["seatType"]) == key
        assert row["periodEnd"] > at
        assert row["change"] in ("CHANGED", "ADDED")
        assert any("late-event#" in label for label in row["events"])
        match = now.filter(
            (pl.col("customerAlias") == key[0])
            & (pl.col("seatType") == key[1])
            & (pl.col("periodStart") == row["periodStart"])
        ).row(0, named=True)
        for name in (
            "startSeats",
            "endSeats",
            "minSeats",
            "maxSeats",
            "days",
            "seatDays",
            "incrementSeatDays",
            "seatMicroseconds",
        ):
            assert row[f"{name}Billed"] + row[f"{name}Delta"] == row[f"{name}Now"] == match[name]
        assert row["averageSeatsNow"] == match["averageSeats"]
        assert row["averageSeatsBilled"] + row["averageSeatsDelta"] == pytest.approx(row["averageSeatsNow"])
    # every period the new event changes is listed
    unchanged = billed.join(
        changes.select("customerAlias", "seatType", "periodStart"),
        on=["customerAlias", "seatType", "periodStart"],
        how="anti",
    )
    assert unchanged.drop("averageSeats").equals(
        now.join(
            unchanged.select("customerAlias", "seatType", "periodStart"),
            on=["customerAlias", "seatType", "periodStart"],
        )
        .select(unchanged.columns)
        .drop("averageSeats")
    )


# -- the command --------------------------------------------------------------------------------


def test_command_restates_a_billed_file(tmp_path: Path) -> None:
    old, new = tmp_path / "old.parquet", tmp_path / "new.parquet"
    _before_correction().write_parquet(old)
    worked_events().write_parquet(new)
    schedule = ["--start", "2024-12-01", "--end", "2025-03-01"]
    run = [sys.executable, "-m", "seatcalc.cli"]
    for suffix in ("csv", "json"):
        billed = tmp_path / f"billed.{suffix}"
        made = subprocess.run(
            [*run, "bill", str(old), *schedule, "--out", str(billed)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert made.returncode == 0, made.stderr
        shown = subprocess.run(
            [*run, "restate", "--billed", str(billed), str(new), *schedule],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert shown.returncode == 0, shown.stderr
        assert "seatDays" in shown.stdout and "jan11#3: 4 seats at 2025-01-11T12:00:00Z" in shown.stdout
        same = subprocess.run(
            [*run, "restate", "--billed", str(billed), str(old), *schedule],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert same.stdout.startswith("nothing changed: the 3 billed rows")
    missing = subprocess.run(
        [*run, "restate", "--billed", str(tmp_path / "none.csv"), str(new), *schedule],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (
        missing.returncode == 2
        and missing.stderr.count("\n") == 1
        and "cannot read the billed file" in missing.stderr
    )
