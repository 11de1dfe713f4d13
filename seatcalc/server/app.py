"""The app factory: routers, the version header, the request log, one error handler."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seatcalc.errors import SeatcalcError
from seatcalc.server.deps import Server
from seatcalc.server.errors import API_VERSION, UnrecognisedApiVersion, error_body, problem_body, status_of
from seatcalc.server.responses import dump
from seatcalc.server.routes import balances, billing, events, explain

__all__ = ["DB_ENV", "app_from_env", "create_app"]

DB_ENV = "SEATCALC_DB"
"""The environment variable that names the ledger file of :func:`app_from_env`."""

log = logging.getLogger("seatcalc.server")
_JSON = (b"content-type", b"application/json")
_VERSION = b"sequence-version"
_HTTP_TYPES = {401: "Unauthorized", 404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge"}


class _Edge:
    """The outermost layer: refuses unknown ``Sequence-Version`` values, echoes the header on
    every response, turns an unhandled fault into a bare 500 and logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        sent = False
        versions = [value for name, value in scope["headers"] if name == _VERSION]

        async def reply(code: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]] = ()) -> None:  # type: ignore[assignment]
            nonlocal status, sent
            payload = dump(body)
            headers = [
                _JSON,
                (b"content-length", str(len(payload)).encode()),
                (_VERSION, API_VERSION.encode()),
            ]
            await send({"type": "http.response.start", "status": code, "headers": [*headers, *extra]})
            await send({"type": "http.response.body", "body": payload})
            status, sent = code, True

        async def echo(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status, sent = message["status"], True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != _VERSION]
                message = {**message, "headers": [*headers, (_VERSION, API_VERSION.encode())]}
            await send(message)

        try:
            given = [value.decode("latin-1").strip() for value in versions]
            if any(value != API_VERSION for value in given):
                error = UnrecognisedApiVersion.for_value(", ".join(given))
                await reply(400, error_body(error))
            else:
                await self.app(scope, receive, echo)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not sent:
                await reply(
                    500, problem_body("InternalServerError", "the server failed; the error is logged")
                )
        finally:
            millis = (time.perf_counter() - started) * 1000
            log.info("%s %s %d %.1fms", scope.get("method"), scope.get("path"), status, millis)


async def _seatcalc_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, SeatcalcError)
    status = status_of(error)
    headers = {"WWW-Authenticate": 'Basic realm="seatcalc"'} if status == 401 else {}
    if status == 503:
        log.warning("ledger unavailable: %s", error)
        headers["Retry-After"] = "1"
    if status == 500:
        log.error("unexpected library error: %r", error)
        return Response(dump(problem_body("InternalServerError", "the server failed")), 500)
    return Response(dump(error_body(error)), status, headers=headers, media_type="application/json")


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    located = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()))
        located.append((where, str(item.get("msg", "is invalid"))))
    message = "; ".join(f"{where}: {reason}" for where, reason in located) or "the request is invalid"
    body = problem_body("BadRequest", message, located)
    return Response(dump(body), 400, media_type="application/json")


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    kind = _HTTP_TYPES.get(error.status_code, "HttpError")
    message = str(error.detail)
    if error.status_code == 404:
        message = f"no route {request.url.path}; see /docs for the paths of this API"
    body = problem_body(kind, message, [("path", message)] if error.status_code in (404, 405) else ())
    headers = dict(error.headers or {})
    return Response(dump(body), error.status_code, headers=headers, media_type="application/json")


def create_app(db: str | os.PathLike[str] = "seatcalc.sqlite") -> FastAPI:
    """The ASGI app serving the ledger file ``db`` (created if missing).

    The ledger, API keys and idempotency records all live in ``db``; each process that
    runs the app holds its own connections, so several workers may serve one file.
    """
    path = Path(db)
    server = Server(path)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        server.close()

    app = FastAPI(
        title="seatcalc",
        summary="Seat events in, billable seats and exact charges out.",
        version="2024-07-30",
        lifespan=lifespan,
    )
    app.state.server = server
    app.add_exception_handler(SeatcalcError, _seatcalc_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.include_router(events.router)
    app.include_router(balances.router)
    app.include_router(billing.router)
    app.include_router(explain.router)

    @app.get("/healthz", tags=["Health"], operation_id="getHealth")
    def healthz() -> dict[str, str]:
        """``{"status": "ok"}`` while the server runs (no credentials needed)."""
        return {"status": "ok"}

    app.add_middleware(_Edge)
    return app


def app_from_env() -> FastAPI:
    """:func:`create_app` on the file named by ``SEATCALC_DB`` (for ``uvicorn --factory``)."""
    return create_app(os.environ.get(DB_ENV, "seatcalc.sqlite"))
