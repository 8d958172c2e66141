"""Action streams through the real binary: at most once per row, guarded, planned."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from iterable_emulator.testing import EmulatorProcess
from tests.project_type import named_user, sole_identifier, sole_identity, with_user_ids
from tests.singer_io import TargetRun, record, run_target, schema, spawn_target, state

RENEWALS = schema(
    "journey-4321",
    {"id": {"type": "integer"}, "email": {"type": "string"}, "renewal": {"type": "string"}},
    ["id"],
)


def renewals(*rows: tuple[int, str, str]) -> list[dict[str, Any]]:
    return [
        RENEWALS,
        *(record("journey-4321", {"id": i, "email": e, "renewal": r}) for i, e, r in rows),
        state({"done": True}),
    ]


def run(tmp_path: Path, config: dict[str, Any], messages: list[Any]) -> TargetRun:
    directory = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
    directory.mkdir()
    return run_target(directory, {**config, "sync_state_url": str(tmp_path / "s.db")}, messages)


def test_an_action_stream_without_key_properties_is_refused_at_schema(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    keyless = schema("send-email-99", {"email": {"type": "string"}})
    refused = run(tmp_path, target_config, [keyless, record("send-email-99", {"email": "a@x.io"})])
    assert refused.returncode == 1
    assert "stream 'send-email-99' triggers actions in Iterable, at most once per row" in (
        refused.stderr
    )
    assert "allow_repeats" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert emulator.requests_log() == []


def test_max_actions_per_run_stops_a_runaway_model_before_it_sends(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    capped = {**target_config, "stream_options": {"journey-4321": {"max_actions_per_run": 3}}}
    rows = [(i, f"u{i}@x.io", "2025-01-31") for i in range(5)]
    stopped = run(tmp_path, capped, renewals(*rows))
    assert stopped.returncode == 1
    assert "stream 'journey-4321' would make more than 3 calls this run" in stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert stopped.states == []
    assert emulator.requests_log("/api/workflows/triggerWorkflow") == []


def test_a_dry_run_plans_each_action_and_fires_none(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    plan = tmp_path / "plan.jsonl"
    preview = run(
        tmp_path,
        {**target_config, "dry_run": True, "dry_run_path": str(plan)},
        renewals((1, "a@x.io", "2025-01-31"), (2, "b@x.io", "2025-02-28")),
    )
    assert preview.returncode == 0, preview.stderr
    assert emulator.requests_log("/api/workflows/triggerWorkflow") == []
    lines = [json.loads(line) for line in plan.read_text().splitlines()]
    assert [(line["path"], line["body"]) for line in lines] == [
        (
            "/api/workflows/triggerWorkflow",
            {
                "workflowId": 4321,
                **sole_identity("a@x.io"),
                "dataFields": {"id": 1, "renewal": "2025-01-31"},
            },
        ),
        (
            "/api/workflows/triggerWorkflow",
            {
                "workflowId": 4321,
                **sole_identity("b@x.io"),
                "dataFields": {"id": 2, "renewal": "2025-02-28"},
            },
        ),
    ]


def triggered(emulator: EmulatorProcess) -> int:
    return len(emulator.requests_log("/api/workflows/triggerWorkflow"))


def create_users(emulator: EmulatorProcess, *emails: str) -> None:
    """Journeys and sends go to users Iterable has (they do not create users)."""
    body = {"users": [with_user_ids({"email": email, "dataFields": {}}) for email in emails]}
    assert emulator.api("POST", "/api/users/bulkUpdate", json=body).status_code == 200


def test_a_journey_fires_once_per_row_and_again_when_the_row_changes(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    rows = [(1, "a@x.io", "2025-01-31"), (2, "b@x.io", "2025-02-28")]
    create_users(emulator, "a@x.io", "b@x.io")
    first = run(tmp_path, target_config, renewals(*rows))
    assert first.returncode == 0, first.stderr
    assert [(j["workflowId"], named_user(j)) for j in emulator.journeys()] == [
        (4321, sole_identifier("a@x.io")),
        (4321, sole_identifier("b@x.io")),
    ]
    again = run(tmp_path, target_config, renewals(*rows))
    assert again.returncode == 0, again.stderr
    assert triggered(emulator) == 2  # nothing fired again
    assert "unchanged=2" in again.stderr
    # full_resync and change_detection do not re-fire actions.
    resync = {**target_config, "full_resync": True, "change_detection": False}
    assert run(tmp_path, resync, renewals(*rows)).returncode == 0
    assert triggered(emulator) == 2
    renewed = run(tmp_path, target_config, renewals((1, "a@x.io", "2026-01-31"), rows[1]))
    assert renewed.returncode == 0, renewed.stderr
    assert triggered(emulator) == 3
    assert emulator.journeys()[-1]["dataFields"]["renewal"] == "2026-01-31"


def test_allow_repeats_fires_every_run(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    repeats = {**target_config, "stream_options": {"journey-4321": {"allow_repeats": True}}}
    create_users(emulator, "a@x.io")
    for _ in range(2):
        assert run(tmp_path, repeats, renewals((1, "a@x.io", "x"))).returncode == 0
    assert triggered(emulator) == 2


def test_sends_go_to_each_channel_once(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    create_users(emulator, "a@x.io")
    for stream, channel in [("send-email-99", "email"), ("send-sms-98", "sms")]:
        messages = [
            schema(stream, {"id": {"type": "string"}, "email": {"type": "string"}}, ["id"]),
            record(stream, {"id": "r1", "email": "a@x.io", "firstName": "Ada"}),
        ]
        for _ in range(2):
            result = run(tmp_path, target_config, messages)
            assert result.returncode == 0, result.stderr
        sends = emulator.sends(channel=channel)
        assert len(sends) == 1, sends
        assert named_user(sends[0]) == sole_identifier("a@x.io")
        assert sends[0]["dataFields"] == {"id": "r1", "firstName": "Ada"}


def test_user_merges_and_user_actions(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    for email in ("old@x.io", "new@x.io", "gone@x.io"):
        body = {"users": [with_user_ids({"email": email, "dataFields": {"seen": 1}})]}
        assert emulator.api("POST", "/api/users/bulkUpdate", json=body).status_code == 200
    merges = [
        schema("user-merges", {"id": {"type": "integer"}}, ["id"]),
        record("user-merges", {"id": 1, "sourceEmail": "old@x.io", "destinationEmail": "new@x.io"}),
    ]
    assert run(tmp_path, target_config, merges).returncode == 0
    assert emulator.user_by_email("old@x.io") is None
    assert emulator.user_by_email("new@x.io") is not None
    actions = [
        schema("user-actions", {"id": {"type": "integer"}}, ["id"]),
        record("user-actions", {"id": 1, "action": "delete", "email": "gone@x.io"}),
        record("user-actions", {"id": 2, "action": "fly", "email": "new@x.io"}),
    ]
    result = run(tmp_path, {**target_config, "max_rejected_ratio": 1}, actions)
    assert result.returncode == 0, result.stderr
    assert emulator.user_by_email("gone@x.io") is None
    assert [r["reason"] for r in result.rejects] == ["invalid_value"]
    assert "deleted=1" in result.stderr


def test_a_crash_and_rerun_fires_each_action_once_but_for_the_one_in_flight(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    """Each action is recorded right after Iterable's answer: a kill can repeat only
    the calls in flight at that moment (one, with one request at a time)."""
    emulator.set_faults(latency_ms=200)
    config = {
        **target_config,
        "max_concurrent_requests": 1,
        "batch_size_rows": 5,
        "sync_state_url": str(tmp_path / "s.db"),
    }
    rows = [(i, f"u{i}@x.io", "2025-01-31") for i in range(40)]
    create_users(emulator, *(email for _, email, _ in rows))
    process = spawn_target(
        tmp_path, {**config, "rejects_path": str(tmp_path / "r")}, renewals(*rows)
    )
    deadline = time.monotonic() + 30
    while triggered(emulator) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    emulator.set_faults()
    assert 0 < triggered(emulator) < 40
    rerun = run(tmp_path, config, renewals(*rows))
    assert rerun.returncode == 0, rerun.stderr
    fired = Counter(named_user(j) for j in emulator.journeys())
    assert set(fired) == {sole_identifier(email) for _, email, _ in rows}
    assert sum(fired.values()) - len(rows) <= 1  # at most the one in flight, twice


@pytest.mark.parametrize(
    ("prefix", "channel"),
    [
        ("send-push-", "push"),
        ("send-in-app-", "inApp"),
        ("send-web-push-", "webPush"),
        ("send-whatsapp-", "whatsApp"),
    ],
)
def test_every_send_channel_reaches_its_endpoint(
    tmp_path: Path,
    emulator: EmulatorProcess,
    target_config: dict[str, Any],
    prefix: str,
    channel: str,
) -> None:
    create_users(emulator, "a@x.io")
    stream = f"{prefix}77"
    messages = [
        schema(stream, {"id": {"type": "integer"}, "userId": {"type": "string"}}, ["id"]),
        record(stream, {"id": 1, "email": "a@x.io", "offer": "10%"}),
    ]
    result = run(tmp_path, target_config, messages)
    assert result.returncode == 0, result.stderr
    [sent] = emulator.sends(channel=channel)
    assert (sent["campaignId"], named_user(sent)) == (77, sole_identifier("a@x.io"))
    assert sent["dataFields"] == {"id": 1, "offer": "10%"}


def test_email_updates_and_forget_unforget(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    create_users(emulator, "old@x.io", "gdpr@x.io")
    updates = [
        schema("email-updates", {"id": {"type": "integer"}}, ["id"]),
        record("email-updates", {"id": 1, "currentEmail": "old@x.io", "newEmail": "new@x.io"}),
    ]
    for _ in range(2):  # the second run changes nothing: at most once
        result = run(tmp_path, target_config, updates)
        assert result.returncode == 0, result.stderr
    assert emulator.user_by_email("new@x.io") is not None
    assert emulator.user_by_email("old@x.io") is None
    assert len(emulator.requests_log("/api/users/updateEmail")) == 1

    def action(key: int, name: str) -> list[dict[str, Any]]:
        return [
            schema("user-actions", {"id": {"type": "integer"}}, ["id"]),
            record("user-actions", {"id": key, "action": name, "email": "gdpr@x.io"}),
        ]

    assert run(tmp_path, target_config, action(1, "forget")).returncode == 0
    assert emulator.user_by_email("gdpr@x.io") is None
    assert run(tmp_path, target_config, action(2, "unforget")).returncode == 0
    create_users(emulator, "gdpr@x.io")  # writable again after unforget
    assert emulator.user_by_email("gdpr@x.io") is not None
