"""Rows deleted at the source (``_sdc_deleted_at``): catalog items and users."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from iterable_emulator.testing import EmulatorProcess
from tests.project_type import USER_LOOKUP
from tests.singer_io import record, run_target, schema

DELETED = "2024-05-01T00:00:00Z"
USERS = schema("users", {"email": {"type": "string"}, "plan": {"type": ["string", "null"]}})


def test_catalog_rows_deleted_at_the_source_are_deleted(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    items = schema("catalog-products", {"itemId": {"type": "string"}}, ["itemId"])
    run = run_target(
        tmp_path,
        target_config,
        [
            items,
            *[record("catalog-products", {"itemId": f"SKU-{i}", "n": i}) for i in range(4)],
            record("catalog-products", {"itemId": "SKU-1", "_sdc_deleted_at": DELETED}),
            record("catalog-products", {"itemId": "SKU-3", "_sdc_deleted_at": DELETED}),
        ],
    )
    assert run.returncode == 0, run.stderr
    assert sorted(emulator.catalog_items("products")) == ["SKU-0", "SKU-2"]
    assert emulator.endpoint_stats("DELETE /api/catalogs/{catalogName}/items")["requests"] == 1


def test_user_deletes_are_off_by_default_then_delete_or_forget(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    create = [USERS, *[record("users", {"email": f"u{i}@x.io", "plan": "pro"}) for i in range(3)]]
    assert run_target(tmp_path, target_config, create).returncode == 0

    deletions = [
        USERS,
        record("users", {"email": "u0@x.io", "_sdc_deleted_at": DELETED}),
        record("users", {"email": "u1@x.io", "plan": "free"}),
    ]
    kept = run_target(tmp_path / "..", {**target_config, "max_rejected_ratio": 1}, deletions)
    assert kept.returncode == 0, kept.stderr
    assert emulator.user_by_email("u0@x.io") is not None
    assert [r["reason"] for r in kept.rejects] == ["delete_not_enabled"]

    for mode, email in (("delete", "u0@x.io"), ("forget", "u2@x.io")):
        run = run_target(
            tmp_path,
            {**target_config, "stream_options": {"users": {"on_delete": mode}}},
            [USERS, record("users", {"email": email, "_sdc_deleted_at": DELETED})],
        )
        assert run.returncode == 0, run.stderr
        assert emulator.user_by_email(email) is None, mode
    assert emulator.user_by_email("u1@x.io")["dataFields"]["plan"] == "free"
    assert emulator.endpoint_stats("POST /api/users/forget")["requests"] == 1


def test_update_after_a_delete_of_the_same_user_is_not_merged_across_it(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    run = run_target(
        tmp_path,
        {**target_config, "stream_options": {"users": {"on_delete": "delete"}}},
        [
            USERS,
            record("users", {"email": "a@x.io", "plan": "old"}),
            record("users", {"email": "a@x.io", "_sdc_deleted_at": DELETED}),
            record("users", {"email": "a@x.io", "plan": "new"}),
        ],
    )
    assert run.returncode == 0, run.stderr
    assert emulator.user_by_email("a@x.io")["dataFields"] == {"plan": "new"}


def test_update_only_users_are_not_created(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    assert (
        run_target(
            tmp_path, target_config, [USERS, record("users", {"email": "old@x.io", "plan": "a"})]
        ).returncode
        == 0
    )
    run = run_target(
        tmp_path,
        {
            **target_config,
            "max_rejected_ratio": 1,
            "stream_options": {"users-crm": {"update_only": True}},
        },
        [
            schema("users-crm", {"email": {"type": "string"}, "plan": {"type": "string"}}),
            record("users-crm", {"email": "old@x.io", "plan": "b"}),
            record("users-crm", {"email": "new@x.io", "plan": "b"}),
            record("users-crm", {"email": "new@x.io", "plan": "c"}),
        ],
    )
    assert run.returncode == 0, run.stderr
    # One lookup per user (new@x.io's two updates were merged), before any read of ours.
    assert emulator.endpoint_stats(USER_LOOKUP)["requests"] == 2
    assert emulator.user_by_email("old@x.io")["dataFields"]["plan"] == "b"
    assert emulator.user_by_email("new@x.io") is None
    assert [(r["reason"], r["record"]["plan"]) for r in run.rejects] == [
        ("user_not_found", "b"),
        ("user_not_found", "c"),
    ]


def test_forgets_past_the_daily_quota_are_rejected_and_the_run_goes_on(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    """Earlier runs used the day's forgets: Iterable keeps answering 429. The forget is
    rejected (and the run's later ones, without a request), the other records land."""
    create = [USERS, *[record("users", {"email": f"f{i}@x.io"}) for i in range(9)]]
    assert run_target(tmp_path, target_config, create).returncode == 0
    # 1000 a day scaled to 3 (and users/forget to 1/s).
    emulator.update_settings(rate_limit_multiplier=0.003)
    forgets = [
        record("users", {"email": f"f{i}@x.io", "_sdc_deleted_at": DELETED}) for i in range(8)
    ]
    attempts = 4
    second_run = tmp_path / "second-run"
    second_run.mkdir()
    run = run_target(
        second_run,
        {
            **target_config,
            "max_attempts": attempts,
            "max_concurrent_requests": 1,
            "max_rejected_ratio": 1,
            "stream_options": {"users": {"on_delete": "forget"}},
        },
        [USERS, *forgets, record("users", {"email": "f8@x.io", "plan": "kept"})],
    )
    assert run.returncode == 0, run.stderr
    forgotten = [emulator.user_by_email(f"f{i}@x.io") is None for i in range(8)]
    assert forgotten == [True] * 3 + [False] * 5
    assert emulator.user_by_email("f8@x.io")["dataFields"]["plan"] == "kept"
    assert [(r["record"]["email"], r["reason"]) for r in run.rejects] == [
        (f"f{i}@x.io", "forget_quota_exceeded") for i in range(3, 8)
    ]
    assert "forgets of the day are used up" in run.rejects[0]["message"]
    # The first refused forget was tried max_attempts times; the next four were not sent
    # (they would have drawn 4 x max_attempts more 429s).
    assert emulator.endpoint_stats("POST /api/users/forget")["status_429"] < 2 * attempts
