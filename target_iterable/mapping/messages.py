"""RudderStack/Segment-spec messages → Iterable operations, as RudderStack's
Iterable destination (rudder-transformer, ``src/v0/destinations/iterable``) maps
them (pure: a message in, operations out).

identify → a user update (plus a push or browser token when the message carries
``context.device.token`` or ``context.os.token``); track → a custom event, except
"Order Completed" (a purchase) and "Product Added"/"Product Removed" (the whole
cart); page / screen → an event named "<name> Page" / "<name> Screen" (or per
the name formats), or one name for all of them, per the page and screen
settings; alias → an email change (``previousId`` → ``userId``).

Each operation is a record of the matching object's stream (``email``,
``userId``, ``eventName``…). What such a record cannot say goes under
``PAYLOAD``: parts of Iterable's request body, merged into it as they are (an
event's ``dataFields`` holding every property, the ``user`` of a cart or
purchase with the traits and flags).

Where RudderStack contradicts Iterable's API spec we follow the spec (the
README's "Migrating from RudderStack" lists each case): ``createdAt`` in
seconds from the message's own timestamp, a push token only with its
``applicationName``, no event without an ``eventName``, item ids as strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from target_iterable.mapping.values import ValueConversionError, format_datetime
from target_iterable.reasons import Reason, RecordRejected

Operation = Literal["user", "event", "purchase", "cart", "device", "email_update"]
ORDER_COMPLETED = "order completed"
CART_EVENTS = ("product added", "product removed")
# The key of an operation record holding parts of Iterable's payload, merged in as given.
PAYLOAD = "payload"
# context.device.type (else context.os.name) → Iterable push platform. RudderStack's
# Apple family is APNS, anything else GCM; we refuse platforms that are neither
# (Iterable's Device.platform is APNS, APNS_SANDBOX or GCM), and "web" is a browser token.
_APPLE = frozenset({"ios", "ipados", "watchos", "tvos"})
_ANDROID = frozenset({"android", ""})
# Where RudderStack finds the user, in order (its Iterable*Config.json mapping files).
_USER_ID_SOURCES = (
    ("userId",),
    ("traits", "userId"),
    ("traits", "id"),
    ("context", "traits", "userId"),
    ("context", "traits", "id"),
)
_PROFILE_EMAIL = (("traits", "email"), ("context", "traits", "email"))  # identify, cart, purchase
_EVENT_EMAIL = (("properties", "email"), ("context", "traits", "email"))  # track, page, screen
_ORDER_ID = ("order_id", "orderId", "event_id")
# The fields of a user record that name the user (the rest are its dataFields).
_IDENTITY_FIELDS = ("email", "userId")
# Segment spec product field → CommerceItem field.
_PRODUCT_FIELDS = {
    "sku": "sku",
    "name": "name",
    "price": "price",
    "quantity": "quantity",
    "category": "categories",
    "url": "url",
    "image_url": "imageUrl",
    "description": "description",
}
# The fields that make the properties of a track call a product when it has no ``products``.
_PRODUCT_KEYS = ("product_id", "sku", "name", "price")
# A push token's own fields; the message's other properties become its dataFields.
_DEVICE_FIELDS = frozenset(
    {"email", "userId", "token", "platform", "applicationName", "browserToken"}
)
# An ISO-8601 date-time with its zone: the only strings read as dates without a schema
# (a date alone is already Iterable's yyyy-MM-dd; a time without zone is ambiguous).
_ZONED_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?(Z|z|[+-]\d{2}(:?\d{2})?)"
)
# RudderStack's and Segment's warehouse tables name the spec's fields in snake_case.
WAREHOUSE_COLUMNS = {
    "user_id": "userId",
    "anonymous_id": "anonymousId",
    "previous_id": "previousId",
    "message_id": "messageId",
    "original_timestamp": "originalTimestamp",
}
# Objects of a message; a warehouse often keeps them as JSON text.
OBJECT_FIELDS = ("traits", "context", "properties")


@dataclass(frozen=True)
class MessageSettings:
    """A ``messages`` stream's options (``stream_options``, same names)."""

    map_all_pages_to_one_event: bool = False  # every page → "Loaded a Page"
    map_all_screens_to_one_event: bool = False  # every screen → "Loaded a Screen"
    # Which page and screen calls are tracked (RudderStack applies them to both).
    track_all_pages: bool = True
    track_categorized_pages: bool = False
    track_named_pages: bool = False
    # Event names of page and screen calls; "{name}" is the page's name (else category).
    page_event_name_format: str | None = None  # default "{name} Page"
    screen_event_name_format: str | None = None  # default "{name} Screen"
    register_device_tokens: bool = True
    anonymous_id_as_user_id: bool = False
    convert_date_strings: bool = True
    # Flags of the user a cart or purchase names (the users adapter sets its own).
    prefer_user_id: bool = False
    merge_nested_objects: bool = False

    def __post_init__(self) -> None:
        for option in ("page_event_name_format", "screen_event_name_format"):
            name_format = getattr(self, option)
            if name_format is None:
                continue
            try:
                name_format.format(name="Home")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"{option} {name_format!r} is not a name format: write the page's "
                    'name as {name}, e.g. "{name} page"'
                ) from exc

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> MessageSettings:
        """The settings given in a stream's ``stream_options`` (same names).

        Raise ValueError for a name format that cannot be applied.
        """
        names = {field.name for field in fields(cls)}
        return cls(**{name: value for name, value in options.items() if name in names})


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
        elif not isinstance(value, (Mapping, type(None))):
            raise RecordRejected(
                Reason.INVALID_VALUE, f"message field '{name}' is not an object: {value!r}"
            )
    return message


def _get(mapping: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def _present(value: Any) -> Any:
    """The value, or None when RudderStack would look further (absent, null, empty)."""
    return None if value is None or value in ("", {}) else value


def _first(message: Mapping[str, Any], sources: tuple[tuple[str, ...], ...]) -> Any:
    for path in sources:
        value = _present(_get(message, *path))
        if value is not None:
            return value
    return None


def _compact(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


def iterable_dates(value: Any) -> Any:
    """``value`` with each zoned ISO-8601 date-time string, at any depth, in Iterable's
    date format (``yyyy-MM-dd HH:mm:ss +00:00``); other values as they are."""
    if isinstance(value, str):
        if _ZONED_DATE_TIME.fullmatch(value):
            try:
                return format_datetime(value)
            except ValueConversionError:  # "2024-02-30T…": not a date after all
                return value
        return value
    if isinstance(value, Mapping):
        return {name: iterable_dates(item) for name, item in value.items()}
    if isinstance(value, list):
        return [iterable_dates(item) for item in value]
    return value


def _data(value: Mapping[str, Any], settings: MessageSettings) -> dict[str, Any]:
    """An object sent as ``dataFields``: a message has no schema, so its dates are
    found by their form (unless ``convert_date_strings`` is off)."""
    return iterable_dates(dict(value)) if settings.convert_date_strings else dict(value)


def _user_id(message: Mapping[str, Any], settings: MessageSettings) -> Any:
    user_id = _first(message, _USER_ID_SOURCES)
    if user_id is None and settings.anonymous_id_as_user_id:
        user_id = _present(message.get("anonymousId"))
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        return str(user_id)  # a numeric id, as Iterable's userId (a string)
    return user_id


def _identity(
    message: Mapping[str, Any],
    settings: MessageSettings,
    email_sources: tuple[tuple[str, ...], ...],
) -> dict[str, Any]:
    """``email`` and ``userId`` as RudderStack finds them: the message's own
    ``userId`` first, then the traits' ``userId`` / ``id``."""
    identity = _compact(
        {"email": _first(message, email_sources), "userId": _user_id(message, settings)}
    )
    if not identity:
        hint = (
            "; it has only an anonymousId (set stream_options.<stream>."
            "anonymous_id_as_user_id to send it as the userId)"
            if _present(message.get("anonymousId")) is not None
            else ""
        )
        raise RecordRejected(Reason.MISSING_IDENTITY, f"message has no email and no userId{hint}")
    return identity


def _timestamp(message: Mapping[str, Any]) -> Any:
    """When it happened. RudderStack reads ``traits.createdAt`` first, the user's
    sign-up date; Iterable's ``createdAt`` is the time the event happened."""
    return message.get("timestamp") or message.get("originalTimestamp")


def _traits(message: Mapping[str, Any], settings: MessageSettings) -> dict[str, Any]:
    """The user's traits (top level, else ``context.traits``), without the fields that
    name the user."""
    traits = message.get("traits") or _get(message, "context", "traits")
    if not isinstance(traits, Mapping):
        return {}
    return _data({k: v for k, v in traits.items() if k not in _IDENTITY_FIELDS}, settings)


def _user_parts(message: Mapping[str, Any], settings: MessageSettings) -> dict[str, Any]:
    """What the ``user`` of a cart or purchase carries beyond its identity."""
    return _compact(
        {
            "dataFields": _traits(message, settings) or None,
            "preferUserId": True if settings.prefer_user_id else None,
            "mergeNestedObjects": True if settings.merge_nested_objects else None,
        }
    )


def _items(properties: Mapping[str, Any], settings: MessageSettings) -> list[Any]:
    """Segment's ``products``, else the one product the properties describe (Product
    Added's own fields), as commerce items (coerced later); [] when there is neither."""
    products = properties.get("products")
    if not isinstance(products, list):
        has_product = any(_present(properties.get(name)) is not None for name in _PRODUCT_KEYS)
        products = [properties] if has_product else []
    items: list[Any] = []
    for product in products:
        if not isinstance(product, Mapping):
            items.append(product)  # refused by the commerce mapping: not an object
            continue
        item = {
            "id": _present(product.get("product_id"))
            or _present(product.get("sku"))
            or product.get("id"),
            **{field: product.get(name) for name, field in _PRODUCT_FIELDS.items()},
        }
        if isinstance(product.get("properties"), Mapping):
            item["dataFields"] = _data(product["properties"], settings)
        items.append(_compact(item))
    return items


def _device(
    message: Mapping[str, Any], identity: dict[str, Any], settings: MessageSettings
) -> dict[str, Any] | None:
    """A push token (``context.device.token``) or a web push browser token
    (``context.os.token``, or a device token of type "web")."""
    token = _get(message, "context", "device", "token")
    browser_token = _get(message, "context", "os", "token")
    kind = str(
        _get(message, "context", "device", "type") or _get(message, "context", "os", "name") or ""
    ).lower()
    if not token or kind == "web":
        browser_token = token or browser_token
        return {**identity, "browserToken": browser_token} if browser_token else None
    properties = _data(message.get("properties") or {}, settings)
    platform = "APNS" if kind in _APPLE else "GCM" if kind in _ANDROID else kind.upper()
    return {
        **{k: v for k, v in properties.items() if k not in _DEVICE_FIELDS},
        **identity,
        "token": token,
        "platform": platform,
        "applicationName": _get(message, "context", "app", "name")
        or _get(message, "context", "app", "namespace"),
    }


def _view_event_name(message: Mapping[str, Any], kind: str, settings: MessageSettings) -> str:
    """The event name of a page or screen call, or a refusal when it is not tracked."""
    name = message.get("name") or _get(message, "properties", "name")
    category = message.get("category") or _get(message, "properties", "category")
    tracked = (
        settings.track_all_pages
        or (settings.track_categorized_pages and category)
        or (settings.track_named_pages and name)
    )
    if not tracked:
        raise RecordRejected(
            Reason.MESSAGE_NOT_TRACKED,
            f"{kind} call not tracked by the page settings (track all, categorized or named)",
        )
    label = kind.capitalize()
    if kind == "page":
        one_event, name_format = (
            settings.map_all_pages_to_one_event,
            settings.page_event_name_format,
        )
    else:
        one_event = settings.map_all_screens_to_one_event
        name_format = settings.screen_event_name_format
    if one_event:
        return f"Loaded a {label}"
    return (name_format or "{name} " + label).format(name=name or category or "").strip()


def _event(
    message: Mapping[str, Any], name: str, event_id: Any, settings: MessageSettings
) -> dict[str, Any]:
    """A custom event: every property in ``dataFields``, ``campaignId`` and
    ``templateId`` on top as well (templates read them from either)."""
    if not name:
        raise RecordRejected(Reason.MISSING_EVENT_NAME, "track message without 'event'")
    properties = message.get("properties") or {}
    event = {
        **_identity(message, settings, _EVENT_EMAIL),
        "eventName": name,
        "id": event_id,
        "createdAt": _timestamp(message),
        "campaignId": _present(properties.get("campaignId")),
        "templateId": _present(properties.get("templateId")),
    }
    if properties:
        event[PAYLOAD] = {"dataFields": _data(properties, settings)}
    return _compact(event)


def _purchase(message: Mapping[str, Any], settings: MessageSettings) -> dict[str, Any]:
    """Order Completed: every property stays in ``dataFields`` (``total`` and
    ``products`` too), the user's traits go with its ``user``."""
    properties = message.get("properties") or {}
    total = _present(properties.get("total"))
    order_id = _first(properties, tuple((name,) for name in _ORDER_ID))
    purchase = {
        **_identity(message, settings, _PROFILE_EMAIL),
        "id": message.get("messageId") if order_id is None else order_id,
        "items": _items(properties, settings),
        "total": _present(properties.get("revenue")) if total is None else total,
        "createdAt": _timestamp(message),
        "campaignId": _present(properties.get("campaignId")),
        "templateId": _present(properties.get("templateId")),
        PAYLOAD: _compact(
            {
                "dataFields": _data(properties, settings) or None,
                "user": _user_parts(message, settings) or None,
            }
        )
        or None,
    }
    return _compact(purchase)


def _cart(message: Mapping[str, Any], settings: MessageSettings) -> dict[str, Any]:
    """Product Added / Removed: the user's whole cart, the traits with its ``user``."""
    properties = message.get("properties") or {}
    items = _items(properties, settings)
    if not items and not isinstance(properties.get("products"), list):
        raise RecordRejected(
            Reason.INVALID_VALUE,
            "cart message has neither 'products' nor a product in its properties "
            "(product_id, sku, name, price); an empty cart would empty the user's cart",
        )
    user = _user_parts(message, settings)
    cart = {**_identity(message, settings, _PROFILE_EMAIL), "items": items}
    return {**cart, PAYLOAD: {"user": user}} if user else cart


def _email_update(message: Mapping[str, Any]) -> dict[str, Any]:
    """alias: ``previousId`` is the current email (or userId), ``userId`` the new email."""
    current, new = _present(message.get("previousId")), _present(message.get("userId"))
    if current is None or new is None:
        raise RecordRejected(
            Reason.MISSING_IDENTITY,
            "alias message needs previousId (the current email) and userId (the new email)",
        )
    # RudderStack always sends previousId as currentEmail; the spec's currentUserId
    # names a user by userId, as a previousId without "@" is.
    current_field = "currentEmail" if "@" in str(current) else "currentUserId"
    return {current_field: str(current), "newEmail": str(new)}


def message_operations(
    message: Mapping[str, Any], settings: MessageSettings = MessageSettings()
) -> list[tuple[Operation, dict[str, Any]]]:
    """The Iterable operations one message becomes, as records of the matching stream."""
    message = normalized_message(message)
    kind = str(message.get("type") or "").lower()
    if kind == "identify":
        identity = _identity(message, settings, _PROFILE_EMAIL)
        operations: list[tuple[Operation, dict[str, Any]]] = [
            ("user", {**_traits(message, settings), **identity})
        ]
        device = _device(message, identity, settings) if settings.register_device_tokens else None
        if device is not None:
            operations.append(("device", device))
        return operations
    if kind == "track":
        event = str(message.get("event") or "")
        if event.lower() == ORDER_COMPLETED:
            return [("purchase", _purchase(message, settings))]
        if event.lower() in CART_EVENTS:
            return [("cart", _cart(message, settings))]
        event_id = _present(_get(message, "properties", "event_id"))
        event_id = message.get("messageId") if event_id is None else event_id
        return [("event", _event(message, event, event_id, settings))]
    if kind in ("page", "screen"):
        name = _view_event_name(message, kind, settings)
        return [("event", _event(message, name, message.get("messageId"), settings))]
    if kind == "alias":
        return [("email_update", _email_update(message))]
    raise RecordRejected(
        Reason.UNSUPPORTED_MESSAGE_TYPE,
        f"message type {message.get('type')!r} is not one of identify, track, page, screen, alias",
    )
