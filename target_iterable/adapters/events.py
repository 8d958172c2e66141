"""``events`` / ``events-*`` streams → POST /api/events/trackBulk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from target_iterable.adapters.base import USERS, Failure, ObjectAdapter, record_id
from target_iterable.delivery.batching import Envelope
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.encoding import encode_faithfully
from target_iterable.iterable.client import ApiResponse
from target_iterable.iterable.limits import EVENTS_TRACK_BULK
from target_iterable.iterable.responses import disallowed_event_names
from target_iterable.mapping.events import event_payload
from target_iterable.mapping.fields import with_defaults
from target_iterable.reasons import Reason
from target_iterable.settings import Settings


class EventsAdapter(ObjectAdapter):
    """Tracks custom events, upserted by ``id``."""

    kind = "events"
    endpoint = EVENTS_TRACK_BULK
    # trackBulk does not create users (its answer names them in notFoundEmails):
    # the users read so far are sent, and answered, before the events.
    waits_for = frozenset({USERS})
    envelope = Envelope(b'{"events":[', b"]}")

    def items_per_request(self, settings: Settings) -> int:
        return settings.events_batch_size

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        payload = event_payload(
            with_defaults(record, self.options.record_defaults),
            self.converters,
            stream_name=self.stream.name,
            key_properties=self.stream.key_properties,
        )
        return PreparedRecord.of_person_payload([encode_faithfully(record)], payload)

    def type_scope(self, prepared: PreparedRecord) -> str:
        """Iterable types event fields per event name (trackBulk)."""
        return f"event:{prepared.event_name}"

    def natural_key(self, record: Mapping[str, Any]) -> str | None:
        """Events upsert by ``id``; one without an id (and no key properties) is always sent."""
        return record_id(record)

    def post(self, body: bytes, route: str) -> ApiResponse:
        return self.client.track_events(body)

    def extra_failures(
        self, response: ApiResponse, batch: Sequence[PreparedRecord]
    ) -> dict[int, Failure]:
        """trackBulk's ``disallowedEventNames``: the events of a name the project blocks."""
        disallowed = disallowed_event_names(response.body)
        return {
            index: (
                Reason.DISALLOWED_EVENT_NAME,
                f"Iterable does not allow the event name '{prepared.event_name}'",
            )
            for index, prepared in enumerate(batch)
            if prepared.event_name in disallowed
        }
