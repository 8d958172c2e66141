"""Asynchronous processing: writes answered now, visible a processing delay later."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from iterable_emulator.testing import EmulatorProcess, _default_flags
from tests.emulator.helpers import bulk_update, create_catalog, track_bulk, upsert_items

DELAY_MS = 400


@pytest.fixture(scope="module")
def async_process() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(
        "--no-rate-limits", processing_delay_ms=DELAY_MS, settle_reads=False
    ) as process:
        yield process


@pytest.fixture
def slow(async_process: EmulatorProcess) -> EmulatorProcess:
    async_process.reset()
    return async_process


def test_events_for_users_not_yet_visible_are_not_found(slow: EmulatorProcess) -> None:
    """rules async-user-updates, events-need-users: an event for a user bulk-updated a
    moment earlier is answered as for a user that does not exist [spec: trackBulk
    "Events are created asynchronously"; support article 29156459027348]."""
    assert bulk_update(slow, {"email": "a@x.io", "dataFields": {"n": 1}}).status_code == 200
    early = track_bulk(slow, {"eventName": "e", "email": "a@x.io"}).json()
    assert early["failedUpdates"]["notFoundEmails"] == ["a@x.io"]
    assert slow.user_by_email("a@x.io") is None
    slow.settle()
    assert slow.user_by_email("a@x.io")["dataFields"] == {"n": 1}  # type: ignore[index]
    late = track_bulk(slow, {"eventName": "e", "email": "a@x.io"}).json()
    assert late["successCount"] == 1
    assert slow.events_for(email="a@x.io") == []  # the event itself is pending
    slow.settle()
    assert len(slow.events_for(email="a@x.io")) == 1


def test_writes_become_visible_after_the_delay(slow: EmulatorProcess) -> None:
    """rule async-writes: visible N ms after the answer, without any settle call."""
    bulk_update(slow, {"email": "a@x.io"})
    assert slow.pending()["pending"] == 1
    time.sleep(DELAY_MS / 1000 + 0.1)
    assert slow.user_by_email("a@x.io") is not None
    assert slow.pending() == {"pending": 0, "next_due_ms": None}


def test_types_lock_when_the_write_is_answered(slow: EmulatorProcess) -> None:
    """rule async-answer-from-visible-state: a mismatch is a synchronous 400 [recorded],
    even against a field whose first value is still pending."""
    bulk_update(slow, {"email": "a@x.io", "dataFields": {"n": 1}})
    clash = bulk_update(slow, {"email": "b@x.io", "dataFields": {"n": "x"}})
    assert clash.status_code == 400
    assert clash.json()["code"] == "RequestFieldsTypesMismatched"
    slow.settle()
    assert slow.user_by_email("b@x.io") is None


def test_writes_apply_in_arrival_order(slow: EmulatorProcess) -> None:
    """rule async-arrival-order: within one pipeline, the later write wins."""
    bulk_update(slow, {"email": "a@x.io", "dataFields": {"plan": "free"}})
    bulk_update(slow, {"email": "a@x.io", "dataFields": {"plan": "team"}})
    slow.settle()
    assert slow.user_by_email("a@x.io")["dataFields"] == {"plan": "team"}  # type: ignore[index]


def test_a_bulk_write_overtakes_a_single_record_write_sent_before_it(
    slow: EmulatorProcess,
) -> None:
    """rule async-pipelines: bulkUpdate is "handled separately" from single-user calls
    [spec: bulkUpdateUser]; a delete then a bulk re-creation can land in reverse."""
    bulk_update(slow, {"email": "a@x.io", "dataFields": {"plan": "free"}})
    slow.settle()
    assert slow.api("DELETE", "/api/users/a@x.io").status_code == 200
    bulk_update(slow, {"email": "a@x.io", "dataFields": {"plan": "back"}})
    slow.api("POST", "/api/users/update", json={"email": "b@x.io", "dataFields": {"n": 1}})
    bulk_update(slow, {"email": "b@x.io", "dataFields": {"n": 2}})
    slow.settle()
    assert slow.user_by_email("a@x.io") is None  # the delete landed last
    assert slow.user_by_email("b@x.io")["dataFields"] == {"n": 1}  # type: ignore[index]


def test_catalog_item_writes_answer_202_and_land_later(slow: EmulatorProcess) -> None:
    """rule async-writes: bulkUpdateCatalogItems is "Asynchronous" and answers 202 [spec]."""
    create_catalog(slow, "c")
    assert upsert_items(slow, "c", {"a": {"n": 1}}).status_code == 202
    assert slow.catalog_items("c") == {}
    slow.settle()
    assert slow.catalog_items("c") == {"a": {"n": 1}}


def test_user_deletes_are_deferred_and_track_keeps_its_id(slow: EmulatorProcess) -> None:
    """rule async-writes: user deletes are "Asynchronous" [spec: delete /api/users/{email}];
    a deferred track stores the event under the id its answer gave."""
    bulk_update(slow, {"email": "a@x.io"})
    slow.settle()
    tracked = slow.api("POST", "/api/events/track", json={"eventName": "e", "email": "a@x.io"})
    slow.settle()
    assert [e["id"] for e in slow.events_for(email="a@x.io")] == [tracked.json()["params"]["id"]]
    assert slow.api("DELETE", "/api/users/a@x.io").status_code == 200
    assert slow.user_by_email("a@x.io") is not None
    slow.settle()
    assert slow.user_by_email("a@x.io") is None


def test_the_delay_is_a_setting_and_reset_drops_pending_writes(slow: EmulatorProcess) -> None:
    assert slow.update_settings()["processing_delay_ms"] == DELAY_MS
    bulk_update(slow, {"email": "a@x.io"})
    slow.reset()
    assert slow.pending()["pending"] == 0
    slow.update_settings(processing_delay_ms=0)
    bulk_update(slow, {"email": "b@x.io"})
    assert slow.user_by_email("b@x.io") is not None


def test_emulator_process_defaults_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ITERABLE_EMULATOR_PROCESSING_DELAY_MS", "250")
    monkeypatch.setenv("ITERABLE_EMULATOR_PROJECT_TYPE", "userId")
    assert _default_flags((), None, None) == [
        "--processing-delay-ms",
        "250",
        "--project-type",
        "userId",
    ]
    assert _default_flags(("--project-type", "email"), 0, None) == ["--processing-delay-ms", "0"]
    monkeypatch.delenv("ITERABLE_EMULATOR_PROJECT_TYPE")
    assert _default_flags((), None, None) == ["--processing-delay-ms", "250"]
