"""``explain`` (one key and period taken apart): the README's worked examples figure by
figure, its errors, the command, and properties against ``billable_seats``/``price_seats``."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seatcalc import (
    BillingSchedule,
    InvalidArgument,
    SeatPrice,
    SeatsNotFound,
    billable_seats,
    explain,
    price_seats,
)
from tests.strategies import Case, cases
from tests.test_pricing_properties import price_lists

JANUARY = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 2, 1))
DECEMBER_ON = BillingSchedule(date(2024, 12, 1), "1mo", end=date(2025, 3, 1))


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def worked_events() -> pl.DataFrame:
    """The README's worked example: 10 seats from December, 12 from Jan 6, 4 from Jan 11 noon
    (sent first as 3, then corrected to 4 at the same instant)."""
    return pl.DataFrame(
        {
            "customerEventId": ["dec", "jan6", "jan11", "jan11"],
            "customerAlias": ["acme"] * 4,
            "seatType": ["admin"] * 4,
            "eventTimestamp": [
                _utc(2024, 12, 10),
                _utc(2025, 1, 6),
                _utc(2025, 1, 11, 12),
                _utc(2025, 1, 11, 12),
            ],
            "total": [10, 12, 3, 4],
        }
    )


def _price(**fields: Any) -> SeatPrice:
    base = {
        "seatType": "admin",
        "currency": "GBP",
        "pricePerSeat": "3.10",
        "prorationStrategy": "USE_MAXIMUM",
    }
    return SeatPrice.model_validate(base | fields)


def _amounts(why: Any) -> list[tuple[str, Decimal]]:
    return [(row["lineType"], row["amount"]) for row in why.lines.iter_rows(named=True)]


# -- the README's worked examples -------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "column", "seat_days", "amount", "arithmetic"),
    [
        ("USE_MAXIMUM", "useMaximum", 372, "37.20", "3.10 × 372 / 31 = 37.20"),
        ("PRORATE_INCREMENTS", "prorateIncrements", 362, "36.20", "3.10 × 362 / 31 = 36.20"),
        ("PRORATE_ALL_CHANGES", "prorateAllChanges", 202, "20.20", "3.10 × 202 / 31 = 20.20"),
    ],
)
def test_worked_example_per_strategy(
    strategy: str, column: str, seat_days: int, amount: str, arithmetic: str
) -> None:
    why = explain(
        worked_events(), JANUARY, "acme", "admin", "2025-01-01", prices=[_price(prorationStrategy=strategy)]
    )
    assert why.days.height == 31
    assert why.days[column].sum() == seat_days
    assert _amounts(why) == [("ARREARS", Decimal(amount))]
    assert why.lines is not None and why.lines["arithmetic"].to_list() == [arithmetic]
    # the day table: 10 on Jan 1-5, 12 on Jan 6-11 (Jan 11 held 12 until noon), then 4; running max 12
    assert why.days["dayMax"].to_list() == [10] * 5 + [12] * 6 + [4] * 20
    assert why.days["runMax"].to_list() == [10] * 5 + [12] * 26
    assert why.measure["seatDays"] == 202 and why.measure["incrementSeatDays"] == 362


def test_worked_example_steps_name_their_events() -> None:
    why = explain(worked_events(), JANUARY, "acme", "admin", date(2025, 1, 1))
    steps = why.segments.select("from", "to", "seats", "customerEventId", "receivedSeq").rows()
    assert steps == [
        (_utc(2025, 1, 1), _utc(2025, 1, 6), 10, "dec", 0),  # carried in from December
        (_utc(2025, 1, 6), _utc(2025, 1, 11, 12), 12, "jan6", 1),
        (_utc(2025, 1, 11, 12), _utc(2025, 2, 1), 4, "jan11", 3),
    ]
    superseded = why.segments["superseded"].to_list()
    assert superseded[:2] == [[], []]
    assert [(v["receivedSeq"], v["total"]) for v in superseded[2]] == [(2, 3)]
    # the integral of the steps is the exact seat·µs behind averageSeats
    integral = sum(
        s * int((b - a).total_seconds()) * 10**6
        for a, b, s in why.segments.select("from", "to", "seats").rows()
    )
    assert integral == why.measure["seatMicroseconds"]
    assert why.lines is None


def test_worked_example_in_advance_and_minimum() -> None:
    advance = explain(
        worked_events(), JANUARY, "acme", "admin", "2025-01-01",
        prices=[_price(prorationStrategy="PRORATE_INCREMENTS", billingType="IN_ADVANCE")],
    )  # fmt: skip
    assert _amounts(advance) == [("ADVANCE", Decimal("31.00")), ("TRUE_UP", Decimal("5.20"))]
    assert advance.lines is not None
    assert advance.lines["quantity"].to_list() == [Decimal("10"), Decimal("1.677419")]
    assert advance.lines["arithmetic"].to_list() == [
        "10 seats held at the start on every day: 3.10 × 310 / 31 = 31.00",
        "max(0, 36.2 − 31) = 5.20",
    ]
    for strategy in ("USE_MAXIMUM", "PRORATE_INCREMENTS", "PRORATE_ALL_CHANGES"):
        floor = explain(
            worked_events(), JANUARY, "acme", "admin", "2025-01-01",
            prices=[_price(prorationStrategy=strategy, contractedMinimumSeats=20)],
        )  # fmt: skip
        assert floor.minimum == 20
        assert set(floor.days["prorateAllChanges"].to_list()) == {20}
        assert _amounts(floor) == [("ARREARS", Decimal("62.00"))]
        assert floor.lines is not None and floor.lines["arithmetic"][0] == "3.10 × 620 / 31 = 62.00"


def test_worked_example_tiers() -> None:
    events = pl.DataFrame(
        {
            "customerAlias": ["acme"] * 2,
            "seatType": ["admin"] * 2,
            "eventTimestamp": [_utc(2024, 12, 1), _utc(2025, 1, 21)],
            "total": [8, 14],
        }
    )
    tiers = [
        {"upperBound": 10, "price": "2", "fee": "5"},
        {"upperBound": 20, "price": "1", "fee": "3"},
        {"upperBound": None, "price": "0.50", "fee": "1"},
    ]
    fields = {"prorationStrategy": "PRORATE_INCREMENTS", "tiers": tiers}
    graduated = explain(events, JANUARY, "acme", "admin", "2025-01-01", prices=[_price(**fields)])
    assert _amounts(graduated) == [("ARREARS", Decimal("26.84"))]
    assert graduated.lines is not None
    assert graduated.lines["arithmetic"][0] == "2 × 270 / 31 + 1 × 44 / 31 + 5 + 3 = 26.838709… → 26.84"
    volume = explain(
        events, JANUARY, "acme", "admin", "2025-01-01", prices=[_price(**fields, tierMode="VOLUME")]
    )
    assert _amounts(volume) == [("ARREARS", Decimal("13.13"))]
    assert (
        volume.lines is not None and volume.lines["arithmetic"][0] == "1 × 314 / 31 + 3 = 13.129032… → 13.13"
    )


def test_readme_first_example_and_sixty_editors() -> None:
    first = pl.DataFrame(
        {
            "customerEventId": ["e1", "e2", "e2"],
            "customerAlias": ["acme"] * 3,
            "seatType": ["admin"] * 3,
            "eventTimestamp": [_utc(2025, 1, 1), _utc(2025, 1, 11, 12), _utc(2025, 1, 11, 12)],
            "total": [2, 4, 5],
        }
    )
    why = explain(
        first, JANUARY, "acme", "admin", "2025-01-01", prices=[_price(prorationStrategy="PRORATE_INCREMENTS")]
    )
    assert why.days["dayMax"].sum() == 125 == why.measure["seatDays"]
    assert _amounts(why) == [("ARREARS", Decimal("12.50"))]
    assert why.lines is not None and why.lines["arithmetic"][0] == "3.10 × 125 / 31 = 12.50"
    sixty = pl.DataFrame(
        {
            "customerAlias": ["acme"],
            "seatType": ["editor"],
            "eventTimestamp": [_utc(2025, 1, 3)],
            "total": [60],
        }
    )
    tiers = [
        {"upperBound": 10, "price": "5.00"},
        {"upperBound": 50, "price": "4.00"},
        {"upperBound": None, "price": "3.00", "fee": "20.00"},
    ]
    for mode, amount in (("GRADUATED", "260.00"), ("VOLUME", "200.00")):
        price = _price(seatType="editor", pricePerSeat="0", tiers=tiers, tierMode=mode)
        lines = explain(sixty, JANUARY, "acme", "editor", "2025-01-01", prices=[price]).lines
        assert lines is not None and lines["amount"].to_list() == [Decimal(amount)]


def test_a_fact_moved_away_counts_nowhere_here() -> None:
    events = pl.DataFrame(
        {
            "customerEventId": ["a", "m", "m"],
            "customerAlias": ["acme"] * 3,
            "seatType": ["admin", "admin", "viewer"],
            "eventTimestamp": [_utc(2025, 1, 1), _utc(2025, 1, 15), _utc(2025, 1, 15, 0, 0, 1)],
            "total": [2, 9, 9],
        }
    )
    admin = explain(events, JANUARY, "acme", "admin", "2025-01-01")
    assert admin.segments.select("seats", "customerEventId").rows() == [(2, "a")]
    viewer = explain(events, JANUARY, "acme", "viewer", "2025-01-01")
    assert viewer.segments.select("seats", "customerEventId", "receivedSeq").rows() == [
        (0, None, None),
        (9, "m", 2),
    ]
    assert [v["seatType"] for v in viewer.segments["superseded"][1]] == ["admin"]


# -- errors ---------------------------------------------------------------------------------------


def test_errors_name_the_value_and_a_hint() -> None:
    events = worked_events()
    with pytest.raises(SeatsNotFound, match=r"no events for customer 'acm'; did you mean \['acme'\]"):
        explain(events, JANUARY, "acm", "admin", "2025-01-01")
    with pytest.raises(SeatsNotFound, match=r"no events of seat type 'editor'; its seat types: \['admin'\]"):
        explain(events, JANUARY, "acme", "editor", "2025-01-01")
    with pytest.raises(InvalidArgument, match="nearest period starts: 2025-01-01, 2025-02-01"):
        explain(events, DECEMBER_ON, "acme", "admin", "2025-01-15")
    with pytest.raises(InvalidArgument, match="period_start="):
        explain(events, JANUARY, "acme", "admin", "January")
    late = events.with_columns(pl.lit(_utc(2025, 2, 10)).alias("eventTimestamp"))
    with pytest.raises(InvalidArgument, match="has no billable row for that period"):
        explain(late, DECEMBER_ON, "acme", "admin", "2025-01-01")
    assert isinstance(SeatsNotFound("x"), LookupError)


def test_the_page_escapes_every_text() -> None:
    events = worked_events().with_columns(pl.lit("<b>&co</b>").alias("customerAlias"))
    page = explain(events, JANUARY, "<b>&co</b>", "admin", "2025-01-01").html()
    assert "<b>&co" not in page and "&lt;b&gt;&amp;co&lt;/b&gt;" in page
    assert page.count("<svg") == 1 and "<script" not in page


# -- the command ----------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seatcalc.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_command_prints_the_explanation_and_plots(tmp_path: Path) -> None:
    events = tmp_path / "events.parquet"
    worked_events().write_parquet(events)
    prices = tmp_path / "prices.json"
    prices.write_text('[{"seatType": "admin", "currency": "GBP", "pricePerSeat": "3.10", '
                      '"prorationStrategy": "PRORATE_INCREMENTS"}]')  # fmt: skip
    plot = tmp_path / "why.png"
    run = _cli("explain", str(events), "--customer", "acme", "--seat-type", "admin",
               "--period", "2025-01-01", "--prices", str(prices), "--plot", str(plot))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "ARREARS 36.20 GBP (quantity 11.677419): 3.10 × 362 / 31 = 36.20" in run.stdout
    assert "seatDays = Σ dayMax = 202" in run.stdout and "incrementSeatDays = Σ runMax = 362" in run.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = _cli("explain", str(events), "--customer", "acme", "--seat-type", "admin", "--period", "2025-01-02",
               "--start", "2025-01-01")  # fmt: skip
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "nearest period starts: 2025-01-01, 2025-02-01" in bad.stderr


# -- properties -----------------------------------------------------------------------------------


def _arithmetic_result(text: str) -> Decimal:
    return Decimal(re.split(r" = | → ", text)[-1])


@given(case=cases(), prices=price_lists(), data=st.data())
@settings(max_examples=100, deadline=None)
def test_every_figure_is_what_billable_seats_and_price_seats_give(
    case: Case, prices: list[SeatPrice], data: st.DataObject
) -> None:
    frame = case.events.frame()
    seats = billable_seats(frame, case.plan.schedule, until=case.plan.until, supersede_by=case.policy)
    if seats.height == 0:
        return
    row = data.draw(st.sampled_from(seats.rows(named=True)))
    first_day = row["periodStart"].astimezone(ZoneInfo(case.plan.time_zone)).date()
    account = row.get("sequenceAccountId")
    why = explain(frame, case.plan.schedule, row["customerAlias"], row["seatType"], first_day,
                  prices=prices, account_id=account, supersede_by=case.policy)  # fmt: skip
    expected = {k: v for k, v in row.items() if k != "sequenceAccountId"}
    assert why.measure == expected
    days = why.days
    assert days.height == row["days"]
    assert days["dayMax"].sum() == row["seatDays"]
    assert days["runMax"].sum() == row["incrementSeatDays"]
    assert days["dayStart"][0] == row["periodStart"] and days["dayEnd"][-1] == row["periodEnd"]
    assert days["dayMax"].max() == row["maxSeats"]
    steps = why.segments
    assert steps["from"][0] == row["periodStart"] and steps["to"][-1] == row["periodEnd"]
    assert steps["seats"][0] == row["startSeats"] and steps["seats"][-1] == row["endSeats"]
    assert (steps["seats"].min(), steps["seats"].max()) == (row["minSeats"], row["maxSeats"])
    integral = sum(
        s * ((b - a).days * 86_400_000_000 + (b - a).seconds * 1_000_000 + (b - a).microseconds)
        for a, b, s in steps.select("from", "to", "seats").rows()
    )
    assert integral == row["seatMicroseconds"]
    lines = price_seats(frame, case.plan.schedule, prices, until=case.plan.until, supersede_by=case.policy)
    key = [c for c in ("sequenceAccountId", "customerAlias", "seatType", "periodStart") if c in lines.columns]
    mine = lines.filter(pl.all_horizontal(pl.col(c) == row[c] for c in key)).drop(
        "sequenceAccountId", strict=False
    )
    assert why.lines is not None
    assert why.lines.drop("arithmetic").to_dicts() == mine.to_dicts()
    for line in why.lines.iter_rows(named=True):
        assert _arithmetic_result(line["arithmetic"]) == line["amount"]
