"""Static lists and subscriptions, kept as ``emailListIds`` on user profiles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from iterable_emulator.errors import IterableError
from iterable_emulator.field_types import TypeCheck
from iterable_emulator.store.database import Database
from iterable_emulator.store.users import Users, check_identities
from iterable_emulator.store.values import BulkOutcome, Failure

# The fields bulkUpdateSubscriptions overwrites when the request sets them. [spec]
SUBSCRIPTION_FIELDS = (
    "emailListIds",
    "unsubscribedChannelIds",
    "unsubscribedMessageTypeIds",
    "subscribedMessageTypeIds",
)


class Lists:
    def __init__(self, db: Database, users: Users) -> None:
        self._db = db
        self._users = users

    def create(self, name: str, description: str | None = None) -> int:
        """POST /api/lists: a new static list; return its id."""
        with self._db.transaction():
            return self._db.execute(
                "INSERT INTO lists (name, description, created_at) VALUES (?, ?, ?)",
                (name, description, self._db.clock()),
            )

    def all(self) -> list[dict[str, Any]]:
        """GET /api/lists, as Iterable's ListDetails."""
        rows = self._db.query("SELECT id, name, description, created_at FROM lists ORDER BY id")
        return [
            {
                "id": list_id,
                "name": name,
                **({"description": description} if description else {}),
                "createdAt": int(created_at * 1000),
                "listType": "Standard",
            }
            for list_id, name, description, created_at in rows
        ]

    def _require(self, list_id: int) -> None:
        """Iterable answers an unknown list with HTTP 400 yet code ``Success``. [observed]"""
        if self._db.query_one("SELECT 1 FROM lists WHERE id = ?", (list_id,)) is None:
            raise IterableError(400, "Success", f"error.lists.invalidListId({list_id})")

    def subscribe(
        self,
        list_id: int,
        subscribers: Sequence[Mapping[str, Any]],
        *,
        update_existing_users_only: bool = False,
    ) -> BulkOutcome:
        """POST /api/lists/subscribe: add users to a list, creating unknown ones.

        With ``updateExistingUsersOnly`` unknown users are reported as not found.
        """
        check_identities(subscribers, "subscribers")
        outcome = BulkOutcome()
        with self._db.transaction():
            self._require(list_id)
            check = TypeCheck(self._db.types)
            for subscriber in subscribers:
                found = self._users.resolve(
                    subscriber.get("email"),
                    subscriber.get("userId"),
                    create=not update_existing_users_only,
                    prefer_user_id=subscriber.get("preferUserId") is True,
                )
                if isinstance(found, Failure):
                    outcome.failures.append(found)
                    continue
                list_ids = sorted({*found.data_fields.get("emailListIds", []), list_id})
                check.check("user", "", {"emailListIds": list_ids})
                found.data_fields["emailListIds"] = list_ids
                self._users.apply_update(found, subscriber, check)
                outcome.success_count += 1
            self._db.lock_new_types(check)
        return outcome

    def unsubscribe(self, list_id: int, subscribers: Sequence[Mapping[str, Any]]) -> BulkOutcome:
        """POST /api/lists/unsubscribe: remove known users from a list."""
        check_identities(subscribers, "subscribers")
        outcome = BulkOutcome()
        with self._db.transaction():
            self._require(list_id)
            for subscriber in subscribers:
                found = self._users.resolve(
                    subscriber.get("email"), subscriber.get("userId"), create=False
                )
                if isinstance(found, Failure):
                    outcome.failures.append(found)
                    continue
                list_ids = found.data_fields.get("emailListIds", [])
                found.data_fields["emailListIds"] = [i for i in list_ids if i != list_id]
                self._users.save(found)
                outcome.success_count += 1
        return outcome

    def bulk_update_subscriptions(self, requests: Sequence[Mapping[str, Any]]) -> BulkOutcome:
        """POST /api/users/bulkUpdateSubscriptions: overwrite each subscription field sent.

        "This endpoint overwrites (does not merge) existing data for any
        non-null fields specified in the request." [spec]
        """
        check_identities(requests, "updateSubscriptionsRequests")
        outcome = BulkOutcome()
        with self._db.transaction():
            check = TypeCheck(self._db.types)
            for request in requests:
                found = self._users.resolve(
                    request.get("email"), request.get("userId"), create=True
                )
                if isinstance(found, Failure):
                    outcome.failures.append(found)
                    continue
                fields = {
                    name: request[name]
                    for name in SUBSCRIPTION_FIELDS
                    if request.get(name) is not None
                }
                check.check("user", "", fields)
                found.data_fields.update(fields)
                self._users.save(found)
                outcome.success_count += 1
            self._db.lock_new_types(check)
        return outcome
