"""The target's settings (``--about`` and the README table are generated from these)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from singer_sdk import typing as th

from target_iterable.errors import ConfigurationError

REGION_BASE_URLS = {
    "us": "https://api.iterable.com",
    "eu": "https://api.eu.iterable.com",
}

DEFAULT_BATCH_SIZE = 1000
# Iterable's catalog bulk upload takes at most 1000 documents. [FACTS]
MAX_CATALOG_BATCH_SIZE = 1000

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "api_key",
        th.StringType,
        required=True,
        secret=True,
        description="Iterable server-side API key (Integrations → API Keys). Never logged.",
    ),
    th.Property(
        "region",
        th.StringType,
        default="us",
        allowed_values=list(REGION_BASE_URLS),
        description="Iterable data centre of the project: 'us' (api.iterable.com) "
        "or 'eu' (api.eu.iterable.com). A key works only in its own region.",
    ),
    th.Property(
        "api_base_url",
        th.StringType,
        description="Overrides the region's URL, e.g. a proxy or the local emulator "
        "(http://127.0.0.1:8089). Plain http:// is accepted only for loopback hosts.",
    ),
    th.Property(
        "rejects_path",
        th.StringType,
        default="target-iterable-rejects.jsonl",
        description="JSONL file that receives every record Iterable or the target refused: "
        "stream, record, reason code and message, one line each. Appended to.",
    ),
    th.Property(
        "checkpoint_seconds",
        th.NumberType,
        default=60,
        description="Longest time between STATE checkpoints while input flows: every "
        "pending record is sent and acknowledged, then the latest STATE is emitted.",
    ),
    th.Property(
        "users_batch_size",
        th.IntegerType,
        default=DEFAULT_BATCH_SIZE,
        description="Most users per POST /api/users/bulkUpdate request. Bodies are also "
        "split to stay under Iterable's 4 MB limit.",
    ),
    th.Property(
        "events_batch_size",
        th.IntegerType,
        default=DEFAULT_BATCH_SIZE,
        description="Most events per POST /api/events/trackBulk request (also split by 4 MB).",
    ),
    th.Property(
        "catalog_batch_size",
        th.IntegerType,
        default=MAX_CATALOG_BATCH_SIZE,
        description="Most items per catalog bulk upload; Iterable allows at most 1000.",
    ),
    th.Property(
        "connect_timeout_seconds",
        th.NumberType,
        default=10,
        description="Seconds to wait for a connection to Iterable before retrying.",
    ),
    th.Property(
        "request_timeout_seconds",
        th.NumberType,
        default=60,
        description="Seconds to wait for Iterable's answer before retrying.",
    ),
    th.Property(
        "max_attempts",
        th.IntegerType,
        default=8,
        description="Attempts per request on 429, 5xx and network errors (exponential "
        "backoff with jitter, honouring Retry-After) before the run fails.",
    ),
    th.Property(
        "max_concurrent_requests",
        th.IntegerType,
        default=8,
        description="Requests in flight at once per endpoint. Reading and mapping go on "
        "while they travel; two updates of one user never travel together.",
    ),
    th.Property(
        "users_requests_per_second",
        th.NumberType,
        default=5,
        description="Pace of POST /api/users/bulkUpdate: Iterable's limit is 5 per second "
        "per project. Lower it when other tools share the project's limit.",
    ),
    th.Property(
        "events_requests_per_second",
        th.NumberType,
        default=10,
        description="Pace of POST /api/events/trackBulk (Iterable's limit: 10/s per project).",
    ),
    th.Property(
        "catalog_requests_per_second",
        th.NumberType,
        default=100,
        description="Pace of catalog item uploads (Iterable's limit: 100/s per API key).",
    ),
    th.Property(
        "schema_violations",
        th.StringType,
        default="reject",
        allowed_values=["reject", "fail"],
        description="What to do with a record that violates its stream's JSON schema "
        "(when validate_records is on): 'reject' writes it to rejects_path with reason "
        "schema_violation and goes on; 'fail' stops the run at that record.",
    ),
    th.Property(
        "max_rejected_ratio",
        # A number, or its text: Meltano 4.4 fails on a `decimal` setting given in the
        # environment (it cannot JSON-encode the Decimal), so meltano.yml declares a string.
        th.CustomType(
            {
                "type": ["number", "string"],
                "minimum": 0,
                "maximum": 1,
                "pattern": r"^\s*(0(\.\d+)?|1(\.0+)?|\.\d+)\s*$",
            }
        ),
        default=0.5,
        description="Fail the run (exit 1, after every record is accounted for) when a "
        "stream rejects more than this share of its records: a sign of a broken mapping. "
        "1 never fails; 0 fails on any reject. Rejected records are in rejects_path either way.",
    ),
    th.Property(
        "stream_options",
        th.ObjectType(
            additional_properties=th.ObjectType(
                th.Property("event_name", th.StringType, description="Default eventName."),
                th.Property("campaign_id", th.IntegerType, description="Default campaignId."),
                th.Property("template_id", th.IntegerType, description="Default templateId."),
                th.Property(
                    "application_name",
                    th.StringType,
                    description="devices, messages: default applicationName of push tokens.",
                ),
                th.Property(
                    "merge_nested_objects",
                    th.BooleanType,
                    description="users: merge top-level objects instead of replacing them.",
                ),
                th.Property(
                    "prefer_user_id",
                    th.BooleanType,
                    description="users: create unknown userIds in email-based projects.",
                ),
                th.Property(
                    "update_only",
                    th.BooleanType,
                    description="users: update existing users only; a user Iterable does "
                    "not have is rejected (user_not_found), not created. Costs one lookup "
                    "per user per run, at Iterable's 100 reads/s.",
                ),
                th.Property(
                    "on_delete",
                    th.StringType,
                    allowed_values=["ignore", "delete", "forget"],
                    description="users: what a row with _sdc_deleted_at does: 'ignore' "
                    "(default; rejected with reason delete_not_enabled), 'delete' the user, "
                    "or 'forget' it (GDPR; 3/s, 1000 a day).",
                ),
                th.Property(
                    "update_existing_users_only",
                    th.BooleanType,
                    description="list-<id>: subscribe only users that already exist.",
                ),
                th.Property(
                    "channel_unsubscribe",
                    th.BooleanType,
                    description="list-<id>: unsubscribing also unsubscribes from the channel.",
                ),
                th.Property(
                    "map_all_pages_to_one_event",
                    th.BooleanType,
                    description="messages: every page call is the event 'Loaded a Page'.",
                ),
                th.Property(
                    "map_all_screens_to_one_event",
                    th.BooleanType,
                    description="messages: every screen call is the event 'Loaded a Screen'.",
                ),
                th.Property(
                    "track_all_pages",
                    th.BooleanType,
                    description="messages: track every page call (default true); false: only "
                    "those the two options below allow.",
                ),
                th.Property(
                    "track_categorized_pages",
                    th.BooleanType,
                    description="messages: track page calls that have a category.",
                ),
                th.Property(
                    "track_named_pages",
                    th.BooleanType,
                    description="messages: track page calls that have a name.",
                ),
            )
        ),
        description="Options per stream name (after stream maps), e.g. "
        '{"events-signups": {"event_name": "signup", "campaign_id": 123}}. A record\'s own '
        "eventName / campaignId / templateId win over these defaults.",
    ),
    th.Property(
        "skip_unknown_streams",
        th.BooleanType,
        default=False,
        description="Ignore (and count as skipped) streams whose name routes to no Iterable "
        "object, instead of failing at their SCHEMA message.",
    ),
).to_dict()


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_base_url(config: Mapping[str, Any]) -> str:
    """The API root: ``api_base_url`` if set, else the region's host.

    Plain http would send the API key in clear text, so it is allowed only
    for loopback hosts (the emulator, a local proxy).
    """
    region = config.get("region") or "us"
    if region not in REGION_BASE_URLS:
        raise ConfigurationError(
            f"region must be one of {sorted(REGION_BASE_URLS)}, got '{region}'"
        )
    override: str | None = config.get("api_base_url")
    if not override:
        return REGION_BASE_URLS[region]
    parsed = urlparse(override)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigurationError(f"api_base_url '{override}' is not an http(s) URL")
    if parsed.scheme == "http" and not _is_loopback(parsed.hostname):
        raise ConfigurationError(
            f"api_base_url '{override}' uses plain http for a non-loopback host; "
            "use https (the API key would travel in clear text)"
        )
    return override.rstrip("/")


# An unquoted list alias: the SDK evaluates ``__alias__`` as an expression.
_BARE_LIST_ALIAS = re.compile(r"^\s*list\s*-\s*\d+\s*$")


def check_stream_maps(config: Mapping[str, Any]) -> None:
    """Refuse stream maps the SDK would turn into a traceback at the first SCHEMA.

    ``__alias__: list-1234`` reads as Python's ``list`` minus 1234.
    """
    for stream, stream_map in (config.get("stream_maps") or {}).items():
        alias = stream_map.get("__alias__") if isinstance(stream_map, Mapping) else None
        if isinstance(alias, str) and _BARE_LIST_ALIAS.match(alias):
            quoted = alias.strip().replace(" ", "")
            raise ConfigurationError(
                f"stream_maps.{stream}.__alias__ {alias!r}: the SDK evaluates an alias as an "
                f"expression, so this reads as Python's list minus a number; quote it "
                f"twice: \"'{quoted}'\" (in YAML: __alias__: \"'{quoted}'\")"
            )
