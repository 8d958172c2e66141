"""Records refused before they cost a request, each with its own reason code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from iterable_emulator.testing import EmulatorProcess
from tests.singer_io import record, run_target, schema

ANY = {"type": ["string", "integer", "object", "null"]}


def test_every_local_refusal_has_its_reason_and_costs_no_request(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    users = {"email": ANY, "userId": ANY, "bio": ANY}
    events = {"email": ANY, "eventName": ANY}
    items = {"itemId": ANY, "name": ANY, "size.cm": ANY, "size_cm": ANY, "blob": ANY, "more": ANY}
    cases = [
        ("users", {"bio": "no identity"}, "missing_identity"),
        ("users", {"email": "not-an-email"}, "invalid_email"),
        ("users", {"userId": ""}, "invalid_user_id"),
        ("users", {"userId": "caf\u00e9"}, "invalid_user_id"),
        ("users", {"userId": "trailing "}, "invalid_user_id"),
        ("users", {"userId": "x" * 53}, "invalid_user_id"),
        # Each value within Iterable's ~32k characters, the whole over its 4 MB body.
        (
            "users",
            {"email": "big@x.io", **{f"f{i}": "b" * 30_000 for i in range(150)}},
            ("record_too_large"),
        ),
        ("users", {"email": "long@x.io", "bio": "b" * 40_000}, "value_too_long"),
        ("events", {"email": "a@x.io"}, "missing_event_name"),
        ("catalog-products", {"itemId": "has space", "name": "x"}, "invalid_item_id"),
        ("catalog-products", {"itemId": "x" * 256, "name": "x"}, "invalid_item_id"),
        ("catalog-products", {"itemId": "A-1", "size.cm": 3, "size_cm": 4}, "invalid_field_name"),
        # Each value within ~32k characters, the item over Iterable's 30 KB.
        (
            "catalog-products",
            {"itemId": "A-2", "blob": "b" * 20_000, "more": "m" * 12_000},
            ("item_too_large"),
        ),
    ]
    sent = [record(stream, data) for stream, data, _ in cases]
    run = run_target(
        tmp_path,
        {**target_config, "max_rejected_ratio": 1},
        [
            schema("users", users),
            schema("events", events),
            schema("catalog-products", items),
            *sent,
        ],
    )
    assert run.returncode == 0, run.stderr
    assert [(line["stream"], line["reason"]) for line in run.rejects] == [
        (stream, reason) for stream, _, reason in cases
    ]
    assert [line["record"] for line in run.rejects] == [message["record"] for message in sent]
    assert "field names 'size.cm' and 'size_cm' both become 'size_cm'" in run.rejects[11]["message"]
    # No data request at all; only the set-up at SCHEMA: the pre-flight read of the
    # user fields' types, and the catalog's (create, field types).
    assert set(emulator.stats()["endpoints"]) <= {
        "GET /api/users/getFields",
        "GET /api/catalogs/{catalogName}/fieldMappings",
        "POST /api/catalogs/{catalogName}",
        "PUT /api/catalogs/{catalogName}/fieldMappings",
    }


def test_max_rejected_ratio_fails_the_run_after_accounting_for_every_record(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    messages = [
        schema("users", {"email": ANY}),
        record("users", {"email": "good@x.io"}),
        record("users", {"email": "bad-1"}),
        record("users", {"email": "bad-2"}),
    ]
    run = run_target(tmp_path, {**target_config, "max_rejected_ratio": 0.5}, messages)
    assert run.returncode == 1
    assert "stream 'users' rejected 2 of 3 records (67%), over max_rejected_ratio 50%" in (
        run.stderr
    )
    assert emulator.user_by_email("good@x.io") is not None
    assert len(run.rejects) == 2

    emulator.reset()
    lenient = run_target(tmp_path, {**target_config, "max_rejected_ratio": 1}, messages)
    assert lenient.returncode == 0


def test_summary_is_emitted_as_sdk_metrics(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    run = run_target(
        tmp_path,
        target_config,
        [
            schema("users", {"email": ANY}),
            record("users", {"email": "good@x.io"}),
            record("users", {"email": "bad-1"}),
        ],
    )
    points = [
        json.loads(line.split("METRIC: ", 1)[1])
        for line in run.stderr.splitlines()
        if "METRIC: " in line
    ]
    ours = {
        (p["metric"], tuple(sorted(p["tags"].items())), p["value"])
        for p in points
        if ("status" in p["tags"] and p["tags"]["status"] in ("accepted", "rejected"))
        or "kind" in p["tags"]
    }
    assert ("record_count", (("status", "accepted"), ("stream", "users")), 1) in ours
    assert (
        "record_count",
        (("reason", "invalid_email"), ("status", "rejected"), ("stream", "users")),
        1,
    ) in ours
    assert ("http_request_count", (("kind", "request"), ("stream", "users")), 1) in ours
