"""``users`` / ``users-*`` streams → POST /api/users/bulkUpdate."""

from __future__ import annotations

from typing import Any

from target_iterable.batching import Envelope
from target_iterable.client import ApiResponse
from target_iterable.encoding import encode_for_iterable
from target_iterable.mapping.users import user_payload
from target_iterable.sinks.base import IterableSink, PreparedRecord

# Iterable types user fields project-wide, whatever stream they came from.
USER_TYPE_SCOPE = "user"


class UsersSink(IterableSink):
    """Upserts user profiles; bulkUpdate creates users it does not know."""

    envelope = Envelope(b'{"users":[', b"]}")
    batch_size_setting = "users_batch_size"

    def prepare(self, record: dict[str, Any]) -> PreparedRecord:
        payload = user_payload(record, self.converters)
        return PreparedRecord(
            record=record,
            item=encode_for_iterable(payload),
            fields=payload["dataFields"],
            email=payload.get("email"),
            user_id=payload.get("userId"),
        )

    def type_scope(self, prepared: PreparedRecord) -> str:
        return USER_TYPE_SCOPE

    def post(self, body: bytes) -> ApiResponse:
        return self.client.bulk_update_users(body)
