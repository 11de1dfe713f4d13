"""Seat prices: the price model, currencies, and reading prices (SPEC §6).

A :class:`SeatPrice` follows the seat price structure of the public API (camelCase on the
wire); a :class:`SeatUsageTier` is one of its tiers. Every bad value raises
:class:`~seatcalc.errors.InvalidPrice` naming each problem found (the first five). Rules
chosen where SPEC §6 is silent:

* ``upperBound`` is a JSON integer 1 … 2,147,483,647 or null (not a string: ``"１０"`` has
  digits that are not ASCII); money is a Decimal, an int or an ASCII decimal string of at
  most 40 significant digits; ``billingType`` defaults to ``IN_ARREARS``,
  ``contractedMinimumSeats`` to 0, ``tierMode`` to ``GRADUATED``; an empty ``tiers`` list
  means linear pricing; tiers are sorted by ``upperBound``, strictly increasing, and only
  the last one is (and must be) unbounded;
* ``currency`` is an active ISO 4217 code with a minor unit (:data:`CURRENCY_MINOR_UNITS`);
* ``contractedMinimumSeats`` is at most 2,147,483,647 (the largest ``total``); money has at
  most 18 decimal places, and a price whose exact charge for that many seats over the
  longest period a schedule allows (9999 weeks) would not fit 34 digits is rejected: every
  amount is then computed exactly in 128-bit integers (:mod:`seatcalc.pricing.money`);
* per-customer prices: each customer is priced by its own list only (a seat type missing
  from it is unpriced, it does not fall back to another list); the list under the key
  ``"*"`` prices every customer the mapping does not name. A list holds at most one price
  per seat type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
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

from seatcalc.errors import InvalidJson, InvalidPrice, Problem, shown
from seatcalc.events import MAX_TOTAL, Text
from seatcalc.frames import ALIAS
from seatcalc.pricing.money import _decimal_places, _scale, _scaled
from seatcalc.wire import loads_json, text_problem

__all__ = [
    "CURRENCY_MINOR_UNITS",
    "EVERY_OTHER_CUSTOMER",
    "BillingType",
    "PriceList",
    "Prices",
    "ProrationStrategy",
    "SeatPrice",
    "SeatUsageTier",
    "TierMode",
    "load_prices",
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
MAX_PERIOD_DAYS = 7 * 9999
"""The longest period a schedule allows (``"9999w"``), for the exactness bound."""
MAX_DECIMAL_PLACES = 18
"""Finest money value accepted (prices and fees), for the exactness bound."""
_AMOUNT_DIGITS = 38 - MAX_MINOR_UNITS
"""A numerator must stay below ``10**_AMOUNT_DIGITS``: it fits Int128 and, once rounded
and rescaled, a ``Decimal(38, scale)`` column."""


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
