"""Thin SDK sinks: admit a record, hand it to the delivery core.

The SDK calls a sink for every record of a stream (after stream maps, schema
validation and key checks); the sink counts it, refuses it when validation
found a problem, and otherwise passes it to its stream's ``StreamDelivery``.
What a record becomes is the adapter's; how it travels, the core's.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from functools import cache
from typing import Any, ClassVar, cast

from singer_sdk.sinks.core import BaseJSONSchemaValidator
from singer_sdk.target_base import Target

from target_iterable.adapters.base import ObjectAdapter, StreamSpec
from target_iterable.delivery.context import DeliveringTarget, DeliveryContext
from target_iterable.delivery.stream import StreamDelivery
from target_iterable.sdk_overrides import SinkOverrides
from target_iterable.validation import CompiledSchemaValidator


class IterableSink(SinkOverrides):
    """What every sink of this target shares: the context, counting, refusals."""

    # Records buffered before the SDK drains the sink (``batch_size_rows`` overrides);
    # each drain is cut into requests within the adapter's limits.
    MAX_SIZE_DEFAULT = 5000
    # The Iterable objects whose records go out, and are answered, before this sink's.
    waits_for: frozenset[str] = frozenset()
    # The Iterable object this sink feeds ("users"…), for other sinks' ``waits_for``.
    kind: str = ""

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.context: DeliveryContext = cast(DeliveringTarget, target).delivery
        self.stream_spec = StreamSpec.of(
            stream_name, self.schema, key_properties, self.context.settings
        )
        self.stats = self.context.run_summary.for_stream(stream_name)
        self.build_delivery()

    @abc.abstractmethod
    def build_delivery(self) -> None:
        """Build what carries this stream's records (adapters, deliveries)."""

    @property
    def fails_on_schema_violations(self) -> bool:
        return self.context.settings.schema_violations == "fail"

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        return CompiledSchemaValidator(self.schema) if self.validate_schema else None

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        self.stats.count_received()
        if self.refusal is not None:
            self.context.reject(self.stream_name, record, self.refusal.reason, self.refusal.message)
            return
        self.accept(record)

    @abc.abstractmethod
    def accept(self, record: dict[str, Any]) -> None:
        """Take a record that passed the schema checks."""

    def process_batch(self, context: dict[str, Any]) -> None:
        """Send what the objects this one waits for have pending, then this sink's
        records: cut into requests and handed to the sender pools, so reading goes on
        (a checkpoint waits for their answers before emitting STATE)."""
        self.context.send_first(self.waits_for)
        self.flush()

    @abc.abstractmethod
    def flush(self) -> None:
        """Hand the queued records to the sender pools."""


class ObjectSink(IterableSink):
    """The sink of one Iterable object's stream, over that object's adapter."""

    adapter_class: ClassVar[type[ObjectAdapter]]

    def build_delivery(self) -> None:
        self.adapter = self.adapter_class(self.stream_spec, self.context)
        self.delivery = StreamDelivery(self.adapter)
        self.kind = self.adapter.kind
        self.waits_for = self.adapter.waits_for

    def setup(self) -> None:
        """At the stream's SCHEMA message (catalogs: create it, declare field types)."""
        super().setup()
        self.adapter.setup()

    def accept(self, record: dict[str, Any]) -> None:
        prepared = self.delivery.admit(record)
        if prepared is not None:
            self.delivery.queue(prepared)

    def flush(self) -> None:
        self.delivery.flush()


@cache
def object_sink(adapter_class: type[ObjectAdapter]) -> type[ObjectSink]:
    """The sink class of one Iterable object (the SDK builds sinks from a class)."""
    name = adapter_class.__name__.removesuffix("Adapter") + "Sink"
    return type(name, (ObjectSink,), {"adapter_class": adapter_class})
