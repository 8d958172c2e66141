"""Duplicates of one user in a batch become one update, later fields winning."""

from __future__ import annotations

from typing import Any

import orjson

from target_iterable.adapters.users import merge_duplicate_users
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.encoding import encode_faithfully
from target_iterable.mapping.users import user_payload


def prepared(record: dict[str, Any]) -> PreparedRecord:
    return PreparedRecord.of_person_payload([encode_faithfully(record)], user_payload(record, {}))


def test_later_fields_win_in_input_order_and_all_records_are_kept() -> None:
    first = {"email": "Ada@example.com", "plan": "free", "city": "London"}
    other = {"email": "grace@example.com", "plan": "pro"}
    second = {"email": "ada@example.com", "plan": "pro", "userId": "u1"}
    third = {"email": "ada@example.com", "city": None}
    merged = merge_duplicate_users([prepared(r) for r in (first, other, second, third)])

    assert [m.email for m in merged] == ["ada@example.com", "grace@example.com"]
    ada = merged[0]
    assert [orjson.loads(source) for source in ada.sources] == [first, second, third]
    assert orjson.loads(ada.item) == {
        "email": "ada@example.com",
        "userId": "u1",
        "dataFields": {"plan": "pro", "city": None},
    }


def test_users_by_user_id_only_merge_by_user_id() -> None:
    merged = merge_duplicate_users(
        [prepared({"userId": "7", "a": 1}), prepared({"userId": "7", "b": 2})]
    )
    assert len(merged) == 1
    assert merged[0].payload()["dataFields"] == {"a": 1, "b": 2}
