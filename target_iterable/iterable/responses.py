"""Reading Iterable's per-record outcomes out of bulk responses (pure).

Bulk endpoints answer 200 even when some records failed, and report the
failures by identifier (email or userId), not by position. [FACTS: Responses]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from target_iterable.reasons import Reason

IdentityKind = Literal["email", "userId"]

# failedUpdates list → (reason, which identifier the list holds, what it means)
_FAILED_UPDATE_LISTS: dict[str, tuple[Reason, IdentityKind, str]] = {
    "invalidEmails": (Reason.INVALID_EMAIL, "email", "Iterable refused the email address"),
    "invalidUserIds": (Reason.INVALID_USER_ID, "userId", "Iterable refused the userId"),
    "invalidDataEmails": (Reason.INVALID_DATA, "email", "Iterable refused the user's data"),
    "invalidDataUserIds": (Reason.INVALID_DATA, "userId", "Iterable refused the user's data"),
    "conflictEmails": (
        Reason.IDENTITY_CONFLICT,
        "email",
        "the email belongs to another user in Iterable",
    ),
    "conflictUserIds": (
        Reason.IDENTITY_CONFLICT,
        "userId",
        "the userId belongs to another user in Iterable",
    ),
    "forgottenEmails": (
        Reason.FORGOTTEN_USER,
        "email",
        "the user was forgotten (GDPR) and cannot be updated",
    ),
    "forgottenUserIds": (
        Reason.FORGOTTEN_USER,
        "userId",
        "the user was forgotten (GDPR) and cannot be updated",
    ),
    "notFoundEmails": (Reason.USER_NOT_FOUND, "email", "no Iterable user has this email"),
    "notFoundUserIds": (Reason.USER_NOT_FOUND, "userId", "no Iterable user has this userId"),
    # bulkUpdateSubscriptions: a valid identifier whose update failed.
    "validEmailFailures": (Reason.INVALID_DATA, "email", "Iterable refused the update"),
    "validUserIdFailures": (Reason.INVALID_DATA, "userId", "Iterable refused the update"),
}
# Lists at the top level: deprecated duplicates of failedUpdates in bulk user and
# event answers; the only place bulkUpdateSubscriptions reports failures.
_TOP_LEVEL_LISTS = ("invalidEmails", "invalidUserIds", "validEmailFailures", "validUserIdFailures")


@dataclass(frozen=True)
class RecordFailure:
    """Iterable refused every record of the request carrying ``kind == value``."""

    reason: Reason
    kind: IdentityKind
    value: str
    message: str


def record_failures(body: Mapping[str, Any]) -> Iterator[RecordFailure]:
    """Yield each distinct identifier Iterable reported as failed."""
    seen: set[tuple[str, str]] = set()
    failed_updates = body.get("failedUpdates") or {}
    sources = [(name, failed_updates.get(name)) for name in _FAILED_UPDATE_LISTS]
    sources += [(name, body.get(name)) for name in _TOP_LEVEL_LISTS]
    for name, values in sources:
        if not isinstance(values, list):
            continue
        reason, kind, meaning = _FAILED_UPDATE_LISTS[name]
        for value in values:
            if (kind, str(value)) in seen:
                continue
            seen.add((kind, str(value)))
            yield RecordFailure(reason, kind, str(value), f"{meaning} ({name}: {value})")


def fail_count(body: Mapping[str, Any]) -> int:
    count = body.get("failCount")
    return count if isinstance(count, int) else 0


def _names(body: Mapping[str, Any], key: str) -> list[str]:
    """A list of names an answer gives under ``key`` (none when it gives no list)."""
    names = body.get(key)
    return [str(name) for name in names] if isinstance(names, list) else []


def disallowed_event_names(body: Mapping[str, Any]) -> set[str]:
    return set(_names(body, "disallowedEventNames"))


def filtered_out_fields(body: Mapping[str, Any]) -> list[str]:
    """``filteredOutFields``: fields Iterable dropped from the request's records because
    the project drops unrecognized fields (bulkUpdate, trackBulk; the rest was applied)."""
    return _names(body, "filteredOutFields")


def created_fields(body: Mapping[str, Any]) -> list[str]:
    """``createdFields``: the fields a bulk write added to the project."""
    return _names(body, "createdFields")


# Codes of a 400 refusing a single-user request for a user Iterable does not have
# (the code list of IterableApiResponse in Iterable's spec).
USER_UNKNOWN_CODES = frozenset({"UnknownEmailError", "UnknownUserIdError"})


# The code of a 400 refusing a whole request for a value whose type Iterable locked.
TYPE_MISMATCH_CODE = "RequestFieldsTypesMismatched"


def validation_errors(body: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``params.validationErrors`` of a RequestFieldsTypesMismatched answer."""
    params = body.get("params")
    errors = params.get("validationErrors") if isinstance(params, Mapping) else None
    if not isinstance(errors, Mapping):
        return {}
    return {
        str(field): dict(error) for field, error in errors.items() if isinstance(error, Mapping)
    }
