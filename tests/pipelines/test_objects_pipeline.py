"""`meltano run objects-to-iterable`: every other Iterable object, from the bundled sample.

The job (meltano.yml) reads demo/data/{store_changes, customer_changes,
cart_snapshots, orders, push_registrations, newsletter_changes,
email_preferences}.jsonl with tap-jsonl and loads them with
target-iterable-objects, whose stream maps route them to ``catalog-stores``,
``users`` (with deletes), ``carts``, ``purchases``, ``devices``, ``list-1`` and
``subscriptions``. Every expectation below is written from the sample files.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from iterable_emulator.testing import EmulatorProcess
from tests.pipelines.conftest import MeltanoRun

ADA, GRACE, ALAN = "ada.lovelace@example.com", "grace.hopper@example.com", "alan.turing@example.com"
KATHERINE, HEDY = "katherine.johnson@example.com", "hedy.lamarr@example.com"


def unix_seconds(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def profile(emulator: EmulatorProcess, email: str) -> dict[str, Any]:
    user = emulator.user_by_email(email)
    assert user is not None, f"{email} is not in Iterable"
    fields: dict[str, Any] = user["dataFields"]
    return fields


def purchase_of(emulator: EmulatorProcess, email: str) -> dict[str, Any]:
    events = emulator.events_for(email=email)
    assert [event["eventName"] for event in events] == ["purchase"], email
    return events[0]


def check_purchases(emulator: EmulatorProcess) -> None:
    """Orders -> purchases: string prices and quantities coerced, totals, cart emptied."""
    ada = purchase_of(emulator, ADA)
    assert ada == {
        "id": "order-5001",
        "eventType": "purchase",
        "eventName": "purchase",
        "email": ADA,
        "userId": "1001",
        "createdAt": unix_seconds("2024-11-04T10:30:00Z"),
        "total": 62.5,  # no amount: 49.00 x 1 + 4.50 x 3
        "dataFields": {"currency": "EUR", "channel": "web"},
        "shoppingCartItems": [
            {
                "id": "SKU-002",
                "name": "Pro plan (monthly)",
                "price": 49.0,
                "quantity": 1,
                "categories": ["subscription", "plans"],
            },
            {
                "id": "SKU-010",
                "name": "Sticker pack",
                "price": 4.5,
                "quantity": 3,
                "categories": ["merch"],
            },
        ],
    }
    grace = purchase_of(emulator, GRACE)
    assert (grace["id"], grace["total"]) == ("order-5002", 4800.0)  # amount "4800.00"
    assert grace["createdAt"] == unix_seconds("2024-11-04T16:05:00+01:00")
    katherine = purchase_of(emulator, KATHERINE)
    assert katherine["total"] == 19.0
    assert katherine["shoppingCartItems"][0]["quantity"] == 1  # no quantity: 1
    for purchase in (ada, grace, katherine):
        for item in purchase["shoppingCartItems"]:
            assert type(item["price"]) is float, item
            assert type(item["quantity"]) is int, item
        assert type(purchase["total"]) is float

    # Ada's cart (cart_snapshots, loaded before) was emptied by her purchase.
    ada_profile = profile(emulator, ADA)
    assert ada_profile["cartUpdatedAt"] == "2024-11-04 10:02:00 +00:00"
    assert "shoppingCartItems" not in ada_profile
    assert emulator.user_by_email("margaret.hamilton@example.com") is None  # order rejected


def check_carts(emulator: EmulatorProcess) -> None:
    """Cart snapshots: the last one of each customer is the cart; [] empties it."""
    hedy = profile(emulator, HEDY)
    assert hedy["shoppingCartItems"] == [
        {
            "id": "SKU-010",
            "name": "Sticker pack",
            "price": 4.5,
            "quantity": 2,
            "categories": ["merch"],
        },
        {
            "id": "SKU-012",
            "name": "Hoodie",
            "price": 39.9,
            "quantity": 1,
            "url": "https://shop.example.com/p/SKU-012",
            "categories": ["merch", "apparel"],
        },
    ]
    assert hedy["cartUpdatedAt"] == "2024-11-04 18:26:00 +00:00"
    assert profile(emulator, ALAN)["shoppingCartItems"] == []


def push_device(token: str, platform: str, app: str, os_version: str, at: str) -> dict[str, Any]:
    """A device as Iterable keeps it; registered_at is a date in Iterable's format."""
    return {
        "token": token,
        "platform": platform,
        "applicationName": app,
        "dataFields": {"osVersion": os_version, "registeredAt": f"{at} +00:00"},
        "endpointEnabled": True,
    }


def check_devices(emulator: EmulatorProcess) -> None:
    """APNS and GCM tokens with their app and data fields; WEB as a browser token."""
    ada = profile(emulator, ADA)
    assert ada["devices"] == [
        push_device("apns-3f9c1e7ab2d44e0c", "APNS", "shop-ios", "17.4", "2024-10-30 12:00:00")
    ]
    assert ada["browserTokens"] == ["webpush-ada-chrome-91d2c0"]
    grace = profile(emulator, GRACE)
    assert grace["devices"] == [
        push_device("fcm-c8a1d2e3f4b5a6978", "GCM", "shop-android", "14", "2024-11-01 17:45:00")
    ]
    assert "browserTokens" not in grace
    assert emulator.user_by_email("ken.thompson@example.com") is None  # HMS: rejected


def check_list_and_subscriptions(emulator: EmulatorProcess, newsletter: int) -> None:
    """Newsletter opt-ins join list 1, Alan's later opt-out leaves it; preferences replace."""
    assert profile(emulator, ADA)["emailListIds"] == [newsletter]
    assert profile(emulator, ADA)["newsletterSource"] == "checkout"
    assert profile(emulator, HEDY)["emailListIds"] == [newsletter]
    assert profile(emulator, ALAN)["emailListIds"] == []
    assert emulator.endpoint_stats("POST /api/lists/unsubscribe")["records"] == 1

    assert profile(emulator, "radia.perlman@example.com") == {
        "emailListIds": [1, 2],  # "1, 2"
        "unsubscribedChannelIds": [101],
    }
    assert profile(emulator, "donald.knuth@example.com") == {
        "unsubscribedChannelIds": [],
        "unsubscribedMessageTypeIds": [201, 202],
        "subscribedMessageTypeIds": [203],
    }


def check_deletes(emulator: EmulatorProcess) -> None:
    """Rows carrying _sdc_deleted_at delete the catalog item and the user."""
    assert emulator.catalog_items("stores") == {
        "LON-01": {
            "name": "London Soho",
            "city": "London",
            "country": "GB",
            "openedOn": "2019-04-01",
        },
        "NYC-01": {
            "name": "New York SoHo",
            "city": "New York",
            "country": "US",
            "openedOn": "2021-09-15",
        },
    }
    assert emulator.user_by_email("miles.davis@example.com") is None
    nina = emulator.user_by_email("nina.simone@example.com")
    assert nina is not None
    assert nina["userId"] == "2001"
    assert nina["dataFields"] == {
        "firstName": "Nina",
        "plan": "pro",  # the later of her two rows
        "sourceUpdatedAt": "2024-11-03 15:30:00 +00:00",
    }


def test_meltano_run_delivers_every_object(
    emulator: EmulatorProcess, meltano_run: MeltanoRun, tmp_path: Path
) -> None:
    # Lists are created in Iterable, never by the target: newsletter_changes is
    # aliased to list-1 in meltano.yml, and email_preferences names lists 1 and 2.
    list_ids = []
    for name in ("newsletter", "product-updates"):
        response = emulator.api("POST", "/api/lists", json={"name": name})
        assert response.status_code == 200, response.text
        list_ids.append(response.json()["listId"])
    assert list_ids == [1, 2], "meltano.yml's list-1 needs a fresh emulator's first list"

    rejects = tmp_path / "rejects.jsonl"
    meltano_run("objects-to-iterable", TARGET_ITERABLE_OBJECTS_REJECTS_PATH=str(rejects))

    summary = emulator.summary()
    assert {name: summary[name] for name in ("users", "events", "catalog_items")} == {
        "users": 8,  # Ada, Grace, Katherine, Hedy, Alan, Radia, Donald, Nina
        "events": 3,  # the three valid orders
        "catalog_items": 2,
    }
    assert summary["events_per_name"] == {"purchase": 3}
    check_purchases(emulator)
    check_carts(emulator)
    check_devices(emulator)
    check_list_and_subscriptions(emulator, list_ids[0])
    check_deletes(emulator)

    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(line["stream"], line["reason"]) for line in lines] == [
        ("purchases", "invalid_value"),
        ("devices", "invalid_platform"),
    ]
    assert [(line["record"].get("id"), line["record"]["email"]) for line in lines] == [
        ("order-5004", "margaret.hamilton@example.com"),
        (None, "ken.thompson@example.com"),
    ]
    assert lines[0]["message"] == "items[0].price 'TBD' is not a number"
    assert lines[1]["message"].startswith("platform 'HMS' is not one of Iterable's APNS")
