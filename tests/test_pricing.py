"""Hand-computed invoice lines (SPEC §6) and every way a seat price can be refused.

Each expected amount is worked out in the comment beside it from the SPEC §6 formulas,
without running the code. January 2025 has D = 31 days, April 2025 D = 30 (UTC).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import (
    ROUND_05UP,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    localcontext,
)
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from seatcalc import (
    BillingSchedule,
    BillingType,
    InvalidPrice,
    ProrationStrategy,
    SeatcalcError,
    SeatPrice,
    TierMode,
    price_seats,
)
from seatcalc.pricing import CURRENCY_MINOR_UNITS, load_prices

JANUARY = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 2, 1))
APRIL = BillingSchedule(date(2025, 4, 1), "1mo", end=date(2025, 5, 1))
JAN_FEB = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 3, 1))

STRATEGIES = tuple(ProrationStrategy)
USE_MAXIMUM, PRORATE_INCREMENTS, PRORATE_ALL_CHANGES = STRATEGIES


def ts(m: int, d: int, h: int = 0, y: int = 2025) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def events(*rows: tuple[Any, ...], seat: str = "editor") -> pl.DataFrame:
    """Rows of (customerAlias, eventTimestamp, total[, seatType])."""
    return pl.DataFrame(
        [(r[0], r[3] if len(r) > 3 else seat, r[1], r[2]) for r in rows],
        schema={
            "customerAlias": pl.String,
            "seatType": pl.String,
            "eventTimestamp": pl.Datetime("us", "UTC"),
            "total": pl.Int64,
        },
        orient="row",
    )


def price(**fields: Any) -> SeatPrice:
    defaults: dict[str, Any] = {
        "seatType": "editor",
        "currency": "GBP",
        "pricePerSeat": "3.10",
        "prorationStrategy": "PRORATE_INCREMENTS",
    }
    return SeatPrice.model_validate(defaults | fields)


def lines(
    frame: pl.DataFrame, schedule: BillingSchedule, *prices: SeatPrice, **options: Any
) -> list[tuple[Any, ...]]:
    """(lineType, quantity, amount) of every line, in order."""
    result = price_seats(frame, schedule, list(prices), **options)
    assert isinstance(result, pl.DataFrame)
    return result.select("lineType", "quantity", "amount").rows()


def D(text: str) -> Decimal:
    return Decimal(text)


# 10 seats from December; 12 from Jan 6; 4 from Jan 11 12:00.
UP_AND_DOWN = events(("acme", ts(12, 20, y=2024), 10), ("acme", ts(1, 6), 12), ("acme", ts(1, 11, 12), 4))
# Daily quantities in January (D = 31):
#   PRORATE_ALL_CHANGES (the day's max): Jan 1-5: 10 (5 days), Jan 6-10: 12 (5), Jan 11: 12
#     (it held 12 until noon), Jan 12-31: 4 (20 days) → Σ = 50 + 60 + 12 + 80 = 202.
#   PRORATE_INCREMENTS (the running max): Jan 1-5: 10, Jan 6-31: 12 (26 days) → 50 + 312 = 362.
#   USE_MAXIMUM: 12 on all 31 days → 372.
# At 3.10 per seat per period, amount = 3.10 × Σ / 31 = Σ / 10.


# --- linear, in arrears ---------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "quantity", "amount"),
    [
        (PRORATE_ALL_CHANGES, "6.516129", "20.20"),  # 202 / 31 = 6.5161290…; 202 / 10
        (PRORATE_INCREMENTS, "11.677419", "36.20"),  # 362 / 31 = 11.6774193…; 362 / 10
        (USE_MAXIMUM, "12.000000", "37.20"),  # 372 / 31 = 12; 372 / 10
    ],
)
def test_linear_in_arrears_per_strategy(strategy: ProrationStrategy, quantity: str, amount: str) -> None:
    assert lines(UP_AND_DOWN, JANUARY, price(prorationStrategy=strategy)) == [
        ("ARREARS", D(quantity), D(amount))
    ]


def test_seats_added_mid_month_monthly_in_arrears_prorated() -> None:
    # 10 seats since December; 5 more on Jan 16 at 09:00. Monthly, in arrears, £20.00 per seat.
    frame = events(("acme", ts(12, 1, y=2024), 10), ("acme", ts(1, 16, 9), 15))
    # Jan 1-15: 10 seats (15 days), Jan 16-31: 15 seats (16 days; the 16th counts whole)
    # Σ q_d = 150 + 240 = 390; amount = 20.00 × 390 / 31 = 7800 / 31 = 251.6129… → 251.61;
    # quantity = 390 / 31 = 12.5806451… → 12.580645. Both prorated strategies agree (no removal).
    for strategy in (PRORATE_INCREMENTS, PRORATE_ALL_CHANGES):
        assert lines(frame, JANUARY, price(pricePerSeat="20.00", prorationStrategy=strategy)) == [
            ("ARREARS", D("12.580645"), D("251.61"))
        ]
    # USE_MAXIMUM charges 15 seats for the whole month: 15 × 20.00 = 300.00.
    assert lines(frame, JANUARY, price(pricePerSeat="20.00", prorationStrategy=USE_MAXIMUM)) == [
        ("ARREARS", D("15.000000"), D("300.00"))
    ]


def test_full_line_columns_and_quiet_second_period() -> None:
    frame = events(("acme", ts(12, 1, y=2024), 10), ("acme", ts(1, 16, 9), 15))
    result = price_seats(frame, JAN_FEB, [price(pricePerSeat="20.00")])
    assert isinstance(result, pl.DataFrame)
    assert result.columns == [
        "customerAlias", "seatType", "periodStart", "periodEnd", "billingType", "lineType",
        "chargedAt", "quantity", "amount", "currency",
    ]  # fmt: skip
    assert result.schema["quantity"] == pl.Decimal(38, 6)
    assert result.schema["amount"] == pl.Decimal(38, 2)
    # February holds 15 seats all month: exactly the full-period price, 15 × 20.00 = 300.00.
    head = ("acme", "editor")
    assert result.rows() == [
        (*head, ts(1, 1), ts(2, 1), "IN_ARREARS", "ARREARS", ts(2, 1), D("12.580645"), D("251.61"), "GBP"),
        (*head, ts(2, 1), ts(3, 1), "IN_ARREARS", "ARREARS", ts(3, 1), D("15.000000"), D("300.00"), "GBP"),
    ]


# --- linear, in advance ----------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "true_up_quantity", "true_up"),
    [
        # arrears 20.20 < advance 31.00: no credit; 6.516129 − 10 < 0 → 0
        (PRORATE_ALL_CHANGES, "0.000000", "0.00"),
        # 36.20 − 31.00 = 5.20; 362/31 − 10 = 52/31 = 1.6774193… → 1.677419
        (PRORATE_INCREMENTS, "1.677419", "5.20"),
        # 37.20 − 31.00 = 6.20; 12 − 10 = 2
        (USE_MAXIMUM, "2.000000", "6.20"),
    ],
)
def test_linear_in_advance_per_strategy(
    strategy: ProrationStrategy, true_up_quantity: str, true_up: str
) -> None:
    # Advance: startSeats = 10 on all 31 days: 3.10 × 10 = 31.00, charged on Jan 1.
    result = price_seats(UP_AND_DOWN, JANUARY, [price(prorationStrategy=strategy, billingType="IN_ADVANCE")])
    assert isinstance(result, pl.DataFrame)
    assert result.select("billingType", "lineType", "chargedAt", "quantity", "amount").rows() == [
        ("IN_ADVANCE", "ADVANCE", ts(1, 1), D("10.000000"), D("31.00")),
        ("IN_ADVANCE", "TRUE_UP", ts(2, 1), D(true_up_quantity), D(true_up)),
    ]


def test_true_up_comes_from_exact_amounts() -> None:
    # £1.00 per seat; 1 seat from Jan 1; 2 seats from Jan 17 (15 days).
    frame = events(("acme", ts(1, 1), 1), ("acme", ts(1, 17), 2))
    # Arrears: 1.00 × (16 + 30) / 31 = 46/31 = 1.48387…; advance: 1 seat → 1.00.
    # True-up: 46/31 − 1 = 15/31 = 0.48387… → 0.48; quantity 15/31 = 0.4838709… → 0.483871.
    assert lines(frame, JANUARY, price(pricePerSeat="1.00", billingType="IN_ADVANCE")) == [
        ("ADVANCE", D("1.000000"), D("1.00")),
        ("TRUE_UP", D("0.483871"), D("0.48")),
    ]
    # At 0.335 per seat (finer than pence): advance 0.335 → 0.34 (half up); arrears exact
    # 0.335 × 46/31 = 15.41/31 = 0.497096…; true-up exact 0.497096… − 0.335 = 0.162096… → 0.16.
    assert lines(frame, JANUARY, price(pricePerSeat="0.335", billingType="IN_ADVANCE")) == [
        ("ADVANCE", D("1.000000"), D("0.34")),
        ("TRUE_UP", D("0.483871"), D("0.16")),
    ]


def test_true_up_rounding_once_differs_from_rounded_difference() -> None:
    # 0.005 per seat; 1 seat at the start of January, 2 from Jan 1 12:00 (so the running
    # max is 2 on all 31 days). Advance: 1 seat → 0.005 → 0.01 (half up). Arrears:
    # 0.005 × 62/31 = 0.010 → 0.01. The true-up comes from the exact amounts:
    # 0.010 − 0.005 = 0.005 → 0.01, where the rounded lines would give 0.01 − 0.01 = 0.00.
    frame = events(("acme", ts(12, 31, y=2024), 1), ("acme", ts(1, 1, 12), 2))
    assert lines(frame, JANUARY, price(pricePerSeat="0.005", billingType="IN_ADVANCE")) == [
        ("ADVANCE", D("1.000000"), D("0.01")),
        ("TRUE_UP", D("1.000000"), D("0.01")),
    ]


# --- contracted minimum ------------------------------------------------------------


def test_minimum_above_usage() -> None:
    # Minimum 20 seats, usage at most 12: q'_d = 20 every day for every strategy:
    # 3.10 × 20 × 31 / 31 = 62.00, quantity 20.
    for strategy in STRATEGIES:
        assert lines(UP_AND_DOWN, JANUARY, price(prorationStrategy=strategy, contractedMinimumSeats=20)) == [
            ("ARREARS", D("20.000000"), D("62.00"))
        ]
    # In advance: max(startSeats 10, 20) = 20 → 62.00 ahead, nothing to true up.
    assert lines(UP_AND_DOWN, JANUARY, price(contractedMinimumSeats=20, billingType="IN_ADVANCE")) == [
        ("ADVANCE", D("20.000000"), D("62.00")),
        ("TRUE_UP", D("0.000000"), D("0.00")),
    ]


def test_minimum_between_low_and_high_usage() -> None:
    # Minimum 11, PRORATE_ALL_CHANGES: Jan 1-5 max(10, 11) = 11 (55), Jan 6-10: 12 (60),
    # Jan 11: 12, Jan 12-31: max(4, 11) = 11 (220) → Σ = 347; 3.10 × 347 / 31 = 34.70;
    # quantity 347 / 31 = 11.1935483… → 11.193548.
    assert lines(
        UP_AND_DOWN, JANUARY, price(prorationStrategy=PRORATE_ALL_CHANGES, contractedMinimumSeats=11)
    ) == [("ARREARS", D("11.193548"), D("34.70"))]


def test_minimum_charged_when_balance_is_back_to_zero() -> None:
    # The key's rows go on after its balance is 0. January: 5 seats on Jan 1-15, 0 from
    # Jan 16 00:00 (the event is at the day's first instant, so the 16th holds 0 all day):
    # Σ max(q, 2) = 15 × 5 + 16 × 2 = 107 → 3.10 × 107 / 31 = 10.70. February holds 0
    # seats, minimum 2 → 2 × 3.10 = 6.20.
    frame = events(("acme", ts(1, 1), 5), ("acme", ts(1, 16), 0))
    assert lines(frame, JAN_FEB, price(prorationStrategy=PRORATE_ALL_CHANGES, contractedMinimumSeats=2)) == [
        ("ARREARS", D("3.451613"), D("10.70")),  # 107 / 31 = 3.4516129…
        ("ARREARS", D("2.000000"), D("6.20")),
    ]


# --- tiers ---------------------------------------------------------------------------

TIERS = [
    {"upperBound": 10, "price": "2.00", "fee": "5.00"},  # seats 1-10
    {"upperBound": 20, "price": "1.00", "fee": "3.00"},  # seats 11-20
    {"upperBound": None, "price": "0.50", "fee": "1.00"},  # seats 21-
]
# 8 seats from December, 14 from Jan 21 (a tier boundary crossed mid-period).
CROSSING = events(("acme", ts(12, 1, y=2024), 8), ("acme", ts(1, 21), 14))
# Prorated (both strategies, the balance only rises): Jan 1-20 at 8 (20 days), Jan 21-31 at
# 14 (11 days): Σ q = 160 + 154 = 314; peak 14 (tier 2).
#   tier 1 (0, 10]:  Σ clip(q, 0, 10) − 0   = 20·8 + 11·10 = 270 seat-days at 2.00 → 540/31
#   tier 2 (10, 20]: Σ clip(q, 10, 20) − 10 = 20·0 + 11·4  =  44 seat-days at 1.00 →  44/31
#   tier 3 (20, ∞):  0
# Graduated: 584/31 + fees 5.00 + 3.00 (tiers 1 and 2 reached, tier 3 not) = 18.8387… + 8
#   = 26.8387… → 26.84. Volume: the peak's tier (2) prices every seat: 1.00 × 314/31 + 3.00
#   = 10.1290… + 3 = 13.1290… → 13.13. Quantity 314/31 = 10.1290322… → 10.129032.


@pytest.mark.parametrize("strategy", [PRORATE_INCREMENTS, PRORATE_ALL_CHANGES])
@pytest.mark.parametrize(("mode", "amount"), [(TierMode.GRADUATED, "26.84"), (TierMode.VOLUME, "13.13")])
def test_tier_boundary_crossed_mid_period(strategy: ProrationStrategy, mode: TierMode, amount: str) -> None:
    p = price(prorationStrategy=strategy, tiers=TIERS, tierMode=mode, pricePerSeat="99")
    assert lines(CROSSING, JANUARY, p) == [("ARREARS", D("10.129032"), D(amount))]


@pytest.mark.parametrize(("mode", "amount"), [(TierMode.GRADUATED, "32.00"), (TierMode.VOLUME, "17.00")])
def test_tiers_use_maximum(mode: TierMode, amount: str) -> None:
    # 14 seats all month: graduated 10 × 2.00 + 4 × 1.00 + fees 5 + 3 = 32.00;
    # volume 14 × 1.00 + fee 3.00 = 17.00.
    p = price(prorationStrategy=USE_MAXIMUM, tiers=TIERS, tierMode=mode)
    assert lines(CROSSING, JANUARY, p) == [("ARREARS", D("14.000000"), D(amount))]


@pytest.mark.parametrize(
    ("mode", "true_up"),
    [
        # advance: 8 seats in tier 1: 8 × 2.00 + fee 5.00 = 21.00 (both modes).
        # graduated: 26.8387… − 21 = 5.8387… → 5.84
        (TierMode.GRADUATED, "5.84"),
        # volume: 13.1290… − 21 < 0 → 0.00 (no credit), though 2.129032 more seats were used
        (TierMode.VOLUME, "0.00"),
    ],
)
def test_tiers_in_advance(mode: TierMode, true_up: str) -> None:
    p = price(tiers=TIERS, tierMode=mode, billingType="IN_ADVANCE")
    assert lines(CROSSING, JANUARY, p) == [
        ("ADVANCE", D("8.000000"), D("21.00")),
        ("TRUE_UP", D("2.129032"), D(true_up)),  # 314/31 − 8 = 66/31 = 2.1290322…
    ]


def test_volume_true_up_when_the_peak_reaches_a_dearer_tier() -> None:
    # Volume tiers where the price rises: seats 1-10 at 1.00, above at 2.00 (fee 10.00).
    tiers = [{"upperBound": 10, "price": "1.00"}, {"price": "2.00", "fee": "10.00"}]
    # 10 seats all January but 11 on Jan 31 (1 day): peak 11 → tier 2 prices every seat:
    # Σ q = 30 × 10 + 11 = 311 → 2.00 × 311/31 + 10.00 = 20.0645… + 10 = 30.0645…;
    # advance 10 seats in tier 1: 10.00; true-up 20.0645… → 20.06 for only 1/31 more seats
    # (quantity 311/31 − 10 = 1/31 = 0.0322580… → 0.032258).
    frame = events(("acme", ts(1, 1), 10), ("acme", ts(1, 31), 11))
    p = price(tiers=tiers, tierMode="VOLUME", billingType="IN_ADVANCE")
    assert lines(frame, JANUARY, p) == [
        ("ADVANCE", D("10.000000"), D("10.00")),
        ("TRUE_UP", D("0.032258"), D("20.06")),
    ]


def test_fees_once_per_reached_tier_and_none_at_zero_seats() -> None:
    # acme holds 25 seats on one day only (Jan 10), 0 otherwise: graduated PRORATE_ALL_CHANGES
    # Σ tier 1 = 10, tier 2 = 10, tier 3 = 5 seat-days → (20 + 10 + 2.5) / 31 = 32.5/31
    # = 1.0483…; each fee once for the period, not per day: 5 + 3 + 1 = 9 → 10.0483… → 10.05.
    # zero holds 0 seats (an event with total 0): no tier reached, no fee: 0.00 in both modes.
    frame = events(("acme", ts(1, 10), 25), ("acme", ts(1, 11), 0), ("zero", ts(12, 1, y=2024), 0))
    for mode, acme in ((TierMode.GRADUATED, "10.05"), (TierMode.VOLUME, "1.40")):
        # volume: peak 25 in tier 3: 0.50 × 25/31 + 1.00 = 0.4032… + 1 = 1.4032… → 1.40
        p = price(prorationStrategy=PRORATE_ALL_CHANGES, tiers=TIERS, tierMode=mode)
        assert lines(frame, JANUARY, p) == [
            ("ARREARS", D("0.806452"), D(acme)),  # 25/31 = 0.8064516…
            ("ARREARS", D("0.000000"), D("0.00")),
        ]


def test_a_minimum_reaches_tiers_and_their_fees() -> None:
    # 0 seats but a minimum of 12: q' = 12 every day; graduated 10 × 2 + 2 × 1 + fees 5 + 3 = 30.00.
    frame = events(("zero", ts(12, 1, y=2024), 0))
    p = price(tiers=TIERS, contractedMinimumSeats=12)
    assert lines(frame, JANUARY, p) == [("ARREARS", D("12.000000"), D("30.00"))]


def test_tier_upper_bound_is_inclusive() -> None:
    # 10 seats all month with a first tier up to 10: only tier 1 is reached:
    # 10 × 2.00 + fee 5.00 = 25.00 (graduated); volume: tier 1 too → 25.00.
    frame = events(("acme", ts(12, 1, y=2024), 10))
    for mode in TierMode:
        assert lines(frame, JANUARY, price(tiers=TIERS, tierMode=mode)) == [
            ("ARREARS", D("10.000000"), D("25.00"))
        ]


# --- currencies and rounding ----------------------------------------------------------


def test_jpy_has_no_minor_unit() -> None:
    # ¥1,000 per seat; 10 seats, 11 from Jan 16: Σ = 15·10 + 16·11 = 326 →
    # 1000 × 326 / 31 = 10516.129… → ¥10,516.
    frame = events(("acme", ts(12, 1, y=2024), 10), ("acme", ts(1, 16), 11))
    result = price_seats(frame, JANUARY, [price(currency="JPY", pricePerSeat=1000)])
    assert isinstance(result, pl.DataFrame)
    assert result.schema["amount"] == pl.Decimal(38, 0)
    assert result["amount"].to_list() == [D("10516")]


def test_kwd_has_three_decimals() -> None:
    # KWD 10.000 per seat; 2 seats, 3 from Jan 16: Σ = 15·2 + 16·3 = 78 → 10 × 78/31 =
    # 25.16129… → 25.161.
    frame = events(("acme", ts(12, 1, y=2024), 2), ("acme", ts(1, 16), 3))
    result = price_seats(frame, JANUARY, [price(currency="KWD", pricePerSeat="10.000")])
    assert isinstance(result, pl.DataFrame)
    assert result.schema["amount"] == pl.Decimal(38, 3)
    assert result["amount"].to_list() == [D("25.161")]


# 1 seat added on April 16: 15 seat-days of April's 30.
HALF_APRIL = events(("acme", ts(4, 16), 1))


@pytest.mark.parametrize(
    ("rounding", "jpy", "kwd", "gbp"),
    [
        # ¥29 × 15/30 = 14.5; KWD 2.001 × 15/30 = 1.0005; £0.03 × 15/30 = 0.015
        (ROUND_HALF_UP, "15", "1.001", "0.02"),
        (ROUND_HALF_EVEN, "14", "1.000", "0.02"),  # to the even neighbour: 14, 1.000, 0.02
        (ROUND_HALF_DOWN, "14", "1.000", "0.01"),
        (ROUND_UP, "15", "1.001", "0.02"),
        (ROUND_CEILING, "15", "1.001", "0.02"),
        (ROUND_DOWN, "14", "1.000", "0.01"),
        (ROUND_FLOOR, "14", "1.000", "0.01"),
        # away from 0 only when the digit kept is 0 or 5: 14 stays, 1.000 → 1.001, 0.01 stays
        (ROUND_05UP, "14", "1.001", "0.01"),
    ],
)
def test_rounding_modes_on_exact_halves(rounding: str, jpy: str, kwd: str, gbp: str) -> None:
    prices = [
        price(seatType="a", currency="JPY", pricePerSeat=29),
        price(seatType="b", currency="KWD", pricePerSeat="2.001"),
        price(seatType="c", currency="GBP", pricePerSeat="0.03"),
    ]
    frame = pl.concat([HALF_APRIL.with_columns(seatType=pl.lit(s)) for s in "abc"])
    result = price_seats(frame, APRIL, prices, rounding=rounding)
    assert isinstance(result, pl.DataFrame)
    # mixed currencies: the amount column has the finest scale (KWD: 3); each amount is
    # rounded to its own currency's minor unit.
    assert result.schema["amount"] == pl.Decimal(38, 3)
    assert result.select("currency", "quantity", "amount").rows() == [
        ("JPY", D("0.5"), D(jpy)),
        ("KWD", D("0.5"), D(kwd)),
        ("GBP", D("0.5"), D(gbp)),
    ]


def test_quantity_is_rounded_with_the_same_mode() -> None:
    # 1 seat from Jan 31 only: Σ = 1 seat-day, 1/31 = 0.0322580645… → 0.032258 to 6 places
    # (the 7th digit is 0), but 0.032259 with ROUND_UP.
    frame = events(("acme", ts(1, 31), 1))
    assert lines(frame, JANUARY, price(), rounding=ROUND_UP)[0][1] == D("0.032259")
    assert lines(frame, JANUARY, price(), rounding=ROUND_HALF_EVEN)[0][1] == D("0.032258")


def test_clf_has_four_decimals() -> None:
    # CLF 0.12345 per seat, 1 seat all January: 0.12345 → 0.1235 (half up) / 0.1234 (half even).
    frame = events(("acme", ts(1, 1), 1))
    p = price(currency="CLF", pricePerSeat="0.12345")
    assert lines(frame, JANUARY, p)[0][2] == D("0.1235")
    assert lines(frame, JANUARY, p, rounding=ROUND_HALF_EVEN)[0][2] == D("0.1234")


# --- which lines --------------------------------------------------------------------------


def test_unpriced_seat_types_get_no_lines_and_zero_lines_are_kept() -> None:
    frame = pl.concat(
        [
            events(("acme", ts(1, 1), 3), seat="editor"),
            events(("acme", ts(1, 1), 7), seat="viewer"),  # no price: no line
            events(("beta", ts(1, 1), 0), seat="editor"),  # 0 seats: a 0.00 line all the same
        ]
    )
    result = price_seats(frame, JANUARY, [price(pricePerSeat="1.00")])
    assert isinstance(result, pl.DataFrame)
    assert result.select("customerAlias", "seatType", "amount").rows() == [
        ("acme", "editor", D("3.00")),
        ("beta", "editor", D("0.00")),
    ]


def test_sorted_by_key_period_then_advance_arrears_true_up() -> None:
    frame = pl.concat(
        [
            events(("beta", ts(1, 1), 1), seat="viewer"),
            events(("acme", ts(1, 1), 1), seat="viewer"),
            events(("acme", ts(1, 1), 1), seat="admin"),
        ]
    )
    prices = [
        price(seatType="viewer", billingType="IN_ADVANCE"),
        price(seatType="admin", billingType="IN_ARREARS"),
    ]
    result = price_seats(frame, JAN_FEB, prices)
    assert isinstance(result, pl.DataFrame)
    assert result.select("customerAlias", "seatType", "periodStart", "lineType").rows() == [
        ("acme", "admin", ts(1, 1), "ARREARS"),
        ("acme", "admin", ts(2, 1), "ARREARS"),
        ("acme", "viewer", ts(1, 1), "ADVANCE"),
        ("acme", "viewer", ts(1, 1), "TRUE_UP"),
        ("acme", "viewer", ts(2, 1), "ADVANCE"),
        ("acme", "viewer", ts(2, 1), "TRUE_UP"),
        ("beta", "viewer", ts(1, 1), "ADVANCE"),
        ("beta", "viewer", ts(1, 1), "TRUE_UP"),
        ("beta", "viewer", ts(2, 1), "ADVANCE"),
        ("beta", "viewer", ts(2, 1), "TRUE_UP"),
    ]


def test_account_column_comes_first_and_is_part_of_the_key() -> None:
    frame = events(("acme", ts(1, 1), 1), ("acme", ts(1, 1), 2)).with_columns(
        sequenceAccountId=pl.Series(["acc2", "acc1"])
    )
    result = price_seats(frame, JANUARY, [price(pricePerSeat="1.00")])
    assert isinstance(result, pl.DataFrame)
    assert result.columns[0] == "sequenceAccountId"
    assert result.select("sequenceAccountId", "amount").rows() == [("acc1", D("2.00")), ("acc2", D("1.00"))]


def test_superseded_versions_do_not_count() -> None:
    # e1 said 9 seats, then was corrected to 3 (same id, same instant, received later).
    frame = events(("acme", ts(1, 1), 9), ("acme", ts(1, 1), 3)).with_columns(customerEventId=pl.lit("e1"))
    assert lines(frame, JANUARY, price(pricePerSeat="1.00", prorationStrategy=USE_MAXIMUM)) == [
        ("ARREARS", D("3.000000"), D("3.00"))
    ]


def test_lazy_in_lazy_out_and_same_answer() -> None:
    p = [price(tiers=TIERS, billingType="IN_ADVANCE")]
    eager = price_seats(CROSSING, JANUARY, p)
    lazy = price_seats(CROSSING.lazy(), JANUARY, p)
    assert isinstance(lazy, pl.LazyFrame)
    assert isinstance(eager, pl.DataFrame)
    assert lazy.collect().equals(eager)


def test_per_customer_schedules_and_until() -> None:
    frame = events(("acme", ts(1, 1), 1), ("beta", ts(1, 1), 1))
    schedules = {
        "acme": BillingSchedule(date(2025, 1, 1), "1mo"),
        "beta": BillingSchedule(date(2025, 1, 15), "2w"),  # Jan 15-28, Jan 29-Feb 11 (14 days)
    }
    result = price_seats(frame, schedules, [price(pricePerSeat="1.00")], until=date(2025, 2, 1))
    assert isinstance(result, pl.DataFrame)
    # acme: January, 1 seat → 1.00. beta: its first event is before its schedule starts and
    # carries in: 1 seat in each of its two periods → 1.00 each.
    assert result.select("customerAlias", "periodStart", "amount").rows() == [
        ("acme", ts(1, 1), D("1.00")),
        ("beta", ts(1, 15), D("1.00")),
        ("beta", ts(1, 29), D("1.00")),
    ]


def test_per_customer_schedules() -> None:
    frame = events(("acme", ts(1, 1), 1), ("beta", ts(1, 20), 1))
    schedules = {
        "acme": BillingSchedule(date(2025, 1, 1), "1mo"),
        "beta": BillingSchedule(date(2025, 1, 15), "2w"),  # [Jan 15, Jan 29), [Jan 29, Feb 12)
    }
    result = price_seats(frame, schedules, [price(pricePerSeat="1.00")], until=date(2025, 2, 1))
    assert isinstance(result, pl.DataFrame)
    # acme: 1 seat all January → 1.00. beta: 1 seat from Jan 20, 9 of its first period's 14
    # days (Jan 20-28) → 9/14 = 0.6428571… → 0.64; then a full period → 1.00.
    assert result.select("customerAlias", "periodStart", "quantity", "amount").rows() == [
        ("acme", ts(1, 1), D("1"), D("1.00")),
        ("beta", ts(1, 15), D("0.642857"), D("0.64")),
        ("beta", ts(1, 29), D("1"), D("1.00")),
    ]


def test_no_prices_gives_no_lines() -> None:
    result = price_seats(UP_AND_DOWN, JANUARY, [])
    assert isinstance(result, pl.DataFrame)
    assert result.height == 0
    assert "amount" in result.columns


def test_prices_may_be_dicts() -> None:
    as_dict = {"seatType": "editor", "currency": "GBP", "pricePerSeat": "3.10",
               "prorationStrategy": "USE_MAXIMUM"}  # fmt: skip
    assert lines(UP_AND_DOWN, JANUARY, as_dict) == [("ARREARS", D("12.000000"), D("37.20"))]  # type: ignore[arg-type]


def test_large_balances_and_fine_prices_stay_exact() -> None:
    # 2,147,483,647 seats at 0.000000001 per seat for all of January:
    # 2147483647 × 0.000000001 = 2.147483647 → 2.15. And 1,000,000,000 seats at £12,345.67:
    # 12,345,670,000,000.00 exactly (no float could hold the pence).
    big = events(("acme", ts(1, 1), 2_147_483_647), ("beta", ts(1, 1), 1_000_000_000))
    assert lines(big.head(1), JANUARY, price(pricePerSeat="0.000000001")) == [
        ("ARREARS", D("2147483647"), D("2.15"))
    ]
    assert lines(big.tail(1), JANUARY, price(pricePerSeat="12345.67")) == [
        ("ARREARS", D("1000000000"), D("12345670000000.00"))
    ]


def test_bad_rounding_mode() -> None:
    with pytest.raises(ValueError, match="rounding"):
        price_seats(UP_AND_DOWN, JANUARY, [price()], rounding="HALF_UP")


# --- the price model -----------------------------------------------------------------------


def test_price_model_parses_the_wire_shape() -> None:
    p = SeatPrice.model_validate(
        {
            "seatType": "editor",
            "currency": "EUR",
            "pricePerSeat": "0.25",
            "prorationStrategy": "USE_MAXIMUM",
            "billingType": "IN_ADVANCE",
            "contractedMinimumSeats": 10,
            "tiers": [
                {"upperBound": 100, "price": "1.00", "fee": "50.00"},
                {"price": "0.75", "fee": "25.00"},
            ],
            "tierMode": "VOLUME",
        }
    )
    assert p.proration_strategy is ProrationStrategy.USE_MAXIMUM
    assert p.billing_type is BillingType.IN_ADVANCE
    assert p.tiers is not None and p.tiers[0].upper_bound == 100 and p.tiers[1].upper_bound is None
    assert p.bands() == [(0, 100, D("1.00"), D("50.00")), (100, None, D("0.75"), D("25.00"))]
    dumped = p.model_dump(by_alias=True, mode="json")
    assert dumped["pricePerSeat"] == "0.25" and dumped["tiers"][0]["upperBound"] == 100
    assert SeatPrice.model_validate(dumped) == p


@pytest.mark.parametrize(
    ("money", "value"), [(D("2.50"), "2.5"), (2, "2"), ("2.50", "2.5"), (" 2.5 ", "2.5"), ("25E-1", "2.5")]
)
def test_money_accepts_decimal_int_and_decimal_strings(money: Any, value: str) -> None:
    assert price(pricePerSeat=money).price_per_seat == D(value)


def test_empty_tiers_mean_linear() -> None:
    assert price(tiers=[]).bands() == [(0, None, D("3.10"), D("0"))]


def test_currency_table() -> None:
    assert CURRENCY_MINOR_UNITS["GBP"] == 2
    assert CURRENCY_MINOR_UNITS["JPY"] == 0
    assert CURRENCY_MINOR_UNITS["KWD"] == 3
    assert CURRENCY_MINOR_UNITS["BHD"] == 3
    assert CURRENCY_MINOR_UNITS["CLF"] == 4
    assert CURRENCY_MINOR_UNITS["ISK"] == 0
    assert len(CURRENCY_MINOR_UNITS) > 150


def test_load_prices_reads_json_numbers_exactly(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        '[{"seatType": "editor", "currency": "GBP", "pricePerSeat": 0.1,'
        ' "prorationStrategy": "PRORATE_INCREMENTS", "tiers": [{"upperBound": 5, "price": 0.3},'
        ' {"price": 0.2, "fee": 1}]}]'
    )
    [p] = load_prices(path)
    assert p.price_per_seat == D("0.1")
    assert p.bands()[0][2] == D("0.3")


# --- every way a price is refused -----------------------------------------------------------

BAD_PRICES: list[tuple[str, dict[str, Any], str]] = [
    ("unsorted tiers", {"tiers": [{"upperBound": 20, "price": 1}, {"upperBound": 10, "price": 1},
                                  {"price": 1}]},
     "tiers.1.upperBound: is not above the previous tier's upperBound 20"),
    ("overlapping tiers", {"tiers": [{"upperBound": 10, "price": 1}, {"upperBound": 10, "price": 1},
                                     {"price": 1}]}, "is not above the previous tier's upperBound 10"),
    ("upperBound 0", {"tiers": [{"upperBound": 0, "price": 1}, {"price": 1}]}, "must be ≥ 1"),
    ("negative upperBound", {"tiers": [{"upperBound": -5, "price": 1}, {"price": 1}]}, "got -5"),
    ("fractional upperBound", {"tiers": [{"upperBound": "1.5", "price": 1}, {"price": 1}]}, "whole number"),
    ("float upperBound", {"tiers": [{"upperBound": 10.0, "price": 1}, {"price": 1}]}, "whole number"),
    ("bounded last tier", {"tiers": [{"upperBound": 10, "price": 1}, {"upperBound": 20, "price": 1}]},
     "the last tier must be unbounded (upperBound null): seats above 20 would have no price"),
    ("single bounded tier", {"tiers": [{"upperBound": 10, "price": 1}]},
     "seats above 10 would have no price"),
    ("unbounded tier first", {"tiers": [{"price": 1}, {"upperBound": 10, "price": 1}, {"price": 2}]},
     "tiers.0.upperBound: only the last tier may be unbounded"),
    ("negative pricePerSeat", {"pricePerSeat": "-0.01"}, "pricePerSeat: must be ≥ 0"),
    ("negative tier price", {"tiers": [{"price": "-1"}]}, "tiers.0.price: must be ≥ 0"),
    ("negative fee", {"tiers": [{"price": "1", "fee": -3}]}, "tiers.0.fee: must be ≥ 0"),
    ("float pricePerSeat", {"pricePerSeat": 0.1}, "pricePerSeat: is a float"),
    ("float tier price", {"tiers": [{"price": 0.5}]}, "is a float"),
    ("float fee", {"tiers": [{"price": 1, "fee": 2.5}]}, "tiers.0.fee: is a float"),
    ("bool money", {"pricePerSeat": True}, "is a bool"),
    ("NaN", {"pricePerSeat": "NaN"}, "finite"),
    ("Infinity", {"pricePerSeat": D("Infinity")}, "finite"),
    ("not a number", {"pricePerSeat": "ten"}, "is not a decimal number"),
    ("unknown currency", {"currency": "XYZ"}, "currency: is not an active ISO 4217 currency code"),
    ("lower-case currency", {"currency": "gbp"}, "codes are upper case: 'GBP'"),
    ("no minor unit", {"currency": "XAU"}, "ISO 4217"),
    ("withdrawn currency", {"currency": "HRK"}, "ISO 4217"),
    ("unknown field", {"seatMetricId": "bc61d4b8"}, "seatMetricId: is not a field of a seat price"),
    ("unknown tier field", {"tiers": [{"price": 1, "isPricePercentage": False}]}, "is not a field"),
    ("unknown strategy", {"prorationStrategy": "PRORATE"}, "prorationStrategy"),
    ("unknown billing type", {"billingType": "MONTHLY"}, "billingType"),
    ("unknown tier mode", {"tierMode": "STAIRSTEP"}, "tierMode"),
    ("negative minimum", {"contractedMinimumSeats": -1}, "contractedMinimumSeats"),
    ("fractional minimum", {"contractedMinimumSeats": 1.5}, "contractedMinimumSeats"),
    ("bool minimum", {"contractedMinimumSeats": True}, "contractedMinimumSeats"),
    ("huge minimum", {"contractedMinimumSeats": 2_147_483_648}, "contractedMinimumSeats"),
    ("empty seat type", {"seatType": ""}, "seatType"),
    ("missing currency", {"currency": None}, "currency"),
    ("too large to stay exact", {"pricePerSeat": "1E+30"}, "would need more than 34 digits"),
    ("too precise to stay exact", {"tiers": [{"price": "1E-19"}]}, "has 19 decimal places; at most 18"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "fields", "message"), BAD_PRICES, ids=[c[0] for c in BAD_PRICES])
def test_invalid_prices(case: str, fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidPrice) as raised:
        price(**fields)
    assert message in str(raised.value), str(raised.value)
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, SeatcalcError)


def test_invalid_price_shows_the_value() -> None:
    with pytest.raises(InvalidPrice, match=r"\(got -5\)"):
        price(contractedMinimumSeats=-5)
    with pytest.raises(InvalidPrice, match=r"\(got 0\.1\)"):
        price(pricePerSeat=0.1)


def test_all_tier_problems_reported_at_once() -> None:
    with pytest.raises(InvalidPrice, match=r"^2 problems in seat price") as raised:
        price(tiers=[{"price": 1}, {"upperBound": 5, "price": 1}])
    assert "only the last tier may be unbounded" in str(raised.value)
    assert "seats above 5 would have no price" in str(raised.value)


def test_two_prices_for_one_seat_type() -> None:
    with pytest.raises(InvalidPrice, match="both for seatType 'editor'"):
        price_seats(UP_AND_DOWN, JANUARY, [price(), price(currency="EUR")])


def test_prices_must_be_a_list() -> None:
    with pytest.raises(InvalidPrice, match="must be a list of SeatPrice"):
        price_seats(UP_AND_DOWN, JANUARY, price())  # type: ignore[arg-type]


def test_a_bad_dict_price_is_invalid_price() -> None:
    with pytest.raises(InvalidPrice, match="currency"):
        price_seats(UP_AND_DOWN, JANUARY, [{"seatType": "editor", "currency": "???"}])


def test_load_prices_errors() -> None:
    with pytest.raises(InvalidPrice, match="not valid JSON"):
        load_prices("[{")
    with pytest.raises(InvalidPrice, match="price 0 is not a JSON object"):
        load_prices("[1]")
    with pytest.raises(InvalidPrice, match=r"^price 1: .*currency"):
        load_prices(
            '[{"seatType": "a", "currency": "GBP", "pricePerSeat": 1, "prorationStrategy": "USE_MAXIMUM"},'
            ' {"seatType": "b", "currency": "gbp", "pricePerSeat": 1, "prorationStrategy": "USE_MAXIMUM"}]'
        )
    with pytest.raises(InvalidPrice, match="both for seatType 'a'"):
        load_prices(
            '[{"seatType": "a", "currency": "GBP", "pricePerSeat": 1, "prorationStrategy": "USE_MAXIMUM"},'
            ' {"seatType": "a", "currency": "JPY", "pricePerSeat": 1, "prorationStrategy": "USE_MAXIMUM"}]'
        )


# --- the command line -------------------------------------------------------------------------

EVENTS_NDJSON = "\n".join(
    [
        '{"customerEventId": "a1", "customerAlias": "acme", "seatType": "editor", '
        '"eventTimestamp": "2024-12-01T00:00:00Z", "total": 10}',
        '{"customerEventId": "a2", "customerAlias": "acme", "seatType": "editor", '
        '"eventTimestamp": "2025-01-16T09:00:00Z", "total": 15}',
        '{"customerEventId": "a3", "customerAlias": "acme", "seatType": "admin", '
        '"eventTimestamp": "2025-01-01T00:00:00Z", "total": 2}',
    ]
)
PRICES_JSON = (
    '[{"seatType": "editor", "currency": "GBP", "pricePerSeat": 20.00,'
    '  "prorationStrategy": "PRORATE_INCREMENTS"},'
    ' {"seatType": "admin", "currency": "JPY", "pricePerSeat": "1500", "prorationStrategy": "USE_MAXIMUM",'
    '  "billingType": "IN_ADVANCE"}]'
)


def _cli(tmp_path: Path, *extra: str, prices: str = PRICES_JSON) -> list[str]:
    (tmp_path / "events.ndjson").write_text(EVENTS_NDJSON)
    (tmp_path / "prices.json").write_text(prices)
    return [
        "charges", str(tmp_path / "events.ndjson"), "--prices", str(tmp_path / "prices.json"),
        "--start", "2025-01-01", "--end", "2025-02-01", *extra,
    ]  # fmt: skip


def test_cli_charges_prints_lines_then_totals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from seatcalc.cli import main

    assert main(_cli(tmp_path)) == 0
    out = capsys.readouterr().out
    lines, totals = out.split("Totals per customer and currency:")
    # editor: 20.00 × 390/31 = 251.61 (see the mid-month test); admin: ¥1,500 × 2 ahead, 0 true-up,
    # shown without a minor unit
    assert "251.61" in lines and "3000" in lines and "3000.00" not in lines
    assert "TRUE_UP" in lines and "ADVANCE" in lines
    assert "GBP" in totals and "JPY" in totals and "251.61" in totals


def test_cli_charges_writes_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from seatcalc.cli import main

    out = tmp_path / "lines.csv"
    assert main(_cli(tmp_path, "--out", str(out), "--rounding", "ROUND_DOWN")) == 0
    frame = pl.read_csv(out)
    assert frame.height == 3
    assert frame["lineType"].to_list() == ["ADVANCE", "TRUE_UP", "ARREARS"]
    assert frame["amount"].to_list()[-1] == pytest.approx(251.61)  # 251.6129… rounded down
    assert "Totals per customer and currency" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "prices", "message"),
    [
        ((), '[{"seatType": "editor"}]', "price 0: 3 problems in seat price: currency: Field required"),
        ((), "not json", "prices are not valid JSON"),
        ((), PRICES_JSON.replace('"GBP"', '"GBX"'), "is not an active ISO 4217 currency code"),
        (("--rounding", "HALF_UP"), PRICES_JSON, None),
    ],
)
def test_cli_charges_errors_exit_2_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: tuple[str, ...],
    prices: str,
    message: str | None,
) -> None:
    from seatcalc.cli import main

    if message is None:  # argparse rejects the option itself
        with pytest.raises(SystemExit) as raised:
            main(_cli(tmp_path, *extra, prices=prices))
        assert raised.value.code == 2
        return
    assert main(_cli(tmp_path, *extra, prices=prices)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("seatcalc charges: ") and message in err


def test_cli_charges_missing_prices_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from seatcalc.cli import main

    args = _cli(tmp_path)
    args[3] = str(tmp_path / "missing.json")
    assert main(args) == 2
    assert "missing.json" in capsys.readouterr().err


def test_the_largest_exact_charge_does_not_overflow() -> None:
    # The bound of SeatPrice: 2,147,483,647 seats for a 9999-week period (69,993 days) at the
    # finest (18 decimal places) price it accepts. 66.5… × 10^18 × 2147483647 × 69993 ≈ 10^34.
    from datetime import timedelta

    from seatcalc.events import MAX_TOTAL

    unit = D("66.123456789012345678")
    longest = BillingSchedule(date(2025, 1, 1), "9999w", end=date(2025, 1, 1) + timedelta(weeks=9999))
    frame = events(("acme", ts(1, 1), MAX_TOTAL), ("acme", ts(1, 1, 12), MAX_TOTAL - 1))
    for strategy in STRATEGIES:  # every day holds MAX_TOTAL, but day 2 on holds one seat less
        result = lines(frame, longest, price(pricePerSeat=unit, prorationStrategy=strategy))
        seat_days = MAX_TOTAL * 69_993 - (69_992 if strategy == PRORATE_ALL_CHANGES else 0)
        with localcontext(prec=60):  # exact: 60 digits hold every product here
            amount = (unit * seat_days / 69_993).quantize(D("0.01"))
            quantity = (Decimal(seat_days) / 69_993).quantize(D("0.000001"))
        assert result == [("ARREARS", quantity, amount)]
