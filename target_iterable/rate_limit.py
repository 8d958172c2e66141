"""Client-side pacing to Iterable's documented per-project rate limits.

Iterable answers 429 once a project exceeds an endpoint's limit (bulkUpdate
5/s, trackBulk 10/s, catalog items 100/s…). Pacing requests evenly at that
rate keeps the pipe full without provoking 429s; if Iterable still says 429
(another loader shares the project), the rate halves and then creeps back up
on success: additive increase, multiplicative decrease.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Evenly spaced permits at ``rate`` per second, shared by all senders of one endpoint."""

    def __init__(
        self,
        rate: float,
        *,
        min_rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.max_rate = rate
        self.min_rate = min_rate if min_rate is not None else max(rate / 16, 0.1)
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._next_slot = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until this caller may send (each caller reserves its own slot)."""
        with self._lock:
            now = self._clock()
            slot = max(self._next_slot, now)
            # A nanosecond more than the interval: float sums must never come out early.
            self._next_slot = slot + 1.0 / self.rate + 1e-9
        if slot > now:
            self._sleep(slot - now)

    def on_throttled(self) -> None:
        """Iterable said 429: halve the rate and push the next slot back one interval."""
        with self._lock:
            self.rate = max(self.min_rate, self.rate / 2)
            self._next_slot = max(self._next_slot, self._clock()) + 1.0 / self.rate

    def on_success(self) -> None:
        """Recover towards the configured rate by a twentieth of it per success."""
        if self.rate < self.max_rate:
            with self._lock:
                self.rate = min(self.max_rate, self.rate + self.max_rate / 20)
