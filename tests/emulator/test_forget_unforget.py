"""POST /api/users/forget and /api/users/unforget (UserRequest): GDPR, both ways."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from iterable_emulator.store import Store
from iterable_emulator.testing import EmulatorProcess

from .helpers import bulk_update, track_bulk

FORGET = "/api/users/forget"
UNFORGET = "/api/users/unforget"


def test_unforget_lets_a_forgotten_user_be_written_again(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com", "userId": "u1", "dataFields": {"n": 1}})
    track_bulk(emulator, {"email": "a@example.com", "eventName": "opened"})
    assert emulator.api("POST", FORGET, json={"email": "a@example.com"}).ok
    refused = emulator.api("POST", "/api/users/update", json={"userId": "u1"})
    assert (refused.status_code, refused.json()["code"]) == (409, "ForgottenUserError")

    response = emulator.api("POST", UNFORGET, json={"email": "A@example.com"})
    assert response.status_code == 200, response.text
    assert response.json()["code"] == "Success"
    # Both identifiers forgotten with the user are lifted; the deleted data stays gone.
    assert emulator.summary()["forgotten_identifiers"] == 0
    assert emulator.user_by_email("a@example.com") is None
    written = bulk_update(emulator, {"email": "a@example.com", "userId": "u1"})
    assert written.json()["successCount"] == 1
    user = emulator.user_by_email("a@example.com")
    assert user is not None
    assert user["dataFields"] == {}
    assert emulator.events_for(email="a@example.com") == []


def test_unforget_lifts_only_the_named_users_identifiers(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com", "userId": "ua"}, {"userId": "ub"})
    assert emulator.api("POST", FORGET, json={"userId": "ua"}).ok
    assert emulator.api("POST", FORGET, json={"userId": "ub"}).ok
    assert emulator.summary()["forgotten_identifiers"] == 3
    assert emulator.api("POST", UNFORGET, json={"userId": "ua"}).ok
    assert emulator.summary()["forgotten_identifiers"] == 1
    still = bulk_update(emulator, {"userId": "ub"})
    assert still.json()["failedUpdates"]["forgottenUserIds"] == ["ub"]


@pytest.mark.parametrize(
    ("project_type", "body", "status", "code"),
    [
        ("hybrid", {}, 400, "BadParams"),
        ("hybrid", {"email": "a@example.com", "userId": "u1"}, 400, "BadParams"),  # not both
        ("hybrid", {"email": 5}, 400, "BadParams"),
        ("hybrid", {"email": "x"}, 400, "InvalidEmailAddressError"),
        ("hybrid", {"email": "never@example.com"}, 400, "BadParams"),  # not forgotten
        ("email", {"userId": "u1"}, 400, "BadParams"),  # email-based: by email
        ("userId", {"email": "a@example.com"}, 400, "BadParams"),  # userId-based: by userId
    ],
)
def test_unforget_refusals(
    emulator: EmulatorProcess, project_type: str, body: dict[str, Any], status: int, code: str
) -> None:
    bulk_update(emulator, {"email": "a@example.com", "userId": "u1"})
    assert emulator.api("POST", FORGET, json={"email": "a@example.com"}).ok
    emulator.update_settings(project_type=project_type)
    response = emulator.api("POST", UNFORGET, json=body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert emulator.summary()["forgotten_identifiers"] == 2


def test_forget_names_one_identifier(emulator: EmulatorProcess) -> None:
    """UserRequest: "Provide an email or a userId (but not both)"."""
    bulk_update(emulator, {"email": "a@example.com", "userId": "u1"})
    both = emulator.api("POST", FORGET, json={"email": "a@example.com", "userId": "u1"})
    assert (both.status_code, both.json()["code"]) == (400, "BadParams")
    assert emulator.user_by_email("a@example.com") is not None


def test_unforget_is_limited_like_forget(emulator: EmulatorProcess) -> None:
    # unforget: 3 requests/second, per project; 0.34 x 3 = 1 a second.
    emulator.update_settings(rate_limits=True, rate_limit_multiplier=0.34)
    statuses = [
        emulator.api("POST", UNFORGET, json={"email": "a@example.com"}).status_code
        for _ in range(2)
    ]
    assert statuses == [400, 429]  # not forgotten, then the limit


def test_a_database_of_an_older_emulator_gets_the_new_column(tmp_path: Path) -> None:
    """Forgotten identifiers kept before groups existed are unforgotten one by one."""
    path = str(tmp_path / "old.db")
    with closing(sqlite3.connect(path)) as old:
        old.execute("CREATE TABLE forgotten (kind TEXT, value TEXT, PRIMARY KEY (kind, value))")
        old.execute("INSERT INTO forgotten VALUES ('email', 'a@example.com')")
        old.commit()
    store = Store(path)
    try:
        store.users.unforget({"email": "a@example.com"})
        store.users.forget({"userId": "u9"})
        assert store.summary()["forgotten_identifiers"] == 1
    finally:
        store.close()
