"""Users: per-record refusals, Iterable's type locking, nulls, nested objects, identity."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from iterable_emulator.errors import IterableError
from iterable_emulator.identity import ProjectType
from iterable_emulator.store import Store
from iterable_emulator.testing import EmulatorProcess

from .helpers import bulk_update


def test_bulk_update_creates_and_updates_users(emulator: EmulatorProcess) -> None:
    response = bulk_update(
        emulator,
        {"email": "a@example.com", "dataFields": {"plan": "free", "seats": 1}},
        {"userId": "user-2", "dataFields": {"plan": "pro"}},
    )
    assert response.status_code == 200
    assert response.json()["successCount"] == 2
    bulk_update(emulator, {"email": "a@example.com", "dataFields": {"plan": "pro"}})

    user = emulator.user_by_email("a@example.com")
    assert user is not None
    assert user["dataFields"] == {"plan": "pro", "seats": 1}
    by_id = emulator.user_by_id("user-2")
    assert by_id is not None
    assert (by_id["userId"], by_id["dataFields"]) == ("user-2", {"plan": "pro"})


def test_unknown_user_reads_back_as_an_empty_object(emulator: EmulatorProcess) -> None:
    response = emulator.api("GET", "/api/users/getByEmail", params={"email": "nobody@example.com"})
    assert response.status_code == 200
    assert response.json() == {}


def test_invalid_emails_and_user_ids_are_refused_per_record(emulator: EmulatorProcess) -> None:
    long_id = "x" * 53
    response = bulk_update(
        emulator,
        {"email": "good@example.com", "dataFields": {"n": 1}},
        {"email": "not an email", "dataFields": {"n": 2}},
        {"email": "missing-tld@example"},
        {"userId": long_id},
        {"userId": "trailing "},
        {"userId": "fine-id"},
    )
    body = response.json()
    assert response.status_code == 200
    assert (body["successCount"], body["failCount"]) == (2, 4)
    assert body["failedUpdates"]["invalidEmails"] == ["not an email", "missing-tld@example"]
    assert body["failedUpdates"]["invalidUserIds"] == [long_id, "trailing "]
    # The deprecated top-level duplicates are still sent.
    assert body["invalidEmails"] == body["failedUpdates"]["invalidEmails"]
    assert body["invalidUserIds"] == body["failedUpdates"]["invalidUserIds"]
    assert emulator.summary()["users"] == 2


def test_a_record_naming_no_user_refuses_the_request(emulator: EmulatorProcess) -> None:
    response = bulk_update(emulator, {"email": "a@example.com"}, {"dataFields": {"n": 1}})
    assert response.status_code == 400
    assert response.json()["msg"] == "users[1]: an email or a userId is required"
    assert emulator.summary()["users"] == 0


def test_type_mismatch_refuses_the_whole_request(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com", "dataFields": {"age": 30, "tags": ["x"]}})

    response = bulk_update(
        emulator,
        {"email": "b@example.com", "dataFields": {"age": 31, "city": "Paris"}},
        {"email": "c@example.com", "dataFields": {"age": "thirty", "tags": [1, "y"]}},
        {"email": "d@example.com", "dataFields": {"age": "forty"}},
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "RequestFieldsTypesMismatched",
        "msg": response.json()["msg"],
        "params": {
            "validationErrors": {
                "age": {
                    "incomingTypes": ["string"],
                    "expectedType": "long",
                    "offendingValue": "thirty",  # the first offending value
                    "category": "user",
                },
                "tags": {
                    "incomingTypes": ["long", "string"],
                    "expectedType": "string",
                    "offendingValue": [1, "y"],
                    "category": "user",
                },
            }
        },
    }
    # Nothing of the request was written, not even its valid records…
    assert emulator.user_by_email("b@example.com") is None
    assert emulator.summary()["users"] == 1
    # …nor the type its new field would have locked.
    assert bulk_update(emulator, {"email": "b@example.com", "dataFields": {"city": 5}}).ok


def test_a_request_locks_new_fields_for_its_own_later_records(emulator: EmulatorProcess) -> None:
    response = bulk_update(
        emulator,
        {"email": "a@example.com", "dataFields": {"score": 1}},
        {"email": "b@example.com", "dataFields": {"score": "high"}},
    )
    assert response.status_code == 400
    assert response.json()["params"]["validationErrors"]["score"]["expectedType"] == "long"


def test_nested_fields_are_typed_by_dotted_path(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com", "dataFields": {"address": {"zip": 75001}}})
    response = bulk_update(
        emulator, {"email": "b@example.com", "dataFields": {"address": {"zip": "750-01"}}}
    )
    assert response.status_code == 400
    assert list(response.json()["params"]["validationErrors"]) == ["address.zip"]


@pytest.mark.parametrize(
    ("first", "later", "accepted"),
    [
        (1.5, 2, True),  # a long widens into a double
        (2, 1.5, False),
        ("2024-01-31", "2024-02-01 10:00:00 +00:00", True),
        ("2024-01-31", "2024-02-01T10:00:00Z", True),
        ("2024-01-31", "2020-04-13 14:04:09.000", False),  # not a date to Iterable
        ("text", "2024-01-31", True),  # a date-looking string is still a string
        (True, "true", False),
        ({"a": 1}, "flat", False),
        ("flat", {"a": 1}, False),
        ("x", [], True),  # an empty list brings no type
    ],
)
def test_type_compatibility(store: Store, first: Any, later: Any, accepted: bool) -> None:
    store.users.bulk_update([{"email": "a@example.com", "dataFields": {"f": first}}])
    second = [{"email": "b@example.com", "dataFields": {"f": later}}]
    if accepted:
        store.users.bulk_update(second)
    else:
        with pytest.raises(IterableError, match="f: expected"):
            store.users.bulk_update(second)


def test_null_removes_a_field_but_its_type_stays_locked(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com", "dataFields": {"age": 30, "plan": "pro"}})
    bulk_update(emulator, {"email": "a@example.com", "dataFields": {"age": None}})

    user = emulator.user_by_email("a@example.com")
    assert user is not None
    assert user["dataFields"] == {"plan": "pro"}
    response = bulk_update(emulator, {"email": "a@example.com", "dataFields": {"age": "old"}})
    assert response.status_code == 400


def test_top_level_objects_are_replaced_unless_merge_nested_objects(
    emulator: EmulatorProcess,
) -> None:
    bulk_update(
        emulator,
        {"email": "a@example.com", "dataFields": {"address": {"city": "Paris", "zip": "75001"}}},
    )
    bulk_update(emulator, {"email": "a@example.com", "dataFields": {"address": {"city": "Lyon"}}})
    replaced = emulator.user_by_email("a@example.com")
    assert replaced is not None
    assert replaced["dataFields"]["address"] == {"city": "Lyon"}

    bulk_update(
        emulator,
        {
            "email": "a@example.com",
            "mergeNestedObjects": True,
            "dataFields": {"address": {"zip": "69001", "city": None}},
        },
    )
    merged = emulator.user_by_email("a@example.com")
    assert merged is not None
    assert merged["dataFields"]["address"] == {"zip": "69001"}


def test_create_new_fields_false_filters_out_unknown_fields(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com", "dataFields": {"known": 1}})
    response = emulator.api(
        "POST",
        "/api/users/bulkUpdate",
        json={
            "createNewFields": False,
            "users": [{"email": "a@example.com", "dataFields": {"known": 2, "novel": 3}}],
        },
    )
    assert response.json()["filteredOutFields"] == ["novel"]
    user = emulator.user_by_email("a@example.com")
    assert user is not None
    assert user["dataFields"] == {"known": 2}


def test_user_id_held_by_another_user_is_a_conflict(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com", "userId": "u1"})
    response = bulk_update(emulator, {"email": "b@example.com", "userId": "u1"})
    assert response.json()["failedUpdates"]["conflictUserIds"] == ["u1"]

    single = emulator.api(
        "POST", "/api/users/update", json={"email": "b@example.com", "userId": "u1"}
    )
    assert single.status_code == 409


def test_email_based_project_refuses_unknown_user_id_unless_prefer_user_id(
    store: Store,
) -> None:
    store.settings.project_type = ProjectType.EMAIL
    outcome = store.users.bulk_update([{"userId": "u1"}])
    assert [(f.reason, f.identifier) for f in outcome.failures] == [("notFoundUserIds", "u1")]

    outcome = store.users.bulk_update([{"userId": "u1", "preferUserId": True}])
    assert outcome.success_count == 1
    user = store.users.find(user_id="u1")
    assert user is not None
    assert user.email == "u1@placeholder.email"


def test_hybrid_project_creates_user_id_only_users(store: Store) -> None:
    assert store.users.bulk_update([{"userId": "u1"}]).success_count == 1
    user = store.users.find(user_id="u1")
    assert user is not None
    assert user.email is None


def test_emails_match_case_insensitively(store: Store) -> None:
    store.users.bulk_update([{"email": "Ann@Example.com", "dataFields": {"n": 1}}])
    store.users.bulk_update([{"email": "ann@example.com", "dataFields": {"m": 2}}])
    assert store.summary()["users"] == 1


def test_users_update_answers_refusals_as_errors(emulator: EmulatorProcess) -> None:
    invalid = emulator.api("POST", "/api/users/update", json={"email": "nope"})
    assert invalid.status_code == 400
    assert invalid.json()["code"] == "InvalidEmailAddressError"
    bad_id = emulator.api("POST", "/api/users/update", json={"userId": ""})
    assert bad_id.json()["code"] == "InvalidUserIdError"

    ok = emulator.api(
        "POST", "/api/users/update", json={"email": "a@example.com", "dataFields": {"n": 1}}
    )
    assert ok.status_code == 200
    assert ok.json()["code"] == "Success"
    mismatch = emulator.api(
        "POST", "/api/users/update", json={"email": "a@example.com", "dataFields": {"n": "x"}}
    )
    assert mismatch.status_code == 400
    assert mismatch.json()["code"] == "RequestFieldsTypesMismatched"


def test_a_file_database_keeps_users_and_locked_types(tmp_path: Path) -> None:
    path = str(tmp_path / "project.sqlite")
    first = Store(path)
    first.users.bulk_update([{"email": "a@example.com", "dataFields": {"age": 30}}])
    first.close()

    reopened = Store(path)
    assert reopened.users.find(email="a@example.com") is not None
    with pytest.raises(IterableError, match="age: expected long"):
        reopened.users.bulk_update([{"email": "b@example.com", "dataFields": {"age": "x"}}])
    reopened.close()


def test_concurrent_requests_are_applied_one_at_a_time(store: Store) -> None:
    def load(worker: int) -> None:
        for batch in range(20):
            emails = [f"w{worker}-{batch}-{n}@example.com" for n in range(10)]
            store.users.bulk_update([{"email": email, "dataFields": {"n": 1}} for email in emails])
            store.users.find(email=emails[0])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(load, range(8)))
    assert store.summary()["users"] == 8 * 20 * 10


def test_get_fields_lists_the_user_fields_and_their_locked_types(
    emulator: EmulatorProcess,
) -> None:
    """getUserFields answers {"fields": {dotted path: type}} (GetUserFieldsResponse)."""
    bulk = {
        "users": [
            {"email": "a@x.io", "dataFields": {"ltv": 1.5, "plan": "pro", "address": {"zip": 1}}}
        ]
    }
    assert emulator.api("POST", "/api/users/bulkUpdate", json=bulk).status_code == 200
    answer = emulator.api("GET", "/api/users/getFields")
    assert answer.status_code == 200
    fields = answer.json()["fields"]
    assert fields["ltv"] == "double"
    assert fields["plan"] == "string"
    assert fields["address.zip"] == "long"


def test_the_request_log_keeps_bodies_only_when_asked(emulator: EmulatorProcess) -> None:
    body = b'{"users":[{"email":"a@x.io","dataFields":{}}]}'
    headers = {"Content-Type": "application/json"}
    emulator.api("POST", "/api/users/bulkUpdate", data=body, headers=headers)
    assert emulator.requests_log()[-1]["body"] is None
    emulator.update_settings(log_bodies=True)
    emulator.api("POST", "/api/users/bulkUpdate", data=body, headers=headers)
    assert emulator.requests_log()[-1]["body"] == body.decode()
