"""Iterable's limit of 1000 user fields per project is refused locally.

bulkUpdateUser: "a soft limit of 1,000 unique user profile fields"; nested fields
count by their dotted path (support article "Field Data Types"). The emulator
refuses a request past it (rule user-field-limit); the target refuses the record
that would pass it before it costs a request, and sends the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from iterable_emulator.testing import EmulatorProcess
from tests.singer_io import record, run_target, schema, state

USERS = schema(
    "users",
    {"email": {"type": "string"}, "f0": {"type": "string"}, "extra": {"type": "object"}},
)


def test_new_fields_past_the_project_limit_are_refused_before_sending(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    emulator.update_settings(user_fields={f"f{i}": "string" for i in range(996)})
    messages = [
        USERS,
        record("users", {"email": "a@x.io", "extra": {"n1": 1, "n2": 2}}),  # 996 + 3 = 999
        record("users", {"email": "b@x.io", "extra": {"n3": 3, "n4": 4}}),  # would be 1001
        record("users", {"email": "c@x.io", "f0": "known"}),
        state({"done": True}),
    ]
    result = run_target(tmp_path, {**target_config, "max_rejected_ratio": 1}, messages)
    assert result.returncode == 0, result.stderr
    assert [(r["reason"], r["record"]["email"]) for r in result.rejects] == [
        ("field_limit_exceeded", "b@x.io")
    ]
    assert "['extra.n3', 'extra.n4']" in result.rejects[0]["message"]
    assert emulator.user_by_email("a@x.io")["dataFields"]["extra"] == {"n1": 1, "n2": 2}
    assert emulator.user_by_email("c@x.io") is not None
    assert emulator.endpoint_stats("POST /api/users/bulkUpdate")["status_4xx"] == 0
