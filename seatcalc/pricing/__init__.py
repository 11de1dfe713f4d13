"""Seat prices and the invoice lines they give (SPEC §6).

A :class:`SeatPrice` follows the seat price structure of the public API (camelCase on the
wire). :func:`price_seats` turns raw seat events, a billing schedule and prices into one
row per invoice line. Each rule lives in the module named for it:

* :mod:`seatcalc.pricing.prices`: the price model (``SeatPrice``, ``SeatUsageTier``,
  ``ProrationStrategy``, ``BillingType``, ``TierMode``), currencies and their minor units,
  which money values and tiers are accepted (the exactness bound included), reading prices
  (``load_prices``) and per-customer price lists;
* :mod:`seatcalc.pricing.money`: exact integer money: decimals as scaled Int128 integers,
  the one rounding per amount (``ROUNDING_MODES``) and the exact cast back to ``Decimal``;
* :mod:`seatcalc.pricing.lines`: the invoice lines (``price_seats``): every formula
  (strategies, minimum, tiers, billing types), the ``quantity`` and ``amount`` columns,
  ``LineType``, and the seat types left unpriced.
"""

from __future__ import annotations

from seatcalc.pricing.lines import (
    UNPRICED_POLICIES,
    LineType,
    describe_unpriced,
    price_seats,
    price_seats_and_unpriced,
    unpriced_seat_types,
)
from seatcalc.pricing.money import ROUNDING_MODES as ROUNDING_MODES
from seatcalc.pricing.prices import (
    CURRENCY_MINOR_UNITS,
    EVERY_OTHER_CUSTOMER,
    BillingType,
    PriceList,
    Prices,
    ProrationStrategy,
    SeatPrice,
    SeatUsageTier,
    TierMode,
    load_prices,
)

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
