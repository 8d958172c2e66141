"""The settings as users see them: ``--about`` shows this schema, and meltano.yml's
declaration of the plugin's settings is generated from it (tools/meltano_settings.py).
``settings.py`` parses a config into values.
"""

from __future__ import annotations

from singer_sdk import typing as th

from target_iterable.iterable.checks import ProjectType
from target_iterable.iterable.limits import (
    CATALOG_ITEMS,
    DEFAULT_RECORDS_PER_REQUEST,
    DOCUMENTED_RATE_LIMITS,
    EVENTS_TRACK_BULK,
    MAX_CATALOG_ITEMS_PER_REQUEST,
    USERS_BULK_UPDATE,
)
from target_iterable.iterable.regions import REGION_BASE_URLS
from target_iterable.mapping.values import INEXACT_NUMBER_MODES, LONG_VALUE_MODES
from target_iterable.settings import ON_DELETE_MODES, ON_FILTERED_FIELDS_MODES, SYNC_MODES

# A non-negative number, or its text: Meltano 4.4 cannot JSON-encode a `decimal`
# setting given in the environment (TypeError on Decimal), so meltano.yml declares
# number settings as strings, and the target reads "2.5" as 2.5 (settings.py).
NUMBER_OR_TEXT = th.CustomType(
    {"type": ["number", "string"], "minimum": 0, "pattern": r"^\s*(\d+(\.\d*)?|\.\d+)\s*$"}
)
# A share from 0 to 1, or its text.
RATIO_OR_TEXT = th.CustomType(
    {
        "type": ["number", "string"],
        "minimum": 0,
        "maximum": 1,
        "pattern": r"^\s*(0(\.\d+)?|1(\.0+)?|\.\d+)\s*$",
    }
)

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
        "project_type",
        th.StringType,
        default="hybrid",
        allowed_values=[kind.value for kind in ProjectType],
        description="How the Iterable project identifies users (Settings → Project "
        "Settings): 'hybrid' (default), 'email' or 'userId'. In a 'userId' project a "
        "record naming its user by email alone is refused (missing_identity) before it "
        "costs a request, and calls that take one identifier (deletes, forgets, merges, "
        "email changes, journeys, sends, update-only lookups) name users by userId; "
        "elsewhere they name users by email when the record has one.",
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
        NUMBER_OR_TEXT,
        default=60,
        description="Longest time between STATE checkpoints while input flows: every "
        "pending record is sent and acknowledged, then the latest STATE is emitted.",
    ),
    th.Property(
        "users_batch_size",
        th.IntegerType,
        default=DEFAULT_RECORDS_PER_REQUEST,
        description="Most users per POST /api/users/bulkUpdate request. Bodies are also "
        "split to stay under Iterable's 4 MB limit.",
    ),
    th.Property(
        "events_batch_size",
        th.IntegerType,
        default=DEFAULT_RECORDS_PER_REQUEST,
        description="Most events per POST /api/events/trackBulk request (also split by 4 MB).",
    ),
    th.Property(
        "catalog_batch_size",
        th.IntegerType,
        default=MAX_CATALOG_ITEMS_PER_REQUEST,
        description="Most items per catalog bulk upload; Iterable allows at most 1000.",
    ),
    th.Property(
        "connect_timeout_seconds",
        NUMBER_OR_TEXT,
        default=10,
        description="Seconds to wait for a connection to Iterable before retrying.",
    ),
    th.Property(
        "request_timeout_seconds",
        NUMBER_OR_TEXT,
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
        NUMBER_OR_TEXT,
        default=DOCUMENTED_RATE_LIMITS[USERS_BULK_UPDATE].requests_per_second,
        description="Pace of POST /api/users/bulkUpdate: Iterable's limit is 5 per second "
        "per project. Lower it when other tools share the project's limit.",
    ),
    th.Property(
        "events_requests_per_second",
        NUMBER_OR_TEXT,
        default=DOCUMENTED_RATE_LIMITS[EVENTS_TRACK_BULK].requests_per_second,
        description="Pace of POST /api/events/trackBulk (Iterable's limit: 10/s per project).",
    ),
    th.Property(
        "catalog_requests_per_second",
        NUMBER_OR_TEXT,
        default=DOCUMENTED_RATE_LIMITS[CATALOG_ITEMS].requests_per_second,
        description="Pace of catalog item uploads (Iterable's limit: 100/s per API key).",
    ),
    th.Property(
        "action_requests_per_second",
        NUMBER_OR_TEXT,
        default=10,
        description="Pace of action calls whose rate limit Iterable does not document "
        "(triggerWorkflow, the send endpoints, updateEmail): conservative, as they reach "
        "people.",
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
        RATIO_OR_TEXT,
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
                    allowed_values=list(ON_DELETE_MODES),
                    description="users: what a row with _sdc_deleted_at does: 'ignore' "
                    "(default; rejected with reason delete_not_enabled), 'delete' the user, "
                    "or 'forget' it (GDPR; 3/s, 1000 a day).",
                ),
                th.Property(
                    "allow_repeats",
                    th.BooleanType,
                    description="Action streams (journey-*, send-*, email-updates, "
                    "user-merges, user-actions): fire every run, even for rows already "
                    "acted on; needed for a stream without key properties.",
                ),
                th.Property(
                    "max_actions_per_run",
                    th.IntegerType,
                    description="Action streams: the most calls one run may make (default "
                    "10000); past it the run fails before sending more, so a runaway model "
                    "cannot mail a whole database.",
                ),
                th.Property(
                    "sync_mode",
                    th.StringType,
                    allowed_values=list(SYNC_MODES),
                    description="'upsert' (default): send new and changed records; 'mirror': "
                    "upsert, and remove from Iterable the keys that vanished from a complete "
                    "full-table version (users, catalog-*, list-* only; needs ACTIVATE_VERSION "
                    "from the tap); 'all': send every record, keep no fingerprints.",
                ),
                th.Property(
                    "inexact_numbers",
                    th.StringType,
                    allowed_values=list(INEXACT_NUMBER_MODES),
                    description="A JSON-schema number a double cannot hold exactly (Iterable "
                    "stores decimals as doubles), e.g. numeric(20,0) 9007199254740993: "
                    "'round' (default) sends the nearest double, warns once per field and "
                    "counts inexact_numbers in the summary; 'reject' refuses the record "
                    "(inexact_number); 'string' sends every value of such a field as its "
                    "exact decimal text (the field then holds strings in Iterable).",
                ),
                th.Property(
                    "long_values",
                    th.StringType,
                    allowed_values=list(LONG_VALUE_MODES),
                    description="A string over Iterable's limit of about 32,000 characters "
                    "per field value: 'reject' (default) refuses the record (value_too_long) "
                    "before it costs a request; 'truncate' sends its first 32,000 characters, "
                    "warns once per field and counts truncated_values in the summary.",
                ),
                th.Property(
                    "on_filtered_fields",
                    th.StringType,
                    allowed_values=list(ON_FILTERED_FIELDS_MODES),
                    description="Iterable applied a record but dropped some of its fields "
                    "(filteredOutFields: the project drops unrecognized fields): 'warn' "
                    "(default) names the fields once and counts filtered_out_fields in the "
                    "summary; 'reject' also writes each such record to the rejects file "
                    "(filtered_out_fields), so it is sent again next run.",
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
                th.Property(
                    "page_event_name_format",
                    th.StringType,
                    description="messages: event name of a page call, {name} being its name "
                    "(default '{name} Page', as RudderStack documents it; RudderStack's "
                    "transformer sends '{name} page'). Iterable event names are "
                    "case-sensitive: match the names your journeys use.",
                ),
                th.Property(
                    "screen_event_name_format",
                    th.StringType,
                    description="messages: event name of a screen call (default "
                    "'{name} Screen'; RudderStack's transformer sends '{name} screen').",
                ),
                th.Property(
                    "register_device_tokens",
                    th.BooleanType,
                    description="messages: register the push and browser tokens of identify "
                    "calls (default true; RudderStack does only when given a key for it).",
                ),
                th.Property(
                    "anonymous_id_as_user_id",
                    th.BooleanType,
                    description="messages: send anonymousId as the userId of a message "
                    "without one, as RudderStack does (default false: an anonymous id is a "
                    "device's, not a durable identity, and creates a profile per device).",
                ),
                th.Property(
                    "convert_date_strings",
                    th.BooleanType,
                    description="messages: send ISO-8601 date-time strings with a time zone "
                    "found in properties and traits as Iterable dates, "
                    "'yyyy-MM-dd HH:mm:ss +00:00' (default true, as Segment does).",
                ),
            )
        ),
        description="Options per stream name (after stream maps), e.g. "
        '{"events-signups": {"event_name": "signup", "campaign_id": 123}}. A record\'s own '
        "eventName / campaignId / templateId win over these defaults.",
    ),
    th.Property(
        "change_detection",
        th.BooleanType,
        default=True,
        description="Send only what changed: a record whose mapped payload is unchanged since "
        "Iterable last acknowledged it (same stream, same key) is counted 'unchanged' and not "
        "sent. Fingerprints are kept in sync_state_url.",
    ),
    th.Property(
        "sync_state_url",
        th.StringType,
        default="sqlite:///target-iterable-sync.db",
        description="Where the fingerprints of acknowledged records live: sqlite:///<path> "
        "(relative to the working directory; a plain path means SQLite too) or "
        "postgresql://user:password@host/db (shared by workers, survives containers).",
    ),
    th.Property(
        "full_resync",
        th.BooleanType,
        default=False,
        description="Send every record this run, and refresh the fingerprints.",
    ),
    th.Property(
        "resend_after_days",
        th.IntegerType,
        default=30,
        description="Ignore fingerprints older than this, so every row is sent again at least "
        "this often (heals edits made inside Iterable); 0 never expires.",
    ),
    th.Property(
        "max_delete_ratio",
        RATIO_OR_TEXT,
        default=0.2,
        description="A mirror run that would remove more than this share of a stream's known "
        "keys removes nothing and fails (exit 1): a broken model that returns no rows must "
        "not empty Iterable.",
    ),
    th.Property(
        "stop_grace_seconds",
        NUMBER_OR_TEXT,
        default=20,
        description="On SIGTERM or SIGINT: how long to keep sending what was already read "
        "before stopping; then a final STATE covers exactly what Iterable acknowledged. "
        "A second signal stops at once.",
    ),
    th.Property(
        "not_found_retry_seconds",
        NUMBER_OR_TEXT,
        default=120,
        description="Iterable applies bulk user writes asynchronously, so an event or "
        "purchase for a user this run itself just created can be answered 'not found'. "
        "Such records are sent again, with growing pauses, for up to this many seconds "
        "before they are rejected (user_not_found); records for users the run did not "
        "write are rejected at once. 0 rejects at once.",
    ),
    th.Property(
        "dry_run",
        th.BooleanType,
        default=False,
        description="Read, map, validate, diff and pre-flight as usual, but send no write "
        "request (read-only GETs are allowed): every request that would be sent is written "
        "to dry_run_path. The sync state is not changed and no STATE is emitted; exit 0 "
        "unless the input itself is broken.",
    ),
    th.Property(
        "dry_run_path",
        th.StringType,
        default="target-iterable-plan.jsonl",
        description="The plan of a dry run: one JSON line per request that would be sent, "
        '{"stream", "method", "path", "body"}, with the body exactly as it would go out.',
    ),
    th.Property(
        "progress_seconds",
        NUMBER_OR_TEXT,
        default=15,
        description="While records flow, one INFO line per active stream at most this often: "
        "received, sent, accepted, rejected, unchanged, records/s, and the share of "
        "Iterable's documented rate limit in use. 0 turns it off.",
    ),
    th.Property(
        "run_report_path",
        th.StringType,
        default="",
        description="A JSON report written at the end of every run, failed or stopped ones "
        "too: per-stream counts, reject reasons, requests, retries, rate-limited answers, "
        "bytes, durations, the last STATE and the exit status (schemas/run-report.schema.json)."
        " Empty: no report.",
    ),
    th.Property(
        "skip_unknown_streams",
        th.BooleanType,
        default=False,
        description="Ignore (and count as skipped) streams whose name routes to no Iterable "
        "object, instead of failing at their SCHEMA message.",
    ),
).to_dict()

# This target's own settings (the SDK adds its built-in ones to CONFIG_SCHEMA in place
# when a target class is built).
OWN_SETTINGS = frozenset(CONFIG_SCHEMA["properties"])
