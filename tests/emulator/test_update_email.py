"""POST /api/users/updateEmail (the spec's updateEmail, body UpdateEmailRequest)."""

from __future__ import annotations

from typing import Any

import pytest

from iterable_emulator.testing import EmulatorProcess

from .helpers import bulk_update, track_bulk

UPDATE_EMAIL = "/api/users/updateEmail"


def test_the_user_and_its_events_move_to_the_new_email(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "old@example.com", "userId": "u1", "dataFields": {"a": 1}})
    track_bulk(emulator, {"email": "old@example.com", "eventName": "opened"})
    body = {"currentEmail": "old@example.com", "newEmail": "new@example.com"}
    response = emulator.api("POST", UPDATE_EMAIL, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["code"] == "Success"
    assert emulator.user_by_email("old@example.com") is None
    user = emulator.user_by_email("new@example.com")
    assert user is not None
    assert (user["userId"], user["dataFields"]["a"]) == ("u1", 1)
    assert [e["eventName"] for e in emulator.events_for(email="new@example.com")] == ["opened"]


def test_current_user_id_names_the_user(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"userId": "u2"})
    body = {"currentUserId": "u2", "newEmail": "u2@example.com"}
    assert emulator.api("POST", UPDATE_EMAIL, json=body).status_code == 200
    user = emulator.user_by_id("u2")
    assert user is not None
    assert user["email"] == "u2@example.com"


def test_current_email_takes_precedence(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com", "userId": "ua"}, {"userId": "ub"})
    body = {"currentEmail": "a@example.com", "currentUserId": "ub", "newEmail": "c@example.com"}
    assert emulator.api("POST", UPDATE_EMAIL, json=body).status_code == 200
    renamed = emulator.user_by_id("ua")
    assert renamed is not None
    assert renamed["email"] == "c@example.com"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        # Support article "Updating a User's Email Address": an unknown current user
        # is BadParams, a taken new email EmailAlreadyExists.
        ({"currentEmail": "nobody@example.com", "newEmail": "x@example.com"}, 400, "BadParams"),
        ({"currentUserId": "nobody", "newEmail": "x@example.com"}, 400, "BadParams"),
        ({"currentEmail": "a@example.com", "newEmail": "b@example.com"}, 409, "EmailAlreadyExists"),
        (
            {"currentEmail": "a@example.com", "newEmail": "not-an-email"},
            400,
            "InvalidEmailAddressError",
        ),
        ({"newEmail": "x@example.com"}, 400, "BadParams"),
        ({"currentEmail": "a@example.com"}, 400, "BadParams"),  # newEmail is required
    ],
)
def test_refusals(emulator: EmulatorProcess, body: dict[str, Any], status: int, code: str) -> None:
    bulk_update(emulator, {"email": "a@example.com"}, {"email": "b@example.com"})
    response = emulator.api("POST", UPDATE_EMAIL, json=body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert emulator.user_by_email("a@example.com") is not None


def test_a_forgotten_new_email_is_refused(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com"}, {"email": "gone@example.com"})
    assert emulator.api("POST", "/api/users/forget", json={"email": "gone@example.com"}).ok
    body = {"currentEmail": "a@example.com", "newEmail": "gone@example.com"}
    response = emulator.api("POST", UPDATE_EMAIL, json=body)
    # 409 [spec: updateEmail]; the code and message as the support article shows them.
    assert (response.status_code, response.json()["code"]) == (409, "EmailAlreadyExists")
    assert response.json()["msg"] == (
        "Cannot change user a@example.com to gone@example.com. New email is on the forgotten list"
    )


def test_messages_name_the_change(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com"}, {"email": "b@example.com"})
    unknown = {"currentEmail": "old@example.com", "newEmail": "new@example.com"}
    taken = {"currentEmail": "a@example.com", "newEmail": "b@example.com"}
    assert emulator.api("POST", UPDATE_EMAIL, json=unknown).json()["msg"] == (
        "Cannot change user Some(old@example.com) to new@example.com. User does not exist"
    )
    assert emulator.api("POST", UPDATE_EMAIL, json=taken).json()["msg"] == (
        "Cannot change user Some(a@example.com) to b@example.com. New email already exists"
    )
