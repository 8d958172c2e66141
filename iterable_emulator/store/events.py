"""Events and purchases: stored against known users, upserted by ``id``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from iterable_emulator.errors import bad_params
from iterable_emulator.field_types import TypeCheck
from iterable_emulator.store.database import Database, dumps
from iterable_emulator.store.users import Users, check_identities
from iterable_emulator.store.values import BulkOutcome, Failure, User

MAX_EVENT_ID_BYTES = 512  # event and purchase ids; rule: event-id-upsert
CUSTOM_EVENT = "customEvent"
PURCHASE = "purchase"
# Request keys kept in columns (or not kept) rather than in an event's body.
_COLUMN_KEYS = frozenset({"id", "eventName", "email", "userId", "createdAt", "createNewFields"})


def check_event_ids(events: Sequence[Mapping[str, Any]], where: str) -> None:
    """Iterable caps ids at 512 bytes; a longer one makes the request malformed."""
    for index, event in enumerate(events):
        event_id = event.get("id")
        if event_id is not None and len(event_id.encode()) > MAX_EVENT_ID_BYTES:
            raise bad_params(f"{where}[{index}].id is longer than {MAX_EVENT_ID_BYTES} bytes")


class Events:
    """Custom events and purchases, typed per event name."""

    def __init__(self, db: Database, users: Users) -> None:
        self._db = db
        self._users = users

    def _disallowed(self, name: str) -> bool:
        return name in self._users.settings.disallowed_event_names

    def track_bulk(self, events: Sequence[Mapping[str, Any]]) -> BulkOutcome:
        """POST /api/events/trackBulk: store each event of a known user.

        trackBulk never creates users: an unknown user's event is reported in
        notFoundEmails/notFoundUserIds (rule: events-need-users). An event whose name
        the project disallows is counted as failed and its name reported.
        """
        check_identities(events, "events")
        check_event_ids(events, "events")
        outcome = BulkOutcome()
        disallowed: dict[str, None] = {}
        # Events do not change users, so a user named by many events is looked up once.
        users: dict[tuple[str | None, str | None], User | Failure] = {}
        with self._db.transaction():
            check = TypeCheck(self._db.types)
            for event in events:
                name = event["eventName"]
                if self._disallowed(name):
                    disallowed[name] = None
                    outcome.disallowed_count += 1
                    continue
                identity = (event.get("email"), event.get("userId"))
                if identity not in users:
                    # rule: events-need-users
                    users[identity] = self._users.resolve(*identity, create=False)
                found = self._users.invalid_data(event) or users[identity]
                if isinstance(found, Failure):
                    outcome.failures.append(found)
                    continue
                check.check("event", name, event.get("dataFields") or {})
                self.save(found, event, CUSTOM_EVENT, name)
                outcome.success_count += 1
            self._db.lock_new_types(check)
        outcome.created_fields = check.created_fields("event")
        outcome.disallowed_event_names = list(disallowed)
        return outcome

    def track(self, event: Mapping[str, Any]) -> str:
        """POST /api/events/track: one event of a known user; return its id."""
        check_event_ids([event], "events")
        name = event["eventName"]
        if self._disallowed(name):
            raise bad_params(f"Event name {name} is not allowed in this project")
        invalid = self._users.invalid_data(event)
        if invalid is not None:
            raise invalid.error()
        with self._db.transaction():
            check = TypeCheck(self._db.types)
            user = self._users.require(event, create=False)
            check.check("event", name, event.get("dataFields") or {})
            event_id = self.save(user, event, CUSTOM_EVENT, name)
            self._db.lock_new_types(check)
        return event_id

    def save(self, user: User, event: Mapping[str, Any], event_type: str, name: str) -> str:
        """Insert, or update when the id was seen before: ``id`` is an upsert key.

        ``createdAt`` (integer seconds) is stored as sent, the time of the call
        when absent.
        """
        event_id = event.get("id") or uuid.uuid4().hex
        created_at = event.get("createdAt")
        if created_at is None:
            created_at = int(self._db.clock())
        body = {key: value for key, value in event.items() if key not in _COLUMN_KEYS}
        self._db.execute(
            "INSERT INTO events (id, event_type, event_name, user_pk, created_at, body)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " event_type = excluded.event_type, event_name = excluded.event_name,"
            " user_pk = excluded.user_pk, created_at = excluded.created_at, body = excluded.body",
            (event_id, event_type, name, user.pk, created_at, dumps(body)),
        )
        return str(event_id)

    def for_user(
        self, *, email: str | None = None, user_id: str | None = None, limit: int = 30
    ) -> list[dict[str, Any]]:
        """GET /api/events/{email}: the user's events, most recent first."""
        with self._db.snapshot():
            user = self._users.find(email=email, user_id=user_id)
            if user is None:
                return []
            rows = self._db.query(
                "SELECT id, event_type, event_name, created_at, body FROM events"
                " WHERE user_pk = ? ORDER BY created_at DESC, pk DESC LIMIT ?",
                (user.pk, limit),
            )
        identity = {"email": user.email, "userId": user.user_id}
        identity = {key: value for key, value in identity.items() if value is not None}
        return [
            {
                "id": event_id,
                "eventType": event_type,
                "eventName": event_name,
                **identity,
                "createdAt": created_at,
                **json.loads(body),
            }
            for event_id, event_type, event_name, created_at, body in rows
        ]

    def track_purchase(self, request: Mapping[str, Any]) -> str:
        """POST /api/commerce/trackPurchase: record a purchase, empty the user's cart.

        Creates or updates the user from ``user`` and clears
        ``shoppingCartItems`` on the profile. [spec] A purchase's fields are
        typed like those of an event named "purchase"; its items are kept as
        ``shoppingCartItems``, the name Iterable gives them on purchase events.
        """
        check_event_ids([request], "purchases")
        with self._db.transaction():
            check = TypeCheck(self._db.types)
            user = self._users.require(request["user"])
            user.data_fields.pop("shoppingCartItems", None)
            self._users.apply_update(user, request["user"], check)
            purchase = {
                key: value for key, value in request.items() if key not in ("user", "items")
            }
            purchase["shoppingCartItems"] = request["items"]
            check.check("event", PURCHASE, {"shoppingCartItems": request["items"]})
            check.check("event", PURCHASE, request.get("dataFields") or {})
            purchase_id = self.save(user, purchase, PURCHASE, PURCHASE)
            self._db.lock_new_types(check)
        return purchase_id

    def update_cart(self, request: Mapping[str, Any]) -> None:
        """POST /api/commerce/updateCart: replace the profile's ``shoppingCartItems``. [spec]"""
        with self._db.transaction():
            check = TypeCheck(self._db.types)
            user = self._users.require(request["user"])
            cart = {"shoppingCartItems": request["items"]}
            check.check("user", "", cart)
            user.data_fields.update(cart)
            self._users.apply_update(user, request["user"], check)
            self._db.lock_new_types(check)
