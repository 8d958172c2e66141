"""The delivery context: what every sink shares, built once per run.

The client, the sender pools, the rejects file, the run summary and the types
Iterable has locked live here, not on the Target, and sinks receive the context
instead of reaching into the Target. Ordering between Iterable objects is
declared as data (an adapter's ``waits_for``) and enforced here: before an
events batch is sent, every users record read so far is sent and answered.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Protocol, TypeVar

from target_iterable.delivery.dispatch import RequestDispatcher
from target_iterable.delivery.locked_types import LockedTypes
from target_iterable.delivery.rejects import RejectedRecord, RejectsFile
from target_iterable.delivery.run_summary import RunSummary
from target_iterable.iterable.client import IterableClient
from target_iterable.reasons import Reason
from target_iterable.settings import Settings

State = TypeVar("State")


class DeliveryContext:
    """Shared by every sink of a run; sending is concurrent, the rest is not."""

    def __init__(
        self,
        settings: Settings,
        client: IterableClient,
        *,
        drain_object: Callable[[str], None],
    ) -> None:
        """``drain_object(kind)`` hands every pending record of the streams of one
        Iterable object (``"users"``…) to the sender pools (the target's sink drain)."""
        self.settings = settings
        self.client = client
        self.rejects = RejectsFile(settings.rejects_path)
        self.run_summary = RunSummary()
        self.locked_types = LockedTypes()
        self._drain_object = drain_object
        self._dispatchers: dict[str, RequestDispatcher] = {}
        self._endpoints_of: dict[str, set[str]] = {}
        self._run_state: dict[type[Any], Any] = {}

    # Sending --------------------------------------------------------------------------

    def dispatcher(self, endpoint: str, kind: str) -> RequestDispatcher:
        """The sender pool of one endpoint (created on first use, main thread only)."""
        self._endpoints_of.setdefault(kind, set()).add(endpoint)
        if endpoint not in self._dispatchers:
            self._dispatchers[endpoint] = RequestDispatcher(
                endpoint, concurrency=self.settings.max_concurrent_requests
            )
        return self._dispatchers[endpoint]

    def wait_for(self, endpoints: Collection[str]) -> None:
        """Barrier for some endpoints: their queued requests have all been answered."""
        for endpoint in endpoints:
            if endpoint in self._dispatchers:
                self._dispatchers[endpoint].wait_idle()

    def wait_for_requests(self) -> None:
        """Barrier: every queued request has been answered (or the first failure raises)."""
        self.wait_for(list(self._dispatchers))

    def abandon_requests(self) -> None:
        """Drop queued requests, let those in flight finish (their records are not
        claimed by any STATE, so nothing is lost: a restart sends them again)."""
        for dispatcher in self._dispatchers.values():
            dispatcher.abandon()

    def close(self) -> None:
        self.wait_for_requests()
        for dispatcher in self._dispatchers.values():
            dispatcher.close()

    # Ordering -------------------------------------------------------------------------

    def send_first(self, kinds: Collection[str]) -> None:
        """Before a batch that waits for other objects: send theirs and wait for the answers.

        Events wait for users: trackBulk does not create users, so an event must
        not arrive before its user's profile.
        """
        for kind in kinds:
            self._drain_object(kind)
            self.wait_for(self._endpoints_of.get(kind, ()))

    # Accounting -----------------------------------------------------------------------

    def reject(self, stream: str, record: Any, reason: Reason, message: str) -> None:
        """Count a refused record under its stream and write it to the rejects file."""
        self.run_summary.for_stream(stream).count_rejected(reason)
        self.rejects.write(RejectedRecord(stream, record, reason, message))

    def run_state(self, state_class: type[State]) -> State:
        """Run-wide state of one Iterable object, shared by its streams (created once).

        Kept by the object that needs it (users' forget quota, say), not here.
        """
        if state_class not in self._run_state:
            self._run_state[state_class] = state_class()
        state: State = self._run_state[state_class]
        return state


class DeliveringTarget(Protocol):
    """What a sink needs of the Target that builds it: only the context."""

    delivery: DeliveryContext
