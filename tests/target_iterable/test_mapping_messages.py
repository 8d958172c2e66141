"""Table tests: RudderStack/Segment-spec messages → Iterable operations.

The expectations follow RudderStack's transformer (rudder-transformer,
``src/v0/destinations/iterable`` and its test cases) except where Iterable's API
spec says otherwise; those cases say so.
"""

from __future__ import annotations

from typing import Any

import pytest

from target_iterable.mapping.messages import (
    PAYLOAD,
    MessageSettings,
    iterable_dates,
    message_operations,
    normalized_message,
)
from target_iterable.reasons import Reason, RecordRejected

TS = "2024-03-01T10:00:00Z"
DEFAULT = MessageSettings()
MUG = {"product_id": "p1", "name": "Mug", "price": 1}


def only(message: dict[str, Any], settings: MessageSettings = DEFAULT) -> tuple[str, Any]:
    [operation] = message_operations(message, settings)
    return operation


def refusal(message: dict[str, Any], settings: MessageSettings = DEFAULT) -> RecordRejected:
    with pytest.raises(RecordRejected) as refused:
        message_operations(message, settings)
    return refused.value


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
        ({"device": {"token": "t", "type": "watchOS"}, "app": {"name": "A"}}, "APNS"),
        ({"device": {"token": "t", "type": "tvos"}, "app": {"name": "A"}}, "APNS"),
        # Neither type nor OS: RudderStack's default.
        ({"device": {"token": "t"}, "app": {"name": "A"}}, "GCM"),
        # RudderStack reads only device.type (an iOS token would go as GCM, never delivered).
        ({"device": {"token": "t"}, "os": {"name": "iOS"}, "app": {"name": "A"}}, "APNS"),
        # Neither Apple nor Android: left for the devices mapping to refuse.
        ({"device": {"token": "t", "type": "blackberry"}, "app": {"name": "A"}}, "BLACKBERRY"),
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


def test_a_browser_token_in_context_os_is_registered() -> None:
    """RudderStack's web SDK sends the web push token as context.os.token."""
    message = {
        "type": "identify",
        "userId": "u",
        "context": {"os": {"name": "", "token": "web-tok"}, "traits": {"email": "a@x.io"}},
    }
    assert message_operations(message)[1] == (
        "device",
        {"email": "a@x.io", "userId": "u", "browserToken": "web-tok"},
    )


def test_a_device_token_wins_over_a_browser_token() -> None:
    context = {"device": {"token": "push", "type": "ios"}, "os": {"token": "web"}}
    [_, (_, device)] = message_operations({"type": "identify", "userId": "u", "context": context})
    assert (device["token"], "browserToken" in device) == ("push", False)


def test_register_device_tokens_off_sends_only_the_user() -> None:
    message = {
        "type": "identify",
        "userId": "u",
        "context": {"device": {"token": "t", "type": "ios"}, "os": {"token": "w"}},
    }
    settings = MessageSettings(register_device_tokens=False)
    assert message_operations(message, settings) == [("user", {"userId": "u"})]


def test_identify_properties_are_the_device_data_fields() -> None:
    message = {
        "type": "identify",
        "userId": "u",
        "properties": {"model": "X", "token": "not this one"},
        "context": {"device": {"token": "t", "type": "android"}, "app": {"name": "A"}},
    }
    device = message_operations(message)[1][1]
    assert (device["model"], device["token"]) == ("X", "t")


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
                "email": "a@x.io",
                "userId": "u1",
                "createdAt": TS,
                "eventName": "Signed Up",
                "id": "m-1",
                PAYLOAD: {"dataFields": {"plan": "pro"}},
            },
        )
    ]


def test_properties_event_id_is_the_event_id() -> None:
    message = {"type": "track", "event": "E", "userId": "u", "messageId": "m"}
    assert only({**message, "properties": {"event_id": 7}})[1]["id"] == 7
    assert only(message)[1]["id"] == "m"


def test_created_at_is_when_the_event_happened_not_the_users_sign_up() -> None:
    """RudderStack reads traits.createdAt first; Iterable's createdAt is the event's time."""
    message = {
        "type": "track",
        "event": "E",
        "userId": "u",
        "context": {"traits": {"createdAt": "2020-01-01T00:00:00Z"}},
        "timestamp": TS,
    }
    assert only(message)[1]["createdAt"] == TS


def test_event_data_fields_keep_the_top_level_fields_too() -> None:
    """campaignId, templateId and email go on top and stay in dataFields (RudderStack's)."""
    properties = {"campaignId": "12", "templateId": "0", "email": "p@x.io", "plan": "pro"}
    _, event = only({"type": "track", "event": "E", "userId": "u", "properties": properties})
    assert (event["campaignId"], event["templateId"], event["email"]) == ("12", "0", "p@x.io")
    assert event[PAYLOAD]["dataFields"] == properties


@pytest.mark.parametrize(
    ("message", "email"),
    [
        # track, page, screen: properties.email first (RudderStack's track and page configs).
        (
            {
                "type": "track",
                "event": "E",
                "properties": {"email": "prop@x.io"},
                "context": {"traits": {"email": "ctx@x.io"}},
            },
            "prop@x.io",
        ),
        (
            {"type": "page", "properties": {"email": "prop@x.io"}, "traits": {"email": "t@x.io"}},
            "prop@x.io",
        ),
        ({"type": "track", "event": "E", "context": {"traits": {"email": "ctx@x.io"}}}, "ctx@x.io"),
        # identify: the traits, top level first.
        (
            {
                "type": "identify",
                "traits": {"email": "t@x.io"},
                "context": {"traits": {"email": "ctx@x.io"}},
                "properties": {"email": "prop@x.io"},
            },
            "t@x.io",
        ),
        # a cart's user, as an identify's.
        (
            {
                "type": "track",
                "event": "Product Added",
                "properties": {**MUG, "email": "prop@x.io"},
                "context": {"traits": {"email": "ctx@x.io"}},
            },
            "ctx@x.io",
        ),
    ],
)
def test_email_precedence(message: dict[str, Any], email: str) -> None:
    assert message_operations(message)[0][1]["email"] == email


@pytest.mark.parametrize(
    ("message", "user_id"),
    [
        # The message's own userId wins over the traits' (whose userId then goes nowhere).
        ({"userId": "msg", "traits": {"userId": "trait"}}, "msg"),
        ({"userId": "msg", "context": {"traits": {"userId": "ctx", "id": "cid"}}}, "msg"),
        # Without one: traits.userId, traits.id, context.traits.userId, context.traits.id.
        ({"traits": {"userId": "trait", "id": "tid"}}, "trait"),
        ({"traits": {"id": "tid"}, "context": {"traits": {"userId": "ctx"}}}, "tid"),
        ({"context": {"traits": {"userId": "ctx", "id": "cid"}}}, "ctx"),
        ({"context": {"traits": {"id": 7}}}, "7"),
        ({"userId": "", "traits": {"userId": "trait"}}, "trait"),
    ],
)
def test_user_id_precedence(message: dict[str, Any], user_id: str) -> None:
    for kind in ({"type": "identify"}, {"type": "track", "event": "E"}):
        operation, fields = message_operations({**message, **kind})[0]
        assert fields["userId"] == user_id, operation


def test_anonymous_id_is_refused_unless_asked_for() -> None:
    message = {"type": "track", "event": "E", "anonymousId": "anon-1"}
    refused = refusal(message)
    assert refused.reason is Reason.MISSING_IDENTITY
    assert "anonymous_id_as_user_id" in refused.message
    settings = MessageSettings(anonymous_id_as_user_id=True)
    assert only(message, settings)[1]["userId"] == "anon-1"
    assert only({**message, "userId": "u"}, settings)[1]["userId"] == "u"
    assert only({**message, "user_id": "u"}, settings)[1]["userId"] == "u"


def test_order_completed_is_a_purchase_with_products_as_items() -> None:
    properties = {
        "order_id": "o-9",
        "total": "30.5",
        "products": [
            {
                "product_id": "p1",
                "name": "Mug",
                "price": "10",
                "quantity": "2",
                "category": "kitchen",
                "description": "Blue",
                "properties": {"glaze": "matte"},
            },
            {"sku": "S-2", "name": "Tea", "price": 10.5},
        ],
        "coupon": "SPRING",
    }
    message = {
        "type": "track",
        "event": "Order Completed",
        "userId": "u1",
        "properties": properties,
        "timestamp": TS,
    }
    [(operation, purchase)] = message_operations(message)
    assert operation == "purchase"
    assert purchase["id"] == "o-9"
    assert purchase["total"] == "30.5"
    assert purchase["items"] == [
        {
            "id": "p1",
            "name": "Mug",
            "price": "10",
            "quantity": "2",
            "categories": "kitchen",
            "description": "Blue",
            "dataFields": {"glaze": "matte"},
        },
        {"id": "S-2", "sku": "S-2", "name": "Tea", "price": 10.5},
    ]
    # Every property stays in dataFields, total and products included (RudderStack's).
    assert purchase[PAYLOAD] == {"dataFields": properties}
    assert purchase["createdAt"] == TS


@pytest.mark.parametrize(
    ("properties", "purchase_id"),
    [
        ({"order_id": "o", "orderId": "O", "event_id": "e"}, "o"),
        ({"orderId": 10000, "event_id": "e"}, 10000),
        ({"event_id": "e"}, "e"),
        ({}, "m-1"),
    ],
)
def test_purchase_id_precedence(properties: dict[str, Any], purchase_id: Any) -> None:
    message = {"type": "track", "event": "order completed", "userId": "u", "messageId": "m-1"}
    assert only({**message, "properties": properties})[1]["id"] == purchase_id


def test_purchase_total_falls_back_to_revenue() -> None:
    message = {"type": "track", "event": "Order Completed", "userId": "u"}
    assert only({**message, "properties": {"revenue": 9}})[1]["total"] == 9
    assert only({**message, "properties": {"revenue": 9, "total": 8}})[1]["total"] == 8


@pytest.mark.parametrize("event", ["Product Added", "Product Removed"])
def test_cart_events_send_the_whole_cart(event: str) -> None:
    message = {
        "type": "track",
        "event": event,
        "userId": "u1",
        "properties": {"products": [MUG]},
    }
    assert message_operations(message) == [
        ("cart", {"userId": "u1", "items": [{"id": "p1", "name": "Mug", "price": 1}]})
    ]


@pytest.mark.parametrize("event", ["Product Added", "Product Removed", "Order Completed"])
def test_a_product_at_the_top_of_the_properties_is_the_item(event: str) -> None:
    """Segment's spec puts Product Added's fields in the properties: one item, not []."""
    properties = {
        "product_id": 10606,
        "sku": "JB-1",
        "name": "Cabinet",
        "price": 797,
        "quantity": 1,
        "category": "Home",
        "url": "https://x.io/p",
        "image_url": "https://x.io/p.jpg",
        "variant": "Oak",
        "cart_id": "c-1",
    }
    message = {"type": "track", "event": event, "userId": "u", "properties": properties}
    assert only(message)[1]["items"] == [
        {
            "id": 10606,
            "sku": "JB-1",
            "name": "Cabinet",
            "price": 797,
            "quantity": 1,
            "categories": "Home",
            "url": "https://x.io/p",
            "imageUrl": "https://x.io/p.jpg",
        }
    ]


def test_a_cart_message_without_any_product_is_refused_not_an_empty_cart() -> None:
    message = {"type": "track", "event": "Product Added", "userId": "u", "properties": {}}
    refused = refusal({**message, "properties": {"cart_id": "c"}})
    assert refused.reason is Reason.INVALID_VALUE
    assert "empty" in refused.message
    # An explicit empty list empties the cart, as RudderStack sends it.
    assert only({**message, "properties": {"products": []}})[1]["items"] == []


def test_an_order_without_products_is_a_purchase_without_items() -> None:
    message = {"type": "track", "event": "Order Completed", "userId": "u"}
    assert only({**message, "properties": {"order_id": "o", "total": 5}})[1]["items"] == []


def test_traits_and_user_flags_travel_with_carts_and_purchases() -> None:
    context = {"traits": {"email": "a@x.io", "userId": "t", "phone": "+1 555", "name": "Ada"}}
    user = {"dataFields": {"phone": "+1 555", "name": "Ada"}}
    flags = MessageSettings(prefer_user_id=True, merge_nested_objects=True)
    for event in ("Product Added", "Order Completed"):
        message = {
            "type": "track",
            "event": event,
            "userId": "u",
            "context": context,
            "properties": MUG,
        }
        _, fields = only(message)
        assert (fields["email"], fields["userId"]) == ("a@x.io", "u")
        assert fields[PAYLOAD]["user"] == user
        _, flagged = only(message, flags)
        assert flagged[PAYLOAD]["user"] == {
            **user,
            "preferUserId": True,
            "mergeNestedObjects": True,
        }


def test_a_cart_without_traits_or_flags_has_no_payload_parts() -> None:
    message = {"type": "track", "event": "Product Added", "userId": "u", "properties": MUG}
    assert PAYLOAD not in only(message)[1]
    assert only(message, MessageSettings(prefer_user_id=True))[1][PAYLOAD] == {
        "user": {"preferUserId": True}
    }


@pytest.mark.parametrize(
    ("message", "settings", "expected"),
    [
        (
            {"type": "page", "name": "Application Home"},
            MessageSettings(),
            "Application Home Page",
        ),
        ({"type": "screen", "name": "Checkout"}, MessageSettings(), "Checkout Screen"),
        (
            {"type": "page", "name": "Home"},
            MessageSettings(map_all_pages_to_one_event=True),
            "Loaded a Page",
        ),
        (
            {"type": "screen", "name": "X"},
            MessageSettings(map_all_screens_to_one_event=True),
            "Loaded a Screen",
        ),
        (
            {"type": "page", "category": "Docs"},
            MessageSettings(track_all_pages=False, track_categorized_pages=True),
            "Docs Page",
        ),
        (
            {"type": "page", "name": "Pricing"},
            MessageSettings(track_all_pages=False, track_named_pages=True),
            "Pricing Page",
        ),
        ({"type": "page", "properties": {"name": "Cart"}}, MessageSettings(), "Cart Page"),
        ({"type": "page"}, MessageSettings(), "Page"),
        # RudderStack's transformer names them in lower case.
        (
            {"type": "page", "name": "ApplicationLoaded"},
            MessageSettings(page_event_name_format="{name} page"),
            "ApplicationLoaded page",
        ),
        (
            {"type": "screen", "name": "ApplicationLoaded"},
            MessageSettings(screen_event_name_format="{name} screen"),
            "ApplicationLoaded screen",
        ),
        (
            {"type": "page", "name": "Home"},
            MessageSettings(page_event_name_format="Viewed {name}"),
            "Viewed Home",
        ),
        ({"type": "page"}, MessageSettings(page_event_name_format="{name} page"), "page"),
        # The track settings apply to screens too.
        (
            {"type": "screen", "category": "Shop", "name": "Cart"},
            MessageSettings(track_all_pages=False, track_categorized_pages=True),
            "Cart Screen",
        ),
    ],
)
def test_page_and_screen_names(
    message: dict[str, Any], settings: MessageSettings, expected: str
) -> None:
    [(operation, event)] = message_operations({**message, "userId": "u"}, settings)
    assert (operation, event["eventName"]) == ("event", expected)


def test_page_properties_are_data_fields_with_campaign_and_template_on_top() -> None:
    properties = {"path": "/abc", "campaignId": "123456", "templateId": "1213458"}
    message = {"type": "page", "name": "Home", "userId": "u", "properties": properties}
    _, event = only(message, MessageSettings(map_all_pages_to_one_event=True))
    assert (event["campaignId"], event["templateId"]) == ("123456", "1213458")
    assert event[PAYLOAD] == {"dataFields": properties}


@pytest.mark.parametrize("name_format", ["{nam} page", "{name", "{0} page", "{name!x}"])
def test_a_name_format_that_cannot_be_applied_is_a_configuration_error(
    name_format: str,
) -> None:
    with pytest.raises(ValueError, match="page_event_name_format"):
        MessageSettings(page_event_name_format=name_format)


@pytest.mark.parametrize(
    ("message", "settings", "reason"),
    [
        ({"type": "group", "userId": "u"}, DEFAULT, Reason.UNSUPPORTED_MESSAGE_TYPE),
        ({"type": "track", "event": "x"}, DEFAULT, Reason.MISSING_IDENTITY),
        ({"type": "track", "userId": "u"}, DEFAULT, Reason.MISSING_EVENT_NAME),
        (
            {"type": "page", "userId": "u", "name": "Home"},
            MessageSettings(track_all_pages=False, track_categorized_pages=True),
            Reason.MESSAGE_NOT_TRACKED,
        ),
        # Not tracked wins over the one-event name, as in RudderStack.
        (
            {"type": "page", "userId": "u"},
            MessageSettings(
                track_all_pages=False, track_named_pages=True, map_all_pages_to_one_event=True
            ),
            Reason.MESSAGE_NOT_TRACKED,
        ),
        (
            {"type": "screen", "userId": "u", "name": "Home"},
            MessageSettings(track_all_pages=False, track_categorized_pages=True),
            Reason.MESSAGE_NOT_TRACKED,
        ),
        ({"type": "alias", "userId": "new@x.io"}, DEFAULT, Reason.MISSING_IDENTITY),
        ({"type": "alias", "previousId": "old@x.io"}, DEFAULT, Reason.MISSING_IDENTITY),
    ],
)
def test_refused_messages(
    message: dict[str, Any], settings: MessageSettings, reason: Reason
) -> None:
    assert refusal(message, settings).reason is reason


@pytest.mark.parametrize(
    ("message", "update"),
    [
        (
            {"previousId": "old@x.io", "userId": "new@x.io"},
            {"currentEmail": "old@x.io", "newEmail": "new@x.io"},
        ),
        # Not an email: the spec's currentUserId names that user (RudderStack sends it
        # as currentEmail, which Iterable refuses).
        ({"previousId": 17, "userId": "new@x.io"}, {"currentUserId": "17", "newEmail": "new@x.io"}),
        (
            {"previous_id": "old@x.io", "user_id": "new@x.io"},
            {"currentEmail": "old@x.io", "newEmail": "new@x.io"},
        ),
    ],
)
def test_alias_is_an_email_change(message: dict[str, Any], update: dict[str, Any]) -> None:
    assert message_operations({**message, "type": "alias"}) == [("email_update", update)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-01T10:00:00Z", "2024-03-01 10:00:00 +00:00"),
        ("2024-03-01T12:30:15.123+02:00", "2024-03-01 10:30:15 +00:00"),
        ("2024-03-01T10:00:00.1234567Z", "2024-03-01 10:00:00 +00:00"),
        ("2024-03-01 10:00-0130", "2024-03-01 11:30:00 +00:00"),
        # Left as they are: a date (already Iterable's), a time without zone
        # (ambiguous), not a date at all, an impossible date.
        ("2024-03-01", "2024-03-01"),
        ("2024-03-01T10:00:00", "2024-03-01T10:00:00"),
        ("2024-03-01 10:00:00 +00:00", "2024-03-01 10:00:00 +00:00"),
        ("on 2024-03-01T10:00:00Z", "on 2024-03-01T10:00:00Z"),
        ("2024-02-30T10:00:00Z", "2024-02-30T10:00:00Z"),
        (20240301, 20240301),
        (
            {"a": ["2024-03-01T10:00:00Z", {"b": "2024-03-01T10:00:00Z"}], "n": None},
            {"a": ["2024-03-01 10:00:00 +00:00", {"b": "2024-03-01 10:00:00 +00:00"}], "n": None},
        ),
    ],
)
def test_iterable_dates(value: Any, expected: Any) -> None:
    assert iterable_dates(value) == expected


def test_date_strings_in_properties_and_traits_are_sent_as_iterable_dates() -> None:
    when, sent = "2024-03-01T10:00:00Z", "2024-03-01 10:00:00 +00:00"
    track = {"type": "track", "event": "E", "userId": "u", "properties": {"at": when}}
    assert only(track)[1][PAYLOAD]["dataFields"] == {"at": sent}
    identify = {"type": "identify", "userId": "u", "traits": {"since": when}}
    assert only(identify)[1]["since"] == sent
    order = {
        "type": "track",
        "event": "Order Completed",
        "userId": "u",
        "traits": {"since": when},
        "properties": {"at": when},
    }
    assert only(order)[1][PAYLOAD] == {
        "dataFields": {"at": sent},
        "user": {"dataFields": {"since": sent}},
    }
    off = MessageSettings(convert_date_strings=False)
    assert only(track, off)[1][PAYLOAD]["dataFields"] == {"at": when}
    assert only(identify, off)[1]["since"] == when


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"user_id": "u", "message_id": "m"}, {"userId": "u", "messageId": "m"}),
        ({"userId": "spec", "user_id": "column"}, {"userId": "spec"}),
        ({"original_timestamp": TS}, {"originalTimestamp": TS}),
        ({"previous_id": "p"}, {"previousId": "p"}),
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


@pytest.mark.parametrize("text", ["[1, 2]", "not json", "42", [1, 2], 42])
def test_object_columns_that_are_not_json_objects_are_refused(text: Any) -> None:
    with pytest.raises(RecordRejected) as refused:
        normalized_message({"type": "track", "properties": text})
    assert refused.value.reason is Reason.INVALID_VALUE
    assert "'properties'" in refused.value.message


def test_message_settings_from_stream_options() -> None:
    settings = MessageSettings.from_options(
        {
            "track_all_pages": False,
            "track_named_pages": True,
            "page_event_name_format": "{name} page",
            "register_device_tokens": False,
            "prefer_user_id": True,
            "event_name": "ignored",
        }
    )
    assert settings == MessageSettings(
        track_all_pages=False,
        track_named_pages=True,
        page_event_name_format="{name} page",
        register_device_tokens=False,
        prefer_user_id=True,
    )
