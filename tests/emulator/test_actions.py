"""Journeys and sends: triggerWorkflow and the six ``target`` operations, read back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from iterable_emulator.cli import build_parser, config_from
from iterable_emulator.emulator import Emulator
from iterable_emulator.testing import EmulatorError, EmulatorProcess

from .helpers import bulk_update

TRIGGER = "/api/workflows/triggerWorkflow"
CHANNELS = ["email", "push", "sms", "inApp", "webPush", "whatsApp"]


def target(emulator: EmulatorProcess, channel: str, body: dict[str, Any]) -> requests.Response:
    return emulator.api("POST", f"/api/{channel}/target", json=body)


def refusal(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def send_at(days: float) -> str:
    moment = datetime.now(timezone.utc) + timedelta(days=days)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


# triggerWorkflow -------------------------------------------------------------------------


def test_a_triggered_journey_is_recorded_in_order(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com"}, {"userId": "u2"})
    first = {"workflowId": 4321, "email": "a@example.com", "dataFields": {"renewal": "2025-01-31"}}
    response = emulator.api("POST", TRIGGER, json=first)
    assert response.status_code == 200, response.text
    assert response.json()["code"] == "Success"
    assert emulator.api("POST", TRIGGER, json={"workflowId": 7, "userId": "u2"}).ok
    assert emulator.journeys() == [
        {
            "workflowId": 4321,
            "email": "a@example.com",
            "userId": None,
            "listId": None,
            "dataFields": {"renewal": "2025-01-31"},
        },
        {"workflowId": 7, "email": None, "userId": "u2", "listId": None, "dataFields": {}},
    ]
    assert [j["userId"] for j in emulator.journeys(workflow_id=7)] == ["u2"]
    # The dataFields are the trigger's, not the profile's.
    user = emulator.user_by_email("a@example.com")
    assert user is not None
    assert user["dataFields"] == {}


def test_a_journey_for_a_list(emulator: EmulatorProcess) -> None:
    list_id = emulator.api("POST", "/api/lists", json={"name": "renewals"}).json()["listId"]
    assert emulator.api("POST", TRIGGER, json={"workflowId": 1, "listId": list_id}).ok
    assert emulator.journeys()[0]["listId"] == list_id
    unknown = emulator.api("POST", TRIGGER, json={"workflowId": 1, "listId": list_id + 1})
    assert refusal(unknown) == (400, "BadParams")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"email": "a@example.com"}, 400, "BadParams"),  # workflowId is required
        ({"workflowId": "4321", "email": "a@example.com"}, 400, "BadParams"),
        ({"workflowId": 1.5, "email": "a@example.com"}, 400, "BadParams"),
        ({"workflowId": 1, "email": "a@example.com", "dataFields": []}, 400, "BadParams"),
        ({"workflowId": 1}, 400, "BadParams"),  # no user and no list
        ({"workflowId": 1, "email": "a@example.com", "userId": "u1"}, 400, "BadParams"),
        ({"workflowId": 1, "email": "a@example.com", "listId": 1}, 400, "BadParams"),
        ({"workflowId": 0, "email": "a@example.com"}, 400, "BadParams"),  # unknown workflow
        ({"workflowId": 1, "email": "nobody@example.com"}, 400, "UnknownEmailError"),
        ({"workflowId": 1, "userId": "nobody"}, 400, "UnknownUserIdError"),
        ({"workflowId": 1, "email": "not an email"}, 400, "InvalidEmailAddressError"),
    ],
)
def test_trigger_refusals(
    emulator: EmulatorProcess, body: dict[str, Any], status: int, code: str
) -> None:
    bulk_update(emulator, {"email": "a@example.com", "userId": "u1"})
    assert refusal(emulator.api("POST", TRIGGER, json=body)) == (status, code)
    assert emulator.journeys() == []


def test_known_workflows_are_a_setting(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com"})
    assert emulator.update_settings(workflows=[10, 11])["workflows"] == [10, 11]
    body = {"workflowId": 12, "email": "a@example.com"}
    response = emulator.api("POST", TRIGGER, json=body)
    assert refusal(response) == (400, "BadParams")
    assert response.json()["msg"] == "Workflow 12 does not exist"
    assert emulator.api("POST", TRIGGER, json={**body, "workflowId": 11}).ok
    emulator.reset()  # back to the start-up setting: any positive id
    bulk_update(emulator, {"email": "a@example.com"})
    assert emulator.api("POST", TRIGGER, json=body).ok


# target ----------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
def test_each_channel_records_its_sends(emulator: EmulatorProcess, channel: str) -> None:
    bulk_update(emulator, {"email": "a@example.com", "userId": "u1"})
    body = {
        "campaignId": 99,
        "recipientEmail": "a@example.com",
        "dataFields": {"firstName": "Ada"},
        "sendAt": "2020-01-01 00:00:00",  # in the past: sent immediately
        "metadata": {"run": 1},
    }
    response = target(emulator, channel, body)
    assert response.status_code == 200, response.text
    assert response.json()["code"] == "Success"
    assert target(emulator, channel, {"campaignId": 98, "recipientUserId": "u1"}).ok
    with_metadata = channel in ("email", "push")  # only their requests define metadata
    assert emulator.sends(channel=channel) == [
        {
            "channel": channel,
            "campaignId": 99,
            "recipientEmail": "a@example.com",
            "recipientUserId": None,
            "dataFields": {"firstName": "Ada"},
            "sendAt": "2020-01-01 00:00:00",
            "allowRepeatMarketingSends": True,
            "metadata": {"run": 1} if with_metadata else None,
        },
        {
            "channel": channel,
            "campaignId": 98,
            "recipientEmail": None,
            "recipientUserId": "u1",
            "dataFields": {},
            "sendAt": None,
            "allowRepeatMarketingSends": True,
            "metadata": None,
        },
    ]
    assert [s["campaignId"] for s in emulator.sends(campaign_id=98)] == [98]
    others = [c for c in CHANNELS if c != channel]
    assert all(emulator.sends(channel=other) == [] for other in others)
    # Template fields do not touch the profile.
    user = emulator.user_by_email("a@example.com")
    assert user is not None
    assert user["dataFields"] == {}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"recipientEmail": "a@example.com"}, 400, "BadParams"),  # campaignId is required
        ({"campaignId": "99", "recipientEmail": "a@example.com"}, 400, "BadParams"),
        ({"campaignId": 99, "recipientEmail": 5}, 400, "BadParams"),
        ({"campaignId": 99, "recipientEmail": "a@example.com", "sendAt": 1}, 400, "BadParams"),
        (
            {"campaignId": 99, "recipientEmail": "a@example.com", "allowRepeatMarketingSends": 1},
            400,
            "BadParams",
        ),
        ({"campaignId": 99}, 400, "BadParams"),  # no recipient
        (
            {"campaignId": 99, "recipientEmail": "a@example.com", "recipientUserId": "u1"},
            400,
            "BadParams",
        ),
        ({"campaignId": -3, "recipientEmail": "a@example.com"}, 400, "BadParams"),
        ({"campaignId": 99, "recipientEmail": "nobody@example.com"}, 400, "UnknownEmailError"),
        ({"campaignId": 99, "recipientUserId": "nobody"}, 400, "UnknownUserIdError"),
        ({"campaignId": 99, "recipientEmail": "x@"}, 400, "InvalidEmailAddressError"),
        ({"campaignId": 99, "recipientUserId": "x" * 53}, 400, "InvalidUserIdError"),
    ],
)
def test_send_refusals(
    emulator: EmulatorProcess, body: dict[str, Any], status: int, code: str
) -> None:
    bulk_update(emulator, {"email": "a@example.com", "userId": "u1"})
    assert refusal(target(emulator, "email", body)) == (status, code)
    assert emulator.sends() == []


@pytest.mark.parametrize(
    ("when", "accepted"),
    [
        # Days from now, computed when the test runs: at collection, pytest-xdist's
        # workers would each compute their own and disagree on the test ids.
        (30, True),
        (364, True),
        (366, False),  # "up to 365 days in the future"
        ("2025-01-31T10:00:00Z", False),  # not YYYY-MM-DD HH:MM:SS
        ("2025-1-31 10:00:00", False),
        ("2025-02-30 10:00:00", False),
    ],
)
def test_send_at_is_checked(emulator: EmulatorProcess, when: str | int, accepted: bool) -> None:
    when = send_at(when) if isinstance(when, int) else when
    bulk_update(emulator, {"email": "a@example.com"})
    response = target(
        emulator, "sms", {"campaignId": 5, "recipientEmail": "a@example.com", "sendAt": when}
    )
    assert response.ok is accepted, response.text
    assert [s["sendAt"] for s in emulator.sends()] == ([when] if accepted else [])


def test_known_campaigns_are_a_setting_per_channel(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com"})
    settings = emulator.update_settings(campaigns={"email": [99], "sms": [7, 5]})
    assert settings["campaigns"] == {"email": [99], "sms": [5, 7]}
    body = {"campaignId": 99, "recipientEmail": "a@example.com"}
    assert target(emulator, "email", body).ok
    wrong_channel = target(emulator, "sms", body)
    assert refusal(wrong_channel) == (400, "BadParams")
    assert wrong_channel.json()["msg"] == "Campaign 99 is not a sms campaign of this project"
    assert refusal(target(emulator, "push", body)) == (400, "BadParams")  # no push campaigns
    assert target(emulator, "sms", {**body, "campaignId": 7}).ok
    assert emulator.update_settings(campaigns=None)["campaigns"] is None
    assert target(emulator, "push", body).ok
    assert [s["channel"] for s in emulator.sends()] == ["email", "sms", "push"]


@pytest.mark.parametrize(
    "change",
    [
        {"campaigns": {"fax": [1]}},
        {"campaigns": {"email": [0]}},
        {"campaigns": {"email": "99"}},
        {"campaigns": [99]},
        {"workflows": [True]},
        {"workflows": 5},
    ],
)
def test_bad_campaign_and_workflow_settings_are_refused(
    emulator: EmulatorProcess, change: dict[str, Any]
) -> None:
    with pytest.raises(EmulatorError, match="400"):
        emulator.update_settings(**change)
    assert emulator.update_settings()["campaigns"] is None


def test_forgotten_recipients_are_refused(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com", "userId": "u1"})
    assert emulator.api("POST", "/api/users/forget", json={"email": "a@example.com"}).ok
    for response in (
        target(emulator, "email", {"campaignId": 1, "recipientEmail": "a@example.com"}),
        target(emulator, "push", {"campaignId": 1, "recipientUserId": "u1"}),
        emulator.api("POST", TRIGGER, json={"workflowId": 1, "email": "a@example.com"}),
    ):
        assert refusal(response) == (409, "ForgottenUserError")
    assert emulator.sends() == emulator.journeys() == []


# Read-back -------------------------------------------------------------------------------


def test_summary_counts_journeys_and_sends_and_reset_clears_them(
    emulator: EmulatorProcess,
) -> None:
    bulk_update(emulator, {"email": "a@example.com"})
    assert emulator.api("POST", TRIGGER, json={"workflowId": 1, "email": "a@example.com"}).ok
    for channel in ("email", "email", "sms"):
        assert target(emulator, channel, {"campaignId": 1, "recipientEmail": "a@example.com"}).ok
    summary = emulator.summary()
    assert (summary["journeys"], summary["sends"]) == (1, 3)
    assert summary["sends_per_channel"] == {"email": 2, "sms": 1}
    assert emulator.endpoint_stats("POST /api/email/target")["requests"] == 2
    emulator.reset()
    assert emulator.journeys() == emulator.sends() == []
    assert (emulator.summary()["journeys"], emulator.summary()["sends"]) == (0, 0)


def test_read_back_filters_are_checked(emulator: EmulatorProcess) -> None:
    for path in ("sends?channel=fax", "sends?campaignId=x", "journeys?workflowId=x"):
        response = requests.get(f"{emulator.url}/_emulator/{path}", timeout=10)
        assert response.status_code == 400, path


def test_campaign_and_workflow_flags() -> None:
    args = build_parser().parse_args(
        ["--campaign", "email:99", "--campaign", "sms:7", "--workflow", "4321"]
    )
    config = config_from(args)
    assert config.campaigns == {"email": frozenset({99}), "sms": frozenset({7})}
    assert config.workflows == frozenset({4321})
    emulator = Emulator(config)
    settings = emulator.settings()
    emulator.store.close()
    assert (settings["campaigns"], settings["workflows"]) == (
        {"email": [99], "sms": [7]},
        [4321],
    )
    defaults = config_from(build_parser().parse_args([]))
    assert (defaults.campaigns, defaults.workflows) == (None, None)
    with pytest.raises(ValueError, match="CHANNEL:ID"):
        config_from(build_parser().parse_args(["--campaign", "email"]))
