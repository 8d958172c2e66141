"""``users`` / ``users-*`` streams → POST /api/users/bulkUpdate."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from target_iterable.batching import Envelope
from target_iterable.client import USERS_BULK_UPDATE, ApiResponse
from target_iterable.encoding import encode_faithfully
from target_iterable.mapping.users import UserOptions, user_payload
from target_iterable.sinks.base import IterableSink, PreparedRecord

# Iterable types user fields project-wide, whatever stream they came from.
USER_TYPE_SCOPE = "user"


def user_key(prepared: PreparedRecord) -> str:
    """Iterable finds a user by email first, else by userId."""
    if prepared.email is not None:
        return f"email:{prepared.email.lower()}"
    return f"userId:{prepared.user_id}"


def merge_updates(earlier: PreparedRecord, later: PreparedRecord) -> PreparedRecord:
    """One update equivalent to applying ``earlier`` then ``later``."""
    first, second = earlier.payload(), later.payload()
    payload = {**first, **second, "dataFields": {**first["dataFields"], **second["dataFields"]}}
    return PreparedRecord.of_person_payload([*earlier.sources, *later.sources], payload)


def merge_duplicate_users(pending: list[PreparedRecord]) -> list[PreparedRecord]:
    """Merge updates of one user into one, in input order (later fields win).

    Iterable does not promise to apply two updates of one user in the order
    they sit in a bulk request; one merged update says what the input meant.
    """
    merged: dict[str, PreparedRecord] = {}
    for prepared in pending:
        key = user_key(prepared)
        earlier = merged.get(key)
        merged[key] = prepared if earlier is None else merge_updates(earlier, prepared)
    return list(merged.values())


class UsersSink(IterableSink):
    """Upserts user profiles; bulkUpdate creates users it does not know."""

    envelope = Envelope(b'{"users":[', b"]}")
    batch_size_setting = "users_batch_size"
    endpoint = USERS_BULK_UPDATE
    ordered_per_user = True

    def prepare(self, record: dict[str, Any]) -> tuple[PreparedRecord, Mapping[str, Any]]:
        payload = user_payload(record, self.converters, self.user_options)
        return (
            PreparedRecord.of_person_payload([encode_faithfully(record)], payload),
            payload["dataFields"],
        )

    @cached_property
    def user_options(self) -> UserOptions:
        return UserOptions(
            prefer_user_id=bool(self.options.get("prefer_user_id")),
            merge_nested_objects=bool(self.options.get("merge_nested_objects")),
        )

    def before_send(self, pending: list[PreparedRecord]) -> list[PreparedRecord]:
        return merge_duplicate_users(pending)

    def type_scope(self, prepared: PreparedRecord) -> str:
        return USER_TYPE_SCOPE

    def post(self, body: bytes, route: str) -> ApiResponse:
        return self.client.bulk_update_users(body)
