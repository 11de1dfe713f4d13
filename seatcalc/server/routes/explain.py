"""``/customers/{customerAlias}/explain``: one key and period taken apart, as an HTML page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool

from seatcalc.errors import InvalidPrice, InvalidSchedule
from seatcalc.explain import explain
from seatcalc.pricing import load_prices
from seatcalc.server.deps import Account, Caller
from seatcalc.server.errors import BadRequest
from seatcalc.server.routes.billing import _date, _schedule
from seatcalc.server.routes.docs import ERRORS

__all__ = ["router"]

router = APIRouter(tags=["Billing"])


def _page(
    account: Account,
    alias: str,
    seat_type: str,
    period_start: str,
    fields: dict[str, str | None],
    prices_json: str | None,
) -> str:
    first_day = _date("query.periodStart", period_start)
    schedule = _schedule("query.", {**fields, "start": fields["start"] or period_start})
    prices = None
    if prices_json is not None:
        try:
            prices = load_prices(prices_json)
        except InvalidPrice as error:
            raise BadRequest.at("query.prices", str(error), kind="InvalidPrice") from None
    try:
        why = explain(account.ledger.events(), schedule, alias, seat_type, first_day, prices=prices)
    except InvalidSchedule as error:
        raise BadRequest.at("query", str(error), kind="InvalidSchedule") from None
    return why.html()


@router.get(
    "/customers/{customerAlias}/explain",
    operation_id="getExplanation",
    summary="Why a number is what it is: one customer, seat type and period as an HTML page",
    responses={**ERRORS, 200: {"content": {"text/html": {}}, "description": "the page"}},
)
async def get_explanation(
    account: Caller,
    customerAlias: str,
    seat_type: Annotated[str, Query(alias="seatType")],
    period_start: Annotated[
        str, Query(alias="periodStart", description="The period's first day, YYYY-MM-DD")
    ],
    start: Annotated[
        str | None, Query(description="Schedule start (default: periodStart), YYYY-MM-DD")
    ] = None,
    interval: Annotated[str, Query(description="1mo, 3mo, 6mo, 1y, Nd or Nw")] = "1mo",
    end: Annotated[str | None, Query(description="Exclusive schedule end")] = None,
    time_zone: Annotated[str, Query(alias="timeZone", description="IANA zone of the boundaries")] = "UTC",
    prices: Annotated[
        str | None, Query(description="Seat prices as JSON text (a list, or an object by customerAlias)")
    ] = None,
) -> Response:
    """The step chart (inline SVG), the balance steps with their events, the measures, the
    lines (with ``prices``) and the day table; every text escaped, no script."""
    fields = {"start": start, "interval": interval, "end": end, "timeZone": time_zone}
    page = await run_in_threadpool(_page, account, customerAlias, seat_type, period_start, fields, prices)
    return Response(page, media_type="text/html; charset=utf-8")
