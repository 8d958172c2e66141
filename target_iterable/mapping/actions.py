"""Records of action streams → the request bodies of Iterable's action endpoints (pure).

Bodies follow the spec's request models: TriggerWorkflowRequest (triggerWorkflow),
Target*Request (the ``target`` operations of email, push, SMS, in-app, web push
and WhatsApp), MergeUsersRequest (mergeUsers) and UserRequest (forget, unforget).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_iterable.iterable.checks import (
    ProjectType,
    identity_of,
    sole_identity,
)
from target_iterable.mapping.fields import data_fields
from target_iterable.mapping.values import Converter
from target_iterable.reasons import Reason, RecordRejected

JOURNEY_TOP_LEVEL = frozenset({"email", "userId", "listId"})
SEND_TOP_LEVEL = frozenset({"email", "userId", "sendAt", "metadata", "allowRepeatMarketingSends"})
USER_ACTIONS = ("delete", "forget", "unforget")


def journey_payload(
    record: Mapping[str, Any],
    converters: Mapping[str, Converter],
    workflow_id: int,
    project_type: ProjectType = ProjectType.HYBRID,
) -> dict[str, Any]:
    """A TriggerWorkflowRequest: the workflow, the user (if any), the other fields as
    ``dataFields``. A ``listId`` triggers the journey for a whole list instead."""
    payload: dict[str, Any] = {"workflowId": workflow_id}
    list_id = record.get("listId")
    if list_id is not None:
        if not isinstance(list_id, int) or isinstance(list_id, bool):
            raise RecordRejected(Reason.INVALID_VALUE, f"'listId' {list_id!r} is not an integer")
        payload["listId"] = list_id
    else:
        # "email or userId (but not both)" (triggerWorkflow).
        name, value = sole_identity(*identity_of(record), project_type)
        payload[name] = value
    fields = data_fields(record, converters, JOURNEY_TOP_LEVEL)
    if fields:
        payload["dataFields"] = fields
    return payload


def send_payload(
    record: Mapping[str, Any],
    converters: Mapping[str, Converter],
    campaign_id: int,
    project_type: ProjectType = ProjectType.HYBRID,
) -> dict[str, Any]:
    """A Target*Request: the campaign, its recipient, optional ``sendAt`` and
    ``metadata``, and the other fields as ``dataFields`` for the template."""
    name, value = sole_identity(*identity_of(record), project_type)
    payload: dict[str, Any] = {"campaignId": campaign_id}
    payload["recipientEmail" if name == "email" else "recipientUserId"] = value
    send_at = record.get("sendAt")
    if send_at is not None:
        convert = converters.get("sendAt")
        payload["sendAt"] = convert(send_at) if convert is not None else str(send_at)
    metadata = record.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            raise RecordRejected(Reason.INVALID_VALUE, "'metadata' is not an object")
        payload["metadata"] = dict(metadata)
    repeat = record.get("allowRepeatMarketingSends")
    if isinstance(repeat, bool):
        payload["allowRepeatMarketingSends"] = repeat
    fields = data_fields(record, converters, SEND_TOP_LEVEL)
    if fields:
        payload["dataFields"] = fields
    return payload


def merge_payload(
    record: Mapping[str, Any], project_type: ProjectType = ProjectType.HYBRID
) -> dict[str, Any]:
    """A MergeUsersRequest: the source user merged into the destination user."""
    source = _person(record, "source", project_type)
    destination = _person(record, "destination", project_type)
    if _who(source) == _who(destination):
        raise RecordRejected(Reason.INVALID_VALUE, "the source and destination are one user")
    return {**source, **destination}


def _who(person: Mapping[str, str]) -> tuple[str, str]:
    """(kind, value) of ``{"sourceEmail": …}`` or ``{"destinationUserId": …}``; emails
    compared as Iterable compares them, case-insensitively."""
    [(name, value)] = person.items()
    return ("email", value.lower()) if name.endswith("Email") else ("userId", value)


def _person(record: Mapping[str, Any], role: str, project_type: ProjectType) -> dict[str, str]:
    email, user_id = record.get(f"{role}Email"), record.get(f"{role}UserId")
    try:
        name, value = sole_identity(*identity_of({"email": email, "userId": user_id}), project_type)
    except RecordRejected as refusal:
        raise RecordRejected(refusal.reason, f"{role}: {refusal.message}") from None
    return {f"{role}Email" if name == "email" else f"{role}UserId": value}


def user_action(
    record: Mapping[str, Any], project_type: ProjectType = ProjectType.HYBRID
) -> tuple[str, dict[str, str]]:
    """``(action, person)`` of a ``user-actions`` record: delete, forget or unforget."""
    action = record.get("action")
    if action not in USER_ACTIONS:
        raise RecordRejected(
            Reason.INVALID_VALUE,
            f"'action' must be one of {', '.join(USER_ACTIONS)}, not {action!r}",
        )
    name, value = sole_identity(*identity_of(record), project_type)
    return str(action), {name: value}
