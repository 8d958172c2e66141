"""Table tests: RudderStack/Segment-spec messages → Iterable operations."""

from __future__ import annotations

from typing import Any

import pytest

from target_iterable.mapping.messages import (
    PageScreenSettings,
    message_operations,
    normalized_message,
)
from target_iterable.reasons import Reason, RecordRejected

TS = "2024-03-01T10:00:00Z"
DEFAULT = PageScreenSettings()
ONE_PAGE_EVENT = PageScreenSettings(map_all_pages_to_one_event=True)
ONE_SCREEN_EVENT = PageScreenSettings(map_all_screens_to_one_event=True)


def test_identify_with_traits_and_an_ios_device() -> None:
    message = {
        "type": "identify",
        "userId": 42,
        "traits": {"email": "a@x.io", "plan": "pro"},
        "context": {
            "device": {"token": "tok", "type": "ios"},
            "app": {"name": "Shop"},
        },
    }
    assert message_operations(message) == [
        ("user", {"email": "a@x.io", "userId": "42", "plan": "pro"}),
        (
            "device",
            {
                "email": "a@x.io",
                "userId": "42",
                "token": "tok",
                "platform": "APNS",
                "applicationName": "Shop",
            },
        ),
    ]


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"device": {"token": "t", "type": "android"}, "app": {"name": "A"}}, "GCM"),
        ({"device": {"token": "t"}, "os": {"name": "Android"}, "app": {"name": "A"}}, "GCM"),
        ({"device": {"token": "t", "type": "web"}}, "browser"),
    ],
)
def test_device_platform_from_context(context: dict[str, Any], expected: str) -> None:
    operations = message_operations(
        {"type": "identify", "userId": "u", "context": {**context, "traits": {"x": 1}}}
    )
    device = operations[1][1]
    if expected == "browser":
        assert device == {"userId": "u", "browserToken": "t"}
    else:
        assert device["platform"] == expected
    assert operations[0] == ("user", {"userId": "u", "x": 1})


def test_track_is_an_event_keyed_by_message_id() -> None:
    message = {
        "type": "track",
        "event": "Signed Up",
        "userId": "u1",
        "context": {"traits": {"email": "a@x.io"}},
        "properties": {"plan": "pro"},
        "messageId": "m-1",
        "originalTimestamp": TS,
    }
    assert message_operations(message) == [
        (
            "event",
            {
                "plan": "pro",
                "email": "a@x.io",
                "userId": "u1",
                "createdAt": TS,
                "eventName": "Signed Up",
                "id": "m-1",
            },
        )
    ]


def test_order_completed_is_a_purchase_with_products_as_items() -> None:
    message = {
        "type": "track",
        "event": "Order Completed",
        "userId": "u1",
        "properties": {
            "order_id": "o-9",
            "total": "30.5",
            "products": [
                {
                    "product_id": "p1",
                    "name": "Mug",
                    "price": "10",
                    "quantity": "2",
                    "category": "kitchen",
                },
                {"sku": "S-2", "name": "Tea", "price": 10.5},
            ],
            "coupon": "SPRING",
        },
        "timestamp": TS,
    }
    [(operation, purchase)] = message_operations(message)
    assert operation == "purchase"
    assert purchase["id"] == "o-9"
    assert purchase["total"] == "30.5"
    assert purchase["items"] == [
        {"id": "p1", "name": "Mug", "price": "10", "quantity": "2", "categories": "kitchen"},
        {"id": "S-2", "sku": "S-2", "name": "Tea", "price": 10.5},
    ]
    assert purchase["coupon"] == "SPRING"
    assert purchase["createdAt"] == TS


@pytest.mark.parametrize("event", ["Product Added", "Product Removed"])
def test_cart_events_send_the_whole_cart(event: str) -> None:
    message = {
        "type": "track",
        "event": event,
        "userId": "u1",
        "properties": {"products": [{"product_id": "p1", "name": "Mug", "price": 1}]},
    }
    assert message_operations(message) == [
        ("cart", {"userId": "u1", "items": [{"id": "p1", "name": "Mug", "price": 1}]})
    ]


@pytest.mark.parametrize(
    ("message", "settings", "expected"),
    [
        (
            {"type": "page", "name": "Application Home"},
            PageScreenSettings(),
            "Application Home Page",
        ),
        ({"type": "screen", "name": "Checkout"}, PageScreenSettings(), "Checkout Screen"),
        (
            {"type": "page", "name": "Home"},
            PageScreenSettings(map_all_pages_to_one_event=True),
            "Loaded a Page",
        ),
        (
            {"type": "screen", "name": "X"},
            PageScreenSettings(map_all_screens_to_one_event=True),
            "Loaded a Screen",
        ),
        (
            {"type": "page", "category": "Docs"},
            PageScreenSettings(track_all_pages=False, track_categorized_pages=True),
            "Docs Page",
        ),
        (
            {"type": "page", "name": "Pricing"},
            PageScreenSettings(track_all_pages=False, track_named_pages=True),
            "Pricing Page",
        ),
    ],
)
def test_page_and_screen_names(
    message: dict[str, Any], settings: PageScreenSettings, expected: str
) -> None:
    [(operation, event)] = message_operations({**message, "userId": "u"}, settings)
    assert (operation, event["eventName"]) == ("event", expected)


@pytest.mark.parametrize(
    ("message", "settings", "reason"),
    [
        ({"type": "alias", "userId": "u"}, PageScreenSettings(), Reason.UNSUPPORTED_MESSAGE_TYPE),
        ({"type": "track", "event": "x"}, PageScreenSettings(), Reason.MISSING_IDENTITY),
        (
            {"type": "page", "userId": "u", "name": "Home"},
            PageScreenSettings(track_all_pages=False, track_categorized_pages=True),
            Reason.MESSAGE_NOT_TRACKED,
        ),
    ],
)
def test_refused_messages(
    message: dict[str, Any], settings: PageScreenSettings, reason: Reason
) -> None:
    with pytest.raises(RecordRejected) as refused:
        message_operations(message, settings)
    assert refused.value.reason is reason


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"user_id": "u", "message_id": "m"}, {"userId": "u", "messageId": "m"}),
        ({"userId": "spec", "user_id": "column"}, {"userId": "spec"}),
        ({"original_timestamp": TS}, {"originalTimestamp": TS}),
        ({"properties": '{"a": 1}'}, {"properties": {"a": 1}}),
        ({"traits": ""}, {"traits": None}),
        ({"context": {"app": {"name": "A"}}}, {"context": {"app": {"name": "A"}}}),
    ],
)
def test_warehouse_columns_read_as_the_spec(
    record: dict[str, Any], expected: dict[str, Any]
) -> None:
    normalized = normalized_message(record)
    assert {k: normalized[k] for k in expected} == expected


@pytest.mark.parametrize("text", ["[1, 2]", "not json", "42"])
def test_object_columns_that_are_not_json_objects_are_refused(text: str) -> None:
    with pytest.raises(RecordRejected) as refused:
        normalized_message({"type": "track", "properties": text})
    assert refused.value.reason is Reason.INVALID_VALUE
    assert "'properties'" in refused.value.message


def test_page_settings_from_stream_options() -> None:
    settings = PageScreenSettings.from_options(
        {"track_all_pages": False, "track_named_pages": True, "event_name": "ignored"}
    )
    assert settings == PageScreenSettings(track_all_pages=False, track_named_pages=True)
