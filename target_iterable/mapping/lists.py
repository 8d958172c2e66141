"""Records of ``list-<listId>`` streams → subscribers of lists/subscribe or /unsubscribe."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_iterable.iterable.checks import identity_fields
from target_iterable.mapping.fields import SDC_PREFIX, data_fields
from target_iterable.mapping.values import Converter

LIST_TOP_LEVEL_FIELDS = frozenset({"email", "userId", "subscribed"})
SUBSCRIBE = "subscribe"
UNSUBSCRIBE = "unsubscribe"


def is_removal(record: Mapping[str, Any]) -> bool:
    """A row deleted at the source, or flagged ``subscribed: false``, leaves the list."""
    return bool(record.get(f"{SDC_PREFIX}deleted_at")) or record.get("subscribed") is False


def list_member(
    record: Mapping[str, Any], converters: Mapping[str, Converter]
) -> tuple[str, dict[str, Any]]:
    """Map one record to ``(route, subscriber)``; subscribers carry their dataFields."""
    member = identity_fields(record)
    if is_removal(record):
        return UNSUBSCRIBE, member
    fields = data_fields(record, converters, LIST_TOP_LEVEL_FIELDS)
    if fields:
        member["dataFields"] = fields
    return SUBSCRIBE, member
