"""Iterable's API endpoints: translate a validated call into store calls and a reply.

Like moto's ``responses.py``: no rules here (they live in the store), only the
shapes of Iterable's answers. Each handler is one endpoint; ``urls`` routes to it.
"""

from __future__ import annotations

import uuid
from typing import Any

from iterable_emulator.calls import Call, Handler, Reply, success
from iterable_emulator.errors import bad_params
from iterable_emulator.store import FAILURE_LISTS, BulkOutcome, Page, User
from iterable_emulator.store.actions import CHANNELS

MAX_EVENTS_LIMIT = 200  # GET /api/events/{email}?limit= [spec]
MAX_PAGE_SIZE = 1000


def _int_query(call: Call, name: str, default: int, low: int, high: int) -> int:
    raw = call.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_params(f"{name} must be an integer, not {raw!r}") from None
    if not low <= value <= high:
        raise bad_params(f"{name} must be between {low} and {high}, not {value}")
    return value


def _required_query(call: Call, name: str) -> str:
    value = call.query.get(name)
    if not value:
        raise bad_params(f"query parameter {name} is required")
    return value


def bulk_outcome(outcome: BulkOutcome) -> dict[str, Any]:
    """UserBulkUpdateListResponse: counts, failures by identifier, deprecated duplicates."""
    failed = {reason: outcome.failed(reason) for reason in FAILURE_LISTS}
    return {
        "successCount": outcome.success_count,
        "failCount": outcome.fail_count,
        "failedUpdates": failed,
        "filteredOutFields": outcome.filtered_out_fields,
        "createdFields": outcome.created_fields,
        "invalidEmails": failed["invalidEmails"],
        "invalidUserIds": failed["invalidUserIds"],
    }


def _user_reply(user: User | None) -> Reply:
    """UserResponse; Iterable answers ``{}`` for an unknown user, not 404."""
    return Reply(200, {"user": user.as_json()} if user is not None else {})


# Users ---------------------------------------------------------------------------------


def bulk_update_users(call: Call) -> Reply:
    outcome = call.store.users.bulk_update(
        call.body["users"], create_new_fields=call.body.get("createNewFields")
    )
    return Reply(200, bulk_outcome(outcome))


def update_user(call: Call) -> Reply:
    call.store.users.update(call.body)
    return success("This user has been updated")


def user_by_email(call: Call) -> Reply:
    email = call.path.get("email") or _required_query(call, "email")
    return _user_reply(call.store.users.find(email=email))


def user_fields(call: Call) -> Reply:
    """getUserFields (GetUserFieldsResponse): every user field the project has, by dotted
    path, with the type Iterable locked for it."""
    return Reply(200, {"fields": call.store.users.field_types()})


def user_by_user_id(call: Call) -> Reply:
    user_id = call.path.get("userId") or _required_query(call, "userId")
    return _user_reply(call.store.users.find(user_id=user_id))


def delete_user_by_email(call: Call) -> Reply:
    call.store.users.delete(email=call.path["email"])
    return success("User deleted")


def delete_user_by_user_id(call: Call) -> Reply:
    call.store.users.delete(user_id=call.path["userId"])
    return success("User deleted")


def forget_user(call: Call) -> Reply:
    call.store.users.forget(call.body)
    return success("User forgotten")


def update_email(call: Call) -> Reply:
    call.store.users.update_email(call.body)
    return success("Email updated")


def unforget_user(call: Call) -> Reply:
    call.store.users.unforget(call.body)
    return success("User unforgotten")


def merge_users(call: Call) -> Reply:
    call.store.users.merge(call.body)
    return success("Users merged")


def register_device_token(call: Call) -> Reply:
    call.store.users.register_device_token(call.body)
    return success("Device registered")


def register_browser_token(call: Call) -> Reply:
    call.store.users.register_browser_token(call.body)
    return success("Browser token registered")


def bulk_update_subscriptions(call: Call) -> Reply:
    """BulkUpdateSubscriptionsResponse: its own shape, failures split valid/invalid."""
    outcome = call.store.lists.bulk_update_subscriptions(call.body["updateSubscriptionsRequests"])
    invalid = ("invalidEmails", "invalidUserIds")
    others = [f for f in outcome.failures if f.reason not in invalid]
    return Reply(
        200,
        {
            "successCount": outcome.success_count,
            "failCount": outcome.fail_count,
            "invalidEmails": outcome.failed("invalidEmails"),
            "invalidUserIds": outcome.failed("invalidUserIds"),
            "validEmailFailures": [f.identifier for f in others if f.by_email],
            "validUserIdFailures": [f.identifier for f in others if not f.by_email],
        },
    )


# Events --------------------------------------------------------------------------------


def track_bulk(call: Call) -> Reply:
    outcome = call.store.events.track_bulk(call.body["events"])
    return Reply(
        200, {**bulk_outcome(outcome), "disallowedEventNames": outcome.disallowed_event_names}
    )


def track(call: Call) -> Reply:
    # The id is fixed here, in the body, so that a deferred track (rule: async-writes)
    # stores the event under the id its answer gave.
    call.body.setdefault("id", uuid.uuid4().hex)
    event_id = call.store.events.track(call.body)
    return success(f"Event with id: {event_id} tracked.", {"id": event_id})


def _events_reply(call: Call, **identity: str) -> Reply:
    limit = _int_query(call, "limit", 30, 1, MAX_EVENTS_LIMIT)
    return Reply(200, {"events": call.store.events.for_user(limit=limit, **identity)})


def events_by_email(call: Call) -> Reply:
    return _events_reply(call, email=call.path["email"])


def events_by_user_id(call: Call) -> Reply:
    return _events_reply(call, user_id=call.path["userId"])


# Commerce ------------------------------------------------------------------------------


def track_purchase(call: Call) -> Reply:
    purchase_id = call.store.events.track_purchase(call.body)
    return success(f"Purchase with id: {purchase_id} tracked.", {"id": purchase_id})


def update_cart(call: Call) -> Reply:
    call.store.events.update_cart(call.body)
    return success("Cart updated")


# Journeys and messages ---------------------------------------------------------------


def trigger_workflow(call: Call) -> Reply:
    call.store.actions.trigger_workflow(call.body)
    return success(f"Triggered workflow {call.body['workflowId']}")


def _target(channel: str) -> Handler:
    """The ``target`` operation of one channel (POST /api/<channel>/target)."""

    def target(call: Call) -> Reply:
        call.store.actions.target(channel, call.body)
        return success(f"Sent {channel} campaign {call.body['campaignId']}")

    target.__name__ = f"target_{channel}"
    return target


TARGET = {channel: _target(channel) for channel in CHANNELS}


# Lists ---------------------------------------------------------------------------------


def create_list(call: Call) -> Reply:
    list_id = call.store.lists.create(call.body["name"], call.body.get("description"))
    return Reply(200, {"listId": list_id})


def get_lists(call: Call) -> Reply:
    return Reply(200, {"lists": call.store.lists.all()})


def subscribe(call: Call) -> Reply:
    outcome = call.store.lists.subscribe(
        call.body["listId"],
        call.body["subscribers"],
        update_existing_users_only=call.body.get("updateExistingUsersOnly") is True,
    )
    return Reply(200, bulk_outcome(outcome))


def unsubscribe(call: Call) -> Reply:
    outcome = call.store.lists.unsubscribe(call.body["listId"], call.body["subscribers"])
    return Reply(200, bulk_outcome(outcome))


# Catalogs ------------------------------------------------------------------------------
# Iterable wraps catalog answers in the envelope, the payload under ``params``.
# rule: catalog-writes-202: item writes and deletes answer 202 (processed later).


def _page_urls(path: str, page: int, page_size: int, total: int) -> dict[str, str]:
    urls = {}
    if page * page_size < total:
        urls["nextPageUrl"] = f"{path}?page={page + 1}&pageSize={page_size}"
    if page > 1:
        urls["previousPageUrl"] = f"{path}?page={page - 1}&pageSize={page_size}"
    return urls


def create_catalog(call: Call) -> Reply:
    name = call.path["catalogName"]
    call.store.catalogs.create(name)
    return success(f"Created catalog {name}", {"name": name}, status=201)


def delete_catalog(call: Call) -> Reply:
    name = call.path["catalogName"]
    call.store.catalogs.delete(name)
    return success(f"Deleted catalog {name}")


def list_catalogs(call: Call) -> Reply:
    page = _int_query(call, "page", 1, 1, 1_000_000)
    page_size = _int_query(call, "pageSize", 10, 1, MAX_PAGE_SIZE)
    names, total = call.store.catalogs.names(page, page_size)
    params = {
        "catalogNames": [{"name": name} for name in names],
        "totalCatalogsCount": total,
        **_page_urls("/api/catalogs", page, page_size, total),
    }
    return success("", params)


def upsert_catalog_items(call: Call) -> Reply:
    name = call.path["catalogName"]
    call.store.catalogs.upsert_items(
        name,
        call.body["documents"],
        replace_uploaded_fields_only=call.body["replaceUploadedFieldsOnly"],
    )
    return success(
        f"Request to bulk-upload documents into {name} processed successfully", status=202
    )


def delete_catalog_items(call: Call) -> Reply:
    name = call.path["catalogName"]
    call.store.catalogs.delete_items(name, call.body["itemIds"])
    return success(f"Request to bulk-delete items from {name} processed successfully", status=202)


def catalog_items(call: Call) -> Reply:
    name = call.path["catalogName"]
    page = _int_query(call, "page", 1, 1, 1_000_000)
    page_size = _int_query(call, "pageSize", 10, 1, MAX_PAGE_SIZE)
    ascending = call.query.get("sortAscending", "false").lower() == "true"
    found: Page = call.store.catalogs.items(
        name,
        page=page,
        page_size=page_size,
        order_by=call.query.get("orderBy"),
        ascending=ascending,
    )
    params = {
        "catalogItemsWithProperties": [item.as_json() for item in found.items],
        "totalItemsCount": found.total,
        **_page_urls(f"/api/catalogs/{name}/items", page, page_size, found.total),
    }
    return success("", params)


def catalog_item(call: Call) -> Reply:
    item = call.store.catalogs.item(call.path["catalogName"], call.path["itemId"])
    return success("", item.as_json())


def put_catalog_item(call: Call) -> Reply:
    name, item_id = call.path["catalogName"], call.path["itemId"]
    call.store.catalogs.put_item(name, item_id, call.body["value"])
    return success(
        f"Request to replace item {item_id} in {name} processed successfully", status=202
    )


def patch_catalog_item(call: Call) -> Reply:
    name, item_id = call.path["catalogName"], call.path["itemId"]
    call.store.catalogs.patch_item(name, item_id, call.body["update"])
    return success(f"Request to update item {item_id} in {name} processed successfully", status=202)


def delete_catalog_item(call: Call) -> Reply:
    name, item_id = call.path["catalogName"], call.path["itemId"]
    call.store.catalogs.delete_items(name, [item_id])
    return success(
        f"Request to delete item {item_id} from {name} processed successfully", status=202
    )


def field_mappings(call: Call) -> Reply:
    defined, undefined = call.store.catalogs.field_mappings(call.path["catalogName"])
    return success("", {"definedMappings": defined, "undefinedFields": undefined})


def update_field_mappings(call: Call) -> Reply:
    name = call.path["catalogName"]
    call.store.catalogs.update_field_mappings(name, call.body["mappingsUpdates"])
    return success(f"Updated field mappings of {name}")
