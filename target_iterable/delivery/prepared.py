"""A record mapped and encoded for its request, with what identifies it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from target_iterable.encoding import encode_for_iterable
from target_iterable.iterable.checks import ProjectType, naming_identifier
from target_iterable.iterable.responses import RecordFailure


def user_key_of(name: str, value: str) -> str:
    """A user's key (``email:<lower-cased>`` or ``userId:<id>``): emails compared as
    Iterable compares them, case-insensitively."""
    return f"email:{value.lower()}" if name == "email" else f"userId:{value}"


@dataclass(slots=True)
class PreparedRecord:
    """One item of a request body, and the input record(s) it stands for.

    Thousands wait in queues at once, so it holds bytes, not dicts: ``item`` is
    its part of the request body, ``sources`` the input record(s) it stands for,
    encoded for the rejects file (several when updates of one user were merged).
    """

    sources: list[bytes]
    item: bytes
    email: str | None = None
    user_id: str | None = None
    event_name: str | None = None
    # Which of the adapter's requests takes it (lists: subscribe or unsubscribe…).
    route: str = ""
    # False for a second operation of one input record (an identify message's
    # device token): the record is counted once, by its first operation.
    counted: bool = True
    # Change detection (sync/): the record's key in the sync state, when it has one,
    # who it is in Iterable (JSON, for a mirror stream's removals), and whether it
    # removes a key that vanished from the source; and the digest of the one input
    # record it was made from (sync/fingerprints.py source_digest), when tracked.
    sync_key: str | None = None
    identity: str | None = None
    removal: bool = False
    source_digest: bytes | None = None
    # When Iterable first answered "not found" for its user (time.monotonic()).
    not_found_since: float | None = None

    @classmethod
    def of_person_payload(
        cls, sources: list[bytes], payload: dict[str, Any], route: str = ""
    ) -> PreparedRecord:
        """For payloads that name a user at the top level or under ``user``."""
        person = payload.get("user") or payload
        return cls(
            sources=sources,
            item=encode_for_iterable(payload),
            email=person.get("email"),
            user_id=person.get("userId"),
            event_name=payload.get("eventName"),
            route=route,
        )

    def payload(self) -> dict[str, Any]:
        """The payload, decoded again (only on rare paths: merging, refusals)."""
        decoded: dict[str, Any] = orjson.loads(self.item)
        return decoded

    @property
    def record_count(self) -> int:
        return len(self.sources) if self.counted else 0

    def user_key(self, project_type: ProjectType) -> str:
        """The user as Iterable finds them (``naming_identifier``)."""
        found = naming_identifier(self.email, self.user_id, project_type)
        assert found is not None  # a record that names no user is refused before it is sent
        return user_key_of(*found)

    def user_keys(self) -> set[str]:
        """Every identifier of the user, for ordering requests per user."""
        keys = set()
        if self.email is not None:
            keys.add(user_key_of("email", self.email))
        if self.user_id is not None:
            keys.add(user_key_of("userId", self.user_id))
        return keys

    def matches(self, failure: RecordFailure) -> bool:
        if failure.kind == "email":
            return self.email is not None and self.email.lower() == failure.value.lower()
        return self.user_id == failure.value
