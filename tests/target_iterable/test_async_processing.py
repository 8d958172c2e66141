"""Iterable applies bulk writes asynchronously: the target must not rely on reading
its own writes at once.

The emulator runs with a processing delay (``--processing-delay-ms``): a user
written by bulkUpdate becomes visible only after it, and an event for a user
not visible yet is answered ``notFoundEmails``, as Iterable answers it
(issue 16; the emulator's rule ``async-writes`` cites its sources).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iterable_emulator.testing import EmulatorProcess
from tests.project_type import PROJECT_TYPE, with_user_ids
from tests.singer_io import record, run_target, schema, state

DELAY_MS = 1500
USERS = schema("users", {"email": {"type": "string"}, "plan": {"type": "string"}})
EVENTS = schema(
    "events",
    {"email": {"type": "string"}, "eventName": {"type": "string"}, "id": {"type": "string"}},
)


@pytest.fixture(scope="module")
def slow_emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess("--processing-delay-ms", str(DELAY_MS)) as process:
        yield process


@pytest.fixture
def config(slow_emulator: EmulatorProcess) -> dict[str, Any]:
    slow_emulator.reset()
    return {
        "api_key": slow_emulator.api_key,
        "api_base_url": slow_emulator.url,
        "project_type": PROJECT_TYPE.value,
    }


def users_then_events(count: int, first_user: int = 0) -> list[dict[str, Any]]:
    emails = [f"n{i}@x.io" for i in range(first_user, first_user + count)]
    return [
        USERS,
        *(record("users", {"email": email, "plan": "new"}) for email in emails),
        EVENTS,
        *(
            record("events", {"email": email, "eventName": "signup", "id": f"e-{email}"})
            for email in emails
        ),
        state({"done": True}),
    ]


def test_events_for_users_the_run_just_created_land_after_a_retry(
    tmp_path: Path, slow_emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    result = run_target(tmp_path, config, users_then_events(200))
    assert result.returncode == 0, result.stderr
    assert result.rejects == []
    assert "sending them again" in result.stderr  # they were answered not found first
    assert result.states == [{"done": True}]
    slow_emulator.settle()
    assert slow_emulator.summary()["events"] == 200


def test_events_for_users_nobody_wrote_are_rejected_without_waiting(
    tmp_path: Path, slow_emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    messages = [
        EVENTS,
        record("events", {"email": "ghost@x.io", "eventName": "signup", "id": "g1"}),
        state({"done": True}),
    ]
    result = run_target(tmp_path, {**config, "max_rejected_ratio": 1}, messages)
    assert result.returncode == 0, result.stderr
    assert [(r["reason"], r["record"]["email"]) for r in result.rejects] == [
        ("user_not_found", "ghost@x.io")
    ]
    assert "sending them again" not in result.stderr
    assert "still not found" not in result.rejects[0]["message"]


def test_the_retry_is_bounded_by_not_found_retry_seconds(
    tmp_path: Path, slow_emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    slow_emulator.update_settings(processing_delay_ms=8000)
    try:
        bounded = {**config, "not_found_retry_seconds": 1, "max_rejected_ratio": 1}
        result = run_target(tmp_path, bounded, users_then_events(3))
    finally:
        slow_emulator.update_settings(processing_delay_ms=DELAY_MS)
    assert result.returncode == 0, result.stderr
    assert sorted(r["reason"] for r in result.rejects) == ["user_not_found"] * 3
    assert all("not_found_retry_seconds" in r["message"] for r in result.rejects)
    assert result.states == [{"done": True}]  # rejected records are accounted for


def test_an_update_only_stream_finds_users_the_run_just_created(
    tmp_path: Path, slow_emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    """Its lookup of a user created moments earlier (not visible yet) is asked again."""
    updates = schema("users-updates", {"email": {"type": "string"}, "plan": {"type": "string"}})
    messages = [
        USERS,
        record("users", {"email": "fresh@x.io", "plan": "new"}),
        updates,
        record("users-updates", {"email": "fresh@x.io", "plan": "upgraded"}),
        record("users-updates", {"email": "stranger@x.io", "plan": "upgraded"}),
        state({"done": True}),
    ]
    only_updates = {**config, "stream_options": {"users-updates": {"update_only": True}}}
    result = run_target(tmp_path, {**only_updates, "max_rejected_ratio": 1}, messages)
    assert result.returncode == 0, result.stderr
    assert [(r["reason"], r["record"]["email"]) for r in result.rejects] == [
        ("user_not_found", "stranger@x.io")
    ]
    assert slow_emulator.user_by_email("fresh@x.io")["dataFields"]["plan"] == "upgraded"
    assert slow_emulator.user_by_email("stranger@x.io") is None


def test_a_user_deleted_then_written_again_in_one_run_ends_as_written(
    tmp_path: Path, slow_emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    """User deletes travel apart from bulk updates, which can overtake them (the
    emulator's rule async-pipelines): the re-creation waits for the deletion."""
    slow_emulator.api(
        "POST",
        "/api/users/bulkUpdate",
        json={"users": [with_user_ids({"email": "back@x.io", "dataFields": {"plan": "old"}})]},
    )
    slow_emulator.settle()
    users = schema(
        "users",
        {
            "email": {"type": "string"},
            "plan": {"type": "string"},
            "_sdc_deleted_at": {"type": ["null", "string"]},
        },
    )
    messages = [
        users,
        record("users", {"email": "back@x.io", "_sdc_deleted_at": "2024-05-01"}),
        record("users", {"email": "back@x.io", "plan": "new"}),
        state({"done": True}),
    ]
    deleting = {**config, "stream_options": {"users": {"on_delete": "delete"}}}
    result = run_target(tmp_path, deleting, messages)
    assert result.returncode == 0, result.stderr
    assert result.rejects == []
    assert slow_emulator.user_by_email("back@x.io")["dataFields"] == {"plan": "new"}
