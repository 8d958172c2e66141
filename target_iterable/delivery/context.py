"""The delivery context: what every sink shares, built once per run.

The client, the sender pools, the rejects file, the run summary and the types
Iterable has locked live here, not on the Target, and sinks receive the context
instead of reaching into the Target. Ordering between Iterable objects is
declared as data (an adapter's ``waits_for``) and enforced here: before an
events batch is sent, every users record read so far is sent and answered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from typing import Any, Protocol, TypeVar

from target_iterable.delivery.dispatch import RequestDispatcher
from target_iterable.delivery.locked_types import LockedTypes
from target_iterable.delivery.plan import PlanFile
from target_iterable.delivery.rejects import RejectedRecord, RejectsFile
from target_iterable.delivery.run_summary import RunSummary
from target_iterable.delivery.written_users import WrittenUsers
from target_iterable.iterable.client import IterableClient
from target_iterable.reasons import Reason
from target_iterable.settings import Settings, StreamOptions
from target_iterable.sync.fingerprints import project_scope
from target_iterable.sync.store import SyncStore
from target_iterable.sync.tracker import DAY_SECONDS, ChangeTracker, TrackingPolicy

State = TypeVar("State")
# Iterable types user fields project-wide (bulkUpdateUser), whatever stream wrote them.
USER_TYPE_SCOPE = "user"


class DeliveryContext:
    """Shared by every sink of a run; sending is concurrent, the rest is not."""

    def __init__(
        self,
        settings: Settings,
        client: IterableClient,
        *,
        drain_object: Callable[[str], None],
        plan: PlanFile | None = None,
    ) -> None:
        """``drain_object(kind)`` hands every pending record of the streams of one
        Iterable object (``"users"``…) to the sender pools (the target's sink drain);
        ``plan``, in a dry run, is where the client records the writes."""
        self.settings = settings
        self.client = client
        self.plan = plan
        self.rejects = RejectsFile(settings.rejects_path)
        self.rejects.check_writable()
        self.run_summary = RunSummary()
        self.locked_types = LockedTypes()
        self._drain_object = drain_object
        self._dispatchers: dict[str, RequestDispatcher] = {}
        self._endpoints_of: dict[str, set[str]] = {}
        self._run_state: dict[type[Any], Any] = {}
        self._sync_store: SyncStore | None = None
        self.trackers: list[ChangeTracker] = []
        self._user_fields_read = False
        # The project's user fields (getFields, then each answer's createdFields), for
        # Iterable's limit of 1000 user fields per project.
        self.user_fields: set[str] = set()
        # Requests were dropped unsent (a failure, a stop): no STATE may follow.
        self.abandoned = False
        # Set with ``abandoned``: senders waiting to retry give up at once.
        self.stopping = threading.Event()
        # Users this run wrote (an event answered "not found" for one is retried).
        self.written_users = WrittenUsers()

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
        self.abandoned = True
        self.stopping.set()
        for dispatcher in list(self._dispatchers.values()):
            dispatcher.abandon()

    def close(self) -> None:
        self.wait_for_requests()
        for dispatcher in self._dispatchers.values():
            dispatcher.close()
        for tracker in self.trackers:
            tracker.report_end()
        self.close_sync_state()
        if self.plan is not None:
            self.plan.close()

    # Sync state -----------------------------------------------------------------------

    def tracker_for(
        self, stream: str, options: StreamOptions, *, action: bool = False
    ) -> ChangeTracker | None:
        """The stream's change tracker, or None when it keeps no sync state.

        An action stream always has one (unless it allows repeats): an action fires at
        most once per key and payload, whatever change_detection or full_resync say,
        and its record never expires.
        """
        settings = self.settings
        mirror = options.sync_mode == "mirror"
        if action:
            if options.allow_repeats:
                return None
            policy = TrackingPolicy(
                skip_unchanged=True,
                resend_after_seconds=None,
                mirror=False,
                max_delete_ratio=settings.max_delete_ratio,
                read_only=settings.dry_run,
            )
        elif options.sync_mode == "all" or not (settings.change_detection or mirror):
            return None
        else:
            policy = TrackingPolicy(
                skip_unchanged=settings.change_detection and not settings.full_resync,
                resend_after_seconds=settings.resend_after_days * DAY_SECONDS or None,
                mirror=mirror,
                max_delete_ratio=settings.max_delete_ratio,
                read_only=settings.dry_run,
            )
        if self._sync_store is None:
            self._sync_store = SyncStore(
                settings.sync_state_url, project_scope(settings.api_key, settings.base_url)
            )
        tracker = ChangeTracker(self._sync_store, stream, policy)
        self.trackers.append(tracker)
        return tracker

    def close_sync_state(self) -> None:
        if self._sync_store is not None:
            self._sync_store.close()
            self._sync_store = None

    # Ordering -------------------------------------------------------------------------

    def send_first(self, kinds: Collection[str]) -> None:
        """Before a batch that waits for other objects: send theirs and wait for the answers.

        Events wait for users: trackBulk does not create users, so an event must
        not arrive before its user's profile.
        """
        for kind in kinds:
            self._drain_object(kind)
            self.wait_for(self._endpoints_of.get(kind, ()))

    # Pre-flight -----------------------------------------------------------------------

    def read_user_field_types(self) -> None:
        """Before the first write of user fields: learn the types Iterable has locked
        (GET /api/users/getFields, once per run), so that a record whose value cannot
        go into its field is refused locally instead of failing a whole request."""
        if self._user_fields_read:
            return
        self._user_fields_read = True
        for path, field_type in self.client.get_user_fields().items():
            self.locked_types.lock(USER_TYPE_SCOPE, path, field_type)
            self.user_fields.add(path)

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
