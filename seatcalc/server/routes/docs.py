"""OpenAPI pieces shared by the routers: the error body and the statuses every route may give."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from seatcalc.events import CreateSeatEventRequest

__all__ = ["ERRORS", "ErrorBody", "json_body"]


class ErrorItem(BaseModel):
    location: str
    reason: str


class ErrorDetail(BaseModel):
    type: str
    message: str
    errors: list[ErrorItem] = Field(default_factory=list)


class ErrorBody(BaseModel):
    """Every error response: ``{"error": {"type", "message", "errors": [{"location", "reason"}]}}``."""

    error: ErrorDetail


_ERROR = {"model": ErrorBody}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_ERROR, "description": "Bad Request"},
    401: {**_ERROR, "description": "Unauthorized"},
    500: {**_ERROR, "description": "Internal Server Error"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {**_ERROR, "description": "Not Found"}}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {**_ERROR, "description": "Idempotency-Key reused with another request"},
    413: {**_ERROR, "description": "Body too large"},
    415: {**_ERROR, "description": "Body is not application/json"},
}


def json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` declaring a JSON request body (the route reads the body itself)."""
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}}


def request_schema() -> dict[str, Any]:
    schema: dict[str, Any] = CreateSeatEventRequest.model_json_schema(by_alias=True)
    return schema
