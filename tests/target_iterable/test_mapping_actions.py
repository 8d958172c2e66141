"""Action records → request bodies, per the spec's request models (table tests)."""

from __future__ import annotations

from typing import Any

import pytest

from target_iterable.adapters.email_updates import email_update_payload
from target_iterable.iterable.checks import ProjectType
from target_iterable.mapping.actions import (
    journey_payload,
    merge_payload,
    send_payload,
    user_action,
)
from target_iterable.reasons import Reason, RecordRejected


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            {"email": "a@x.io", "renewal": "2025-01-31", "_sdc_batched_at": "x"},
            {"workflowId": 7, "email": "a@x.io", "dataFields": {"renewal": "2025-01-31"}},
        ),
        ({"userId": 12}, {"workflowId": 7, "userId": "12"}),
        (
            {"listId": 3, "plan": "pro"},
            {"workflowId": 7, "listId": 3, "dataFields": {"plan": "pro"}},
        ),
    ],
)
def test_journey_payloads(record: dict[str, Any], expected: dict[str, Any]) -> None:
    assert journey_payload(record, {}, 7) == expected


def test_send_payloads_name_the_recipient_and_keep_template_fields() -> None:
    record = {
        "email": "a@x.io",
        "sendAt": "2025-02-01 10:00:00 +00:00",
        "metadata": {"run": 1},
        "firstName": "Ada",
    }
    assert send_payload(record, {}, 99) == {
        "campaignId": 99,
        "recipientEmail": "a@x.io",
        "sendAt": "2025-02-01 10:00:00 +00:00",
        "metadata": {"run": 1},
        "dataFields": {"firstName": "Ada"},
    }
    assert send_payload({"userId": "u1"}, {}, 5) == {"campaignId": 5, "recipientUserId": "u1"}


def test_a_send_without_a_recipient_is_refused() -> None:
    with pytest.raises(RecordRejected) as refused:
        send_payload({"firstName": "Ada"}, {}, 5)
    assert refused.value.reason is Reason.MISSING_IDENTITY


def test_merges_name_a_source_and_a_destination() -> None:
    assert merge_payload({"sourceEmail": "old@x.io", "destinationUserId": "u9"}) == {
        "sourceEmail": "old@x.io",
        "destinationUserId": "u9",
    }
    with pytest.raises(RecordRejected, match="destination: record has neither"):
        merge_payload({"sourceEmail": "old@x.io"})
    with pytest.raises(RecordRejected, match="one user"):
        merge_payload({"sourceEmail": "a@x.io", "destinationEmail": "a@x.io"})


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"action": "delete", "email": "a@x.io"}, ("delete", {"email": "a@x.io"})),
        ({"action": "forget", "userId": 5}, ("forget", {"userId": "5"})),
        ({"action": "unforget", "email": "a@x.io"}, ("unforget", {"email": "a@x.io"})),
    ],
)
def test_user_actions(record: dict[str, Any], expected: tuple[str, dict[str, str]]) -> None:
    assert user_action(record) == expected


def test_an_unknown_user_action_is_refused() -> None:
    with pytest.raises(RecordRejected, match="'action' must be one of delete, forget, unforget"):
        user_action({"action": "erase", "email": "a@x.io"})


BOTH = {"email": "a@x.io", "userId": "u1"}


@pytest.mark.parametrize(
    ("project_type", "expected"),
    [
        (ProjectType.HYBRID, ("email", "a@x.io")),
        (ProjectType.EMAIL, ("email", "a@x.io")),
        (ProjectType.USER_ID, ("userId", "u1")),
    ],
)
def test_one_identifier_calls_name_the_user_as_the_project_finds_users(
    project_type: ProjectType, expected: tuple[str, str]
) -> None:
    """triggerWorkflow, the sends, mergeUsers, updateEmail and deletes take one identifier:
    the userId in a userId-based project (emails are not unique there), else the email."""
    name, value = expected
    assert journey_payload(BOTH, {}, 7, project_type) == {"workflowId": 7, name: value}
    recipient = "recipientEmail" if name == "email" else "recipientUserId"
    assert send_payload(BOTH, {}, 9, project_type) == {"campaignId": 9, recipient: value}
    assert user_action({**BOTH, "action": "delete"}, project_type) == ("delete", {name: value})
    merge = {"sourceEmail": "a@x.io", "sourceUserId": "u1"}
    merge |= {"destinationEmail": "b@x.io", "destinationUserId": "u2"}
    assert merge_payload(merge, project_type) == (
        {"sourceEmail": "a@x.io", "destinationEmail": "b@x.io"}
        if name == "email"
        else {"sourceUserId": "u1", "destinationUserId": "u2"}
    )
    update = {"currentEmail": "a@x.io", "currentUserId": "u1", "newEmail": "n@x.io"}
    current = "currentEmail" if name == "email" else "currentUserId"
    assert email_update_payload(update, project_type) == {current: value, "newEmail": "n@x.io"}


def test_a_user_id_project_refuses_a_user_named_by_email_alone() -> None:
    for make in (
        lambda: journey_payload({"email": "a@x.io"}, {}, 7, ProjectType.USER_ID),
        lambda: send_payload({"email": "a@x.io"}, {}, 9, ProjectType.USER_ID),
        lambda: user_action({"email": "a@x.io", "action": "forget"}, ProjectType.USER_ID),
    ):
        with pytest.raises(RecordRejected) as refused:
            make()
        assert refused.value.reason is Reason.MISSING_IDENTITY
        assert "userId-based project" in refused.value.message
