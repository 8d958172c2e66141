"""The emulator's own endpoints: stats, summary, request log, reset, settings."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from iterable_emulator.testing import EmulatorProcess

from .helpers import bulk_update, create_catalog, track_bulk, upsert_items


def test_stats_count_requests_statuses_records_and_bytes(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com"}, {"email": "b@example.com"})
    largest = bulk_update(emulator, {"email": "a@example.com", "dataFields": {}}, {"email": "x"})
    emulator.api("POST", "/api/users/bulkUpdate", data=b"{")
    emulator.set_faults(rate_limit_burst=1)
    bulk_update(emulator, {"email": "c@example.com"})

    stats = emulator.stats()
    bulk = stats["endpoints"]["POST /api/users/bulkUpdate"]
    assert bulk["requests"] == 4
    assert (bulk["status_2xx"], bulk["status_4xx"], bulk["status_429"]) == (2, 1, 1)
    assert bulk["records"] == 5
    assert bulk["max_body_bytes"] == len(largest.request.body or b"")
    assert bulk["in_flight"] == 0
    assert bulk["peak_rps"] >= 1
    assert stats["total"]["requests"] >= 4


def test_stats_see_concurrent_requests(emulator: EmulatorProcess) -> None:
    emulator.set_faults(latency_ms=300)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: bulk_update(emulator, {"email": f"u{n}@example.com"}), range(4)))
    bulk = emulator.endpoint_stats("POST /api/users/bulkUpdate")
    assert bulk["max_in_flight"] >= 2
    assert bulk["peak_rps"] == 4


def test_summary_counts_what_landed(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com"}, {"userId": "u2"})
    track_bulk(emulator, *({"email": "a@example.com", "eventName": "view"} for _ in range(3)))
    create_catalog(emulator, "c")
    upsert_items(emulator, "c", {"a": {"n": 1}, "b": {"n": 2}})
    summary = emulator.summary()
    assert (summary["users"], summary["events"]) == (2, 3)
    assert (summary["catalogs"], summary["catalog_items"]) == (1, 2)
    assert summary["items_per_catalog"] == {"c": 2}
    assert summary["events_per_name"] == {"view": 3}


def test_request_log_records_each_api_request(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com"})
    track_bulk(emulator, {"email": "a@example.com", "eventName": "e"})
    log = emulator.requests_log()
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("POST", "/api/users/bulkUpdate", 200),
        ("POST", "/api/events/trackBulk", 200),
    ]
    assert log[0]["records"] == 1
    assert log[0]["endpoint"] == "POST /api/users/bulkUpdate"
    assert log[0]["body_bytes"] > 0
    assert len(emulator.requests_log("/api/events/trackBulk")) == 1


def test_reset_clears_state_counters_and_faults(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com", "dataFields": {"n": 1}})
    emulator.set_faults(error_rate=0.5)
    emulator.update_settings(project_type="email")
    emulator.reset()
    assert emulator.summary()["users"] == 0
    assert emulator.stats()["total"]["requests"] == 0
    assert emulator.requests_log() == []
    assert emulator.faults()["error_rate"] == 0.0
    assert emulator.update_settings()["project_type"] == "hybrid"
    # Locked types are forgotten too.
    assert bulk_update(emulator, {"email": "a@example.com", "dataFields": {"n": "one"}}).ok


def test_settings_switch_the_project_type(emulator: EmulatorProcess) -> None:
    assert emulator.update_settings(project_type="email")["project_type"] == "email"
    response = bulk_update(emulator, {"userId": "u1"})
    assert response.json()["failedUpdates"]["notFoundUserIds"] == ["u1"]
    bad = requests.post(
        f"{emulator.url}/_emulator/settings", json={"project_type": "nope"}, timeout=10
    )
    assert bad.status_code == 400
