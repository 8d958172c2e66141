"""Records of ``purchases`` and ``carts`` streams → trackPurchase / updateCart bodies.

A CommerceItem needs ``id``, ``name``, ``price`` and ``quantity`` [spec]; warehouse
rows often hold prices and quantities as strings and categories as one
comma-separated string, so those are coerced here.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from typing import Any

from target_iterable.iterable.checks import identity_fields, renamed_fields
from target_iterable.mapping.events import tracking_fields, upsert_id
from target_iterable.mapping.fields import data_fields
from target_iterable.mapping.values import (
    Converter,
    ValueConversionError,
    to_integer,
)
from target_iterable.reasons import Reason, RecordRejected

ITEM_FIELDS = (
    "id",
    "sku",
    "name",
    "price",
    "quantity",
    "categories",
    "url",
    "imageUrl",
    "description",
)
PURCHASE_TOP_LEVEL_FIELDS = frozenset(
    {"email", "userId", "id", "total", "items", "createdAt", "campaignId", "templateId"}
)
CART_TOP_LEVEL_FIELDS = frozenset({"email", "userId", "items"})


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise ValueConversionError(f"{what} {value!r} is not a number")
    try:
        return float(decimal.Decimal(str(value).strip()))
    except (decimal.InvalidOperation, ValueError) as exc:
        raise ValueConversionError(f"{what} {value!r} is not a number") from exc


def _categories(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Sequence):
        return [str(part) for part in value]
    raise ValueConversionError(f"categories {value!r} is neither a list nor a string")


def commerce_item(item: Any, position: int) -> dict[str, Any]:
    """One CommerceItem: required fields checked, strings coerced, the rest in dataFields."""
    if not isinstance(item, Mapping):
        raise ValueConversionError(f"items[{position}] is not an object")
    missing = [name for name in ("id", "name", "price") if item.get(name) in (None, "")]
    if missing:
        raise ValueConversionError(f"items[{position}] has no {', '.join(missing)}")
    result: dict[str, Any] = {
        "id": str(item["id"]),
        "name": str(item["name"]),
        "price": _number(item["price"], f"items[{position}].price"),
        "quantity": 1 if item.get("quantity") in (None, "") else to_integer(item["quantity"]),
    }
    for name in ("sku", "url", "imageUrl", "description"):
        if item.get(name) is not None:
            result[name] = str(item[name])
    if item.get("categories") is not None:
        result["categories"] = _categories(item["categories"])
    extra = {k: v for k, v in item.items() if k not in ITEM_FIELDS and k != "dataFields"}
    nested = item.get("dataFields")
    if isinstance(nested, Mapping) or extra:
        fields = {**extra, **(dict(nested) if isinstance(nested, Mapping) else {})}
        # Periods in names as underscores, as for every object's fields.
        result["dataFields"] = renamed_fields(fields, f"items[{position}]")
    return result


def commerce_items(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise ValueConversionError("items is not a list")
    return [commerce_item(item, position) for position, item in enumerate(value)]


def purchase_payload(
    record: Mapping[str, Any],
    converters: Mapping[str, Converter],
    *,
    stream_name: str,
    key_properties: Sequence[str],
) -> dict[str, Any]:
    """Map one record to a ``TrackPurchaseRequest``.

    ``total`` defaults to the sum of price times quantity; ``id`` is derived from
    the key properties when absent, as for events (Iterable upserts by it).
    """
    record = {k: v for k, v in record.items() if v is not None}
    try:
        items = commerce_items(record.get("items"))
        payload: dict[str, Any] = {"user": identity_fields(record), "items": items}
        total = record.get("total")
        payload["total"] = (
            _number(total, "total")
            if total not in (None, "")
            else round(sum(i["price"] * i["quantity"] for i in items), 2)
        )
    except ValueConversionError as exc:
        raise RecordRejected(Reason.INVALID_VALUE, str(exc)) from exc
    purchase_id = upsert_id(record, stream_name, key_properties)
    if purchase_id is not None:
        payload["id"] = purchase_id
    payload.update(tracking_fields(record))
    payload["dataFields"] = data_fields(record, converters, PURCHASE_TOP_LEVEL_FIELDS)
    return payload


def cart_payload(record: Mapping[str, Any], converters: Mapping[str, Converter]) -> dict[str, Any]:
    """Map one record to an ``UpdateCartRequest``: the user's whole cart."""
    try:
        items = commerce_items(record.get("items"))
    except ValueConversionError as exc:
        raise RecordRejected(Reason.INVALID_VALUE, str(exc)) from exc
    user = identity_fields(record)
    fields = data_fields(record, converters, CART_TOP_LEVEL_FIELDS)
    if fields:
        user["dataFields"] = fields
    return {"user": user, "items": items}
