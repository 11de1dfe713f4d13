"""Property tests of ``price_seats`` (SPEC §6) against a plain day-by-day reference.

The reference below evaluates the balance ``b`` on every local day from the events (with
the step-function helpers of ``tests/reference.py``, never seatcalc), applies the SPEC §6
formulas with exact ``Fraction`` arithmetic and rounds each line once with the
:mod:`decimal` module's own ``quantize``. Hypothesis profiles (``HYPOTHESIS_PROFILE=ci`` or
``dev``) come from ``tests/conftest.py``.
"""

from __future__ import annotations

from datetime import date, timedelta
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
from fractions import Fraction
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from seatcalc import SeatPrice, price_seats
from tests.reference import (
    Row,
    SupersedeBy,
    _b,
    _has_account,
    _max,
    _period_dates,
    _timelines,
    ref_day_start,
)
from tests.strategies import SEAT_TYPES, Case, Plan, at_most, cases, plans

ROUNDINGS = (
    ROUND_HALF_UP,
    ROUND_HALF_EVEN,
    ROUND_HALF_DOWN,
    ROUND_UP,
    ROUND_DOWN,
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_05UP,
)
MINOR = {"GBP": 2, "JPY": 0, "KWD": 3, "CLF": 4, "EUR": 2}
STRATEGIES = ("USE_MAXIMUM", "PRORATE_INCREMENTS", "PRORATE_ALL_CHANGES")


# ---------------------------------------------------------------------------
# The reference: one day at a time
# ---------------------------------------------------------------------------


def _round(value: Fraction, places: int, rounding: str) -> Decimal:
    """``value`` rounded once to ``places`` decimals by :meth:`Decimal.quantize`.

    The fraction is first written out to 200 significant digits, truncated: its
    denominator is far below 10^100, so the truncation never hides or invents a tie or a
    non-zero remainder, and quantize sees the same side of every rounding boundary.
    """
    with localcontext(prec=200, rounding=ROUND_DOWN):
        written = Decimal(value.numerator) / Decimal(value.denominator)
    with localcontext(prec=200):
        return written.quantize(Decimal(1).scaleb(-places), rounding=rounding)


def _daily_quantities(steps: list[Any], strategy: str, days: list[date], time_zone: str) -> list[int]:
    """``q_d`` for each local day: the period max, the running max, or the day's own max."""
    starts = [ref_day_start(day, time_zone) for day in days]
    ends = [ref_day_start(day + timedelta(days=1), time_zone) for day in days]
    if strategy == "USE_MAXIMUM":
        return [_max(steps, starts[0], ends[-1])] * len(days)
    if strategy == "PRORATE_INCREMENTS":
        return [_max(steps, starts[0], end) for end in ends]
    return [_max(steps, start, end) for start, end in zip(starts, ends, strict=True)]


def _amount(price: SeatPrice, quantities: list[int]) -> Fraction:
    """The exact amount of SPEC §6 for the daily quantities ``q'_d`` of one period."""
    days = len(quantities)
    if not price.tiers:
        return Fraction(price.price_per_seat) * sum(quantities) / days
    peak = max(quantities)
    lows = [0] + [tier.upper_bound or 0 for tier in price.tiers[:-1]]
    tiers = [(lo, tier.upper_bound, tier) for lo, tier in zip(lows, price.tiers, strict=True)]
    if price.tier_mode == "VOLUME":
        for lo, hi, tier in tiers:
            if lo < peak and (hi is None or peak <= hi):
                return Fraction(tier.price) * sum(quantities) / days + Fraction(tier.fee)
        return Fraction(0)  # peak = 0
    total = Fraction(0)
    for lo, hi, tier in tiers:
        # seat numbers lo+1 .. hi held on day d: max(0, min(q, hi) − lo)
        seat_days = sum(max(0, (q if hi is None else min(q, hi)) - lo) for q in quantities)
        total += Fraction(tier.price) * seat_days / days
        if peak > lo:
            total += Fraction(tier.fee)
    return total


def ref_price_lines(
    rows: list[Row],
    plan_args: dict[str, Any],
    prices: list[SeatPrice],
    supersede_by: SupersedeBy,
    rounding: str,
) -> list[dict[str, Any]]:
    """Invoice lines, walking every local day of every period of every priced key."""
    by_type = {price.seat_type: price for price in prices}
    time_zone = plan_args["time_zone"]
    with_account = _has_account(rows)
    lines = []
    for key, steps in sorted(_timelines(rows, supersede_by).items()):
        price = by_type.get(key[-1])
        if price is None:
            continue
        minimum = price.contracted_minimum_seats
        for first_day, day_after in _period_dates(**plan_args):
            period_start = ref_day_start(first_day, time_zone)
            period_end = ref_day_start(day_after, time_zone)
            if period_end <= steps[0][0]:
                continue
            days = [first_day + timedelta(days=i) for i in range((day_after - first_day).days)]
            quantities = [
                max(q, minimum) for q in _daily_quantities(steps, price.proration_strategy, days, time_zone)
            ]
            arrears = _amount(price, quantities)
            average = Fraction(sum(quantities), len(days))
            head: dict[str, Any] = {"sequenceAccountId": key[0]} if with_account else {}
            head |= {
                "customerAlias": key[-2],
                "seatType": key[-1],
                "periodStart": period_start,
                "periodEnd": period_end,
                "billingType": str(price.billing_type),
            }
            kinds: list[tuple[str, Any, Fraction, Fraction]]
            if price.billing_type == "IN_ARREARS":
                kinds = [("ARREARS", period_end, average, arrears)]
            else:
                held = max(_b(steps, period_start), minimum)
                advance = _amount(price, [held] * len(days))
                kinds = [
                    ("ADVANCE", period_start, Fraction(held), advance),
                    (
                        "TRUE_UP",
                        period_end,
                        max(Fraction(0), average - held),
                        max(Fraction(0), arrears - advance),
                    ),
                ]
            for kind, charged_at, quantity, amount in kinds:
                lines.append(
                    head
                    | {
                        "lineType": kind,
                        "chargedAt": charged_at,
                        "quantity": _round(quantity, 6, rounding),
                        "amount": _round(amount, MINOR[price.currency], rounding),
                        "currency": price.currency,
                    }
                )
    return lines


# ---------------------------------------------------------------------------
# Drawing prices
# ---------------------------------------------------------------------------


def _money(places: int, top: int = 500) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=0, max_value=top, places=places, allow_nan=False, allow_infinity=False)


@st.composite
def seat_prices(draw: st.DrawFn, /, seat_type: str, **fixed: Any) -> SeatPrice:
    """A valid price: any currency, strategy, billing type, minimum, and 0-3 tiers."""
    places = draw(st.integers(0, 5))
    fields: dict[str, Any] = {
        "seatType": seat_type,
        "currency": draw(st.sampled_from(sorted(MINOR))),
        "pricePerSeat": draw(_money(places)),
        "prorationStrategy": draw(st.sampled_from(STRATEGIES)),
        "billingType": draw(st.sampled_from(("IN_ARREARS", "IN_ADVANCE"))),
        "contractedMinimumSeats": draw(st.one_of(st.just(0), st.integers(0, 25))),
    }
    count = draw(st.integers(0, 3))
    if count:
        bounds = sorted(
            draw(
                st.sets(
                    st.one_of(st.integers(1, 25), st.just(1_000_000_000)),
                    min_size=count - 1,
                    max_size=count - 1,
                )
            )
        )
        fields["tiers"] = [
            {
                "upperBound": bound,
                "price": draw(_money(places)),
                "fee": draw(st.one_of(st.just(Decimal(0)), _money(places, 100))),
            }
            for bound in [*bounds, None]
        ]
        fields["tierMode"] = draw(st.sampled_from(("GRADUATED", "VOLUME")))
    return SeatPrice.model_validate(fields | fixed)


@st.composite
def price_lists(draw: st.DrawFn, /, **fixed: Any) -> list[SeatPrice]:
    """Prices for some of the seat types (a type without a price gets no lines)."""
    priced = draw(st.lists(st.sampled_from(SEAT_TYPES), unique=True, min_size=1))
    return [draw(seat_prices(seat_type, **fixed)) for seat_type in priced]


def _lines(case: Case, prices: list[SeatPrice], rounding: str = ROUND_HALF_UP) -> pl.DataFrame:
    result = price_seats(
        case.events.frame(), case.plan.schedule, prices, until=case.plan.until,
        supersede_by=case.policy, rounding=rounding,
    )  # fmt: skip
    assert isinstance(result, pl.DataFrame)
    return result


def _lazy_lines(case: Case, prices: list[SeatPrice], rounding: str = ROUND_HALF_UP) -> pl.LazyFrame:
    result = price_seats(
        case.events.frame().lazy(), case.plan.schedule, prices, until=case.plan.until,
        supersede_by=case.policy, rounding=rounding,
    )  # fmt: skip
    assert isinstance(result, pl.LazyFrame)
    return result


def _lines_of_each(
    case: Case, lists: list[list[SeatPrice]], rounding: str = ROUND_HALF_UP
) -> list[pl.DataFrame]:
    """The lines of each price list on the same events, collected together in memory (each
    call of price_seats costs milliseconds whatever the frame; the paths agree, see
    ``test_matches_the_day_by_day_reference_on_every_path``)."""
    return pl.collect_all([_lazy_lines(case, prices, rounding) for prices in lists], engine="in-memory")


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@given(case=cases(), prices=price_lists(), rounding=st.sampled_from(ROUNDINGS))
@settings(deadline=None)
def test_matches_the_day_by_day_reference_on_every_path(
    case: Case, prices: list[SeatPrice], rounding: str
) -> None:
    """A DataFrame in gives a DataFrame, a LazyFrame a LazyFrame; the eager lines and the
    lazy ones collected by either engine are the same frame, the reference's lines."""
    got = _lines(case, prices, rounding)
    lazy = _lazy_lines(case, prices, rounding)
    assert lazy.collect(engine="in-memory").equals(got)
    assert lazy.collect(engine="streaming").equals(got)
    expected = ref_price_lines(case.events.ref_rows, case.plan.ref_args(), prices, case.policy, rounding)
    assert got.to_dicts() == expected
    # amounts and quantities are never negative
    assert all(row["amount"] >= 0 and row["quantity"] >= 0 for row in expected)


@given(case=cases(), price=seat_prices("admin"), data=st.data())
@settings(deadline=None, max_examples=at_most(300))  # three prices per example
def test_use_maximum_ge_increments_ge_all_changes(case: Case, price: SeatPrice, data: st.DataObject) -> None:
    rounding = data.draw(st.sampled_from(ROUNDINGS))
    variants = [[price.model_copy(update={"proration_strategy": strategy})] for strategy in STRATEGIES]
    amounts = [lines["amount"].to_list() for lines in _lines_of_each(case, variants, rounding)]
    for most, middle, least in zip(*amounts, strict=True):
        assert most >= middle >= least


@given(case=cases(), price=seat_prices("admin", tiers=None), mode=st.sampled_from(("GRADUATED", "VOLUME")))
@settings(deadline=None, max_examples=at_most(300))  # the reference test prices single tiers too
def test_a_single_unbounded_tier_is_linear(case: Case, price: SeatPrice, mode: str) -> None:
    tiered = SeatPrice.model_validate(
        price.model_dump(by_alias=True)
        | {
            "pricePerSeat": "999",
            "tiers": [{"upperBound": None, "price": price.price_per_seat}],
            "tierMode": mode,
        }
    )
    by_tier, flat = _lines_of_each(case, [[tiered], [price]])
    assert by_tier.equals(flat)


@given(
    total=st.integers(0, 2_147_483_647),
    price=seat_prices("admin", tiers=None),
    plan=plans(),
)
@settings(deadline=None, max_examples=at_most(300))  # one event: the schedules are what varies
def test_a_constant_balance_costs_the_full_period_price(total: int, price: SeatPrice, plan: Plan) -> None:
    # one event long before the schedule: every period holds max(total, minimum) all along
    start = ref_day_start(plan.start, "UTC") - timedelta(days=60)
    frame = pl.DataFrame(
        {"customerAlias": ["acme"], "seatType": ["admin"], "eventTimestamp": [start], "total": [total]}
    )
    result = price_seats(frame, plan.schedule, [price], until=plan.until)
    assert isinstance(result, pl.DataFrame)
    seats = max(total, price.contracted_minimum_seats)
    full = _round(Fraction(price.price_per_seat) * seats, MINOR[price.currency], ROUND_HALF_UP)
    for row in result.iter_rows(named=True):
        expected = Decimal(0) if row["lineType"] == "TRUE_UP" else full
        assert row["amount"] == expected
        assert row["quantity"] == (0 if row["lineType"] == "TRUE_UP" else seats)


@given(case=cases(), prices=price_lists(pricePerSeat="0"), data=st.data())
@settings(deadline=None, max_examples=at_most(300))
def test_a_price_of_zero_costs_nothing(case: Case, prices: list[SeatPrice], data: st.DataObject) -> None:
    free = [
        p.model_copy(
            update={
                "tiers": tuple(t.model_copy(update={"price": Decimal(0), "fee": Decimal(0)}) for t in p.tiers)
            }
        )
        if p.tiers
        else p
        for p in prices
    ]
    result = _lines(case, free, data.draw(st.sampled_from(ROUNDINGS)))
    assert all(amount == 0 for amount in result["amount"].to_list())


@given(case=cases(), acme=price_lists(), other=price_lists(), star=st.booleans())
@settings(deadline=None, max_examples=100)
def test_per_customer_prices_are_each_customers_own_list(
    case: Case, acme: list[SeatPrice], other: list[SeatPrice], star: bool
) -> None:
    # "acme" is priced by its own list; "beta" by the "*" list, or not at all without one
    prices = {"acme": acme, "*": other} if star else {"acme": acme}
    result = price_seats(
        case.events.frame(), case.plan.schedule, prices, until=case.plan.until, supersede_by=case.policy
    )
    assert isinstance(result, pl.DataFrame)
    args = case.plan.ref_args()
    for alias, own in (("acme", acme), ("beta", other if star else [])):
        expected = ref_price_lines(case.events.ref_rows, args, own, case.policy, ROUND_HALF_UP) if own else []
        got = result.filter(pl.col("customerAlias") == alias).to_dicts()
        assert got == [row for row in expected if row["customerAlias"] == alias]
