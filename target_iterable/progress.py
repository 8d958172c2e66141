"""Progress lines: while records flow, one INFO line per active stream every
``progress_seconds``.

A timer thread reads the run summary's counters, so the reading thread does no
more per record than without progress (no clock read, no lock): a long sync
says how far it is at no measurable cost. A stream none of whose counters moved
in the interval prints nothing, and a run waiting for input is quiet.

No ETA is printed: the Singer protocol carries no record count, so the total of
a stream is not known while it is read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection

from target_iterable.delivery.run_summary import RunSummary, StreamCounts
from target_iterable.iterable.limits import DOCUMENTED_RATE_LIMITS


def documented_limit(endpoints: Collection[str]) -> float | None:
    """Iterable's documented requests per second for a stream's one endpoint (None when
    the stream uses several, or Iterable documents no limit for it)."""
    if len(endpoints) != 1:
        return None
    limit = DOCUMENTED_RATE_LIMITS.get(next(iter(endpoints)))
    return None if limit is None else limit.requests_per_second


def progress_line(
    previous: StreamCounts,
    current: StreamCounts,
    seconds: float,
    limit_per_second: float | None,
) -> str | None:
    """One stream's progress over an interval of ``seconds``; None if nothing moved.

    rec/s counts records settled (accepted, rejected or found unchanged); the share of
    Iterable's limit counts attempts (retries included: each spends a permit).
    """
    if current == previous or seconds <= 0:
        return None
    rate = (current.settled - previous.settled) / seconds
    line = (
        f"{current.stream}: {current.received:,} received, {current.sent:,} sent, "
        f"{current.accepted:,} accepted, {current.rejected:,} rejected, "
        f"{current.unchanged:,} unchanged; {rate:,.0f} rec/s"
    )
    if limit_per_second:
        share = (current.attempts - previous.attempts) / seconds / limit_per_second
        line += f" ({share:.1%} of Iterable's limit)"
    return line


class ProgressReporter:
    """Logs progress lines from a daemon thread until stopped (off when ``every`` is 0)."""

    def __init__(
        self,
        summary: RunSummary,
        every: float,
        log: Callable[[str], None],
        *,
        share_of_limit: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``share_of_limit`` is off in a dry run: nothing reaches Iterable."""
        self.summary = summary
        self.every = every
        self.log = log
        self.share_of_limit = share_of_limit
        self._clock = clock
        self._last: dict[str, StreamCounts] = {}
        self._last_at = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.every <= 0 or self._thread is not None:
            return
        self._last_at = self._clock()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.report()

    def report(self) -> None:
        """Log one line per stream whose counters moved since the previous report."""
        now = self._clock()
        seconds, self._last_at = now - self._last_at, now
        for stats in self.summary.streams():
            current = stats.snapshot()
            previous = self._last.get(stats.stream, StreamCounts(stats.stream))
            self._last[stats.stream] = current
            limit = documented_limit(stats.endpoints) if self.share_of_limit else None
            line = progress_line(previous, current, seconds, limit)
            if line is not None:
                self.log(line)
