"""Concurrent sending with backpressure, per-user ordering and a barrier.

Reading and mapping continue while earlier requests are in flight: sinks hand
each request to a dispatcher, whose workers send it. The queue is bounded, so
a slow Iterable slows the reader instead of filling memory. Two requests that
touch the same user never travel at once, and a request never overtakes an
earlier one for the same user (Iterable applies concurrent updates in no
guaranteed order). ``wait_idle`` is the barrier a checkpoint waits on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Set
from dataclasses import dataclass

Job = Callable[[], None]


@dataclass
class _Queued:
    job: Job
    keys: Set[str]


class RequestDispatcher:
    """A pool of sender threads for one endpoint."""

    def __init__(self, name: str, *, concurrency: int, max_queued: int | None = None) -> None:
        self.name = name
        self.concurrency = max(1, concurrency)
        self.max_queued = max_queued or self.concurrency
        self._queue: list[_Queued] = []
        self._in_flight_keys: list[Set[str]] = []
        self._busy = 0
        self._error: BaseException | None = None
        self._closed = False
        self._abandoned = False
        self._changed = threading.Condition()
        self._workers: list[threading.Thread] = []
        self.peak_in_flight = 0

    def submit(self, job: Job, keys: Set[str] = frozenset()) -> None:
        """Queue one request; blocks while the queue is full (backpressure). After
        ``abandon``, requests are dropped: the run is stopping."""
        with self._changed:
            if self._abandoned:
                return
            self._start_workers()
            while len(self._queue) >= self.max_queued and self._error is None:
                self._changed.wait()
            self._raise_if_failed()
            if self._abandoned:
                return
            self._queue.append(_Queued(job, keys))
            self._changed.notify_all()

    def wait_idle(self) -> None:
        """Block until every queued and in-flight request has finished."""
        with self._changed:
            while (self._queue or self._busy) and self._error is None:
                self._changed.wait()
            self._raise_if_failed()

    def abandon(self) -> None:
        """Drop queued requests, refuse new ones, and wait for those in flight."""
        with self._changed:
            self._abandoned = True
            self._queue.clear()
            self._changed.notify_all()
            while self._busy:
                self._changed.wait()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        for worker in self._workers:
            worker.join()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _start_workers(self) -> None:
        while len(self._workers) < self.concurrency:
            worker = threading.Thread(
                target=self._work, name=f"{self.name}-sender-{len(self._workers)}", daemon=True
            )
            self._workers.append(worker)
            worker.start()

    def _next_runnable(self) -> _Queued | None:
        """The oldest job whose users are neither in flight nor in an older queued job."""
        blocked: set[str] = set()
        for keys in self._in_flight_keys:
            blocked.update(keys)
        for index, queued in enumerate(self._queue):
            if not (queued.keys & blocked):
                return self._queue.pop(index)
            blocked.update(queued.keys)
        return None

    def _work(self) -> None:
        while True:
            with self._changed:
                queued = None
                while not self._closed and self._error is None:
                    queued = self._next_runnable()
                    if queued is not None:
                        break
                    self._changed.wait()
                if queued is None:
                    return
                self._busy += 1
                self.peak_in_flight = max(self.peak_in_flight, self._busy)
                self._in_flight_keys.append(queued.keys)
                self._changed.notify_all()
            try:
                queued.job()
            except BaseException as exc:  # the reader thread re-raises it
                with self._changed:
                    if self._error is None:
                        self._error = exc
                    self._queue.clear()
            finally:
                with self._changed:
                    self._busy -= 1
                    self._in_flight_keys.remove(queued.keys)
                    self._changed.notify_all()
