"""What an Iterable object tells the delivery core: how its records become requests.

An adapter is small and declarative: its mapping (``prepare``, calling the
pure functions of ``mapping/``), the body around its items, how many items a
request takes, the call that sends a body, where Iterable locks its field types,
and what it waits for. Batching, sending, reading answers and recovering from
refusals are the core's (``delivery/``); the Singer side is the sinks'.
Adding an Iterable object means one mapping module, one adapter and one entry
in ``routing.py``.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from target_iterable.delivery.batching import ONE_PER_REQUEST, Envelope
from target_iterable.delivery.context import DeliveryContext
from target_iterable.delivery.prepared import PreparedRecord, user_key_of
from target_iterable.errors import RetriesExhaustedError
from target_iterable.iterable.checks import ProjectType, naming_identifier
from target_iterable.iterable.client import ApiResponse, IterableClient
from target_iterable.iterable.field_types import compatible
from target_iterable.iterable.responses import TYPE_MISMATCH_CODE, USER_UNKNOWN_CODES
from target_iterable.mapping.values import Converter, compile_converters
from target_iterable.reasons import Reason
from target_iterable.settings import Settings, StreamOptions

# A record's refusal: its reason and the message the rejects file shows.
Failure = tuple[Reason, str]
# The record is marked to be sent again on its own: Iterable's answer named its
# identifier, shared with other records of the request, for a reason that
# depends on the data.
RESEND_ALONE: Failure = (Reason.INVALID_DATA, "resend alone")

# The Iterable objects other objects can wait for.
USERS = "users"
# Singer's mark of a row deleted at the source (taps with log-based replication).
DELETED_AT = "_sdc_deleted_at"


def person_key(record: Mapping[str, Any], project_type: ProjectType) -> str | None:
    """A user's key as Iterable finds them (``naming_identifier``)."""
    found = _naming_identifier_of(record, project_type)
    return None if found is None else user_key_of(*found)


def person_identity(record: Mapping[str, Any], project_type: ProjectType) -> dict[str, Any] | None:
    """How a removal names the user: by the identifier Iterable finds them by."""
    found = _naming_identifier_of(record, project_type)
    return None if found is None else {found[0]: found[1]}


def _naming_identifier_of(
    record: Mapping[str, Any], project_type: ProjectType
) -> tuple[str, str] | None:
    email, user_id = record.get("email"), record.get("userId")
    return naming_identifier(
        email if isinstance(email, str) and email else None,
        None if user_id in (None, "") else str(user_id),
        project_type,
    )


def record_id(record: Mapping[str, Any]) -> str | None:
    """An event's or purchase's own ``id`` (its upsert key in Iterable), if it has one."""
    value = record.get("id")
    return None if value in (None, "") or isinstance(value, bool) else str(value)


def declared_conflicts(declared: Mapping[str, str], locked: Mapping[str, str]) -> list[str]:
    """Field types a schema declares (``mapping.catalog.catalog_field_types``) that the
    types Iterable locked cannot take."""
    return [
        f"field '{name}' is a {locked[name]} in Iterable and the stream's schema declares "
        f"it {kind}: records with a value there will be refused (type_mismatch)"
        for name, kind in declared.items()
        if name in locked and not compatible(locked[name], kind)
    ]


@dataclass(frozen=True)
class StreamSpec:
    """One stream as an adapter sees it: its name (after stream maps), schema and key."""

    name: str
    schema: Mapping[str, Any]
    key_properties: Sequence[str]
    options: StreamOptions

    @classmethod
    def of(
        cls,
        name: str,
        schema: Mapping[str, Any],
        key_properties: Sequence[str] | None,
        settings: Settings,
    ) -> StreamSpec:
        return cls(name, schema, tuple(key_properties or ()), settings.options_for(name))


class ObjectAdapter(abc.ABC):
    """Base of every Iterable object's adapter."""

    # The object's name, for ordering (``waits_for``) and the run summary.
    kind: ClassVar[str]
    # The rate-limited endpoint (limits.USERS_BULK_UPDATE…): one sender pool and one
    # rate limiter per endpoint, shared by every stream that feeds it.
    endpoint: ClassVar[str]
    # Objects whose pending records are sent, and answered, before this one's.
    waits_for: ClassVar[frozenset[str]] = frozenset()
    # Whose updates overwrite (profiles, carts, memberships): two requests touching
    # one user never travel at once, nor overtake each other.
    ordered_per_user: ClassVar[bool] = False
    envelope: ClassVar[Envelope] = ONE_PER_REQUEST
    # Whether keys that vanished from the source can be removed from Iterable
    # (sync_mode mirror): deletion means nothing for events or purchases.
    supports_mirror: ClassVar[bool] = False
    # Routes that remove something from Iterable (counted as deleted in the summary).
    deletion_routes: ClassVar[frozenset[str]] = frozenset()
    # An action (a journey, a send…): at most once per key and payload, needs key
    # properties, and a run is capped by max_actions_per_run.
    is_action: ClassVar[bool] = False

    def __init__(self, stream: StreamSpec, context: DeliveryContext) -> None:
        self.stream = stream
        self.context = context
        self.options = stream.options
        self.converters: dict[str, Converter] = compile_converters(
            stream.schema,
            stream.options.value_policy(
                stream.name, context.run_summary.for_stream(stream.name).count_adjusted
            ),
        )
        self.max_items_per_request = self.items_per_request(context.settings)

    @property
    def client(self) -> IterableClient:
        return self.context.client

    @property
    def project_type(self) -> ProjectType:
        return self.context.settings.project_type

    def items_per_request(self, settings: Settings) -> int:
        """Most items in one request (default: one record per request)."""
        return 1

    # Mapping --------------------------------------------------------------------------

    @abc.abstractmethod
    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        """Map and encode one record for its request body.

        Raise RecordRejected to refuse the record.
        """

    def fields_of(self, prepared: PreparedRecord) -> Mapping[str, Any]:
        """The fields whose types Iterable locks (decoded on the rare paths that need them)."""
        fields: Mapping[str, Any] = prepared.payload().get("dataFields", {})
        return fields

    def on_acknowledged(self, accepted: Sequence[PreparedRecord]) -> None:  # noqa: B027
        """Learn from the records Iterable acknowledged (the users written, say)."""

    @abc.abstractmethod
    def type_scope(self, prepared: PreparedRecord) -> str:
        """Where Iterable locks this record's field types (project users, an event name…)."""

    # Sync state -----------------------------------------------------------------------

    def natural_key(self, record: Mapping[str, Any]) -> str | None:
        """The record's key in the sync state when its stream has no key properties:
        its Iterable identity (a user, an item id, an event id), or None (always sent)."""
        return None

    def identity(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        """Who the record is in Iterable, as ``removal`` needs it (mirror streams)."""
        return None

    def removal(self, identity: Mapping[str, Any]) -> PreparedRecord | None:
        """The request item that removes ``identity`` from Iterable (None: keep it)."""
        return None

    # Pre-flight -------------------------------------------------------------------------

    def schema_conflicts(self) -> list[str]:
        """Fields the stream's schema types in a way Iterable's locked type refuses:
        every record with a value there will be refused (said once, at SCHEMA)."""
        return []

    # Requests -------------------------------------------------------------------------

    def envelope_for(self, route: str) -> Envelope:
        """The body around the items of one route (one envelope unless overridden)."""
        return self.envelope

    def max_items_for(self, route: str) -> int:
        """Most items of one route in one request."""
        return self.max_items_per_request

    def before_send(self, pending: list[PreparedRecord]) -> list[PreparedRecord]:
        """Last look at a drained batch before it is cut into requests (merging…)."""
        return pending

    def ordering_keys(self, batch: Sequence[PreparedRecord]) -> frozenset[str]:
        """Requests sharing a key are sent one after the other, in order."""
        if not self.ordered_per_user:
            return frozenset()
        keys: set[str] = set()
        for prepared in batch:
            keys |= prepared.user_keys()
        return frozenset(keys)

    def refusals_before_post(self, batch: Sequence[PreparedRecord]) -> dict[int, Failure]:
        """Records to refuse just before their body is sent, by index (on a sender thread)."""
        return {}

    @abc.abstractmethod
    def post(self, body: bytes, route: str) -> ApiResponse:
        """Send one request body for ``route``."""

    # Answers --------------------------------------------------------------------------

    def note_answer(self, response: ApiResponse) -> None:  # noqa: B027 (optional hook)
        """Learn from a 2xx answer (the fields it created, say)."""

    def extra_failures(
        self, response: ApiResponse, batch: Sequence[PreparedRecord]
    ) -> dict[int, Failure]:
        """Per-record refusals a 2xx answer gives beyond failedUpdates, by index."""
        return {}

    def refusal_reason(self, response: ApiResponse) -> Reason:
        """Why Iterable refused a request of one record."""
        if response.code == TYPE_MISMATCH_CODE:
            return Reason.TYPE_MISMATCH
        if self.user_unknown(response):
            return Reason.USER_NOT_FOUND
        return Reason.BAD_REQUEST

    def user_unknown(self, response: ApiResponse) -> bool:
        """Whether a refused request of one record means Iterable has no such user."""
        return response.code in USER_UNKNOWN_CODES

    def check_refusal(self, response: ApiResponse) -> None:  # noqa: B027 (optional hook)
        """A refused request that no record of this stream can ever pass: raise."""

    def absorb_exhausted(
        self, error: RetriesExhaustedError, batch: Sequence[PreparedRecord]
    ) -> Failure | None:
        """A request still failing after every retry: the failure of each of its
        records, when that is a per-record outcome, not a reason to stop the run."""
        return None

    # Set-up ---------------------------------------------------------------------------

    def setup(self) -> None:  # noqa: B027 (optional hook)
        """At the stream's SCHEMA message, before any record (catalogs: create it)."""
