"""The project's data schema: unrecognized fields, field limits, value sizes."""

from __future__ import annotations

from typing import Any

import pytest

from iterable_emulator.errors import IterableError
from iterable_emulator.store import Store
from iterable_emulator.testing import EmulatorProcess
from tests.emulator.helpers import bulk_update, track_bulk


def test_a_project_dropping_unrecognized_fields_filters_them_out(
    emulator: EmulatorProcess,
) -> None:
    """rule drop-unrecognized-fields: createNewFields "Defaults to project's setting to
    allow or drop unrecognized fields ... Dropped fields will be included in
    filteredOutFields" [spec: BulkUpdateUsersRequest, UserBulkUpdateListResponse]."""
    emulator.update_settings(drop_unrecognized_fields=True, user_fields={"plan": "string"})
    body = bulk_update(
        emulator, {"email": "a@x.io", "dataFields": {"plan": "pro", "age": 3, "city": "Oslo"}}
    ).json()
    assert body["filteredOutFields"] == ["age", "city"]
    assert body["createdFields"] == []
    assert emulator.user_by_email("a@x.io")["dataFields"] == {"plan": "pro"}  # type: ignore[index]
    # createNewFields: true overrides the project's setting.
    response = emulator.api(
        "POST",
        "/api/users/bulkUpdate",
        json={"users": [{"email": "a@x.io", "dataFields": {"age": 3}}], "createNewFields": True},
    )
    assert response.json()["createdFields"] == ["age"]
    assert response.json()["filteredOutFields"] == []


def test_declared_user_fields_lock_their_types(emulator: EmulatorProcess) -> None:
    """rule type-lock-first-write: a field created in Data Schema Management has its
    type before any value [support article 208183076]."""
    emulator.update_settings(user_fields={"age": "long"})
    response = bulk_update(emulator, {"email": "a@x.io", "dataFields": {"age": "old"}})
    assert response.status_code == 400
    assert response.json()["code"] == "RequestFieldsTypesMismatched"
    assert emulator.update_settings()["user_fields"] == {"age": "long"}
    with pytest.raises(Exception, match="already has type long"):
        emulator.update_settings(user_fields={"age": "string"})


def test_the_user_field_limit_refuses_the_request(store: Store) -> None:
    """rule user-field-limit: "a soft limit of 1,000 unique user profile fields" [spec:
    bulkUpdateUser], nested fields counted [support article 208183076]; the answer is a
    guess (400 UniqueFieldsLimitExceeded for the whole request)."""
    store.settings.user_field_limit = 3
    store.users.bulk_update([{"email": "a@x.io", "dataFields": {"a": {"b": 1}}}])
    with pytest.raises(IterableError) as refused:
        store.users.bulk_update([{"email": "b@x.io", "dataFields": {"c": 1, "d": 2}}])
    assert (refused.value.status, refused.value.code) == (400, "UniqueFieldsLimitExceeded")
    assert store.users.find(email="b@x.io") is None
    store.users.bulk_update([{"email": "b@x.io", "dataFields": {"c": 1}}])  # the third


def test_the_event_field_limit_is_per_event_name(store: Store) -> None:
    """rule event-field-limit: 8000 fields per event name [spec: trackBulk]; answer guessed."""
    store.settings.event_field_limit = 1
    store.users.bulk_update([{"email": "a@x.io"}])
    store.events.track_bulk([{"eventName": "one", "email": "a@x.io", "dataFields": {"x": 1}}])
    store.events.track_bulk([{"eventName": "two", "email": "a@x.io", "dataFields": {"y": 1}}])
    with pytest.raises(IterableError, match="limit is 1"):
        store.events.track_bulk([{"eventName": "one", "email": "a@x.io", "dataFields": {"z": 1}}])


@pytest.mark.parametrize("value", ["x" * 32_001, {"deep": ["x" * 32_001]}])
def test_values_over_32k_characters_are_invalid_data(emulator: EmulatorProcess, value: Any) -> None:
    """rule value-size-limit: "approximately 32k characters" per field value [support article
    208183076], reported in invalidDataEmails/invalidDataUserIds, which the spec describes
    as "invalid data in dataFields" [spec: FailedUserUpdates]."""
    body = bulk_update(
        emulator,
        {"email": "a@x.io", "dataFields": {"bio": value}},
        {"userId": "u1", "dataFields": {"bio": value}},
        {"email": "ok@x.io", "dataFields": {"bio": "x" * 32_000}},
    ).json()
    assert body["failedUpdates"]["invalidDataEmails"] == ["a@x.io"]
    assert body["failedUpdates"]["invalidDataUserIds"] == ["u1"]
    assert (body["successCount"], body["failCount"]) == (1, 2)
    events = track_bulk(
        emulator, {"eventName": "e", "email": "ok@x.io", "dataFields": {"v": value}}
    )
    assert events.json()["failedUpdates"]["invalidDataEmails"] == ["ok@x.io"]
    single = emulator.api(
        "POST", "/api/users/update", json={"email": "a@x.io", "dataFields": {"bio": value}}
    )
    assert (single.status_code, single.json()["code"]) == (400, "BadParams")
