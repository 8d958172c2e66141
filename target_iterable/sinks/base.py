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
from importlib.metadata import version
from typing import Any, ClassVar, cast

from singer_sdk.sinks.core import BaseJSONSchemaValidator
from singer_sdk.target_base import Target

from target_iterable.adapters.base import ObjectAdapter, StreamSpec
from target_iterable.delivery.context import DeliveringTarget, DeliveryContext
from target_iterable.delivery.plan import planning_for
from target_iterable.delivery.stream import StreamDelivery
from target_iterable.errors import ConfigurationError
from target_iterable.reasons import RecordRejected
from target_iterable.sdk_overrides import SinkOverrides
from target_iterable.settings import DELIVERY_SETTINGS
from target_iterable.sync.fingerprints import mapping_context
from target_iterable.validation import CompiledSchemaValidator

PACKAGE_VERSION = version("target-iterable")


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
            self.refuse(record, self.refusal)
            return
        self.accept(record)

    def refuse(self, record: dict[str, Any], refusal: RecordRejected) -> None:
        """A record refused before mapping (schema, key properties)."""
        self.context.reject(self.stream_name, record, refusal.reason, refusal.message)

    def note_record_version(self, version: int) -> None:
        """The tap's full-table version of the record being read (ACTIVATE_VERSION)."""

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
        if (
            self.stream_spec.options.sync_mode == "mirror"
            and not self.adapter_class.supports_mirror
        ):
            raise ConfigurationError(
                f"stream '{self.stream_name}': sync_mode mirror removes from Iterable what "
                "vanished from the source, which has no meaning for this object (only users, "
                "catalog-<name> and list-<id> streams can mirror); use 'upsert' or 'all'"
            )
        if (
            self.adapter_class.is_action
            and not self.key_properties
            and not self.stream_spec.options.allow_repeats
        ):
            raise ConfigurationError(
                f"stream '{self.stream_name}' triggers actions in Iterable, at most once per "
                "row: that needs key properties to know the rows already acted on (declare "
                "them with __key_properties__ in a stream map), or set "
                f"stream_options.{self.stream_name}.allow_repeats to fire on every run"
            )
        self.adapter = self.adapter_class(self.stream_spec, self.context)
        self.delivery = StreamDelivery(self.adapter)
        self.stats.note_endpoint(self.adapter.endpoint)
        self.kind = self.adapter.kind
        self.waits_for = self.adapter.waits_for
        tracker = self.delivery.tracker
        self.mirror = tracker if tracker is not None and tracker.policy.mirror else None
        self.checks_later = not self.fails_on_schema_violations and self.delivery.check_later(
            self.mapping_context(), self.schema_refusal
        )

    def mapping_context(self) -> bytes:
        """What this stream's payloads depend on besides the record itself: every
        setting but those that only shape delivery (a new rejects_path, say, must not
        make every record look new), the stream's schema and key, the version."""
        settings = {
            name: value for name, value in self.config.items() if name not in DELIVERY_SETTINGS
        }
        return mapping_context(
            PACKAGE_VERSION, self.stream_name, self.schema, self.key_properties, settings
        )

    def refuse(self, record: dict[str, Any], refusal: RecordRejected) -> None:
        if self.checks_later:
            self.delivery.offer(record, refusal)  # refused at the drain, in input order
            return
        self.delivery.reject(record, refusal.reason, refusal.message)

    def note_record_version(self, version: int) -> None:
        if self.mirror is not None:
            self.mirror.note_version(version)

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        if self.mirror is not None:
            self.mirror.note_record()
        super().process_record(record, context)

    def activate_version(self, new_version: int) -> None:
        """A full-table version marker: on a mirror stream, remove from Iterable the
        keys that vanished from the source (see ChangeTracker.on_activate_version)."""
        if self.mirror is None:
            self.logger.debug(
                "Stream '%s': ACTIVATE_VERSION ignored (not mirror)", self.stream_name
            )
            return
        # What was read before the marker goes first, and is answered: its keys count.
        self.send_now()
        removals = self.mirror.on_activate_version(new_version)
        if not removals:
            return
        queued = self.delivery.remove(removals)
        self.logger.info(
            "Stream '%s': %d keys vanished from the source; removing %d from Iterable",
            self.stream_name,
            len(removals),
            queued,
        )
        if queued < len(removals):
            self.logger.warning(
                "Stream '%s': %d users vanished from the source but are kept in Iterable "
                "(stream_options.%s.on_delete is 'ignore')",
                self.stream_name,
                len(removals) - queued,
                self.stream_name,
            )
        self.send_now()

    def send_now(self) -> None:
        """Send everything queued and wait for Iterable's answers."""
        self.context.send_first(self.waits_for)
        self.flush()
        self.context.wait_for([self.adapter.endpoint])

    def setup(self) -> None:
        """At the stream's SCHEMA message: the adapter's set-up (pre-flight: the types
        Iterable has locked; catalogs: create it, declare field types)."""
        super().setup()
        with planning_for(self.stream_name):
            self.adapter.setup()
        for conflict in self.adapter.schema_conflicts():
            self.logger.warning("Stream '%s': %s", self.stream_name, conflict)

    def accept(self, record: dict[str, Any]) -> None:
        if self.checks_later:
            self.delivery.offer(record)
            return
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
