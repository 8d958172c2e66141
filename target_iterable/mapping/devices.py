"""Records of the ``devices`` stream → registerDeviceToken / registerBrowserToken bodies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_iterable.iterable.checks import identity_fields
from target_iterable.mapping.fields import data_fields
from target_iterable.mapping.values import Converter
from target_iterable.reasons import Reason, RecordRejected

# Iterable's Device.platform enum [spec].
PLATFORMS = ("APNS", "APNS_SANDBOX", "GCM")
DEVICE_TOP_LEVEL_FIELDS = frozenset(
    {"email", "userId", "token", "platform", "applicationName", "browserToken"}
)
DEVICE_TOKEN = "device_token"
BROWSER_TOKEN = "browser_token"


def device_payload(
    record: Mapping[str, Any], converters: Mapping[str, Converter]
) -> tuple[str, dict[str, Any]]:
    """Map one record to ``(route, body)``: a push token, or a web push browser token."""
    body = identity_fields(record)
    if record.get("browserToken") not in (None, ""):
        body["browserToken"] = str(record["browserToken"])
        return BROWSER_TOKEN, body
    token, platform, app = (
        record.get("token"),
        record.get("platform"),
        record.get("applicationName"),
    )
    if token in (None, ""):
        raise RecordRejected(
            Reason.MISSING_TOKEN, "record has neither 'token' (push) nor 'browserToken' (web)"
        )
    if platform not in PLATFORMS:
        raise RecordRejected(
            Reason.INVALID_PLATFORM,
            f"platform {platform!r} is not one of Iterable's {', '.join(PLATFORMS)} "
            "(iOS: APNS or APNS_SANDBOX, Android: GCM; web push: send 'browserToken')",
        )
    if app in (None, ""):
        raise RecordRejected(Reason.MISSING_TOKEN, "a push token needs its 'applicationName'")
    device: dict[str, Any] = {
        "token": str(token),
        "platform": platform,
        "applicationName": str(app),
    }
    fields = data_fields(record, converters, DEVICE_TOP_LEVEL_FIELDS)
    if fields:
        device["dataFields"] = fields
    body["device"] = device
    return DEVICE_TOKEN, body
