"""Email changes → POST /api/users/updateEmail, one user per request.

The body names the user by ``currentEmail`` or ``currentUserId`` (not both; the
spec's ``UpdateEmailRequest``) and gives ``newEmail``. Iterable moves the
profile and its events to the new address; it refuses a new email that another
user has, or that was forgotten (updateEmail).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_iterable.adapters.base import ObjectAdapter
from target_iterable.delivery.context import USER_TYPE_SCOPE
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.encoding import encode_faithfully, encode_for_iterable
from target_iterable.iterable.checks import ProjectType, check_email, check_user_id, sole_identity
from target_iterable.iterable.client import ApiResponse
from target_iterable.iterable.limits import USER_EMAIL_UPDATES
from target_iterable.reasons import Reason, RecordRejected


def _text(record: Mapping[str, Any], name: str) -> str | None:
    value = record.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise RecordRejected(Reason.INVALID_VALUE, f"'{name}' {value!r} is not a string")
    return value


def email_update_payload(
    record: Mapping[str, Any], project_type: ProjectType = ProjectType.HYBRID
) -> dict[str, str]:
    """An ``UpdateEmailRequest``: the checked current identity and new email."""
    current_email, current_user_id = _text(record, "currentEmail"), _text(record, "currentUserId")
    new_email = _text(record, "newEmail")
    if new_email is None:
        raise RecordRejected(Reason.MISSING_IDENTITY, "record has no 'newEmail'")
    check_email(new_email)
    if current_email is None and current_user_id is None:
        raise RecordRejected(
            Reason.MISSING_IDENTITY, "record has neither 'currentEmail' nor 'currentUserId'"
        )
    # "If you include both, currentEmail takes precedence" [spec: updateEmail]: one is
    # sent (and checked), the one the project finds users by.
    name, value = sole_identity(current_email, current_user_id, project_type)
    if name == "email":
        check_email(value)
    else:
        check_user_id(value)
    return {"currentEmail" if name == "email" else "currentUserId": value, "newEmail": new_email}


class EmailUpdatesAdapter(ObjectAdapter):
    """Changes users' emails; ordered with the user's other updates."""

    kind = "email_updates"
    endpoint = USER_EMAIL_UPDATES
    # An email change and another update of the user must not overtake each other.
    ordered_per_user = True

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        payload = email_update_payload(record, self.project_type)
        return PreparedRecord(
            sources=[encode_faithfully(record)],
            item=encode_for_iterable(payload),
            email=payload.get("currentEmail"),
            user_id=payload.get("currentUserId"),
        )

    def fields_of(self, prepared: PreparedRecord) -> Mapping[str, Any]:
        return {}

    def type_scope(self, prepared: PreparedRecord) -> str:
        return USER_TYPE_SCOPE

    def natural_key(self, record: Mapping[str, Any]) -> str | None:
        """One change per current identity and new email: a re-run with the same
        rows does not ask again (Iterable would refuse: the old email is gone)."""
        email, user_id, new_email = (
            record.get(name) for name in ("currentEmail", "currentUserId", "newEmail")
        )
        current = (
            f"email:{str(email).lower()}" if email else f"userId:{user_id}" if user_id else None
        )
        return None if current is None or not new_email else f"{current}>{str(new_email).lower()}"

    def post(self, body: bytes, route: str) -> ApiResponse:
        return self.client.update_email(body)

    def user_unknown(self, response: ApiResponse) -> bool:
        """updateEmail answers an unknown current user with 400 BadParams "... User does
        not exist" (support article "Updating a User's Email Address")."""
        return super().user_unknown(response) or (
            response.code == "BadParams" and response.msg.endswith("User does not exist")
        )
