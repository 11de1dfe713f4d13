"""Why a number is what it is: one (customer, seat type, period) taken apart (SPEC §3–§6).

:func:`explain` returns an :class:`Explanation` with

* ``segments``: the balance ``b(t)`` over ``[periodStart, periodEnd)`` as steps, each with
  the effective event that set it (``id``, ``customerEventId``, ``receivedSeq``) and the
  versions of that fact it superseded;
* ``days``: one row per local day with the day's max (``dayMax``), the running max since
  ``periodStart`` (``runMax``) and each strategy's daily quantity after the contracted
  minimum; ``Σ dayMax = seatDays`` and ``Σ runMax = incrementSeatDays``;
* ``measures``: the :func:`~seatcalc.billable_seats` row (SPEC §5), and ``lines``: the
  :func:`~seatcalc.price_seats` lines (SPEC §6) with the arithmetic behind each amount.

Nothing here decides a rule: the days come from the timeline's day view (the runs pricing
prices), the measures and lines from ``billable_seats`` and ``price_seats``, the steps from
``seat_log``. Only the events of the facts that ever touched the key are read, so a fact
moved to or from the key by a correction is resolved as it is for the whole frame.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl

from seatcalc.errors import InvalidArgument, InvalidPrice, SeatsNotFound
from seatcalc.frames import ACCOUNT, ALIAS, EVENT_ID, RECEIVED, SEAT_TYPE, STORED_ID, TIMESTAMP, TOTAL, FrameT
from seatcalc.measures import billable_seats
from seatcalc.periods import BillingSchedule
from seatcalc.pricing import EVERY_OTHER_CUSTOMER, Prices, SeatPrice, price_seats
from seatcalc.schedules import DAY, PERIOD, PERIOD_START, Schedules, schedules_from_frame
from seatcalc.supersession import SEQ, SupersedeBy, check_policy, seat_log, with_receipt_order
from seatcalc.timeline import KID, day_view

__all__ = ["STRATEGY_COLUMNS", "Explanation", "explain"]

STRATEGY_COLUMNS = {
    "USE_MAXIMUM": "useMaximum",
    "PRORATE_INCREMENTS": "prorateIncrements",
    "PRORATE_ALL_CHANGES": "prorateAllChanges",
}
"""Proration strategy → the ``days`` column holding its daily quantity ``q'_d``."""

_SUPERSEDED = pl.List(
    pl.Struct(
        {
            RECEIVED: pl.Int64,
            STORED_ID: pl.String,
            TIMESTAMP: pl.Datetime("us", "UTC"),
            ALIAS: pl.String,
            SEAT_TYPE: pl.String,
            TOTAL: pl.Int64,
        }
    )
)


@dataclass(frozen=True)
class Explanation:
    """One key and period taken apart; see :func:`explain`. Frames are eager."""

    customer_alias: str
    seat_type: str
    period_start: datetime
    period_end: datetime
    time_zone: str
    minimum: int
    segments: pl.DataFrame
    days: pl.DataFrame
    measures: pl.DataFrame
    lines: pl.DataFrame | None

    @property
    def measure(self) -> dict[str, Any]:
        """The SPEC §5 row as a dict."""
        return self.measures.row(0, named=True)

    def text(self) -> str:
        """The explanation as plain text: steps, days, measures and lines."""
        from seatcalc.explain_render import as_text

        return as_text(self)

    def html(self) -> str:
        """A self-contained HTML page: the step chart as inline SVG, the day table, the lines."""
        from seatcalc.explain_render import as_html

        return as_html(self)

    def plot(self, path: str | Path) -> Path:
        """Write the balance as a step chart to a PNG (needs matplotlib: ``seatcalc[plot]``)."""
        from seatcalc.explain_render import plot_png

        return plot_png(self, Path(path))


def _period_date(value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date | str):
        raise InvalidArgument.for_value("period_start", value, "must be a date or 'YYYY-MM-DD'")
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if len(value) == 10 else _bad_date(value)
        except ValueError:
            return _bad_date(value)
    return value


def _bad_date(value: str) -> date:
    raise InvalidArgument.for_value(
        "period_start", value, "must be a date 'YYYY-MM-DD' (the period's first day)"
    )


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidArgument.for_value(name, value, "must be a non-empty string")
    return value


def _schedule_of(schedule: Schedules, alias: str) -> BillingSchedule:
    """The customer's own schedule (a mapping or frame by customerAlias, or the one for all)."""
    if isinstance(schedule, BillingSchedule):
        return schedule
    if isinstance(schedule, pl.DataFrame):
        schedule = schedules_from_frame(schedule)
    if isinstance(schedule, Mapping) and isinstance(schedule.get(alias), BillingSchedule):
        found: BillingSchedule = schedule[alias]
        return found
    raise InvalidArgument(f"customer {alias!r} has no schedule in the schedules given; add one for it")


def _price_of(prices: Prices | None, alias: str, seat_type: str) -> SeatPrice | None:
    """The customer's price for the seat type (its own list, the "*" list, or the list for all)."""
    if prices is None:
        return None
    if isinstance(prices, pl.LazyFrame):
        prices = prices.collect()
    items: object = prices
    if isinstance(prices, pl.DataFrame):
        own = prices.filter(pl.col(ALIAS) == alias)
        if own.height == 0:
            own = prices.filter(pl.col(ALIAS) == EVERY_OTHER_CUSTOMER)
        items = [{k: v for k, v in row.items() if v is not None and k != ALIAS} for row in own.to_dicts()]
    elif isinstance(prices, Mapping):
        items = prices.get(alias, prices.get(EVERY_OTHER_CUSTOMER, []))
    if not isinstance(items, Sequence):
        raise InvalidPrice(f"prices must be a list of SeatPrice or a mapping by customerAlias, got {items!r}")
    for item in items:
        price = item if isinstance(item, SeatPrice) else SeatPrice.model_validate(item)
        if price.seat_type == seat_type:
            return price
    return None


def _touching(events: pl.DataFrame, key: pl.Expr, fact: list[str]) -> pl.DataFrame:
    """The rows of every fact that has a version on the key (and the key's id-less rows)."""
    facts = events.filter(key & pl.col(EVENT_ID).is_not_null()).select(fact).unique()
    same_fact = events.join(facts, on=fact, how="semi")
    loose = events.filter(key & pl.col(EVENT_ID).is_null())
    return pl.concat([same_fact, loose]).sort(RECEIVED)


def _not_found(events: pl.DataFrame, alias: str, seat_type: str) -> SeatsNotFound:
    customers = events[ALIAS].unique().sort().to_list()
    if alias not in customers:
        close = difflib.get_close_matches(alias, customers, n=3)
        hint = f"did you mean {close}?" if close else f"customers with events: {customers[:10]}"
        return SeatsNotFound(f"no events for customer {alias!r}; {hint}")
    types = events.filter(pl.col(ALIAS) == alias)[SEAT_TYPE].unique().sort().to_list()
    return SeatsNotFound(
        f"customer {alias!r} has no events of seat type {seat_type!r}; its seat types: {types[:10]}"
    )


def _period(schedule: BillingSchedule, first_day: date) -> tuple[datetime, datetime, date, date]:
    """``(periodStart, periodEnd, first local date, end local date)`` of the period starting
    on ``first_day``; an :class:`InvalidArgument` naming the nearest period starts otherwise."""
    dates = schedule.boundary_dates(first_day + timedelta(days=1))
    for lo, hi in itertools.pairwise(dates):
        if lo == first_day and schedule.day_starts(lo, hi):
            return schedule.day_start(lo), schedule.day_start(hi), lo, hi
    before = [d for d in dates[:-1] if d < first_day][-1:]
    after = [d for d in dates if d > first_day][:1]
    near = ", ".join(d.isoformat() for d in before + after) or schedule.start.isoformat()
    raise InvalidArgument.for_value(
        "period_start",
        first_day.isoformat(),
        f"is not the first day of a period of the {schedule.interval!r} schedule from "
        f"{schedule.start} ({schedule.time_zone}); nearest period starts: {near}",
    )


def explain(
    events: FrameT,
    schedule: Schedules,
    customer_alias: str,
    seat_type: str,
    period_start: date | str,
    *,
    prices: Prices | None = None,
    account_id: str | None = None,
    supersede_by: SupersedeBy = "eventTimestamp",
    rounding: str = ROUND_HALF_UP,
) -> Explanation:
    """Take one key's billing period apart: the balance steps and the events behind them,
    the per-day quantities, the SPEC §5 measures and (with ``prices``) the §6 lines with
    their arithmetic.

    ``period_start`` is the local date on which the period starts in the customer's
    schedule. ``events`` are raw events as for :func:`~seatcalc.billable_seats`
    (superseded versions included); without a ``receivedSeq`` column the row order is the
    receipt order and is shown as ``receivedSeq`` 0, 1, …. With ``sequenceAccountId`` in
    the events, ``account_id`` picks the account (needed when there are several).

    Raises:
        SeatsNotFound: the customer or seat type has no events (the message names the close ones).
        InvalidArgument: ``period_start`` is not the first day of a period (nearest ones named),
            the key has no billable row for that period (it starts after it), or a bad argument.

    >>> from datetime import date, datetime, UTC
    >>> events = pl.DataFrame({"customerAlias": ["acme"] * 2, "seatType": ["admin"] * 2,
    ...     "eventTimestamp": [datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 11, 12, tzinfo=UTC)],
    ...     "total": [2, 5]})
    >>> why = explain(events, BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 2, 1)),
    ...               "acme", "admin", "2025-01-01")
    >>> why.segments.select("seats", "receivedSeq").rows(), why.days["dayMax"].sum()
    ([(2, 0), (5, 1)], 125)
    """
    alias, kind = _text("customer_alias", customer_alias), _text("seat_type", seat_type)
    first_day = _period_date(period_start)
    check_policy(supersede_by)
    valid, _ = with_receipt_order(events.lazy() if isinstance(events, pl.DataFrame) else events)
    frame = valid.collect()
    if RECEIVED not in frame.columns:
        frame = frame.with_columns(pl.col(SEQ).alias(RECEIVED))
    frame = frame.drop(SEQ)
    fact = [EVENT_ID]
    key = (pl.col(ALIAS) == alias) & (pl.col(SEAT_TYPE) == kind)
    if ACCOUNT in frame.columns:
        accounts = frame[ACCOUNT].unique().sort().to_list()
        if account_id is None and len(accounts) > 1:
            raise InvalidArgument.for_value(
                "account_id", None, f"the events hold accounts {accounts[:5]}; name one"
            )
        account = account_id if account_id is not None else accounts[0] if accounts else None
        key = key & (pl.col(ACCOUNT) == account)
        fact = [ACCOUNT, EVENT_ID]
    elif account_id is not None:
        raise InvalidArgument.for_value(
            "account_id", account_id, "the events have no sequenceAccountId column"
        )
    if frame.filter(key).height == 0:
        raise _not_found(frame, alias, kind)
    touching = _touching(frame, key, fact)

    own = _schedule_of(schedule, alias)
    start, end, lo, hi = _period(own, first_day)
    until = first_day + timedelta(days=1)
    at_start = pl.col(PERIOD_START) == start
    measures = billable_seats(touching, own, until=until, supersede_by=supersede_by).filter(key & at_start)
    if measures.height == 0:
        raise InvalidArgument.for_value(
            "period_start",
            first_day.isoformat(),
            f"{alias}/{kind} has no billable row for that period: its first effective event is after "
            "the period's end, or a correction moved its events away",
        )
    measures = measures.drop([c for c in (ACCOUNT,) if c in measures.columns])
    price = _price_of(prices, alias, kind)
    minimum = 0 if price is None else price.contracted_minimum_seats
    days = _days(touching, own, until, supersede_by, key & at_start, measures.row(0, named=True), lo, hi, end)
    days = days.with_columns(
        pl.max_horizontal(pl.lit(measures["maxSeats"][0]), pl.lit(minimum)).alias("useMaximum"),
        pl.max_horizontal("runMax", pl.lit(minimum)).alias("prorateIncrements"),
        pl.max_horizontal("dayMax", pl.lit(minimum)).alias("prorateAllChanges"),
    )
    lines = None
    if prices is not None:
        lines = price_seats(touching, own, prices, until=until, supersede_by=supersede_by, rounding=rounding)
        lines = lines.filter(key & at_start).drop([c for c in (ACCOUNT,) if c in lines.columns])
        lines = _with_arithmetic(lines, price, days, measures.row(0, named=True), rounding)
    return Explanation(
        customer_alias=alias,
        seat_type=kind,
        period_start=start,
        period_end=end,
        time_zone=own.time_zone,
        minimum=minimum,
        segments=_segments(touching, key, fact, supersede_by, start, end),
        days=days,
        measures=measures,
        lines=lines,
    )


def _days(
    events: pl.DataFrame,
    schedule: BillingSchedule,
    until: date,
    supersede_by: SupersedeBy,
    wanted: pl.Expr,
    measure: dict[str, Any],
    lo: date,
    hi: date,
    end: datetime,
) -> pl.DataFrame:
    """One row per local day, from the timeline's day view: days before the period's first
    event day hold ``startSeats``; an event day its ``dayMax``/``runMax``; the ``tailDays``
    quiet days after it hold ``lastTotal`` all day and keep ``runMax``."""
    periods, event_days, _ = day_view(events.lazy(), schedule, until, supersede_by)
    period = periods.filter(wanted).select(KID, PERIOD).collect()
    runs = (
        event_days.join(period.lazy(), on=[KID, PERIOD], how="semi")
        .sort(DAY)
        .select(DAY, "dayMax", "runMax", "lastTotal", "tailDays")
        .collect()
    )
    local = schedule.day_starts(lo, hi)
    count = len(local)
    held = int(measure["startSeats"])
    day_max = [held] * count
    run_max = [held] * count
    for index, top, running, last, tail in runs.iter_rows():
        day_max[index], run_max[index] = top, running
        for quiet in range(index + 1, index + 1 + tail):
            day_max[quiet], run_max[quiet] = last, running
    starts = [instant for _, instant in local]
    return pl.DataFrame(
        {
            "day": pl.Series([d for d, _ in local], dtype=pl.Date),
            "dayStart": pl.Series(starts, dtype=pl.Datetime("us", "UTC")),
            "dayEnd": pl.Series([*starts[1:], end], dtype=pl.Datetime("us", "UTC")),
            "dayMax": pl.Series(day_max, dtype=pl.Int64),
            "runMax": pl.Series(run_max, dtype=pl.Int64),
        }
    )


def _segments(
    events: pl.DataFrame,
    key: pl.Expr,
    fact: list[str],
    supersede_by: SupersedeBy,
    start: datetime,
    end: datetime,
) -> pl.DataFrame:
    """The balance over ``[start, end)`` as steps, each with the effective event behind it
    (none for a 0 before the key's first event) and the versions that event superseded."""
    log = seat_log(events, supersede_by=supersede_by).filter(key & (pl.col(TIMESTAMP) < end))
    carried = log.filter(pl.col(TIMESTAMP) <= start).tail(1)
    inside = log.filter(pl.col(TIMESTAMP) > start)
    steps = pl.concat([carried, inside]).sort(TIMESTAMP)
    with_id = STORED_ID in events.columns
    versions = events.filter(pl.col(EVENT_ID).is_not_null()).select(
        *fact,
        pl.struct(
            pl.col(RECEIVED),
            (pl.col(STORED_ID) if with_id else pl.lit(None, pl.String)).alias(STORED_ID),
            pl.col(TIMESTAMP),
            pl.col(ALIAS),
            pl.col(SEAT_TYPE),
            pl.col(TOTAL).cast(pl.Int64),
        ).alias("__version"),
    )
    superseded = (
        steps.select(*fact, pl.col(RECEIVED).alias("__winner"))
        .filter(pl.col(EVENT_ID).is_not_null())
        .join(versions, on=fact)
        .filter(pl.col("__version").struct.field(RECEIVED) != pl.col("__winner"))
        .sort(pl.col("__version").struct.field(RECEIVED))
        .group_by("__winner", maintain_order=True)
        .agg(pl.col("__version").alias("superseded"))
    )
    steps = steps.join(superseded, left_on=RECEIVED, right_on="__winner", how="left")
    froms = [max(t, start) for t in steps[TIMESTAMP].to_list()]
    rows: list[dict[str, Any]] = []
    if not froms or froms[0] > start:
        rows.append({"from": start, "to": froms[0] if froms else end, "seats": 0})
    ids = steps[STORED_ID].to_list() if with_id else [None] * steps.height
    for index, row in enumerate(steps.iter_rows(named=True)):
        rows.append(
            {
                "from": froms[index],
                "to": froms[index + 1] if index + 1 < len(froms) else end,
                "seats": row[TOTAL],
                TIMESTAMP: row[TIMESTAMP],
                STORED_ID: ids[index],
                EVENT_ID: row[EVENT_ID],
                RECEIVED: row[RECEIVED],
                "superseded": row["superseded"] or [],
            }
        )
    instant = pl.Datetime("us", "UTC")
    schema: dict[str, pl.DataType] = {
        "from": instant,
        "to": instant,
        "seats": pl.Int64(),
        TIMESTAMP: instant,
        STORED_ID: pl.String(),
        EVENT_ID: pl.String(),
        RECEIVED: pl.Int64(),
        "superseded": _SUPERSEDED,
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


# -- the arithmetic of a line -------------------------------------------------------------------


def _exact(value: Fraction) -> str:
    """A fraction as a decimal: exact when it terminates within 10 places, else cut to 6 places and …."""
    with localcontext() as context:
        context.prec = 60
        number = Decimal(value.numerator) / Decimal(value.denominator)
    text = format(number.normalize(), "f")
    if "." in text and len(text.split(".")[1]) > 10:
        return format(number.quantize(Decimal("0.000001"), rounding=ROUND_DOWN), "f") + "…"
    return text


def _amount_terms(price: SeatPrice, quantities: list[int]) -> tuple[list[str], Fraction]:
    """The terms of SPEC §6 for daily quantities ``q'_d`` (after the minimum), and their sum."""
    days = len(quantities)
    bands = price.bands()
    peak = max(quantities, default=0)
    if price.tiers and price.tier_mode == "VOLUME":
        if peak == 0:
            return ["no seats"], Fraction(0)
        for _lo, hi, unit, fee in bands:
            if hi is None or peak <= hi:
                total = sum(quantities)
                return [f"{unit} × {total} / {days}"] + ([f"{fee}"] if fee else []), (
                    Fraction(unit) * total / days + Fraction(fee)
                )
    terms: list[str] = []
    amount = Fraction(0)
    for lo, hi, unit, _fee in bands:
        seat_days = sum(min(q, hi) - lo if hi is not None else q - lo for q in quantities if q > lo)
        if seat_days or len(bands) == 1:
            terms.append(f"{unit} × {seat_days} / {days}")
            amount += Fraction(unit) * seat_days / days
    for low, _hi, _unit, charge in bands:
        if charge and peak > low:
            terms.append(f"{charge}")
            amount += Fraction(charge)
    return terms, amount


def _with_arithmetic(
    lines: pl.DataFrame, price: SeatPrice | None, days: pl.DataFrame, measure: dict[str, Any], rounding: str
) -> pl.DataFrame:
    """Each line with ``arithmetic``: the amount written out from the day table's quantities."""
    if price is None or lines.height == 0:
        return lines.with_columns(pl.lit(None, pl.String).alias("arithmetic"))
    quantities = days[STRATEGY_COLUMNS[str(price.proration_strategy)]].to_list()
    held = max(int(measure["startSeats"]), price.contracted_minimum_seats)
    arrears_terms, arrears = _amount_terms(price, quantities)
    advance_terms, advance = _amount_terms(price, [held] * len(quantities))
    places = Decimal(1).scaleb(-price.minor_units)

    def said(terms: list[str], exact: Fraction) -> str:
        rounded = _round(exact, places, rounding)
        shown = _exact(exact)
        exactly = "…" not in shown and Decimal(shown) == rounded
        return " + ".join(terms) + (f" = {rounded}" if exactly else f" = {shown} → {rounded}")

    texts = []
    for line_type in lines["lineType"].to_list():
        if line_type == "ADVANCE":
            texts.append(f"{held} seats held at the start on every day: " + said(advance_terms, advance))
        elif line_type == "TRUE_UP":
            extra = max(Fraction(0), arrears - advance)
            texts.append(said([f"max(0, {_exact(arrears)} − {_exact(advance)})"], extra))
        else:
            texts.append(said(arrears_terms, arrears))
    return lines.with_columns(pl.Series("arithmetic", texts, dtype=pl.String))


def _round(value: Fraction, places: Decimal, rounding: str) -> Decimal:
    with localcontext() as context:
        context.prec = 80
        number = Decimal(value.numerator) / Decimal(value.denominator)
        return number.quantize(places, rounding=rounding)
