"""Catalogs: named collections of items, with per-catalog field types once mapped.

Iterable processes item writes asynchronously and answers 202 (rule:
catalog-writes-202); with no processing delay the emulator applies them before
answering, with one it applies them later (rule: async-writes, in ``pending``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from iterable_emulator.errors import IterableError, bad_params, batch_too_large, not_found
from iterable_emulator.field_types import FIELD_TYPES, FieldKey, TypeCheck, field_values
from iterable_emulator.store.database import Database, dumps
from iterable_emulator.store.values import CatalogItem, Page

MAX_DOCUMENTS = 1000  # per bulk upload [spec]
MAX_ITEM_BYTES = 30 * 1024  # per item, as compact JSON [spec]
MAX_FIELDS = 350  # per catalog [docs]
MAX_NAME_LENGTH = 255


def is_valid_name(text: str) -> bool:
    """Catalog names and item ids: letters, digits and dashes, at most 255. [spec]"""
    return 0 < len(text) <= MAX_NAME_LENGTH and all(
        char.isascii() and (char.isalnum() or char == "-") for char in text
    )


def dotted_field_name(value: Any) -> str | None:
    """The first field name holding a period, at any depth: Iterable reads periods as nesting."""
    if isinstance(value, list):
        children: Iterator[tuple[Any, Any]] = iter(enumerate(value))
    elif isinstance(value, dict):
        children = iter(value.items())
    else:
        return None
    for name, child in children:
        if isinstance(name, str) and "." in name:
            return name
        found = dotted_field_name(child)
        if found is not None:
            return found
    return None


def mapping_paths(
    updates: Sequence[Mapping[str, Any]], prefix: str = ""
) -> Iterator[tuple[str, str]]:
    """Flatten fieldMappings updates (``children`` for objects) into dotted paths and types."""
    for update in updates:
        name = update["fieldName"]
        if "." in name:
            raise bad_params(f"Field names cannot contain periods: {name}")
        yield f"{prefix}{name}", update["fieldType"]
        yield from mapping_paths(update.get("children") or [], f"{prefix}{name}.")


class Catalogs:
    """Catalogs are named case-insensitively; item ids are case-sensitive. [spec]"""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _name(self, name: str) -> str:
        """The catalog's name as created; 404 NotFound when there is no such catalog."""
        row = self._db.query_one("SELECT name FROM catalogs WHERE key = ?", (name.lower(),))
        if row is None:
            raise not_found(f"Catalog {name} not found")
        return str(row[0])

    def create(self, name: str) -> None:
        """POST /api/catalogs/{name}; a name already taken answers 400 BadParams."""
        if not is_valid_name(name):
            raise bad_params(
                f"Invalid catalog name {name!r}: use letters, digits and dashes, at most 255"
            )
        with self._db.transaction():
            if self._db.query_one("SELECT 1 FROM catalogs WHERE key = ?", (name.lower(),)):
                raise bad_params(f"Catalog {name} already exists")
            self._db.execute(
                "INSERT INTO catalogs VALUES (?, ?, ?)", (name.lower(), name, self._db.clock())
            )

    def delete(self, name: str) -> None:
        """DELETE /api/catalogs/{name}: the catalog, its items and its field types."""
        with self._db.transaction():
            key = self._name(name).lower()
            self._db.execute("DELETE FROM catalogs WHERE key = ?", (key,))
            self._db.execute("DELETE FROM catalog_items WHERE catalog = ?", (key,))
            self._db.execute("DELETE FROM catalog_fields WHERE catalog = ?", (key,))
            self._db.drop_types("catalog", key)

    def names(self, page: int = 1, page_size: int = 10) -> tuple[list[str], int]:
        """GET /api/catalogs: one page of names, and how many catalogs there are."""
        with self._db.snapshot():
            rows = self._db.query(
                "SELECT name FROM catalogs ORDER BY key LIMIT ? OFFSET ?",
                (page_size, (page - 1) * page_size),
            )
            return [name for (name,) in rows], self._db.count("catalogs")

    def upsert_items(
        self, name: str, documents: Mapping[str, Any], *, replace_uploaded_fields_only: bool
    ) -> None:
        """POST /api/catalogs/{name}/items: up to 1000 items.

        With ``replaceUploadedFieldsOnly`` the uploaded fields are merged into
        the stored item, otherwise the item is replaced. [spec]
        """
        if len(documents) > MAX_DOCUMENTS:
            raise batch_too_large(
                f"{len(documents)} documents; a bulk upload takes at most {MAX_DOCUMENTS}"
            )
        self._save(name, documents, merge=replace_uploaded_fields_only)

    def put_item(self, name: str, item_id: str, value: Mapping[str, Any]) -> None:
        """PUT /api/catalogs/{name}/items/{itemId}: create or replace one item."""
        self._save(name, {item_id: value}, merge=False)

    def patch_item(self, name: str, item_id: str, update: Mapping[str, Any]) -> None:
        """PATCH /api/catalogs/{name}/items/{itemId}: create, or update the fields sent."""
        self._save(name, {item_id: update}, merge=True)

    def _save(self, name: str, documents: Mapping[str, Any], *, merge: bool) -> None:
        """Store items. rule: catalog-untyped-until-mapped: only mapped fields are
        checked (rule: catalog-mapped-mismatch) and a first write locks nothing."""
        with self._db.transaction():
            key = self._name(name).lower()
            check = TypeCheck(self._db.types)
            paths: set[str] = set()
            for item_id, value in documents.items():
                self._check_item(item_id, value)
                check.check("catalog", key, value, lock=False)
                paths.update(path for path, _ in field_values(value))
            self._check_field_count(key, paths)
            self._db.lock_new_types(check)
            self._db.execute_many(
                "INSERT OR IGNORE INTO catalog_fields VALUES (?, ?)",
                [(key, path) for path in sorted(paths)],
            )
            now = self._db.clock()
            for item_id, value in documents.items():
                stored = self._stored_value(key, item_id) if merge else {}
                self._db.execute(
                    "INSERT OR REPLACE INTO catalog_items VALUES (?, ?, ?, ?)",
                    (key, item_id, dumps({**stored, **value}), now),
                )

    @staticmethod
    def _check_item(item_id: str, value: Any) -> None:
        """Iterable's per-item rules: id syntax, an object, no periods in names, ≤ 30 KB."""
        if not is_valid_name(item_id):
            raise bad_params(
                f"Invalid item id {item_id!r}: use letters, digits and dashes, at most 255"
            )
        if not isinstance(value, dict):
            raise bad_params(f"Item {item_id} must be a JSON object")
        dotted = dotted_field_name(value)
        if dotted is not None:
            raise bad_params(f"Item {item_id}: field names cannot contain periods: {dotted}")
        size = len(dumps(value).encode())
        if size > MAX_ITEM_BYTES:
            raise bad_params(f"Item {item_id} is {size} bytes; the maximum is {MAX_ITEM_BYTES}")

    def _fields(self, key: str) -> set[str]:
        """Every field the catalog has: mapped, or brought by an item."""
        seen = self._db.query("SELECT path FROM catalog_fields WHERE catalog = ?", (key,))
        mapped = {path for (cat, scope, path) in self._db.types if (cat, scope) == ("catalog", key)}
        return mapped | {path for (path,) in seen}

    def _check_field_count(self, key: str, paths: set[str]) -> None:
        """rule: catalog-limits (350 fields per catalog, nested ones by dotted path)."""
        fields = self._fields(key) | paths
        if len(fields) > MAX_FIELDS:
            raise IterableError(
                400,
                "UniqueFieldsLimitExceeded",
                f"The catalog would have {len(fields)} fields; the maximum is {MAX_FIELDS}",
            )

    def _stored_value(self, key: str, item_id: str) -> dict[str, Any]:
        row = self._db.query_one(
            "SELECT value FROM catalog_items WHERE catalog = ? AND item_id = ?", (key, item_id)
        )
        return dict(json.loads(row[0])) if row else {}

    def delete_items(self, name: str, item_ids: Sequence[str]) -> None:
        """DELETE /api/catalogs/{name}/items[/{itemId}]; unknown ids are ignored."""
        with self._db.transaction():
            key = self._name(name).lower()
            self._db.execute_many(
                "DELETE FROM catalog_items WHERE catalog = ? AND item_id = ?",
                [(key, item_id) for item_id in item_ids],
            )

    def item(self, name: str, item_id: str) -> CatalogItem:
        """GET /api/catalogs/{name}/items/{itemId}; 404 when the item does not exist."""
        with self._db.snapshot():
            catalog_name = self._name(name)
            row = self._db.query_one(
                "SELECT value, last_modified FROM catalog_items WHERE catalog = ? AND item_id = ?",
                (catalog_name.lower(), item_id),
            )
        if row is None:
            raise not_found(f"Item {item_id} not found in catalog {catalog_name}")
        return CatalogItem(catalog_name, item_id, json.loads(row[0]), row[1])

    def items(
        self,
        name: str,
        *,
        page: int = 1,
        page_size: int = 10,
        order_by: str | None = None,
        ascending: bool = False,
    ) -> Page:
        """GET /api/catalogs/{name}/items: one page, by item id or by a field's value."""
        order = "item_id"
        params: list[Any] = []
        if order_by is not None:
            if not order_by or '"' in order_by:
                raise bad_params(f"Invalid orderBy {order_by!r}")
            order = f"json_extract(value, ?) {'ASC' if ascending else 'DESC'}, item_id"
            params.append("$." + ".".join(f'"{part}"' for part in order_by.split(".")))
        with self._db.snapshot():
            catalog_name = self._name(name)
            key = catalog_name.lower()
            total = self._db.query_one(
                "SELECT COUNT(*) FROM catalog_items WHERE catalog = ?", (key,)
            )
            rows = self._db.query(
                "SELECT item_id, value, last_modified FROM catalog_items WHERE catalog = ?"
                f" ORDER BY {order} LIMIT ? OFFSET ?",
                (key, *params, page_size, (page - 1) * page_size),
            )
        items = [CatalogItem(catalog_name, item, json.loads(value), at) for item, value, at in rows]
        return Page(items, int(total[0]) if total else 0)

    def field_mappings(self, name: str) -> tuple[dict[str, str], list[str]]:
        """GET /api/catalogs/{name}/fieldMappings: mapped fields, and fields seen unmapped.

        rule: catalog-untyped-until-mapped. A field is defined once PUT
        fieldMappings gives it a type; every other field an item brought is
        undefined, whatever its values.
        """
        with self._db.snapshot():
            key = self._name(name).lower()
            defined = {
                path: type_
                for (category, scope, path), type_ in sorted(self._db.types.items())
                if (category, scope) == ("catalog", key)
            }
            seen = self._fields(key)
        return defined, sorted(seen - set(defined))

    def update_field_mappings(self, name: str, updates: Sequence[Mapping[str, Any]]) -> None:
        """PUT /api/catalogs/{name}/fieldMappings: set field types; a set type never changes.

        rule: catalog-mapping-immutable."""
        with self._db.transaction():
            key = self._name(name).lower()
            new_types: dict[FieldKey, str] = {}
            for path, type_ in mapping_paths(updates):
                if type_ not in FIELD_TYPES:
                    raise bad_params(
                        f"Invalid type {type_!r} for {path}: use one of {sorted(FIELD_TYPES)}"
                    )
                field_key: FieldKey = ("catalog", key, path)
                current = self._db.types.get(field_key) or new_types.get(field_key)
                if current not in (None, type_):
                    raise bad_params(
                        f"Field {path} already has type {current}; a field's type cannot change"
                    )
                new_types[field_key] = type_
            self._db.add_types({k: t for k, t in new_types.items() if k not in self._db.types})
