"""Events: only for known users, typed per event name, upserted by id."""

from __future__ import annotations

import pytest

from iterable_emulator.errors import IterableError
from iterable_emulator.store import Store
from iterable_emulator.testing import EmulatorProcess

from .helpers import bulk_update, track_bulk


def test_track_bulk_reports_unknown_users_as_not_found(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "known@example.com"}, {"userId": "known-id"})
    response = track_bulk(
        emulator,
        {"email": "known@example.com", "eventName": "signup"},
        {"userId": "known-id", "eventName": "signup"},
        {"email": "stranger@example.com", "eventName": "signup"},
        {"userId": "stranger-id", "eventName": "signup"},
        {"email": "broken", "eventName": "signup"},
    )
    body = response.json()
    assert response.status_code == 200
    assert (body["successCount"], body["failCount"]) == (2, 3)
    assert body["failedUpdates"]["notFoundEmails"] == ["stranger@example.com"]
    assert body["failedUpdates"]["notFoundUserIds"] == ["stranger-id"]
    assert body["failedUpdates"]["invalidEmails"] == ["broken"]
    assert body["disallowedEventNames"] == []
    # trackBulk never creates users.
    assert emulator.summary()["users"] == 2


def test_event_id_is_an_upsert_key(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com"})
    first = {"email": "a@example.com", "eventName": "order", "id": "order-1", "createdAt": 100}
    track_bulk(emulator, {**first, "dataFields": {"status": "placed"}})
    track_bulk(emulator, {**first, "createdAt": 200, "dataFields": {"status": "shipped"}})

    events = emulator.events_for(email="a@example.com")
    assert len(events) == 1
    assert events[0]["id"] == "order-1"
    assert events[0]["createdAt"] == 200
    assert events[0]["dataFields"] == {"status": "shipped"}


def test_events_read_back_most_recent_first(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com", "userId": "u-a"})
    track_bulk(
        emulator,
        *({"email": "a@example.com", "eventName": "view", "createdAt": t} for t in (5, 9, 7)),
    )
    events = emulator.events_for(user_id="u-a")
    assert [e["createdAt"] for e in events] == [9, 7, 5]
    assert {e["eventType"] for e in events} == {"customEvent"}
    limited = emulator.api("GET", "/api/events/a@example.com", params={"limit": 2})
    assert len(limited.json()["events"]) == 2
    too_many = emulator.api("GET", "/api/events/a@example.com", params={"limit": 201})
    assert too_many.status_code == 400


def test_event_fields_are_typed_per_event_name(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com"})
    track_bulk(emulator, {"email": "a@example.com", "eventName": "a", "dataFields": {"v": 1}})
    other_name = track_bulk(
        emulator, {"email": "a@example.com", "eventName": "b", "dataFields": {"v": "x"}}
    )
    assert other_name.status_code == 200
    same_name = track_bulk(
        emulator, {"email": "a@example.com", "eventName": "a", "dataFields": {"v": "x"}}
    )
    assert same_name.status_code == 400
    error = same_name.json()["params"]["validationErrors"]["v"]
    assert (error["category"], error["expectedType"]) == ("event", "long")
    assert emulator.summary()["events"] == 2


def test_disallowed_event_names_are_reported(emulator: EmulatorProcess) -> None:
    emulator.update_settings(disallowed_event_names=["spam"])
    bulk_update(emulator, {"email": "a@example.com"})
    response = track_bulk(
        emulator,
        {"email": "a@example.com", "eventName": "spam"},
        {"email": "a@example.com", "eventName": "spam"},
        {"email": "a@example.com", "eventName": "fine"},
    )
    body = response.json()
    assert body["disallowedEventNames"] == ["spam"]
    assert (body["successCount"], body["failCount"]) == (1, 2)


def test_track_answers_refusals_as_errors(emulator: EmulatorProcess) -> None:
    unknown = emulator.api(
        "POST", "/api/events/track", json={"email": "nobody@example.com", "eventName": "e"}
    )
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "UnknownEmailError"

    bulk_update(emulator, {"email": "a@example.com"})
    tracked = emulator.api(
        "POST", "/api/events/track", json={"email": "a@example.com", "eventName": "e", "id": "x1"}
    )
    assert tracked.status_code == 200
    assert tracked.json()["params"] == {"id": "x1"}


def test_event_ids_longer_than_512_bytes_refuse_the_request(store: Store) -> None:
    store.users.bulk_update([{"email": "a@example.com"}])
    ok = {"email": "a@example.com", "eventName": "e", "id": "é" * 256}  # 512 bytes
    assert store.events.track_bulk([ok]).success_count == 1
    with pytest.raises(IterableError, match="512 bytes"):
        store.events.track_bulk([{**ok, "id": "é" * 256 + "x"}])


def test_created_at_defaults_to_now() -> None:
    frozen = Store(clock=lambda: 1_700_000_000.7)
    frozen.users.bulk_update([{"email": "a@example.com"}])
    frozen.events.track_bulk([{"email": "a@example.com", "eventName": "e"}])
    [event] = frozen.events.for_user(email="a@example.com")
    assert event["createdAt"] == 1_700_000_000
