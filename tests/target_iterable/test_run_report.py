"""The run report: written at the end of every run, valid against its published schema,
and free of the API key and of record values."""

from __future__ import annotations

import json
import signal
import socket
import stat
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from iterable_emulator.testing import EmulatorProcess
from tests.singer_io import TargetRun, record, run_target, schema, spawn_target, state

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "run-report.schema.json").read_text())
# Record values no report may contain (the emails are values too).
MARKER = "PRIVATE-VALUE-7f3a"


def users(count: int, *, bad: int = 0) -> list[dict[str, Any]]:
    return [
        schema("users", {"email": {"type": "string"}, "plan": {"type": "string"}}),
        *[record("users", {"email": f"u{i}@example.com", "plan": MARKER}) for i in range(count)],
        *[record("users", {"email": f"{MARKER}-{i}", "plan": MARKER}) for i in range(bad)],
        state({"bookmark": count}),
    ]


def read_report(path: Path, api_key: str) -> dict[str, Any]:
    """The report, checked against the schema, its mode, and for secrets and values."""
    text = path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert api_key not in text
    assert MARKER not in text
    assert "@example.com" not in text
    report: dict[str, Any] = json.loads(text)
    jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(report)
    return report


def run_with_report(tmp_path: Path, config: dict[str, Any], messages: Any) -> TargetRun:
    return run_target(
        tmp_path, {**config, "run_report_path": str(tmp_path / "report.json")}, messages
    )


def test_a_successful_run_with_rejects_is_reported(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    run = run_with_report(tmp_path, {**target_config, "users_batch_size": 10}, users(40, bad=2))
    assert run.returncode == 0, run.stderr
    report = read_report(tmp_path / "report.json", emulator.api_key)
    assert report["outcome"] == {"status": "succeeded", "exit_code": 0, "error": None}
    assert report["last_state"] == {"bookmark": 40}
    assert report["rejects"]["count"] == 2
    assert report["dry_run"] is False
    stream = report["streams"]["users"]
    assert (stream["received"], stream["sent"], stream["accepted"]) == (42, 40, 40)
    assert (stream["rejected"], stream["reject_reasons"]) == (2, {"invalid_email": 2})
    assert (stream["requests"], stream["retries"], stream["rate_limited"]) == (4, 0, 0)
    assert stream["bytes_sent"] > 40 * len(b'{"email":"u0@example.com"}')
    assert report["duration_seconds"] >= stream["duration_seconds"] > 0


def test_retries_and_rate_limited_answers_are_counted(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    emulator.set_faults(rate_limit_burst=2)
    run = run_with_report(tmp_path, {**target_config, "users_batch_size": 10}, users(30))
    assert run.returncode == 0, run.stderr
    stream = read_report(tmp_path / "report.json", emulator.api_key)["streams"]["users"]
    bulk = emulator.endpoint_stats("POST /api/users/bulkUpdate")
    assert stream["rate_limited"] == bulk["status_429"]
    assert stream["retries"] == bulk["status_429"] + bulk["status_5xx"]
    assert stream["requests"] == 3


def test_a_refused_api_key_is_reported_with_its_error_line(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    wrong_key = "wrong-key-SECRET-123"
    run = run_with_report(tmp_path, {**target_config, "api_key": wrong_key}, users(5))
    assert run.returncode == 1
    report = read_report(tmp_path / "report.json", wrong_key)
    assert report["outcome"]["status"] == "failed"
    assert report["outcome"]["exit_code"] == 1
    assert "Iterable refused the API key" in report["outcome"]["error"]
    assert report["outcome"]["error"] in run.stderr
    assert report["last_state"] is None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_run_against_an_unreachable_iterable_is_reported(
    tmp_path: Path, target_config: dict[str, Any]
) -> None:
    config = {
        **target_config,
        "api_base_url": f"http://127.0.0.1:{free_port()}",
        "max_attempts": 1,
    }
    run = run_with_report(tmp_path, config, users(5))
    assert run.returncode == 1
    report = read_report(tmp_path / "report.json", config["api_key"])
    assert report["outcome"]["status"] == "failed"
    assert "still failing after 1 attempts (last: network error" in report["outcome"]["error"]


def test_a_run_over_max_rejected_ratio_is_reported_as_failed(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    run = run_with_report(tmp_path, target_config, users(1, bad=3))
    assert run.returncode == 1
    report = read_report(tmp_path / "report.json", emulator.api_key)
    assert report["outcome"]["status"] == "failed"
    assert "over max_rejected_ratio 50%" in report["outcome"]["error"]
    assert report["streams"]["users"]["reject_reasons"] == {"invalid_email": 3}
    assert report["last_state"] == {"bookmark": 1}


def test_a_failing_schema_violation_is_reported_by_field_and_rule(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    messages = [
        schema("users", {"email": {"type": "string"}, "age": {"type": "integer"}}),
        record("users", {"email": "a@example.com", "age": MARKER}),
    ]
    config = {**target_config, "schema_violations": "fail"}
    run = run_with_report(tmp_path, config, messages)
    assert run.returncode == 1
    report = read_report(tmp_path / "report.json", emulator.api_key)
    assert report["outcome"]["error"].startswith("target-iterable failed: line 2, stream 'users'")
    assert report["outcome"]["error"].endswith("field 'age' must be integer")


def test_a_stopped_run_is_reported_with_its_signal(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    emulator.set_faults(latency_ms=100)
    path, log = tmp_path / "report.json", tmp_path / "target.log"
    config = {**target_config, "run_report_path": str(path), "progress_seconds": 0.2}
    with log.open("wb") as output:
        # No end of input: the records wait in the sink for a checkpoint.
        process = spawn_target(tmp_path, config, users(200)[:-1], output=output.fileno())
        deadline = time.monotonic() + 60
        while "users: 200 received" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 128 + signal.SIGTERM
    report = read_report(path, emulator.api_key)
    assert report["outcome"] == {
        "status": "stopped",
        "exit_code": 128 + signal.SIGTERM,
        "error": f"stopped by signal {int(signal.SIGTERM)}",
    }
    assert report["streams"]["users"]["accepted"] == 200  # sent within the grace period


@pytest.mark.parametrize("dry_run", [True, False])
def test_no_report_unless_asked(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any], dry_run: bool
) -> None:
    run = run_target(tmp_path, {**target_config, "dry_run": dry_run}, users(3))
    assert run.returncode == 0, run.stderr
    assert not list(tmp_path.glob("*report*"))
