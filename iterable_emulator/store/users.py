"""Users: identity resolution and profile updates, as Iterable applies them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from iterable_emulator.errors import bad_params
from iterable_emulator.field_types import TypeCheck
from iterable_emulator.identity import ProjectType, placeholder_email, valid_email, valid_user_id
from iterable_emulator.merging import apply_user_fields
from iterable_emulator.store.database import Database, dumps
from iterable_emulator.store.values import BulkOutcome, Failure, ProjectSettings, User

MAX_DEVICES = 500  # per user, device tokens and browser tokens alike [spec]


def identity(request: Mapping[str, Any], where: str) -> tuple[str | None, str | None]:
    """A request's (email, userId).

    Naming neither is malformed rather than a per-record failure (there is no
    identifier to report it by), so the whole request is refused.
    """
    email, user_id = request.get("email"), request.get("userId")
    if email is None and user_id is None:
        raise bad_params(f"{where}: an email or a userId is required")
    return email, user_id


def check_identities(requests: Sequence[Mapping[str, Any]], where: str) -> None:
    for index, request in enumerate(requests):
        identity(request, f"{where}[{index}]")


class Users:
    """User profiles.

    The building blocks (``resolve``, ``apply_update``, ``save``) are shared
    with the other models that touch users; they run inside the caller's
    transaction. The endpoint methods open their own.
    """

    def __init__(self, db: Database, settings: ProjectSettings) -> None:
        self._db = db
        self.settings = settings

    # Building blocks for every endpoint that names a user ------------------------------

    def field_types(self) -> dict[str, str]:
        """The user fields' locked types, by dotted path (project-wide)."""
        return {
            path: kind for (category, _, path), kind in self._db.types.items() if category == "user"
        }

    def find(self, *, email: str | None = None, user_id: str | None = None) -> User | None:
        """The user with this email (matched ignoring case) or, without one, this userId."""
        by_email, by_user_id = self._find_by_both(email, user_id)
        return by_email if email is not None else by_user_id

    def save(self, user: User) -> None:
        user.updated_at = self._db.clock()
        fields = dumps(user.data_fields)
        if user.pk is None:
            user.pk = self._db.execute(
                "INSERT INTO users (email, user_id, data_fields, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (user.email, user.user_id, fields, user.created_at, user.updated_at),
            )
        else:
            self._db.execute(
                "UPDATE users SET email = ?, user_id = ?, data_fields = ?, updated_at = ?"
                " WHERE pk = ?",
                (user.email, user.user_id, fields, user.updated_at, user.pk),
            )

    def resolve(
        self,
        email: str | None,
        user_id: str | None,
        *,
        create: bool,
        prefer_user_id: bool = False,
    ) -> User | Failure:
        """Find (or start) the user a request names, or say why Iterable refuses it.

        A request names its user by email when it has one, else by userId.
        [FACTS: Identity] ``create`` is false for track/trackBulk, which never
        create users. A userId that another user holds is a conflict; a new
        userId for a user found by email is recorded on that user. A new user
        is returned unsaved (``pk`` None).
        """
        if email is not None and not valid_email(email):
            return Failure("invalidEmails", email)
        if user_id is not None and not valid_user_id(user_id):
            return Failure("invalidUserIds", user_id)
        forgotten = self._forgotten(email, user_id)
        if forgotten is not None:
            return forgotten
        user, holder = self._find_by_both(email, user_id)
        if email is None:
            assert user_id is not None
            return holder or self._new_user_by_user_id(user_id, create, prefer_user_id)
        if user_id is not None and holder is not None and (user is None or holder.pk != user.pk):
            return Failure("conflictUserIds", user_id)
        if user is None:
            user_id_based = self.settings.project_type is ProjectType.USER_ID
            if not create or (user_id_based and user_id is None):
                return Failure("notFoundEmails", email)
            return self._new_user(email, user_id)
        if user_id is not None:
            user.user_id = user_id
        return user

    def _new_user(self, email: str | None, user_id: str | None) -> User:
        now = self._db.clock()
        return User(None, email, user_id, {}, now, now)

    def _new_user_by_user_id(
        self, user_id: str, create: bool, prefer_user_id: bool
    ) -> User | Failure:
        """An unknown userId alone creates a user, except in email-based projects.

        There it fails unless ``preferUserId`` is true, which creates the user
        with a placeholder email. [FACTS: Identity]
        """
        email_based = self.settings.project_type is ProjectType.EMAIL
        if not create or (email_based and not prefer_user_id):
            return Failure("notFoundUserIds", user_id)
        email = placeholder_email(user_id) if email_based else None
        if email is not None and self.find(email=email) is not None:
            return Failure("conflictEmails", email)
        return self._new_user(email, user_id)

    def _forgotten(self, email: str | None, user_id: str | None) -> Failure | None:
        """Iterable refuses data about a user it was asked to forget. [spec: forget]"""
        row = self._db.query_one(
            "SELECT kind FROM forgotten WHERE (kind = 'email' AND value = ?)"
            " OR (kind = 'userId' AND value = ?) ORDER BY kind",
            (email.lower() if email is not None else None, user_id),
        )
        if row is None:
            return None
        if row[0] == "email":
            assert email is not None
            return Failure("forgottenEmails", email)
        assert user_id is not None
        return Failure("forgottenUserIds", user_id)

    def _find_by_both(
        self, email: str | None, user_id: str | None
    ) -> tuple[User | None, User | None]:
        """(the user holding ``email``, the user holding ``userId``), in one query."""
        by_email = by_user_id = None
        for row in self._db.query(
            "SELECT * FROM users WHERE email = ? OR user_id = ?", (email, user_id)
        ):
            user = User(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5])
            if email is not None and user.email is not None and user.email.lower() == email.lower():
                by_email = user
            if user_id is not None and user.user_id == user_id:
                by_user_id = by_email if by_email is not None and by_email.pk == user.pk else user
        return by_email, by_user_id

    def require(self, request: Mapping[str, Any], *, create: bool = True) -> User:
        """Resolution for single-user endpoints: a refusal is the request's error."""
        email, user_id = identity(request, "request")
        found = self.resolve(
            email, user_id, create=create, prefer_user_id=request.get("preferUserId") is True
        )
        if isinstance(found, Failure):
            raise found.error()
        return found

    def apply_update(
        self,
        user: User,
        request: Mapping[str, Any],
        check: TypeCheck,
        *,
        create_new_fields: bool = True,
    ) -> list[str]:
        """Apply and save an update's ``dataFields``; return the fields filtered out.

        ``createNewFields: false`` drops top-level fields the project does not
        have yet (Iterable lists them in ``filteredOutFields``).
        """
        fields: dict[str, Any] = dict(request.get("dataFields") or {})
        filtered = []
        if not create_new_fields:
            filtered = [name for name in fields if ("user", "", name) not in self._db.types]
            fields = {name: value for name, value in fields.items() if name not in filtered}
        check.check("user", "", fields)
        apply_user_fields(
            user.data_fields, fields, merge_nested=request.get("mergeNestedObjects") is True
        )
        self.save(user)
        return filtered

    # Endpoints ---------------------------------------------------------------------------

    def bulk_update(
        self, users: Sequence[Mapping[str, Any]], *, create_new_fields: bool = True
    ) -> BulkOutcome:
        """POST /api/users/bulkUpdate: create or update each user; refusals by identifier."""
        check_identities(users, "users")
        outcome = BulkOutcome()
        filtered: dict[str, None] = {}
        with self._db.transaction():
            check = TypeCheck(self._db.types)
            for user in users:
                found = self.resolve(
                    user.get("email"),
                    user.get("userId"),
                    create=True,
                    prefer_user_id=user.get("preferUserId") is True,
                )
                if isinstance(found, Failure):
                    outcome.failures.append(found)
                    continue
                dropped = self.apply_update(found, user, check, create_new_fields=create_new_fields)
                filtered.update(dict.fromkeys(dropped))
                outcome.success_count += 1
            self._db.lock_new_types(check)
        outcome.created_fields = check.created_fields("user")
        outcome.filtered_out_fields = list(filtered)
        return outcome

    def update(self, request: Mapping[str, Any]) -> None:
        """POST /api/users/update: the same rules for one user, refusals as errors."""
        with self._db.transaction():
            check = TypeCheck(self._db.types)
            user = self.require(request)
            create_new_fields = request.get("createNewFields") is not False
            self.apply_update(user, request, check, create_new_fields=create_new_fields)
            self._db.lock_new_types(check)

    def delete(self, *, email: str | None = None, user_id: str | None = None) -> None:
        """DELETE /api/users/{email} or /byUserId/{userId}: the user and their events."""
        if email is not None and self.settings.project_type is ProjectType.USER_ID:
            raise bad_params("A userId-based project deletes users by userId")
        with self._db.transaction():
            user = self.find(email=email, user_id=user_id)
            if user is None:
                reason = "notFoundEmails" if email is not None else "notFoundUserIds"
                raise Failure(reason, str(email if email is not None else user_id)).error()
            self._delete(user)

    def _delete(self, user: User) -> None:
        self._db.execute("DELETE FROM events WHERE user_pk = ?", (user.pk,))
        self._db.execute("DELETE FROM users WHERE pk = ?", (user.pk,))

    def forget(self, request: Mapping[str, Any]) -> None:
        """POST /api/users/forget: delete the user's data and refuse the user from now on.

        Email-based projects forget by email, userId-based ones by userId,
        hybrid ones by either. [spec] Later updates and events naming a
        forgotten identifier are reported as forgottenEmails/forgottenUserIds.
        """
        email, user_id = identity(request, "request")
        project_type = self.settings.project_type
        if project_type is ProjectType.EMAIL and email is None:
            raise bad_params("An email-based project forgets users by email")
        if project_type is ProjectType.USER_ID and user_id is None:
            raise bad_params("A userId-based project forgets users by userId")
        if email is not None and not valid_email(email):
            raise Failure("invalidEmails", email).error()
        if user_id is not None and not valid_user_id(user_id):
            raise Failure("invalidUserIds", user_id).error()
        with self._db.transaction():
            forgotten = {("email", email), ("userId", user_id)}
            user = self.find(email=email, user_id=user_id)
            if user is not None:
                forgotten |= {("email", user.email), ("userId", user.user_id)}
                self._delete(user)
            self._db.execute_many(
                "INSERT OR IGNORE INTO forgotten VALUES (?, ?)",
                [
                    (kind, value.lower() if kind == "email" else value)
                    for kind, value in forgotten
                    if value is not None
                ],
            )

    def register_device_token(self, request: Mapping[str, Any]) -> None:
        """POST /api/users/registerDeviceToken: add or update a device on the profile.

        Creates unknown users; a known token's data fields are merged; at most
        500 devices per user. [spec]
        """
        device = request["device"]
        with self._db.transaction():
            check = TypeCheck(self._db.types)
            user = self.require(request)
            devices = user.data_fields.get("devices", [])
            stored: dict[str, Any] = next((d for d in devices if d["token"] == device["token"]), {})
            others = [d for d in devices if d["token"] != device["token"]]
            if len(others) >= MAX_DEVICES:
                raise bad_params(f"A user can have at most {MAX_DEVICES} devices")
            updated = {
                **stored,
                **device,
                "dataFields": {**stored.get("dataFields", {}), **device.get("dataFields", {})},
                "endpointEnabled": True,
            }
            check.check("user", "", {"devices": [updated]})
            user.data_fields["devices"] = [*others, updated]
            self.save(user)
            self._db.lock_new_types(check)

    def register_browser_token(self, request: Mapping[str, Any]) -> None:
        """POST /api/users/registerBrowserToken: at most 500 tokens per user. [spec]"""
        token = request["browserToken"]
        with self._db.transaction():
            user = self.require(request)
            others = [t for t in user.data_fields.get("browserTokens", []) if t != token]
            if len(others) >= MAX_DEVICES:
                raise bad_params(f"A user can have at most {MAX_DEVICES} browser tokens")
            user.data_fields["browserTokens"] = [*others, token]
            self.save(user)
