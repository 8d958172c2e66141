"""The shared sink: prepare records, plan bodies, send, account for every record.

A subclass supplies the pure mapping (``prepare``), the envelope of its
request body and the call that sends it; this base owns batching by count and
bytes, local refusals, per-record failures Iterable reports, isolation of bad
records in refused requests, and the rejects file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.sinks import BatchSink

from target_iterable.batching import Envelope, plan_bodies
from target_iterable.client import ApiResponse, IterableClient
from target_iterable.errors import IterableApiError
from target_iterable.field_types import flatten_fields, type_conflicts
from target_iterable.mapping.values import compile_converters
from target_iterable.reasons import Reason, RecordRejected
from target_iterable.rejects import RejectedRecord
from target_iterable.responses import RecordFailure, record_failures, validation_errors

if TYPE_CHECKING:
    from target_iterable.target import TargetIterable


@dataclass(slots=True)
class PreparedRecord:
    """A record mapped and encoded for its request body, with what identifies it."""

    record: Mapping[str, Any]
    item: bytes
    fields: Mapping[str, Any] = field(default_factory=dict)
    email: str | None = None
    user_id: str | None = None
    event_name: str | None = None

    def matches(self, failure: RecordFailure) -> bool:
        if failure.kind == "email":
            return self.email is not None and self.email.lower() == failure.value.lower()
        return self.user_id == failure.value


class IterableSink(BatchSink):
    """Base for every Iterable object's sink."""

    # Records buffered before the SDK drains the sink (``batch_size_rows`` overrides);
    # each drain is split into requests of at most ``max_items_per_request``.
    MAX_SIZE_DEFAULT = 5000
    envelope: ClassVar[Envelope]
    batch_size_setting: ClassVar[str]
    max_batch_size: ClassVar[int | None] = None

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
        self._pending: list[PreparedRecord] = []
        size = int(self.config[self.batch_size_setting])
        self.max_items_per_request = min(size, self.max_batch_size or size)

    # Hooks for subclasses -------------------------------------------------------------

    def prepare(self, record: dict[str, Any]) -> PreparedRecord:
        """Map and encode one record (pure); raise RecordRejected to refuse it."""
        raise NotImplementedError

    def post(self, body: bytes) -> ApiResponse:
        """Send one request body to this object's endpoint."""
        raise NotImplementedError

    def type_scope(self, prepared: PreparedRecord) -> str:
        """Where Iterable locks this record's field types (project users, an event name…)."""
        raise NotImplementedError

    def failures_in(
        self, response: ApiResponse, batch: Sequence[PreparedRecord]
    ) -> dict[int, tuple[Reason, str]]:
        """Per-record refusals in a 2xx answer, by index in ``batch``."""
        failures: dict[int, tuple[Reason, str]] = {}
        unmatched = []
        for failure in record_failures(response.body):
            matched = [i for i, p in enumerate(batch) if p.matches(failure)]
            if not matched:
                unmatched.append(failure.value)
            for index in matched:
                failures.setdefault(index, (failure.reason, failure.message))
        if unmatched:
            self.logger.warning(
                "Iterable reported failures for identifiers not in the request: %s", unmatched[:5]
            )
        return failures

    # SDK hooks ------------------------------------------------------------------------

    @property
    def client(self) -> IterableClient:
        return self._target.client

    def _parse_timestamps_in_record(self, *args: Any, **kwargs: Any) -> None:
        """Dates are parsed by this target's converters, which refuse a bad value
        per record instead of failing the run (and do it once per schema, not per key)."""

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        self.stats.count_received()
        try:
            prepared = self.prepare(record)
            if not self.envelope.fits_alone(prepared.item):
                raise RecordRejected(
                    Reason.RECORD_TOO_LARGE,
                    f"record encodes to {len(prepared.item)} bytes, "
                    "over Iterable's 4 MB body limit",
                )
            conflicts = type_conflicts(
                prepared.fields, self._target.locked_types(self.type_scope(prepared))
            )
            if conflicts:
                raise RecordRejected(Reason.TYPE_MISMATCH, "; ".join(conflicts))
        except RecordRejected as refusal:
            self.reject(record, refusal.reason, refusal.message)
            return
        self._pending.append(prepared)

    def process_batch(self, context: dict[str, Any]) -> None:
        pending, self._pending = self._pending, []
        sizes = [len(p.item) for p in pending]
        for indexes in plan_bodies(
            sizes, max_items=self.max_items_per_request, overhead=self.envelope.overhead
        ):
            self.send([pending[i] for i in indexes])

    # Sending --------------------------------------------------------------------------

    def reject(self, record: Mapping[str, Any], reason: Reason, message: str) -> None:
        self.stats.count_rejected(reason)
        self._target.rejects.write(RejectedRecord(self.stream_name, record, reason, message))

    def send(self, batch: Sequence[PreparedRecord]) -> None:
        """Send one body; account for every record in it (accepted or rejected)."""
        if not batch:
            return
        body = self.envelope.wrap([p.item for p in batch])
        try:
            response = self.post(body)
        except IterableApiError:
            self.stats.count_failed_request(attempts=1, throttled=0)
            raise
        if response.status >= 400:
            self.stats.count_failed_request(
                attempts=response.attempts, throttled=response.throttled
            )
            self.recover_refused_request(batch, response)
            return
        failures = self.failures_in(response, batch)
        for index, (reason, message) in failures.items():
            self.reject(batch[index].record, reason, message)
        self.stats.count_request(
            records=len(batch),
            accepted=len(batch) - len(failures),
            attempts=response.attempts,
            throttled=response.throttled,
        )

    def _learn_locked_types(
        self, batch: Sequence[PreparedRecord], errors: Mapping[str, Mapping[str, Any]]
    ) -> None:
        """Remember each field type Iterable reported, in the scope of the records
        that carry the offending value (event fields are typed per event name)."""
        for path, error in errors.items():
            expected = error.get("expectedType")
            if not isinstance(expected, str):
                continue
            carriers = [p for p in batch if path in dict(flatten_fields(p.fields))]
            offending = [
                p
                for p in carriers
                if dict(flatten_fields(p.fields))[path] == error.get("offendingValue")
            ]
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
            good: list[tuple[PreparedRecord, list[str]]] = []
            bad: list[tuple[PreparedRecord, list[str]]] = []
            for prepared in batch:
                conflicts = type_conflicts(
                    prepared.fields, self._target.locked_types(self.type_scope(prepared))
                )
                (bad if conflicts else good).append((prepared, conflicts))
            if bad:
                for prepared, conflicts in bad:
                    self.reject(prepared.record, Reason.TYPE_MISMATCH, "; ".join(conflicts))
                self.send([prepared for prepared, _ in good])
                return
        if len(batch) == 1:
            reason = (
                Reason.TYPE_MISMATCH
                if response.code == "RequestFieldsTypesMismatched"
                else Reason.BAD_REQUEST
            )
            self.reject(
                batch[0].record,
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
