"""``/seat-balances``: the balance of every customer and seat type, now or at an instant."""

from __future__ import annotations

from typing import Annotated

import polars as pl
from fastapi import APIRouter, Query, Response

from seatcalc.server.deps import Caller
from seatcalc.server.responses import customer_balances, dump
from seatcalc.server.routes.docs import ERRORS

__all__ = ["router"]

router = APIRouter(tags=["Seat Balances"])


@router.get(
    "/seat-balances",
    operation_id="getSeatBalances",
    summary="List seat balances by customer",
    responses=ERRORS,
)
def get_seat_balances(
    account: Caller,
    exclude_zero_quantity: Annotated[bool, Query(alias="excludeZeroQuantity")] = False,
    customer_aliases: Annotated[
        str | None, Query(alias="customerAliases", description="Comma-separated customer aliases")
    ] = None,
    customer_ids: Annotated[
        str | None, Query(alias="customerIds", description="Comma-separated; a customer's id is its alias")
    ] = None,
    at: Annotated[
        str | None, Query(description="An instant (RFC 3339): balances as of then; default: now")
    ] = None,
) -> Response:
    """The reference's ``CustomerSeatBalances`` items (one page holds every customer)."""
    balances = account.ledger.balances(at)
    wanted = {
        alias for text in (customer_aliases, customer_ids) if text is not None for alias in text.split(",")
    }
    if customer_aliases is not None or customer_ids is not None:
        balances = balances.filter(pl.col("customerAlias").is_in(sorted(wanted)))
    items = customer_balances(balances, exclude_zero=exclude_zero_quantity)
    pagination = {"after": None, "before": None, "totalResultSize": len(items)}
    return Response(dump({"items": items, "pagination": pagination}), media_type="application/json")
