"""``/billable-seats`` and ``/charges``: the core's §5 rows and §6 lines over the ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from seatcalc.errors import InvalidPrice, InvalidSchedule
from seatcalc.events import parse_timestamp
from seatcalc.measures import billable_seats
from seatcalc.periods import BillingSchedule
from seatcalc.pricing import ROUNDING_MODES, SeatPrice, price_seats
from seatcalc.server.deps import Account, Caller, read_json
from seatcalc.server.errors import BadRequest
from seatcalc.server.responses import dump, frame_items
from seatcalc.server.routes.docs import ERRORS, WRITE_ERRORS, json_body

__all__ = ["router"]

router = APIRouter(tags=["Billing"])
JSON = "application/json"


def _date(location: str, value: object) -> date:
    if not isinstance(value, str):
        raise BadRequest.at(location, "must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest.at(location, f"{value!r} is not a date YYYY-MM-DD") from None


def _until(location: str, value: object) -> date | datetime | None:
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 10:
        return _date(location, value)
    try:
        return parse_timestamp(value)
    except ValueError as error:
        raise BadRequest.at(location, f"a date or an instant: {value!r} {error}") from None


def _schedule(prefix: str, fields: dict[str, Any]) -> BillingSchedule:
    start = _date(f"{prefix}start", fields.get("start"))
    end = None if fields.get("end") is None else _date(f"{prefix}end", fields.get("end"))
    interval, zone = fields.get("interval", "1mo"), fields.get("timeZone", "UTC")
    for name, value in (("interval", interval), ("timeZone", zone)):
        if not isinstance(value, str):
            raise BadRequest.at(f"{prefix}{name}", "must be a string", kind="InvalidSchedule")
    try:
        return BillingSchedule(start, interval, zone, end)
    except InvalidSchedule as error:
        raise BadRequest.at(prefix.rstrip(".") or "query", str(error), kind="InvalidSchedule") from None


def _events(account: Account, customer_alias: str | None) -> pl.DataFrame:
    events = account.ledger.events()
    if customer_alias is not None:
        events = events.filter(pl.col("customerAlias") == customer_alias)
    return events.drop("id")


def _rows(frame: pl.DataFrame, as_text: tuple[str, ...] = ()) -> bytes:
    return dump({"items": frame_items(frame, as_text=as_text)})


@router.get(
    "/billable-seats",
    operation_id="getBillableSeats",
    summary="Billable seats per customer, seat type and period",
    responses=ERRORS,
)
def get_billable_seats(
    account: Caller,
    start: Annotated[str, Query(description="First period start, YYYY-MM-DD")],
    interval: Annotated[str, Query(description="1mo, 3mo, 6mo, 1y, Nd or Nw")] = "1mo",
    end: Annotated[str | None, Query(description="Exclusive end date; a period boundary")] = None,
    until: Annotated[
        str | None, Query(description="Keep periods starting before this date or instant")
    ] = None,
    time_zone: Annotated[str, Query(alias="timeZone", description="IANA zone of the boundaries")] = "UTC",
    customer_alias: Annotated[str | None, Query(alias="customerAlias")] = None,
) -> Response:
    """SPEC §5 rows of the caller's events; ``seatMicroseconds`` is a decimal string."""
    schedule = _schedule("query.", {"start": start, "interval": interval, "end": end, "timeZone": time_zone})
    cut = _until("query.until", until)
    try:
        seats = billable_seats(_events(account, customer_alias), schedule, until=cut)
    except InvalidSchedule as error:
        raise BadRequest.at("query", str(error), kind="InvalidSchedule") from None
    return Response(_rows(seats, ("seatMicroseconds",)), media_type=JSON)


_PRICE_SCHEMA: dict[str, Any] = {"type": "object", "required": ["seatType", "currency"]}
_CHARGES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["schedule", "prices"],
    "properties": {
        "schedule": {
            "type": "object",
            "required": ["start"],
            "properties": {
                "start": {"type": "string", "format": "date"},
                "interval": {"type": "string"},
                "timeZone": {"type": "string"},
                "end": {"type": "string", "format": "date"},
                "until": {"type": "string"},
            },
        },
        "prices": {"type": "array", "items": _PRICE_SCHEMA},
        "customerAlias": {"type": "string"},
        "rounding": {"type": "string", "enum": list(ROUNDING_MODES)},
    },
}


def _prices(value: object) -> list[SeatPrice]:
    if not isinstance(value, list):
        raise BadRequest.at("body.prices", "must be a list of seat prices", kind="InvalidPrice")
    prices = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise BadRequest.at(f"body.prices[{index}]", "must be a JSON object", kind="InvalidPrice")
        try:
            prices.append(SeatPrice.model_validate(item))
        except InvalidPrice as error:
            raise BadRequest.at(f"body.prices[{index}]", str(error), kind="InvalidPrice") from None
    return prices


def _charges(account: Account, body: dict[str, Any]) -> bytes:
    extra = sorted(set(body) - set(_CHARGES_SCHEMA["properties"]))
    if extra:
        raise BadRequest.at(f"body.{extra[0]}", "is not a field of a charges request")
    fields = body.get("schedule")
    if not isinstance(fields, dict):
        raise BadRequest.at("body.schedule", "must be an object {start, interval, timeZone, end or until}")
    schedule = _schedule("body.schedule.", fields)
    cut = _until("body.schedule.until", fields.get("until"))
    prices = _prices(body.get("prices"))
    alias = body.get("customerAlias")
    if alias is not None and not isinstance(alias, str):
        raise BadRequest.at("body.customerAlias", "must be a string")
    rounding = body.get("rounding", "ROUND_HALF_UP")
    if rounding not in ROUNDING_MODES:
        raise BadRequest.at("body.rounding", f"must be one of {', '.join(ROUNDING_MODES)}")
    try:
        lines = price_seats(_events(account, alias), schedule, prices, until=cut, rounding=rounding)
    except InvalidSchedule as error:
        raise BadRequest.at("body.schedule", str(error), kind="InvalidSchedule") from None
    except InvalidPrice as error:
        raise BadRequest.at("body.prices", str(error), kind="InvalidPrice") from None
    return _rows(lines)


@router.post(
    "/charges",
    operation_id="postCharges",
    summary="Price the caller's seats: SPEC §6 invoice lines",
    responses={**ERRORS, **WRITE_ERRORS},
    openapi_extra=json_body(_CHARGES_SCHEMA),
)
async def post_charges(request: Request, account: Caller) -> Response:
    """Invoice lines for a schedule and a list of ``SeatPrice``; amounts are decimal strings.
    Nothing is stored, so the request is safe to repeat."""
    payload = await read_json(request)
    if not isinstance(payload, dict):
        raise BadRequest.at("body", "must be a JSON object {schedule, prices}")
    return Response(await run_in_threadpool(_charges, account, payload), media_type=JSON)
