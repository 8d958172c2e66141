"""``tap | target-iterable`` against the emulator: what landed, what was rejected, and why."""

from __future__ import annotations

import json
from typing import Any

from iterable_emulator.testing import EmulatorProcess
from tests.project_type import pin_project_type
from tests.singer_io import record, run_target, schema, state

CUSTOMER_PROPS = {
    "id": {"type": "integer"},
    "email_address": {"type": ["string", "null"]},
    "first_name": {"type": ["string", "null"]},
    "plan": {"type": ["string", "null"]},
    "signed_up_at": {"type": ["string", "null"], "format": "date-time"},
    "lifetime_value": {"type": ["number", "null"]},
    "address": {
        "type": ["object", "null"],
        "properties": {"city": {"type": ["string", "null"]}},
    },
}
SIGNUP_PROPS = {
    "signup_id": {"type": "integer"},
    "customer_id": {"type": ["integer", "null"]},
    "customer_email": {"type": ["string", "null"]},
    "occurred_at": {"type": "string", "format": "date-time"},
    "source": {"type": ["string", "null"]},
    "campaign_id": {"type": ["string", "null"]},
}
PRODUCT_PROPS = {
    "sku": {"type": "string"},
    "name": {"type": "string"},
    "price": {"type": "number"},
    "in_stock": {"type": "boolean"},
}

STREAM_MAPS = {
    "public-customers": {
        "__alias__": "users",
        "__key_properties__": ["userId"],
        "email": "email_address",
        "userId": "str(id)",
        "email_address": None,
        "id": None,
    },
    "public-signups": {
        "__alias__": "events",
        "eventName": "'signup'",
        "email": "customer_email",
        # Events name their user by userId too, so they land in any project type.
        "userId": "str(customer_id) if customer_id is not None else None",
        "createdAt": "occurred_at",
        "campaignId": "campaign_id",
        "customer_id": None,
        "customer_email": None,
        "campaign_id": None,
    },
    "public-products": {
        "__alias__": "catalog-products",
        "__key_properties__": ["itemId"],
        "itemId": "sku",
        "sku": None,
    },
}


def customer(i: int, email: str | None) -> dict[str, Any]:
    return {
        "id": i,
        "email_address": email,
        "first_name": f"Name{i}",
        "plan": "pro" if i % 2 else "free",
        "signed_up_at": f"2024-03-{i % 28 + 1:02d}T10:00:00+02:00",
        "lifetime_value": 10.5 * i,
        "address": {"city": "Oslo"},
    }


def tap_output() -> list[dict[str, Any]]:
    """What a tap-postgres-like tap would emit, before stream maps."""
    messages: list[dict[str, Any]] = [
        schema("public-customers", CUSTOMER_PROPS, ["id"]),
        schema("public-signups", SIGNUP_PROPS, ["signup_id"]),
        schema("public-products", PRODUCT_PROPS, ["sku"]),
    ]
    messages += [
        record("public-customers", customer(i, f"user{i}@example.com")) for i in range(1, 41)
    ]
    messages += [
        record("public-customers", customer(41, "not-an-email")),  # refused locally
        record("public-customers", customer(42, "bob@@example.com")),  # refused locally
        record("public-customers", customer(43, None)),  # userId only: valid
    ]
    messages.append(state({"bookmarks": {"public-customers": {"replication_key_value": 43}}}))
    messages += [
        record(
            "public-signups",
            {
                "signup_id": i,
                "customer_id": i,
                "customer_email": f"user{i}@example.com",
                "occurred_at": "2024-03-05T08:00:00Z",
                "source": "web",
                "campaign_id": "1234",
            },
        )
        for i in range(1, 31)
    ]
    messages += [
        record(
            "public-signups",
            {
                "signup_id": 99,
                "customer_id": None,
                "customer_email": None,
                "occurred_at": "2024-03-05T08:00:00Z",
                "campaign_id": None,
            },
        ),
        record(
            "public-signups",
            {
                "signup_id": 98,
                "customer_id": 998,
                "customer_email": "ghost@example.com",
                "occurred_at": "2024-03-05T08:00:00Z",
                "campaign_id": "1",
            },
        ),
    ]
    messages += [
        record(
            "public-products",
            {"sku": f"SKU-{i:03d}", "name": f"Product {i}", "price": 9.99 + i, "in_stock": True},
        )
        for i in range(1, 13)
    ]
    messages.append(
        record("public-products", {"sku": "BAD SKU", "name": "x", "price": 1, "in_stock": False})
    )
    messages.append(state({"bookmarks": {"public-products": {"replication_key_value": "SKU-012"}}}))
    return messages


def test_users_events_and_catalog_land_and_invalid_records_are_rejected(
    tmp_path: Any, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    # A hybrid project: a customer without email is named by userId alone, which an
    # email-based project takes only with prefer_user_id (test_project_types.py).
    target_config = pin_project_type(emulator, target_config, "hybrid")
    run = run_target(tmp_path, {**target_config, "stream_maps": STREAM_MAPS}, tap_output())

    assert run.returncode == 0, run.stderr
    # Users: 40 by email + 1 by userId only; the two bad emails refused before sending.
    summary = emulator.summary()
    assert summary["users"] == 41
    ada = emulator.user_by_email("user7@example.com")
    assert ada["userId"] == "7"
    assert ada["dataFields"]["first_name"] == "Name7"
    assert ada["dataFields"]["signed_up_at"] == "2024-03-08 08:00:00 +00:00"
    assert ada["dataFields"]["lifetime_value"] == 73.5
    assert ada["dataFields"]["address"] == {"city": "Oslo"}
    assert "email_address" not in ada["dataFields"]
    assert emulator.user_by_id("43")["dataFields"]["first_name"] == "Name43"

    # Events: 30 landed, once each, with deterministic ids and converted fields.
    events = emulator.events_for(email="user3@example.com")
    assert len(events) == 1
    assert events[0]["eventName"] == "signup"
    assert events[0]["createdAt"] == 1709625600
    assert events[0]["campaignId"] == 1234
    assert events[0]["dataFields"]["source"] == "web"
    assert len(events[0]["id"]) == 40
    assert summary["events"] == 30

    # Catalog created on first use; 12 items; the bad SKU refused.
    item = emulator.catalog_item("products", "SKU-004")
    assert item["name"] == "Product 4"
    assert item["price"] == 13.99
    assert len(emulator.catalog_items("products")) == 12

    rejected = run.rejected_by_reason()
    assert sorted(r["email"] for r in rejected["invalid_email"]) == [
        "bob@@example.com",
        "not-an-email",
    ]
    assert [r["signup_id"] for r in rejected["missing_identity"]] == [99]
    assert [r["signup_id"] for r in rejected["user_not_found"]] == [98]
    assert [r["itemId"] for r in rejected["invalid_item_id"]] == ["BAD SKU"]
    assert sum(len(v) for v in rejected.values()) == 5
    assert all(line["stream"] and line["message"] for line in run.rejects)

    # The last STATE is the last one received, after everything was acknowledged.
    assert run.states[-1] == {
        "bookmarks": {"public-products": {"replication_key_value": "SKU-012"}}
    }
    assert emulator.api_key not in run.stderr + run.stdout
    assert emulator.api_key not in json.dumps(run.rejects)
    assert "received=43 sent=41 accepted=41 rejected=2 (invalid_email=2)" in run.stderr


def test_rerun_does_not_duplicate_keyed_events(
    tmp_path: Any, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    config = {**target_config, "stream_maps": STREAM_MAPS}
    first = run_target(tmp_path, config, tap_output())
    second = run_target(tmp_path, config, tap_output())
    assert first.returncode == second.returncode == 0
    assert emulator.summary()["events"] == 30
    assert len(emulator.events_for(email="user3@example.com")) == 1


def test_unknown_stream_fails_at_schema_naming_valid_names(
    tmp_path: Any, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    run = run_target(tmp_path, target_config, [schema("orders", {"id": {"type": "integer"}})])
    assert run.returncode == 1
    assert "stream 'orders' does not name an Iterable object" in run.stderr
    assert "users, users-<anything>" in run.stderr
    assert "catalog-<catalogName>" in run.stderr
    assert "Traceback" not in run.stderr


def test_skip_unknown_streams_opt_in(
    tmp_path: Any, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    run = run_target(
        tmp_path,
        {**target_config, "skip_unknown_streams": True},
        [
            schema("orders", {"id": {"type": "integer"}}),
            record("orders", {"id": 1}),
            schema("users", {"email": {"type": "string"}}),
            record("users", {"email": "a@example.com"}),
        ],
    )
    assert run.returncode == 0, run.stderr
    assert "Skipped 1 records of stream 'orders'" in run.stderr
    assert emulator.summary()["users"] == 1
