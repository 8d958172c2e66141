"""Iterable's per-endpoint rate limits, enforced over a sliding one-second window.

Iterable answers 429 ``RateLimitExceeded`` when a project (or, for catalog item
calls, an API key) exceeds an endpoint's documented rate (rule: rate-limits).
The clock is injectable so the limiter can be tested without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]

DAY_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class Limit:
    """One endpoint's documented rate, and whether Iterable counts it per API key."""

    per_second: int
    per_day: int | None = None
    per_api_key: bool = False


# The rates from Iterable's spec; endpoints it documents no rate for have none.
# rule: rate-limits. Each rate is the "Rate limit" line of its operation in the spec.
BULK_UPDATE_USERS = Limit(5)
TRACK_BULK = Limit(10)
CATALOG_ITEMS_BULK = Limit(100, per_api_key=True)
CATALOG_ITEM = Limit(1000, per_api_key=True)
UPDATE_USER = Limit(500)
TRACK = Limit(2000)
REGISTER_DEVICE_TOKEN = Limit(500)
# forget: "3 requests/second, per project", "Daily Cap: 1000 requests per 24 hour
# period, per project" [spec: forget].
FORGET = Limit(3, per_day=1000)
# unforget: the same words [spec: unforget].
UNFORGET = Limit(3, per_day=1000)
# mergeUsers: "50 requests/second, per API key" [spec: mergeUsers].
MERGE_USERS = Limit(50, per_api_key=True)
# triggerWorkflow and the target operations (email, push, sms, inApp, webPush,
# whatsApp) document no rate limit [spec: triggerWorkflow, target]: none here.
DELETE_USER = Limit(100)
READ = Limit(100)
# getUserFields: "3 requests/second, per project".
GET_USER_FIELDS = Limit(3)
CATALOG_READ = Limit(100, per_api_key=True)


class SlidingWindow:
    """Timestamps of the events of the last ``length`` seconds."""

    def __init__(self, length: float) -> None:
        self.length = length
        self._times: deque[float] = deque()

    def count(self, now: float) -> int:
        while self._times and self._times[0] <= now - self.length:
            self._times.popleft()
        return len(self._times)

    def add(self, now: float) -> int:
        """Record an event; return how many the window now holds."""
        self._times.append(now)
        return self.count(now)


class RateLimiter:
    """Admits a request when every window of its endpoint has room.

    A refused request does not use up quota, so a client that backs off and
    retries gets through as soon as the window slides. ``multiplier`` scales
    every documented rate (0.2 turns bulkUpdate's 5/s into 1/s).
    """

    def __init__(
        self, clock: Clock = time.monotonic, *, enabled: bool = True, multiplier: float = 1.0
    ) -> None:
        self.clock = clock
        self.enabled = enabled
        self.multiplier = multiplier
        self._windows: dict[tuple[str, float], SlidingWindow] = {}
        self._lock = threading.Lock()

    def capacity(self, allowed: int) -> int:
        return max(1, int(allowed * self.multiplier))

    def allow(self, key: str, limit: Limit, arrived_at: float | None = None) -> bool:
        """Count one request against ``key`` (endpoint, plus API key if per key).

        ``arrived_at`` (this limiter's clock) is when the request reached the
        server: Iterable counts requests as they arrive at its edge, not after
        the body was read and parsed, which here waits on other requests' work.
        """
        if not self.enabled:
            return True
        caps = [(1.0, limit.per_second)]
        if limit.per_day is not None:
            caps.append((float(DAY_SECONDS), limit.per_day))
        with self._lock:
            now = self.clock() if arrived_at is None else arrived_at
            windows = [
                (self._windows.setdefault((key, length), SlidingWindow(length)), allowed)
                for length, allowed in caps
            ]
            if any(window.count(now) >= self.capacity(allowed) for window, allowed in windows):
                return False
            for window, _ in windows:
                window.add(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
