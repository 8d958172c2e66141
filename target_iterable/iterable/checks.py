"""Local checks that refuse a record before it costs a request.

Each rule mirrors one Iterable rejects anyway, so refusing early gives a
specific reason instead of a request-level failure (the rules and their sources
are in ``limits.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from typing import Any

from target_iterable.iterable.limits import CATALOG_NAME_OR_ITEM_ID, MAX_USER_ID_LENGTH
from target_iterable.reasons import Reason, RecordRejected

# Deliberately permissive: Iterable is the authority on deliverability, we only
# catch values that can never be an address (its own refusals come back per record).
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def check_email(email: str) -> None:
    if not _EMAIL.match(email):
        raise RecordRejected(Reason.INVALID_EMAIL, f"email '{email}' is not a valid address")


def check_user_id(user_id: str) -> None:
    """Iterable's userId: non-empty printable ASCII, no trailing space, ≤ 52 chars."""
    problem = None
    if not user_id:
        problem = "is empty"
    elif len(user_id) > MAX_USER_ID_LENGTH:
        problem = f"is {len(user_id)} characters long (Iterable allows {MAX_USER_ID_LENGTH})"
    elif not (user_id.isascii() and user_id.isprintable()):
        problem = "contains non-ASCII or non-printable characters"
    elif user_id != user_id.rstrip():
        problem = "ends with whitespace"
    if problem:
        raise RecordRejected(Reason.INVALID_USER_ID, f"userId '{user_id}' {problem}")


def identity_of(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Return the checked (email, userId) of a record; at least one is present.

    A numeric userId (a database key) is accepted and sent as its string.
    """
    email = record.get("email")
    user_id = record.get("userId")
    if email in (None, ""):
        email = None
    if user_id is None:
        pass
    elif isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)
    elif not isinstance(user_id, str):
        raise RecordRejected(Reason.INVALID_USER_ID, f"userId {user_id!r} is not a string")
    if email is None and user_id is None:
        raise RecordRejected(
            Reason.MISSING_IDENTITY,
            "record has neither 'email' nor 'userId'; map one of them with a stream map",
        )
    if email is not None:
        if not isinstance(email, str):
            raise RecordRejected(Reason.INVALID_EMAIL, f"email {email!r} is not a string")
        check_email(email)
    if user_id is not None:
        check_user_id(user_id)
    return email, user_id


class ProjectType(str, Enum):
    """How the Iterable project identifies users (setting ``project_type``).

    Support article "Project types and unique identifiers": email-based projects
    identify users by email, userID-based ones by userId ("email is not unique"),
    hybrid ones by either.
    """

    HYBRID = "hybrid"
    EMAIL = "email"
    USER_ID = "userId"


def naming_identifier(
    email: str | None, user_id: str | None, project_type: ProjectType
) -> tuple[str, str] | None:
    """``("email", …)`` or ``("userId", …)``: the identifier Iterable finds this user by.
    The userId in a userId-based project (emails are not unique there), elsewhere the
    email first, as Iterable resolves it; None when there is neither."""
    if user_id is not None and (email is None or project_type is ProjectType.USER_ID):
        return "userId", user_id
    if email is not None:
        return "email", email
    return None


def sole_identity(
    email: str | None, user_id: str | None, project_type: ProjectType
) -> tuple[str, str]:
    """How a call that takes one identifier (triggerWorkflow "email or userId (but not
    both)", the sends, mergeUsers, updateEmail, user deletes and forgets) names the user
    of a checked identity: ``naming_identifier``, except that a userId-based project
    refuses a user named by email alone."""
    if project_type is ProjectType.USER_ID:
        check_named_by_user_id(user_id)
    found = naming_identifier(email, user_id, project_type)
    assert found is not None  # identity_of checked that one is there
    return found


def check_named_by_user_id(user_id: str | None) -> None:
    """A userId-based project refuses a user named without a userId: "How to identify
    users in API requests: userId" (support article "Project types and unique
    identifiers"); Iterable would refuse the record anyway, so it costs no request."""
    if user_id is None:
        raise RecordRejected(
            Reason.MISSING_IDENTITY,
            "record names its user by email only, and a userId-based project (setting "
            "project_type) identifies users by userId; map a userId with a stream map",
        )


def identity_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """The checked ``email`` and/or ``userId`` of a record, as Iterable's payloads name a user."""
    email, user_id = identity_of(record)
    fields: dict[str, Any] = {}
    if email is not None:
        fields["email"] = email
    if user_id is not None:
        fields["userId"] = user_id
    return fields


def check_item_id(item_id: Any) -> str:
    """Catalog item ids: letters, digits and dashes, at most 255 characters."""
    if isinstance(item_id, int) and not isinstance(item_id, bool):
        item_id = str(item_id)
    if item_id is None or item_id == "":
        raise RecordRejected(Reason.INVALID_ITEM_ID, "record has no 'itemId'")
    if not isinstance(item_id, str) or not CATALOG_NAME_OR_ITEM_ID.match(item_id):
        raise RecordRejected(
            Reason.INVALID_ITEM_ID,
            f"itemId {item_id!r} must be 1-255 letters, digits or dashes",
        )
    return item_id


# Iterable reads a period in a field name as nesting: ``a.b`` is field ``b`` of an object
# ``a`` (bulkUpdateCatalogItems, indexCatalogItem, partialUpdateCatalogItem: "Do not use
# periods in field names"; user and event fields are addressed the same way, by dotted
# path, support article 206430145 "Managing User Profile Fields", "Adding a nested field
# to an object"). So, for every object, a period in a field name, at any depth, is sent
# as an underscore: ``a.b`` becomes ``a_b``.
FIELD_NAME_PERIOD = "."
FIELD_NAME_PERIOD_REPLACEMENT = "_"

# "The character limit for user profile field values is approximately 32k characters,
# regardless of data type" (support article 208183076 "Field Data Types"; also
# 217744303 "User Profile Fields Used by Iterable"). Event fields are stored the same
# way. "Approximately": the target refuses (or truncates, if asked) a string longer than
# 32,000 characters, a little under 32 Ki, before it costs a request.
MAX_FIELD_VALUE_CHARACTERS = 32_000


def iterable_field_name(name: str) -> str:
    """The name a field is sent under: periods (Iterable's nesting) become underscores."""
    return name.replace(FIELD_NAME_PERIOD, FIELD_NAME_PERIOD_REPLACEMENT)


def renamed_fields(fields: dict[str, Any], where: str = "") -> dict[str, Any]:
    """``fields`` with each name holding a period renamed (``a.b`` → ``a_b``), in order.

    Two names that become one (``a.b`` beside ``a_b``) refuse the record: neither
    value can be dropped silently. ``where`` names the enclosing field in messages.
    """
    renamed: dict[str, Any] = {}
    for name, value in fields.items():
        new_name = iterable_field_name(name) if FIELD_NAME_PERIOD in name else name
        if new_name in renamed:
            clash = next(other for other in fields if iterable_field_name(other) == new_name)
            inside = f" in field '{where}'" if where else ""
            raise RecordRejected(
                Reason.INVALID_FIELD_NAME,
                f"field names '{clash}' and '{name}'{inside} both become '{new_name}' "
                "(Iterable reads a period as nesting, so periods are sent as underscores); "
                "rename one of them with a stream map",
            )
        renamed[new_name] = value
    return renamed
