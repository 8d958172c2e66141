"""Table tests of the pure mapping: record + schema → the exact payload Iterable receives."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import orjson
import pytest

from target_iterable.encoding import encode_for_iterable
from target_iterable.mapping.catalog import catalog_item
from target_iterable.mapping.events import derive_event_id, event_payload
from target_iterable.mapping.users import UserOptions, user_payload
from target_iterable.mapping.values import compile_converters
from target_iterable.reasons import Reason, RecordRejected

SCHEMA: dict[str, Any] = {
    "properties": {
        "email": {"type": ["string", "null"]},
        "userId": {"type": ["string", "integer", "null"]},
        "signed_up": {"type": ["string", "null"], "format": "date-time"},
        "birthday": {"type": ["string", "null"], "format": "date"},
        "ltv": {"type": ["number", "null"]},
        "visits": {"type": ["integer", "null"]},
        "address": {
            "type": ["object", "null"],
            "properties": {
                "city": {"type": "string"},
                "moved_in": {"type": ["string", "null"], "format": "date-time"},
            },
        },
        "score": {"anyOf": [{"type": "number"}, {"type": "null"}]},
    }
}
CONVERTERS = compile_converters(SCHEMA)


def wire(payload: Any) -> Any:
    """The payload exactly as the request body carries it."""
    return orjson.loads(encode_for_iterable(payload))


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        pytest.param(
            {"email": "ada@example.com", "signed_up": "2024-03-01T12:30:45.123+02:00"},
            {"email": "ada@example.com", "dataFields": {"signed_up": "2024-03-01 10:30:45 +00:00"}},
            id="date-time with offset to UTC, fractional seconds dropped",
        ),
        pytest.param(
            {"email": "a@b.co", "signed_up": "2024-03-01T12:30:45Z", "birthday": "1990-07-14"},
            {
                "email": "a@b.co",
                "dataFields": {"signed_up": "2024-03-01 12:30:45 +00:00", "birthday": "1990-07-14"},
            },
            id="Z suffix and date",
        ),
        pytest.param(
            {"email": "a@b.co", "signed_up": "2024-03-01T12:30:45"},
            {"email": "a@b.co", "dataFields": {"signed_up": "2024-03-01 12:30:45 +00:00"}},
            id="naive date-time taken as UTC",
        ),
        pytest.param(
            {"email": "a@b.co", "ltv": decimal.Decimal("19.90"), "visits": 3},
            {"email": "a@b.co", "dataFields": {"ltv": 19.9, "visits": 3}},
            id="decimal to number, integer kept",
        ),
        pytest.param(
            {"email": "a@b.co", "ltv": 5, "score": 7},
            {"email": "a@b.co", "dataFields": {"ltv": 5.0, "score": 7.0}},
            id="number fields always doubles so Iterable locks one type",
        ),
        pytest.param(
            {"email": "a@b.co", "ltv": None, "birthday": None},
            {"email": "a@b.co", "dataFields": {"ltv": None, "birthday": None}},
            id="null sent as null (Iterable removes the field)",
        ),
        pytest.param(
            {
                "email": "a@b.co",
                "address": {"city": "Oslo", "moved_in": "2020-01-02T03:04:05+01:00"},
            },
            {
                "email": "a@b.co",
                "dataFields": {
                    "address": {"city": "Oslo", "moved_in": "2020-01-02 02:04:05 +00:00"}
                },
            },
            id="nested object kept, nested dates converted",
        ),
        pytest.param(
            {"userId": 42, "_sdc_extracted_at": "2024-01-01", "_sdc_deleted_at": None, "x": 1},
            {"userId": "42", "dataFields": {"x": 1}},
            id="numeric userId as string, _sdc_ fields never sent",
        ),
        pytest.param(
            {"email": "a@b.co", "userId": "u-1", "undeclared": decimal.Decimal("1.5")},
            {"email": "a@b.co", "userId": "u-1", "dataFields": {"undeclared": 1.5}},
            id="both identities on top, undeclared decimal as number",
        ),
        pytest.param(
            {"email": "a@b.co", "signed_up": dt.datetime(2024, 1, 2, 3, 4, 5)},
            {"email": "a@b.co", "dataFields": {"signed_up": "2024-01-02 03:04:05 +00:00"}},
            id="datetime object",
        ),
    ],
)
def test_user_payload(record: dict[str, Any], expected: dict[str, Any]) -> None:
    assert wire(user_payload(record, CONVERTERS)) == expected


def test_user_payload_options() -> None:
    payload = user_payload(
        {"userId": "u1"}, {}, UserOptions(prefer_user_id=True, merge_nested_objects=True)
    )
    assert payload == {
        "userId": "u1",
        "dataFields": {},
        "preferUserId": True,
        "mergeNestedObjects": True,
    }


@pytest.mark.parametrize(
    ("record", "reason", "fragment"),
    [
        ({"first_name": "Ada"}, Reason.MISSING_IDENTITY, "neither 'email' nor 'userId'"),
        ({"email": "", "userId": None}, Reason.MISSING_IDENTITY, "neither"),
        ({"email": "not-an-email"}, Reason.INVALID_EMAIL, "not-an-email"),
        ({"email": "a b@c.de"}, Reason.INVALID_EMAIL, "not a valid address"),
        ({"userId": "x" * 53}, Reason.INVALID_USER_ID, "53 characters"),
        ({"userId": "caf\u00e9"}, Reason.INVALID_USER_ID, "non-ASCII"),
        ({"userId": "u1 "}, Reason.INVALID_USER_ID, "whitespace"),
        ({"userId": ""}, Reason.INVALID_USER_ID, "empty"),
        ({"email": "a@b.co", "signed_up": "yesterday"}, Reason.INVALID_VALUE, "signed_up"),
    ],
)
def test_user_refusals(record: dict[str, Any], reason: Reason, fragment: str) -> None:
    with pytest.raises(RecordRejected) as refused:
        user_payload(record, CONVERTERS)
    assert refused.value.reason is reason
    assert fragment in refused.value.message


EVENT_SCHEMA = {
    "properties": {
        "occurred_at": {"type": "string", "format": "date-time"},
        "amount": {"type": "number"},
    }
}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        pytest.param(
            {
                "eventName": "signup",
                "email": "a@b.co",
                "id": "evt-1",
                "createdAt": "2024-03-01T00:00:00Z",
                "campaignId": "1234",
                "templateId": decimal.Decimal("99"),
                "amount": decimal.Decimal("10.5"),
                "occurred_at": "2024-03-01T01:00:00+01:00",
            },
            {
                "eventName": "signup",
                "email": "a@b.co",
                "id": "evt-1",
                "createdAt": 1709251200,
                "campaignId": 1234,
                "templateId": 99,
                "dataFields": {"amount": 10.5, "occurred_at": "2024-03-01 00:00:00 +00:00"},
            },
            id="top-level fields converted, rest in dataFields",
        ),
        pytest.param(
            {"eventName": "open", "userId": "u1", "createdAt": 1709251200000, "id": 7},
            {
                "eventName": "open",
                "userId": "u1",
                "id": "7",
                "createdAt": 1709251200,
                "dataFields": {},
            },
            id="createdAt epoch milliseconds, numeric id as string",
        ),
        pytest.param(
            {"eventName": "open", "userId": "u1", "createdAt": 1709251200},
            {"eventName": "open", "userId": "u1", "createdAt": 1709251200, "dataFields": {}},
            id="createdAt epoch seconds, no key properties: no id",
        ),
        pytest.param(
            {"eventName": "open", "userId": "u1", "createdAt": dt.datetime(2024, 3, 1)},
            {"eventName": "open", "userId": "u1", "createdAt": 1709251200, "dataFields": {}},
            id="createdAt datetime",
        ),
    ],
)
def test_event_payload(record: dict[str, Any], expected: dict[str, Any]) -> None:
    payload = event_payload(
        record, compile_converters(EVENT_SCHEMA), stream_name="events", key_properties=[]
    )
    assert wire(payload) == expected


def test_event_id_derived_from_stream_and_keys() -> None:
    record = {"eventName": "signup", "email": "a@b.co", "signup_id": 17}
    first = event_payload(record, {}, stream_name="events", key_properties=["signup_id"])
    again = event_payload(dict(record), {}, stream_name="events", key_properties=["signup_id"])
    other_stream = event_payload(record, {}, stream_name="events-web", key_properties=["signup_id"])
    other_key = event_payload(
        {**record, "signup_id": 18}, {}, stream_name="events", key_properties=["signup_id"]
    )
    assert first["id"] == again["id"] == derive_event_id("events", ["signup_id"], record)
    assert len({first["id"], other_stream["id"], other_key["id"]}) == 3
    assert first["dataFields"] == {"signup_id": 17}


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"email": "a@b.co"}, Reason.MISSING_EVENT_NAME),
        ({"eventName": "x"}, Reason.MISSING_IDENTITY),
        ({"eventName": "x", "email": "a@b.co", "createdAt": "soon"}, Reason.INVALID_VALUE),
        ({"eventName": "x", "email": "a@b.co", "campaignId": "abc"}, Reason.INVALID_VALUE),
        ({"eventName": "x", "email": "a@b.co", "id": "i" * 513}, Reason.INVALID_VALUE),
    ],
)
def test_event_refusals(record: dict[str, Any], reason: Reason) -> None:
    with pytest.raises(RecordRejected) as refused:
        event_payload(record, {}, stream_name="events", key_properties=[])
    assert refused.value.reason is reason


def test_catalog_item() -> None:
    schema = {"properties": {"price": {"type": "number"}, "updated": {"format": "date-time"}}}
    item_id, fields = catalog_item(
        {
            "itemId": "SKU-1",
            "price": decimal.Decimal("9"),
            "name": "Mug",
            "size.cm": 9,
            "_sdc_sequence": 1,
        },
        compile_converters(schema),
    )
    assert item_id == "SKU-1"
    assert wire(fields) == {"price": 9.0, "name": "Mug", "size_cm": 9}


@pytest.mark.parametrize(
    ("record", "reason", "fragment"),
    [
        ({"name": "Mug"}, Reason.INVALID_ITEM_ID, "no 'itemId'"),
        ({"itemId": "SKU_1"}, Reason.INVALID_ITEM_ID, "letters, digits or dashes"),
        ({"itemId": "x" * 256}, Reason.INVALID_ITEM_ID, "1-255"),
        # Periods are sent as underscores (test_value_conversions.py); two names that
        # would become one cannot both be sent.
        ({"itemId": "A1", "size.cm": 3, "size_cm": 4}, Reason.INVALID_FIELD_NAME, "'size_cm'"),
    ],
)
def test_catalog_refusals(record: dict[str, Any], reason: Reason, fragment: str) -> None:
    with pytest.raises(RecordRejected) as refused:
        catalog_item(record, {})
    assert refused.value.reason is reason
    assert fragment in refused.value.message
