"""What changed since an invoice: a billed frame against today's events (SPEC §5 and §6).

:func:`restate` takes what was billed, a :func:`~seatcalc.billable_seats` frame or a
:func:`~seatcalc.price_seats` frame as stored at invoicing time, recomputes the same periods
from today's events (late events and corrections included) with the same function, and
returns only the rows that differ: for every measure or amount ``M`` the columns
``MBilled``, ``MNow`` and ``MDelta = MNow − MBilled``. A row billed but gone today (its
events were moved away) counts as 0 now; a row that is new today counts as 0 billed.
Integers and decimals add up exactly (``billed + delta = now``); ``averageSeats`` is a
float, so its delta is the float difference (``seatMicroseconds`` holds the exact one).

Rows are matched by key (account?, customerAlias, seatType) and ``periodStart`` (and
``lineType`` for lines); only periods from the first to the last billed ``periodStart``
are recomputed. ``events`` lists the event versions behind each changed row: every
version of a fact that has a version on the key inside the period, and the effective
event that carries the balance into it, as ``customerEventId#receivedSeq: N seats at T``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl

from seatcalc.errors import FrameSchemaError, InvalidArgument
from seatcalc.frames import ACCOUNT, ALIAS, EVENT_ID, INSTANT, RECEIVED, SEAT_TYPE, TIMESTAMP, TOTAL, FrameT
from seatcalc.measures import billable_seats
from seatcalc.pricing import Prices, price_seats
from seatcalc.schedules import PERIOD_END, PERIOD_START, Schedules
from seatcalc.supersession import SEQ, SupersedeBy, check_policy, seat_log, with_receipt_order
from seatcalc.wire import format_timestamp

__all__ = ["LINE_COLUMNS", "SEAT_COLUMNS", "read_billed", "restate"]

SEAT_COLUMNS = {
    "startSeats": pl.Int64,
    "endSeats": pl.Int64,
    "minSeats": pl.Int64,
    "maxSeats": pl.Int64,
    "averageSeats": pl.Float64,
    "days": pl.Int32,
    "seatDays": pl.Int64,
    "incrementSeatDays": pl.Int64,
    "seatMicroseconds": pl.Int128,
}
"""The measures of a billable_seats frame that are restated, with their dtypes."""

LINE_COLUMNS = ("quantity", "amount")
"""The figures of a price_seats line that are restated."""

_LINE_KEYS = ("lineType",)


def _kind(billed: pl.DataFrame) -> str:
    if "lineType" in billed.columns and "amount" in billed.columns:
        return "lines"
    if "seatDays" in billed.columns:
        return "seats"
    raise FrameSchemaError(
        "billed must be a billable_seats frame (with seatDays) or a price_seats frame "
        f"(with lineType and amount); columns: {billed.columns}"
    )


def restate(
    billed: pl.DataFrame | pl.LazyFrame,
    events: FrameT,
    schedule: Schedules,
    *,
    prices: Prices | None = None,
    supersede_by: SupersedeBy = "eventTimestamp",
    rounding: str = ROUND_HALF_UP,
) -> pl.DataFrame:
    """The rows of ``billed`` that today's ``events`` change, each with billed, now and delta.

    ``billed`` is a frame as :func:`~seatcalc.billable_seats` or (with ``prices``)
    :func:`~seatcalc.price_seats` returned it (or :func:`read_billed` read it back).
    Columns: the key, ``periodStart``, ``periodEnd`` (and ``lineType``, ``currency`` for
    lines), ``change`` (``CHANGED`` | ``ADDED`` | ``REMOVED``), then for each figure ``M``
    ``MBilled``, ``MNow``, ``MDelta``, and ``events`` (the versions behind the change).
    Sorted by key, ``periodStart`` (then ``lineType``); empty when nothing changed.

    Raises:
        FrameSchemaError: ``billed`` is neither kind of frame.
        InvalidArgument: a lines frame without ``prices``, or a bad argument.

    >>> from datetime import date, datetime, UTC
    >>> from seatcalc import BillingSchedule
    >>> t = [datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 11, 12, tzinfo=UTC)]
    >>> events = pl.DataFrame({"customerEventId": ["e1"], "customerAlias": ["acme"],
    ...     "seatType": ["admin"], "eventTimestamp": t[:1], "total": [2]})
    >>> schedule = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 2, 1))
    >>> billed = billable_seats(events, schedule)
    >>> late = pl.concat([events, pl.DataFrame({"customerEventId": ["e2"], "customerAlias": ["acme"],
    ...     "seatType": ["admin"], "eventTimestamp": t[1:], "total": [5]})])
    >>> changed = restate(billed, late, schedule)
    >>> changed.select("seatDaysBilled", "seatDaysNow", "seatDaysDelta", "events").rows()
    [(62, 125, 63, ['e1#0: 2 seats at 2025-01-01T00:00:00Z', 'e2#1: 5 seats at 2025-01-11T12:00:00Z'])]
    """
    check_policy(supersede_by)
    if isinstance(billed, pl.LazyFrame):
        billed = billed.collect()
    if not isinstance(billed, pl.DataFrame):
        raise FrameSchemaError(f"billed must be a polars DataFrame, got {type(billed).__name__}")
    kind = _kind(billed)
    if kind == "lines" and prices is None:
        raise InvalidArgument.for_value(
            "prices", None, "a billed price_seats frame is restated against prices"
        )
    frame = with_receipt_order(events.lazy() if isinstance(events, pl.DataFrame) else events)[0].collect()
    if RECEIVED not in frame.columns:
        frame = frame.with_columns(pl.col(SEQ).alias(RECEIVED))
    frame = frame.drop(SEQ)
    keys: list[str] = [c for c in (ACCOUNT, ALIAS, SEAT_TYPE) if c in billed.columns]
    first, last = billed[PERIOD_START].min(), billed[PERIOD_START].max()
    if not isinstance(first, datetime) or not isinstance(last, datetime):
        return _empty(billed, keys, kind)
    until = last + timedelta(microseconds=1)  # the periods that start by the last one billed
    if kind == "seats":
        now = billable_seats(frame, schedule, until=until, supersede_by=supersede_by)
        figures = [c for c in SEAT_COLUMNS if c in billed.columns]
        match = [*keys, PERIOD_START]
    else:
        now = price_seats(frame, schedule, prices, until=until, supersede_by=supersede_by, rounding=rounding)  # type: ignore[arg-type]
        figures = list(LINE_COLUMNS)
        match = [*keys, PERIOD_START, *_LINE_KEYS]
    now = now.filter(pl.col(PERIOD_START) >= first)
    carried = [PERIOD_END] + (["currency"] if kind == "lines" else [])
    left = billed.select(*match, *carried, *figures).with_columns(pl.lit(True).alias("__billed"))
    right = now.select(*match, *carried, *figures).with_columns(pl.lit(True).alias("__now"))
    joined = left.join(right, on=match, how="full", coalesce=True, suffix="__now")
    columns = []
    changed = []
    for name in figures:
        dtype = right.schema[name]
        was = pl.col(name).cast(dtype).fill_null(_zero(dtype))
        is_ = pl.col(f"{name}__now").fill_null(_zero(dtype))
        delta = is_ - was
        columns += [was.alias(f"{name}Billed"), is_.alias(f"{name}Now"), delta.alias(f"{name}Delta")]
        changed.append(delta != 0)
    present = pl.col("__billed").fill_null(False), pl.col("__now").fill_null(False)
    change = (
        pl.when(~present[0])
        .then(pl.lit("ADDED"))
        .when(~present[1])
        .then(pl.lit("REMOVED"))
        .otherwise(pl.lit("CHANGED"))
    )
    out = (
        joined.with_columns(
            *(pl.coalesce(c, f"{c}__now").alias(c) for c in carried),
        )
        .filter(pl.any_horizontal(*changed) | (present[0] != present[1]))
        .select(
            *match[:-1] if kind == "lines" else match,
            PERIOD_END,
            *_tail(kind),
            change.alias("change"),
            *columns,
        )
        .sort(match)
    )
    return out.with_columns(_causes(out, frame, keys, supersede_by).alias("events"))


def _tail(kind: str) -> list[str]:
    return ["lineType", "currency"] if kind == "lines" else []


def _zero(dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Decimal):
        return pl.lit(Decimal(0)).cast(dtype)
    return pl.lit(0).cast(dtype)


def _empty(billed: pl.DataFrame, keys: list[str], kind: str) -> pl.DataFrame:
    figures = [c for c in SEAT_COLUMNS if c in billed.columns] if kind == "seats" else list(LINE_COLUMNS)
    schema: dict[str, pl.DataType] = {k: pl.String() for k in keys}
    schema |= {PERIOD_START: INSTANT, PERIOD_END: INSTANT}
    schema |= {c: pl.String() for c in _tail(kind)} | {"change": pl.String()}
    for name in figures:
        dtype = billed.schema[name]
        schema |= {f"{name}Billed": dtype, f"{name}Now": dtype, f"{name}Delta": dtype}
    return pl.DataFrame(schema=schema | {"events": pl.List(pl.String)})


def _label(row: dict[str, object]) -> str:
    name = row[EVENT_ID] or ""
    stamp = row[TIMESTAMP]
    at = format_timestamp(stamp) if stamp is not None else "?"  # type: ignore[arg-type]
    return f"{name}#{row[RECEIVED]}: {row[TOTAL]} seats at {at}"


def _causes(
    changed: pl.DataFrame, events: pl.DataFrame, keys: list[str], supersede_by: SupersedeBy
) -> pl.Series:
    """Per changed row: every version of a fact with a version on the key inside the period,
    and the effective event carrying the balance into the period, in receipt order."""
    if changed.height == 0:
        return pl.Series("events", [], dtype=pl.List(pl.String))
    fact = [c for c in (ACCOUNT, EVENT_ID) if c in events.columns]
    event_keys = [c for c in keys if c in events.columns]
    rows = changed.select(*keys, PERIOD_START, PERIOD_END).unique().with_row_index("__row")
    inside = rows.join(events, on=event_keys).filter(
        (pl.col(TIMESTAMP) >= pl.col(PERIOD_START)) & (pl.col(TIMESTAMP) < pl.col(PERIOD_END))
    )
    log = seat_log(events, supersede_by=supersede_by)
    before = (
        rows.join(log, on=event_keys)
        .filter(pl.col(TIMESTAMP) < pl.col(PERIOD_START))
        .sort(TIMESTAMP)
        .group_by("__row")
        .agg(pl.col(RECEIVED).last())
    )
    carry = before.join(events, on=RECEIVED)
    seeds = pl.concat([inside.select("__row", *fact, RECEIVED), carry.select("__row", *fact, RECEIVED)])
    with_id = seeds.filter(pl.col(EVENT_ID).is_not_null()).select("__row", *fact).unique()
    versions = with_id.join(events, on=fact).select("__row", RECEIVED)
    loose = seeds.filter(pl.col(EVENT_ID).is_null()).select("__row", RECEIVED)
    shown = pl.concat([versions, loose]).unique().join(events, on=RECEIVED).sort("__row", RECEIVED)
    labels: dict[int, list[str]] = {}
    for row in shown.iter_rows(named=True):
        labels.setdefault(row["__row"], []).append(_label(row))
    index = changed.join(rows, on=[*keys, PERIOD_START, PERIOD_END], how="left", maintain_order="left")[
        "__row"
    ]
    return pl.Series("events", [labels.get(r, []) for r in index.to_list()], dtype=pl.List(pl.String))


# -- reading a billed file back ------------------------------------------------------------------

_INSTANTS = (PERIOD_START, PERIOD_END, "chargedAt")


def read_billed(path: str | Path) -> pl.DataFrame:
    """A billed frame written by ``seatcalc bill|charges --out FILE`` (``.csv``, ``.json``,
    ``.ndjson``, ``.parquet``), with the dtypes the library gave it: instants as UTC
    Datetimes, counts as integers, ``quantity`` and ``amount`` as Decimals.

    Raises:
        InvalidArgument: the file cannot be read or is not a billed frame.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pl.read_parquet(file)
        elif suffix == ".csv":
            frame = pl.read_csv(file, infer_schema=False)
        elif suffix in (".json", ".ndjson", ".jsonl"):
            text = file.read_text(encoding="utf-8")
            rows = (
                json.loads(text)
                if suffix == ".json"
                else [json.loads(x) for x in text.splitlines() if x.strip()]
            )
            frame = pl.DataFrame(
                [{k: None if v is None else str(v) for k, v in row.items()} for row in rows],
                infer_schema_length=None,
            )
        else:
            raise InvalidArgument.for_value(
                "--billed", str(path), "the file name must end in .csv, .json, .ndjson or .parquet"
            )
    except (OSError, ValueError, pl.exceptions.PolarsError) as error:
        if isinstance(error, InvalidArgument):
            raise
        raise InvalidArgument(f"cannot read the billed file {str(path)!r}: {error}") from None
    try:
        return _typed(frame)
    except pl.exceptions.PolarsError as error:
        raise InvalidArgument(
            f"the billed file {str(path)!r} has a bad value: {str(error).splitlines()[0]}"
        ) from None


def _typed(frame: pl.DataFrame) -> pl.DataFrame:
    casts = []
    for name, dtype in frame.schema.items():
        if name in _INSTANTS and dtype == pl.String:
            casts.append(
                pl.col(name).str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_zone="UTC", time_unit="us")
            )
        elif name in SEAT_COLUMNS and dtype == pl.String:
            casts.append(pl.col(name).cast(SEAT_COLUMNS[name]))
        elif name in LINE_COLUMNS and dtype == pl.String:
            casts.append(pl.col(name).str.to_decimal(scale=6 if name == "quantity" else _scale(frame[name])))
    typed = frame.with_columns(casts)
    _kind(typed)
    return typed


def _scale(values: pl.Series) -> int:
    return max((len(v.split(".")[1]) for v in values.drop_nulls().to_list() if "." in v), default=0)
