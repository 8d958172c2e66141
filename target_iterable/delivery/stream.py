"""One stream's way through the core: admit a record, queue it, cut requests, send.

Admission maps a record through its adapter and refuses, with a reason, what
Iterable could never take (too large). A drain cuts the
queued records into bodies within Iterable's limits and hands each to the
endpoint's sender pool, so reading goes on while requests travel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import groupby
from typing import Any, cast

import orjson

from target_iterable.adapters.base import ObjectAdapter
from target_iterable.delivery.batching import plan_bodies
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.delivery.sender import RequestSender
from target_iterable.encoding import encode_faithfully
from target_iterable.errors import TargetIterableError
from target_iterable.iterable.checks import ProjectType, check_named_by_user_id
from target_iterable.reasons import Reason, RecordRejected
from target_iterable.sync.fingerprints import key_of, source_digest
from target_iterable.sync.store import Stored

# The most calls one run of an action stream makes unless its options say otherwise.
DEFAULT_MAX_ACTIONS = 10_000


class ActionLimitError(TargetIterableError):
    """An action stream would make more calls than max_actions_per_run allows."""


@dataclass(slots=True)
class Candidate:
    """An input record not validated or mapped yet: at the next drain it is skipped
    when Iterable already has what it would become, else checked and admitted."""

    record: dict[str, Any]
    key: str | None
    digest: bytes
    refusal: RecordRejected | None  # found at once (no key properties)


# Checks a record against its stream's schema and key properties: the refusal, or None.
RecordCheck = Callable[[dict[str, Any]], RecordRejected | None]


class StreamDelivery:
    """The records of one stream (or of one kind of operation of ``messages``)."""

    def __init__(self, adapter: ObjectAdapter) -> None:
        self.adapter = adapter
        self.context = adapter.context
        self.stream = adapter.stream.name
        self.stats = self.context.run_summary.for_stream(self.stream)
        self.tracker = self.context.tracker_for(
            self.stream, adapter.options, action=adapter.is_action
        )
        # Action streams: the calls this run may still make (max_actions_per_run).
        self.actions_left = (
            adapter.options.max_actions_per_run or DEFAULT_MAX_ACTIONS
            if adapter.is_action
            else None
        )
        self.sender = RequestSender(adapter, self.stats, self.tracker)
        self._key_properties = adapter.stream.key_properties
        self._pending: list[PreparedRecord | Candidate] = []
        # Set by ``check_later``: records wait as candidates, checked at the drain.
        self._source_context = b""
        self._check: RecordCheck | None = None

    def check_later(self, mapping_context: bytes, check: RecordCheck) -> bool:
        """Whether records may wait unchecked until the drain (see ``offer``): only
        when change detection skips unchanged records of this stream and the sync
        state knows some (a first run would only pay for the wait; its records get
        their source digest when admitted, for the next run to compare)."""
        tracker = self.tracker
        if tracker is None or not tracker.policy.skip_unchanged:
            return False
        self._source_context, self._check = mapping_context, check
        return tracker.store.holds_any(self.stream)

    def offer(self, record: dict[str, Any], refusal: RecordRejected | None = None) -> None:
        """Queue an input record unchecked. A scheduled rerun mostly reads records
        Iterable already has: their digest, compared at the drain in one query per
        batch, spares them validation and mapping (most of a record's cost). A record
        already refused waits too, so that refusals keep the input's order."""
        if refusal is not None:
            self._pending.append(Candidate(record, None, b"", refusal))
            return
        digest = source_digest(self._source_context, encode_faithfully(record))
        self._pending.append(Candidate(record, self.sync_key(record), digest, None))

    def sync_key(self, record: Mapping[str, Any]) -> str | None:
        """The record's key in the sync state: its stream's key properties, else its
        Iterable identity (None: no key, always sent)."""
        if self._key_properties:
            return key_of(record, self._key_properties)
        return self.adapter.natural_key(record)

    def reject(self, record: Mapping[str, Any] | bytes, reason: Reason, message: str) -> None:
        self.context.reject(self.stream, record, reason, message)
        if self.tracker is not None and isinstance(record, Mapping):
            key = self.sync_key(record)
            if key is not None:
                self.tracker.saw(key)

    def remove(self, removals: list[tuple[str, str | None]]) -> int:
        """Queue the removal of keys gone from a mirror stream; return how many Iterable
        will be asked to remove (a user with on_delete 'ignore' is kept)."""
        queued = 0
        for key, identity in removals:
            prepared = self.adapter.removal(orjson.loads(identity)) if identity else None
            if prepared is None:
                continue
            prepared.sync_key, prepared.removal = key, True
            self.queue(prepared)
            queued += 1
        return queued

    def admit(
        self,
        record: Mapping[str, Any],
        source: bytes | None = None,
        *,
        candidate: Candidate | None = None,
    ) -> PreparedRecord | None:
        """Map one record for sending, or reject it with its reason (then None).

        ``source`` is the input record as the rejects file shows it, when
        ``record`` is derived from it (one operation of a ``messages`` record);
        ``candidate``, the record's queued form (its key and source digest, already made).
        """
        adapter = self.adapter
        try:
            # Types Iterable locked are checked just before a body is sent (sender.py),
            # so only for records that change detection did not drop.
            prepared = adapter.prepare(record)
            if prepared.email is not None and adapter.project_type is ProjectType.USER_ID:
                check_named_by_user_id(prepared.user_id)
            if not adapter.envelope_for(prepared.route).fits_alone(prepared.item):
                raise RecordRejected(
                    Reason.RECORD_TOO_LARGE,
                    f"record encodes to {len(prepared.item)} bytes, "
                    "over Iterable's 4 MB body limit",
                )
        except RecordRejected as refusal:
            self.reject(record if source is None else source, refusal.reason, refusal.message)
            return None
        if source is not None:
            prepared.sources = [source]
        elif candidate is not None:
            prepared.source_digest = candidate.digest
        elif self._source_context and len(prepared.sources) == 1:
            # The record as the rejects file shows it: the bytes ``offer`` digests.
            prepared.source_digest = source_digest(self._source_context, prepared.sources[0])
        if self.tracker is not None:
            # An operation of a messages record has its own identity, not the stream's key.
            if candidate is not None:
                prepared.sync_key = candidate.key
            elif source is not None:
                prepared.sync_key = self.adapter.natural_key(record)
            else:
                prepared.sync_key = self.sync_key(record)
            if self.tracker.policy.mirror:
                identity = self.adapter.identity(record)
                prepared.identity = (
                    None if identity is None else encode_faithfully(identity).decode()
                )
        return prepared

    def queue(self, prepared: PreparedRecord) -> None:
        """Hold a prepared record until the next drain."""
        self._pending.append(prepared)

    def flush(self) -> None:
        """Cut the queued records into requests and hand them to the sender pool.

        Consecutive records of one route share requests; routes keep input order.
        """
        queued, self._pending = self._pending, []
        pending, stored = self._checked(queued)
        pending = self.adapter.before_send(pending)
        if self.tracker is not None:
            pending, unchanged = self.tracker.changed(pending, stored)
            self.stats.count_unchanged(unchanged)
        if self.actions_left is not None:
            self._spend_actions(len(pending))
        for route, group in groupby(pending, key=lambda p: p.route):
            run = list(group)
            sizes = [len(p.item) for p in run]
            for indexes in plan_bodies(
                sizes,
                max_items=self.adapter.max_items_for(route),
                overhead=self.adapter.envelope_for(route).overhead,
            ):
                self.submit([run[i] for i in indexes])

    def _checked(
        self, queued: list[PreparedRecord | Candidate]
    ) -> tuple[list[PreparedRecord], dict[str, Stored] | None]:
        """Candidates resolved in input order: skipped (unchanged input), refused, or
        admitted; and what the store holds of their keys (None: not looked up)."""
        candidates = [c for c in queued if isinstance(c, Candidate)]
        if not candidates:
            return cast(list[PreparedRecord], queued), None
        tracker, check = self.tracker, self._check
        assert tracker is not None
        assert check is not None
        sources = [(c.key, c.digest) for c in candidates if c.key is not None]
        stored = tracker.lookup([key for key, _ in sources])
        skippable = tracker.skippable_sources(stored, sources)
        pending: list[PreparedRecord] = []
        skipped = 0
        for item in queued:
            if not isinstance(item, Candidate):
                pending.append(item)
            elif item.key in skippable:
                skipped += 1
                tracker.saw(item.key)  # still in the source: a mirror stream keeps it
            elif (refusal := item.refusal or check(item.record)) is not None:
                self.reject(item.record, refusal.reason, refusal.message)
            elif (prepared := self.admit(item.record, candidate=item)) is not None:
                pending.append(prepared)
        self.stats.count_unchanged(skipped)
        return pending, stored

    def _spend_actions(self, count: int) -> None:
        """Stop a runaway action stream before it sends more than its cap."""
        assert self.actions_left is not None
        if count > self.actions_left:
            cap = self.adapter.options.max_actions_per_run or DEFAULT_MAX_ACTIONS
            raise ActionLimitError(
                f"stream '{self.stream}' would make more than {cap} calls this run "
                f"(max_actions_per_run); stopped before sending the next {count}. If the "
                "model is right, raise stream_options.<stream>.max_actions_per_run"
            )
        self.actions_left -= count

    def submit(
        self, batch: Sequence[PreparedRecord], ordering_keys: frozenset[str] | None = None
    ) -> None:
        """Queue one request body for sending (blocks while the pool is full).

        Requests sharing an ordering key travel one after the other, in order
        (default: the adapter's keys).
        """
        if ordering_keys is None:
            ordering_keys = self.adapter.ordering_keys(batch)
        dispatcher = self.context.dispatcher(self.adapter.endpoint, self.adapter.kind)
        dispatcher.submit(partial(self.sender.send, batch), ordering_keys)
