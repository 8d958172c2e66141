"""Hostile networks and personal data: the real binary behind a fault-injecting proxy.

Nothing is lost (every record lands exactly once, or is in the rejects file),
nothing leaks (the key is in no file a run writes), and what cannot be done
fails at once with one clear line.
"""

from __future__ import annotations

import stat
import time
from pathlib import Path
from typing import Any

import pytest

from iterable_emulator.testing import EmulatorProcess
from tests.fault_proxy import fault_proxy
from tests.singer_io import record, run_target, schema, state

# Faults and interruptions (scripts/test.sh runs these in a hybrid project only).
pytestmark = pytest.mark.faults


USERS = schema("users", {"email": {"type": "string"}, "n": {"type": "integer"}})
EVENTS = schema(
    "events",
    {"email": {"type": "string"}, "eventName": {"type": "string"}, "uid": {"type": "string"}},
    ["uid"],
)
ITEMS = schema("catalog-items", {"itemId": {"type": "string"}, "n": {"type": "integer"}})


def mixed(users: int, events: int, items: int) -> list[dict[str, Any]]:
    return [
        USERS,
        *(record("users", {"email": f"u{i}@x.io", "n": i}) for i in range(users)),
        EVENTS,
        *(
            record("events", {"email": f"u{i % users}@x.io", "eventName": "e", "uid": f"e{i}"})
            for i in range(events)
        ),
        ITEMS,
        *(record("catalog-items", {"itemId": f"I{i}", "n": i}) for i in range(items)),
        state({"done": True}),
    ]


def test_faulty_connections_lose_nothing_and_duplicate_nothing(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    """~20% of connections faulted: reset before or after Iterable applied the request,
    a truncated answer, an HTML page with HTTP 200, an answer past the timeout."""
    rates = {"reset_before": 0.05, "reset_after": 0.05, "truncate": 0.04, "html": 0.04}
    rates["slow"] = 0.02
    with fault_proxy(emulator.url, rates=rates, seed=11, slow_seconds=3) as proxy:
        config = {
            **target_config,
            "api_base_url": proxy.url,
            "request_timeout_seconds": 1,
            "max_attempts": 12,
            "users_batch_size": 40,
            "events_batch_size": 40,
            "catalog_batch_size": 40,
        }
        run = run_target(tmp_path, config, mixed(1500, 1200, 400), timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert all(proxy.counts[fault] > 0 for fault in rates), proxy.counts
    assert run.rejects == []
    assert run.states == [{"done": True}]
    summary = emulator.summary()
    assert (summary["users"], summary["events"]) == (1500, 1200)
    assert len(emulator.catalog_items("items")) == 400
    # Events are upserted by their id: a retry after "reset_after" updated, not duplicated.
    assert len(emulator.events_for(email="u7@x.io")) == 1
    assert "Traceback" not in run.stderr


def test_a_refused_connection_fails_quickly_with_one_line_and_no_state(
    tmp_path: Path, target_config: dict[str, Any]
) -> None:
    closed_port = {**target_config, "api_base_url": "http://127.0.0.1:9", "max_attempts": 2}
    started = time.monotonic()
    run = run_target(tmp_path, closed_port, mixed(5, 0, 0))
    assert run.returncode == 1
    assert time.monotonic() - started < 30
    assert "network error (ConnectionError)" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.states == []


def test_a_host_that_does_not_resolve_is_one_clear_line(
    tmp_path: Path, target_config: dict[str, Any]
) -> None:
    unknown = {
        **target_config,
        "api_base_url": "https://no-such-host.invalid",
        "max_attempts": 2,
    }
    run = run_target(tmp_path, unknown, mixed(3, 0, 0))
    assert run.returncode == 1
    assert "target-iterable failed" in run.stderr
    assert "network error" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.states == []


def test_the_rejects_file_is_readable_by_its_owner_only(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    run = run_target(
        tmp_path, {**target_config, "max_rejected_ratio": 1}, [USERS, record("users", {"n": 1})]
    )
    assert run.returncode == 0, run.stderr
    mode = stat.S_IMODE((tmp_path / "rejects.jsonl").stat().st_mode)
    assert mode == 0o600


def test_an_unwritable_rejects_path_fails_at_once_naming_it(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("")
    rejects = blocker / "rejects.jsonl"  # a path under a regular file
    run = run_target(tmp_path, {**target_config, "rejects_path": str(rejects)}, mixed(3, 0, 0))
    assert run.returncode == 1
    assert f"cannot write the rejects file {rejects}" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.states == []
    assert emulator.summary()["users"] == 0  # nothing sent before the check


def test_the_api_key_is_in_no_file_a_run_writes_even_at_debug_level(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    key = emulator.api_key
    with fault_proxy(emulator.url, rates={"reset_after": 0.2, "html": 0.1}, seed=5) as proxy:
        config = {
            **target_config,
            "api_base_url": proxy.url,
            "max_attempts": 10,
            "users_batch_size": 5,
            "max_rejected_ratio": 1,
            "sync_state_url": str(tmp_path / "sync.db"),
        }
        messages = [*mixed(30, 10, 5), record("users", {"n": 0})]
        run = run_target(tmp_path, config, messages, env={"LOGLEVEL": "DEBUG"})
        preview = run_target(
            tmp_path,
            {**config, "dry_run": True, "dry_run_path": str(tmp_path / "plan.jsonl")},
            messages,
            env={"LOGLEVEL": "DEBUG"},
        )
    assert run.returncode == 0, run.stderr[-3000:]
    assert preview.returncode == 0, preview.stderr[-3000:]
    assert "DEBUG" in run.stderr
    assert key not in run.stdout + run.stderr + preview.stdout + preview.stderr
    # Every file the runs wrote (config.json is the test's input, which holds the key).
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "config.json"]
    assert {p.name for p in written} >= {"rejects.jsonl", "plan.jsonl", "sync.db"}
    for path in written:
        assert key.encode() not in path.read_bytes(), path
