"""Journeys triggered and messages sent, recorded so tests can read back what fired.

The emulator has no journeys or campaigns to run: it checks a trigger or a send as
Iterable's API would, then records it (``GET /_emulator/journeys``,
``GET /_emulator/sends``). Which workflow and campaign ids exist is a setting
(``ProjectSettings.workflows``/``campaigns``): by default any positive id does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from iterable_emulator.errors import bad_params
from iterable_emulator.store.database import Database, dumps
from iterable_emulator.store.users import Users, one_identity
from iterable_emulator.store.values import ProjectSettings

# The ``target`` operations, by the path segment of their endpoint (/api/<channel>/target),
# and whether the channel's Target*Request defines ``metadata``. [spec: target]
CHANNELS: dict[str, bool] = {
    "email": True,
    "push": True,
    "sms": False,
    "inApp": False,
    "webPush": False,
    "whatsApp": False,
}
# sendAt: "Schedule the message for up to 365 days in the future. If set in the past,
# [the message] is sent immediately. Format is YYYY-MM-DD HH:MM:SS in UTC" [spec: target].
# The spec does not say how other formats or later dates are answered: 400 BadParams.
SEND_AT_FORMAT = "%Y-%m-%d %H:%M:%S"
_SEND_AT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
MAX_SEND_AHEAD_SECONDS = 365 * 24 * 60 * 60


def _send_at_timestamp(send_at: str) -> float:
    """Seconds since the epoch of a ``YYYY-MM-DD HH:MM:SS`` (UTC) sendAt, else 400."""
    try:
        if _SEND_AT.fullmatch(send_at) is None:
            raise ValueError
        moment = datetime.strptime(send_at, SEND_AT_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise bad_params(f"sendAt must be YYYY-MM-DD HH:MM:SS (UTC), not {send_at!r}") from None
    return moment.timestamp()


class Actions:
    """Triggered journeys and targeted sends, in the order they were accepted."""

    def __init__(self, db: Database, users: Users, settings: ProjectSettings) -> None:
        self._db = db
        self._users = users
        self.settings = settings

    # Checks --------------------------------------------------------------------------------

    def _require_workflow(self, workflow_id: int) -> None:
        """An unknown journey: the spec documents only 200, 400 and 401 for
        triggerWorkflow and does not say how an unknown workflowId is answered; the
        emulator refuses it, 400 BadParams [spec: triggerWorkflow]."""
        known = self.settings.workflows
        if (workflow_id not in known) if known is not None else workflow_id <= 0:
            raise bad_params(f"Workflow {workflow_id} does not exist")

    def _require_campaign(self, channel: str, campaign_id: int) -> None:
        """An unknown campaign, or one of another channel: the spec documents only 200,
        400 and 401 for the ``target`` operations and does not say how an unknown
        campaignId is answered; the emulator refuses it, 400 BadParams [spec: target]."""
        known = self.settings.campaigns
        if (campaign_id not in known.get(channel, ())) if known is not None else campaign_id <= 0:
            raise bad_params(f"Campaign {campaign_id} is not a {channel} campaign of this project")

    def _require_list(self, list_id: int) -> None:
        """triggerWorkflow's listId names "a list (standard or dynamic)" [spec:
        triggerWorkflow]; the spec is silent on an unknown one: 400 BadParams."""
        if self._db.query_one("SELECT 1 FROM lists WHERE id = ?", (list_id,)) is None:
            raise bad_params(f"List {list_id} does not exist")

    # Endpoints -----------------------------------------------------------------------------

    def trigger_workflow(self, request: Mapping[str, Any]) -> None:
        """POST /api/workflows/triggerWorkflow [spec: triggerWorkflow]: record the trigger.

        The journey is triggered for one user (``email`` or ``userId``, "but not
        both") or, with ``listId``, "for all users in a list". The spec does not say
        whether a user may be named with a list, nor whether neither may be: the
        emulator refuses both cases, 400 BadParams. The user must exist and not be
        forgotten (support article 29156459027348 lists the endpoints that create
        users; this is not one of them): see ``Users.existing``.
        """
        workflow_id = request["workflowId"]
        list_id = request.get("listId")
        email, user_id = request.get("email"), request.get("userId")
        if list_id is not None and (email is not None or user_id is not None):
            raise bad_params("triggerWorkflow: a listId or a user (email or userId), not both")
        if list_id is None:
            email, user_id = one_identity(request, "email", "userId", "triggerWorkflow")
        with self._db.transaction():
            self._require_workflow(workflow_id)
            if list_id is not None:
                self._require_list(list_id)
            else:
                self._users.existing(email, user_id)
            journey = {
                "workflowId": workflow_id,
                "email": email,
                "userId": user_id,
                "listId": list_id,
                "dataFields": request.get("dataFields") or {},
            }
            self._db.execute(
                "INSERT INTO journeys (workflow_id, body) VALUES (?, ?)",
                (workflow_id, dumps(journey)),
            )

    def target(self, channel: str, request: Mapping[str, Any]) -> None:
        """POST /api/<channel>/target [spec: target]: record one send of a campaign.

        The recipient is ``recipientEmail`` or ``recipientUserId`` ("but not both"),
        an existing user that is not forgotten (``Users.existing``; the spec does not
        list target among the endpoints that create users). Support article
        29156459027348 does list email/target and inApp/target for email-based
        projects: not modelled.
        ``dataFields`` are for the template only ("Request data fields will override
        user profile data fields"): the profile is not changed. ``sendAt`` is checked
        (format, at most 365 days ahead) and recorded as sent; the emulator sends
        nothing, scheduled or not.
        """
        campaign_id = request["campaignId"]
        email, user_id = one_identity(request, "recipientEmail", "recipientUserId", "target")
        send_at = request.get("sendAt")
        with self._db.transaction():
            self._require_campaign(channel, campaign_id)
            if send_at is not None:
                ahead = _send_at_timestamp(send_at) - self._db.clock()
                if ahead > MAX_SEND_AHEAD_SECONDS:
                    raise bad_params(f"sendAt {send_at} is more than 365 days in the future")
            self._users.existing(email, user_id)
            send = {
                "channel": channel,
                "campaignId": campaign_id,
                "recipientEmail": email,
                "recipientUserId": user_id,
                "dataFields": request.get("dataFields") or {},
                "sendAt": send_at,
                # "Allow repeat marketing sends? Defaults to true." [spec: target]
                "allowRepeatMarketingSends": request.get("allowRepeatMarketingSends", True),
                # Only TargetEmailRequest and TargetPushRequest define metadata.
                "metadata": request.get("metadata") if CHANNELS[channel] else None,
            }
            self._db.execute(
                "INSERT INTO sends (channel, campaign_id, body) VALUES (?, ?, ?)",
                (channel, campaign_id, dumps(send)),
            )

    # Read-back -----------------------------------------------------------------------------

    def journeys(self, workflow_id: int | None = None) -> list[dict[str, Any]]:
        """The journeys triggered, oldest first (optionally one workflow's)."""
        rows = self._db.query(
            "SELECT body FROM journeys WHERE ? IS NULL OR workflow_id = ? ORDER BY pk",
            (workflow_id, workflow_id),
        )
        return [json.loads(body) for (body,) in rows]

    def sends(
        self, channel: str | None = None, campaign_id: int | None = None
    ) -> list[dict[str, Any]]:
        """The sends accepted, oldest first (optionally one channel's, one campaign's)."""
        rows = self._db.query(
            "SELECT body FROM sends WHERE (? IS NULL OR channel = ?)"
            " AND (? IS NULL OR campaign_id = ?) ORDER BY pk",
            (channel, channel, campaign_id, campaign_id),
        )
        return [json.loads(body) for (body,) in rows]
