"""Catalogs: existence, item limits, field names, mappings and their immutability."""

from __future__ import annotations

import json

from iterable_emulator.store.catalogs import MAX_ITEM_BYTES
from iterable_emulator.testing import EmulatorProcess

from .helpers import create_catalog, upsert_items


def test_items_need_an_existing_catalog(emulator: EmulatorProcess) -> None:
    response = upsert_items(emulator, "products", {"sku-1": {"price": 1.5}})
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"
    assert emulator.api("GET", "/api/catalogs/products/fieldMappings").status_code == 404

    create_catalog(emulator, "products")
    response = upsert_items(emulator, "products", {"sku-1": {"price": 1.5}})
    assert response.status_code == 202
    assert response.json()["code"] == "Success"
    assert response.json()["params"] is None
    # Applied before answering: the read right after sees it.
    assert emulator.catalog_item("products", "sku-1") == {"price": 1.5}


def test_catalog_names_are_validated_and_unique_ignoring_case(emulator: EmulatorProcess) -> None:
    create_catalog(emulator, "Products")
    duplicate = emulator.api("POST", "/api/catalogs/products")
    assert duplicate.status_code == 400
    assert emulator.api("POST", "/api/catalogs/bad.name").status_code == 400
    listed = emulator.api("GET", "/api/catalogs").json()["params"]
    assert listed["catalogNames"] == [{"name": "Products"}]
    assert listed["totalCatalogsCount"] == 1
    assert upsert_items(emulator, "PRODUCTS", {"a": {"n": 1}}).status_code == 202


def test_bulk_upload_takes_at_most_1000_documents(emulator: EmulatorProcess) -> None:
    create_catalog(emulator, "c")
    documents = {f"item-{n}": {"n": n} for n in range(1001)}
    too_many = upsert_items(emulator, "c", documents)
    assert too_many.status_code == 400
    assert too_many.json()["code"] == "BatchTooLarge"
    documents.pop("item-1000")
    assert upsert_items(emulator, "c", documents).status_code == 202
    assert emulator.summary()["catalog_items"] == 1000


def test_items_are_limited_to_30_kb(emulator: EmulatorProcess) -> None:
    create_catalog(emulator, "c")
    overhead = len(json.dumps({"text": ""}, separators=(",", ":")))
    at_limit = {"text": "x" * (MAX_ITEM_BYTES - overhead)}
    assert upsert_items(emulator, "c", {"a": at_limit}).status_code == 202
    over = {"text": "x" * (MAX_ITEM_BYTES - overhead + 1)}
    response = upsert_items(emulator, "c", {"b": over, "c": {"n": 1}})
    assert response.status_code == 400
    assert "30720" in response.json()["msg"]
    assert set(emulator.catalog_items("c")) == {"a"}


def test_field_names_with_periods_and_bad_item_ids_are_refused(emulator: EmulatorProcess) -> None:
    create_catalog(emulator, "c")
    dotted = upsert_items(emulator, "c", {"a": {"outer": {"in.ner": 1}}})
    assert dotted.status_code == 400
    assert "in.ner" in dotted.json()["msg"]
    assert upsert_items(emulator, "c", {"not valid!": {"n": 1}}).status_code == 400
    assert emulator.summary()["catalog_items"] == 0


def test_replace_uploaded_fields_only_merges_otherwise_replaces(emulator: EmulatorProcess) -> None:
    create_catalog(emulator, "c")
    upsert_items(emulator, "c", {"a": {"name": "Mug", "price": 5}})
    upsert_items(emulator, "c", {"a": {"price": 6}}, merge=True)
    assert emulator.catalog_item("c", "a") == {"name": "Mug", "price": 6}
    upsert_items(emulator, "c", {"a": {"price": 7}}, merge=False)
    assert emulator.catalog_item("c", "a") == {"price": 7}


def test_item_put_patch_and_deletes(emulator: EmulatorProcess) -> None:
    create_catalog(emulator, "c")
    put = emulator.api("PUT", "/api/catalogs/c/items/a", json={"value": {"x": 1, "y": 2}})
    assert put.status_code == 202
    patch = emulator.api("PATCH", "/api/catalogs/c/items/a", json={"update": {"y": 3}})
    assert patch.status_code == 202
    assert emulator.catalog_item("c", "a") == {"x": 1, "y": 3}
    emulator.api("PUT", "/api/catalogs/c/items/a", json={"value": {"z": 1}})
    assert emulator.catalog_item("c", "a") == {"z": 1}

    upsert_items(emulator, "c", {"b": {"z": 2}, "d": {"z": 3}})
    assert emulator.api("DELETE", "/api/catalogs/c/items/a").status_code == 202
    deleted = emulator.api("DELETE", "/api/catalogs/c/items", json={"itemIds": ["b", "nope"]})
    assert deleted.status_code == 202
    assert emulator.catalog_items("c") == {"d": {"z": 3}}
    assert emulator.api("GET", "/api/catalogs/c/items/a").status_code == 404


def test_items_page_and_order(emulator: EmulatorProcess) -> None:
    create_catalog(emulator, "c")
    upsert_items(emulator, "c", {f"i{n}": {"rank": (n * 7) % 5} for n in range(5)})
    first = emulator.api("GET", "/api/catalogs/c/items", params={"pageSize": 2}).json()["params"]
    assert [i["itemId"] for i in first["catalogItemsWithProperties"]] == ["i0", "i1"]
    assert first["totalItemsCount"] == 5
    assert "nextPageUrl" in first
    ordered = emulator.api(
        "GET",
        "/api/catalogs/c/items",
        params={"orderBy": "rank", "sortAscending": "true", "pageSize": 5},
    ).json()["params"]["catalogItemsWithProperties"]
    assert [i["value"]["rank"] for i in ordered] == [0, 1, 2, 3, 4]
    assert {"catalogName", "itemId", "lastModified", "size", "value"} <= set(ordered[0])


def test_field_mappings_are_immutable_once_set(emulator: EmulatorProcess) -> None:
    create_catalog(emulator, "c")
    put = emulator.api(
        "PUT",
        "/api/catalogs/c/fieldMappings",
        json={
            "mappingsUpdates": [
                {"fieldName": "price", "fieldType": "double"},
                {
                    "fieldName": "dims",
                    "fieldType": "object",
                    "children": [{"fieldName": "width", "fieldType": "long"}],
                },
            ]
        },
    )
    assert put.status_code == 200
    same = emulator.api(
        "PUT",
        "/api/catalogs/c/fieldMappings",
        json={"mappingsUpdates": [{"fieldName": "price", "fieldType": "double"}]},
    )
    assert same.status_code == 200
    change = emulator.api(
        "PUT",
        "/api/catalogs/c/fieldMappings",
        json={"mappingsUpdates": [{"fieldName": "price", "fieldType": "string"}]},
    )
    assert change.status_code == 400
    unknown_type = emulator.api(
        "PUT",
        "/api/catalogs/c/fieldMappings",
        json={"mappingsUpdates": [{"fieldName": "when", "fieldType": "datetime"}]},
    )
    assert unknown_type.status_code == 400

    upsert_items(emulator, "c", {"a": {"price": 3, "color": "red", "gone": None}})
    assert emulator.field_mappings("c") == {
        "definedMappings": {"dims": "object", "dims.width": "long", "price": "double"},
        "undefinedFields": ["color", "gone"],
    }


def test_catalog_fields_stay_untyped_until_mapped(emulator: EmulatorProcess) -> None:
    """rule catalog-untyped-until-mapped: "You can skip type definition" when items bring
    new fields [support article 360033578351, Defining Data Types for Catalog Item Fields]:
    a first write locks nothing, so later items may bring other types."""
    create_catalog(emulator, "c")
    assert upsert_items(emulator, "c", {"a": {"n": 1}}).status_code == 202
    assert upsert_items(emulator, "c", {"b": {"n": "one"}}).status_code == 202
    assert emulator.catalog_items("c") == {"a": {"n": 1}, "b": {"n": "one"}}
    assert emulator.field_mappings("c") == {"definedMappings": {}, "undefinedFields": ["n"]}


def test_catalog_values_must_match_their_field_types(emulator: EmulatorProcess) -> None:
    """rule catalog-mapped-mismatch (a guess: the documents do not say how a value
    against a mapped type is answered; the stricter reading refuses it)."""
    create_catalog(emulator, "c")
    emulator.api(
        "PUT",
        "/api/catalogs/c/fieldMappings",
        json={"mappingsUpdates": [{"fieldName": "price", "fieldType": "double"}]},
    )
    response = upsert_items(emulator, "c", {"a": {"price": "cheap"}, "b": {"price": 2}})
    assert response.status_code == 400
    error = response.json()["params"]["validationErrors"]["price"]
    assert error == {
        "incomingTypes": ["string"],
        "expectedType": "double",
        "offendingValue": "cheap",
        "category": "catalog",
    }
    assert emulator.catalog_items("c") == {}


def test_deleting_a_catalog_drops_items_and_types(emulator: EmulatorProcess) -> None:
    create_catalog(emulator, "c")
    upsert_items(emulator, "c", {"a": {"n": 1}})
    assert emulator.api("DELETE", "/api/catalogs/c").status_code == 200
    assert emulator.api("DELETE", "/api/catalogs/c").status_code == 404
    create_catalog(emulator, "c")
    assert upsert_items(emulator, "c", {"a": {"n": "one"}}).status_code == 202
