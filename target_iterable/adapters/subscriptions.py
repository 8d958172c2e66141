"""``subscriptions`` → POST /api/users/bulkUpdateSubscriptions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_iterable.adapters.base import ObjectAdapter, person_key
from target_iterable.delivery.batching import Envelope
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.encoding import encode_faithfully
from target_iterable.iterable.client import ApiResponse
from target_iterable.iterable.limits import SUBSCRIPTIONS
from target_iterable.mapping.subscriptions import subscription_update
from target_iterable.settings import Settings


class SubscriptionsAdapter(ObjectAdapter):
    """Overwrites users' subscription lists (each list given replaces the user's)."""

    kind = "subscriptions"
    endpoint = SUBSCRIPTIONS
    ordered_per_user = True
    envelope = Envelope(b'{"updateSubscriptionsRequests":[', b"]}")

    def items_per_request(self, settings: Settings) -> int:
        return settings.users_batch_size

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        update = subscription_update(record)
        return PreparedRecord.of_person_payload([encode_faithfully(record)], update)

    def fields_of(self, prepared: PreparedRecord) -> Mapping[str, Any]:
        return {}

    def type_scope(self, prepared: PreparedRecord) -> str:
        return "subscriptions"

    def natural_key(self, record: Mapping[str, Any]) -> str | None:
        return person_key(record, self.project_type)

    def post(self, body: bytes, route: str) -> ApiResponse:
        return self.client.bulk_update_subscriptions(body)
