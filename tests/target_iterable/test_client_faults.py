"""The client against the emulator's fault switches, through the real CLI."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from iterable_emulator.testing import EmulatorProcess
from tests.singer_io import TargetRun, record, run_target, schema, state

# Faults and interruptions (scripts/test.sh runs these in a hybrid project only).
pytestmark = pytest.mark.faults


BULK_UPDATE = "POST /api/users/bulkUpdate"


def users_input(count: int) -> list[dict[str, Any]]:
    return [
        schema("users", {"email": {"type": "string"}, "n": {"type": "integer"}}),
        *[record("users", {"email": f"u{i}@example.com", "n": i}) for i in range(count)],
        state({"done": True}),
    ]


def run_users(tmp_path: Path, config: dict[str, Any], count: int = 50) -> TargetRun:
    # Small requests so that faults hit several of them.
    return run_target(tmp_path, {**config, "users_batch_size": 10}, users_input(count))


def test_429_burst_and_5xx_are_retried_and_everything_lands(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    emulator.set_faults(rate_limit_burst=3, error_rate=0.3, seed=7)
    run = run_users(tmp_path, target_config)
    assert run.returncode == 0, run.stderr
    assert emulator.summary()["users"] == 50
    assert emulator.user_by_email("u49@example.com")["dataFields"]["n"] == 49
    # The burst and the errors hit the pre-flight read (GET getFields) and the bulkUpdates.
    total = emulator.stats()["total"]
    assert total["status_429"] >= 3
    assert total["status_5xx"] >= 1
    assert run.states == [{"done": True}]
    summary = re.search(r"retries=(\d+) rate_limited=(\d+)", run.stderr)
    assert summary is not None
    retries, rate_limited = map(int, summary.groups())
    bulk = emulator.endpoint_stats(BULK_UPDATE)  # the stream's own requests
    assert rate_limited == bulk["status_429"]
    assert retries == bulk["status_429"] + bulk["status_5xx"]


def test_dropped_connections_are_retried(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    emulator.set_faults(drop_rate=0.4, seed=3)
    run = run_users(tmp_path, target_config)
    assert run.returncode == 0, run.stderr
    assert emulator.summary()["users"] == 50
    assert emulator.endpoint_stats(BULK_UPDATE)["dropped"] >= 1


def test_retry_after_is_honoured(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    emulator.set_faults(rate_limit_burst=1, retry_after=2)
    run = run_users(tmp_path, target_config, count=5)
    assert run.returncode == 0, run.stderr
    assert "retry 1/5 in 2.0s" in run.stderr
    assert emulator.summary()["users"] == 5


def test_bad_api_key_fails_fast_without_printing_the_key(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    secret = "sk-live-0123456789abcdef"
    run = run_users(tmp_path, {**target_config, "api_key": secret})
    assert run.returncode == 1
    assert "Iterable refused the API key for region 'us'" in run.stderr
    assert "Traceback" not in run.stderr
    assert secret not in run.stderr + run.stdout
    assert run.states == []
    # No retries, and nothing is sent after the refused request (the pre-flight read
    # of the user fields, at the SCHEMA message).
    assert emulator.stats()["total"]["requests"] == 1
    assert emulator.endpoint_stats(BULK_UPDATE)["requests"] == 0


def test_persistent_errors_fail_the_run_after_the_attempt_budget(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    emulator.set_faults(error_rate=1.0)
    run = run_users(tmp_path, {**target_config, "max_attempts": 3}, count=5)
    assert run.returncode == 1
    # The first request, the pre-flight read at SCHEMA, fails after 3 attempts.
    assert "GET /api/users/getFields" in run.stderr
    assert "still failing after 3 attempts" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.states == []
    assert emulator.stats()["total"]["requests"] == 3
