"""The adapters of ``messages`` operations: each object's own adapter, plus what an
operation carries that a stream record cannot say (under ``mapping.messages.PAYLOAD``:
every property kept in ``dataFields``, the user's traits and flags with a cart or a
purchase), merged into the request body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from target_iterable.adapters.base import ObjectAdapter
from target_iterable.adapters.commerce import CartsAdapter, PurchasesAdapter
from target_iterable.adapters.devices import DevicesAdapter
from target_iterable.adapters.email_updates import EmailUpdatesAdapter
from target_iterable.adapters.events import EventsAdapter
from target_iterable.adapters.users import UsersAdapter
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.mapping.fields import data_fields
from target_iterable.mapping.messages import PAYLOAD, Operation


def _merged(payload: Mapping[str, Any], parts: Mapping[str, Any]) -> dict[str, Any]:
    """``payload`` with ``parts`` merged in (objects merged, dataFields as the
    adapters send theirs)."""
    merged = dict(payload)
    for name, part in parts.items():
        before = merged.get(name)
        if name == "dataFields":
            merged[name] = {**(before or {}), **data_fields(part, {}, ())}
        elif isinstance(part, Mapping):
            merged[name] = _merged(before if isinstance(before, Mapping) else {}, part)
        else:
            merged[name] = part
    return merged


def prepare_with_parts(
    prepare: Callable[[Mapping[str, Any]], PreparedRecord], record: Mapping[str, Any]
) -> PreparedRecord:
    """An operation record mapped by its object's adapter, then the payload parts
    it carries under ``PAYLOAD`` merged into the request body."""
    parts = record.get(PAYLOAD)
    if not parts:
        return prepare(record)
    prepared = prepare({name: value for name, value in record.items() if name != PAYLOAD})
    return PreparedRecord.of_person_payload(
        prepared.sources, _merged(prepared.payload(), parts), prepared.route
    )


class MessageEventsAdapter(EventsAdapter):
    """Events whose ``dataFields`` hold every property, top-level ones included."""

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        return prepare_with_parts(super().prepare, record)


class MessagePurchasesAdapter(PurchasesAdapter):
    """Purchases with every property in ``dataFields`` and the traits with the user."""

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        return prepare_with_parts(super().prepare, record)


class MessageCartsAdapter(CartsAdapter):
    """Carts whose user carries the traits and the stream's user flags."""

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        return prepare_with_parts(super().prepare, record)


# The adapter of each operation a message can become.
OPERATION_ADAPTERS: dict[Operation, type[ObjectAdapter]] = {
    "user": UsersAdapter,
    "email_update": EmailUpdatesAdapter,
    "event": MessageEventsAdapter,
    "purchase": MessagePurchasesAdapter,
    "cart": MessageCartsAdapter,
    "device": DevicesAdapter,
}
