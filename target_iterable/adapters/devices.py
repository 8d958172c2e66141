"""``devices`` → POST /api/users/registerDeviceToken or /registerBrowserToken."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_iterable.adapters.base import ObjectAdapter
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.encoding import encode_faithfully
from target_iterable.iterable.client import ApiResponse
from target_iterable.iterable.limits import DEVICE_TOKENS
from target_iterable.mapping.devices import BROWSER_TOKEN, device_payload
from target_iterable.mapping.fields import with_defaults


class DevicesAdapter(ObjectAdapter):
    """Registers push tokens (APNS, APNS_SANDBOX, GCM) and web push browser tokens."""

    kind = "devices"
    endpoint = DEVICE_TOKENS

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        route, body = device_payload(
            with_defaults(record, self.options.record_defaults), self.converters
        )
        return PreparedRecord.of_person_payload([encode_faithfully(record)], body, route)

    def fields_of(self, prepared: PreparedRecord) -> Mapping[str, Any]:
        return {}

    def type_scope(self, prepared: PreparedRecord) -> str:
        return "device"

    def post(self, body: bytes, route: str) -> ApiResponse:
        if route == BROWSER_TOKEN:
            return self.client.register_browser_token(body)
        return self.client.register_device_token(body)
