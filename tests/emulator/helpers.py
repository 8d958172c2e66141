"""Small request builders shared by the emulator tests."""

from __future__ import annotations

from typing import Any

import requests

from iterable_emulator.testing import EmulatorProcess


def bulk_update(emulator: EmulatorProcess, *users: dict[str, Any]) -> requests.Response:
    return emulator.api("POST", "/api/users/bulkUpdate", json={"users": list(users)})


def track_bulk(emulator: EmulatorProcess, *events: dict[str, Any]) -> requests.Response:
    return emulator.api("POST", "/api/events/trackBulk", json={"events": list(events)})


def upsert_items(
    emulator: EmulatorProcess, catalog: str, documents: dict[str, Any], *, merge: bool = True
) -> requests.Response:
    body = {"documents": documents, "replaceUploadedFieldsOnly": merge}
    return emulator.api("POST", f"/api/catalogs/{catalog}/items", json=body)


def create_catalog(emulator: EmulatorProcess, catalog: str) -> None:
    response = emulator.api("POST", f"/api/catalogs/{catalog}")
    assert response.status_code == 201, response.text
