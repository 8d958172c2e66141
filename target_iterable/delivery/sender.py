"""Sending one request body and accounting for every record in it.

Runs on a sender thread. Iterable answers a bulk request in three ways, and
each record of the body ends accepted or rejected with a reason:

- 2xx with per-record failures, named by identifier (``failedUpdates``): the
  records they name are rejected; when a reason depends on the data and several
  records share the identifier, each of them is sent again alone to find out;
- 400 ``RequestFieldsTypesMismatched``: a field's type is locked; the records
  carrying the offending values are rejected and the type remembered for the run;
- any other refusal of the whole request: the body is bisected until each bad
  record stands alone, O(k log n) extra requests for k bad records among n.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from target_iterable.adapters.base import RESEND_ALONE, Failure, ObjectAdapter
from target_iterable.delivery.plan import planning_for
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.delivery.run_summary import StreamStats
from target_iterable.delivery.written_users import pause_before_asking_again
from target_iterable.errors import IterableApiError, RetriesExhaustedError
from target_iterable.iterable.client import ApiResponse
from target_iterable.iterable.field_types import flatten_fields, type_conflicts
from target_iterable.iterable.responses import (
    TYPE_MISMATCH_CODE,
    fail_count,
    filtered_out_fields,
    record_failures,
    validation_errors,
)
from target_iterable.reasons import Reason
from target_iterable.sync.tracker import ChangeTracker

logger = logging.getLogger("target-iterable.delivery")

DATA_DEPENDENT_REASONS = frozenset({Reason.INVALID_DATA})


def _still_not_found(waited: float) -> str:
    """What a rejection for an unknown user adds once the record was retried."""
    if not waited:
        return ""
    return (
        f"; still not found {waited:.0f} s after this run wrote the user (not_found_retry_seconds)"
    )


class RequestSender:
    """Sends the bodies of one stream through its adapter."""

    def __init__(
        self, adapter: ObjectAdapter, stats: StreamStats, tracker: ChangeTracker | None = None
    ) -> None:
        self.adapter = adapter
        self.context = adapter.context
        self.stream = adapter.stream.name
        self._warned_filtered: set[str] = set()
        self.stats = stats
        self.tracker = tracker

    def reject_prepared(self, prepared: PreparedRecord, reason: Reason, message: str) -> None:
        for source in prepared.sources:
            self.context.reject(self.stream, source, reason, message)

    def send(self, batch: Sequence[PreparedRecord]) -> None:
        """Send one body; account for every record in it (accepted or rejected)."""
        batch = self._refuse_before_post(self.refuse_known_mismatches(batch))
        if not batch:
            return
        route = batch[0].route
        body = self.adapter.envelope_for(route).wrap([p.item for p in batch])
        self.stats.count_bytes(len(body))
        try:
            with planning_for(self.stream):
                response = self.adapter.post(body, route)
        except IterableApiError as exc:
            self.stats.count_failed_request(attempts=exc.attempts, throttled=exc.throttled)
            failure = (
                self.adapter.absorb_exhausted(exc, batch)
                if isinstance(exc, RetriesExhaustedError)
                else None
            )
            if failure is None:
                raise
            for prepared in batch:
                self.reject_prepared(prepared, *failure)
            return
        if response.status >= 400:
            self.stats.count_failed_request(
                attempts=response.attempts, throttled=response.throttled
            )
            self.adapter.check_refusal(response)
            self.recover_refused_request(batch, response)
            return
        self._account_for_answer(batch, response)

    def _refuse_before_post(self, batch: list[PreparedRecord]) -> list[PreparedRecord]:
        refusals = self.adapter.refusals_before_post(batch) if batch else {}
        for index, failure in refusals.items():
            self.reject_prepared(batch[index], *failure)
        return [p for i, p in enumerate(batch) if i not in refusals]

    def _account_for_answer(self, batch: Sequence[PreparedRecord], response: ApiResponse) -> None:
        self.adapter.note_answer(response)
        failures = self.failures_in(response, batch)
        if fail_count(response.body) > len(failures):
            # A failCount with no identifier to pin it on: say so rather than guess.
            logger.warning(
                "Iterable counted %d failures in a request of %d records but named only %d",
                fail_count(response.body),
                len(batch),
                len(failures),
            )
        resend = [batch[i] for i, failure in failures.items() if failure is RESEND_ALONE]
        self._account_for_filtered_fields(batch, response, failures)
        later = self._not_visible_yet(batch, failures)
        for index in later:
            del failures[index]
        rejected = 0
        for index, failure in failures.items():
            if failure is not RESEND_ALONE:
                self.reject_prepared(batch[index], *failure)
                rejected += batch[index].record_count
        records = sum(p.record_count for i, p in enumerate(batch) if i not in later) - sum(
            p.record_count for p in resend
        )
        self.stats.count_request(
            records=records,
            accepted=records - rejected,
            attempts=response.attempts,
            throttled=response.throttled,
        )
        accepted = [p for i, p in enumerate(batch) if i not in failures and i not in later]
        self.adapter.on_acknowledged(accepted)
        deletions = self.adapter.deletion_routes
        self.stats.count_deleted(
            sum(p.record_count for p in accepted if p.removal or p.route in deletions)
        )
        if self.tracker is not None:
            # Only now, acknowledged: a run killed before this line sends them again.
            self.tracker.acknowledged(accepted)
        for prepared in resend:
            self.send([prepared])
        if later:
            self._send_after_pause([batch[i] for i in later])

    def _account_for_filtered_fields(
        self, batch: Sequence[PreparedRecord], response: ApiResponse, failures: dict[int, Failure]
    ) -> None:
        """``filteredOutFields``: Iterable applied the records without these fields (the
        project drops unrecognized fields). Never silent: warned once per field, counted,
        and with on_filtered_fields 'reject' the records carrying one are rejected."""
        dropped = set(filtered_out_fields(response.body))
        if not dropped:
            return
        carried: dict[int, list[str]] = {}
        for index, prepared in enumerate(batch):
            if index in failures:
                continue  # not applied: nothing of it was dropped
            paths = {path for path, _ in flatten_fields(self.adapter.fields_of(prepared))}
            if dropped & paths:
                carried[index] = sorted(dropped & paths)
        new = sorted(dropped - self._warned_filtered)
        if new:
            self._warned_filtered.update(new)
            logger.warning(
                "Stream '%s': Iterable dropped the fields %s from the records it applied "
                "(the project drops unrecognized fields); add them to the project's data "
                "schema in Iterable, or remove them with a stream map",
                self.stream,
                new,
            )
        self.stats.count_filtered(len(carried))
        if self.adapter.options.on_filtered_fields == "reject":
            for index, names in carried.items():
                failures[index] = (
                    Reason.FILTERED_OUT_FIELDS,
                    f"Iterable applied the record without the fields {names} (the project "
                    "drops unrecognized fields); on_filtered_fields is 'reject'",
                )

    def _not_visible_yet(
        self, batch: Sequence[PreparedRecord], failures: dict[int, Failure]
    ) -> list[int]:
        """Records answered "not found" for a user this run itself wrote, within
        ``not_found_retry_seconds``: Iterable applies bulk writes asynchronously,
        so the user may not be visible yet. The others stay rejected, saying how
        long they were retried."""
        now = time.monotonic()
        later = []
        for index, failure in failures.items():
            if failure is RESEND_ALONE or failure[0] is not Reason.USER_NOT_FOUND:
                continue
            retry, waited = self._worth_waiting(batch[index], now)
            if retry:
                later.append(index)
            elif waited:
                failures[index] = (failure[0], f"{failure[1]}{_still_not_found(waited)}")
        return later

    def _worth_waiting(self, prepared: PreparedRecord, now: float) -> tuple[bool, float]:
        """Whether to send again a record refused for an unknown user, and how long it
        has waited: only a user this run wrote, within not_found_retry_seconds."""
        if not self.context.written_users.may_contain_any(prepared.user_keys()):
            return False, 0.0
        if prepared.not_found_since is None:
            prepared.not_found_since = now
        waited = now - prepared.not_found_since
        return waited < self.context.settings.not_found_retry_seconds, waited

    def _send_after_pause(self, records: list[PreparedRecord]) -> None:
        """Send records again after a pause that grows with the time they have waited,
        within ``not_found_retry_seconds``. A stopping run sends nothing more: the
        records are claimed by no STATE, so a restart sends them."""
        limit = self.context.settings.not_found_retry_seconds
        waited = time.monotonic() - min(p.not_found_since or 0.0 for p in records)
        pause = pause_before_asking_again(waited, limit) or 0.0
        logger.info(
            "Iterable answered 'not found' for %d records of '%s' whose users this run wrote "
            "(it applies bulk writes asynchronously); sending them again in %.1f s",
            len(records),
            self.stream,
            pause,
        )
        if self.context.stopping.wait(pause):
            return
        self.send(records)

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
            logger.warning(
                "Iterable reported failures for identifiers not in the request: %s", unmatched[:5]
            )
        for index, extra in self.adapter.extra_failures(response, batch).items():
            failures.setdefault(index, extra)
        return failures

    def refuse_known_mismatches(self, batch: Sequence[PreparedRecord]) -> list[PreparedRecord]:
        """Reject records whose types Iterable is now known to refuse.

        A body is planned before the answer to an earlier one may teach the target
        a locked type; checking again here keeps that body from failing whole.
        """
        locked_types = self.context.locked_types
        if not locked_types:
            return list(batch)  # the common case: no type refused so far this run
        kept = []
        for prepared in batch:
            locked = locked_types.in_scope(self.adapter.type_scope(prepared))
            conflicts = type_conflicts(self.adapter.fields_of(prepared), locked) if locked else []
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
        values = {id(p): dict(flatten_fields(self.adapter.fields_of(p))) for p in batch}
        for path, error in errors.items():
            expected = error.get("expectedType")
            if not isinstance(expected, str):
                continue
            carriers = [p for p in batch if path in values[id(p)]]
            offending = [p for p in carriers if values[id(p)][path] == error.get("offendingValue")]
            for prepared in offending or carriers:
                self.context.locked_types.lock(self.adapter.type_scope(prepared), path, expected)

    def recover_refused_request(
        self, batch: Sequence[PreparedRecord], response: ApiResponse
    ) -> None:
        """Iterable refused the whole request: keep the good records, reject the bad."""
        if response.code == TYPE_MISMATCH_CODE:
            self._learn_locked_types(batch, validation_errors(response.body))
            remaining = self.refuse_known_mismatches(batch)
            if len(remaining) < len(batch):
                self.send(remaining)
                return
        if len(batch) == 1:
            waited = 0.0
            if self.adapter.user_unknown(response):
                retry, waited = self._worth_waiting(batch[0], time.monotonic())
                if retry:
                    self._send_after_pause([batch[0]])
                    return
            self.reject_prepared(
                batch[0],
                self.adapter.refusal_reason(response),
                f"Iterable refused the record: HTTP {response.status} {response.code or ''}: "
                f"{response.msg}{_still_not_found(waited)}".replace("  ", " "),
            )
            return
        middle = len(batch) // 2
        logger.info(
            "Iterable refused a request of %d records (HTTP %d %s: %s); splitting to isolate "
            "the bad records",
            len(batch),
            response.status,
            response.code,
            response.msg,
        )
        self.send(batch[:middle])
        self.send(batch[middle:])
