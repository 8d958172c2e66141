"""Per-record failures are read from Iterable's bulk responses by identifier."""

from __future__ import annotations

from target_iterable.iterable.responses import (
    disallowed_event_names,
    record_failures,
    validation_errors,
)
from target_iterable.reasons import Reason


def test_failed_updates_and_deprecated_lists_are_merged() -> None:
    body = {
        "successCount": 1,
        "failCount": 3,
        "failedUpdates": {
            "invalidEmails": ["bad@"],
            "notFoundUserIds": ["u9"],
            "forgottenEmails": ["gone@x.io"],
        },
        "invalidEmails": ["bad@"],
        "invalidUserIds": ["u 1"],
    }
    failures = {(f.reason, f.kind, f.value) for f in record_failures(body)}
    assert failures == {
        (Reason.INVALID_EMAIL, "email", "bad@"),
        (Reason.USER_NOT_FOUND, "userId", "u9"),
        (Reason.FORGOTTEN_USER, "email", "gone@x.io"),
        (Reason.INVALID_USER_ID, "userId", "u 1"),
    }


def test_unknown_fields_are_tolerated() -> None:
    assert list(record_failures({"successCount": 2, "failCount": 0, "newThing": [1]})) == []
    assert disallowed_event_names({"disallowedEventNames": ["spam"]}) == {"spam"}


def test_validation_errors() -> None:
    body = {
        "code": "RequestFieldsTypesMismatched",
        "params": {
            "validationErrors": {
                "age": {"incomingTypes": ["string"], "expectedType": "long", "offendingValue": "x"}
            }
        },
    }
    assert validation_errors(body)["age"]["expectedType"] == "long"
    assert validation_errors({"params": None}) == {}
