"""The ``messages`` stream through the CLI: the bundled sample of RudderStack/Segment
messages lands in the emulator as users, device tokens, events, purchases and carts,
and messages shaped as RudderStack's own transformer tests shape them land as
RudderStack's Iterable destination would send them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from iterable_emulator.testing import EmulatorProcess
from tests.project_type import pin_project_type
from tests.singer_io import TargetRun, record, run_target, schema

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

    # Refused: an alias whose new "email" (userId u-300) is not an address (updateEmail
    # needs one), a message with only anonymousId, and an identify whose device platform
    # Iterable does not know (its traits landed).
    assert [(r["record"]["messageId"], r["reason"]) for r in run.rejects] == [
        ("m-011", "invalid_email"),
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


def run_messages(
    tmp_path: Path,
    config: dict[str, Any],
    messages: list[dict[str, Any]],
    options: dict[str, Any] | None = None,
) -> TargetRun:
    """Run the target on ``messages`` (with ``stream_options.messages``); each run has
    its own directory, so its rejects file holds only its own refusals."""
    config = {**config, "max_rejected_ratio": 1, "stream_options": {"messages": options or {}}}
    run_dir = tmp_path / f"run-{len(list(tmp_path.glob('run-*')))}"
    run_dir.mkdir()
    run = run_target(
        run_dir, config, [schema("messages", ANY), *(record("messages", m) for m in messages)]
    )
    assert run.returncode == 0, run.stderr
    return run


def identify(user_id: str, email: str, **traits: Any) -> dict[str, Any]:
    return {"type": "identify", "userId": user_id, "traits": {"email": email, **traits}}


def test_carts_orders_and_users_land_as_rudderstack_sends_them(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    """Product Added's own fields are the cart (not an empty cart), the message's userId
    wins over the traits', an order keyed by orderId is one purchase, and the user's
    traits travel with the cart."""
    ctx = {"traits": {"email": "u1@x.io", "userId": "someone-else", "phone": "+1 555 0100"}}
    product = {"product_id": 10606, "sku": "JB-1", "name": "Cabinet", "price": 797, "quantity": 1}
    order = {
        "type": "track",
        "event": "Order Completed",
        "userId": "u1",
        "context": ctx,
        "properties": {
            "orderId": 5001,
            "total": 797,
            "products": [product],
            "shipped_at": "2024-03-02T08:00:00+01:00",
        },
    }
    messages = [
        # traits.userId does not override the message's own userId.
        identify("u1", "u1@x.io", plan="pro", userId="someone-else"),
        identify("u2", "u2@x.io"),
        {**order, "messageId": "o-1"},
        # The same order again under another messageId (a retried send): one purchase.
        {**order, "messageId": "o-2"},
        {
            "type": "track",
            "event": "Product Added",
            "userId": "u1",
            "context": ctx,
            "properties": {**product, "cart_id": "c-1"},
        },
        # properties.email names the event's user before context.traits.email.
        {
            "type": "track",
            "event": "Shared",
            "userId": "u2",
            "messageId": "s-1",
            "context": {"traits": {"email": "u1@x.io"}},
            "properties": {"email": "u2@x.io", "channel": "mail"},
        },
    ]
    run = run_messages(tmp_path, target_config, messages)
    assert run.rejects == []

    user = emulator.user_by_email("u1@x.io")
    assert user is not None
    assert user["userId"] == "u1"
    assert emulator.user_by_id("someone-else") is None
    assert user["dataFields"]["phone"] == "+1 555 0100"  # from the cart's user
    assert user["dataFields"]["shoppingCartItems"] == [
        {"id": "10606", "sku": "JB-1", "name": "Cabinet", "price": 797.0, "quantity": 1}
    ]
    [purchase] = [e for e in emulator.events_for(email="u1@x.io") if e["eventName"] == "purchase"]
    assert purchase["id"] == "5001"
    # Every property stays in dataFields (total and products too), dates as Iterable's.
    assert purchase["dataFields"]["total"] == 797
    assert purchase["dataFields"]["products"][0]["sku"] == "JB-1"
    assert purchase["dataFields"]["shipped_at"] == "2024-03-02 07:00:00 +00:00"
    shared = by_name(emulator.events_for(email="u2@x.io"))["Shared"]
    assert shared["dataFields"] == {"email": "u2@x.io", "channel": "mail"}
    assert "Shared" not in by_name(emulator.events_for(email="u1@x.io"))


def test_tokens_and_anonymous_ids_follow_the_options(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    # A hybrid project: an anonymous id sent as a userId alone names a user there; an
    # email-based project takes it only with prefer_user_id.
    target_config = pin_project_type(emulator, target_config, "hybrid")
    web = {"os": {"name": "", "token": "web-push-1"}}
    push = {"device": {"token": "apns-1", "type": "ios"}, "app": {"name": "Shop"}}
    anonymous = {"type": "track", "event": "Viewed", "anonymousId": "anon-7", "messageId": "v-1"}
    run = run_messages(
        tmp_path,
        target_config,
        [{**identify("w1", "w1@x.io"), "context": web}, anonymous],
    )
    # RudderStack's web SDK sends the browser token as context.os.token.
    web_user = emulator.user_by_email("w1@x.io")
    assert web_user is not None
    assert web_user["dataFields"]["browserTokens"] == ["web-push-1"]
    # An anonymousId alone is not an identity by default.
    [refused] = run.rejects
    assert (refused["record"]["messageId"], refused["reason"]) == ("v-1", "missing_identity")
    assert "anonymous_id_as_user_id" in refused["message"]

    options = {"register_device_tokens": False, "anonymous_id_as_user_id": True}
    first_visit = {"type": "identify", "anonymousId": "anon-7", "traits": {"plan": "free"}}
    run = run_messages(
        tmp_path,
        target_config,
        [{**identify("p1", "p1@x.io"), "context": push}, first_visit, anonymous],
        options,
    )
    assert run.rejects == []
    pushed = emulator.user_by_email("p1@x.io")
    assert pushed is not None
    assert "devices" not in pushed["dataFields"]
    assert [e["eventName"] for e in emulator.events_for(user_id="anon-7")] == ["Viewed"]


def test_alias_changes_the_users_email_before_later_events(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    # A hybrid project: RudderStack sends an alias's previousId as currentEmail, which
    # names no one in a userId-based project (emails are not unique there).
    target_config = pin_project_type(emulator, target_config, "hybrid")
    messages = [
        identify("u5", "old@x.io", plan="pro"),
        {"type": "alias", "previousId": "old@x.io", "userId": "new@x.io", "messageId": "a-1"},
        {
            "type": "track",
            "event": "Logged In",
            "userId": "u5",
            "context": {"traits": {"email": "new@x.io"}},
        },
        # A previousId that is no email names the user by userId.
        identify("u6", "six@x.io"),
        {"type": "alias", "previousId": "u6", "userId": "six-new@x.io", "messageId": "a-2"},
    ]
    run = run_messages(tmp_path, target_config, messages)
    assert run.rejects == []
    assert emulator.user_by_email("old@x.io") is None
    renamed = emulator.user_by_email("new@x.io")
    assert renamed is not None
    assert (renamed["userId"], renamed["dataFields"]["plan"]) == ("u5", "pro")
    assert [e["eventName"] for e in emulator.events_for(email="new@x.io")] == ["Logged In"]
    six = emulator.user_by_id("u6")
    assert six is not None
    assert six["email"] == "six-new@x.io"


def test_page_and_screen_names_as_rudderstacks_transformer_sends_them(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    options = {
        "page_event_name_format": "{name} page",
        "screen_event_name_format": "{name} screen",
        "track_all_pages": False,
        "track_named_pages": True,
    }
    views = [
        {"type": "page", "userId": "v1", "name": "ApplicationLoaded", "messageId": "p-1"},
        {"type": "screen", "userId": "v1", "name": "Cart", "messageId": "p-2"},
        # The page settings apply to screens too: an unnamed screen is not tracked.
        {"type": "screen", "userId": "v1", "category": "Shop", "messageId": "p-3"},
    ]
    run = run_messages(tmp_path, target_config, [identify("v1", "v1@x.io"), *views], options)
    names = sorted(e["eventName"] for e in emulator.events_for(user_id="v1"))
    assert names == ["ApplicationLoaded page", "Cart screen"]
    assert [(r["record"]["messageId"], r["reason"]) for r in run.rejects] == [
        ("p-3", "message_not_tracked")
    ]

    bad = {**target_config, "stream_options": {"messages": {"page_event_name_format": "{nam}"}}}
    refused = run_target(tmp_path, bad, [schema("messages", ANY)])
    assert refused.returncode == 1
    assert "stream_options.messages: page_event_name_format '{nam}'" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_carts_and_purchases_prefer_the_user_id_when_asked(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    """In an email-based project an unknown userId alone names no one, unless
    preferUserId: prefer_user_id applies to the user of a cart and of a purchase."""
    emulator.update_settings(project_type="email")
    mug = {"product_id": "mug-1", "name": "Mug", "price": 3, "quantity": 1}
    messages = [
        {"type": "track", "event": "Product Added", "userId": "c1", "properties": mug},
        {
            "type": "track",
            "event": "Order Completed",
            "userId": "c2",
            "properties": {"order_id": "o-7", "total": 3, "products": [mug]},
        },
    ]
    refused = run_messages(tmp_path, target_config, messages)
    assert sorted(r["reason"] for r in refused.rejects) == ["user_not_found", "user_not_found"]

    run = run_messages(tmp_path, target_config, messages, {"prefer_user_id": True})
    assert run.rejects == []
    cart_user = emulator.user_by_id("c1")
    assert cart_user is not None
    assert [item["id"] for item in cart_user["dataFields"]["shoppingCartItems"]] == ["mug-1"]
    assert [e["eventName"] for e in emulator.events_for(user_id="c2")] == ["purchase"]
