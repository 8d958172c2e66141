"""``catalog-<name>`` streams → POST /api/catalogs/{name}/items (and bulk deletes)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson

from target_iterable.adapters.base import DELETED_AT, ObjectAdapter, StreamSpec, declared_conflicts
from target_iterable.delivery.batching import Envelope
from target_iterable.delivery.context import DeliveryContext
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.encoding import encode_faithfully, encode_for_iterable
from target_iterable.errors import ConfigurationError
from target_iterable.iterable.checks import check_item_id
from target_iterable.iterable.client import ApiResponse, raise_for_request_error
from target_iterable.iterable.field_types import compatible
from target_iterable.iterable.limits import (
    CATALOG_ITEMS,
    MAX_CATALOG_ITEM_BYTES,
    MAX_CATALOG_ITEMS_PER_REQUEST,
)
from target_iterable.mapping.catalog import ITEM_ID_FIELD, catalog_field_types, catalog_item
from target_iterable.reasons import Reason, RecordRejected
from target_iterable.settings import Settings

logger = logging.getLogger("target-iterable.catalog")

CATALOG_STREAM_PREFIX = "catalog-"
DELETE = "delete"
DELETE_ENVELOPE = Envelope(b'{"itemIds":[', b"]}")


class CatalogAdapter(ObjectAdapter):
    """Upserts catalog items, creating the catalog first when it does not exist."""

    kind = "catalog"
    endpoint = CATALOG_ITEMS
    # replaceUploadedFieldsOnly: update the fields sent, keep the item's others
    # (the upsert a loader of partial rows expects); bulkUpdateCatalogItems requires it.
    envelope = Envelope(b'{"documents":{', b'},"replaceUploadedFieldsOnly":true}')
    supports_mirror = True
    deletion_routes = frozenset({DELETE})

    def __init__(self, stream: StreamSpec, context: DeliveryContext) -> None:
        super().__init__(stream, context)
        self.catalog = stream.name[len(CATALOG_STREAM_PREFIX) :]

    def items_per_request(self, settings: Settings) -> int:
        return min(settings.catalog_batch_size, MAX_CATALOG_ITEMS_PER_REQUEST)

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        if record.get(DELETED_AT):
            # Deleted at the source: delete the item (bulk DELETE, by itemId).
            item_id = check_item_id(record.get(ITEM_ID_FIELD))
            source = [encode_faithfully(record)]
            return PreparedRecord(sources=source, item=orjson.dumps(item_id), route=DELETE)
        item_id, fields = catalog_item(record, self.converters)
        encoded_fields = encode_for_iterable(fields)
        if len(encoded_fields) > MAX_CATALOG_ITEM_BYTES:
            raise RecordRejected(
                Reason.ITEM_TOO_LARGE,
                f"catalog item '{item_id}' encodes to {len(encoded_fields)} bytes; "
                f"Iterable allows {MAX_CATALOG_ITEM_BYTES} per item",
            )
        item = orjson.dumps(item_id) + b":" + encoded_fields
        return PreparedRecord(sources=[encode_faithfully(record)], item=item)

    def natural_key(self, record: Mapping[str, Any]) -> str | None:
        item_id = record.get(ITEM_ID_FIELD)
        return None if item_id in (None, "") else str(item_id)

    def identity(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        key = self.natural_key(record)
        return None if key is None else {ITEM_ID_FIELD: key}

    def removal(self, identity: Mapping[str, Any]) -> PreparedRecord | None:
        """An item gone from a mirror stream is deleted (bulk DELETE, by itemId)."""
        item_id = check_item_id(identity.get(ITEM_ID_FIELD))
        return PreparedRecord(
            sources=[encode_faithfully(identity)], item=orjson.dumps(item_id), route=DELETE
        )

    def envelope_for(self, route: str) -> Envelope:
        return DELETE_ENVELOPE if route == DELETE else self.envelope

    def fields_of(self, prepared: PreparedRecord) -> Mapping[str, Any]:
        """The item's fields, decoded from its ``"itemId": {...}`` body fragment."""
        if prepared.route == DELETE:
            return {}
        document: dict[str, Mapping[str, Any]] = orjson.loads(b"{" + prepared.item + b"}")
        return next(iter(document.values()))

    def type_scope(self, prepared: PreparedRecord) -> str:
        return f"catalog:{self.catalog}"

    def setup(self) -> None:
        """Create the catalog if missing (uploads to it would get 404), then declare
        the types of the fields Iterable has not typed yet, from the Singer schema."""
        endpoint = f"GET /api/catalogs/{self.catalog}/fieldMappings"
        mappings = self.client.get_catalog_field_mappings(self.catalog)
        if mappings.status == 404:
            logger.info("Creating Iterable catalog '%s'", self.catalog)
            created = self.client.create_catalog(self.catalog)
            raise_for_request_error(f"POST /api/catalogs/{self.catalog}", created)
            # A dry run only planned the catalog: it has no field yet.
            mappings = (
                ApiResponse(200, {"params": {"definedMappings": {}}})
                if created.planned
                else self.client.get_catalog_field_mappings(self.catalog)
            )
        raise_for_request_error(endpoint, mappings)
        params = mappings.body.get("params") or {}
        defined = dict(params.get("definedMappings") or {})
        # Pre-flight: a value that cannot go into a typed field is refused locally.
        for name, field_type in defined.items():
            self.context.locked_types.lock(f"catalog:{self.catalog}", name, field_type)
        self.declare_field_types(defined)

    def schema_conflicts(self) -> list[str]:
        return declared_conflicts(
            catalog_field_types(self.stream.schema),
            self.context.locked_types.in_scope(f"catalog:{self.catalog}"),
        )

    def declare_field_types(self, existing: Mapping[str, str]) -> None:
        """PUT the types of new fields; a clash with a type Iterable fixed is an error."""
        wanted = catalog_field_types(self.stream.schema)
        clashes = [
            f"'{name}' is {existing[name]} in Iterable, {kind} in the stream's schema"
            for name, kind in wanted.items()
            if name in existing and not compatible(existing[name], kind)
        ]
        if clashes:
            raise ConfigurationError(
                f"catalog '{self.catalog}': field types cannot change once set: "
                f"{'; '.join(clashes)}. Cast the column in a stream map or rename the field."
            )
        new = [{"fieldName": n, "fieldType": t} for n, t in wanted.items() if n not in existing]
        if new:
            logger.info("Declaring catalog '%s' field types: %s", self.catalog, new)
            response = self.client.put_catalog_field_mappings(
                self.catalog, encode_for_iterable({"mappingsUpdates": new})
            )
            raise_for_request_error(f"PUT /api/catalogs/{self.catalog}/fieldMappings", response)

    def post(self, body: bytes, route: str) -> ApiResponse:
        if route == DELETE:
            return self.client.delete_catalog_items(self.catalog, body)
        return self.client.upsert_catalog_items(self.catalog, body)
