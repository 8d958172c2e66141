"""Records of ``users`` streams → users in a POST /api/users/bulkUpdate body."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from target_iterable.iterable.checks import identity_fields
from target_iterable.mapping.fields import data_fields
from target_iterable.mapping.values import Converter

USER_IDENTITY_FIELDS = frozenset({"email", "userId"})


@dataclass(frozen=True)
class UserOptions:
    """Per-user flags of bulkUpdate (both default to Iterable's own default, false)."""

    prefer_user_id: bool = False
    merge_nested_objects: bool = False


def user_payload(
    record: Mapping[str, Any],
    converters: Mapping[str, Converter],
    options: UserOptions = UserOptions(),
) -> dict[str, Any]:
    """Map one record to an ``OptionalApiUser``: identity on top, the rest in dataFields."""
    payload = identity_fields(record)
    payload["dataFields"] = data_fields(record, converters, USER_IDENTITY_FIELDS)
    if options.prefer_user_id:
        payload["preferUserId"] = True
    if options.merge_nested_objects:
        payload["mergeNestedObjects"] = True
    return payload
