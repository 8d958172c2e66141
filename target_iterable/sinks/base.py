"""The shared sink: prepare records, plan bodies, send, account for every record.

A subclass supplies the pure mapping (``prepare``), the envelope of its
request body and the call that sends it; this base owns batching by count and
bytes, local refusals, per-record failures Iterable reports, isolation of bad
records in refused requests, and the rejects file.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from itertools import groupby
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks import BatchSink
from singer_sdk.sinks.core import BaseJSONSchemaValidator

from target_iterable.batching import Envelope, plan_bodies
from target_iterable.client import ApiResponse, IterableClient
from target_iterable.encoding import encode_for_iterable
from target_iterable.errors import IterableApiError
from target_iterable.field_types import flatten_fields, type_conflicts
from target_iterable.mapping.values import compile_converters
from target_iterable.reasons import Reason, RecordRejected
from target_iterable.rejects import RejectedRecord
from target_iterable.responses import (
    RecordFailure,
    fail_count,
    record_failures,
    validation_errors,
)
from target_iterable.validation import CompiledSchemaValidator

if TYPE_CHECKING:
    from target_iterable.target import TargetIterable


@dataclass(slots=True)
class PreparedRecord:
    """A record mapped and encoded for its request body, with what identifies it.

    Thousands wait in queues at once, so it holds bytes, not dicts: ``item`` is
    its part of the request body, ``sources`` the input record(s) it stands for,
    encoded for the rejects file (several when updates of one user were merged).
    """

    sources: list[bytes]
    item: bytes
    email: str | None = None
    user_id: str | None = None
    event_name: str | None = None
    # Which of the sink's endpoints takes it (lists: subscribe or unsubscribe…).
    route: str = ""
    # False for a second operation of one input record (an identify message's
    # device token): the record is counted once, by its first operation.
    counted: bool = True

    @classmethod
    def of_person_payload(
        cls, sources: list[bytes], payload: dict[str, Any], route: str = ""
    ) -> PreparedRecord:
        """For payloads that name a user at the top level or under ``user``."""
        person = payload.get("user") or payload
        return cls(
            sources=sources,
            item=encode_for_iterable(payload),
            email=person.get("email"),
            user_id=person.get("userId"),
            event_name=payload.get("eventName"),
            route=route,
        )

    def payload(self) -> dict[str, Any]:
        """The payload, decoded again (only on rare paths: merging, refusals)."""
        decoded: dict[str, Any] = orjson.loads(self.item)
        return decoded

    @property
    def record_count(self) -> int:
        return len(self.sources) if self.counted else 0

    def matches(self, failure: RecordFailure) -> bool:
        if failure.kind == "email":
            return self.email is not None and self.email.lower() == failure.value.lower()
        return self.user_id == failure.value


Failure = tuple[Reason, str]
# Marks a record to send again on its own: Iterable's answer named its identifier,
# shared with other records of the request, for a reason that depends on the data.
RESEND_ALONE: Failure = (Reason.INVALID_DATA, "resend alone")
DATA_DEPENDENT_REASONS = frozenset({Reason.INVALID_DATA})
DELETED_AT = "_sdc_deleted_at"
# stream_options that give a record field its default value.
DEFAULT_FIELD_OPTIONS = {
    "event_name": "eventName",
    "campaign_id": "campaignId",
    "template_id": "templateId",
    "application_name": "applicationName",
}


class IterableSink(BatchSink):
    """Base for every Iterable object's sink."""

    # Records buffered before the SDK drains the sink (``batch_size_rows`` overrides);
    # each drain is split into requests of at most ``max_items_per_request``.
    MAX_SIZE_DEFAULT = 5000
    envelope: ClassVar[Envelope]
    # The setting capping items per request; None: one record per request.
    batch_size_setting: ClassVar[str | None]
    # The rate-limited endpoint (client.USERS_BULK_UPDATE…): one dispatcher and one
    # rate limiter per endpoint, shared by every stream that feeds it.
    endpoint: ClassVar[str]
    max_batch_size: ClassVar[int | None] = None
    ordered_per_user: ClassVar[bool] = False

    def __init__(
        self,
        target: TargetIterable,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self._target = target
        self.converters = compile_converters(self.schema)
        self.stats = target.run_summary.for_stream(stream_name)
        self._prepared: list[PreparedRecord] = []
        # A refusal found before mapping (schema, Singer spec), for process_record.
        self._refusal: RecordRejected | None = None
        self.options: Mapping[str, Any] = (self.config.get("stream_options") or {}).get(
            stream_name, {}
        )
        size = int(self.config[self.batch_size_setting]) if self.batch_size_setting else 1
        self.max_items_per_request = min(size, self.max_batch_size or size)

    # Hooks for subclasses -------------------------------------------------------------

    @abc.abstractmethod
    def prepare(self, record: dict[str, Any]) -> tuple[PreparedRecord, Mapping[str, Any]]:
        """Map and encode one record, returning it and its typed fields (pure).

        Raise RecordRejected to refuse the record.
        """

    @cached_property
    def record_defaults(self) -> dict[str, Any]:
        """Record fields given per stream in ``stream_options`` (event name, campaign…)."""
        return {
            field: self.options[option]
            for option, field in DEFAULT_FIELD_OPTIONS.items()
            if option in self.options
        }

    def fields_of(self, prepared: PreparedRecord) -> Mapping[str, Any]:
        """The fields whose types Iterable locks (decoded on the rare paths that need them)."""
        fields: Mapping[str, Any] = prepared.payload()["dataFields"]
        return fields

    @abc.abstractmethod
    def post(self, body: bytes, route: str) -> ApiResponse:
        """Send one request body to this object's endpoint for ``route``."""

    def envelope_for(self, route: str) -> Envelope:
        """The body around the items of one route (one envelope unless overridden)."""
        return self.envelope

    def max_items_for(self, route: str) -> int:
        """Most items of one route in one request."""
        return self.max_items_per_request

    @abc.abstractmethod
    def type_scope(self, prepared: PreparedRecord) -> str:
        """Where Iterable locks this record's field types (project users, an event name…)."""

    def before_send(self, pending: list[PreparedRecord]) -> list[PreparedRecord]:
        """Last look at a drained batch before it is cut into requests (merging…)."""
        return pending

    def ordering_keys(self, batch: Sequence[PreparedRecord]) -> frozenset[str]:
        """Requests sharing a key are sent one after the other, in order.

        Sinks whose updates overwrite (profiles, carts, memberships) order them
        per user; events and purchases need not, and keep full concurrency.
        """
        if not self.ordered_per_user:
            return frozenset()
        keys = set()
        for prepared in batch:
            if prepared.email is not None:
                keys.add(f"email:{prepared.email.lower()}")
            if prepared.user_id is not None:
                keys.add(f"userId:{prepared.user_id}")
        return frozenset(keys)

    def failures_in(
        self, response: ApiResponse, batch: Sequence[PreparedRecord]
    ) -> dict[int, Failure]:
        """Per-record refusals in a 2xx answer, by index in ``batch``.

        Iterable names a failed record by its identifier. When the reason depends
        on the record's data and several records share the identifier, the answer
        cannot say which one failed: those are marked ``RESEND_ALONE``.
        """
        failures: dict[int, Failure] = {}
        unmatched = []
        for failure in record_failures(response.body):
            matched = [i for i, p in enumerate(batch) if p.matches(failure)]
            if not matched:
                unmatched.append(failure.value)
            ambiguous = len(matched) > 1 and failure.reason in DATA_DEPENDENT_REASONS
            for index in matched:
                failures.setdefault(
                    index, RESEND_ALONE if ambiguous else (failure.reason, failure.message)
                )
        if unmatched:
            self.logger.warning(
                "Iterable reported failures for identifiers not in the request: %s", unmatched[:5]
            )
        return failures

    # SDK hooks ------------------------------------------------------------------------

    @property
    def client(self) -> IterableClient:
        return self._target.client

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        return CompiledSchemaValidator(self.schema) if self.validate_schema else None

    def _validate_and_parse(self, record: dict[str, Any]) -> dict[str, Any]:
        """Validate against the schema; per ``schema_violations``, fail or mark for rejection.

        (The SDK's version logs a traceback and either raises or lets the record through.)
        """
        self._refusal = None
        if self._validator is not None:
            try:
                self._validator.validate(record)
            except InvalidRecord as exc:
                if self.config["schema_violations"] == "fail":
                    raise
                self._refusal = RecordRejected(Reason.SCHEMA_VIOLATION, exc.error_message)
        return record

    def _singer_validate_message(self, record: dict[str, Any]) -> None:
        """A record without its stream's key properties: per ``schema_violations``,
        rejected (it cannot be upserted by its key) or the run fails (the SDK's way)."""
        if self.config["schema_violations"] == "fail":
            super()._singer_validate_message(record)
            return
        missing = [name for name in self.key_properties if name not in record]
        if missing and self._refusal is None:
            self._refusal = RecordRejected(
                Reason.MISSING_KEY_PROPERTY,
                f"record lacks the stream's key properties {missing} "
                f"(key properties: {list(self.key_properties)})",
            )

    def _remove_sdc_metadata_from_record(self, record: dict[str, Any]) -> None:
        """Keep Singer metadata on the record; the payload builders never send it.

        ``data_fields`` drops every ``_sdc_*`` field, ``_sdc_deleted_at`` drives
        deletes, and the rejects file shows the record as received. (The SDK pops
        each metadata key of every record here, and strips ``_sdc_deleted_at``
        unless ``add_record_metadata`` is on.)
        """

    def _parse_timestamps_in_record(self, *args: Any, **kwargs: Any) -> None:
        """Dates are parsed by this target's converters, which refuse a bad value
        per record instead of failing the run (and do it once per schema, not per key)."""

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        self.stats.count_received()
        if self._refusal is not None:
            self.reject(record, self._refusal.reason, self._refusal.message)
            return
        self.accept(record)

    def accept(self, record: dict[str, Any]) -> None:
        """Queue a record that passed the schema checks, or reject it with its reason."""
        prepared = self.admit(record)
        if prepared is not None:
            self.queue(prepared)

    def admit(self, record: dict[str, Any], source: bytes | None = None) -> PreparedRecord | None:
        """Map one record for sending, or reject it with its reason (then None).

        ``source`` is the input record as the rejects file shows it, when
        ``record`` is derived from it (one operation of a ``messages`` record).
        """
        try:
            prepared, fields = self.prepare(record)
            if not self.envelope_for(prepared.route).fits_alone(prepared.item):
                raise RecordRejected(
                    Reason.RECORD_TOO_LARGE,
                    f"record encodes to {len(prepared.item)} bytes, "
                    "over Iterable's 4 MB body limit",
                )
            if self._target.has_locked_types():
                locked = self._target.locked_types(self.type_scope(prepared))
                if locked and (conflicts := type_conflicts(fields, locked)):
                    raise RecordRejected(Reason.TYPE_MISMATCH, "; ".join(conflicts))
        except RecordRejected as refusal:
            self.reject(record if source is None else source, refusal.reason, refusal.message)
            return None
        if source is not None:
            prepared.sources = [source]
        return prepared

    def queue(self, prepared: PreparedRecord) -> None:
        """Hold a prepared record until the next drain sends this sink's records."""
        self._prepared.append(prepared)

    def process_batch(self, context: dict[str, Any]) -> None:
        """Cut the drained records into requests and queue them for sending.

        Sending happens on the endpoint's dispatcher threads, so reading goes on;
        the target's checkpoint waits for them before emitting STATE.
        """
        pending, self._prepared = self._prepared, []
        pending = self.before_send(pending)
        dispatcher = self._target.dispatcher(self.endpoint)
        # Consecutive records of one route share requests; routes keep input order.
        for route, group in groupby(pending, key=lambda p: p.route):
            run = list(group)
            overhead = self.envelope_for(route).overhead
            sizes = [len(p.item) for p in run]
            for indexes in plan_bodies(
                sizes, max_items=self.max_items_for(route), overhead=overhead
            ):
                batch = [run[i] for i in indexes]
                dispatcher.submit(partial(self.send, batch), self.ordering_keys(batch))

    # Sending --------------------------------------------------------------------------

    def reject(self, record: Mapping[str, Any] | bytes, reason: Reason, message: str) -> None:
        self.stats.count_rejected(reason)
        self._target.rejects.write(RejectedRecord(self.stream_name, record, reason, message))

    def reject_prepared(self, prepared: PreparedRecord, reason: Reason, message: str) -> None:
        for source in prepared.sources:
            self.reject(source, reason, message)

    def before_post(self, batch: Sequence[PreparedRecord]) -> list[PreparedRecord]:
        """Last refusals before a body is built, on the sender thread (default: none)."""
        return list(batch)

    def send(self, batch: Sequence[PreparedRecord]) -> None:
        """Send one body; account for every record in it (accepted or rejected)."""
        batch = self.before_post(self.refuse_known_mismatches(batch))
        if not batch:
            return
        route = batch[0].route
        body = self.envelope_for(route).wrap([p.item for p in batch])
        try:
            response = self.post(body, route)
        except IterableApiError as exc:
            self.stats.count_failed_request(attempts=exc.attempts, throttled=exc.throttled)
            raise
        if response.status >= 400:
            self.stats.count_failed_request(
                attempts=response.attempts, throttled=response.throttled
            )
            self.recover_refused_request(batch, response)
            return
        failures = self.failures_in(response, batch)
        if fail_count(response.body) > len(failures):
            # A failCount with no identifier to pin it on: say so rather than guess.
            self.logger.warning(
                "Iterable counted %d failures in a request of %d records but named only %d",
                fail_count(response.body),
                len(batch),
                len(failures),
            )
        resend = [batch[i] for i, failure in failures.items() if failure is RESEND_ALONE]
        rejected = 0
        for index, failure in failures.items():
            if failure is not RESEND_ALONE:
                self.reject_prepared(batch[index], *failure)
                rejected += batch[index].record_count
        records = sum(p.record_count for p in batch) - sum(p.record_count for p in resend)
        self.stats.count_request(
            records=records,
            accepted=records - rejected,
            attempts=response.attempts,
            throttled=response.throttled,
        )
        for prepared in resend:
            self.send([prepared])

    def refuse_known_mismatches(self, batch: Sequence[PreparedRecord]) -> list[PreparedRecord]:
        """Reject records whose types Iterable is now known to refuse.

        A body is planned before the answer to an earlier one may teach the target
        a locked type; checking again here keeps that body from failing whole.
        """
        if not self._target.has_locked_types():
            return list(batch)  # the common case: no type refused so far this run
        kept = []
        for prepared in batch:
            locked = self._target.locked_types(self.type_scope(prepared))
            conflicts = type_conflicts(self.fields_of(prepared), locked) if locked else []
            if conflicts:
                self.reject_prepared(prepared, Reason.TYPE_MISMATCH, "; ".join(conflicts))
            else:
                kept.append(prepared)
        return kept

    def _learn_locked_types(
        self, batch: Sequence[PreparedRecord], errors: Mapping[str, Mapping[str, Any]]
    ) -> None:
        """Remember each field type Iterable reported, in the scope of the records
        that carry the offending value (event fields are typed per event name)."""
        values = {id(p): dict(flatten_fields(self.fields_of(p))) for p in batch}
        for path, error in errors.items():
            expected = error.get("expectedType")
            if not isinstance(expected, str):
                continue
            carriers = [p for p in batch if path in values[id(p)]]
            offending = [p for p in carriers if values[id(p)][path] == error.get("offendingValue")]
            for prepared in offending or carriers:
                self._target.lock_type(self.type_scope(prepared), path, expected)

    def recover_refused_request(
        self, batch: Sequence[PreparedRecord], response: ApiResponse
    ) -> None:
        """Iterable refused the whole request: keep the good records, reject the bad.

        A type mismatch names the offending fields, so the records carrying them
        are found directly and the field's type is remembered for the run; any
        other 4xx is bisected until each bad record stands alone, which costs
        O(k log n) extra requests for k bad records among n.
        """
        if response.code == "RequestFieldsTypesMismatched":
            self._learn_locked_types(batch, validation_errors(response.body))
            remaining = self.refuse_known_mismatches(batch)
            if len(remaining) < len(batch):
                self.send(remaining)
                return
        if len(batch) == 1:
            reason = (
                Reason.TYPE_MISMATCH
                if response.code == "RequestFieldsTypesMismatched"
                else Reason.BAD_REQUEST
            )
            self.reject_prepared(
                batch[0],
                reason,
                f"Iterable refused the record: HTTP {response.status} {response.code or ''}: "
                f"{response.msg}".replace("  ", " "),
            )
            return
        middle = len(batch) // 2
        self.logger.info(
            "Iterable refused a request of %d records (HTTP %d %s: %s); splitting to isolate "
            "the bad records",
            len(batch),
            response.status,
            response.code,
            response.msg,
        )
        self.send(batch[:middle])
        self.send(batch[middle:])
