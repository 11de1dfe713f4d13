"""Exact integer money: decimal prices as scaled Int128 integers, rounded once (SPEC §6).

Money never passes through a float. A price is computed at its scale ``s``
(:func:`_scale`: its finest money value, or its currency's minor unit ``m`` when coarser):
each price and fee is an exact integer count of ``10^-s`` units (:func:`_scaled`), and
every amount stays in polars as one exact Int128 fraction ``numerator / (10^(s−m) × D)``
in minor units ``10^-m``, rounded once with the chosen :mod:`decimal` mode (one of
:data:`ROUNDING_MODES`; amounts are never negative, so FLOOR is DOWN and CEILING is UP;
:func:`_divide`), then cast to ``Decimal`` exactly (:func:`_to_decimal`). The bound that
keeps every numerator within 128 bits is checked when a price is made
(:mod:`seatcalc.pricing.prices`).
"""

from __future__ import annotations

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
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from seatcalc.pricing.prices import SeatPrice

__all__ = ["ROUNDING_MODES"]

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


# ---------------------------------------------------------------------------
# Exact integer arithmetic on expressions
# ---------------------------------------------------------------------------


def _int128(value: int) -> pl.Expr:
    return pl.lit(value, dtype=pl.Int128)


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


def _to_decimal(units: pl.Expr, scale: int) -> pl.Expr:
    """Integer units of ``10^-scale`` → ``Decimal(38, scale)``, exactly."""
    whole = units.cast(pl.Decimal(38, 0))
    if scale == 0:
        return whole
    return whole * pl.lit(Decimal(1).scaleb(-scale), dtype=pl.Decimal(38, scale))
