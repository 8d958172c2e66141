"""Users: identity resolution and profile updates, as Iterable applies them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from iterable_emulator.errors import IterableError, bad_params
from iterable_emulator.field_types import FIELD_TYPES, FieldKey, TypeCheck
from iterable_emulator.identity import ProjectType, placeholder_email, valid_email, valid_user_id
from iterable_emulator.merging import ArrayMergeRule, apply_user_fields, merge_profiles
from iterable_emulator.store.database import Database, dumps
from iterable_emulator.store.values import (
    BulkOutcome,
    Failure,
    ProjectSettings,
    User,
    oversized_value,
)

MAX_DEVICES = 500  # per user, device tokens and browser tokens alike [spec]


def _option(value: str | None) -> str:
    """How Iterable's messages print an optional identifier: ``Some(a@x.io)``, ``None``."""
    return "None" if value is None else f"Some({value})"


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


def one_identity(
    request: Mapping[str, Any], email_key: str, user_id_key: str, where: str
) -> tuple[str | None, str | None]:
    """A request's (email, userId) where the spec asks for exactly one of the two.

    UserRequest, TriggerWorkflowRequest, the Target*Requests and MergeUsersRequest
    all say "Provide an email or a userId (but not both)" [spec: forget, unforget,
    triggerWorkflow, target, mergeUsers]; the spec does not say how Iterable answers
    both, so the emulator takes the stricter reading and refuses them, 400 BadParams.
    """
    email, user_id = request.get(email_key), request.get(user_id_key)
    if email is None and user_id is None:
        raise bad_params(f"{where}: {email_key} or {user_id_key} is required")
    if email is not None and user_id is not None:
        raise bad_params(f"{where}: provide {email_key} or {user_id_key}, not both")
    return email, user_id


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

        How depends on the project type (rules identity-hybrid,
        identity-email-project, identity-userid-project). ``create`` is false for
        track/trackBulk, which never create users (rule: events-need-users). A
        new user is returned unsaved (``pk`` None).
        """
        # rule: identifier-syntax
        if email is not None and not valid_email(email):
            return Failure("invalidEmails", email)
        if user_id is not None and not valid_user_id(user_id):
            return Failure("invalidUserIds", user_id)
        forgotten = self._forgotten(email, user_id)
        if forgotten is not None:
            return forgotten
        project_type = self.settings.project_type
        if project_type is ProjectType.USER_ID:
            return self._resolve_by_user_id(email, user_id, create)
        user, holder = self._find_by_both(email, user_id)
        if email is None:
            assert user_id is not None
            if holder is not None:
                return holder
            if project_type is ProjectType.EMAIL:
                return self._new_user_by_user_id(user_id, create, prefer_user_id)
            return self._new_user(None, user_id) if create else Failure("notFoundUserIds", user_id)
        # rule: identity-hybrid (email-based projects do not hold userIds unique)
        if (
            project_type is ProjectType.HYBRID
            and user_id is not None
            and holder is not None
            and (user is None or holder.pk != user.pk)
        ):
            return Failure("conflictUserIds", user_id)
        if user is None:
            return self._new_user(email, user_id) if create else Failure("notFoundEmails", email)
        # rule: identity-email-project (the userId is overwritten on the user found)
        if user_id is not None:
            user.user_id = user_id
        return user

    def _resolve_by_user_id(
        self, email: str | None, user_id: str | None, create: bool
    ) -> User | Failure:
        """rule: identity-userid-project: the userId alone names the user; the email is
        only data (not unique), so it never finds, renames or conflicts."""
        if user_id is None:
            assert email is not None
            return Failure("notFoundEmails", email)
        user = self._find_by_both(None, user_id)[1]
        if user is None:
            return self._new_user(email, user_id) if create else Failure("notFoundUserIds", user_id)
        if email is not None:
            user.email = email
        return user

    def _new_user(self, email: str | None, user_id: str | None) -> User:
        now = self._db.clock()
        return User(None, email, user_id, {}, now, now)

    def _new_user_by_user_id(
        self, user_id: str, create: bool, prefer_user_id: bool
    ) -> User | Failure:
        """rule: prefer-user-id. In email-based projects an unknown userId alone fails
        unless ``preferUserId`` is true, which creates the user with a placeholder email."""
        if not create or not prefer_user_id:
            return Failure("notFoundUserIds", user_id)
        email = placeholder_email(user_id)
        if self.find(email=email) is not None:
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
        """(the first user holding ``email``, the first holding ``userId``), in one query.

        Identifiers that the project type does not hold unique may have several
        holders; Iterable acts "on the first user profile returned" [rule:
        identity-email-project], here the oldest.
        """
        by_email: User | None = None
        by_user_id: User | None = None
        for row in self._db.query(
            "SELECT * FROM users WHERE email = ? OR user_id = ? ORDER BY pk", (email, user_id)
        ):
            user = User(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5])
            same_email = email is not None and (user.email or "").lower() == email.lower()
            if by_email is None and same_email:
                by_email = user
            if by_user_id is None and user_id is not None and user.user_id == user_id:
                by_user_id = by_email if by_email is not None and by_email.pk == user.pk else user
        return by_email, by_user_id

    def existing(self, email: str | None, user_id: str | None) -> User:
        """The user one identifier names, for endpoints that act on a user and never
        create one: invalid 400 Invalid*Error, forgotten 409 ForgottenUserError,
        unknown 400 UnknownEmailError/UnknownUserIdError (see ``_SINGLE_USER_ERRORS``)."""
        found = self.resolve(email, user_id, create=False)
        if isinstance(found, Failure):
            raise found.error()
        return found

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
        create_new_fields: bool | None = None,
    ) -> list[str]:
        """Apply and save an update's ``dataFields``; return the fields filtered out.

        rule: drop-unrecognized-fields. ``createNewFields`` (None: the project's
        setting) false drops top-level fields the project does not have yet.
        """
        fields: dict[str, Any] = dict(request.get("dataFields") or {})
        if create_new_fields is None:
            create_new_fields = not self.settings.drop_unrecognized_fields
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

    def invalid_data(self, record: Mapping[str, Any]) -> Failure | None:
        """rule: value-size-limit: a string value over 32,000 characters is invalid data,
        reported by the identifier the project names the user by."""
        if oversized_value(record.get("dataFields") or {}) is None:
            return None
        email, user_id = record.get("email"), record.get("userId")
        by_user_id = self.settings.project_type is ProjectType.USER_ID
        if email is not None and (user_id is None or not by_user_id):
            return Failure("invalidDataEmails", email)
        return Failure("invalidDataUserIds", str(user_id))

    # Endpoints ---------------------------------------------------------------------------

    def bulk_update(
        self, users: Sequence[Mapping[str, Any]], *, create_new_fields: bool | None = None
    ) -> BulkOutcome:
        """POST /api/users/bulkUpdate: create or update each user; refusals by identifier."""
        check_identities(users, "users")
        outcome = BulkOutcome()
        filtered: dict[str, None] = {}
        with self._db.transaction():
            check = TypeCheck(self._db.types)
            for user in users:
                found = self.invalid_data(user) or self.resolve(
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
        invalid = self.invalid_data(request)
        if invalid is not None:
            raise invalid.error()
        with self._db.transaction():
            check = TypeCheck(self._db.types)
            user = self.require(request)
            create_new_fields = request.get("createNewFields")
            self.apply_update(user, request, check, create_new_fields=create_new_fields)
            self._db.lock_new_types(check)

    def declare_fields(self, fields: Mapping[str, str]) -> None:
        """Create user fields with their types, as Data Schema Management does.

        A declared field is recognized (rule: drop-unrecognized-fields) and its
        type is locked (rule: type-lock-first-write): ValueError if it has another.
        """
        with self._db.transaction():
            new: dict[FieldKey, str] = {}
            for name, kind in fields.items():
                if kind not in FIELD_TYPES:
                    raise ValueError(
                        f"user field {name}: the type must be one of {sorted(FIELD_TYPES)}"
                    )
                current = self._db.types.get(("user", "", name))
                if current not in (None, kind):
                    raise ValueError(f"user field {name} already has type {current}")
                if current is None:
                    new[("user", "", name)] = kind
            self._db.check_field_limits(new)
            self._db.add_types(new)

    def delete(self, *, email: str | None = None, user_id: str | None = None) -> None:
        """DELETE /api/users/{email} or /byUserId/{userId}: the user and their events."""
        # spec: delete /api/users/{email} "can be used ... but not userID-based projects"
        if email is not None and self.settings.project_type is ProjectType.USER_ID:
            raise bad_params("A userId-based project deletes users by userId")
        with self._db.transaction():
            user = self.find(email=email, user_id=user_id)
            if user is None:
                reason = "notFoundEmails" if email is not None else "notFoundUserIds"
                raise Failure(reason, str(email if email is not None else user_id)).error()
            self._delete(user)
            # spec: delete byUserId "If multiple users share the same userId, they'll all
            # be deleted" (possible in email-based projects, rule: identity-email-project).
            while user_id is not None and (user := self.find(user_id=user_id)) is not None:
                self._delete(user)

    def _delete(self, user: User) -> None:
        self._db.execute("DELETE FROM events WHERE user_pk = ?", (user.pk,))
        self._db.execute("DELETE FROM users WHERE pk = ?", (user.pk,))

    def _by_project_type(
        self, request: Mapping[str, Any], verb: str
    ) -> tuple[str | None, str | None]:
        """The identifier forget and unforget name their user by, as the project allows.

        "In email-based projects, you must forget users by email. In userID-based
        projects, you must forget users by userId. In hybrid projects, you can forget
        users by either" [spec: forget]; unforget says the same [spec: unforget].
        """
        email, user_id = one_identity(request, "email", "userId", "request")
        project_type = self.settings.project_type
        if project_type is ProjectType.EMAIL and email is None:
            raise bad_params(f"An email-based project {verb}s users by email")
        if project_type is ProjectType.USER_ID and user_id is None:
            raise bad_params(f"A userId-based project {verb}s users by userId")
        if email is not None and not valid_email(email):
            raise Failure("invalidEmails", email).error()
        if user_id is not None and not valid_user_id(user_id):
            raise Failure("invalidUserIds", user_id).error()
        return email, user_id

    def forget(self, request: Mapping[str, Any]) -> None:
        """POST /api/users/forget: delete the user's data and refuse the user from now on.

        rule: forget.
        "Deletes the specified user's data from the Iterable project and prevents
        future data collection about them" [spec: forget]. Both identifiers of the
        user are forgotten, as one group (``unforget`` lifts them together). Later
        writes naming a forgotten identifier are refused: forgottenEmails /
        forgottenUserIds in bulk answers, 409 ForgottenUserError on single-user
        calls.
        """
        email, user_id = self._by_project_type(request, "forget")
        with self._db.transaction():
            forgotten = {("email", email), ("userId", user_id)}
            user = self.find(email=email, user_id=user_id)
            if user is not None:
                forgotten |= {("email", user.email), ("userId", user.user_id)}
                self._delete(user)
            row = self._db.query_one("SELECT COALESCE(MAX(grp), 0) + 1 FROM forgotten")
            group = int(row[0]) if row else 1
            self._db.execute_many(
                "INSERT OR IGNORE INTO forgotten (kind, value, grp) VALUES (?, ?, ?)",
                [
                    (kind, value.lower() if kind == "email" else value, group)
                    for kind, value in forgotten
                    if value is not None
                ],
            )

    def unforget(self, request: Mapping[str, Any]) -> None:
        """POST /api/users/unforget: accept data about a forgotten user again.

        "Allows the Iterable project to resume collecting data about a previously
        forgotten user. Deleted data cannot be recovered." [spec: unforget] The
        identifiers forgotten with the named one (the same user's) are lifted too;
        nothing of the deleted profile comes back. The spec is silent on naming an
        identifier that is not forgotten: the emulator refuses it, 400 BadParams.
        """
        email, user_id = self._by_project_type(request, "unforget")
        kind, value = ("email", email.lower()) if email is not None else ("userId", user_id)
        with self._db.transaction():
            row = self._db.query_one(
                "SELECT grp FROM forgotten WHERE kind = ? AND value = ?", (kind, value)
            )
            if row is None:
                raise bad_params(f"{email if email is not None else user_id} is not forgotten")
            self._db.execute(
                "DELETE FROM forgotten WHERE (kind = ? AND value = ?) OR (grp = ? AND grp != 0)",
                (kind, value, row[0]),
            )

    def merge(self, request: Mapping[str, Any]) -> None:
        """POST /api/users/merge [spec: mergeUsers]: fold the source user into the destination.

        - exactly one of sourceEmail/sourceUserId and of destinationEmail/
          destinationUserId ("but not both") [spec: mergeUsers];
        - "Returns an error if source user does not exist": 400 UnknownEmailError /
          UnknownUserIdError (the spec names no code; the emulator's unknown-user
          answer) [spec: mergeUsers];
        - a forgotten source or destination: 409 ForgottenUserError ("409: Source or
          destination user forgotten") [spec: mergeUsers];
        - "Will update source user if destination user is not found": the source
          profile takes the destination identifier and keeps everything else
          [spec: mergeUsers; support article: Merging User Profiles];
        - else the destination receives the source's events and the fields it lacks
          (the destination "wins" a conflict, objects are not combined), arrays named
          in ``arrayMerge`` are merged, and the source profile is deleted
          [support article: Merging User Profiles; spec: ArrayMerge].
        The spec is silent on a source and destination that are one user: the
        emulator refuses it, 400 BadParams.
        """
        source_email, source_user_id = one_identity(
            request, "sourceEmail", "sourceUserId", "mergeUsers"
        )
        target_email, target_user_id = one_identity(
            request, "destinationEmail", "destinationUserId", "mergeUsers"
        )
        rules = [ArrayMergeRule.from_json(rule) for rule in request.get("arrayMerge") or []]
        with self._db.transaction():
            source = self.existing(source_email, source_user_id)
            if target_email is not None and not valid_email(target_email):
                raise Failure("invalidEmails", target_email).error()
            if target_user_id is not None and not valid_user_id(target_user_id):
                raise Failure("invalidUserIds", target_user_id).error()
            forgotten = self._forgotten(target_email, target_user_id)
            if forgotten is not None:
                raise forgotten.error()
            destination = self.find(email=target_email, user_id=target_user_id)
            if destination is None:
                if target_email is not None:
                    source.email = target_email
                else:
                    source.user_id = target_user_id
                self.save(source)
                return
            if destination.pk == source.pk:
                raise bad_params("mergeUsers: the source and destination are the same user")
            destination.data_fields = merge_profiles(
                destination.data_fields, source.data_fields, rules
            )
            self._db.execute(
                "UPDATE events SET user_pk = ? WHERE user_pk = ?", (destination.pk, source.pk)
            )
            self._db.execute("DELETE FROM users WHERE pk = ?", (source.pk,))
            self.save(destination)

    def update_email(self, request: Mapping[str, Any]) -> None:
        """POST /api/users/updateEmail [spec: updateEmail]: give a user a new email.

        The user is named by ``currentEmail`` or ``currentUserId``; "If you include
        both, currentEmail takes precedence" [spec: updateEmail]. The profile and its
        events move to ``newEmail`` ("All profile data and events will be migrated").
        The refusals, as the support article "Updating a User's Email Address" shows
        them (statuses from the spec's 400 "Invalid parameters" and 409 "Contact is GDPR
        forgotten / Email/userId conflict"):

        - an unknown current user: 400 ``BadParams``, "... User does not exist";
        - a ``newEmail`` another user has: 409 ``EmailAlreadyExists``;
        - a forgotten ``newEmail``: 409 ``EmailAlreadyExists``, "... New email is on
          the forgotten list" (the article's code, not ``ForgottenUserError``).

        An invalid ``newEmail`` is 400 ``InvalidEmailAddressError`` (the code list of
        IterableApiResponse [spec]; the article shows no example).
        """
        new_email = request["newEmail"]
        current_email, current_user_id = request.get("currentEmail"), request.get("currentUserId")
        if current_email is None and current_user_id is None:
            raise bad_params("updateEmail: a currentEmail or a currentUserId is required")
        if not valid_email(new_email):
            raise Failure("invalidEmails", new_email).error()
        with self._db.transaction():
            if current_email is not None:
                user = self.find(email=current_email)
            else:
                user = self.find(user_id=current_user_id)
            if user is None:
                raise bad_params(
                    f"Cannot change user {_option(current_email)} to {new_email}."
                    " User does not exist"
                )
            named = current_email if current_email is not None else user.email
            if self._forgotten(new_email, None) is not None:
                raise IterableError(
                    409,
                    "EmailAlreadyExists",
                    f"Cannot change user {named} to {new_email}."
                    " New email is on the forgotten list",
                )
            holder = self.find(email=new_email)
            # rule: identity-userid-project (emails are not unique there)
            email_unique = self.settings.project_type is not ProjectType.USER_ID
            if email_unique and holder is not None and holder.pk != user.pk:
                raise IterableError(
                    409,
                    "EmailAlreadyExists",
                    f"Cannot change user {_option(named)} to {new_email}. New email already exists",
                )
            user.email = new_email
            self.save(user)

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

    # Reading, for the emulator's console ----------------------------------------------

    def search(self, text: str = "", limit: int = 100) -> list[User]:
        """Users whose email or userId contains ``text`` (ignoring case), most recently
        updated first: the console's user search, not an Iterable endpoint."""
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._db.query(
            "SELECT * FROM users WHERE email LIKE ?1 ESCAPE '\\' OR user_id LIKE ?1 ESCAPE '\\'"
            " ORDER BY updated_at DESC, pk DESC LIMIT ?2",
            (pattern, limit),
        )
        return [User(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5]) for row in rows]
