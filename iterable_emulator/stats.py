"""What the emulator saw: per-endpoint counters and a bounded log of recent requests.

Tests and benchmarks read these to check what a loader did, not only what
landed: how many requests, how many 429s, the largest body, how many requests
were in flight at once and the highest request rate reached.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from iterable_emulator.limits import Clock, SlidingWindow

LOG_SIZE = 10_000
Outcome = Literal["answered", "dropped", "dropped_after_processing"]


@dataclass
class EndpointStats:
    requests: int = 0
    status_2xx: int = 0
    status_4xx: int = 0  # 429s are counted apart, in status_429
    status_429: int = 0
    status_5xx: int = 0
    dropped: int = 0  # connections closed unanswered (both drop switches)
    records: int = 0  # records received: users, events, documents… in request bodies
    body_bytes: int = 0
    max_body_bytes: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    peak_rps: int = 0  # most requests received in any one-second window
    _window: SlidingWindow = field(default_factory=lambda: SlidingWindow(1.0), repr=False)

    def begin(self, now: float, body_bytes: int, records: int) -> None:
        self.requests += 1
        self.records += records
        self.body_bytes += body_bytes
        self.max_body_bytes = max(self.max_body_bytes, body_bytes)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.peak_rps = max(self.peak_rps, self._window.add(now))

    def finish(self, status: int | None) -> None:
        self.in_flight -= 1
        if status is None:
            self.dropped += 1
        elif status == 429:
            self.status_429 += 1
        elif status >= 500:
            self.status_5xx += 1
        elif status >= 400:
            self.status_4xx += 1
        elif status >= 200:
            self.status_2xx += 1

    def as_json(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.repr}


# How much of each answer the request log keeps.
ANSWER_CHARS = 300


@dataclass
class RequestRecord:
    """One entry of ``GET /_emulator/requests``."""

    time: float
    method: str
    path: str
    endpoint: str
    body_bytes: int
    records: int
    status: int | None = None
    outcome: Outcome = "answered"
    duration_ms: float = 0.0
    # The request body as sent (text), only while the log_bodies setting is on:
    # tests compare what a dry run planned with what a real run sent.
    body: str | None = None
    # The start of the answer's body (the console shows why a request failed).
    answer: str | None = None

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Stats:
    """Counters per endpoint (``"POST /api/users/bulkUpdate"``) and in total."""

    def __init__(self, clock: Clock = time.monotonic, log_size: int = LOG_SIZE) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._log: deque[RequestRecord] = deque(maxlen=log_size)
        self._endpoints: dict[str, EndpointStats] = {}
        self._total = EndpointStats()
        self.keep_bodies = False

    def begin(
        self, method: str, path: str, endpoint: str, body: bytes, records: int
    ) -> RequestRecord:
        now = self._clock()
        with self._lock:
            for stats in (self._endpoints.setdefault(endpoint, EndpointStats()), self._total):
                stats.begin(now, len(body), records)
        record = RequestRecord(time.time(), method, path, endpoint, len(body), records)
        if self.keep_bodies:
            record.body = body.decode("utf-8", "replace")
        return record

    def finish(
        self, record: RequestRecord, status: int | None, outcome: Outcome, answer: str | None = None
    ) -> None:
        record.status, record.outcome = status, outcome
        record.answer = None if answer is None else answer[:ANSWER_CHARS]
        record.duration_ms = round((time.time() - record.time) * 1000, 3)
        with self._lock:
            for stats in (self._endpoints[record.endpoint], self._total):
                stats.finish(status)
            self._log.append(record)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "endpoints": {name: s.as_json() for name, s in sorted(self._endpoints.items())},
                "total": self._total.as_json(),
            }

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """The recent requests, oldest first, optionally only those to one path."""
        with self._lock:
            return [r.as_json() for r in self._log if path is None or r.path == path]

    def reset(self) -> None:
        with self._lock:
            self._log.clear()
            self._endpoints.clear()
            self._total = EndpointStats()
        self.keep_bodies = False
