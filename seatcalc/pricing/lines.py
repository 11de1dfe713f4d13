"""Invoice lines: seat events, a billing schedule and prices in, one row per line out (SPEC §6).

:func:`price_seats` turns raw seat events, a billing schedule and prices
(:mod:`seatcalc.pricing.prices`) into one row per invoice line. The rules, for one
(key, period) of ``D`` local days:

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
* a key with periods but no price in its customer's list (per-customer lists:
  :mod:`seatcalc.pricing.prices`) is *unpriced*: no lines (``unpriced="skip"``) or an
  error (``unpriced="error"``).

How it runs: the day-level view of :func:`seatcalc.timeline.day_view` gives each
day's quantity as runs (value, days) without a row per day; per line, the integer sums
``Σ count·(clip(q', lo_t, hi_t) − lo_t)`` per tier and the peak are computed in polars with
exact integers, from a price table of integers (one row per priced seat type). Money stays
exact scaled Int128 integers, rounded once per line (:mod:`seatcalc.pricing.money`). Never a
Python loop per line: a LazyFrame in gives a LazyFrame out.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

import polars as pl

from seatcalc.errors import InvalidArgument, InvalidPrice
from seatcalc.frames import ALIAS, SEAT_TYPE, FrameT, eager_or_lazy
from seatcalc.periods import Until
from seatcalc.pricing.money import ROUNDING_MODES, _divide, _int128, _scale, _scaled, _to_decimal
from seatcalc.pricing.prices import (
    _LIST,
    BillingType,
    Prices,
    ProrationStrategy,
    TierMode,
    _price_book,
    _PriceBook,
)
from seatcalc.schedules import DAY, DAYS, PERIOD, PERIOD_END, PERIOD_START, Schedules
from seatcalc.supersession import SupersedeBy, check_policy
from seatcalc.timeline import KID, day_view

__all__ = [
    "UNPRICED_POLICIES",
    "LineType",
    "describe_unpriced",
    "price_seats",
    "price_seats_and_unpriced",
    "unpriced_seat_types",
]


class LineType(StrEnum):
    """The kind of an invoice line (its sort order within a period is ADVANCE, ARREARS,
    TRUE_UP)."""

    ADVANCE = "ADVANCE"
    ARREARS = "ARREARS"
    TRUE_UP = "TRUE_UP"


QUANTITY_PLACES = 6
"""Decimal places of the ``quantity`` column."""
_UNBOUNDED = 1 << 62  # above every seat count: the upper bound of the last tier
UNPRICED_POLICIES = ("skip", "error")


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
# Amounts on expressions: seats in a band, the exact numerator
# ---------------------------------------------------------------------------


def _in_band(seats: pl.Expr, k: int) -> pl.Expr:
    """How many of seat numbers 1..seats fall in band k: ``clip(seats, lo, hi) − lo``."""
    return seats.clip(pl.col(_lo(k)), pl.col(_hi(k))) - pl.col(_lo(k))


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


# ---------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------

_ARREARS_N = "__arrears"
_ADVANCE_N = "__advanceN"
_SEAT_DAYS = "__seatDays"
_HELD = "__held"


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
    >>> from seatcalc import BillingSchedule, SeatPrice
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
    >>> from seatcalc import BillingSchedule, SeatPrice
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
