"""Iterable's documented limits, in one place, each with where Iterable states it.

Sources are public: an operation of Iterable's OpenAPI description ("Iterable
API 1.8", https://api.iterable.com/api/docs, named by its operationId) or a
support article. Nothing else in the target hard-codes one of these numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Request bodies ------------------------------------------------------------------------

# bulkUpdateUser: "Max size of request body: 4MB"; applied to every request.
MAX_BODY_BYTES = 4 * 1024 * 1024
# bulkUpdateCatalogItems: "Create up to 1000 catalog items with a single request."
MAX_CATALOG_ITEMS_PER_REQUEST = 1000
# bulkUpdateCatalogItems (CatalogBulkUploadRequest.documents): "Max size of each json
# value is 30kb".
MAX_CATALOG_ITEM_BYTES = 30 * 1024
# bulkUpdateUser and trackBulk document no record cap; peers (RudderStack, Census)
# send at most 1000 per request, and so do we by default.
DEFAULT_RECORDS_PER_REQUEST = 1000

# Identifiers ---------------------------------------------------------------------------

# createCatalog and bulkUpdateCatalogItems: "only alphanumeric characters and
# dashes", "a maximum length of 255 characters" (catalog names and item ids alike).
CATALOG_NAME_OR_ITEM_ID = re.compile(r"^[A-Za-z0-9-]{1,255}$")
# userId: non-empty printable ASCII, no trailing space (bulkUpdateUser's
# ``invalidUserIds``), at most 52 characters (the support article the spec links as
# "identifying users by userId and email",
# https://support.iterable.com/hc/articles/29156459027348).
MAX_USER_ID_LENGTH = 52
# trackPurchase (and events, upserted the same way): an ``id`` "cannot be longer than
# 512 bytes".
MAX_EVENT_ID_BYTES = 512

# bulkUpdateUser / updateUser: "a soft limit of 1,000 unique user profile fields" per
# project; nested fields count, by their dotted path (support article "Field Data
# Types", https://support.iterable.com/hc/articles/208183076).
USER_FIELDS_PER_PROJECT = 1000

# Quotas --------------------------------------------------------------------------------

# forget: "Daily Cap: 1000 requests per 24 hour period, per project."
FORGETS_PER_DAY = 1000


# Rate limits ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimit:
    """One endpoint's documented pace, and the operation that documents it."""

    requests_per_second: float
    source: str


# Endpoints, named as the dispatchers and rate limiters know them (and, for the
# three that have a setting, as ``<name>_requests_per_second`` … see settings.py).
USERS_BULK_UPDATE = "users_bulk_update"
EVENTS_TRACK_BULK = "events_track_bulk"
CATALOG_ITEMS = "catalog_items"
DEVICE_TOKENS = "device_tokens"
USER_DELETES = "user_deletes"
USER_READS = "user_reads"
USER_FORGETS = "user_forgets"
USER_FIELDS = "user_fields"
USER_MERGES = "user_merges"
USER_UNFORGETS = "user_unforgets"
# Journeys and message sends: Iterable documents no rate limit; paced by the
# action_requests_per_second setting (conservative: these can reach people).
ACTIONS = "actions"
# Endpoints whose rate limits Iterable does not document: not paced, only retried.
COMMERCE = "commerce"
LISTS = "lists"
SUBSCRIPTIONS = "subscriptions"
# updateEmail: the spec states no rate limit.
USER_EMAIL_UPDATES = "user_email_updates"

DOCUMENTED_RATE_LIMITS: dict[str, RateLimit] = {
    USERS_BULK_UPDATE: RateLimit(5, "bulkUpdateUser: 5 requests/second, per project"),
    EVENTS_TRACK_BULK: RateLimit(10, "trackBulk: 10 requests/second, per project"),
    CATALOG_ITEMS: RateLimit(100, "bulkUpdateCatalogItems: 100 requests/second, per API key"),
    DEVICE_TOKENS: RateLimit(500, "registerDeviceToken: 500 requests/second, per project"),
    USER_DELETES: RateLimit(100, "delete (users): 100 requests/second, per project"),
    USER_READS: RateLimit(100, "getUser / getUserById: 100 requests/second, per project"),
    USER_FORGETS: RateLimit(3, "forget: 3 requests/second, per project"),
    USER_FIELDS: RateLimit(3, "getUserFields: 3 requests/second, per project"),
    USER_MERGES: RateLimit(50, "mergeUsers: 50 requests/second, per API key"),
    USER_UNFORGETS: RateLimit(3, "unforget: 3 requests/second, per project"),
}

# Pace a little under each limit: requests leave evenly spaced but arrive with
# network jitter, and Iterable counts arrivals.
RATE_SAFETY_MARGIN = 0.97
