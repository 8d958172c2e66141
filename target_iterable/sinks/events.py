"""``events`` / ``events-*`` streams → POST /api/events/trackBulk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from target_iterable.batching import Envelope
from target_iterable.client import EVENTS_TRACK_BULK, ApiResponse
from target_iterable.encoding import encode_faithfully
from target_iterable.mapping.events import event_payload
from target_iterable.mapping.fields import with_defaults
from target_iterable.reasons import Reason
from target_iterable.responses import disallowed_event_names
from target_iterable.sinks.base import Failure, IterableSink, PreparedRecord


class EventsSink(IterableSink):
    """Tracks custom events, upserted by ``id``."""

    envelope = Envelope(b'{"events":[', b"]}")
    batch_size_setting = "events_batch_size"
    endpoint = EVENTS_TRACK_BULK

    def prepare(self, record: dict[str, Any]) -> tuple[PreparedRecord, Mapping[str, Any]]:
        payload = event_payload(
            with_defaults(record, self.record_defaults),
            self.converters,
            stream_name=self.stream_name,
            key_properties=self.key_properties,
        )
        return (
            PreparedRecord.of_person_payload([encode_faithfully(record)], payload),
            payload["dataFields"],
        )

    def type_scope(self, prepared: PreparedRecord) -> str:
        """Iterable types event fields per event name."""
        return f"event:{prepared.event_name}"

    def process_batch(self, context: dict[str, Any]) -> None:
        # trackBulk does not create users [FACTS: Identity]: send the users this run
        # has read so far first, so an event never arrives before its user.
        self._target.flush_users()
        super().process_batch(context)

    def post(self, body: bytes, route: str) -> ApiResponse:
        return self.client.track_events(body)

    def failures_in(
        self, response: ApiResponse, batch: Sequence[PreparedRecord]
    ) -> dict[int, Failure]:
        failures = super().failures_in(response, batch)
        disallowed = disallowed_event_names(response.body)
        for index, prepared in enumerate(batch):
            if prepared.event_name in disallowed:
                failures.setdefault(
                    index,
                    (
                        Reason.DISALLOWED_EVENT_NAME,
                        f"Iterable does not allow the event name '{prepared.event_name}'",
                    ),
                )
        return failures
