"""A project that drops unrecognized fields answers ``filteredOutFields``: never silent.

The emulator's rule ``drop-unrecognized-fields`` (spec: BulkUpdateUsersRequest.
createNewFields, UserBulkUpdateListResponse.filteredOutFields) drops top-level
fields the project does not have and names them in the answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from iterable_emulator.testing import EmulatorProcess
from tests.singer_io import TargetRun, record, run_target, schema, state

USERS = schema(
    "users",
    {"email": {"type": "string"}, "plan": {"type": "string"}, "shoe_size": {"type": "integer"}},
)


def load(tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any]) -> TargetRun:
    # (The emulator fixture's reset restores the start-up settings for the next test.)
    emulator.update_settings(drop_unrecognized_fields=True, user_fields={"plan": "string"})
    rows = [
        {"email": "a@x.io", "plan": "pro", "shoe_size": 42},
        {"email": "b@x.io", "plan": "free"},
        {"email": "c@x.io", "plan": "pro", "shoe_size": 38},
    ]
    messages = [USERS, *(record("users", row) for row in rows), state({"n": 3})]
    return run_target(tmp_path, {**config, "max_rejected_ratio": 1}, messages)


def test_dropped_fields_are_warned_about_and_counted(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    result = load(tmp_path, emulator, target_config)
    assert result.returncode == 0, result.stderr
    assert "Iterable dropped the fields ['shoe_size']" in result.stderr
    assert "filtered_out_fields=2" in result.stderr  # a and c carried it
    assert result.rejects == []
    assert "shoe_size" not in emulator.user_by_email("a@x.io")["dataFields"]


def test_on_filtered_fields_reject_sends_the_records_to_the_rejects_file(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    rejecting = {**target_config, "stream_options": {"users": {"on_filtered_fields": "reject"}}}
    result = load(tmp_path, emulator, rejecting)
    assert result.returncode == 0, result.stderr
    assert [(r["reason"], r["record"]["email"]) for r in result.rejects] == [
        ("filtered_out_fields", "a@x.io"),
        ("filtered_out_fields", "c@x.io"),
    ]
    assert "['shoe_size']" in result.rejects[0]["message"]
    assert "accepted=1 rejected=2" in result.stderr
