"""What the store takes and hands out: project settings, per-record outcomes, rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from iterable_emulator.errors import IterableError
from iterable_emulator.identity import ProjectType
from iterable_emulator.store.database import dumps


@dataclass
class ProjectSettings:
    """What differs between Iterable projects and matters to a loader."""

    project_type: ProjectType = ProjectType.HYBRID
    # Event names the project refuses; trackBulk reports them in disallowedEventNames.
    disallowed_event_names: frozenset[str] = frozenset()
    # The project's campaigns, by channel (email, push, sms, inApp, webPush, whatsApp),
    # and its journeys (workflow ids). None: any positive id exists. A channel missing
    # from ``campaigns`` has no campaigns.
    campaigns: Mapping[str, frozenset[int]] | None = None
    workflows: frozenset[int] | None = None
    # rule: drop-unrecognized-fields: the project's "drop unrecognized user profile
    # fields" setting (spec: BulkUpdateUsersRequest.createNewFields).
    drop_unrecognized_fields: bool = False
    user_field_limit: int = 1000  # rule: user-field-limit
    event_field_limit: int = 8000  # rule: event-field-limit, per event name


def iterable_date(timestamp: float) -> str:
    """``yyyy-MM-dd HH:mm:ss +00:00``, the format Iterable returns dates in."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S +00:00")


def iso_date(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Iterable's failedUpdates lists, in the order its responses carry them. [spec]
FAILURE_LISTS = (
    "invalidEmails",
    "invalidUserIds",
    "invalidDataEmails",
    "invalidDataUserIds",
    "conflictEmails",
    "conflictUserIds",
    "forgottenEmails",
    "forgottenUserIds",
    "notFoundEmails",
    "notFoundUserIds",
)

# How a single-user endpoint answers what a bulk endpoint reports per record.
_SINGLE_USER_ERRORS: dict[str, tuple[int, str, str]] = {
    "invalidEmails": (400, "InvalidEmailAddressError", "Invalid email: {}"),
    "invalidUserIds": (400, "InvalidUserIdError", "Invalid userId: {}"),
    "conflictEmails": (409, "EmailAlreadyExists", "Email {} belongs to another user"),
    "conflictUserIds": (409, "UserIdAlreadyExists", "userId {} belongs to another user"),
    "forgottenEmails": (409, "ForgottenUserError", "User {} has been forgotten"),
    "forgottenUserIds": (409, "ForgottenUserError", "User {} has been forgotten"),
    "notFoundEmails": (400, "UnknownEmailError", "No user with email {}"),
    "notFoundUserIds": (400, "UnknownUserIdError", "No user with userId {}"),
    # rule: value-size-limit
    "invalidDataEmails": (400, "BadParams", "Invalid data in dataFields of user {}"),
    "invalidDataUserIds": (400, "BadParams", "Invalid data in dataFields of user {}"),
}

MAX_VALUE_CHARACTERS = 32_000  # rule: value-size-limit ("approximately 32k characters")


def oversized_value(value: Any) -> str | None:
    """The first string in ``value`` (at any depth) longer than Iterable keeps, if any."""
    if isinstance(value, str):
        return value if len(value) > MAX_VALUE_CHARACTERS else None
    if isinstance(value, dict):
        value = list(value.values())
    for child in value if isinstance(value, list) else ():
        found = oversized_value(child)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class Failure:
    """One record Iterable refused, reported by identifier in ``failedUpdates``."""

    reason: str  # one of FAILURE_LISTS
    identifier: str

    @property
    def by_email(self) -> bool:
        return self.reason.endswith("Emails")

    def error(self) -> IterableError:
        """The error a single-user endpoint answers instead (400, or 409 for conflicts)."""
        status, code, msg = _SINGLE_USER_ERRORS[self.reason]
        return IterableError(status, code, msg.format(self.identifier))


@dataclass
class BulkOutcome:
    """Per-record outcome of a bulk call: users, events, subscribers."""

    success_count: int = 0
    failures: list[Failure] = field(default_factory=list)
    disallowed_count: int = 0  # events refused for their name
    disallowed_event_names: list[str] = field(default_factory=list)
    created_fields: list[str] = field(default_factory=list)
    filtered_out_fields: list[str] = field(default_factory=list)

    @property
    def fail_count(self) -> int:
        """Every refused record counts, including events with a disallowed name."""
        return len(self.failures) + self.disallowed_count

    def failed(self, reason: str) -> list[str]:
        """Distinct identifiers refused for ``reason``, in request order."""
        return list(dict.fromkeys(f.identifier for f in self.failures if f.reason == reason))


@dataclass
class User:
    """A user profile row; ``pk`` is None until it is first saved."""

    pk: int | None
    email: str | None
    user_id: str | None
    data_fields: dict[str, Any]
    created_at: float
    updated_at: float

    def as_json(self) -> dict[str, Any]:
        """The ``user`` object of GET /api/users/getByEmail."""
        identity = {"email": self.email, "userId": self.user_id}
        return {
            **{key: value for key, value in identity.items() if value is not None},
            "dataFields": self.data_fields,
            "signupDate": iterable_date(self.created_at),
            "profileUpdatedAt": iterable_date(self.updated_at),
        }


@dataclass(frozen=True)
class CatalogItem:
    catalog_name: str
    item_id: str
    value: dict[str, Any]
    last_modified: float

    def as_json(self) -> dict[str, Any]:
        """Iterable's CatalogItemWithProperties."""
        return {
            "catalogName": self.catalog_name,
            "itemId": self.item_id,
            "lastModified": iso_date(self.last_modified),
            "size": len(dumps(self.value).encode()),
            "value": self.value,
        }


@dataclass(frozen=True)
class Page:
    items: list[CatalogItem]
    total: int
