"""The HTTP layer: authentication, routing, body limits and validation against the spec."""

from __future__ import annotations

import json

import requests

from iterable_emulator.app import MAX_BODY_BYTES
from iterable_emulator.testing import EmulatorProcess

from .helpers import bulk_update


def test_missing_or_wrong_api_key_is_401_bad_api_key(emulator: EmulatorProcess) -> None:
    body = {"users": [{"email": "a@example.com"}]}
    missing = requests.post(f"{emulator.url}/api/users/bulkUpdate", json=body, timeout=10)
    wrong = emulator.api(
        "POST", "/api/users/bulkUpdate", json=body, headers={"Api-Key": "not-the-key"}
    )
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json() == {"code": "BadApiKey", "msg": "Invalid API key"}
    assert emulator.summary()["users"] == 0


def test_admin_endpoints_need_no_api_key(emulator: EmulatorProcess) -> None:
    response = requests.get(f"{emulator.url}/_emulator/health", timeout=10)
    assert response.json() == {"status": "ok"}


def test_unknown_route_is_a_json_404_and_logged(emulator: EmulatorProcess) -> None:
    response = emulator.api("GET", "/api/nothing/here")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["code"] == "NotFound"
    [logged] = emulator.requests_log("/api/nothing/here")
    assert (logged["endpoint"], logged["status"]) == ("GET (no such endpoint)", 404)


def test_wrong_method_is_a_json_405(emulator: EmulatorProcess) -> None:
    response = emulator.api("PUT", "/api/events/trackBulk", json={"events": []})
    assert response.status_code == 405
    assert response.json()["code"] == "BadParams"


def test_malformed_json_is_400_bad_json_body(emulator: EmulatorProcess) -> None:
    response = emulator.api("POST", "/api/users/bulkUpdate", data=b'{"users": [')
    assert response.status_code == 400
    assert response.json()["code"] == "BadJsonBody"


def test_body_that_breaks_the_spec_schema_is_400_bad_params_naming_the_field(
    emulator: EmulatorProcess,
) -> None:
    response = emulator.api(
        "POST",
        "/api/events/trackBulk",
        json={"events": [{"email": "a@example.com", "eventName": "e", "createdAt": "yesterday"}]},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "BadParams"
    assert response.json()["msg"].startswith("events[0].createdAt:")


def test_missing_required_field_is_400_bad_params(emulator: EmulatorProcess) -> None:
    response = emulator.api("POST", "/api/events/trackBulk", json={"events": [{"email": "a@b.co"}]})
    assert response.status_code == 400
    assert response.json() == {
        "msg": "events[0]: 'eventName' is a required property",
        "code": "BadParams",
        "params": None,
    }


def test_integers_are_draft_4_integers(emulator: EmulatorProcess) -> None:
    """Swagger 2.0 schemas are JSON Schema draft 4, where 1.0 is not an integer."""
    event = {"email": "a@example.com", "eventName": "e", "createdAt": 1.0}
    response = emulator.api("POST", "/api/events/track", json=event)
    assert response.status_code == 400
    assert response.json()["msg"].startswith("createdAt:")


def test_body_over_4_mb_is_400_batch_too_large(emulator: EmulatorProcess) -> None:
    def body_of(size: int) -> bytes:
        skeleton = json.dumps({"users": [{"email": "a@example.com", "dataFields": {"pad": ""}}]})
        padding = size - len(skeleton)
        return skeleton.replace('"pad": ""', '"pad": "' + "x" * padding + '"').encode()

    at_limit = emulator.api("POST", "/api/users/bulkUpdate", data=body_of(MAX_BODY_BYTES))
    assert at_limit.status_code == 200, at_limit.text
    over = emulator.api("POST", "/api/users/bulkUpdate", data=body_of(MAX_BODY_BYTES + 1))
    assert over.status_code == 400
    assert over.json()["code"] == "BatchTooLarge"
    assert emulator.endpoint_stats("POST /api/users/bulkUpdate")["max_body_bytes"] == (
        MAX_BODY_BYTES + 1
    )


def test_every_answer_is_json(emulator: EmulatorProcess) -> None:
    response = bulk_update(emulator, {"email": "a@example.com"})
    assert response.headers["Content-Type"] == "application/json"
