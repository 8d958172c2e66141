"""RudderStack/Segment-spec messages → Iterable operations, as RudderStack's
Iterable destination maps them (pure: a message in, operations out).

identify → a user update (plus a device or browser token when the message
carries ``context.device.token``); track → a custom event, except "Order
Completed" (a purchase) and "Product Added"/"Product Removed" (the whole cart);
page / screen → an event named "<name> Page" / "<name> Screen", or one name for
all of them, per the page and screen settings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from target_iterable.reasons import Reason, RecordRejected

Operation = Literal["user", "event", "purchase", "cart", "device"]
ORDER_COMPLETED = "order completed"
CART_EVENTS = ("product added", "product removed")
# context.os.name / context.device.type → Iterable push platform.
_PUSH_PLATFORMS = {"ios": "APNS", "ipados": "APNS", "android": "GCM"}
# RudderStack's and Segment's warehouse tables name the spec's fields in snake_case.
WAREHOUSE_COLUMNS = {
    "user_id": "userId",
    "anonymous_id": "anonymousId",
    "message_id": "messageId",
    "original_timestamp": "originalTimestamp",
}
# Objects of a message; a warehouse often keeps them as JSON text.
OBJECT_FIELDS = ("traits", "context", "properties")


@dataclass(frozen=True)
class PageScreenSettings:
    """RudderStack's options for page and screen calls."""

    map_all_pages_to_one_event: bool = False  # every page → "Loaded a Page"
    map_all_screens_to_one_event: bool = False  # every screen → "Loaded a Screen"
    track_all_pages: bool = True
    track_categorized_pages: bool = False
    track_named_pages: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> PageScreenSettings:
        """The settings given in a stream's ``stream_options`` (same names)."""
        names = {field.name for field in fields(cls)}
        return cls(**{name: bool(value) for name, value in options.items() if name in names})


def normalized_message(record: Mapping[str, Any]) -> dict[str, Any]:
    """The message with warehouse column names and JSON-text objects read as the spec's.

    ``user_id`` → ``userId`` (the spec's name wins when both are set), and a
    ``traits``/``context``/``properties`` column holding JSON text is parsed.
    """
    message = dict(record)
    for column, name in WAREHOUSE_COLUMNS.items():
        if message.get(name) is None and message.get(column) is not None:
            message[name] = message[column]
    for name in OBJECT_FIELDS:
        value = message.get(name)
        if isinstance(value, str):
            try:
                message[name] = json.loads(value) if value.strip() else None
            except ValueError:
                message[name] = value
            if not isinstance(message[name], (Mapping, type(None))):
                raise RecordRejected(
                    Reason.INVALID_VALUE, f"message field '{name}' is text but not a JSON object"
                )
    return message


def _get(mapping: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def _identity(message: Mapping[str, Any]) -> dict[str, Any]:
    """``email`` from traits (top level or context), properties; ``userId`` as given."""
    email = (
        _get(message, "traits", "email")
        or _get(message, "context", "traits", "email")
        or _get(message, "properties", "email")
    )
    user_id = message.get("userId")
    identity: dict[str, Any] = {}
    if email:
        identity["email"] = email
    if user_id not in (None, ""):
        identity["userId"] = str(user_id)
    if not identity:
        raise RecordRejected(
            Reason.MISSING_IDENTITY,
            "message has no email (traits, context.traits or properties) and no userId",
        )
    return identity


def _timestamp(message: Mapping[str, Any]) -> Any:
    return message.get("timestamp") or message.get("originalTimestamp")


def _traits(message: Mapping[str, Any]) -> dict[str, Any]:
    traits = message.get("traits") or _get(message, "context", "traits") or {}
    return {k: v for k, v in dict(traits).items() if k != "email"}


def _products(properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Segment ``products`` → commerce items (prices and quantities coerced later)."""
    items = []
    for product in properties.get("products") or []:
        if not isinstance(product, Mapping):
            continue
        item = {
            "id": product.get("product_id") or product.get("sku") or product.get("id"),
            "sku": product.get("sku"),
            "name": product.get("name"),
            "price": product.get("price"),
            "quantity": product.get("quantity"),
            "categories": product.get("category"),
            "url": product.get("url"),
            "imageUrl": product.get("image_url"),
        }
        items.append({k: v for k, v in item.items() if v is not None})
    return items


def _device(message: Mapping[str, Any], identity: dict[str, Any]) -> dict[str, Any] | None:
    token = _get(message, "context", "device", "token")
    if not token:
        return None
    kind = str(
        _get(message, "context", "device", "type") or _get(message, "context", "os", "name") or ""
    ).lower()
    if kind == "web":
        return {**identity, "browserToken": token}
    return {
        **identity,
        "token": token,
        "platform": _PUSH_PLATFORMS.get(kind, kind.upper()),
        "applicationName": _get(message, "context", "app", "name")
        or _get(message, "context", "app", "namespace"),
    }


def _named_view(message: Mapping[str, Any], kind: str, settings: PageScreenSettings) -> str:
    """The event name of a page or screen call, or a refusal when it is not tracked."""
    name = message.get("name") or _get(message, "properties", "name")
    category = message.get("category") or _get(message, "properties", "category")
    if kind == "page":
        if settings.map_all_pages_to_one_event:
            return "Loaded a Page"
        tracked = (
            settings.track_all_pages
            or (settings.track_categorized_pages and category)
            or (settings.track_named_pages and name)
        )
        if not tracked:
            raise RecordRejected(
                Reason.MESSAGE_NOT_TRACKED,
                "page call not tracked by the page settings (track all, categorized or named)",
            )
    elif settings.map_all_screens_to_one_event:
        return "Loaded a Screen"
    label = "Page" if kind == "page" else "Screen"
    base = name or category
    return f"{base} {label}" if base else label


def message_operations(
    message: Mapping[str, Any], settings: PageScreenSettings = PageScreenSettings()
) -> list[tuple[Operation, dict[str, Any]]]:
    """The Iterable operations one message becomes, as records of the matching stream."""
    message = normalized_message(message)
    kind = str(message.get("type") or "").lower()
    if kind not in ("identify", "track", "page", "screen"):
        raise RecordRejected(
            Reason.UNSUPPORTED_MESSAGE_TYPE,
            f"message type {message.get('type')!r} is not one of identify, track, page, screen",
        )
    identity = _identity(message)
    properties = dict(message.get("properties") or {})
    if kind == "identify":
        operations: list[tuple[Operation, dict[str, Any]]] = [
            ("user", {**identity, **_traits(message)})
        ]
        device = _device(message, identity)
        if device is not None:
            operations.append(("device", device))
        return operations
    common = {**identity, "createdAt": _timestamp(message)}
    if kind == "track":
        event = str(message.get("event") or "")
        if event.lower() == ORDER_COMPLETED:
            total = properties.get("total", properties.get("revenue"))
            purchase = {
                **common,
                "id": properties.get("order_id") or message.get("messageId"),
                "items": _products(properties),
                "total": total,
            }
            rest = {k: v for k, v in properties.items() if k not in ("products", "total")}
            return [("purchase", {**purchase, **rest, **common})]
        if event.lower() in CART_EVENTS:
            return [("cart", {**identity, "items": _products(properties)})]
        name = event
    else:
        name = _named_view(message, kind, settings)
    if not name:
        raise RecordRejected(Reason.MISSING_EVENT_NAME, "track message without 'event'")
    return [("event", {**properties, **common, "eventName": name, "id": message.get("messageId")})]
