"""Purchases, carts, devices, list membership and subscriptions through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from iterable_emulator.testing import EmulatorProcess
from tests.singer_io import record, run_target, schema

ANY: dict[str, Any] = {}


def create_list(emulator: EmulatorProcess, name: str) -> int:
    response = emulator.api("POST", "/api/lists", json={"name": name})
    assert response.status_code == 200, response.text
    list_id: int = response.json()["listId"]
    return list_id


def test_every_object_lands(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    vip = create_list(emulator, "vip")
    item = {"id": "SKU-1", "name": "Mug", "price": "19", "quantity": "2", "categories": "a,b"}
    run = run_target(
        tmp_path,
        {
            **target_config,
            "max_rejected_ratio": 1,
            "stream_options": {"events": {"event_name": "visited", "campaign_id": 5}},
        },
        [
            schema("users", {"email": ANY}),
            record("users", {"email": "a@x.io"}),
            schema("events", {"email": ANY}),
            record("events", {"email": "a@x.io", "page": "/home"}),
            record("events", {"email": "a@x.io", "eventName": "clicked"}),
            schema("purchases", {"email": ANY}, key_properties=["order_id"]),
            record("purchases", {"email": "a@x.io", "order_id": 9, "items": [item]}),
            record("purchases", {"email": "a@x.io", "order_id": 9, "items": [item]}),
            schema("carts", {"email": ANY}),
            record("carts", {"email": "b@x.io", "items": [item]}),
            record("carts", {"email": "b@x.io", "items": []}),
            record("carts", {"email": "b@x.io", "items": [{**item, "id": "SKU-2"}]}),
            schema("devices", {"email": ANY}),
            record(
                "devices",
                {
                    "email": "a@x.io",
                    "token": "t1",
                    "platform": "GCM",
                    "applicationName": "app",
                    "os": "14",
                },
            ),
            record("devices", {"email": "a@x.io", "browserToken": "bt1"}),
            record(
                "devices",
                {"email": "a@x.io", "token": "t2", "platform": "WNS", "applicationName": "app"},
            ),
            schema(f"list-{vip}", {"email": ANY}),
            record(f"list-{vip}", {"email": "c@x.io", "tier": "gold"}),
            record(f"list-{vip}", {"email": "d@x.io"}),
            record(f"list-{vip}", {"email": "d@x.io", "subscribed": False}),
            schema("subscriptions", {"email": ANY}),
            record(
                "subscriptions",
                {"email": "e@x.io", "emailListIds": "1, 2", "unsubscribedChannelIds": []},
            ),
        ],
    )
    assert run.returncode == 0, run.stderr

    events = emulator.events_for(email="a@x.io")
    by_name = {e["eventName"]: e for e in events}
    assert by_name["visited"]["campaignId"] == 5  # stream default
    assert by_name["clicked"]["campaignId"] == 5
    purchase = by_name["purchase"]
    assert purchase["total"] == 38.0  # 19 * 2, computed
    assert purchase["shoppingCartItems"] == [
        {"id": "SKU-1", "name": "Mug", "price": 19.0, "quantity": 2, "categories": ["a", "b"]}
    ]
    assert [e["eventName"] for e in events].count("purchase") == 1  # upserted by derived id

    cart = emulator.user_by_email("b@x.io")["dataFields"]["shoppingCartItems"]
    assert [i["id"] for i in cart] == ["SKU-2"]  # the last cart, in order

    a = emulator.user_by_email("a@x.io")["dataFields"]
    assert a["devices"][0]["token"] == "t1"
    assert a["devices"][0]["dataFields"] == {"os": "14"}
    assert a["browserTokens"] == ["bt1"]

    assert emulator.user_by_email("c@x.io")["dataFields"]["emailListIds"] == [vip]
    assert emulator.user_by_email("c@x.io")["dataFields"]["tier"] == "gold"
    assert vip not in emulator.user_by_email("d@x.io")["dataFields"].get("emailListIds", [])
    assert emulator.user_by_email("e@x.io")["dataFields"]["emailListIds"] == [1, 2]

    assert [(r["stream"], r["reason"]) for r in run.rejects] == [("devices", "invalid_platform")]


def test_unknown_list_fails_clearly(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    run = run_target(
        tmp_path,
        target_config,
        [schema("list-424242", {"email": ANY}), record("list-424242", {"email": "a@x.io"})],
    )
    assert run.returncode == 1
    assert "Iterable has no list 424242" in run.stderr
    assert "Traceback" not in run.stderr


PRODUCTS = schema(
    "catalog-products",
    {
        "itemId": {"type": "string"},
        "price": {"type": "number"},
        "added": {"type": "string", "format": "date-time"},
    },
    ["itemId"],
)


def test_catalog_field_types_are_declared_before_the_first_upload(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    run = run_target(
        tmp_path,
        target_config,
        [PRODUCTS, record("catalog-products", {"itemId": "A", "price": 5, "added": "2024-01-01"})],
    )
    assert run.returncode == 0, run.stderr
    defined = emulator.field_mappings("products")["definedMappings"]
    assert (defined["price"], defined["added"]) == ("double", "date")


def test_catalog_type_clash_fails_at_schema_time(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    emulator.api("POST", "/api/catalogs/products")
    emulator.api(
        "PUT",
        "/api/catalogs/products/fieldMappings",
        json={"mappingsUpdates": [{"fieldName": "price", "fieldType": "string"}]},
    )
    run = run_target(tmp_path, target_config, [PRODUCTS])
    assert run.returncode == 1
    assert "catalog 'products': field types cannot change once set" in run.stderr
    assert "Traceback" not in run.stderr
    assert "'price' is string in Iterable, double in the stream's schema" in run.stderr
