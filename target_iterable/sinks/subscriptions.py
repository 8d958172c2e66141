"""``subscriptions`` → POST /api/users/bulkUpdateSubscriptions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_iterable.batching import Envelope
from target_iterable.client import SUBSCRIPTIONS, ApiResponse
from target_iterable.encoding import encode_faithfully
from target_iterable.mapping.subscriptions import subscription_update
from target_iterable.sinks.base import IterableSink, PreparedRecord


class SubscriptionsSink(IterableSink):
    """Overwrites users' subscription lists (each list given replaces the user's)."""

    envelope = Envelope(b'{"updateSubscriptionsRequests":[', b"]}")
    batch_size_setting = "users_batch_size"
    endpoint = SUBSCRIPTIONS
    ordered_per_user = True

    def prepare(self, record: dict[str, Any]) -> tuple[PreparedRecord, Mapping[str, Any]]:
        update = subscription_update(record)
        return PreparedRecord.of_person_payload([encode_faithfully(record)], update), {}

    def fields_of(self, prepared: PreparedRecord) -> Mapping[str, Any]:
        return {}

    def type_scope(self, prepared: PreparedRecord) -> str:
        return "subscriptions"

    def post(self, body: bytes, route: str) -> ApiResponse:
        return self.client.bulk_update_subscriptions(body)
