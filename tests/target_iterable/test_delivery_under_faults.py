"""Nothing lost under faults: every record lands once or is rejected with its reason."""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iterable_emulator.testing import EmulatorProcess
from tests.singer_io import TARGET, record, run_target, schema, singer_lines, state

# Faults and interruptions (scripts/test.sh runs these in a hybrid project only).
pytestmark = pytest.mark.faults


SEGMENTS = 20
PER_SEGMENT = 60  # valid users, and as many events, per segment
ITEMS_PER_SEGMENT = 20

HEADER = [
    schema(
        "users",
        {
            "email": {"type": ["string", "null"]},
            "userId": {"type": ["string", "null"]},
            "n": {"type": "integer"},
        },
    ),
    schema(
        "events",
        {
            "email": {"type": "string"},
            "eventName": {"type": ["string", "null"]},
            "uid": {"type": "integer"},
        },
        key_properties=["uid"],
    ),
    schema(
        "catalog-products",
        {"itemId": {"type": "string"}, "price": {"type": "number"}},
        key_properties=["itemId"],
    ),
]


def segment(k: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """One segment of input, and the reason expected for each invalid record (by key)."""
    messages: list[dict[str, Any]] = []
    invalid: dict[str, str] = {}
    for i in range(k * PER_SEGMENT, (k + 1) * PER_SEGMENT):
        messages.append(record("users", {"email": f"u{i}@example.com", "n": i}))
        messages.append(
            record("events", {"email": f"u{i}@example.com", "eventName": "seen", "uid": i})
        )
    for j in range(k * ITEMS_PER_SEGMENT, (k + 1) * ITEMS_PER_SEGMENT):
        messages.append(record("catalog-products", {"itemId": f"SKU-{j}", "price": j}))
    bad = [
        ({"email": f"bad{k}.example.com", "n": -1 - 10 * k}, "invalid_email"),
        ({"n": -2 - 10 * k}, "missing_identity"),
        ({"userId": f"{'x' * 60}{k}", "n": -3 - 10 * k}, "invalid_user_id"),
    ]
    no_name = {"email": f"u{k}@example.com", "eventName": None, "uid": -1 - k}
    bad_item = {"itemId": f"BAD ID {k}", "price": 1}
    for stream, data, reason in [
        *(("users", data, reason) for data, reason in bad),
        ("events", no_name, "missing_event_name"),
        ("catalog-products", bad_item, "invalid_item_id"),
    ]:
        messages.append(record(stream, data))
        invalid[json.dumps(messages[-1]["record"], sort_keys=True)] = reason
    messages.append(state({"segment": k}))
    return messages, invalid


def assert_segment_delivered(emulator: EmulatorProcess, k: int) -> None:
    """What a STATE {"segment": k} claims: segments 0..k are in Iterable."""
    last_user = (k + 1) * PER_SEGMENT - 1
    for i in (0, last_user - PER_SEGMENT + 1, last_user):
        assert emulator.user_by_email(f"u{i}@example.com") is not None, (k, i)
        assert len(emulator.events_for(email=f"u{i}@example.com")) == 1, (k, i)
    assert emulator.catalog_item("products", f"SKU-{(k + 1) * ITEMS_PER_SEGMENT - 1}"), k


def test_faulty_iterable_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    emulator.set_faults(
        error_rate=0.1,
        rate_limit_burst=5,
        latency_spike_rate=0.1,
        latency_spike_ms=1000,
        drop_rate=0.05,
        drop_after_processing_rate=0.05,
        seed=11,
    )
    config = {
        **target_config,
        "max_attempts": 12,
        "checkpoint_seconds": 1,
        "users_batch_size": 100,
        "events_batch_size": 100,
        "catalog_batch_size": 100,
        "rejects_path": str(tmp_path / "rejects.jsonl"),
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    segments = [segment(k) for k in range(SEGMENTS)]
    started = time.monotonic()
    process = subprocess.Popen(
        [*TARGET, "--config", str(tmp_path / "config.json")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "stderr.log").open("wb"),
    )

    def feed() -> None:  # like a tap: input keeps flowing while earlier records are sent
        assert process.stdin is not None
        process.stdin.write(singer_lines(HEADER).encode())
        for messages, _ in segments:
            process.stdin.write(singer_lines(messages).encode())
            process.stdin.flush()
            time.sleep(0.1)
        process.stdin.close()

    threading.Thread(target=feed, daemon=True).start()
    assert process.stdout is not None
    states = []
    for line in process.stdout:
        states.append(json.loads(line))
        # Truthful at the moment it is emitted, not only at the end.
        assert_segment_delivered(emulator, states[-1]["segment"])
    assert process.wait(180) == 0, (tmp_path / "stderr.log").read_text()[-3000:]
    elapsed = time.monotonic() - started

    assert len(states) >= 2
    assert states[-1] == {"segment": SEGMENTS - 1}
    summary = emulator.summary()
    assert summary["users"] == SEGMENTS * PER_SEGMENT
    assert summary["events"] == SEGMENTS * PER_SEGMENT  # exactly once: ids are upsert keys
    assert summary["catalog_items"] == SEGMENTS * ITEMS_PER_SEGMENT
    expected = {key: reason for _, invalid in segments for key, reason in invalid.items()}
    rejects = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert {json.dumps(r["record"], sort_keys=True): r["reason"] for r in rejects} == expected
    assert len(rejects) == len(expected)
    stats = emulator.stats()["total"]
    assert stats["status_5xx"] + stats["dropped"] + stats["status_429"] > 0  # faults did happen
    assert elapsed < 120


KINDS = ["valid", "valid", "valid", "bad_email", "no_identity", "long_user_id", "string_score"]


# The same twelve examples on every machine (derandomize): with up to ~60% of requests
# faulted, a rare example needs ten attempts of one request, and its backoff (up to 30 s
# a step) outlasts any sensible timeout; CI must pass exactly what was passed here.
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=40),
    error_rate=st.sampled_from([0.0, 0.2, 0.4]),
    drop_rate=st.sampled_from([0.0, 0.2]),
    seed=st.integers(0, 1000),
)
def test_accepted_and_rejected_partition_the_input(  # noqa: PLR0917 (hypothesis arguments)
    tmp_path: Path,
    emulator: EmulatorProcess,
    target_config: dict[str, Any],
    kinds: list[str],
    error_rate: float,
    drop_rate: float,
    seed: int,
) -> None:
    emulator.reset()
    # One directory per example: rejects are appended, and the emulator is reset, so
    # each example has its own sync state too.
    run_dir = Path(tempfile.mkdtemp(dir=tmp_path))
    emulator.set_faults(
        error_rate=error_rate, drop_rate=drop_rate, drop_after_processing_rate=drop_rate, seed=seed
    )
    records = []
    for rid, kind in enumerate(kinds):
        data: dict[str, Any] = {"userId": f"u{rid}", "rid": rid, "score": rid}
        if kind == "bad_email":
            data["email"] = f"rid{rid}-at-nowhere"
        elif kind == "no_identity":
            del data["userId"]
        elif kind == "long_user_id":
            data["userId"] = "u" * 60
        elif kind == "string_score":
            data["score"] = f"score {rid}"  # a type Iterable may have locked otherwise
        records.append(data)
    properties = {
        "userId": {"type": ["string", "null"]},
        "email": {"type": ["string", "null"]},
        "rid": {"type": "integer"},
        "score": {"type": ["integer", "string"]},
    }
    run = run_target(
        run_dir,
        {
            **target_config,
            "max_attempts": 15,
            "max_rejected_ratio": 1,
            "users_batch_size": 7,
            "sync_state_url": str(run_dir / "sync.db"),
        },
        [schema("users", properties), *[record("users", r) for r in records]],
    )
    assert run.returncode == 0, run.stderr[-2000:]
    rejected = [line["record"]["rid"] for line in run.rejects]
    accepted = [
        r["rid"]
        for r in records
        if r.get("userId")
        and emulator.user_by_id(r["userId"]) is not None
        and emulator.user_by_id(r["userId"])["dataFields"]["rid"] == r["rid"]
    ]
    assert len(set(rejected)) == len(rejected)
    assert set(accepted).isdisjoint(rejected)
    assert sorted(accepted + rejected) == list(range(len(records)))
