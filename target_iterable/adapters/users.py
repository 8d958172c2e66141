"""``users`` / ``users-*`` streams → POST /api/users/bulkUpdate (and deletes, forgets)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from target_iterable.adapters.base import (
    DELETED_AT,
    USERS,
    Failure,
    ObjectAdapter,
    declared_conflicts,
    person_identity,
    person_key,
)
from target_iterable.delivery.batching import ONE_PER_REQUEST, Envelope
from target_iterable.delivery.context import USER_TYPE_SCOPE
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.delivery.written_users import pause_before_asking_again
from target_iterable.encoding import encode_faithfully
from target_iterable.errors import RetriesExhaustedError
from target_iterable.iterable.checks import ProjectType, identity_of, sole_identity
from target_iterable.iterable.client import ApiResponse
from target_iterable.iterable.field_types import flatten_fields
from target_iterable.iterable.limits import (
    FORGETS_PER_DAY,
    USER_FIELDS_PER_PROJECT,
    USERS_BULK_UPDATE,
)
from target_iterable.iterable.responses import created_fields
from target_iterable.mapping.catalog import catalog_field_types
from target_iterable.mapping.users import USER_IDENTITY_FIELDS, UserOptions, user_payload
from target_iterable.reasons import Reason, RecordRejected
from target_iterable.settings import Settings

# Routes: bulk update (batched), delete and GDPR forget (one user per request).
UPDATE, DELETE, FORGET = "", "delete", "forget"


# Within this many fields of Iterable's limit, each record's new fields are counted.
FIELD_LIMIT_MARGIN = 200


@dataclass
class UsersRunState:
    """What the run knows of users, across every users stream."""

    forgets_sent: int = 0  # users/forget calls this run (Iterable allows 1000 a day)
    # Iterable refused users/forget after every retry: the day's quota is used up.
    forget_quota_exhausted: bool = False
    # Users known to exist in Iterable (update-only streams ask once per user per run).
    known: dict[str, bool] = field(default_factory=dict)
    # Users this run deleted or forgot, until a re-creation saw the deletion applied.
    deleted: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def merge_data_fields(
    earlier: Mapping[str, Any], later: Mapping[str, Any], *, nested: bool
) -> dict[str, Any]:
    """``later``'s fields over ``earlier``'s, as Iterable applies them in turn.

    Without ``mergeNestedObjects`` a later object replaces the earlier one.
    With it, Iterable merges an incoming object into the stored one, nested
    objects included (as the emulator models it), so two objects are merged
    here the same way: later fields win, and a null stays to remove its key.
    One sequence a single update cannot say: an object after a null or a
    non-object is merged into what Iterable stores instead of replacing it.
    """
    merged = {**earlier, **later}
    if nested:
        for name, value in later.items():
            before = earlier.get(name)
            if isinstance(value, dict) and isinstance(before, dict):
                merged[name] = merge_data_fields(before, value, nested=True)
    return merged


def merge_updates(earlier: PreparedRecord, later: PreparedRecord) -> PreparedRecord:
    """One update equivalent to applying ``earlier`` then ``later``."""
    first, second = earlier.payload(), later.payload()
    data = merge_data_fields(
        first["dataFields"],
        second["dataFields"],
        nested=second.get("mergeNestedObjects") is True,
    )
    payload = {**first, **second, "dataFields": data}
    merged = PreparedRecord.of_person_payload([*earlier.sources, *later.sources], payload)
    merged.sync_key, merged.identity = later.sync_key, later.identity
    return merged


def merge_duplicate_users(
    pending: list[PreparedRecord], project_type: ProjectType
) -> list[PreparedRecord]:
    """Merge updates of one user into one, in input order (later fields win).

    Iterable does not promise to apply two updates of one user in the order
    they sit in a bulk request; one merged update says what the input meant.
    A delete of the user is a boundary: updates after it are not merged into
    updates before it.
    """
    result: list[PreparedRecord] = []
    open_update: dict[str, int] = {}  # user → index in result of the update to merge into
    for prepared in pending:
        key = prepared.user_key(project_type)
        if prepared.route != UPDATE:
            open_update.pop(key, None)
            result.append(prepared)
        elif key in open_update:
            index = open_update[key]
            result[index] = merge_updates(result[index], prepared)
        else:
            open_update[key] = len(result)
            result.append(prepared)
    return result


class UsersAdapter(ObjectAdapter):
    """Upserts user profiles; bulkUpdate creates users it does not know."""

    kind = USERS
    endpoint = USERS_BULK_UPDATE
    ordered_per_user = True
    envelope = Envelope(b'{"users":[', b"]}")
    supports_mirror = True
    deletion_routes = frozenset({DELETE, FORGET})

    def items_per_request(self, settings: Settings) -> int:
        return settings.users_batch_size

    def setup(self) -> None:
        self.context.read_user_field_types()

    def schema_conflicts(self) -> list[str]:
        declared = catalog_field_types(self.stream.schema)
        for name in USER_IDENTITY_FIELDS:
            declared.pop(name, None)
        return declared_conflicts(declared, self.context.locked_types.in_scope(USER_TYPE_SCOPE))

    @property
    def run_state(self) -> UsersRunState:
        return self.context.run_state(UsersRunState)

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        if record.get(DELETED_AT):
            return self.prepare_deletion(record)
        payload = user_payload(
            record,
            self.converters,
            UserOptions(
                prefer_user_id=self.options.prefer_user_id,
                merge_nested_objects=self.options.merge_nested_objects,
            ),
        )
        return PreparedRecord.of_person_payload([encode_faithfully(record)], payload)

    def prepare_deletion(self, record: Mapping[str, Any]) -> PreparedRecord:
        """A row deleted at the source: per ``on_delete``, delete or forget the user."""
        mode = self.options.on_delete
        if mode == "ignore":
            raise RecordRejected(
                Reason.DELETE_NOT_ENABLED,
                "the row was deleted at the source; the user is kept in Iterable (set "
                f"stream_options.{self.stream.name}.on_delete to 'delete' or 'forget')",
            )
        email, user_id = identity_of(record)
        # By the project's identifier (sole_identity); prefer_user_id also deletes by
        # userId (in email-based projects a userId may be held by several users).
        if user_id is not None and self.options.prefer_user_id:
            email = None
        name, value = sole_identity(email, user_id, self.project_type)
        person: dict[str, Any] = {name: value}
        return self._deletion(person, encode_faithfully(record))

    def _deletion(self, person: dict[str, Any], source: bytes) -> PreparedRecord:
        """Delete or forget one user, per ``on_delete`` (forgets count against the day's quota)."""
        mode = self.options.on_delete
        if mode == FORGET:
            if self.run_state.forgets_sent >= FORGETS_PER_DAY:
                raise RecordRejected(
                    Reason.FORGET_QUOTA_EXCEEDED,
                    f"Iterable allows {FORGETS_PER_DAY} users/forget calls a day, and this "
                    "run has used them; replay this record from the rejects file tomorrow",
                )
            self.run_state.forgets_sent += 1
        return PreparedRecord.of_person_payload([source], person, mode)

    def natural_key(self, record: Mapping[str, Any]) -> str | None:
        return person_key(record, self.project_type)

    def identity(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        return person_identity(record, self.project_type)

    def removal(self, identity: Mapping[str, Any]) -> PreparedRecord | None:
        """A user gone from a mirror stream is deleted or forgotten per ``on_delete``
        (with 'ignore', kept)."""
        if self.options.on_delete == "ignore":
            return None
        return self._deletion(dict(identity), encode_faithfully(identity))

    def envelope_for(self, route: str) -> Envelope:
        return self.envelope if route == UPDATE else ONE_PER_REQUEST

    def max_items_for(self, route: str) -> int:
        return self.max_items_per_request if route == UPDATE else 1

    def fields_of(self, prepared: PreparedRecord) -> Mapping[str, Any]:
        return super().fields_of(prepared) if prepared.route == UPDATE else {}

    def type_scope(self, prepared: PreparedRecord) -> str:
        return USER_TYPE_SCOPE

    def before_send(self, pending: list[PreparedRecord]) -> list[PreparedRecord]:
        return merge_duplicate_users(pending, self.project_type)

    def on_acknowledged(self, accepted: Sequence[PreparedRecord]) -> None:
        """Remember the users this run wrote (their events may be answered "not found"
        until Iterable applies the write) and deleted (a re-creation waits for it)."""
        written = {key for p in accepted if p.route == UPDATE for key in p.user_keys()}
        if written:
            self.context.written_users.add(written)
        with self.run_state.lock:
            for prepared in accepted:
                if prepared.route in (DELETE, FORGET):
                    self.run_state.deleted.update(prepared.user_keys())

    def refusals_before_post(self, batch: Sequence[PreparedRecord]) -> dict[int, Failure]:
        """Forgets past the day's quota; new fields past Iterable's user-field limit;
        and, on update-only streams, users Iterable does not have (one lookup per user
        per run, paced to Iterable's 100 reads/s), instead of creating them. A user this
        run deleted waits until the deletion shows before it is written again."""
        if batch[0].route == FORGET and self.run_state.forget_quota_exhausted:
            return dict.fromkeys(range(len(batch)), self._forget_quota_failure())
        self._wait_for_deletions(batch)
        refusals = self._past_the_field_limit(batch)
        if not self.options.update_only:
            return refusals
        known = self.run_state.known
        for index, prepared in enumerate(batch):
            if prepared.route != UPDATE:
                continue
            key = prepared.user_key(self.project_type)
            exists = known.get(key)
            if exists is None:
                exists = self._exists(prepared)
                known[key] = exists
            if not exists:
                refusals[index] = (
                    Reason.USER_NOT_FOUND,
                    f"stream '{self.stream.name}' only updates existing users "
                    "(stream_options update_only) and Iterable has no such user",
                )
        return refusals

    def _wait_for_deletions(self, batch: Sequence[PreparedRecord]) -> None:
        """A user this run deleted and now writes again: wait until Iterable shows the
        deletion applied (it is asynchronous, and user deletes travel apart from bulk
        updates, which could overtake them), for up to not_found_retry_seconds."""
        if not self.run_state.deleted:
            return  # the common case: no deletion this run
        for prepared in batch:
            keys = prepared.user_keys()
            if prepared.route != UPDATE or not keys & self.run_state.deleted:
                continue
            self._poll(prepared, until_exists=False)
            with self.run_state.lock:
                self.run_state.deleted -= keys

    def _past_the_field_limit(self, batch: Sequence[PreparedRecord]) -> dict[int, Failure]:
        """Records whose new fields would take the project past Iterable's 1000 user
        fields, refused before they cost a request. Checked only near the limit (a
        record's fields are decoded for it), so projects far from it pay nothing."""
        known = self.context.user_fields
        if len(known) < USER_FIELDS_PER_PROJECT - FIELD_LIMIT_MARGIN:
            return {}
        refusals: dict[int, Failure] = {}
        adding: set[str] = set()
        for index, prepared in enumerate(batch):
            if prepared.route != UPDATE:
                continue
            paths = {path for path, _ in flatten_fields(self.fields_of(prepared))}
            new = paths - known - adding
            if len(known) + len(adding) + len(new) > USER_FIELDS_PER_PROJECT:
                refusals[index] = (
                    Reason.FIELD_LIMIT_EXCEEDED,
                    f"the new fields {sorted(new)[:10]} would take the project past "
                    f"Iterable's {USER_FIELDS_PER_PROJECT} user fields (it has {len(known)}); "
                    "remove unused fields in Iterable, or drop these with a stream map",
                )
            else:
                adding |= new
        return refusals

    def note_answer(self, response: ApiResponse) -> None:
        self.context.user_fields.update(created_fields(response.body))

    def _exists(self, prepared: PreparedRecord) -> bool:
        """Whether Iterable has the user. One this run itself wrote may not be visible
        yet (bulk writes are applied asynchronously): asked again after growing pauses,
        for up to not_found_retry_seconds."""
        if not self.context.written_users.may_contain_any(prepared.user_keys()):
            return self._user_exists(prepared)
        return self._poll(prepared, until_exists=True)

    def _user_exists(self, prepared: PreparedRecord) -> bool:
        """One lookup, by the identifier the project finds users by (sole_identity)."""
        name, value = sole_identity(prepared.email, prepared.user_id, self.project_type)
        if name == "email":
            return self.client.user_exists(email=value, user_id=None)
        return self.client.user_exists(email=None, user_id=value)

    def _poll(self, prepared: PreparedRecord, *, until_exists: bool) -> bool:
        """Ask Iterable whether the user exists, after growing pauses, until the answer
        is ``until_exists`` or not_found_retry_seconds pass; the last answer."""
        limit = self.context.settings.not_found_retry_seconds
        started = time.monotonic()
        exists = self._user_exists(prepared)
        while exists != until_exists:
            pause = pause_before_asking_again(time.monotonic() - started, limit)
            if pause is None or self.context.stopping.wait(pause):
                break
            exists = self._user_exists(prepared)
        return exists

    def absorb_exhausted(
        self, error: RetriesExhaustedError, batch: Sequence[PreparedRecord]
    ) -> Failure | None:
        """users/forget still answering 429 after every retry means the project's
        1000 forgets of the day are used up (earlier runs, other tools): that forget
        and the run's later ones are rejected, without more requests, instead of
        failing the run and holding up every other record."""
        if batch[0].route != FORGET or error.status != 429:
            return None
        self.run_state.forget_quota_exhausted = True
        return self._forget_quota_failure()

    @staticmethod
    def _forget_quota_failure() -> Failure:
        return (
            Reason.FORGET_QUOTA_EXCEEDED,
            f"Iterable answered 429 to users/forget after every retry: the project's "
            f"{FORGETS_PER_DAY} forgets of the day are used up; replay this record "
            "from the rejects file tomorrow",
        )

    def post(self, body: bytes, route: str) -> ApiResponse:
        if route == DELETE:
            person = orjson.loads(body)
            return self.client.delete_user(email=person.get("email"), user_id=person.get("userId"))
        if route == FORGET:
            return self.client.forget_user(body)
        return self.client.bulk_update_users(body)
