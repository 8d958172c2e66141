"""POST /api/users/merge (mergeUsers, MergeUsersRequest) and its field rules."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from iterable_emulator.errors import IterableError
from iterable_emulator.merging import ArrayMergeRule, json_equal, merge_arrays, merge_profiles
from iterable_emulator.testing import EmulatorProcess

from .helpers import bulk_update, track_bulk

MERGE = "/api/users/merge"


def merge(emulator: EmulatorProcess, **body: Any) -> requests.Response:
    return emulator.api("POST", MERGE, json=body)


def test_the_source_is_merged_into_the_destination_and_deleted(
    emulator: EmulatorProcess,
) -> None:
    bulk_update(
        emulator,
        {
            "email": "old@example.com",
            "userId": "old",
            "dataFields": {"plan": "free", "city": "Paris", "prefs": {"a": 1, "b": 2}},
        },
        {"email": "new@example.com", "dataFields": {"plan": "pro", "prefs": {"a": 9}}},
    )
    track_bulk(emulator, {"email": "old@example.com", "eventName": "opened"})
    track_bulk(emulator, {"email": "new@example.com", "eventName": "clicked"})
    response = merge(emulator, sourceEmail="old@example.com", destinationEmail="new@example.com")
    assert response.status_code == 200, response.text
    assert response.json()["code"] == "Success"
    assert emulator.user_by_email("old@example.com") is None
    assert emulator.user_by_id("old") is None  # the source's identifiers go with it
    user = emulator.user_by_email("new@example.com")
    assert user is not None
    # The destination wins conflicts, objects are not combined, missing fields are copied.
    assert user["dataFields"] == {"plan": "pro", "prefs": {"a": 9}, "city": "Paris"}
    events = emulator.events_for(email="new@example.com")
    assert sorted(e["eventName"] for e in events) == ["clicked", "opened"]
    assert emulator.summary()["users"] == 1


def test_a_missing_destination_renames_the_source(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"userId": "anon-1", "dataFields": {"seen": 3}})
    track_bulk(emulator, {"userId": "anon-1", "eventName": "viewed"})
    assert merge(emulator, sourceUserId="anon-1", destinationEmail="ada@example.com").ok
    user = emulator.user_by_email("ada@example.com")
    assert user is not None
    assert (user["userId"], user["dataFields"]) == ("anon-1", {"seen": 3})
    assert [e["eventName"] for e in emulator.events_for(email="ada@example.com")] == ["viewed"]
    assert merge(emulator, sourceEmail="ada@example.com", destinationUserId="known-1").ok
    renamed = emulator.user_by_id("known-1")
    assert renamed is not None
    assert renamed["email"] == "ada@example.com"
    assert emulator.summary()["users"] == 1


def test_array_merge(emulator: EmulatorProcess) -> None:
    bulk_update(
        emulator,
        {
            "email": "s@example.com",
            "dataFields": {
                "tags": ["a", "b"],
                "orders": [{"id": 1, "n": "x"}, {"id": 3}, {"n": "no id"}],
                "score": 5,
            },
        },
        {
            "email": "d@example.com",
            "dataFields": {"tags": ["b", "c"], "orders": [{"id": 1, "n": "y"}], "score": 7},
        },
    )
    rules = [{"field": "tags"}, {"field": "orders", "dedupeBy": "id"}, {"field": "score"}]
    response = merge(
        emulator, sourceEmail="s@example.com", destinationEmail="d@example.com", arrayMerge=rules
    )
    assert response.status_code == 200, response.text
    user = emulator.user_by_email("d@example.com")
    assert user is not None
    assert user["dataFields"] == {
        "tags": ["b", "c", "a"],
        "orders": [{"id": 1, "n": "y"}, {"id": 3}, {"n": "no id"}],
        "score": [7, 5],  # a value that is not an array counts as a one-item array
    }


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"destinationEmail": "d@example.com"}, 400, "BadParams"),  # no source
        ({"sourceEmail": "s@example.com"}, 400, "BadParams"),  # no destination
        (
            {"sourceEmail": "s@example.com", "sourceUserId": "s", "destinationUserId": "d"},
            400,
            "BadParams",
        ),
        (
            {"sourceEmail": "s@example.com", "destinationEmail": "d@example.com", "destinationUserId": "d"},  # noqa: E501
            400,
            "BadParams",
        ),
        ({"sourceEmail": 1, "destinationEmail": "d@example.com"}, 400, "BadParams"),
        (
            {"sourceEmail": "s@example.com", "destinationEmail": "d@example.com", "arrayMerge": {}},
            400,
            "BadParams",
        ),
        (
            {"sourceEmail": "s@example.com", "destinationEmail": "d@example.com", "arrayMerge": [{"field": 3}]},  # noqa: E501
            400,
            "BadParams",
        ),
        (
            {"sourceEmail": "s@example.com", "destinationEmail": "d@example.com", "arrayMerge": [{"field": "devices"}]},  # noqa: E501
            400,
            "BadParams",
        ),
        (
            {"sourceEmail": "s@example.com", "destinationEmail": "d@example.com", "arrayMerge": [{"field": "tags", "dedupeBy": "id"}]},  # noqa: E501
            400,
            "BadParams",
        ),
        ({"sourceEmail": "x@example.com", "destinationEmail": "d@example.com"}, 400, "UnknownEmailError"),  # noqa: E501
        ({"sourceUserId": "x", "destinationEmail": "d@example.com"}, 400, "UnknownUserIdError"),
        ({"sourceEmail": "s@example.com", "destinationEmail": "bad"}, 400, "InvalidEmailAddressError"),  # noqa: E501
        ({"sourceEmail": "s@example.com", "destinationUserId": "s"}, 400, "BadParams"),  # one user
        ({"sourceEmail": "s@example.com", "destinationUserId": "d "}, 400, "InvalidUserIdError"),
    ],
)  # fmt: skip
def test_merge_refusals(
    emulator: EmulatorProcess, body: dict[str, Any], status: int, code: str
) -> None:
    bulk_update(
        emulator,
        {"email": "s@example.com", "userId": "s", "dataFields": {"tags": ["a"]}},
        {"email": "d@example.com", "userId": "d", "dataFields": {"tags": ["b"]}},
    )
    response = emulator.api("POST", MERGE, json=body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    source, destination = emulator.user_by_id("s"), emulator.user_by_id("d")
    assert source is not None
    assert destination is not None
    assert (source["email"], destination["dataFields"]) == ("s@example.com", {"tags": ["b"]})


def test_forgotten_source_or_destination_is_409(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "s@example.com"}, {"email": "gone@example.com"})
    assert emulator.api("POST", "/api/users/forget", json={"email": "gone@example.com"}).ok
    for body in (
        {"sourceEmail": "s@example.com", "destinationEmail": "gone@example.com"},
        {"sourceEmail": "gone@example.com", "destinationEmail": "s@example.com"},
    ):
        response = emulator.api("POST", MERGE, json=body)
        assert (response.status_code, response.json()["code"]) == (409, "ForgottenUserError")
    assert emulator.user_by_email("s@example.com") is not None


def test_merge_is_limited_per_api_key() -> None:
    # mergeUsers: 50 requests/second, per API key; 0.02 x 50 = 1 a second.
    with EmulatorProcess("--api-key", "other", "--rate-limit-multiplier", "0.02") as emulator:
        body = {"sourceEmail": "x@example.com", "destinationEmail": "y@example.com"}
        statuses = [emulator.api("POST", MERGE, json=body).status_code for _ in range(2)]
        assert statuses == [400, 429]  # an unknown source, then the limit
        other = emulator.api("POST", MERGE, json=body, headers={"Api-Key": "other"})
        assert other.status_code == 400


# The pure rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        ({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}, True),
        ([1, 2], [2, 1], False),  # same items, another order
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ("1", 1, False),
    ],
)
def test_json_equal(left: Any, right: Any, equal: bool) -> None:
    assert json_equal(left, right) is equal


def test_merge_arrays_dedupes_only_against_the_destination() -> None:
    rule = ArrayMergeRule("tags")
    assert merge_arrays(["a"], ["b", "b", "a"], rule) == ["a", "b", "b"]
    assert merge_arrays("a", "b", rule) == ["a", "b"]
    with pytest.raises(IterableError, match="not an array of objects"):
        merge_arrays([{"id": 1}], ["x"], ArrayMergeRule("tags", "id"))


def test_merge_profiles_copies_what_the_destination_lacks() -> None:
    rules = [ArrayMergeRule("only_source"), ArrayMergeRule("only_destination")]
    merged = merge_profiles(
        {"only_destination": [1], "both": {"x": 1}},
        {"only_source": "s", "both": {"y": 2}},
        rules,
    )
    assert merged == {"only_source": "s", "only_destination": [1], "both": {"x": 1}}
