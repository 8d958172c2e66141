"""Table tests of the pure mapping for purchases, carts, devices, lists and subscriptions."""

from __future__ import annotations

import decimal
from typing import Any

import orjson
import pytest

from target_iterable.encoding import encode_for_iterable
from target_iterable.mapping.catalog import catalog_field_types
from target_iterable.mapping.commerce import cart_payload, purchase_payload
from target_iterable.mapping.devices import BROWSER_TOKEN, DEVICE_TOKEN, device_payload
from target_iterable.mapping.fields import with_defaults
from target_iterable.mapping.lists import SUBSCRIBE, UNSUBSCRIBE, list_member
from target_iterable.mapping.subscriptions import subscription_update
from target_iterable.reasons import Reason, RecordRejected


def wire(payload: Any) -> Any:
    return orjson.loads(encode_for_iterable(payload))


def test_purchase_coerces_items_and_derives_total_and_id() -> None:
    record = {
        "email": "a@x.io",
        "order_id": 77,
        "items": [
            {"id": "SKU-1", "name": "Mug", "price": "19", "quantity": "2", "categories": "a, b"},
            {"id": 2, "name": "Tea", "price": decimal.Decimal("4.5"), "color.name": "green"},
        ],
        "createdAt": "2024-03-01T00:00:00Z",
        "campaignId": "12",
        "channel": "web",
        "utm.source": "mail",  # periods in names are sent as underscores, items' too
    }
    payload = wire(
        purchase_payload(record, {}, stream_name="purchases", key_properties=["order_id"])
    )
    assert payload["user"] == {"email": "a@x.io"}
    assert payload["items"] == [
        {"id": "SKU-1", "name": "Mug", "price": 19.0, "quantity": 2, "categories": ["a", "b"]},
        {
            "id": "2",
            "name": "Tea",
            "price": 4.5,
            "quantity": 1,
            "dataFields": {"color_name": "green"},
        },
    ]
    assert payload["total"] == 42.5
    assert payload["createdAt"] == 1709251200
    assert payload["campaignId"] == 12
    assert len(payload["id"]) == 40
    assert payload["dataFields"] == {"order_id": 77, "channel": "web", "utm_source": "mail"}


def test_purchase_keeps_given_total_and_id_and_applies_stream_defaults() -> None:
    # As PurchasesSink applies its stream_options defaults.
    payload = purchase_payload(
        with_defaults(
            {"userId": "u1", "id": "ord-1", "total": "10.00", "items": []},
            {"campaignId": 5, "templateId": 6},
        ),
        {},
        stream_name="purchases",
        key_properties=[],
    )
    assert (payload["id"], payload["total"], payload["campaignId"], payload["templateId"]) == (
        "ord-1",
        10.0,
        5,
        6,
    )


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        ([{"name": "Mug", "price": 1}], "items[0] has no id"),
        ([{"id": "1", "name": "Mug", "price": "cheap"}], "items[0].price 'cheap' is not a number"),
        ([{"id": "1", "name": "Mug", "price": 1, "quantity": "two"}], "'two' is not an integer"),
        ("SKU-1", "items is not a list"),
    ],
)
def test_purchase_refusals(items: Any, fragment: str) -> None:
    with pytest.raises(RecordRejected) as refused:
        purchase_payload(
            {"email": "a@x.io", "items": items}, {}, stream_name="purchases", key_properties=[]
        )
    assert refused.value.reason is Reason.INVALID_VALUE
    assert fragment in refused.value.message


def test_cart_is_the_whole_cart_with_user_fields() -> None:
    payload = cart_payload(
        {"email": "a@x.io", "items": [{"id": "1", "name": "Mug", "price": 3}], "tier": "gold"},
        {},
    )
    assert payload == {
        "user": {"email": "a@x.io", "dataFields": {"tier": "gold"}},
        "items": [{"id": "1", "name": "Mug", "price": 3.0, "quantity": 1}],
    }


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            {"email": "a@x.io", "token": "t1", "platform": "APNS", "applicationName": "app"},
            (
                DEVICE_TOKEN,
                {
                    "email": "a@x.io",
                    "device": {"token": "t1", "platform": "APNS", "applicationName": "app"},
                },
            ),
        ),
        (
            {"userId": "u1", "token": "t", "platform": "GCM", "applicationName": "a", "os": "14"},
            (
                DEVICE_TOKEN,
                {
                    "userId": "u1",
                    "device": {
                        "token": "t",
                        "platform": "GCM",
                        "applicationName": "a",
                        "dataFields": {"os": "14"},
                    },
                },
            ),
        ),
        (
            {"email": "a@x.io", "browserToken": "bt"},
            (BROWSER_TOKEN, {"email": "a@x.io", "browserToken": "bt"}),
        ),
    ],
)
def test_devices(record: dict[str, Any], expected: tuple[str, dict[str, Any]]) -> None:
    assert device_payload(record, {}) == expected


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"email": "a@x.io", "token": "t", "platform": "WNS", "applicationName": "a"}, "platform"),
        ({"email": "a@x.io", "platform": "GCM"}, "token"),
        ({"email": "a@x.io", "token": "t", "platform": "GCM"}, "token"),
    ],
)
def test_device_refusals(record: dict[str, Any], reason: str) -> None:
    with pytest.raises(RecordRejected) as refused:
        device_payload(record, {})
    assert (
        refused.value.reason.value
        == {"platform": "invalid_platform", "token": "missing_token"}[reason]
    )


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            {"email": "a@x.io", "plan": "pro"},
            (SUBSCRIBE, {"email": "a@x.io", "dataFields": {"plan": "pro"}}),
        ),
        ({"email": "a@x.io", "subscribed": True}, (SUBSCRIBE, {"email": "a@x.io"})),
        ({"userId": "u1", "subscribed": False, "plan": "x"}, (UNSUBSCRIBE, {"userId": "u1"})),
        (
            {"email": "a@x.io", "_sdc_deleted_at": "2024-01-01T00:00:00Z"},
            (UNSUBSCRIBE, {"email": "a@x.io"}),
        ),
    ],
)
def test_list_members(record: dict[str, Any], expected: tuple[str, dict[str, Any]]) -> None:
    assert list_member(record, {}) == expected


def test_subscription_update_coerces_ids() -> None:
    assert subscription_update(
        {
            "email": "a@x.io",
            "emailListIds": ["1", 2],
            "unsubscribedChannelIds": "3, 4",
            "subscribedMessageTypeIds": [],
            "campaignId": "9",
        }
    ) == {
        "email": "a@x.io",
        "emailListIds": [1, 2],
        "unsubscribedChannelIds": [3, 4],
        "subscribedMessageTypeIds": [],
        "campaignId": 9,
    }


@pytest.mark.parametrize(
    "record",
    [{"email": "a@x.io"}, {"email": "a@x.io", "emailListIds": ["one"]}],
)
def test_subscription_refusals(record: dict[str, Any]) -> None:
    with pytest.raises(RecordRejected) as refused:
        subscription_update(record)
    assert refused.value.reason is Reason.INVALID_VALUE


def test_catalog_field_types_from_the_singer_schema() -> None:
    schema = {
        "properties": {
            "itemId": {"type": "string"},
            "name": {"type": ["string", "null"]},
            "price": {"type": ["number", "null"]},
            "stock": {"type": "integer"},
            "live": {"type": "boolean"},
            "added": {"type": "string", "format": "date-time"},
            "launch": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
            "specs": {"type": "object", "properties": {}},
            "tags": {"type": "array"},
            "_sdc_deleted_at": {"type": "string", "format": "date-time"},
        }
    }
    assert catalog_field_types(schema) == {
        "name": "string",
        "price": "double",
        "stock": "long",
        "live": "boolean",
        "added": "date",
        "launch": "date",
        "specs": "object",
    }
