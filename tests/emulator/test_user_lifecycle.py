"""Devices, browser tokens, deleting and forgetting users."""

from __future__ import annotations

from iterable_emulator.testing import EmulatorProcess

from .helpers import bulk_update, track_bulk

DEVICE = {"token": "t1", "platform": "GCM", "applicationName": "app", "dataFields": {"v": 1}}


def test_register_device_token_adds_then_merges(emulator: EmulatorProcess) -> None:
    register = {"email": "a@example.com", "device": DEVICE}
    assert emulator.api("POST", "/api/users/registerDeviceToken", json=register).ok
    again = {**register, "device": {**DEVICE, "dataFields": {"os": "14"}}}
    assert emulator.api("POST", "/api/users/registerDeviceToken", json=again).ok
    profile = emulator.user_by_email("a@example.com")
    assert profile is not None
    [device] = profile["dataFields"]["devices"]
    assert device["dataFields"] == {"v": 1, "os": "14"}
    bad_platform = {**register, "device": {**DEVICE, "platform": "SMS"}}
    assert (
        emulator.api("POST", "/api/users/registerDeviceToken", json=bad_platform).status_code == 400
    )


def test_register_browser_token(emulator: EmulatorProcess) -> None:
    body = {"userId": "u1", "browserToken": "b1"}
    assert emulator.api("POST", "/api/users/registerBrowserToken", json=body).ok
    assert emulator.api("POST", "/api/users/registerBrowserToken", json=body).ok
    profile = emulator.user_by_id("u1")
    assert profile is not None
    assert profile["dataFields"]["browserTokens"] == ["b1"]


def test_delete_user_removes_the_user_and_events(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com", "userId": "u1"}, {"userId": "u2"})
    track_bulk(emulator, {"email": "a@example.com", "eventName": "e"})
    assert emulator.api("DELETE", "/api/users/a@example.com").status_code == 200
    assert emulator.api("DELETE", "/api/users/byUserId/u2").status_code == 200
    assert emulator.summary()["users"] == emulator.summary()["events"] == 0
    missing = emulator.api("DELETE", "/api/users/a@example.com")
    assert missing.status_code == 400
    assert missing.json()["code"] == "UnknownEmailError"


def test_forgotten_users_are_refused_from_then_on(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com", "userId": "u1"})
    forgot = emulator.api("POST", "/api/users/forget", json={"email": "a@example.com"})
    assert forgot.status_code == 200
    assert emulator.user_by_email("a@example.com") is None

    response = bulk_update(emulator, {"email": "a@example.com"}, {"userId": "u1"})
    assert response.json()["failedUpdates"]["forgottenEmails"] == ["a@example.com"]
    assert response.json()["failedUpdates"]["forgottenUserIds"] == ["u1"]
    single = emulator.api("POST", "/api/users/update", json={"email": "a@example.com"})
    assert single.status_code == 409
    assert single.json()["code"] == "ForgottenUserError"
