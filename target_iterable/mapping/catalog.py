"""Records of ``catalog-<name>`` streams → documents of a catalog bulk upload."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_iterable.iterable.checks import check_catalog_field_names, check_item_id
from target_iterable.mapping.fields import SDC_PREFIX, data_fields
from target_iterable.mapping.values import Converter, property_types

ITEM_ID_FIELD = "itemId"


def catalog_field_types(schema: Mapping[str, Any]) -> dict[str, str]:
    """Iterable catalog field types for a Singer schema's top-level properties.

    Iterable fixes a catalog field's type once; declaring it from the schema
    before the first upload keeps it from being guessed from the first value
    (a price of 5 would make the field a long). Arrays and untyped properties
    are left for Iterable to type.
    """
    types: dict[str, str] = {}
    for name, prop in (schema.get("properties") or {}).items():
        if name == ITEM_ID_FIELD or name.startswith(SDC_PREFIX) or not isinstance(prop, Mapping):
            continue
        json_types, fmt, _ = property_types(prop)
        json_types.discard("null")
        if json_types == {"string"}:
            types[name] = "date" if fmt in ("date", "date-time") else "string"
        elif json_types == {"boolean"}:
            types[name] = "boolean"
        elif json_types == {"integer"}:
            types[name] = "long"
        elif json_types in ({"number"}, {"number", "integer"}):
            types[name] = "double"
        elif json_types == {"object"}:
            types[name] = "object"
    return types


def catalog_item(
    record: Mapping[str, Any], converters: Mapping[str, Converter]
) -> tuple[str, dict[str, Any]]:
    """Map one record to ``(itemId, item fields)``; itemId is the document key, not a field."""
    item_id = check_item_id(record.get(ITEM_ID_FIELD))
    fields = data_fields(record, converters, {ITEM_ID_FIELD})
    check_catalog_field_names(fields)
    return item_id, fields
