"""The Iterable project type the suite runs against, and how its records name users there.

``ITERABLE_EMULATOR_PROJECT_TYPE`` picks it: hybrid by default, or ``email`` or
``userId`` (scripts/test.sh runs the target's tests in all three, issue 16). Iterable's
userId-based projects know users by userId only ("Project types and unique
identifiers": "How to identify users in API requests: userId"), so in such a project
every record the tests build for a user named by email alone also carries a userId
derived from that email (``user_id_for``). The same input then means the same users in
every project type, and what a test asserts about them holds in all three.

Records that name no user, or name one by something other than a string, are left as
they are: the target must refuse them the same way whatever the project.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any

from iterable_emulator.identity import ProjectType, valid_email, valid_user_id
from iterable_emulator.testing import PROJECT_TYPE_ENV, EmulatorProcess

PROJECT_TYPE = ProjectType(os.environ.get(PROJECT_TYPE_ENV) or ProjectType.HYBRID.value)

# How the target looks a user up (update_only streams, deletes it waits for): by the
# identifier the project finds users by.
USER_LOOKUP = (
    "GET /api/users/byUserId/{userId}"
    if PROJECT_TYPE is ProjectType.USER_ID
    else "GET /api/users/getByEmail"
)

# The fields that name a user by email, each with its userId twin (PRODUCT.md's routing:
# users, events and sends; email-updates; user-merges).
USER_ID_TWINS = {
    "email": "userId",
    "currentEmail": "currentUserId",
    "sourceEmail": "sourceUserId",
    "destinationEmail": "destinationUserId",
}


def user_id_for(email: str) -> str:
    """The userId the suite gives the user with this email: the email itself, lower-cased
    as Iterable matches emails, when that is a valid userId, else a digest of it."""
    lowered = email.lower()
    if valid_user_id(lowered):
        return lowered
    return "u-" + hashlib.blake2b(lowered.encode(), digest_size=12).hexdigest()


def with_user_ids(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with a userId beside each valid email that names a user alone, in a
    userId-based project; unchanged elsewhere."""
    out = dict(data)
    if PROJECT_TYPE is not ProjectType.USER_ID:
        return out
    for email_field, user_id_field in USER_ID_TWINS.items():
        email = out.get(email_field)
        if isinstance(email, str) and valid_email(email) and out.get(user_id_field) is None:
            out[user_id_field] = user_id_for(email)
    return out


def with_user_id_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    """A stream schema's properties with the userId twins ``with_user_ids`` may add."""
    out = dict(properties)
    if PROJECT_TYPE is not ProjectType.USER_ID:
        return out
    for email_field, user_id_field in USER_ID_TWINS.items():
        if email_field in out and user_id_field not in out:
            out[user_id_field] = {"type": ["string", "null"]}
    return out


def sole_identity(email: str) -> dict[str, str]:
    """How a call that takes one identifier (a journey, a send, a delete) names the user
    with this email in the suite's project: by userId in a userId-based project (the
    target's setting project_type), else by email."""
    if PROJECT_TYPE is ProjectType.USER_ID:
        return {"userId": user_id_for(email)}
    return {"email": email}


def sole_identifier(email: str) -> str:
    """The value of ``sole_identity``."""
    [value] = sole_identity(email).values()
    return value


def named_user(call: Mapping[str, Any]) -> Any:
    """The identifier a recorded journey or send named its user by."""
    for name in ("email", "userId", "recipientEmail", "recipientUserId"):
        if call.get(name) is not None:
            return call[name]
    return None


def mapped_user_id(expression: str) -> dict[str, str]:
    """A stream map's ``userId`` from the expression that maps the email, in a
    userId-based project (records there need one); nothing elsewhere."""
    return {"userId": expression} if PROJECT_TYPE is ProjectType.USER_ID else {}


def pin_project_type(
    emulator: EmulatorProcess, config: Mapping[str, Any], project_type: str
) -> dict[str, Any]:
    """Make the emulator a ``project_type`` project, for a scenario only that type
    has; the target's ``config`` set for it."""
    emulator.update_settings(project_type=project_type)
    return {**config, "project_type": project_type}
