"""Records of ``catalog-<name>`` streams → documents of a catalog bulk upload."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_iterable.iterable.checks import check_item_id, iterable_field_name
from target_iterable.mapping.fields import SDC_PREFIX, data_fields
from target_iterable.mapping.values import Converter, property_types

ITEM_ID_FIELD = "itemId"


def catalog_field_types(schema: Mapping[str, Any]) -> dict[str, str]:
    """Iterable catalog field types for a Singer schema's top-level properties.

    Iterable fixes a catalog field's type once; declaring it from the schema
    before the first upload keeps it from being guessed from the first value
    (a price of 5 would make the field a long). Arrays and untyped properties
    are left for Iterable to type. Names are those the items are sent with
    (``a.b`` as ``a_b``).
    """
    types: dict[str, str] = {}
    for name, prop in (schema.get("properties") or {}).items():
        if name == ITEM_ID_FIELD or name.startswith(SDC_PREFIX) or not isinstance(prop, Mapping):
            continue
        json_types, fmt, _ = property_types(prop)
        json_types.discard("null")
        sent_as = iterable_field_name(name)
        if json_types == {"string"}:
            types[sent_as] = "date" if fmt in ("date", "date-time") else "string"
        elif json_types == {"boolean"}:
            types[sent_as] = "boolean"
        elif json_types == {"integer"}:
            types[sent_as] = "long"
        elif json_types in ({"number"}, {"number", "integer"}):
            types[sent_as] = "double"
        elif json_types == {"object"}:
            types[sent_as] = "object"
    return types


def catalog_item(
    record: Mapping[str, Any], converters: Mapping[str, Converter]
) -> tuple[str, dict[str, Any]]:
    """Map one record to ``(itemId, item fields)``; itemId is the document key, not a field.

    Iterable refuses periods in catalog field names; like every object's, they are sent
    as underscores (``data_fields``).
    """
    item_id = check_item_id(record.get(ITEM_ID_FIELD))
    return item_id, data_fields(record, converters, {ITEM_ID_FIELD})
