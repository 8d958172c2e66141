"""Preview and pre-flight: a dry run plans exactly what a real run sends, and types
Iterable already locked refuse records locally, before any request fails."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from iterable_emulator.testing import EmulatorProcess
from tests.project_type import with_user_ids
from tests.singer_io import TargetRun, record, run_target, schema, state

BULK_UPDATE = "/api/users/bulkUpdate"

USERS = schema(
    "users", {"email": {"type": "string"}, "ltv": {"type": ["number", "string", "null"]}}
)
EVENTS = schema(
    "events",
    {"email": {"type": "string"}, "eventName": {"type": "string"}, "id": {"type": "string"}},
)
PRODUCTS = schema("catalog-products", {"itemId": {"type": "string"}, "price": {"type": "number"}})


def mixed_input(changed: bool = False) -> list[dict[str, Any]]:
    return [
        USERS,
        *(record("users", {"email": f"u{i}@x.io", "ltv": 10.5 + i}) for i in range(20)),
        record("users", {"email": "not-an-address", "ltv": 1}),
        record("users", {"email": "u3@x.io", "ltv": 99.0 if changed else 13.5}),
        EVENTS,
        *(
            record("events", {"email": f"u{i}@x.io", "eventName": "seen", "id": f"e{i}"})
            for i in range(5)
        ),
        PRODUCTS,
        record("catalog-products", {"itemId": "A", "price": 2.5}),
        state({"done": 1}),
    ]


def writes(emulator: EmulatorProcess) -> list[tuple[str, str, str]]:
    """The write requests the emulator received: method, path and body as sent."""
    return [
        (entry["method"], entry["path"], entry["body"])
        for entry in emulator.requests_log()
        if entry["method"] != "GET"
    ]


def plan_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def dry_run(tmp_path: Path, config: dict[str, Any], messages: list[Any]) -> TargetRun:
    plan = tmp_path / "plan.jsonl"
    run = run_target(tmp_path, {**config, "dry_run": True, "dry_run_path": str(plan)}, messages)
    assert run.returncode == 0, run.stderr
    return run


def test_a_dry_run_sends_no_write_and_plans_exactly_what_a_real_run_sends(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    # Applied at once: under Iterable's asynchronous processing the real run would
    # also resend events answered "not found" at first, which no plan can foresee.
    emulator.update_settings(log_bodies=True, processing_delay_ms=0)
    preview = dry_run(tmp_path, target_config, mixed_input())
    assert writes(emulator) == []  # only reads reached Iterable
    assert preview.states == []  # Meltano's bookmark must not move past unsent records
    assert (tmp_path / "plan.jsonl").stat().st_mode & 0o077 == 0
    plan = plan_lines(tmp_path / "plan.jsonl")
    assert {line["stream"] for line in plan} == {"users", "events", "catalog-products"}
    assert "stream 'users' (dry run): received=22 would_send=21 unchanged=0" in preview.stderr
    assert "would_reject=1 (invalid_email=1)" in preview.stderr
    assert "requests planned" in preview.stderr

    real = run_target(tmp_path / "..", target_config, mixed_input())
    assert real.returncode == 0, real.stderr
    sent = writes(emulator)
    planned = [
        (line["method"], line["path"], orjson.dumps(line["body"]).decode() if line["body"] else "")
        for line in plan
    ]
    # The same requests, bodies byte for byte (sender threads may reorder requests).
    assert Counter(planned) == Counter(sent)
    # The dry run left the sync state alone: the real run sent every user.
    assert emulator.summary()["users"] == 20  # u3 twice: one user


def test_a_dry_run_after_a_real_run_plans_only_what_changed(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    assert run_target(tmp_path, target_config, mixed_input()).returncode == 0
    preview = dry_run(tmp_path, target_config, mixed_input(changed=True))
    users = [line for line in plan_lines(tmp_path / "plan.jsonl") if line["path"] == BULK_UPDATE]
    assert [u["email"] for line in users for u in line["body"]["users"]] == ["u3@x.io"]
    assert "would_send=2 unchanged=19" in preview.stderr  # u3 twice, merged


def seed_user_field(emulator: EmulatorProcess, **fields: Any) -> None:
    body = {"users": [with_user_ids({"email": "seed@x.io", "dataFields": fields})]}
    assert emulator.api("POST", BULK_UPDATE, json=body).status_code == 200


def test_locked_user_types_refuse_records_locally_before_any_request_fails(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    seed_user_field(emulator, ltv=1.5)  # Iterable now holds ltv as a double
    messages = [
        USERS,
        record("users", {"email": "a@x.io", "ltv": 3}),  # a long goes into a double field
        record("users", {"email": "b@x.io", "ltv": "abc"}),
        record("users", {"email": "c@x.io", "ltv": 7.25}),
    ]
    run = run_target(tmp_path, {**target_config, "max_rejected_ratio": 1}, messages)
    assert run.returncode == 0, run.stderr
    refused = [e for e in emulator.requests_log(BULK_UPDATE) if e["status"] == 400]
    assert refused == []  # no request was refused for a conflict knowable beforehand
    assert [(r["reason"], r["record"]["email"]) for r in run.rejects] == [
        ("type_mismatch", "b@x.io")
    ]
    assert run.rejects[0]["message"] == (
        "field 'ltv' is a double in Iterable; this record has the string 'abc'"
    )
    assert emulator.user_by_email("a@x.io")["dataFields"]["ltv"] == 3
    assert emulator.user_by_email("c@x.io") is not None


def test_a_schema_that_guarantees_a_conflict_is_named_at_schema_time(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    seed_user_field(emulator, plan=2)  # a long
    strings = schema("users", {"email": {"type": "string"}, "plan": {"type": "string"}})
    run = run_target(tmp_path, target_config, [strings])
    assert run.returncode == 0, run.stderr
    assert (
        "field 'plan' is a long in Iterable and the stream's schema declares it string"
        in run.stderr
    )


def test_locked_catalog_types_refuse_items_locally(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    assert emulator.api("POST", "/api/catalogs/products").status_code == 201
    mappings = {"mappingsUpdates": [{"fieldName": "stock", "fieldType": "long"}]}
    emulator.api("PUT", "/api/catalogs/products/fieldMappings", json=mappings)
    items = schema("catalog-products", {"itemId": {"type": "string"}, "stock": {}})
    run = run_target(
        tmp_path,
        {**target_config, "max_rejected_ratio": 1},
        [
            items,
            record("catalog-products", {"itemId": "A", "stock": 3}),
            record("catalog-products", {"itemId": "B", "stock": "many"}),
        ],
    )
    assert run.returncode == 0, run.stderr
    assert [(r["reason"], r["record"]["itemId"]) for r in run.rejects] == [("type_mismatch", "B")]
    assert list(emulator.catalog_items("products")) == ["A"]
