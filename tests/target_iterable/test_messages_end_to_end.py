"""The ``messages`` stream through the CLI: the bundled sample of RudderStack/Segment
messages lands in the emulator as users, device tokens, events, purchases and carts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from iterable_emulator.testing import EmulatorProcess
from tests.singer_io import record, run_target, schema

SAMPLE = Path(__file__).resolve().parents[2] / "demo" / "data" / "messages.jsonl"
ANY: dict[str, Any] = {}


def sample_messages() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAMPLE.read_text().splitlines() if line.strip()]


def by_name(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {event["eventName"]: event for event in events}


def test_the_bundled_sample_lands_as_rudderstack_would_send_it(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    messages = sample_messages()
    run = run_target(
        tmp_path,
        {**target_config, "max_rejected_ratio": 1},
        [schema("messages", ANY), *(record("messages", m) for m in messages)],
    )
    assert run.returncode == 0, run.stderr

    # identify: traits on the profile, and each kind of token registered.
    ada = emulator.user_by_email("ada@example.com")
    assert ada is not None
    assert ada["userId"] == "u-100"
    assert ada["dataFields"]["firstName"] == "Ada"
    assert ada["dataFields"]["plan"] == "pro"
    assert [(d["token"], d["platform"]) for d in ada["dataFields"]["devices"]] == [
        ("apns-token-ada", "APNS")
    ]
    grace = emulator.user_by_email("grace@example.com")
    assert grace is not None
    assert [(d["token"], d["platform"]) for d in grace["dataFields"]["devices"]] == [
        ("gcm-token-grace", "GCM")
    ]
    alan = emulator.user_by_email("alan@example.com")
    assert alan is not None
    assert alan["dataFields"]["browserTokens"] == ["web-push-alan"]

    # track: a custom event keyed by messageId, createdAt from the timestamp.
    ada_events = by_name(emulator.events_for(email="ada@example.com"))
    signed_up = ada_events["Signed Up"]
    assert signed_up["createdAt"] == 1709283780  # 2024-03-01T09:03:00Z
    assert signed_up["dataFields"]["plan"] == "pro"
    assert signed_up["dataFields"]["referrer"] == "newsletter"

    # Order Completed: a purchase with coerced prices and quantities, after the cart
    # it empties (Product Added came first in the input).
    purchase = ada_events["purchase"]
    assert purchase["total"] == 25.0
    assert purchase["shoppingCartItems"] == [
        {"id": "mug-1", "name": "Mug", "price": 12.5, "quantity": 2, "categories": ["kitchen"]}
    ]
    assert purchase["dataFields"]["coupon"] == "SPRING"
    assert not ada["dataFields"].get("shoppingCartItems")
    # Product Added for Grace: the whole cart, quantity 1 when absent.
    assert grace["dataFields"]["shoppingCartItems"] == [
        {
            "id": "tea-7",
            "name": "Green tea",
            "price": 4.2,
            "quantity": 1,
            "categories": ["food", "drinks"],
        }
    ]

    # page and screen: "<name> Page" / "<name> Screen".
    assert "Application Home Page" in by_name(emulator.events_for(email="alan@example.com"))
    assert "Checkout Screen" in by_name(emulator.events_for(email="grace@example.com"))
    # Warehouse column names and JSON-text objects are read as the spec's.
    opened = by_name(emulator.events_for(email="alan@example.com"))["Newsletter Opened"]
    assert opened["dataFields"]["issue"] == 42

    # Refused: an alias (unsupported), a message with only anonymousId, and an
    # identify whose device platform Iterable does not know (its traits landed).
    assert [(r["record"]["messageId"], r["reason"]) for r in run.rejects] == [
        ("m-011", "unsupported_message_type"),
        ("m-012", "missing_identity"),
        ("m-013", "invalid_platform"),
    ]
    assert all(r["stream"] == "messages" for r in run.rejects)
    assert emulator.user_by_email("edsger@example.com") is not None
    # 13 messages: 11 delivered, 2 refused whole; m-013 counts once as delivered (its
    # traits) and once as rejected (its token), so it is both in Iterable and in the file.
    assert "stream 'messages': received=13 sent=11 accepted=11 rejected=3 " in run.stderr


def test_a_rerun_updates_events_instead_of_duplicating_them(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    """Events and purchases are upserted by messageId (or the key properties)."""
    messages = [
        {"type": "track", "userId": "u1", "event": "Clicked", "messageId": "m-1", "row_id": 6},
        {"type": "page", "userId": "u1", "name": "Home", "row_id": 7},
    ]
    lines = [schema("messages", ANY, ["row_id"]), *(record("messages", m) for m in messages)]
    config = {**target_config, "stream_options": {"messages": {"track_all_pages": True}}}
    identify = [schema("users", ANY), record("users", {"userId": "u1", "email": "u1@x.io"})]
    assert run_target(tmp_path, config, identify).returncode == 0
    for _ in range(2):
        run = run_target(tmp_path, config, lines)
        assert run.returncode == 0, run.stderr
    names = [e["eventName"] for e in emulator.events_for(user_id="u1")]
    assert sorted(names) == ["Clicked", "Home Page"]


def test_page_settings_choose_which_pages_are_tracked(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    pages = [
        {"type": "page", "userId": "u2", "name": "Pricing", "messageId": "p-1"},
        {"type": "page", "userId": "u2", "category": "Docs", "messageId": "p-2"},
        {"type": "screen", "userId": "u2", "name": "Cart", "messageId": "p-3"},
    ]
    config = {
        **target_config,
        "max_rejected_ratio": 1,
        "stream_options": {
            "messages": {
                "track_all_pages": False,
                "track_named_pages": True,
                "map_all_screens_to_one_event": True,
            }
        },
    }
    identify = {"type": "identify", "userId": "u2", "traits": {"email": "u2@x.io"}}
    run = run_target(
        tmp_path,
        config,
        [schema("messages", ANY), *(record("messages", m) for m in [identify, *pages])],
    )
    assert run.returncode == 0, run.stderr
    names = sorted(e["eventName"] for e in emulator.events_for(user_id="u2"))
    assert names == ["Loaded a Screen", "Pricing Page"]
    assert [(r["record"]["messageId"], r["reason"]) for r in run.rejects] == [
        ("p-2", "message_not_tracked")
    ]


def test_each_users_messages_keep_their_meaning_in_order(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    """A track before the identify that creates its user still lands (users go
    first); a cart after a purchase survives it (commerce keeps input order)."""
    mug = {"product_id": "mug-1", "name": "Mug", "price": 3}
    tea = {"product_id": "tea-7", "name": "Tea", "price": 2}
    who = {"userId": "u9", "context": {"traits": {"email": "u9@x.io"}}}
    messages = [
        {**who, "type": "track", "event": "Opened App", "messageId": "o-1"},
        {**who, "type": "identify", "traits": {"email": "u9@x.io", "plan": "free"}},
        {**who, "type": "track", "event": "Product Added", "properties": {"products": [mug]}},
        {
            **who,
            "type": "track",
            "event": "Order Completed",
            "messageId": "o-2",
            "properties": {"order_id": "o-2", "products": [mug]},
        },
        {**who, "type": "track", "event": "Product Added", "properties": {"products": [tea]}},
    ]
    run = run_target(
        tmp_path,
        target_config,
        [schema("messages", ANY), *(record("messages", m) for m in messages)],
    )
    assert run.returncode == 0, run.stderr
    assert run.rejects == []
    names = sorted(e["eventName"] for e in emulator.events_for(email="u9@x.io"))
    assert names == ["Opened App", "purchase"]
    user = emulator.user_by_email("u9@x.io")
    assert user is not None
    assert [item["id"] for item in user["dataFields"]["shoppingCartItems"]] == ["tea-7"]


def test_the_readme_recipe_for_flattened_warehouse_columns(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    """RudderStack-style warehouse rows, objects rebuilt as JSON text by a stream map."""
    context = (
        "json.dumps({'traits': {'email': context_traits_email}, 'device': "
        "{'token': context_device_token, 'type': context_device_type}})"
    )
    config = {
        **target_config,
        "stream_maps": {
            "analytics-identifies": {
                "__alias__": "messages",
                "context": context,
                "context_traits_email": None,
                "context_device_token": None,
                "context_device_type": None,
            }
        },
        # The table has no app name column: a default for push tokens.
        "stream_options": {"messages": {"application_name": "shop-android"}},
    }
    columns = {
        name: {"type": ["string", "null"]}
        for name in (
            "type",
            "user_id",
            "message_id",
            "context_traits_email",
            "context_device_token",
            "context_device_type",
        )
    }
    row = {
        "type": "identify",
        "user_id": "u7",
        "message_id": "m-7",
        "context_traits_email": "u7@x.io",
        "context_device_token": "tok-7",
        "context_device_type": "android",
    }
    run = run_target(
        tmp_path,
        config,
        [schema("analytics-identifies", columns), record("analytics-identifies", row)],
    )
    assert run.returncode == 0, run.stderr
    assert run.rejects == []
    user = emulator.user_by_email("u7@x.io")
    assert user is not None
    assert user["userId"] == "u7"
    assert [
        (d["token"], d["platform"], d["applicationName"]) for d in user["dataFields"]["devices"]
    ] == [("tok-7", "GCM", "shop-android")]
