"""The route table: Iterable's endpoints and the emulator's own, with what each needs.

Each route names its handler, the spec definition its body must match, its
documented rate limit and the body field holding its records (for stats).
Adding an endpoint is one handler in ``responses`` plus one line here.
"""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.routing import Map, Rule

from iterable_emulator import admin, responses
from iterable_emulator import limits as rate
from iterable_emulator.calls import Handler
from iterable_emulator.limits import Limit


@dataclass(frozen=True)
class Endpoint:
    handler: Handler
    schema: str | None = None  # spec definition the JSON body must match
    limit: Limit | None = None  # Iterable's documented rate; None when it documents none
    records: str | None = None  # body field whose length is the record count; else 1 per body
    admin: bool = False  # /_emulator/: no API key, no faults, no stats
    # Processed after Iterable answers (rules async-writes, async-user-updates): under a
    # processing delay, applied that delay later.
    deferred: bool = False


def api(
    rule: str,
    method: str,
    handler: Handler,
    *,
    schema: str | None = None,
    limit: Limit | None = None,
    records: str | None = None,
    deferred: bool = False,
) -> Rule:
    endpoint = Endpoint(handler, schema, limit, records, deferred=deferred)
    return Rule(rule, methods=[method], endpoint=endpoint)


def emulator(rule: str, method: str, handler: Handler) -> Rule:
    return Rule(f"/_emulator{rule}", methods=[method], endpoint=Endpoint(handler, admin=True))


r = responses
# Each channel's target operation and its request definition. [spec: target]
TARGET_SCHEMAS = {
    "email": "TargetEmailRequest",
    "push": "TargetPushRequest",
    "sms": "TargetSMSRequest",
    "inApp": "TargetInAppRequest",
    "webPush": "TargetWebPushRequest",
    "whatsApp": "TargetWhatsAppRequest",
}
CATALOG = "/api/catalogs/<catalogName>"
ITEM = f"{CATALOG}/items/<itemId>"

URL_MAP = Map(
    [
        # Users
        api("/api/users/bulkUpdate", "POST", r.bulk_update_users, schema="BulkUpdateUsersRequest",
            limit=rate.BULK_UPDATE_USERS, records="users", deferred=True),
        api("/api/users/update", "POST", r.update_user, schema="ApiUserUpdateRequest",
            limit=rate.UPDATE_USER, deferred=True),
        api("/api/users/getByEmail", "GET", r.user_by_email, limit=rate.READ),
        api("/api/users/getFields", "GET", r.user_fields, limit=rate.GET_USER_FIELDS),
        api("/api/users/byUserId", "GET", r.user_by_user_id, limit=rate.READ),
        api("/api/users/byUserId/<path:userId>", "GET", r.user_by_user_id, limit=rate.READ),
        api("/api/users/byUserId/<path:userId>", "DELETE", r.delete_user_by_user_id,
            limit=rate.DELETE_USER, deferred=True),
        api("/api/users/forget", "POST", r.forget_user, schema="UserRequest", limit=rate.FORGET),
        api("/api/users/unforget", "POST", r.unforget_user, schema="UserRequest",
            limit=rate.UNFORGET),
        api("/api/users/merge", "POST", r.merge_users, schema="MergeUsersRequest",
            limit=rate.MERGE_USERS),
        # updateEmail documents no rate limit [spec: updateEmail].
        api("/api/users/updateEmail", "POST", r.update_email, schema="UpdateEmailRequest"),
        api("/api/users/registerDeviceToken", "POST", r.register_device_token,
            schema="RegisterDeviceTokenRequest", limit=rate.REGISTER_DEVICE_TOKEN),
        api("/api/users/registerBrowserToken", "POST", r.register_browser_token,
            schema="RegisterBrowserTokenRequest"),
        api("/api/users/bulkUpdateSubscriptions", "POST", r.bulk_update_subscriptions,
            schema="BulkUpdateSubscriptionsRequest", records="updateSubscriptionsRequests"),
        api("/api/users/<path:email>", "GET", r.user_by_email, limit=rate.READ),
        api("/api/users/<path:email>", "DELETE", r.delete_user_by_email, limit=rate.DELETE_USER,
            deferred=True),
        # Events
        api("/api/events/trackBulk", "POST", r.track_bulk, schema="BulkTrackRequest",
            limit=rate.TRACK_BULK, records="events", deferred=True),
        api("/api/events/track", "POST", r.track, schema="TrackRequest", limit=rate.TRACK,
            deferred=True),
        api("/api/events/byUserId/<path:userId>", "GET", r.events_by_user_id, limit=rate.READ),
        api("/api/events/<path:email>", "GET", r.events_by_email, limit=rate.READ),
        # Commerce
        api("/api/commerce/trackPurchase", "POST", r.track_purchase,
            schema="TrackPurchaseRequest"),
        api("/api/commerce/updateCart", "POST", r.update_cart, schema="UpdateCartRequest"),
        # Journeys and messages: no documented rate limits [spec: triggerWorkflow, target].
        api("/api/workflows/triggerWorkflow", "POST", r.trigger_workflow,
            schema="TriggerWorkflowRequest"),
        *(api(f"/api/{channel}/target", "POST", r.TARGET[channel], schema=schema)
          for channel, schema in TARGET_SCHEMAS.items()),
        # Lists
        api("/api/lists", "GET", r.get_lists, limit=rate.READ),
        api("/api/lists", "POST", r.create_list, schema="CreateListRequest"),
        api("/api/lists/subscribe", "POST", r.subscribe, schema="SubscribeRequest",
            records="subscribers"),
        api("/api/lists/unsubscribe", "POST", r.unsubscribe, schema="UnsubscribeRequest",
            records="subscribers"),
        # Catalogs
        api("/api/catalogs", "GET", r.list_catalogs, limit=rate.CATALOG_READ),
        api(CATALOG, "POST", r.create_catalog),
        api(CATALOG, "DELETE", r.delete_catalog),
        api(f"{CATALOG}/fieldMappings", "GET", r.field_mappings, limit=rate.CATALOG_READ),
        api(f"{CATALOG}/fieldMappings", "PUT", r.update_field_mappings,
            schema="CatalogMappingsUpdateRequest"),
        api(f"{CATALOG}/items", "GET", r.catalog_items, limit=rate.CATALOG_READ),
        api(f"{CATALOG}/items", "POST", r.upsert_catalog_items,
            schema="CatalogBulkUploadRequest", limit=rate.CATALOG_ITEMS_BULK, records="documents",
            deferred=True),
        api(f"{CATALOG}/items", "DELETE", r.delete_catalog_items,
            schema="CatalogBulkDeleteRequest", records="itemIds", deferred=True),
        api(ITEM, "GET", r.catalog_item, limit=rate.CATALOG_READ),
        api(ITEM, "PUT", r.put_catalog_item, schema="CatalogIndexItemRequest",
            limit=rate.CATALOG_ITEM, deferred=True),
        api(ITEM, "PATCH", r.patch_catalog_item, schema="CatalogUpdateItemRequest",
            limit=rate.CATALOG_ITEM, deferred=True),
        api(ITEM, "DELETE", r.delete_catalog_item, deferred=True),
        # The emulator's own
        emulator("/health", "GET", admin.health),
        emulator("/reset", "POST", admin.reset),
        emulator("/faults", "GET", admin.get_faults),
        emulator("/faults", "POST", admin.set_faults),
        emulator("/settings", "GET", admin.get_settings),
        emulator("/settings", "POST", admin.update_settings),
        emulator("/stats", "GET", admin.stats),
        emulator("/summary", "GET", admin.summary),
        emulator("/journeys", "GET", admin.journeys),
        emulator("/sends", "GET", admin.sends),
        emulator("/requests", "GET", admin.requests_log),
        emulator("/pending", "GET", admin.pending),
        emulator("/rules", "GET", admin.rules),
    ]
)  # fmt: skip
