"""Every rule the emulator enforces, with where it comes from: the oracle's citations.

The emulator is the tests' stand-in for Iterable, so each of its rules must be
checkable by someone who has only Iterable's public material. A rule is
``documented`` when the spec (Iterable's OpenAPI file, by operationId) or a
support article states it, ``recorded`` when it comes from responses recorded
from the real service, and ``guess`` when the documents are silent and the
emulator picks the stricter reading. The code that enforces a rule names its id
in a ``rule: <id>`` comment; ``tests/emulator/test_rules.py`` checks that every id
is enforced somewhere and every comment names a rule listed here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["documented", "recorded", "guess"]

ARTICLE = "https://support.iterable.com/hc/en-us/articles/"
IDENTIFYING_USERS = ARTICLE + "29156459027348"  # Creating and Identifying Users with APIs
PROJECT_TYPES = ARTICLE + "9216719179796"  # Project Types and Unique Identifiers
FIELD_DATA_TYPES = ARTICLE + "208183076"  # Field Data Types
DATA_SCHEMA = ARTICLE + "26678893969812"  # Data Schema Management Overview
CATALOG_ITEMS = ARTICLE + "360033578331"  # Catalog Items
CATALOG_TYPES = ARTICLE + "360033578351"  # Defining Data Types for Catalog Item Fields
CATALOG_LIMITS = ARTICLE + "360033215072"  # Catalog Limitations
USERID_FOR_ALL_APIS = (
    "https://community.iterable.com/bulletin-bazaar-5/now-available-userid-support-for-all-apis-721"
)


@dataclass(frozen=True)
class Rule:
    id: str
    rule: str  # what the emulator does
    source: str  # spec operationId, article URL, or "recorded behaviour"
    status: Status
    note: str = ""  # where the documents are silent: the reading the emulator picked

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


_RULES = (
    # Asynchronous processing ------------------------------------------------------------
    Rule(
        "async-writes",
        "With a processing delay, event tracking, catalog item writes and user deletes"
        " are answered at once and applied the delay later",
        "spec: track, trackBulk ('Events are created asynchronously'); bulkUpdateCatalogItems,"
        " indexCatalogItem, partialUpdateCatalogItem, deleteCatalogItem, bulkDeleteCatalogItems"
        " ('Asynchronous', 202); delete /api/users/{email} and /byUserId ('Asynchronous')",
        "documented",
    ),
    Rule(
        "async-user-updates",
        "users/update and users/bulkUpdate are deferred like the writes above",
        "spec: updateUser ('Processing time varies ... provide a buffer of at least 60 seconds');"
        " bulkUpdateUser ('handles requests to this endpoint separately from ... single-user"
        " endpoints')",
        "guess",
        "updateUser documents a variable processing time; bulkUpdateUser only a separate"
        " pipeline. The stricter reading defers both.",
    ),
    Rule(
        "async-arrival-order",
        "Deferred writes of one pipeline (see async-pipelines) are applied in the order"
        " they arrived",
        "spec: trackBulk ('To make sure events are tracked in order, send them all to the same"
        " endpoint')",
        "guess",
        "Iterable orders within one endpoint only; one FIFO queue per pipeline is the"
        " simplest order consistent with that.",
    ),
    Rule(
        "async-pipelines",
        "Bulk writes (a body of records) and single-record writes (users/update, events/"
        "track, user deletes, single catalog items) are separate pipelines; the single-record"
        " one is modelled twice as slow, so a bulk write can overtake a single-record write"
        " sent before it",
        "spec: bulkUpdateUser ('handles requests to this endpoint separately from ..."
        " single-user endpoints'); updateUser ('Processing time varies ... provide a buffer"
        " of at least 60 seconds'); trackBulk (order only within one endpoint)",
        "guess",
        "The documents say the pipelines are separate, not how fast each is; modelling the"
        " single-record one slower makes overtaking happen, the hazard they warn about.",
    ),
    Rule(
        "async-answer-from-visible-state",
        "A deferred write is answered from the state visible when it arrives (so an event"
        " for a user whose creation is still pending is notFoundEmails/notFoundUserIds);"
        " field types it introduces are locked at once",
        "recorded behaviour (a type mismatch is a synchronous 400 RequestFieldsTypesMismatched)",
        "recorded",
        "What a deferred write finds changed when it is applied (a conflict, a deleted"
        " catalog) is not reported anywhere; the emulator drops that write, as the answer"
        " was already given.",
    ),
    # Identity ---------------------------------------------------------------------------
    Rule(
        "identity-hybrid",
        "Hybrid projects: email and userId are both unique; a request is resolved by email"
        " when it has one, else by userId; a userId held by another user is conflictUserIds"
        " (409 UserIdAlreadyExists on single-user calls)",
        PROJECT_TYPES + " (both enforced unique; identify by email or userId)",
        "documented",
        "Which identifier wins when both are sent is not documented for hybrid projects;"
        " the emulator uses email, as email-based projects do.",
    ),
    Rule(
        "identity-email-project",
        "Email-based projects: email is the unique identifier and wins when both are sent;"
        " the userId is overwritten on the user found; userIds are not unique (no"
        " conflictUserIds) and a userId alone acts on the first user holding it",
        IDENTIFYING_USERS + "; " + PROJECT_TYPES + "; " + USERID_FOR_ALL_APIS,
        "documented",
    ),
    Rule(
        "identity-userid-project",
        "UserID-based projects: users are identified by userId only; email is not unique"
        " and is just updated on the user the userId names; a record with only an email"
        " is notFoundEmails (400 UnknownEmailError on single-user calls)",
        PROJECT_TYPES + " ('How to identify users in API requests: userId';"
        " email uniqueness not enforced)",
        "documented",
        "The answer to an email-only request is not documented; notFoundEmails is the"
        " emulator's reading.",
    ),
    Rule(
        "prefer-user-id",
        "In email-based projects an unknown userId alone fails (notFoundUserIds) unless"
        " preferUserId is true, which creates the user with a placeholder email",
        IDENTIFYING_USERS + "; spec: ApiUserUpdateRequest.preferUserId",
        "documented",
    ),
    Rule(
        "events-need-users",
        "track and trackBulk never create users: an unknown user's event is notFoundEmails/"
        "notFoundUserIds (400 UnknownEmailError/UnknownUserIdError on events/track)",
        IDENTIFYING_USERS + " (track is not among the endpoints that create users)",
        "documented",
        "The spec describes notFoundEmails as 'for subscribe/unsubscribe only'; the"
        " emulator reports events of unknown users there as the nearest documented list.",
    ),
    Rule(
        "identifier-syntax",
        "Invalid emails are invalidEmails, invalid userIds (empty, non-printable ASCII,"
        " trailing space, over 52 characters) invalidUserIds",
        "spec: FailedUserUpdates.invalidUserIds; " + PROJECT_TYPES,
        "documented",
    ),
    # Fields and types -------------------------------------------------------------------
    Rule(
        "type-lock-first-write",
        "A user or event field's type is set by the first value Iterable receives and"
        " never changes; user fields project-wide, event fields per event name",
        FIELD_DATA_TYPES + "; spec: bulkUpdateUser, trackBulk",
        "documented",
    ),
    Rule(
        "type-mismatch-rejects-request",
        "A value whose type differs from its field's rejects the whole request: 400"
        " RequestFieldsTypesMismatched with params.validationErrors",
        "recorded behaviour",
        "recorded",
    ),
    Rule(
        "type-coercion",
        "A string that reads as a number is accepted into a long field (an integer) or a"
        " double field ('31' into a long field); a long into a double field",
        FIELD_DATA_TYPES + " (values that can be coerced to the field's type are accepted)",
        "documented",
        "The article gives the numeric example only; the emulator coerces nothing else"
        " (not 'true' into a boolean, not a number into a string field) and stores the"
        " value as sent.",
    ),
    Rule(
        "date-formats",
        "Strings in yyyy-MM-dd, yyyy-MM-dd HH:mm:ss, yyyy-MM-dd HH:mm:ss ZZ (-0400 or"
        " -04:00) and yyyy-MM-ddTHH:mm:ss[.SSS] with Z or an offset are dates",
        CATALOG_ITEMS + " (acceptable date formats); " + FIELD_DATA_TYPES,
        "documented",
        "'2020-04-13 14:04:09.000' (space and fraction) stays a string [recorded].",
    ),
    Rule(
        "impossible-dates",
        "A string in a date format naming no real day ('2024-02-31', '2024-13-01') is a"
        " string, not a date: it locks a new field as string and is refused by a date field",
        FIELD_DATA_TYPES,
        "guess",
        "The documents do not say; the stricter reading refuses it where a date is required.",
    ),
    Rule(
        "drop-unrecognized-fields",
        "A project set to drop unrecognized user fields (or createNewFields: false, which"
        " overrides the setting either way) drops top-level fields the project does not"
        " have and lists them in filteredOutFields; kept new fields are in createdFields",
        "spec: BulkUpdateUsersRequest.createNewFields, UserBulkUpdateListResponse."
        "filteredOutFields; " + DATA_SCHEMA,
        "documented",
        "Nested paths new under a known top-level field are not filtered (not documented).",
    ),
    Rule(
        "user-field-limit",
        "At most 1000 user fields per project, nested ones counted by dotted path; a request"
        " that would pass it is refused, 400 UniqueFieldsLimitExceeded",
        "spec: bulkUpdateUser, updateUser ('soft limit of 1,000 unique user profile fields');"
        " " + FIELD_DATA_TYPES + " (nested fields count); " + DATA_SCHEMA,
        "guess",
        "The limit is documented, the answer is not; the emulator refuses the whole request.",
    ),
    Rule(
        "event-field-limit",
        "At most 8000 fields per event name; past it, 400 UniqueFieldsLimitExceeded",
        "spec: track, trackBulk ('soft limit (default is 8,000)'); " + DATA_SCHEMA,
        "guess",
        "The limit is documented, the answer is not.",
    ),
    Rule(
        "value-size-limit",
        "A string value over 32,000 characters makes its record invalidDataEmails/"
        "invalidDataUserIds (400 BadParams on single-user calls)",
        FIELD_DATA_TYPES + " ('approximately 32k characters'); spec: FailedUserUpdates."
        "invalidDataEmails ('invalid data in dataFields')",
        "guess",
        "'Approximately 32k' is read as 32,000 (the stricter reading); the list it lands"
        " in is the spec's description of invalidData, not a recorded answer.",
    ),
    Rule(
        "nulls-remove-fields",
        "A null removes the field from the profile and has no type",
        "recorded behaviour",
        "recorded",
    ),
    # Catalogs ---------------------------------------------------------------------------
    Rule(
        "catalog-untyped-until-mapped",
        "Catalog fields have no type until PUT fieldMappings gives them one; items with"
        " unmapped fields are accepted whatever their values; undefinedFields lists them",
        CATALOG_TYPES + " ('You can skip type definition'); spec: updateCatalogFieldMappings",
        "documented",
    ),
    Rule(
        "catalog-mapped-mismatch",
        "A value that does not fit its field's mapped type refuses the request, 400"
        " RequestFieldsTypesMismatched",
        CATALOG_TYPES,
        "guess",
        "The documents do not say how a mismatch with a mapped type is answered; the"
        " stricter reading refuses it synchronously.",
    ),
    Rule(
        "catalog-mapping-immutable",
        "A mapped catalog field's type cannot change (400 BadParams)",
        CATALOG_LIMITS + " ('Once a data type has been given a data type, it cannot be changed')",
        "documented",
    ),
    Rule(
        "catalog-limits",
        "Catalog and item names: letters, digits, dashes, at most 255; no periods in field"
        " names; items under 30 KB; at most 350 fields per catalog (400"
        " UniqueFieldsLimitExceeded); at most 1000 documents per bulk upload",
        CATALOG_LIMITS + "; spec: bulkUpdateCatalogItems",
        "documented",
        "The statuses and codes of these refusals are the emulator's.",
    ),
    Rule(
        "catalog-writes-202",
        "Catalog item writes and deletes answer 202",
        "spec: bulkUpdateCatalogItems, indexCatalogItem, partialUpdateCatalogItem,"
        " deleteCatalogItem, bulkDeleteCatalogItems",
        "documented",
    ),
    # Requests ---------------------------------------------------------------------------
    Rule(
        "body-4mb",
        "A body over 4 MB is refused, 400 BatchTooLarge",
        "spec: bulkUpdateUser ('Max size of request body: 4MB')",
        "guess",
        "The size is documented, the status is not.",
    ),
    Rule(
        "rate-limits",
        "Documented rates only, per project or per API key as the spec says",
        "spec: the 'Rate limit' line of each operation",
        "documented",
    ),
    Rule(
        "event-id-upsert",
        "An event id is an upsert key of at most 512 bytes (longer: 400 BadParams)",
        "spec: BulkTrackRequest/TrackRequest id",
        "guess",
        "The 512-byte limit is documented; the answer to a longer id is not.",
    ),
    Rule(
        "forget",
        "Forgotten users are deleted and their identifiers refused from then on"
        " (forgottenEmails/forgottenUserIds, 409 ForgottenUserError)",
        "spec: forget, unforget",
        "documented",
    ),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


def rules_json() -> list[dict[str, Any]]:
    """``GET /_emulator/rules``: the registry, for anyone checking the oracle."""
    return [rule.as_json() for rule in _RULES]
