"""Fault switches, as a plain ``requests`` client sees them."""

from __future__ import annotations

import time

import pytest
import requests

from iterable_emulator.faults import FaultInjector, FaultSwitches
from iterable_emulator.testing import EmulatorProcess

from .helpers import bulk_update


def test_switches_are_validated() -> None:
    with pytest.raises(ValueError, match="error_rate"):
        FaultSwitches.from_json({"error_rate": 1.5})
    with pytest.raises(ValueError, match="unknown"):
        FaultSwitches.from_json({"eror_rate": 0.5})
    with pytest.raises(ValueError, match="latency_ms"):
        FaultSwitches.from_json({"latency_ms": -1})
    assert FaultSwitches.from_json({"error_rate": 1}).error_rate == 1.0


def test_a_seed_makes_fault_decisions_reproducible() -> None:
    switches = FaultSwitches(error_rate=0.3, drop_rate=0.1, latency_spike_rate=0.2, seed=7)
    runs = [[FaultInjector(switches).plan() for _ in range(50)] for _ in range(2)]
    assert runs[0] == runs[1]
    assert any(plan.error_status for plan in runs[0])


def test_rate_limit_burst_answers_the_next_n_requests_429(emulator: EmulatorProcess) -> None:
    emulator.set_faults(rate_limit_burst=2)
    statuses = [bulk_update(emulator, {"email": f"u{n}@example.com"}).status_code for n in range(3)]
    assert statuses == [429, 429, 200]
    assert emulator.faults()["rate_limit_burst_remaining"] == 0
    assert emulator.summary()["users"] == 1  # the throttled requests changed nothing


def test_error_rate_answers_5xx_with_json_or_html(emulator: EmulatorProcess) -> None:
    emulator.set_faults(error_rate=1.0, seed=3)
    responses = [bulk_update(emulator, {"email": f"u{n}@example.com"}) for n in range(20)]
    assert {r.status_code for r in responses} <= {500, 502, 503}
    content_types = {r.headers["Content-Type"].split(";")[0] for r in responses}
    assert content_types == {"application/json", "text/html"}
    assert emulator.summary()["users"] == 0
    assert emulator.endpoint_stats("POST /api/users/bulkUpdate")["status_5xx"] == 20


def test_drop_rate_closes_the_connection_unanswered(emulator: EmulatorProcess) -> None:
    emulator.set_faults(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        bulk_update(emulator, {"email": "a@example.com"})
    emulator.set_faults()
    assert emulator.summary()["users"] == 0
    stats = emulator.endpoint_stats("POST /api/users/bulkUpdate")
    assert (stats["dropped"], stats["status_2xx"]) == (1, 0)


def test_drop_after_processing_applies_the_request_then_loses_the_answer(
    emulator: EmulatorProcess,
) -> None:
    emulator.set_faults(drop_after_processing_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        bulk_update(emulator, {"email": "a@example.com", "dataFields": {"n": 1}})
    emulator.set_faults()
    user = emulator.user_by_email("a@example.com")
    assert user is not None
    assert user["dataFields"] == {"n": 1}
    [logged] = emulator.requests_log("/api/users/bulkUpdate")
    assert logged["outcome"] == "dropped_after_processing"


def test_latency_is_added_to_api_requests(emulator: EmulatorProcess) -> None:
    emulator.set_faults(latency_ms=300)
    started = time.monotonic()
    bulk_update(emulator, {"email": "a@example.com"})
    assert time.monotonic() - started >= 0.3

    emulator.set_faults(latency_spike_rate=1.0, latency_spike_ms=150)
    started = time.monotonic()
    bulk_update(emulator, {"email": "a@example.com"})
    assert time.monotonic() - started >= 0.15


def test_faults_spare_the_admin_endpoints(emulator: EmulatorProcess) -> None:
    emulator.set_faults(error_rate=1.0, drop_rate=1.0)
    assert emulator.summary()["users"] == 0
    assert emulator.faults()["drop_rate"] == 1.0


def test_invalid_switches_are_a_400(emulator: EmulatorProcess) -> None:
    response = requests.post(
        f"{emulator.url}/_emulator/faults", json={"drop_rate": "often"}, timeout=10
    )
    assert response.status_code == 400
    assert "drop_rate" in response.json()["msg"]
