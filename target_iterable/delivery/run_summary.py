"""Per-stream delivery counters and the end-of-run summary.

The same counters feed the summary lines, the SDK metrics, the progress lines
(progress.py) and the run report (run_report.py): one count, four views.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from singer_sdk import metrics

from target_iterable.reasons import Reason


@dataclass(frozen=True)
class StreamCounts:
    """A stream's counts at one instant (what a progress line compares)."""

    stream: str
    received: int = 0
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    unchanged: int = 0
    # Requests and their retries: each one spends a permit of Iterable's rate limit.
    attempts: int = 0

    @property
    def settled(self) -> int:
        """Records whose fate is known: accepted, rejected or unchanged (not sent)."""
        return self.accepted + self.rejected + self.unchanged


@dataclass
class StreamStats:
    """What happened to one stream's records (thread-safe increments)."""

    stream: str
    received: int = 0
    sent: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    # Not sent: the payload Iterable last acknowledged for the key (sync state).
    unchanged: int = 0
    # Removed from Iterable: deleted at the source, or gone from a mirror stream.
    deleted: int = 0
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    # Values the value rules changed without refusing their record (mapping/values.py:
    # inexact_numbers, dropped_array_nulls, renamed_fields, truncated_values).
    adjusted: Counter[str] = field(default_factory=Counter)
    # Request body bytes, once per request (a retry sends the same body again).
    bytes_sent: int = 0
    # The endpoints (iterable/limits.py names) the stream's requests go to, for the
    # share of Iterable's rate limit in the progress lines.
    endpoints: set[str] = field(default_factory=set)
    # Monotonic clock: the stream's first SCHEMA, and its last answer from Iterable.
    started_at: float = field(default_factory=time.monotonic)
    last_answer_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_received(self) -> None:
        # Only the reading thread counts received records: no lock on this hot path.
        self.received += 1

    def count_unchanged(self, records: int) -> None:
        # Counted on the reading thread only.
        self.unchanged += records

    def count_adjusted(self, kind: str, values: int = 1) -> None:
        # Counted while mapping, on the reading thread only.
        self.adjusted[kind] += values

    def count_filtered(self, records: int) -> None:
        """Records Iterable applied without some of their fields (filteredOutFields)."""
        with self._lock:
            self.adjusted["filtered_out_fields"] += records

    def count_deleted(self, records: int) -> None:
        with self._lock:
            self.deleted += records

    def count_rejected(self, reason: Reason) -> None:
        with self._lock:
            self.rejected[reason.value] += 1

    def note_endpoint(self, endpoint: str) -> None:
        self.endpoints.add(endpoint)

    def count_bytes(self, body_bytes: int) -> None:
        with self._lock:
            self.bytes_sent += body_bytes

    def count_request(self, *, records: int, accepted: int, attempts: int, throttled: int) -> None:
        with self._lock:
            self.last_answer_at = time.monotonic()
            self.requests += 1
            self.sent += records
            self.accepted += accepted
            self.retries += attempts - 1
            self.throttled += throttled

    def count_failed_request(self, *, attempts: int, throttled: int) -> None:
        with self._lock:
            self.last_answer_at = time.monotonic()
            self.requests += 1
            self.retries += attempts - 1
            self.throttled += throttled

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def snapshot(self) -> StreamCounts:
        """The counters at one instant, safe to read while sender threads count."""
        with self._lock:
            return StreamCounts(
                stream=self.stream,
                received=self.received,
                sent=self.sent,
                accepted=self.accepted,
                rejected=self.rejected_total,
                unchanged=self.unchanged,
                attempts=self.requests + self.retries,
            )

    def emit_metrics(self) -> None:
        """The summary as Singer SDK metric points (``METRIC: {...}`` log lines)."""
        logger = metrics.get_metrics_logger()

        def point(metric: metrics.Metric, value: int, **tags: str) -> None:
            tags = {metrics.Tag.STREAM.value: self.stream, **tags}
            metrics.log(logger, metrics.Point("counter", metric, value, tags))

        point(metrics.Metric.RECORD_COUNT, self.accepted, status="accepted")
        point(metrics.Metric.RECORD_COUNT, self.unchanged, status="unchanged")
        point(metrics.Metric.RECORD_COUNT, self.deleted, status="deleted")
        for reason, count in sorted(self.rejected.items()):
            point(metrics.Metric.RECORD_COUNT, count, status="rejected", reason=reason)
        point(metrics.Metric.HTTP_REQUEST_COUNT, self.requests, kind="request")
        point(metrics.Metric.HTTP_REQUEST_COUNT, self.retries, kind="retry")
        point(metrics.Metric.HTTP_REQUEST_COUNT, self.throttled, kind="rate_limited")

    def summary_line(self, *, dry_run: bool = False) -> str:
        reasons = ", ".join(f"{reason}={n}" for reason, n in sorted(self.rejected.items()))
        because = f" ({reasons})" if reasons else ""
        if dry_run:
            # Nothing was sent: what the plan holds, and what a real run would refuse.
            return (
                f"stream '{self.stream}' (dry run): received={self.received} "
                f"would_send={self.sent} unchanged={self.unchanged} "
                f"would_delete={self.deleted} would_reject={self.rejected_total}{because}"
                f"{self.adjusted_text}"
            )
        return (
            f"stream '{self.stream}': received={self.received} sent={self.sent} "
            f"accepted={self.accepted} rejected={self.rejected_total}"
            f"{because} unchanged={self.unchanged} "
            f"deleted={self.deleted} requests={self.requests} "
            f"retries={self.retries} rate_limited={self.throttled}{self.adjusted_text}"
        )

    @property
    def adjusted_text(self) -> str:
        """`` kind=N`` for each kind of value adjusted, only when some were."""
        return "".join(f" {kind}={n}" for kind, n in sorted(self.adjusted.items()) if n)


class RunSummary:
    """All streams' stats, keyed by stream name (a schema change keeps the counters)."""

    def __init__(self) -> None:
        self._streams: dict[str, StreamStats] = {}
        self._lock = threading.Lock()

    def for_stream(self, stream: str) -> StreamStats:
        with self._lock:
            if stream not in self._streams:
                self._streams[stream] = StreamStats(stream)
            return self._streams[stream]

    def streams(self) -> list[StreamStats]:
        with self._lock:
            return list(self._streams.values())
