"""Iterable's rules for the two user identifiers, ``email`` and ``userId``.

Projects are email-based, userId-based or hybrid, and each request names a user
by ``email`` or ``userId``. (rules identity-hybrid, identity-email-project,
identity-userid-project)
"""

from __future__ import annotations

import re
from enum import Enum

# RFC 5322-ish: dot-atom local part, dotted domain with an alphabetic TLD, no
# spaces. Stricter than RFC on purpose: Iterable refuses what it cannot deliver.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
MAX_EMAIL_LENGTH = 254
MAX_USER_ID_LENGTH = 52
PLACEHOLDER_EMAIL_DOMAIN = "placeholder.email"


class ProjectType(str, Enum):
    """How a project identifies users. [docs: identifying users]"""

    HYBRID = "hybrid"
    EMAIL = "email"
    USER_ID = "userId"


def valid_email(email: str) -> bool:
    return len(email) <= MAX_EMAIL_LENGTH and _EMAIL.fullmatch(email) is not None


def valid_user_id(user_id: str) -> bool:
    """Iterable's userId: non-empty printable ASCII, no trailing space, ≤ 52 chars."""
    return (
        0 < len(user_id) <= MAX_USER_ID_LENGTH
        and all(" " <= char <= "~" for char in user_id)
        and not user_id.endswith(" ")
    )


def placeholder_email(user_id: str) -> str:
    """The email an email-based project gives a user created by ``preferUserId``."""
    return f"{user_id}@{PLACEHOLDER_EMAIL_DOMAIN}"
