"""Client-side pacing to Iterable's documented per-project rate limits.

Iterable answers 429 once a project exceeds an endpoint's limit (bulkUpdate
5/s, trackBulk 10/s, catalog items 100/s…). Pacing requests evenly at that
rate keeps the pipe full without provoking 429s. If Iterable still says 429,
the rate drops by ``DECREASE`` and climbs back on success (additive increase,
multiplicative decrease), with two refinements so that 429s stay rare:

- one cut per burst of refusals: requests granted before the cut were sent at
  the old rate, and their 429s say nothing new;
- a 429 below the configured rate means the real limit is lower (another
  loader shares the project): that rate is remembered, the climb stops just
  under it and probes above it only slowly. A 429 at the configured rate is
  taken as jitter (two requests bunched on the way), and the climb goes
  straight back.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

DECREASE = 0.7  # the rate is multiplied by this on a 429
RECOVERY_STEPS = 20  # successes to climb from 0 to the configured rate
PROBE_STEPS = 1000  # …the same, more slowly, above a rate Iterable refused
BELOW_REFUSED = 0.95  # the quick climb stops at this fraction of a refused rate


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
        self._last_cut = float("-inf")
        self._refused_rate = math.inf  # the lowest rate Iterable refused, if below max_rate
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until this caller may send: at least 1/rate after the previous grant.

        Returns the grant time, which ``on_throttled`` takes back. Spacing is
        measured between actual grants, not reserved slots: a thread that wakes
        late (the reader holds the GIL) must not let the next one follow it
        closely, or two requests would reach Iterable in one breath.
        """
        while True:
            with self._lock:
                now = self._clock()
                # A nanosecond more than the interval: float sums must never come out early.
                wait = self._last_grant + 1.0 / self.rate + 1e-9 - now
                if wait <= 0:
                    self._last_grant = now
                    return now
            self._sleep(wait)

    def on_throttled(self, granted_at: float) -> None:
        """Iterable said 429 to a request granted at ``granted_at``: slow down, once.

        The next grant is also held back one interval.
        """
        with self._lock:
            if granted_at <= self._last_cut:
                return  # sent before the last cut, at a rate already given up
            if self.rate < self.max_rate:
                self._refused_rate = min(self._refused_rate, self.rate)
            self.rate = max(self.min_rate, self.rate * DECREASE)
            self._last_cut = self._last_grant = max(self._last_grant, self._clock())

    def on_success(self) -> None:
        """Climb back towards the configured rate (slowly above a refused rate)."""
        if self.rate >= self.max_rate:
            return
        with self._lock:
            below_refused = self._refused_rate * BELOW_REFUSED
            if self.rate < below_refused:
                self.rate = min(below_refused, self.rate + self.max_rate / RECOVERY_STEPS)
                return
            self.rate = min(self.max_rate, self.rate + self.max_rate / PROBE_STEPS)
            if self.rate > self._refused_rate:
                self._refused_rate = math.inf  # the other loader has gone: climb freely
