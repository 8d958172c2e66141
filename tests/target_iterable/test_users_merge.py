"""Duplicates of one user in a batch become one update, later fields winning."""

from __future__ import annotations

from typing import Any

import orjson

from target_iterable.adapters.users import merge_duplicate_users
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.encoding import encode_faithfully
from target_iterable.iterable.checks import ProjectType
from target_iterable.mapping.users import user_payload


def prepared(record: dict[str, Any]) -> PreparedRecord:
    return PreparedRecord.of_person_payload([encode_faithfully(record)], user_payload(record, {}))


def test_later_fields_win_in_input_order_and_all_records_are_kept() -> None:
    first = {"email": "Ada@example.com", "plan": "free", "city": "London"}
    other = {"email": "grace@example.com", "plan": "pro"}
    second = {"email": "ada@example.com", "plan": "pro", "userId": "u1"}
    third = {"email": "ada@example.com", "city": None}
    merged = merge_duplicate_users(
        [prepared(r) for r in (first, other, second, third)], ProjectType.HYBRID
    )

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
        [prepared({"userId": "7", "a": 1}), prepared({"userId": "7", "b": 2})], ProjectType.HYBRID
    )
    assert len(merged) == 1
    assert merged[0].payload()["dataFields"] == {"a": 1, "b": 2}


def test_in_a_user_id_project_users_sharing_an_email_are_not_merged() -> None:
    """Emails are not unique in userId-based projects ("Project types and unique
    identifiers"): two userIds with one email are two users, each updated as sent."""
    records = [
        {"email": "shared@example.com", "userId": "u1", "plan": "free"},
        {"email": "shared@example.com", "userId": "u2", "plan": "pro"},
        {"email": "other@example.com", "userId": "u1", "city": "Oslo"},
    ]
    merged = merge_duplicate_users([prepared(r) for r in records], ProjectType.USER_ID)
    assert [(m.user_id, m.payload()["dataFields"]) for m in merged] == [
        ("u1", {"plan": "free", "city": "Oslo"}),
        ("u2", {"plan": "pro"}),
    ]
    hybrid = merge_duplicate_users([prepared(r) for r in records], ProjectType.HYBRID)
    assert [m.email for m in hybrid] == ["shared@example.com", "other@example.com"]
