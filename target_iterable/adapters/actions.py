"""Action streams: each record is one call that does something (a journey, a send, an
email change, a merge, a delete, forget or unforget), at most once per key and payload.

``journey-<workflowId>`` → triggerWorkflow; ``send-<channel>-<campaignId>`` → the
channel's ``target`` operation; ``email-updates`` → updateEmail; ``user-merges`` →
mergeUsers; ``user-actions`` → delete, forget or unforget. The sync state records
each acknowledged action right after Iterable's answer (one request per action), and
a later run with the same row triggers nothing (``ObjectAdapter.is_action``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import orjson

from target_iterable.adapters.base import ObjectAdapter, StreamSpec, person_key
from target_iterable.adapters.email_updates import EmailUpdatesAdapter
from target_iterable.delivery.context import DeliveryContext
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.encoding import encode_faithfully, encode_for_iterable
from target_iterable.iterable.client import ApiResponse
from target_iterable.iterable.limits import ACTIONS, USER_DELETES, USER_MERGES
from target_iterable.mapping.actions import (
    journey_payload,
    merge_payload,
    send_payload,
    user_action,
)
from target_iterable.reasons import Reason

JOURNEY_PREFIX = "journey-"
# Stream name prefix → the path segment of the channel's ``target`` operation.
SEND_CHANNELS = {
    "send-email-": "email",
    "send-push-": "push",
    "send-sms-": "sms",
    "send-in-app-": "inApp",
    "send-web-push-": "webPush",
    "send-whatsapp-": "whatsApp",
}


def action_refusal_reason(response: ApiResponse) -> Reason:
    """An action Iterable refused: a forgotten user (ForgottenUserError), a conflict
    (HTTP 409), else a bad request (an unknown campaign or workflow, say)."""
    if response.code == "ForgottenUserError":
        return Reason.FORGOTTEN_USER
    if response.status == 409:
        return Reason.IDENTITY_CONFLICT
    return Reason.BAD_REQUEST


def _trailing_id(stream: str, prefix: str) -> int:
    return int(stream[len(prefix) :])


class ActionAdapter(ObjectAdapter):
    """One call per record; refusals are per record, never retried."""

    kind = "actions"
    is_action = True
    endpoint = ACTIONS

    def type_scope(self, prepared: PreparedRecord) -> str:
        return "actions"

    def fields_of(self, prepared: PreparedRecord) -> Mapping[str, Any]:
        return {}

    def refusal_reason(self, response: ApiResponse) -> Reason:
        return action_refusal_reason(response)


class JourneyAdapter(ActionAdapter):
    """``journey-<workflowId>``: triggers the journey for the record's user (or list)."""

    def __init__(self, stream: StreamSpec, context: DeliveryContext) -> None:
        super().__init__(stream, context)
        self.workflow_id = _trailing_id(stream.name, JOURNEY_PREFIX)

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        payload = journey_payload(record, self.converters, self.workflow_id, self.project_type)
        return PreparedRecord.of_person_payload([encode_faithfully(record)], payload)

    def post(self, body: bytes, route: str) -> ApiResponse:
        return self.client.trigger_workflow(body)


class SendAdapter(ActionAdapter):
    """``send-<channel>-<campaignId>``: sends the campaign to the record's user."""

    def __init__(self, stream: StreamSpec, context: DeliveryContext) -> None:
        super().__init__(stream, context)
        prefix = next(p for p in SEND_CHANNELS if stream.name.startswith(p))
        self.channel = SEND_CHANNELS[prefix]
        self.campaign_id = _trailing_id(stream.name, prefix)

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        payload = send_payload(record, self.converters, self.campaign_id, self.project_type)
        return PreparedRecord(
            sources=[encode_faithfully(record)],
            item=encode_for_iterable(payload),
            email=payload.get("recipientEmail"),
            user_id=payload.get("recipientUserId"),
        )

    def post(self, body: bytes, route: str) -> ApiResponse:
        return self.client.send_to_recipient(self.channel, body)


class EmailUpdateAction(EmailUpdatesAdapter):
    """``email-updates``: updateEmail, as an action (at most once per key and payload)."""

    is_action: ClassVar[bool] = True
    endpoint = ACTIONS  # paced like the other actions (updateEmail documents no limit)

    def refusal_reason(self, response: ApiResponse) -> Reason:
        return action_refusal_reason(response)


class UserMergesAdapter(ActionAdapter):
    """``user-merges``: merges the source user into the destination user."""

    endpoint = USER_MERGES

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        payload = merge_payload(record, self.project_type)
        return PreparedRecord(
            sources=[encode_faithfully(record)], item=encode_for_iterable(payload)
        )

    def post(self, body: bytes, route: str) -> ApiResponse:
        return self.client.merge_users(body)


class UserActionsAdapter(ActionAdapter):
    """``user-actions``: ``action`` = delete, forget (GDPR) or unforget, per user."""

    endpoint = USER_DELETES
    deletion_routes = frozenset({"delete", "forget"})

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        action, person = user_action(record, self.project_type)
        return PreparedRecord.of_person_payload([encode_faithfully(record)], person, action)

    def natural_key(self, record: Mapping[str, Any]) -> str | None:
        return person_key(record, self.project_type)

    def post(self, body: bytes, route: str) -> ApiResponse:
        if route == "delete":
            person = orjson.loads(body)
            return self.client.delete_user(email=person.get("email"), user_id=person.get("userId"))
        if route == "forget":
            return self.client.forget_user(body)
        return self.client.unforget_user(body)
