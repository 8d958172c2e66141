"""Duplicates of one user merged under ``merge_nested_objects``: objects deep-merged."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from target_iterable.adapters.users import merge_data_fields, merge_duplicate_users
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.encoding import encode_faithfully
from target_iterable.iterable.checks import ProjectType
from target_iterable.mapping.users import UserOptions, user_payload

PREFS_1 = {"prefs": {"email": True, "channels": {"sms": False}}, "plan": "free"}
PREFS_2 = {"prefs": {"push": True, "channels": {"web": True}}}


@pytest.mark.parametrize(
    ("earlier", "later", "nested", "expected"),
    [
        pytest.param(PREFS_1, PREFS_2, False, {**PREFS_2, "plan": "free"}, id="replace objects"),
        pytest.param(
            PREFS_1,
            PREFS_2,
            True,
            {
                "prefs": {"email": True, "push": True, "channels": {"sms": False, "web": True}},
                "plan": "free",
            },
            id="merge objects at every depth",
        ),
        pytest.param(
            {"prefs": {"email": True, "push": True}},
            {"prefs": {"email": False, "push": None}},
            True,
            {"prefs": {"email": False, "push": None}},
            id="later wins, a null kept to remove the key",
        ),
        pytest.param(
            {"prefs": {"email": True}, "tags": ["a"]},
            {"prefs": "none", "tags": ["b"]},
            True,
            {"prefs": "none", "tags": ["b"]},
            id="non-objects and arrays replace",
        ),
        pytest.param(
            {"prefs": None},
            {"prefs": {"email": True}},
            True,
            {"prefs": {"email": True}},
            id="an object after a null",
        ),
    ],
)
def test_merge_data_fields(
    earlier: dict[str, Any], later: dict[str, Any], nested: bool, expected: dict[str, Any]
) -> None:
    assert merge_data_fields(earlier, later, nested=nested) == expected


def prepared(record: dict[str, Any], options: UserOptions) -> PreparedRecord:
    payload = user_payload(record, {}, options)
    return PreparedRecord.of_person_payload([encode_faithfully(record)], payload)


@pytest.mark.parametrize("merge_nested_objects", [False, True])
def test_duplicate_users_merge_as_their_payloads_ask(merge_nested_objects: bool) -> None:
    options = UserOptions(merge_nested_objects=merge_nested_objects)
    records = [{"email": "ada@example.com", **PREFS_1}, {"email": "ada@example.com", **PREFS_2}]
    (merged,) = merge_duplicate_users(
        [prepared(record, options) for record in records], ProjectType.HYBRID
    )

    payload = orjson.loads(merged.item)
    assert payload["dataFields"] == merge_data_fields(PREFS_1, PREFS_2, nested=merge_nested_objects)
    assert payload.get("mergeNestedObjects", False) is merge_nested_objects
    assert [orjson.loads(source) for source in merged.sources] == records
