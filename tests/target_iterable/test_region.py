"""``region: eu`` sends every request to Iterable's EU host."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from iterable_emulator.testing import EmulatorProcess
from target_iterable.target import TargetIterable
from tests.singer_io import record, schema, singer_lines

EU_HOST = "https://api.eu.iterable.com"


class ForwardToEmulator(HTTPAdapter):
    """Stands in for the EU data centre: notes each URL, forwards it to the emulator."""

    def __init__(self, emulator_url: str) -> None:
        super().__init__()
        self.emulator_url = emulator_url
        self.urls: list[str] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        assert request.url is not None
        self.urls.append(request.url)
        parts = urlsplit(request.url)
        request.url = f"{self.emulator_url}{parts.path}" + (
            f"?{parts.query}" if parts.query else ""
        )
        return super().send(request, **kwargs)


def test_every_object_goes_through_the_eu_host(tmp_path: Path, emulator: EmulatorProcess) -> None:
    target = TargetIterable(
        config={
            "api_key": emulator.api_key,
            "region": "eu",
            "rejects_path": str(tmp_path / "rejects.jsonl"),
            "stream_options": {"users": {"on_delete": "delete"}},
        }
    )
    forward = ForwardToEmulator(emulator.url)
    target.delivery.client._session.mount(EU_HOST, forward)
    item = {"id": "1", "name": "Mug", "price": 2}
    messages = [
        schema("users", {"email": {"type": "string"}}),
        record("users", {"email": "a@x.io"}),
        record("users", {"email": "a@x.io", "_sdc_deleted_at": "2024-01-01T00:00:00Z"}),
        record("users", {"email": "a@x.io"}),
        schema("events", {"email": {"type": "string"}}),
        record("events", {"email": "a@x.io", "eventName": "seen"}),
        schema("catalog-products", {"itemId": {"type": "string"}}, ["itemId"]),
        record("catalog-products", {"itemId": "A", "name": "x"}),
        schema("purchases", {"email": {"type": "string"}}),
        record("purchases", {"email": "a@x.io", "items": [item]}),
        schema("carts", {"email": {"type": "string"}}),
        record("carts", {"email": "a@x.io", "items": [item]}),
        schema("devices", {"email": {"type": "string"}}),
        record("devices", {"email": "a@x.io", "browserToken": "b"}),
        schema("subscriptions", {"email": {"type": "string"}}),
        record("subscriptions", {"email": "a@x.io", "emailListIds": []}),
    ]
    target.listen(io.BytesIO(singer_lines(messages).encode()))
    target.log_summary()

    assert {urlsplit(url).netloc for url in forward.urls} == {"api.eu.iterable.com"}
    paths = {urlsplit(url).path for url in forward.urls}
    assert {
        "/api/users/bulkUpdate",
        "/api/users/a@x.io",
        "/api/events/trackBulk",
        "/api/catalogs/products/items",
        "/api/commerce/trackPurchase",
        "/api/commerce/updateCart",
        "/api/users/registerBrowserToken",
        "/api/users/bulkUpdateSubscriptions",
    } <= paths
    assert emulator.user_by_email("a@x.io") is not None
