"""Records of ``catalog-<name>`` streams → documents of a catalog bulk upload."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_iterable.checks import check_catalog_field_names, check_item_id
from target_iterable.mapping.fields import converted, data_fields
from target_iterable.mapping.values import Converter

ITEM_ID_FIELD = "itemId"


def catalog_item(
    record: Mapping[str, Any], converters: Mapping[str, Converter]
) -> tuple[str, dict[str, Any]]:
    """Map one record to ``(itemId, item fields)``; itemId is the document key, not a field."""
    item_id = check_item_id(record.get(ITEM_ID_FIELD))
    fields = data_fields(converted(record, converters), {ITEM_ID_FIELD})
    check_catalog_field_names(fields)
    return item_id, fields
