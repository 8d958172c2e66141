"""Checkpoints: STATE only after acknowledgement; resumable after SIGKILL; clean SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from iterable_emulator.testing import EmulatorProcess
from tests.singer_io import TARGET, record, schema, singer_lines, state

# Faults and interruptions (scripts/test.sh runs these in a hybrid project only).
pytestmark = pytest.mark.faults


SEGMENT = 100
SEGMENTS = 30


def segmented_input() -> list[list[dict[str, Any]]]:
    """Segments of 50 users + 50 keyed events, each closed by STATE {"segment": k}."""
    segments = []
    for k in range(SEGMENTS):
        messages: list[dict[str, Any]] = []
        for i in range(k * SEGMENT // 2, (k + 1) * SEGMENT // 2):
            messages.append(record("users", {"email": f"u{i}@example.com", "n": i}))
            messages.append(
                record("events", {"email": f"u{i}@example.com", "eventName": "seen", "uid": i})
            )
        messages.append(state({"segment": k}))
        segments.append(messages)
    return segments


HEADER = [
    schema("users", {"email": {"type": "string"}, "n": {"type": "integer"}}),
    schema(
        "events",
        {"email": {"type": "string"}, "eventName": {"type": "string"}, "uid": {"type": "integer"}},
        key_properties=["uid"],
    ),
]


def start_target(
    tmp_path: Path, config: dict[str, Any], segments: list[list[dict[str, Any]]]
) -> Any:
    """Start the target fed like a real tap: a segment every 0.2 s, not all at once."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    process = subprocess.Popen(
        [*TARGET, "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "stderr.log").open("wb"),
    )

    def feed() -> None:
        try:
            process.stdin.write(singer_lines(HEADER).encode())
            for segment in segments:
                process.stdin.write(singer_lines(segment).encode())
                process.stdin.flush()
                time.sleep(0.2)
            process.stdin.close()
        except (BrokenPipeError, ValueError):
            pass  # the target was stopped mid-input, as the test intends

    threading.Thread(target=feed, daemon=True).start()
    return process


def read_states(process: Any, count: int) -> list[dict[str, Any]]:
    states = []
    while len(states) < count:
        line = process.stdout.readline()
        if not line:
            break
        states.append(json.loads(line))
    return states


def assert_delivered_through(emulator: EmulatorProcess, segment: int) -> None:
    """Everything before STATE {"segment": k} is in Iterable."""
    last = (segment + 1) * SEGMENT // 2 - 1
    for i in (0, last // 2, last):
        assert emulator.user_by_email(f"u{i}@example.com") is not None, i
    assert emulator.summary()["users"] >= last + 1
    assert emulator.summary()["events"] >= last + 1


@pytest.fixture
def slow_config(target_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Small requests and frequent checkpoints, so a run has a middle to kill."""
    return {
        **target_config,
        "checkpoint_seconds": 1,
        "users_batch_size": 25,
        "events_batch_size": 25,
        "rejects_path": str(tmp_path / "rejects.jsonl"),
    }


def test_killed_run_resumes_from_its_last_state_without_loss_or_duplicates(
    tmp_path: Path, emulator: EmulatorProcess, slow_config: dict[str, Any]
) -> None:
    emulator.set_faults(latency_ms=100)
    segments = segmented_input()
    first = start_target(tmp_path, slow_config, segments)
    states = read_states(first, 2)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    assert len(states) == 2, "the run ended before emitting two checkpoints"
    last = states[-1]["segment"]
    assert last < SEGMENTS - 1, "the kill came too late to test a resume"
    # The checkpoint was truthful: everything before it had landed when it was emitted.
    assert_delivered_through(emulator, last)

    emulator.set_faults()
    second = start_target(tmp_path, slow_config, segments[last + 1 :])
    assert second.wait(120) == 0
    total = SEGMENTS * SEGMENT // 2
    assert emulator.summary()["users"] == total
    # Keyed events carry derived ids: whatever the first run sent past its last
    # checkpoint was upserted again, not duplicated.
    assert emulator.summary()["events"] == total
    assert len(emulator.events_for(email=f"u{total - 1}@example.com")) == 1


def test_sigterm_stops_cleanly_with_truthful_states_and_a_non_zero_exit(
    tmp_path: Path, emulator: EmulatorProcess, slow_config: dict[str, Any]
) -> None:
    emulator.set_faults(latency_ms=100)
    process = start_target(tmp_path, slow_config, segmented_input())
    states = read_states(process, 1)
    assert states[-1]["segment"] < SEGMENTS - 1, "the signal came too late to test a stop"
    process.send_signal(signal.SIGTERM)
    remaining = process.stdout.read().decode().splitlines()
    assert process.wait(60) == 128 + signal.SIGTERM
    states += [json.loads(line) for line in remaining]
    assert states
    assert_delivered_through(emulator, states[-1]["segment"])
    log = (tmp_path / "stderr.log").read_text()
    assert "Stopped by signal 15" in log
    assert "Traceback" not in log


def test_sigterm_sends_what_was_read_then_a_final_state_and_a_rerun_delivers_the_rest(
    tmp_path: Path, emulator: EmulatorProcess, slow_config: dict[str, Any]
) -> None:
    emulator.set_faults(latency_ms=50)
    segments = segmented_input()
    process = start_target(tmp_path, slow_config, segments)
    read_states(process, 1)
    process.send_signal(signal.SIGTERM)
    remaining = process.stdout.read().decode().splitlines()
    assert process.wait(60) == 128 + signal.SIGTERM
    final = json.loads(remaining[-1])["segment"]
    assert final < SEGMENTS - 1, "the signal came too late to test a stop"
    # The final STATE claims exactly what Iterable acknowledged: all of it landed.
    assert_delivered_through(emulator, final)
    log = (tmp_path / "stderr.log").read_text()
    assert "sending what was already read" in log
    assert "Traceback" not in log

    emulator.set_faults()
    rerun = start_target(tmp_path, slow_config, segments[final + 1 :])
    assert rerun.wait(120) == 0
    total = SEGMENTS * SEGMENT // 2
    assert (emulator.summary()["users"], emulator.summary()["events"]) == (total, total)


def test_past_the_grace_period_queued_requests_are_abandoned_without_a_state(
    tmp_path: Path, emulator: EmulatorProcess, slow_config: dict[str, Any]
) -> None:
    emulator.set_faults(latency_ms=1500)
    process = start_target(tmp_path, {**slow_config, "stop_grace_seconds": 1}, segmented_input())
    time.sleep(3)  # requests queued and in flight, each answered 1.5 s late
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    states = [json.loads(line) for line in process.stdout.read().decode().splitlines()]
    assert process.wait(60) == 128 + signal.SIGTERM
    assert time.monotonic() - started < 15
    emulator.set_faults()
    if states:  # every STATE emitted, before or after the signal, was truthful
        assert_delivered_through(emulator, states[-1]["segment"])
    assert "stop_grace_seconds (1 s) is over" in (tmp_path / "stderr.log").read_text()


def test_a_second_signal_stops_at_once(
    tmp_path: Path, emulator: EmulatorProcess, slow_config: dict[str, Any]
) -> None:
    emulator.set_faults(latency_ms=3000)
    process = start_target(tmp_path, {**slow_config, "stop_grace_seconds": 60}, segmented_input())
    time.sleep(2)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    states = [json.loads(line) for line in process.stdout.read().decode().splitlines()]
    assert process.wait(30) == 128 + signal.SIGTERM
    assert time.monotonic() - started < 5
    emulator.set_faults()
    if states:
        assert_delivered_through(emulator, states[-1]["segment"])
    assert "stopping now, without a final STATE" in (tmp_path / "stderr.log").read_text()
