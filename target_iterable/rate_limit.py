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
        self._last_grant = float("-inf")
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until this caller may send: at least 1/rate after the previous grant.

        Spacing is measured between actual grants, not reserved slots: a thread
        that wakes late (the reader holds the GIL) must not let the next one
        follow it closely, or two requests would reach Iterable in one breath.
        """
        while True:
            with self._lock:
                now = self._clock()
                # A nanosecond more than the interval: float sums must never come out early.
                wait = self._last_grant + 1.0 / self.rate + 1e-9 - now
                if wait <= 0:
                    self._last_grant = now
                    return
            self._sleep(wait)

    def on_throttled(self) -> None:
        """Iterable said 429: halve the rate and hold the next grant back one interval."""
        with self._lock:
            self.rate = max(self.min_rate, self.rate / 2)
            self._last_grant = max(self._last_grant, self._clock())

    def on_success(self) -> None:
        """Recover towards the configured rate by a twentieth of it per success."""
        if self.rate < self.max_rate:
            with self._lock:
                self.rate = min(self.max_rate, self.rate + self.max_rate / 20)
