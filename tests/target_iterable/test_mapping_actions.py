"""Action records → request bodies, per the spec's request models (table tests)."""

from __future__ import annotations

from typing import Any

import pytest

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
