"""``/seat-events``: create (one or a batch), get by id, list a page."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Annotated, Any, cast

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from seatcalc.errors import InvalidSeatEvent, Problem
from seatcalc.events import CreateSeatEventRequest, SeatEvent
from seatcalc.ledger.pages import SeatEventPage
from seatcalc.server.deps import BATCH_LIMIT, Account, Caller, read_json
from seatcalc.server.errors import BadRequest, IdempotencyConflict
from seatcalc.server.records import IdempotencyRace, StoredResponse, fingerprint
from seatcalc.server.responses import dump, event_json, stored_events
from seatcalc.server.routes.docs import ERRORS, NOT_FOUND, WRITE_ERRORS, json_body, request_schema

__all__ = ["router"]

router = APIRouter(tags=["Seat Events"])

MAX_BATCH = 10_000
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Retries with the same key and body replay the first response and write nothing.",
    ),
]
JSON = "application/json"


def _replay(stored: StoredResponse, expected: str) -> Response:
    if stored.fingerprint != expected:
        raise IdempotencyConflict(
            "this Idempotency-Key was used for another request; use a new key for a new request",
            [("header.Idempotency-Key", "already used with another path, query or body")],
        )
    headers = {"Idempotent-Replayed": "true"}
    if stored.location:
        headers["Location"] = stored.location
    return Response(stored.body, stored.status, headers=headers, media_type=JSON)


def _write_once(
    account: Account,
    key: str | None,
    expected: str,
    write: Callable[[], None],
    respond: Callable[[list[dict[str, Any]]], StoredResponse],
) -> Response:
    """Run ``write`` (a ledger write) at most once per idempotency key; the response is
    built from the stored rows and recorded in the same transaction."""
    records = account.records
    if key is not None and (stored := records.recorded(account.account_id, key)) is not None:
        return _replay(stored, expected)

    def build(conn: sqlite3.Connection, account_key: int, first: int, last: int) -> StoredResponse:
        return respond(stored_events(conn, account_key, account.account_id, first, last))

    try:
        with records.writing(account.account_id, key, build) as made:
            write()
    except IdempotencyRace:
        stored = records.recorded(account.account_id, key or "")
        if stored is None:  # pragma: no cover - the racing record committed before we looked
            raise
        return _replay(stored, expected)
    if made:
        response = made[0]
    else:  # nothing written (an empty batch): nothing to make atomic
        response = respond([])
        if key is not None:
            records.record(account.account_id, key, response)
    headers = {"Location": response.location} if response.location else {}
    return Response(response.body, response.status, headers=headers, media_type=JSON)


def _object(payload: Any, location: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise BadRequest.at(location, f"must be a JSON object, not {type(payload).__name__}")
    return payload


@router.post(
    "/seat-events",
    status_code=201,
    operation_id="postSeatEvents",
    summary="Create a seat event",
    response_model=SeatEvent,
    responses={**ERRORS, **WRITE_ERRORS},
    openapi_extra=json_body(request_schema()),
)
async def post_seat_events(
    request: Request, account: Caller, idempotency_key: IdempotencyKey = None
) -> Response:
    """Store one seat event; 201 once it is committed to disk, with its ``id``."""
    payload = await read_json(request)
    valid = CreateSeatEventRequest.model_validate(_object(payload, "body"))
    expected = fingerprint("POST", "/seat-events", "", payload)

    def respond(items: list[dict[str, Any]]) -> StoredResponse:
        event = items[0]
        return StoredResponse(expected, 201, dump(event), f"/seat-events/{event['id']}")

    def write() -> None:
        account.ledger.create(valid)

    return await run_in_threadpool(_write_once, account, idempotency_key, expected, write, respond)


def _batch_rows(payload: Any) -> tuple[list[CreateSeatEventRequest], list[int], list[Problem]]:
    body = _object(payload, "body")
    extra = sorted(set(body) - {"items"})
    if extra:
        raise BadRequest.at(f"body.{extra[0]}", 'is not a field of a batch; send {"items": [...]}')
    items = body.get("items")
    if not isinstance(items, list):
        raise BadRequest.at("body.items", "must be a list of seat event requests")
    if len(items) > MAX_BATCH:
        raise BadRequest.at("body.items", f"holds {len(items):,} events; at most {MAX_BATCH:,} per batch")
    good: list[CreateSeatEventRequest] = []
    rejected: list[int] = []
    problems: list[Problem] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(Problem(index, "(body)", "must be a JSON object"))
            rejected.append(index)
            continue
        try:
            good.append(CreateSeatEventRequest.model_validate(item))
        except InvalidSeatEvent as error:
            problems.extend(Problem(index, p.field, p.reason, p.value) for p in error.problems)
            rejected.append(index)
    return good, rejected, problems


@router.post(
    "/seat-events/batch",
    status_code=201,
    operation_id="postSeatEventsBatch",
    summary="Create up to 10,000 seat events at once",
    responses={**ERRORS, **WRITE_ERRORS},
    openapi_extra=json_body(
        {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "maxItems": MAX_BATCH, "items": request_schema()}},
        }
    ),
)
async def post_seat_events_batch(
    request: Request,
    account: Caller,
    idempotency_key: IdempotencyKey = None,
    on_error: Annotated[str, Query(alias="onError", pattern="^(raise|skip)$")] = "raise",
) -> Response:
    """Store a batch in one transaction: all or nothing (400 naming every bad row), or with
    ``onError=skip`` the good rows, the bad ones listed under ``rejected``."""
    payload = await read_json(request, BATCH_LIMIT)
    good, rejected, problems = _batch_rows(payload)
    if problems and on_error == "raise":
        bad = f"{len(rejected)} of {len(good) + len(rejected)} events bad; nothing was written"
        raise InvalidSeatEvent.from_problems(problems, what=f"the batch ({bad})")
    expected = fingerprint("POST", "/seat-events/batch", on_error, payload)
    errors = [
        {
            "location": f"body.items[{p.row}]" + ("" if p.field == "(body)" else f".{p.field}"),
            "reason": p.reason,
        }
        for p in problems
    ]

    def respond(items: list[dict[str, Any]]) -> StoredResponse:
        body = {"items": items, "created": len(items), "rejectedRows": rejected, "errors": errors}
        return StoredResponse(expected, 201, dump(body), None)

    def write() -> None:
        if good:
            account.ledger.create_many(good)

    return await run_in_threadpool(_write_once, account, idempotency_key, expected, write, respond)


@router.get(
    "/seat-events/{id}",
    operation_id="getSeatEventsById",
    summary="Get a seat event by ID",
    response_model=SeatEvent,
    responses={**ERRORS, **NOT_FOUND},
)
def get_seat_event(id: str, account: Caller) -> Response:
    """One stored event of the caller's account (superseded versions too); 404 otherwise."""
    return Response(dump(event_json(account.ledger.get(id))), media_type=JSON)


@router.get(
    "/seat-events",
    operation_id="getSeatEvents",
    summary="List seat events",
    response_model=SeatEventPage,
    responses=ERRORS,
)
def list_seat_events(
    account: Caller,
    customer_alias: Annotated[str | None, Query(alias="customerAlias")] = None,
    seat_type: Annotated[
        str | None, Query(alias="seatType", description="Comma-separated, at most 25 seat types")
    ] = None,
    customer_event_id: Annotated[str | None, Query(alias="customerEventId")] = None,
    event_timestamp_after: Annotated[
        str | None, Query(alias="eventTimestampAfter", description="Inclusive lower bound (RFC 3339)")
    ] = None,
    event_timestamp_before: Annotated[
        str | None, Query(alias="eventTimestampBefore", description="Exclusive upper bound (RFC 3339)")
    ] = None,
    sort_order: Annotated[str, Query(alias="sortOrder", description="ASC or DESC (receipt order)")] = "DESC",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: str | None = None,
    before: str | None = None,
) -> Response:
    """A page in receipt order with the reference's filters and keyset cursors."""
    page = account.ledger.list(
        customer_alias=customer_alias,
        seat_type=None if seat_type is None else seat_type.split(","),
        customer_event_id=customer_event_id,
        event_timestamp_after=event_timestamp_after,
        event_timestamp_before=event_timestamp_before,
        sort_order=cast(Any, sort_order.upper() if isinstance(sort_order, str) else sort_order),  # ASC, DESC
        limit=limit,
        after=after,
        before=before,
    )
    return Response(page.to_json().encode(), media_type=JSON)
