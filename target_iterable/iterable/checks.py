"""Local checks that refuse a record before it costs a request.

Each rule mirrors one Iterable rejects anyway, so refusing early gives a
specific reason instead of a request-level failure (the rules and their sources
are in ``limits.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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


def check_catalog_field_names(fields: dict[str, Any]) -> None:
    """Iterable refuses periods in catalog field names (they denote nesting)."""
    for name in fields:
        if "." in name:
            renamed = name.replace(".", "_")
            raise RecordRejected(
                Reason.INVALID_FIELD_NAME,
                f"catalog field name '{name}' contains a period, which Iterable refuses; "
                f'rename it with a stream map, e.g. {{"{renamed}": "record[\'{name}\']", '
                f'"{name}": null}}',
            )
