"""``purchases`` → POST /api/commerce/trackPurchase; ``carts`` → POST /api/commerce/updateCart.

Both endpoints take one user's purchase or cart per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_iterable.adapters.base import ObjectAdapter, person_key, record_id
from target_iterable.delivery.context import USER_TYPE_SCOPE
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.encoding import encode_faithfully
from target_iterable.iterable.client import ApiResponse
from target_iterable.iterable.limits import COMMERCE
from target_iterable.mapping.commerce import cart_payload, purchase_payload
from target_iterable.mapping.fields import with_defaults


class PurchasesAdapter(ObjectAdapter):
    """Tracks purchases, upserted by ``id`` (derived from key properties when absent)."""

    kind = "purchases"
    endpoint = COMMERCE

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        payload = purchase_payload(
            with_defaults(record, self.options.record_defaults),
            self.converters,
            stream_name=self.stream.name,
            key_properties=self.stream.key_properties,
        )
        return PreparedRecord.of_person_payload([encode_faithfully(record)], payload)

    def type_scope(self, prepared: PreparedRecord) -> str:
        return "purchase"

    def natural_key(self, record: Mapping[str, Any]) -> str | None:
        return record_id(record)

    def post(self, body: bytes, route: str) -> ApiResponse:
        return self.client.track_purchase(body)


class CartsAdapter(ObjectAdapter):
    """Replaces each user's shopping cart with the record's ``items``."""

    kind = "carts"
    endpoint = COMMERCE
    # updateCart replaces the whole cart: the last update must arrive last.
    ordered_per_user = True

    def setup(self) -> None:
        self.context.read_user_field_types()  # carts carry user dataFields

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        payload = cart_payload(record, self.converters)
        return PreparedRecord.of_person_payload([encode_faithfully(record)], payload)

    def fields_of(self, prepared: PreparedRecord) -> Mapping[str, Any]:
        fields: Mapping[str, Any] = prepared.payload()["user"].get("dataFields", {})
        return fields

    def type_scope(self, prepared: PreparedRecord) -> str:
        return USER_TYPE_SCOPE

    def natural_key(self, record: Mapping[str, Any]) -> str | None:
        """A cart replaces the user's whole cart: one key per user."""
        return person_key(record, self.project_type)

    def post(self, body: bytes, route: str) -> ApiResponse:
        return self.client.update_cart(body)
