"""Writes answered but not yet applied: the emulator's asynchronous processing.

Iterable answers many writes before it processes them (rule: async-writes,
async-user-updates). With a processing delay, the HTTP layer answers such a
write from a rehearsal (``Database.rehearsal``: run, answer, undo) and queues
the write here, due the delay later. Bulk and single-record writes are separate
pipelines (rule: async-pipelines), each applied in its arrival order (rule:
async-arrival-order), the single-record one more slowly, so a bulk write can
overtake a single-record write sent before it. Due writes are applied before each
request is handled, so no background thread is needed: nothing can observe the
state between two requests.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Literal

from iterable_emulator.calls import Call, Reply
from iterable_emulator.errors import IterableError
from iterable_emulator.limits import Clock

logger = logging.getLogger("iterable_emulator")


def replay_of(call: Call, records: str | None, reply: Reply) -> Call:
    """The call to apply later: without the records its answer refused.

    rule: async-answer-from-visible-state. An event answered notFoundEmails must
    not land when its user appears before it is applied. Bulk answers name the
    refused records by identifier, so records with a refused identifier are left out.
    """
    failed = reply.body.get("failedUpdates") if isinstance(reply.body, dict) else None
    if records is None or not isinstance(failed, dict) or not isinstance(call.body, dict):
        return call
    emails = {v for k, ids in failed.items() if k.endswith("Emails") for v in ids}
    user_ids = {v for k, ids in failed.items() if k.endswith("UserIds") for v in ids}
    kept = [
        record
        for record in call.body[records]
        if record.get("email") not in emails and record.get("userId") not in user_ids
    ]
    return replace(call, body={**call.body, records: kept})


# rule: async-pipelines. How much longer a single-record write takes than a bulk one.
SINGLE_RECORD_SLOWDOWN = 2
Pipeline = Literal["bulk", "single"]


@dataclass(frozen=True)
class PendingWrite:
    due: float  # clock seconds
    name: str  # "POST /api/users/bulkUpdate", for the log
    apply: Callable[[], object]


class PendingWrites:
    """A FIFO of deferred writes per pipeline; ``delay_ms`` 0 applies every write at once."""

    def __init__(self, clock: Clock, delay_ms: int = 0) -> None:
        self.clock = clock
        self.delay_ms = delay_ms
        self._queues: dict[Pipeline, deque[PendingWrite]] = {"bulk": deque(), "single": deque()}
        self._lock = threading.RLock()

    @contextmanager
    def ordered(self) -> Iterator[None]:
        """Hold the queue while a write is answered and queued, so queue order is
        answer order. (Lock order: this lock, then the database's.)"""
        with self._lock:
            yield

    def defer(self, name: str, apply: Callable[[], object], pipeline: Pipeline) -> None:
        delay = self.delay_ms * (SINGLE_RECORD_SLOWDOWN if pipeline == "single" else 1)
        with self._lock:
            self._queues[pipeline].append(PendingWrite(self.clock() + delay / 1000, name, apply))

    def _next_due(self) -> deque[PendingWrite] | None:
        """The queue whose head is due first, if any write waits."""
        waiting = [queue for queue in self._queues.values() if queue]
        return min(waiting, key=lambda queue: queue[0].due) if waiting else None

    def apply_due(self) -> int:
        """Apply every write whose time has come, oldest first; return how many.

        A write waits for the ones queued before it even if the delay was
        shortened since, so arrival order holds. rule: async-answer-from-visible-state:
        a write that fails now (its catalog was deleted meanwhile…) was answered
        already, so it is dropped and logged.
        """
        applied = 0
        with self._lock:
            while (queue := self._next_due()) is not None and queue[0].due <= self.clock():
                write = queue.popleft()
                try:
                    write.apply()
                except IterableError as error:
                    logger.info("Deferred %s dropped when applied: %s", write.name, error)
                except Exception:
                    logger.exception("Deferred %s failed when applied", write.name)
                applied += 1
        return applied

    def state(self) -> dict[str, int | None]:
        """``GET /_emulator/pending``: how many writes wait, and when the next is due."""
        with self._lock:
            self.apply_due()
            queue = self._next_due()
            next_due = queue[0].due if queue else None
            return {
                "pending": sum(len(queue) for queue in self._queues.values()),
                "next_due_ms": None
                if next_due is None
                else max(0, round((next_due - self.clock()) * 1000)),
            }

    def clear(self) -> None:
        with self._lock:
            for queue in self._queues.values():
                queue.clear()
