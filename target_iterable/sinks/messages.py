"""``messages`` → RudderStack/Segment-spec messages, each routed as RudderStack's
Iterable destination routes it (see ``mapping.messages``).

One message becomes one or two operations (an identify with a device token
registers the token too). Each operation goes through the adapter of its
object (users, email updates, events, purchases, carts, devices), so batching,
per-record failures, type locking and refusals are the same as for those
streams. The rejects file shows the message itself. Order per drain, as
Iterable needs it: users first (bulkUpdate, duplicates merged in input order)
and answered, then email changes (alias) and answered, then device tokens,
events (trackBulk) and, in input order per user, purchases and carts (a
purchase empties the cart, so a later cart must follow it).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from target_iterable.adapters.base import USERS
from target_iterable.adapters.messages import OPERATION_ADAPTERS
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.delivery.stream import StreamDelivery
from target_iterable.encoding import encode_faithfully
from target_iterable.errors import ConfigurationError
from target_iterable.mapping.events import derive_event_id
from target_iterable.mapping.messages import (
    MessageSettings,
    Operation,
    message_operations,
)
from target_iterable.reasons import RecordRejected
from target_iterable.sinks.base import IterableSink

# Operations that Iterable upserts by id: keyed by messageId, else by the key properties.
_KEYED: frozenset[Operation] = frozenset({"event", "purchase"})
# Sent in this order at each drain; commerce (purchases and carts) last, in input order.
_SEND_ORDER: tuple[Operation, ...] = ("user", "email_update", "device", "event")
# Answered before the next operations leave: the users exist, and carry their new email.
_ANSWERED_FIRST: frozenset[Operation] = frozenset({"user", "email_update"})


class MessagesSink(IterableSink):
    """Routes identify, track, page, screen and alias messages to the objects' adapters."""

    kind = "messages"
    waits_for = frozenset({USERS})

    def build_delivery(self) -> None:
        options = self.stream_spec.options
        if options.sync_mode == "mirror":
            raise ConfigurationError(
                f"stream '{self.stream_name}': sync_mode mirror has no meaning for messages "
                "(a message is an action, not a row); use 'upsert' or 'all'"
            )
        try:
            self.message_settings = MessageSettings.from_options(asdict(options))
        except ValueError as exc:
            raise ConfigurationError(f"stream_options.{self.stream_name}: {exc}") from exc
        # Operations are mapped from the message, not from the Singer schema.
        operation_spec = replace(self.stream_spec, schema={}, key_properties=())
        self.deliveries: dict[Operation, StreamDelivery] = {
            operation: StreamDelivery(adapter_class(operation_spec, self.context))
            for operation, adapter_class in OPERATION_ADAPTERS.items()
        }
        # Purchases and carts in input order, with the delivery that sends each.
        self._commerce: list[tuple[StreamDelivery, PreparedRecord]] = []

    def accept(self, record: dict[str, Any]) -> None:
        """Hand each operation of the message to its object's delivery."""
        source = encode_faithfully(record)
        try:
            operations = message_operations(record, self.message_settings)
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
        """Users and email changes first, answered; then tokens, events, and
        purchases and carts."""
        for operation in _SEND_ORDER:
            delivery = self.deliveries[operation]
            delivery.flush()
            if operation in _ANSWERED_FIRST:
                self.context.wait_for([delivery.adapter.endpoint])
        commerce, self._commerce = self._commerce, []
        for delivery, prepared in commerce:
            # One user's purchases and carts travel one after the other, in order.
            delivery.submit([prepared], frozenset(prepared.user_keys()))
