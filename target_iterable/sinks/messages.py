"""``messages`` → RudderStack/Segment-spec messages, each routed as RudderStack's
Iterable destination routes it (see ``mapping.messages``).

One message becomes one or two operations (an identify with a device token
registers the token too). Each operation goes through the adapter of its
object (users, events, purchases, carts, devices), so batching, per-record
failures, type locking and refusals are the same as for those streams. The
rejects file shows the message itself. Order per drain, as Iterable needs it:
users first (bulkUpdate, duplicates merged in input order) and answered, then
device tokens, events (trackBulk) and, in input order per user, purchases and
carts (a purchase empties the cart, so a later cart must follow it).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from functools import cached_property
from typing import Any

from target_iterable.adapters.base import USERS, ObjectAdapter
from target_iterable.adapters.commerce import CartsAdapter, PurchasesAdapter
from target_iterable.adapters.devices import DevicesAdapter
from target_iterable.adapters.events import EventsAdapter
from target_iterable.adapters.users import UsersAdapter
from target_iterable.delivery.plan import planning_for
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.delivery.stream import StreamDelivery
from target_iterable.encoding import encode_faithfully
from target_iterable.errors import ConfigurationError
from target_iterable.mapping.events import derive_event_id
from target_iterable.mapping.messages import Operation, PageScreenSettings, message_operations
from target_iterable.reasons import RecordRejected
from target_iterable.sinks.base import IterableSink

# The adapter of each operation a message can become.
OPERATION_ADAPTERS: dict[Operation, type[ObjectAdapter]] = {
    "user": UsersAdapter,
    "event": EventsAdapter,
    "purchase": PurchasesAdapter,
    "cart": CartsAdapter,
    "device": DevicesAdapter,
}
# Operations that Iterable upserts by id: keyed by messageId, else by the key properties.
_KEYED: frozenset[Operation] = frozenset({"event", "purchase"})
# Sent in this order at each drain; commerce (purchases and carts) last, in input order.
_SEND_ORDER: tuple[Operation, ...] = ("user", "device", "event")


class MessagesSink(IterableSink):
    """Routes identify, track, page and screen messages to the objects' adapters."""

    kind = "messages"
    waits_for = frozenset({USERS})

    def build_delivery(self) -> None:
        if self.stream_spec.options.sync_mode == "mirror":
            raise ConfigurationError(
                f"stream '{self.stream_name}': sync_mode mirror has no meaning for messages "
                "(a message is an action, not a row); use 'upsert' or 'all'"
            )
        # Operations are mapped from the message, not from the Singer schema.
        operation_spec = replace(self.stream_spec, schema={}, key_properties=())
        self.deliveries: dict[Operation, StreamDelivery] = {
            operation: StreamDelivery(adapter_class(operation_spec, self.context))
            for operation, adapter_class in OPERATION_ADAPTERS.items()
        }
        # Purchases and carts in input order, with the delivery that sends each.
        self._commerce: list[tuple[StreamDelivery, PreparedRecord]] = []

    def setup(self) -> None:
        """At the SCHEMA message: each operation's adapter set-up (pre-flight types)."""
        super().setup()
        with planning_for(self.stream_name):
            for delivery in self.deliveries.values():
                delivery.adapter.setup()

    @cached_property
    def page_settings(self) -> PageScreenSettings:
        return PageScreenSettings.from_options(asdict(self.stream_spec.options))

    def accept(self, record: dict[str, Any]) -> None:
        """Hand each operation of the message to its object's delivery."""
        source = encode_faithfully(record)
        try:
            operations = message_operations(record, self.page_settings)
        except RecordRejected as refusal:
            self.context.reject(self.stream_name, source, refusal.reason, refusal.message)
            return
        for position, (operation, fields) in enumerate(operations):
            if operation in _KEYED and not fields.get("id") and self.key_properties:
                fields["id"] = derive_event_id(self.stream_name, self.key_properties, record)
            delivery = self.deliveries[operation]
            prepared = delivery.admit(fields, source)
            if prepared is None:
                continue
            prepared.counted = position == 0
            if operation in ("purchase", "cart"):
                self._commerce.append((delivery, prepared))
            else:
                delivery.queue(prepared)

    def flush(self) -> None:
        """Users first, answered; then tokens, events, and purchases and carts."""
        users = self.deliveries["user"]
        for operation in _SEND_ORDER:
            self.deliveries[operation].flush()
            if operation == "user":
                self.context.wait_for([users.adapter.endpoint])
        commerce, self._commerce = self._commerce, []
        for delivery, prepared in commerce:
            # One user's purchases and carts travel one after the other, in order.
            delivery.submit([prepared], frozenset(prepared.user_keys()))
