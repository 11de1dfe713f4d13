"""Seat prices and the invoice lines they give (SPEC §6).

A :class:`SeatPrice` follows the seat price structure of the public API (camelCase on the
wire). :func:`price_seats` turns raw seat events, a billing schedule and prices into one
row per invoice line. The rules, for one (key, period) of ``D`` local days:

* the strategy gives each day a quantity ``q_d``: the period's maximum (``USE_MAXIMUM``),
  the running maximum from the period's start to the day's end (``PRORATE_INCREMENTS``),
  or the day's own maximum (``PRORATE_ALL_CHANGES``); then
  ``q'_d = max(q_d, contractedMinimumSeats)`` and ``peak = max_d q'_d``;
* linear: ``pricePerSeat × Σ q'_d / D``;
* tiers (they take precedence over ``pricePerSeat``): tier ``t`` holds seat numbers
  ``lo_t < i ≤ hi_t``. ``GRADUATED``: ``Σ_t price_t × Σ_d (clip(q'_d, lo_t, hi_t) − lo_t) / D``
  plus ``fee_t`` for each tier with ``peak > lo_t``. ``VOLUME``: the tier holding ``peak``
  prices every seat, ``price_t × Σ q'_d / D + fee_t``; with ``peak = 0`` the amount is 0;
* ``IN_ARREARS``: one ``ARREARS`` line at the period's end. ``IN_ADVANCE``: an ``ADVANCE``
  line at the period's start for ``max(startSeats, minimum)`` seats on every day (tiers and
  fees applied), and a ``TRUE_UP`` line at the period's end for
  ``max(0, arrears amount − advance amount)``, from the exact amounts (no credit is given
  when the advance was more than the usage).

Rules chosen where SPEC §6 is silent:

* every (key, period) that ``billable_seats`` reports gets its lines, **zero amounts
  included**, so an invoice is complete (a key never seen gets no lines, even with a
  contracted minimum);
* ``quantity`` is ``Σ q'_d / D`` (ARREARS), the advance seats (ADVANCE), and
  ``max(0, Σ q'_d / D − advance seats)`` (TRUE_UP), each to 6 decimal places with the same
  rounding mode as the amounts. A TRUE_UP line can carry money with quantity 0 (a higher
  volume tier or a new tier's fee reached within the period);
* a TRUE_UP never credits: when the usage cost less than the advance, it is 0;
* ``amount`` is one ``Decimal(38, s)`` column, ``s`` the largest minor unit among the prices
  given; each amount is rounded to its own currency's minor unit (a JPY amount is whole even
  when the column shows ``1500.00``);
* ``contractedMinimumSeats`` is at most 2,147,483,647 (the largest ``total``); money has at
  most 18 decimal places, and a price whose exact charge for that many seats over the
  longest period a schedule allows (9999 weeks) would not fit 34 digits is rejected: every
  amount is then computed exactly in 128-bit integers;
* ``upperBound`` is a JSON integer 1 … 2,147,483,647 or null (not a string: ``"１０"`` has
  digits that are not ASCII); money is a Decimal, an int or an ASCII decimal string of at
  most 40 significant digits; ``billingType`` defaults to ``IN_ARREARS``,
  ``contractedMinimumSeats`` to 0, ``tierMode`` to ``GRADUATED``; an empty ``tiers`` list
  means linear pricing;
* per-customer prices: each customer is priced by its own list only (a seat type missing
  from it is unpriced, it does not fall back to another list); the list under the key
  ``"*"`` prices every customer the mapping does not name. A key with periods but no price
  is *unpriced*: no lines (``unpriced="skip"``) or an error (``unpriced="error"``).

How it runs: the day-level view of :func:`seatcalc.timeline.day_view` gives each
day's quantity as runs (value, days) without a row per day; per line, the integer sums
``Σ count·(clip(q', lo_t, hi_t) − lo_t)`` per tier and the peak are computed in polars with
exact integers. Money stays in polars too, as exact scaled integers (Int128): each price is
an integer count of ``10^-s`` units, so an amount is one integer fraction
``numerator / (10^(s−m) × D)`` in minor units ``10^-m``, rounded once with the chosen mode,
then cast to ``Decimal``. Never a float on the way, and never a Python loop per line: a
LazyFrame in gives a LazyFrame out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
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
)
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self, TypeVar

import polars as pl
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    model_validator,
)

from seatcalc.errors import InvalidArgument, InvalidJson, InvalidPrice, Problem, shown
from seatcalc.events import MAX_TOTAL, Text
from seatcalc.frames import ALIAS, SEAT_TYPE, FrameT, eager_or_lazy
from seatcalc.periods import Until
from seatcalc.schedules import DAY, DAYS, PERIOD, PERIOD_END, PERIOD_START, Schedules
from seatcalc.supersession import SupersedeBy, check_policy
from seatcalc.timeline import KID, day_view
from seatcalc.wire import loads_json, text_problem

__all__ = [
    "CURRENCY_MINOR_UNITS",
    "EVERY_OTHER_CUSTOMER",
    "UNPRICED_POLICIES",
    "BillingType",
    "LineType",
    "PriceList",
    "Prices",
    "ProrationStrategy",
    "SeatPrice",
    "SeatUsageTier",
    "TierMode",
    "describe_unpriced",
    "load_prices",
    "price_seats",
    "price_seats_and_unpriced",
    "unpriced_seat_types",
]


class ProrationStrategy(StrEnum):
    """How a day's quantity follows the balance within a period."""

    USE_MAXIMUM = "USE_MAXIMUM"
    """Every day counts the period's highest balance: no proration."""
    PRORATE_INCREMENTS = "PRORATE_INCREMENTS"
    """Every day counts the highest balance so far: added seats from the day they came,
    removals give no credit."""
    PRORATE_ALL_CHANGES = "PRORATE_ALL_CHANGES"
    """Every day counts its own highest balance: a seat counts on each day it existed."""


class BillingType(StrEnum):
    """When a period is charged."""

    IN_ARREARS = "IN_ARREARS"
    """One line at the period's end, for what was used."""
    IN_ADVANCE = "IN_ADVANCE"
    """A line at the period's start for the seats held then, a true-up at the end."""


class TierMode(StrEnum):
    """How tiers price the seats."""

    GRADUATED = "GRADUATED"
    """Each seat costs the price of the tier holding its seat number."""
    VOLUME = "VOLUME"
    """The tier holding the peak prices every seat."""


class LineType(StrEnum):
    """The kind of an invoice line (its sort order within a period is ADVANCE, ARREARS,
    TRUE_UP)."""

    ADVANCE = "ADVANCE"
    ARREARS = "ARREARS"
    TRUE_UP = "TRUE_UP"


# ---------------------------------------------------------------------------
# Currencies
# ---------------------------------------------------------------------------

# fmt: off
CURRENCY_MINOR_UNITS: Mapping[str, int] = {
    # ISO 4217 list one, active codes with a minor unit (funds codes such as BOV, CHE, CHW,
    # CLF, COU, MXV, USN, UYI, UYW included; codes without a minor unit — XAU, XDR, XTS,
    # XXX, … — are not currencies one prices seats in and are left out).
    **dict.fromkeys(
        (
            "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
            "BGN", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF",
            "CHE", "CHF", "CHW", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD",
            "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD",
            "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW",
            "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT",
            "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK",
            "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR",
            "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP",
            "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "USN", "UYU",
            "UZS", "VED", "VES", "WST", "XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG",
        ),
        2,
    ),
    **dict.fromkeys(
        (
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
            "VUV", "XAF", "XOF", "XPF",
        ),
        0,
    ),
    **dict.fromkeys(
        ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"),
        3,
    ),
    **dict.fromkeys(
        ("CLF", "UYW"),
        4,
    ),
}
# fmt: on
"""ISO 4217 currency code → number of minor-unit digits (GBP 2, JPY 0, KWD 3, CLF 4)."""

MAX_MINOR_UNITS = max(CURRENCY_MINOR_UNITS.values())
QUANTITY_PLACES = 6
"""Decimal places of the ``quantity`` column."""
MAX_PERIOD_DAYS = 7 * 9999
MAX_DECIMAL_PLACES = 18
"""Finest money value accepted (prices and fees), for the exactness bound."""
"""The longest period a schedule allows (``"9999w"``), for the exactness bound."""
_AMOUNT_DIGITS = 38 - MAX_MINOR_UNITS
"""A numerator must stay below ``10**_AMOUNT_DIGITS``: it fits Int128 and, once rounded
and rescaled, a ``Decimal(38, scale)`` column."""
_UNBOUNDED = 1 << 62  # above every seat count: the upper bound of the last tier

ROUNDING_MODES = (
    ROUND_HALF_UP,
    ROUND_HALF_EVEN,
    ROUND_HALF_DOWN,
    ROUND_UP,
    ROUND_DOWN,
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_05UP,
)


# ---------------------------------------------------------------------------
# The price model
# ---------------------------------------------------------------------------


_MONEY_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_MAX_MONEY_DIGITS = 40
"""Most significant digits a money value may carry (as the wire's longest number)."""
_MAX_MONEY_WHOLE_DIGITS = 40
"""Most digits before the decimal point (the exactness bound then refuses most of them)."""


def _money(value: object) -> Decimal:
    """A finite decimal amount ≥ 0 from a Decimal, an int or an ASCII decimal string (an
    exponent of at most three digits allowed: ``'25E-1'``); never a float, a bool or a
    value too long to compute exactly."""
    if isinstance(value, bool):
        raise ValueError("is a bool; give a Decimal, an int or a decimal string such as '0.25'")
    if isinstance(value, float):
        raise ValueError(
            "is a float, which cannot hold most decimal amounts exactly (0.1 is "
            "0.1000000000000000055…); give Decimal('0.25'), an int or the string '0.25'"
        )
    if isinstance(value, int):
        if value.bit_length() > 4 * _MAX_MONEY_DIGITS:
            raise ValueError(f"has more than {_MAX_MONEY_DIGITS} digits; no seat price is that large")
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_MONEY_DIGITS + 8 or not _MONEY_TEXT.fullmatch(text):
            if text.lower().lstrip("+-") in ("nan", "snan", "inf", "infinity"):
                raise ValueError("must be a finite number")
            raise ValueError(
                "is not a decimal number; write ASCII digits with an optional point, e.g. '0.25'"
            )
        amount = Decimal(text)
    else:
        raise ValueError(
            f"must be a Decimal, an int or a decimal string such as '0.25', not {type(value).__name__}"
        )
    if not amount.is_finite():
        raise ValueError("must be a finite number")
    if amount < 0:
        raise ValueError("must be ≥ 0 (prices and fees are never negative)")
    if amount.is_zero():
        return Decimal(0)  # -0, 0E-99999 → 0
    if len(amount.as_tuple().digits) > _MAX_MONEY_DIGITS:
        raise ValueError(f"has more than {_MAX_MONEY_DIGITS} significant digits")
    if amount.adjusted() >= _MAX_MONEY_WHOLE_DIGITS:
        raise ValueError(
            f"has more than {_MAX_MONEY_WHOLE_DIGITS} digits before the decimal point; "
            "no exact charge of such a price can be computed"
        )
    return amount


def _upper_bound(value: object) -> object:
    """A JSON integer 1 … :data:`MAX_TOTAL`, or ``None`` (the last tier): not a string, a
    bool or a float."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            "must be a whole number ≥ 1 (the tier's last seat number, a JSON integer, not "
            f"a {type(value).__name__}) or null"
        )
    if value <= 0:
        raise ValueError(
            "must be ≥ 1: a tier's upperBound is its last seat number (lower bound 0 is implied)"
        )
    if value > MAX_TOTAL:
        raise ValueError(
            f"is above {MAX_TOTAL}, the largest seat count, so seats above it could never be "
            "reached; give the last tier upperBound null"
        )
    return value


def _currency(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 4217 code such as 'GBP'")
    if value not in CURRENCY_MINOR_UNITS:
        hint = (
            f"; codes are upper case: {value.upper()!r}"
            if value.upper() in CURRENCY_MINOR_UNITS
            else " (e.g. 'GBP', 'EUR', 'JPY', 'KWD')"
        )
        raise ValueError(f"is not an active ISO 4217 currency code with a minor unit{hint}")
    return value


_ModelT = TypeVar("_ModelT")

Money = Annotated[Decimal, BeforeValidator(_money)]
UpperBound = Annotated[int | None, BeforeValidator(_upper_bound)]
Currency = Annotated[str, BeforeValidator(_currency)]
MinimumSeats = Annotated[StrictInt, Field(ge=0, le=MAX_TOTAL)]


def _problems(error: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        cause = item.get("ctx", {}).get("error")
        if isinstance(cause, _PriceProblems):  # a nested model's or a cross-field check's
            for problem in cause.problems:
                field = f"{where}.{problem.field}" if where else problem.field
                problems.append(Problem(problem.row, field, problem.reason, problem.value))
            continue
        reason = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            reason = "is not a field of a seat price (unknown fields are rejected)"
        value = None if item["type"] == "missing" else item.get("input")
        problems.append(Problem(row=None, field=where or "(price)", reason=reason, value=value))
    return problems


class _PriceProblems(ValueError):
    """Problems carried through pydantic to the outermost call: cross-field checks, and
    the problems of a nested model (pydantic runs a nested model's ``__init__``)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


_nesting: ContextVar[int] = ContextVar("seatcalc_price_nesting", default=0)


def _price_error(problems: list[Problem], what: str = "seat price") -> InvalidPrice:
    """``"2 problems in seat price: tiers.1.upperBound: … (got 50); …"`` (the first five)."""
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    shown = "; ".join(str(p) for p in problems[:5])
    more = f"; and {count - 5} more" if count > 5 else ""
    return InvalidPrice(f"{count} {noun} in {what}: {shown}{more}")


def _validated(build: Callable[[], _ModelT]) -> _ModelT:
    """Run a pydantic construction; the outermost one turns every problem found, nested
    ones included, into one :class:`InvalidPrice`."""
    token = _nesting.set(_nesting.get() + 1)
    try:
        return build()
    except ValidationError as error:
        problems = _problems(error)
        if _nesting.get() > 1:
            raise _PriceProblems(problems) from None
        raise _price_error(problems) from None
    finally:
        _nesting.reset(token)


class _PriceModel(BaseModel):
    """Frozen, unknown fields rejected, camelCase on the wire; errors become InvalidPrice."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def __init__(self, /, **data: Any) -> None:
        _validated(lambda: super(_PriceModel, self).__init__(**data))

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        return _validated(lambda: super(_PriceModel, cls).model_validate(obj, *args, **kwargs))

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any) -> Self:
        return _validated(lambda: super(_PriceModel, cls).model_validate_json(json_data, *args, **kwargs))


class SeatUsageTier(_PriceModel):
    """One tier: seat numbers above the previous tier's ``upperBound`` (0 for the first)
    up to ``upperBound`` (inclusive; ``None`` for the last, unbounded tier) cost ``price``
    per seat per full period; ``fee`` is charged once per period when a seat reaches it."""

    upper_bound: UpperBound = Field(default=None, alias="upperBound")
    price: Money
    fee: Money = Decimal(0)


class SeatPrice(_PriceModel):
    """The price of one seat type (the reference API's seat price structure).

    Money (``pricePerSeat``, tier ``price`` and ``fee``) is a ``Decimal``, an ``int`` or a
    decimal string, never a float. ``tiers`` take precedence over ``pricePerSeat``; an empty
    list means no tiers. Every bad value raises :class:`~seatcalc.errors.InvalidPrice`.

    >>> price = SeatPrice.model_validate({"seatType": "editor", "currency": "GBP",
    ...     "pricePerSeat": "10.00", "prorationStrategy": "PRORATE_INCREMENTS"})
    >>> price.billing_type, price.minor_units
    (<BillingType.IN_ARREARS: 'IN_ARREARS'>, 2)
    """

    seat_type: Text = Field(alias="seatType")
    currency: Currency
    price_per_seat: Money = Field(alias="pricePerSeat")
    proration_strategy: ProrationStrategy = Field(alias="prorationStrategy")
    billing_type: BillingType = Field(default=BillingType.IN_ARREARS, alias="billingType")
    contracted_minimum_seats: MinimumSeats = Field(default=0, alias="contractedMinimumSeats")
    tiers: tuple[SeatUsageTier, ...] | None = None
    tier_mode: TierMode = Field(default=TierMode.GRADUATED, alias="tierMode")

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = _tier_problems(self.tiers or ())
        if not problems:
            problems = _exactness_problems(self)
        if problems:
            raise _PriceProblems(problems)
        return self

    @property
    def minor_units(self) -> int:
        """Digits after the decimal point in the currency's minor unit (GBP 2, JPY 0)."""
        return CURRENCY_MINOR_UNITS[self.currency]

    def bands(self) -> list[tuple[int, int | None, Decimal, Decimal]]:
        """The tiers as ``(lo, hi, price, fee)`` seat-number bands ``lo < i ≤ hi``; a linear
        price is one unbounded band at ``pricePerSeat`` without a fee."""
        if not self.tiers:
            return [(0, None, self.price_per_seat, Decimal(0))]
        lows = [0, *[tier.upper_bound or 0 for tier in self.tiers[:-1]]]
        return [(lo, t.upper_bound, t.price, t.fee) for lo, t in zip(lows, self.tiers, strict=True)]


def _tier_problems(tiers: tuple[SeatUsageTier, ...]) -> list[Problem]:
    problems: list[Problem] = []
    previous = 0
    for index, tier in enumerate(tiers):
        field = f"tiers.{index}.upperBound"
        last = index == len(tiers) - 1
        bound = tier.upper_bound
        if bound is None and not last:
            problems.append(
                Problem(
                    None,
                    field,
                    f"only the last tier may be unbounded (null); {len(tiers) - 1 - index} "
                    "tier(s) follow it — sort the tiers by upperBound",
                )
            )
            continue
        if bound is not None and bound <= previous:
            problems.append(
                Problem(
                    None,
                    field,
                    f"is not above the previous tier's upperBound {previous}: tiers "
                    "must be sorted by upperBound, strictly increasing, without overlap",
                    bound,
                )
            )
        if bound is not None and last:
            problems.append(
                Problem(
                    None,
                    field,
                    f"the last tier must be unbounded (upperBound null): seats "
                    f"above {bound} would have no price",
                    bound,
                )
            )
        if bound is not None:
            previous = max(previous, bound)
    return problems


def _decimal_places(value: Decimal) -> int:
    """The fewest decimal places that hold ``value`` exactly (trailing zeros dropped)."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    coefficient = int("".join(map(str, digits)) or "0")
    if coefficient == 0:
        return 0
    while exponent < 0 and coefficient % 10 == 0:
        coefficient //= 10
        exponent += 1
    return max(0, -exponent)


def _scaled(value: Decimal, places: int) -> int:
    """``value × 10^places`` as an exact integer (``places`` ≥ its decimal places)."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    coefficient = int("".join(map(str, digits)) or "0")
    shift = exponent + places
    return int(coefficient * 10**shift if shift >= 0 else coefficient // 10**-shift)


def _scale(price: SeatPrice) -> int:
    """Decimal places of the exact integer arithmetic: the finest money value, or the
    currency's minor unit when coarser."""
    values = [b[2] for b in price.bands()] + [b[3] for b in price.bands()]
    return max([price.minor_units, *map(_decimal_places, values)])


def _exactness_problems(price: SeatPrice) -> list[Problem]:
    """A price whose exact charge could overflow 128-bit integers is refused up front."""
    field = "pricePerSeat" if not price.tiers else "tiers"
    scale = _scale(price)
    bands = price.bands()
    if scale > MAX_DECIMAL_PLACES:
        finest = max((v for b in bands for v in b[2:]), key=_decimal_places)
        return [
            Problem(
                None,
                field,
                f"has {scale} decimal places; at most {MAX_DECIMAL_PLACES} are supported "
                "(amounts are computed exactly, in 128-bit integers)",
                finest,
            )
        ]
    top = max(_scaled(b[2], scale) for b in bands)
    fees = sum(_scaled(b[3], scale) for b in bands)
    worst = (top * MAX_TOTAL + fees) * MAX_PERIOD_DAYS
    if worst < 10**_AMOUNT_DIGITS:
        return []
    largest = max(max(b[2], b[3]) for b in bands)
    return [
        Problem(
            None,
            field,
            f"the exact charge of {MAX_TOTAL} seats over {MAX_PERIOD_DAYS} days at {scale} decimal "
            f"places would need more than {_AMOUNT_DIGITS} digits; use fewer decimal places "
            "or smaller prices",
            largest,
        )
    ]


PriceList = Sequence[SeatPrice | Mapping[str, Any]]
"""Prices for one customer: ``SeatPrice`` objects (or their JSON-shaped dicts), at most one
per ``seatType``."""
Prices = PriceList | Mapping[str, PriceList] | pl.DataFrame
"""One price list for every customer; or per customer, a mapping ``customerAlias → price
list`` (the key :data:`EVERY_OTHER_CUSTOMER` gives the list of every customer not named), or
a frame with a ``customerAlias`` column and the SeatPrice fields (camelCase), one row per price."""
EVERY_OTHER_CUSTOMER = "*"
"""The key of a per-customer price mapping whose list prices every customer not named."""
UNPRICED_POLICIES = ("skip", "error")
_LIST = "__priceList"


@dataclass(frozen=True)
class _PriceBook:
    """Price lists by number; ``index`` maps ``customerAlias → __priceList`` (``None``: list 0
    prices everyone); ``default`` is the list of a customer the index does not name."""

    lists: list[list[SeatPrice]]
    index: pl.DataFrame | None
    default: int | None


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "bool" if isinstance(value, bool) else "number"


def load_prices(source: str | bytes | Path) -> list[SeatPrice] | dict[str, list[SeatPrice]]:
    """Prices from JSON: a file (a :class:`~pathlib.Path`) or JSON text (``str``/``bytes``).

    Two shapes: a JSON list of seat price objects (one list for every customer), or a JSON
    object ``{"customerAlias": [seat prices…], …}`` (per customer; the key ``"*"`` prices
    every customer not named). The text follows the wire rules of
    :func:`seatcalc.wire.loads_json` (UTF-8, no duplicate key, numbers of at most 40
    characters, nesting ≤ 64); JSON numbers are read as exact decimals (``0.1`` is
    ``Decimal('0.1')``), so money may be written as numbers or strings.

    Raises:
        InvalidPrice: the file cannot be read, is not such JSON, or holds a bad price; the
            message names the file, the customer and the price index.

    >>> load_prices('[{"seatType": "admin", "currency": "JPY", "pricePerSeat": 1200,'
    ...             ' "prorationStrategy": "USE_MAXIMUM"}]')[0].price_per_seat
    Decimal('1200')
    """
    where = ""
    if isinstance(source, Path):
        where = f"{source}: "
        try:
            data: str | bytes = source.read_bytes()
        except OSError as error:
            raise InvalidPrice(f"cannot read the prices file {source}: {error.strerror or error}") from None
    elif isinstance(source, str | bytes):
        data = source
    else:
        raise InvalidPrice(f"prices must be a Path or JSON text, not {type(source).__name__}")
    try:
        value = loads_json(data)
    except InvalidJson as error:
        hint = ""
        if isinstance(source, str) and not source.lstrip().startswith(("[", "{")):
            hint = " (to read a file, pass a pathlib.Path)"
        raise InvalidPrice(f"{where}prices are not valid JSON: {error}{hint}") from None
    if isinstance(value, list):
        return _price_list(value, where)
    if isinstance(value, dict):
        if "seatType" in value and not isinstance(value["seatType"], list):
            raise InvalidPrice(
                f"{where}prices are one seat price object; write a list of them "
                '([{"seatType": …}]) or an object customerAlias → list'
            )
        return {alias: _price_list(items, f"{where}customer {alias!r}: ") for alias, items in value.items()}
    raise InvalidPrice(
        f"{where}prices must be a JSON list of seat prices or an object customerAlias → list, "
        f"not a JSON {_kind(value)}"
    )


def _price_list(items: object, where: str = "") -> list[SeatPrice]:
    """One customer's prices: a list of SeatPrice or JSON-shaped dicts, one per seat type."""
    if isinstance(items, SeatPrice | Mapping | str | bytes) or not isinstance(items, Iterable):
        raise InvalidPrice(
            f"{where}prices must be a list of SeatPrice (one per seat type), got {type(items).__name__}"
        )
    prices: list[SeatPrice] = []
    for index, item in enumerate(items):
        if isinstance(item, SeatPrice):
            prices.append(item)
            continue
        if not isinstance(item, Mapping):
            raise InvalidPrice(f"{where}price {index} is not a JSON object: {shown(item)}")
        try:
            prices.append(SeatPrice.model_validate(item))
        except InvalidPrice as error:
            raise InvalidPrice(f"{where}price {index}: {error}") from None
    seen: dict[str, int] = {}
    for index, price in enumerate(prices):
        if price.seat_type in seen:
            raise InvalidPrice(
                f"{where}prices {seen[price.seat_type]} and {index} are both for seatType "
                f"{price.seat_type!r}; give at most one price per seat type"
            )
        seen[price.seat_type] = index
    return prices


def _prices_from_frame(frame: pl.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """A frame with ``customerAlias`` and the SeatPrice fields → customer → price dicts
    (a null field takes its default)."""
    if ALIAS not in frame.columns:
        raise InvalidPrice(
            "a prices frame needs a customerAlias column beside the SeatPrice fields; "
            f"columns: {frame.columns}"
        )
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for row, record in enumerate(frame.to_dicts()):
        alias = record.pop(ALIAS)
        if not isinstance(alias, str):
            raise InvalidPrice(f"prices frame row {row}: customerAlias must be a string, got {alias!r}")
        by_customer.setdefault(alias, []).append({k: v for k, v in record.items() if v is not None})
    return by_customer


def _price_book(prices: object) -> _PriceBook:
    if isinstance(prices, pl.LazyFrame):
        prices = prices.collect()
    if isinstance(prices, pl.DataFrame):
        prices = _prices_from_frame(prices)
    if not isinstance(prices, Mapping):
        return _PriceBook([_price_list(prices)], None, None)
    lists: list[list[SeatPrice]] = []
    aliases: list[str] = []
    default = None
    for alias, items in prices.items():
        reason = text_problem(alias)
        if reason is not None:
            raise InvalidPrice(f"prices: the customerAlias {shown(alias)} {reason}")
        lists.append(_price_list(items, f"customer {alias!r}: "))
        if alias == EVERY_OTHER_CUSTOMER:
            default = len(lists) - 1
        aliases.append(alias)
    index = pl.DataFrame(
        {
            ALIAS: pl.Series(aliases, dtype=pl.String),
            _LIST: pl.Series(range(len(aliases)), dtype=pl.UInt32),
        }
    )
    return _PriceBook(lists, index, default)


# ---------------------------------------------------------------------------
# The price table: one row per priced seat type, integers only
# ---------------------------------------------------------------------------

_STRATEGY = "__strategy"
_MINIMUM = "__minimum"
_VOLUME = "__volume"
_ADVANCE = "__advance"
_MINOR = "__minor"
_DENOMINATOR = "__scaleDen"
_RESCALE = "__rescale"
_STRATEGY_CODE = {
    ProrationStrategy.USE_MAXIMUM: 0,
    ProrationStrategy.PRORATE_INCREMENTS: 1,
    ProrationStrategy.PRORATE_ALL_CHANGES: 2,
}


def _lo(k: int) -> str:
    return f"__lo{k}"


def _hi(k: int) -> str:
    return f"__hi{k}"


def _unit_price(k: int) -> str:
    return f"__price{k}"


def _fee(k: int) -> str:
    return f"__fee{k}"


def _price_table(book: _PriceBook, amount_scale: int) -> tuple[pl.DataFrame, int]:
    """(table, number of tier columns), one row per (price list, seat type). Tiers are padded
    with empty bands above every count; prices and fees are integers in units of ``10^-s``,
    ``__scaleDen = 10^(s − m)`` and ``__rescale = 10^(amount_scale − m)`` (minor units → the
    amount column's scale)."""
    prices = [(number, price) for number, prices in enumerate(book.lists) for price in prices]
    width = max([1, *(len(p.bands()) for _, p in prices)])
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            _LIST,
            SEAT_TYPE,
            "currency",
            "billingType",
            _STRATEGY,
            _MINIMUM,
            _VOLUME,
            _ADVANCE,
            _MINOR,
            _DENOMINATOR,
            _RESCALE,
        )
    }
    for k in range(width):
        for name in (_lo(k), _hi(k), _unit_price(k), _fee(k)):
            columns[name] = []
    for number, price in prices:
        scale = _scale(price)
        columns[_LIST].append(number)
        columns[SEAT_TYPE].append(price.seat_type)
        columns["currency"].append(price.currency)
        columns["billingType"].append(str(price.billing_type))
        columns[_STRATEGY].append(_STRATEGY_CODE[price.proration_strategy])
        columns[_MINIMUM].append(price.contracted_minimum_seats)
        columns[_VOLUME].append(bool(price.tiers) and price.tier_mode is TierMode.VOLUME)
        columns[_ADVANCE].append(price.billing_type is BillingType.IN_ADVANCE)
        columns[_MINOR].append(price.minor_units)
        columns[_DENOMINATOR].append(10 ** (scale - price.minor_units))
        columns[_RESCALE].append(10 ** (amount_scale - price.minor_units))
        bands = price.bands()
        for k in range(width):
            lo, hi, unit, fee = (
                bands[k] if k < len(bands) else (_UNBOUNDED, _UNBOUNDED, Decimal(0), Decimal(0))
            )
            columns[_lo(k)].append(lo)
            columns[_hi(k)].append(_UNBOUNDED if hi is None else hi)
            columns[_unit_price(k)].append(_scaled(unit, scale))
            columns[_fee(k)].append(_scaled(fee, scale))
    dtypes: dict[str, pl.DataType] = {
        _LIST: pl.UInt32(), SEAT_TYPE: pl.String(), "currency": pl.String(), "billingType": pl.String(),
        _STRATEGY: pl.UInt8(), _MINIMUM: pl.Int64(), _VOLUME: pl.Boolean(), _ADVANCE: pl.Boolean(),
        _MINOR: pl.Int64(), _DENOMINATOR: pl.Int128(), _RESCALE: pl.Int128(),
    }  # fmt: skip
    for k in range(width):
        dtypes |= {_lo(k): pl.Int64(), _hi(k): pl.Int64(), _unit_price(k): pl.Int128(), _fee(k): pl.Int128()}
    table = pl.DataFrame(
        {name: pl.Series(name, values, dtype=dtypes[name]) for name, values in columns.items()}
    )
    return table, width


# ---------------------------------------------------------------------------
# Exact integer arithmetic on expressions
# ---------------------------------------------------------------------------


def _int128(value: int) -> pl.Expr:
    return pl.lit(value, dtype=pl.Int128)


def _in_band(seats: pl.Expr, k: int) -> pl.Expr:
    """How many of seat numbers 1..seats fall in band k: ``clip(seats, lo, hi) − lo``."""
    return seats.clip(pl.col(_lo(k)), pl.col(_hi(k))) - pl.col(_lo(k))


def _divide(numerator: pl.Expr, denominator: pl.Expr, rounding: str) -> pl.Expr:
    """``numerator / denominator`` rounded to an integer with a :mod:`decimal` rounding mode
    (both Int128, numerator ≥ 0, denominator > 0; amounts are never negative, so FLOOR is
    DOWN and CEILING is UP)."""
    quotient = numerator // denominator
    remainder = numerator - quotient * denominator
    twice = remainder * _int128(2)
    if rounding in (ROUND_DOWN, ROUND_FLOOR):
        return quotient
    if rounding in (ROUND_UP, ROUND_CEILING):
        up = remainder > 0
    elif rounding == ROUND_HALF_UP:
        up = twice >= denominator
    elif rounding == ROUND_HALF_DOWN:
        up = twice > denominator
    elif rounding == ROUND_HALF_EVEN:
        up = (twice > denominator) | ((twice == denominator) & (quotient % _int128(2) == 1))
    else:  # ROUND_05UP: away from zero when the digit kept would be 0 or 5
        up = (remainder > 0) & (quotient % _int128(5) == 0)
    return quotient + up.cast(pl.Int128)


def _numerator(bands: list[pl.Expr], seats: pl.Expr, peak: pl.Expr, days: pl.Expr, width: int) -> pl.Expr:
    """The exact amount × ``10^s × D`` (Int128) from the band sums ``Σ_d (clip(q'_d, lo, hi) − lo)``,
    their total ``Σ_d q'_d``, the ``peak`` and ``D``."""
    d = days.cast(pl.Int128)
    graduated = pl.sum_horizontal(
        pl.col(_unit_price(k)) * bands[k].cast(pl.Int128)
        + pl.when(peak > pl.col(_lo(k))).then(pl.col(_fee(k)) * d).otherwise(_int128(0))
        for k in range(width)
    )
    volume = pl.sum_horizontal(
        pl.when((pl.col(_lo(k)) < peak) & (peak <= pl.col(_hi(k))))
        .then(pl.col(_unit_price(k)) * seats.cast(pl.Int128) + pl.col(_fee(k)) * d)
        .otherwise(_int128(0))
        for k in range(width)
    )
    return pl.when(pl.col(_VOLUME)).then(volume).otherwise(graduated)


def _to_decimal(units: pl.Expr, scale: int) -> pl.Expr:
    """Integer units of ``10^-scale`` → ``Decimal(38, scale)``, exactly."""
    whole = units.cast(pl.Decimal(38, 0))
    if scale == 0:
        return whole
    return whole * pl.lit(Decimal(1).scaleb(-scale), dtype=pl.Decimal(38, scale))


# ---------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------

_ARREARS_N = "__arrears"
_ADVANCE_N = "__advanceN"
_SEAT_DAYS = "__seatDays"
_HELD = "__held"
_UNITS = "__units"
_QUANTITY = "__quantity"


def _with_price_list(periods: pl.LazyFrame, book: _PriceBook) -> pl.LazyFrame:
    """Each key's price list number (null: the customer has no list)."""
    if book.index is None:
        return periods.with_columns(pl.lit(0, dtype=pl.UInt32).alias(_LIST))
    periods = periods.join(book.index.lazy(), on=ALIAS, how="left")
    if book.default is None:
        return periods
    return periods.with_columns(pl.col(_LIST).fill_null(pl.lit(book.default, dtype=pl.UInt32)))


def _unpriced_keys(periods: pl.LazyFrame, table: pl.DataFrame, keys: list[str]) -> pl.LazyFrame:
    """The keys with periods but no price in their customer's list, sorted."""
    return (
        periods.join(table.lazy().select(_LIST, SEAT_TYPE), on=[_LIST, SEAT_TYPE], how="anti")
        .select(keys)
        .unique()
        .sort(keys)
    )


def _lines(
    events: pl.LazyFrame,
    schedule: Schedules,
    book: _PriceBook,
    until: Until,
    supersede_by: SupersedeBy,
    rounding: str,
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(invoice lines, unpriced keys)."""
    amount_scale = max([0, *(p.minor_units for prices in book.lists for p in prices)])
    table, width = _price_table(book, amount_scale)
    periods, days, keys = day_view(events, schedule, until, supersede_by)
    periods = _with_price_list(periods, book)
    period_id = [KID, PERIOD]
    minimum = pl.col(_MINIMUM)
    # unpriced seat types drop out (a null list number joins nothing)
    priced = periods.join(table.lazy(), on=[_LIST, SEAT_TYPE], how="inner")

    # Per event day, two runs: the day itself and the ``tailDays`` quiet days after it.
    all_changes = pl.col(_STRATEGY) == _STRATEGY_CODE[ProrationStrategy.PRORATE_ALL_CHANGES]
    on_day = pl.max_horizontal(
        pl.when(all_changes).then(pl.col("dayMax")).otherwise(pl.col("runMax")), minimum
    )
    after = pl.max_horizontal(
        pl.when(all_changes).then(pl.col("lastTotal")).otherwise(pl.col("runMax")), minimum
    )
    tail = pl.col("tailDays").cast(pl.Int64)
    day_params = priced.select(
        *period_id, _STRATEGY, _MINIMUM, *(_lo(k) for k in range(width)), *(_hi(k) for k in range(width))
    )
    sums = (
        days.join(day_params, on=period_id, how="inner")
        .group_by(period_id)
        .agg(
            pl.col(DAY).min().cast(pl.Int64).alias("__firstDay"),
            *(
                (_in_band(on_day, k) + tail * _in_band(after, k)).sum().alias(f"__days{k}")
                for k in range(width)
            ),
        )
    )

    d = pl.col(DAYS).cast(pl.Int64)
    start = pl.col("startSeats")
    peak = pl.max_horizontal("maxSeats", minimum)  # = max_d q'_d under every strategy
    held = pl.max_horizontal(start, minimum)  # the advance seats; days before the first event hold it
    head = pl.col("__firstDay").fill_null(d)
    use_maximum = pl.col(_STRATEGY) == _STRATEGY_CODE[ProrationStrategy.USE_MAXIMUM]
    bands = [
        pl.when(use_maximum)
        .then(d * _in_band(peak, k))
        .otherwise(head * _in_band(held, k) + pl.col(f"__days{k}").fill_null(0))
        for k in range(width)
    ]
    advance_bands = [d * _in_band(held, k) for k in range(width)]
    lines = priced.join(sums, on=period_id, how="left").with_columns(
        pl.sum_horizontal(bands).alias(_SEAT_DAYS),
        held.alias(_HELD),
        _numerator(bands, pl.sum_horizontal(bands), peak, d, width).alias(_ARREARS_N),
        _numerator(advance_bands, d * held, held, d, width).alias(_ADVANCE_N),
        (pl.col(_DENOMINATOR) * d.cast(pl.Int128)).alias("__denominator"),
    )

    # One row per line: IN_ARREARS → [ARREARS], IN_ADVANCE → [ADVANCE, TRUE_UP].
    kind = pl.col("lineType")
    zero = _int128(0)
    seat_days = pl.col(_SEAT_DAYS).cast(pl.Int128)
    advance_days = pl.col(_HELD).cast(pl.Int128) * d.cast(pl.Int128)
    arrears_n, advance_n = pl.col(_ARREARS_N), pl.col(_ADVANCE_N)
    quantity_days = (
        pl.when(kind == LineType.ARREARS)
        .then(seat_days)
        .when(kind == LineType.ADVANCE)
        .then(advance_days)
        .otherwise(pl.max_horizontal(seat_days - advance_days, zero))
    )
    numerator = (
        pl.when(kind == LineType.ARREARS)
        .then(arrears_n)
        .when(kind == LineType.ADVANCE)
        .then(advance_n)
        .otherwise(pl.max_horizontal(arrears_n - advance_n, zero))
    )
    kinds = (
        pl.when(pl.col(_ADVANCE))
        .then(pl.lit([str(LineType.ADVANCE), str(LineType.TRUE_UP)]))
        .otherwise(pl.lit([str(LineType.ARREARS)]))
    )
    quantity = _divide(quantity_days * _int128(10**QUANTITY_PLACES), d.cast(pl.Int128), rounding)
    units = _divide(numerator, pl.col("__denominator"), rounding)
    return (
        lines.with_columns(kinds.alias("lineType"))
        .explode("lineType")
        .select(
            *keys,
            PERIOD_START,
            PERIOD_END,
            "billingType",
            kind,
            pl.when(kind == LineType.ADVANCE)
            .then(pl.col(PERIOD_START))
            .otherwise(pl.col(PERIOD_END))
            .alias("chargedAt"),
            _to_decimal(quantity, QUANTITY_PLACES).alias("quantity"),
            _to_decimal(units * pl.col(_RESCALE), amount_scale).alias("amount"),
            "currency",
        )
        .sort([*keys, PERIOD_START, "lineType"])
    ), _unpriced_keys(periods, table, keys)


def _check_arguments(supersede_by: object, rounding: object, unpriced: object) -> None:
    if not isinstance(rounding, str) or rounding not in ROUNDING_MODES:
        raise InvalidArgument.for_value(
            "rounding", rounding, f"must be a decimal rounding mode: one of {', '.join(ROUNDING_MODES)}"
        )
    check_policy(supersede_by)
    if not isinstance(unpriced, str) or unpriced not in UNPRICED_POLICIES:
        raise InvalidArgument.for_value("unpriced", unpriced, "must be 'skip' or 'error'")


def describe_unpriced(missing: pl.DataFrame, label: str = "") -> str:
    """``"no price for 3 seat types with events: acme/viewer, …, and K more"`` for the keys
    of :func:`unpriced_seat_types` (``label`` goes before the colon)."""
    named = ", ".join(f"{alias}/{seat}" for alias, seat in missing.select(ALIAS, SEAT_TYPE).head(5).rows())
    more = f", and {missing.height - 5} more" if missing.height > 5 else ""
    noun = "seat type" if missing.height == 1 else "seat types"
    return f"no price for {missing.height} {noun} with events{label}: {named}{more}"


def _unpriced_error(missing: pl.DataFrame) -> InvalidPrice:
    return InvalidPrice(
        describe_unpriced(missing, " (customerAlias/seatType)")
        + "; add them to the prices, or pass unpriced='skip' to leave them without lines"
    )


def price_seats(
    events: FrameT,
    schedule: Schedules,
    prices: Prices,
    *,
    until: Until = None,
    supersede_by: SupersedeBy = "eventTimestamp",
    rounding: str = ROUND_HALF_UP,
    unpriced: str = "skip",
    memory_limit: int | None = None,
) -> FrameT:
    """Invoice lines for raw seat events under a billing schedule and seat prices.

    ``events`` may also be Parquet paths, and ``memory_limit`` bounds the memory, as for
    :func:`~seatcalc.billable_seats` (out of core: :mod:`seatcalc.partitioned`).

    Takes the same ``events`` (superseded versions included), ``schedule``, ``until`` and
    ``supersede_by`` as :func:`~seatcalc.billable_seats`, and ``prices`` (see :data:`Prices`):
    a list of ``SeatPrice`` objects (or their JSON-shaped dicts), at most one per
    ``seatType``, for every customer; or per customer a mapping ``customerAlias → list``
    (key ``"*"``: every customer not named) or a frame with a ``customerAlias`` column.
    Every (key, period) that ``billable_seats`` reports gets its lines, zero amounts
    included: ``IN_ARREARS`` one ``ARREARS`` line, ``IN_ADVANCE`` an ``ADVANCE`` and a
    ``TRUE_UP`` line (see the module docstring for every formula). A key whose customer's
    list has no price for its seat type (or a customer missing from the mapping) is
    *unpriced*: ``unpriced="skip"`` gives it no lines, ``unpriced="error"`` raises
    (see :func:`unpriced_seat_types`; the check materialises the lines, so a LazyFrame in
    gives an already computed LazyFrame out).

    Columns (``sequenceAccountId`` first when the events carry it): ``customerAlias``,
    ``seatType``, ``periodStart``, ``periodEnd``, ``billingType``, ``lineType``
    (``ADVANCE`` | ``ARREARS`` | ``TRUE_UP``), ``chargedAt`` (the period's start for an
    advance line, else its end), ``quantity`` (``Decimal(38, 6)``), ``amount`` and
    ``currency``. ``amount`` is exact until one rounding per line, with ``rounding`` (a
    :mod:`decimal` mode), to the currency's ISO 4217 minor unit; its dtype is
    ``Decimal(38, s)`` with ``s`` the largest minor unit among ``prices`` (a JPY amount is
    whole even when shown as ``1500.00`` beside GBP lines). Sorted by key, ``periodStart``,
    then ``lineType``. A DataFrame in gives a DataFrame, a LazyFrame a LazyFrame.

    Raises:
        InvalidPrice: a bad or duplicated price, or (``unpriced="error"``) keys without one.
        InvalidArgument: ``rounding``, ``supersede_by`` or ``unpriced`` not one of its values.

    And what ``billable_seats`` raises for bad events or schedules.

    >>> from datetime import date, datetime, UTC
    >>> from seatcalc import BillingSchedule
    >>> events = pl.DataFrame({"customerAlias": ["acme"] * 2, "seatType": ["editor"] * 2,
    ...     "eventTimestamp": [datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 11, 12, tzinfo=UTC)],
    ...     "total": [2, 5]})
    >>> schedule = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 2, 1))
    >>> price = SeatPrice(seatType="editor", currency="GBP", pricePerSeat="31.00",
    ...     prorationStrategy="PRORATE_INCREMENTS")
    >>> price_seats(events, schedule, [price]).select("lineType", "quantity", "amount").rows()
    [('ARREARS', Decimal('4.032258'), Decimal('125.00'))]
    """
    _check_arguments(supersede_by, rounding, unpriced)
    book = _price_book(prices)
    if memory_limit is not None or not isinstance(events, pl.DataFrame | pl.LazyFrame):
        from seatcalc.partitioned import partitioned_price_seats  # it builds on this module

        done = partitioned_price_seats(
            events,
            schedule,
            prices,
            until=until,
            supersede_by=supersede_by,
            rounding=rounding,
            unpriced=unpriced,
            memory_limit=memory_limit,
        )
        assert done is not None  # no ``out``: the frame is returned
        return done.lazy() if isinstance(events, pl.LazyFrame) else done

    def compute(frame: pl.LazyFrame) -> pl.LazyFrame:
        lines, missing = _lines(frame, schedule, book, until, supersede_by, rounding)
        if unpriced == "skip":
            return lines
        done, unpriced_keys = pl.collect_all([lines, missing])
        if unpriced_keys.height:
            raise _unpriced_error(unpriced_keys)
        return done.lazy()

    return eager_or_lazy(events, compute)


def price_seats_and_unpriced(
    events: pl.DataFrame | pl.LazyFrame,
    schedule: Schedules,
    prices: Prices,
    *,
    until: Until = None,
    supersede_by: SupersedeBy = "eventTimestamp",
    rounding: str = ROUND_HALF_UP,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(lines, unpriced)`` in one pass: what :func:`price_seats` with ``unpriced="skip"``
    and :func:`unpriced_seat_types` return, computed together (the periods once).

    Raises what :func:`price_seats` raises.
    """
    _check_arguments(supersede_by, rounding, "skip")
    book = _price_book(prices)
    lines, missing = _lines(events.lazy(), schedule, book, until, supersede_by, rounding)
    done, unpriced = pl.collect_all([lines, missing])
    return done, unpriced


def unpriced_seat_types(
    events: FrameT,
    schedule: Schedules,
    prices: Prices,
    *,
    until: Until = None,
    supersede_by: SupersedeBy = "eventTimestamp",
) -> pl.DataFrame:
    """The keys that :func:`price_seats` leaves without lines for want of a price.

    A key (``customerAlias``, ``seatType``; ``sequenceAccountId`` first when the events carry
    it) is unpriced when ``billable_seats`` reports a period for it and its customer's price
    list (the list for everyone, the customer's own, or the ``"*"`` list) has no price for its
    seat type. One row per key, sorted; empty when everything is priced.

    >>> from datetime import date, datetime, UTC
    >>> from seatcalc import BillingSchedule
    >>> events = pl.DataFrame({"customerAlias": ["acme", "globex"], "seatType": ["editor"] * 2,
    ...     "eventTimestamp": [datetime(2025, 1, 1, tzinfo=UTC)] * 2, "total": [2, 5]})
    >>> schedule = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 2, 1))
    >>> price = SeatPrice(seatType="editor", currency="GBP", pricePerSeat="31.00",
    ...     prorationStrategy="USE_MAXIMUM")
    >>> unpriced_seat_types(events, schedule, {"acme": [price]}).rows()
    [('globex', 'editor')]
    """
    _check_arguments(supersede_by, ROUND_HALF_UP, "skip")
    book = _price_book(prices)
    missing = eager_or_lazy(
        events.lazy() if isinstance(events, pl.DataFrame) else events,
        lambda frame: _lines(frame, schedule, book, until, supersede_by, ROUND_HALF_UP)[1],
    )
    return missing.collect()
