"""The wire models (SPEC §1): seed payloads round-trip, every bad input is named.

Expected values are read off the seed documents (`/work/shared/seeds/*.md`) or worked out by
hand in the comment beside them.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from seatcalc import CreateSeatEventRequest, InvalidSeatEvent, SeatcalcError, SeatEvent

# The example request body of "Create a seat event" (POST /seat-events), verbatim.
SEED_REQUEST: dict[str, Any] = {
    "customerEventId": "event-id-H4twuTWpYx1rkd8OMTki2hTUcZ",
    "customerAlias": "customer-id-2H4u5BBwBWsS5V2sroRFqJfTXpW",
    "seatType": "admin",
    "eventTimestamp": "2022-10-01T00:00:00Z",
    "total": 1,
}

# The example 201 / GET body (a stored SeatEvent), verbatim.
SEED_RESPONSE: dict[str, Any] = {
    "id": "0184421a-8202-70ea-a729-30308a40bbf7",
    "customerEventId": "event-id-H4twuTWpYx1rkd8OMTki2hTUcZ",
    "customerAlias": "customer-id-2H4u5BBwBWsS5V2sroRFqJfTXpW",
    "seatType": "admin",
    "sequenceAccountId": "0184421e-a9cc-711b-af93-bf0511d4d833",
    "eventTimestamp": "2022-10-01T00:00:00Z",
    "total": 1,
}

TEXT_FIELDS = ["customerEventId", "customerAlias", "seatType"]
REQUIRED_FIELDS = ["customerAlias", "seatType", "eventTimestamp", "total"]


def request(**changes: Any) -> dict[str, Any]:
    """The seed request with some fields replaced (a value of ``...`` removes the field)."""
    body = dict(SEED_REQUEST)
    for name, value in changes.items():
        if value is ...:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def rejected(body: dict[str, Any], model: type[Any] = CreateSeatEventRequest) -> InvalidSeatEvent:
    """Validate ``body`` both as a Python dict and as JSON; both must raise the same way."""
    with pytest.raises(InvalidSeatEvent) as from_python:
        model.model_validate(body)
    with pytest.raises(InvalidSeatEvent) as from_json:
        model.model_validate_json(json.dumps(body))
    assert isinstance(from_python.value, ValueError)
    assert isinstance(from_python.value, SeatcalcError)
    assert str(from_python.value) == str(from_json.value)
    return from_python.value


def assert_names(error: InvalidSeatEvent, *fields: str) -> None:
    message = str(error)
    for field in fields:
        assert field in message, f"{field!r} not named in {message!r}"
    assert {p.field for p in error.problems} >= set(fields)


# --- round trips of the seed payloads ---------------------------------------


def test_seed_request_round_trips_to_the_same_json() -> None:
    model = CreateSeatEventRequest.model_validate_json(json.dumps(SEED_REQUEST))
    out = json.loads(model.to_json())
    assert out == SEED_REQUEST
    assert list(out) == list(SEED_REQUEST)  # same field order as the seed
    assert model.model_dump(by_alias=True, mode="json") == SEED_REQUEST


def test_seed_response_round_trips_to_the_same_json() -> None:
    model = SeatEvent.model_validate_json(json.dumps(SEED_RESPONSE))
    out = json.loads(model.to_json())
    assert out == SEED_RESPONSE
    assert list(out) == list(SEED_RESPONSE)
    assert model.model_dump(by_alias=True, mode="json") == SEED_RESPONSE
    # And from a Python dict, too.
    assert SeatEvent.model_validate(SEED_RESPONSE).model_dump(by_alias=True, mode="json") == SEED_RESPONSE


def test_attributes_are_snake_case() -> None:
    model = SeatEvent.model_validate(SEED_RESPONSE)
    assert model.id == "0184421a-8202-70ea-a729-30308a40bbf7"
    assert model.customer_event_id == "event-id-H4twuTWpYx1rkd8OMTki2hTUcZ"
    assert model.customer_alias == "customer-id-2H4u5BBwBWsS5V2sroRFqJfTXpW"
    assert model.seat_type == "admin"
    assert model.sequence_account_id == "0184421e-a9cc-711b-af93-bf0511d4d833"
    assert model.event_timestamp == datetime(2022, 10, 1, tzinfo=UTC)
    assert model.event_timestamp.utcoffset() == timedelta(0)
    assert model.total == 1
    req = CreateSeatEventRequest.model_validate(SEED_REQUEST)
    assert (req.customer_alias, req.seat_type, req.total) == (
        "customer-id-2H4u5BBwBWsS5V2sroRFqJfTXpW",
        "admin",
        1,
    )


def test_snake_case_keyword_construction_gives_the_seed_json() -> None:
    snake: dict[str, Any] = {
        "customer_event_id": "event-id-H4twuTWpYx1rkd8OMTki2hTUcZ",
        "customer_alias": "customer-id-2H4u5BBwBWsS5V2sroRFqJfTXpW",
        "seat_type": "admin",
        "event_timestamp": "2022-10-01T00:00:00Z",
        "total": 1,
    }
    req = CreateSeatEventRequest(**snake)
    assert json.loads(req.to_json()) == SEED_REQUEST


# --- customerEventId generation ---------------------------------------------


@pytest.mark.parametrize("value", [..., None], ids=["missing", "null"])
def test_missing_or_null_customer_event_id_gets_a_uuid(value: Any) -> None:
    first = CreateSeatEventRequest.model_validate(request(customerEventId=value))
    second = CreateSeatEventRequest.model_validate_json(json.dumps(request(customerEventId=value)))
    for model in (first, second):
        assert str(uuid.UUID(model.customer_event_id)) == model.customer_event_id
        assert json.loads(model.to_json())["customerEventId"] == model.customer_event_id
    assert first.customer_event_id != second.customer_event_id  # a fresh one each time


def test_generated_customer_event_id_is_not_used_when_given() -> None:
    model = CreateSeatEventRequest.model_validate(request(customerEventId="mine"))
    assert model.customer_event_id == "mine"


# --- timestamps ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "instant", "written"),
    [
        # +02:00: 02:00 local is 00:00 UTC.
        ("2022-10-01T02:00:00+02:00", datetime(2022, 10, 1, tzinfo=UTC), "2022-10-01T00:00:00Z"),
        # -04:00: Sep 30 20:00 local is Oct 1 00:00 UTC (crosses the date).
        ("2022-09-30T20:00:00-04:00", datetime(2022, 10, 1, tzinfo=UTC), "2022-10-01T00:00:00Z"),
        # +05:45 (Nepal): 05:45 local is 00:00 UTC.
        ("2022-10-01T05:45:00+05:45", datetime(2022, 10, 1, tzinfo=UTC), "2022-10-01T00:00:00Z"),
        ("2022-10-01T00:00:00+00:00", datetime(2022, 10, 1, tzinfo=UTC), "2022-10-01T00:00:00Z"),
        # Microseconds are kept, written with six digits.
        (
            "2022-10-01T00:00:00.123456Z",
            datetime(2022, 10, 1, 0, 0, 0, 123456, tzinfo=UTC),
            "2022-10-01T00:00:00.123456Z",
        ),
        (
            "2022-10-01T00:00:00.000001Z",
            datetime(2022, 10, 1, 0, 0, 0, 1, tzinfo=UTC),
            "2022-10-01T00:00:00.000001Z",
        ),
        # .5 s = 500 000 µs → ".500000".
        (
            "2022-10-01T01:00:00.5+01:00",
            datetime(2022, 10, 1, 0, 0, 0, 500000, tzinfo=UTC),
            "2022-10-01T00:00:00.500000Z",
        ),
        # A zero fraction is not written.
        ("2022-10-01T00:00:00.000000Z", datetime(2022, 10, 1, tzinfo=UTC), "2022-10-01T00:00:00Z"),
        # The edges of the accepted range.
        ("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC), "1970-01-01T00:00:00Z"),
        (
            "9999-12-31T23:59:59.999999Z",
            datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            "9999-12-31T23:59:59.999999Z",
        ),
    ],
)
def test_timestamps_are_utc_instants_written_with_z(given: str, instant: datetime, written: str) -> None:
    model = CreateSeatEventRequest.model_validate_json(json.dumps(request(eventTimestamp=given)))
    assert model.event_timestamp == instant
    assert model.event_timestamp.utcoffset() == timedelta(0)
    assert json.loads(model.to_json())["eventTimestamp"] == written
    assert model.model_dump(by_alias=True, mode="json")["eventTimestamp"] == written


def test_aware_python_datetime_is_accepted_and_normalised() -> None:
    # 12:30 at +05:30 is 07:00 UTC.
    given = datetime(2024, 2, 29, 12, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    model = CreateSeatEventRequest.model_validate(request(eventTimestamp=given))
    assert model.event_timestamp == datetime(2024, 2, 29, 7, 0, tzinfo=UTC)
    assert json.loads(model.to_json())["eventTimestamp"] == "2024-02-29T07:00:00Z"


def test_naive_python_datetime_is_rejected() -> None:
    with pytest.raises(InvalidSeatEvent, match="eventTimestamp"):
        CreateSeatEventRequest.model_validate(request(eventTimestamp=datetime(2024, 2, 29, 12)))


# --- rejected inputs, one field at a time -----------------------------------


@pytest.mark.parametrize("field", TEXT_FIELDS)
@pytest.mark.parametrize(
    "value",
    ["", "x" * 257, "a\nb", "tab\there", "nul\x00", "\x1f", "del\x7f", "c1\x85"],
    ids=["empty", "257-chars", "newline", "tab", "nul", "unit-sep", "del", "nel"],
)
def test_bad_text_is_rejected_naming_the_field(field: str, value: str) -> None:
    error = rejected(request(**{field: value}))
    assert_names(error, field)
    assert len(error.problems) == 1


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_text_limits_are_inclusive(field: str) -> None:
    # 1 and 256 characters are fine; 256 non-ASCII characters (512 UTF-8 bytes) too.
    for value in ("x", "x" * 256, "é" * 256):
        model = CreateSeatEventRequest.model_validate(request(**{field: value}))
        assert json.loads(model.to_json())[field] == value


@pytest.mark.parametrize("field", ["customerAlias", "seatType", "customerEventId"])
def test_non_string_text_is_rejected(field: str) -> None:
    assert_names(rejected(request(**{field: 123})), field)


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
def test_missing_required_field_is_rejected(field: str) -> None:
    error = rejected(request(**{field: ...}))
    assert_names(error, field)
    assert len(error.problems) == 1


def test_unknown_field_is_rejected() -> None:
    error = rejected(request(quantity=3))
    assert_names(error, "quantity")


@pytest.mark.parametrize(
    "value",
    [
        "2022-10-01T00:00:00",  # naive
        "2022-10-01T00:00:00.123456",  # naive, with a fraction
        "2022-10-01",  # date only
        "1969-12-31T23:59:59Z",  # year 1969
        "1969-06-01T00:00:00+00:00",
        "10000-01-01T00:00:00Z",  # year 10000
        "yesterday",  # unparsable
        "2022-13-01T00:00:00Z",  # month 13
        "2022-02-30T00:00:00Z",  # Feb 30
        "2022-10-01T25:00:00Z",  # hour 25
        "",
        "2022-10-01T00:00:00.1234567Z",  # sub-microsecond precision
        "2022-10-01T00:00:00.000000001Z",
        1664582400,  # a Unix number is not an ISO 8601 string
        None,
    ],
)
def test_bad_event_timestamp_is_rejected(value: Any) -> None:
    error = rejected(request(eventTimestamp=value))
    assert_names(error, "eventTimestamp")
    assert len(error.problems) == 1


@pytest.mark.parametrize(
    "value",
    [-1, 1.0, 1.5, "1", True, False, None, 2_147_483_648, -2_147_483_648],
    ids=["negative", "float-1.0", "float-1.5", "string", "true", "false", "null", "2**31", "-2**31"],
)
def test_bad_total_is_rejected(value: Any) -> None:
    error = rejected(request(total=value))
    assert_names(error, "total")
    assert len(error.problems) == 1


def test_total_float_literal_in_json_is_rejected() -> None:
    # json.dumps(1.0) is "1.0"; also check the raw text form, so no float sneaks through.
    body = json.dumps(SEED_REQUEST).replace('"total": 1', '"total": 1.0')
    assert '"total": 1.0' in body
    with pytest.raises(InvalidSeatEvent, match="total"):
        CreateSeatEventRequest.model_validate_json(body)


@pytest.mark.parametrize("value", [0, 2_147_483_647])
def test_total_limits_are_inclusive(value: int) -> None:
    model = CreateSeatEventRequest.model_validate_json(json.dumps(request(total=value)))
    assert model.total == value
    assert json.loads(model.to_json())["total"] == value


def test_constructor_raises_invalid_seat_event_too() -> None:
    with pytest.raises(InvalidSeatEvent, match="total"):
        CreateSeatEventRequest(
            customerAlias="acme",
            seatType="admin",
            eventTimestamp="2022-10-01T00:00:00Z",  # type: ignore[arg-type]
            total=-1,
        )


def test_several_bad_fields_are_all_listed() -> None:
    body = {
        "customerEventId": "",
        "customerAlias": "a\x00",
        # seatType missing
        "eventTimestamp": "2022-10-01",
        "total": -5,
    }
    error = rejected(body)
    fields = {"customerEventId", "customerAlias", "seatType", "eventTimestamp", "total"}
    assert {p.field for p in error.problems} == fields
    assert len(error.problems) == 5
    assert str(error).startswith("5 problems")
    assert_names(error, *fields)  # every one of the five is named in the message


def test_six_bad_fields_are_all_counted_and_kept() -> None:
    # Five bad fields plus an unknown one: the count says 6 and ``problems`` holds all 6
    # (the message may quote only the first few, as STYLE's "count and first offenders").
    body = {
        "customerEventId": "",
        "customerAlias": "a\x00",
        "eventTimestamp": "2022-10-01",
        "total": -5,
        "colour": "red",
    }
    error = rejected(body)
    fields = {"customerEventId", "customerAlias", "seatType", "eventTimestamp", "total", "colour"}
    assert {p.field for p in error.problems} == fields
    assert str(error).startswith("6 problems")


# --- the stored SeatEvent ------------------------------------------------------


@pytest.mark.parametrize("field", ["id", "sequenceAccountId", "customerEventId"])
def test_seat_event_requires_id_account_and_event_id(field: str) -> None:
    body = {k: v for k, v in SEED_RESPONSE.items() if k != field}
    error = rejected(body, SeatEvent)
    assert_names(error, field)
    assert len(error.problems) == 1


@pytest.mark.parametrize("field", ["id", "sequenceAccountId"])
@pytest.mark.parametrize("value", ["", "x" * 257, "a\nb", None])
def test_seat_event_text_rules_apply_to_id_and_account(field: str, value: Any) -> None:
    assert_names(rejected({**SEED_RESPONSE, field: value}, SeatEvent), field)


def test_seat_event_rejects_unknown_and_bad_total() -> None:
    error = rejected({**SEED_RESPONSE, "total": -1, "extra": 1}, SeatEvent)
    assert {p.field for p in error.problems} == {"total", "extra"}


def test_seat_event_normalises_offsets_too() -> None:
    body = {**SEED_RESPONSE, "eventTimestamp": "2022-10-01T09:00:00.250000+09:00"}
    model = SeatEvent.model_validate_json(json.dumps(body))
    # 09:00 at +09:00 is 00:00 UTC; 250 000 µs kept.
    assert json.loads(model.to_json())["eventTimestamp"] == "2022-10-01T00:00:00.250000Z"


def test_request_rejects_seat_event_only_fields() -> None:
    # id and sequenceAccountId are assigned by the library, not accepted in the POST body.
    assert_names(rejected({**SEED_REQUEST, "id": SEED_RESPONSE["id"]}), "id")
    assert_names(
        rejected({**SEED_REQUEST, "sequenceAccountId": SEED_RESPONSE["sequenceAccountId"]}),
        "sequenceAccountId",
    )
