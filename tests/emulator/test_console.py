"""The emulator's console: HTML pages showing what landed, for people, not loaders.

Most tests drive the WSGI app in-process (werkzeug's test client); the ones about
serving (not counted, not faulted) go through a real emulator process, and one
opens the console in a real headless Chromium after the real target loaded a user.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from iterable_emulator.app import EmulatorApp
from iterable_emulator.emulator import Emulator
from iterable_emulator.testing import EmulatorProcess
from tests.singer_io import record, run_target, schema

API_KEY = {"Api-Key": "test-api-key"}
HOSTILE = "<script>alert(1)</script>"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def console() -> Iterator[Client]:
    """An emulator holding one user with typed fields, two events, a catalog and a list."""
    emulator = Emulator()
    client = Client(EmulatorApp(emulator))
    users = [
        {
            "email": "ada@example.com",
            "userId": "ada-1",
            "dataFields": {"plan": "pro", "visits": 5, "address": {"city": "London"}},
        },
        {"userId": "bob/2", "dataFields": {"note": HOSTILE}},
    ]
    events = [
        {"email": "ada@example.com", "eventName": "signup", "dataFields": {"source": "ad"}},
        {"email": "ada@example.com", "eventName": HOSTILE},
    ]
    _api(client, "/api/users/bulkUpdate", {"users": users})
    _api(client, "/api/events/trackBulk", {"events": events})
    _api(client, "/api/catalogs/products", None)
    documents = {"sku-1": {"name": "Lamp", "price": 9.5}}
    _api(
        client,
        "/api/catalogs/products/items",
        {"documents": documents, "replaceUploadedFieldsOnly": False},
    )
    _api(client, "/api/lists", {"name": "Newsletter"})
    yield client
    emulator.store.close()


def _api(client: Client, path: str, body: Any) -> None:
    response = client.post(path, json=body, headers=API_KEY)
    assert 200 <= response.status_code < 300, response.get_data(as_text=True)


def _page(client: Client, path: str, status: int = 200) -> str:
    response: TestResponse = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def _rows(page: str) -> list[str]:
    return re.findall(r"<tr[^>]*>.*?</tr>", page)


@pytest.mark.parametrize(
    ("path", "shows"),
    [
        ("/", "What landed"),
        ("/users", "ada@example.com"),
        ("/users/ada@example.com", "signup"),
        ("/users/byUserId/bob/2", "bob/2"),
        ("/catalogs", "products"),
        ("/catalogs/products", "Lamp"),
        ("/lists", "Newsletter"),
        ("/requests", "POST /api/users/bulkUpdate"),
    ],
)
def test_each_page_renders_what_landed(console: Client, path: str, shows: str) -> None:
    page = _page(console, path)
    assert page.startswith("<!doctype html>")
    assert shows in page


@pytest.mark.parametrize(
    "cells",
    [">users</a></td><td>2</td>", "<td>events</td><td>2</td>", "<td>catalog items</td><td>1</td>"],
)
def test_overview_counts_what_landed(console: Client, cells: str) -> None:
    assert any(cells in row for row in _rows(_page(console, "/")))


def test_search_finds_a_user_by_email_or_user_id(console: Client) -> None:
    by_email = _page(console, "/users?q=ADA@EXAMPLE")
    assert "ada@example.com" in by_email
    assert "bob/2" not in by_email
    by_user_id = _page(console, "/users?q=bob")
    assert "bob/2" in by_user_id
    assert "ada@example.com" not in by_user_id
    assert "ada@example.com" not in _page(console, "/users?q=nobody")


def test_search_takes_like_wildcards_literally(console: Client) -> None:
    assert "ada@example.com" not in _page(console, "/users?q=%25")
    assert "ada@example.com" not in _page(console, "/users?q=_")


@pytest.mark.parametrize(
    "cells",
    [
        '<td>visits</td><td>long</td><td class="value">5</td>',
        '<td>plan</td><td>string</td><td class="value">&quot;pro&quot;</td>',
        "<td>address.city</td><td>string</td>",
    ],
)
def test_user_page_shows_each_field_with_its_locked_type(console: Client, cells: str) -> None:
    assert any(cells in row for row in _rows(_page(console, "/users/ada@example.com")))


def test_user_page_lists_the_users_events(console: Client) -> None:
    page = _page(console, "/users/ada@example.com")
    events = [row for row in _rows(page) if "customEvent" in row]
    assert len(events) == 2
    assert any("<td>signup</td>" in row and "source" in row for row in events)


def test_hostile_values_are_escaped(console: Client) -> None:
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    field_page = _page(console, "/users/byUserId/bob/2")
    event_page = _page(console, "/users/ada@example.com")
    for page in (field_page, event_page, _page(console, "/")):
        assert "<script" not in page
    assert escaped in field_page
    assert f"<td>{escaped}</td>" in event_page


def test_pages_forbid_scripts(console: Client) -> None:
    policy = console.get("/").headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy


def test_unknown_user_or_catalog_is_a_404_page(console: Client) -> None:
    assert "No user nobody@example.com" in _page(console, "/users/nobody@example.com", 404)
    assert "No catalog shoes" in _page(console, "/catalogs/shoes", 404)


def test_failed_requests_are_marked(console: Client) -> None:
    console.post("/api/users/bulkUpdate", json={"users": []}, headers={"Api-Key": "wrong"})
    rows = _rows(_page(console, "/requests"))[1:]  # after the header row
    failed = [row for row in rows if row.startswith('<tr class="failed">')]
    assert len(failed) == 1
    assert "<td>401</td>" in failed[0]
    assert "BadApiKey" in failed[0]  # the answer says why
    assert len(rows) == 6
    only_failed = _rows(_page(console, "/requests?failed=1"))[1:]
    assert only_failed == failed


def test_console_answers_loopback_host_names_only(console: Client) -> None:
    assert console.get("/", headers={"Host": "127.0.0.1:8089"}).status_code == 200
    assert console.get("/", headers={"Host": "attacker.example"}).status_code == 403
    remote = console.get("/", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert remote.status_code == 403


def test_other_methods_on_console_paths_go_to_the_api(console: Client) -> None:
    response = console.post("/users", json={})
    assert response.status_code == 404
    assert response.json == {"msg": "No endpoint POST /users", "code": "NotFound"}


def test_console_is_not_counted_or_faulted(emulator: EmulatorProcess) -> None:
    emulator.set_faults(error_rate=1.0, drop_rate=0.0)
    for path in ("/", "/users", "/requests", "/favicon.ico"):
        response = emulator.api("GET", path, headers={"Api-Key": "none"})
        assert response.status_code in (200, 204), (path, response.text)
    emulator.set_faults()
    assert emulator.stats()["total"]["requests"] == 0
    assert emulator.requests_log() == []


# A real browser ------------------------------------------------------------------------

USER_PROPERTIES = {
    "email": {"type": "string"},
    "plan": {"type": "string"},
    "lifetime_value": {"type": "number"},
}


def test_a_browser_sees_the_user_the_target_loaded(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    config = {
        "api_key": emulator.api_key,
        "api_base_url": emulator.url,
        "sync_state_url": str(tmp_path / "sync.db"),
    }
    messages = [
        schema("users", USER_PROPERTIES, ["email"]),
        record("users", {"email": "grace@example.com", "plan": "team", "lifetime_value": 12}),
    ]
    run = run_target(tmp_path, config, messages)
    assert run.returncode == 0, run.stderr

    listing = _dump_dom(f"{emulator.url}/users", tmp_path)
    assert ">grace@example.com</a>" in listing
    profile = _dump_dom(f"{emulator.url}/users/grace@example.com", tmp_path)
    assert re.search(r"<td>lifetime_value</td>\s*<td>double</td>", profile), profile
    assert re.search(r"<td>plan</td>\s*<td>string</td>", profile), profile


def _dump_dom(url: str, tmp_path: Path) -> str:
    """The page as Chromium built it: headless, offline but for the emulator."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the console's browser test needs Debian's chromium; "
            "install it with: bash -c 'source scripts/bootstrap.sh && ensure_chromium'"
        )
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",  # the test may run as root, where Chromium's sandbox refuses to start
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout
