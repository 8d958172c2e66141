"""``messages`` → RudderStack/Segment-spec messages, each routed as RudderStack's
Iterable destination routes it (see ``mapping.messages``).

One message becomes one or two operations (an identify with a device token
registers the token too). Each operation is prepared and sent by the sink of
its object (users, events, purchases, carts, devices), so batching, per-record
failures, type locking and refusals are the same as for those streams. The
rejects file shows the message itself. Order per drain, as Iterable needs it:
users first (bulkUpdate, duplicates merged in input order) and answered, then
device tokens, events (trackBulk) and, in input order per user, purchases and
carts (a purchase empties the cart, so a later cart must follow it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from target_iterable.client import COMMERCE, USERS_BULK_UPDATE, ApiResponse
from target_iterable.encoding import encode_faithfully
from target_iterable.mapping.events import derive_event_id
from target_iterable.mapping.messages import Operation, PageScreenSettings, message_operations
from target_iterable.reasons import RecordRejected
from target_iterable.sinks.base import IterableSink, PreparedRecord
from target_iterable.sinks.commerce import CartsSink, PurchasesSink
from target_iterable.sinks.devices import DevicesSink
from target_iterable.sinks.events import EventsSink
from target_iterable.sinks.users import UsersSink

if TYPE_CHECKING:
    from target_iterable.target import TargetIterable

# Operations are mapped from the message, not from a Singer schema.
_OPERATION_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
# Operations that Iterable upserts by id: keyed by messageId, else by the key properties.
_KEYED: frozenset[Operation] = frozenset({"event", "purchase"})


class MessagesSink(IterableSink):
    """Replays identify, track, page and screen messages into Iterable."""

    envelope = UsersSink.envelope  # unused: the operations' sinks build the bodies
    batch_size_setting = None
    endpoint = USERS_BULK_UPDATE

    def __init__(
        self,
        target: TargetIterable,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.parts: dict[Operation, IterableSink] = {
            "user": UsersSink(target, stream_name, _OPERATION_SCHEMA, None),
            "event": EventsSink(target, stream_name, _OPERATION_SCHEMA, None),
            "purchase": PurchasesSink(target, stream_name, _OPERATION_SCHEMA, None),
            "cart": CartsSink(target, stream_name, _OPERATION_SCHEMA, None),
            "device": DevicesSink(target, stream_name, _OPERATION_SCHEMA, None),
        }
        # Purchases and carts in input order, with the sink that sends each.
        self._commerce: list[tuple[IterableSink, PreparedRecord]] = []

    @cached_property
    def page_settings(self) -> PageScreenSettings:
        return PageScreenSettings.from_options(self.options)

    def accept(self, record: dict[str, Any]) -> None:
        """Hand each operation of the message to its object's sink."""
        source = encode_faithfully(record)
        try:
            operations = message_operations(record, self.page_settings)
        except RecordRejected as refusal:
            self.reject(source, refusal.reason, refusal.message)
            return
        for position, (operation, fields) in enumerate(operations):
            if operation in _KEYED and not fields.get("id") and self.key_properties:
                fields["id"] = derive_event_id(self.stream_name, self.key_properties, record)
            part = self.parts[operation]
            prepared = part.admit(fields, source)
            if prepared is None:
                continue
            prepared.counted = position == 0
            if part.endpoint == COMMERCE:
                self._commerce.append((part, prepared))
            else:
                part.queue(prepared)

    def process_batch(self, context: dict[str, Any]) -> None:
        """Users first, answered; then tokens, events, and purchases and carts."""
        self._target.flush_users()
        self.parts["user"].process_batch(context)
        self._target.wait_for_endpoint(USERS_BULK_UPDATE)
        self.parts["device"].process_batch(context)
        self.parts["event"].process_batch(context)
        commerce, self._commerce = self._commerce, []
        dispatcher = self._target.dispatcher(COMMERCE)
        cart = self.parts["cart"]
        for part, prepared in commerce:
            # One user's purchases and carts travel one after the other, in order.
            dispatcher.submit(partial(part.send, [prepared]), cart.ordering_keys([prepared]))

    # Never called: every operation is prepared and sent by its own sink.

    def prepare(self, record: dict[str, Any]) -> tuple[PreparedRecord, Mapping[str, Any]]:
        raise NotImplementedError

    def type_scope(self, prepared: PreparedRecord) -> str:
        raise NotImplementedError

    def post(self, body: bytes, route: str) -> ApiResponse:
        raise NotImplementedError
