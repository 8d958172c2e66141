"""The target's settings as values: parsed and checked once, at start-up.

``config_schema.py`` declares the settings users see; this module turns a
config into frozen values (as urllib3's ``Retry`` is a value), so no code
downstream converts or re-validates a setting where it uses it. Every bad
value is reported at once, each in one line naming the setting.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any, Literal, cast

from target_iterable.errors import ConfigurationError
from target_iterable.iterable.checks import ProjectType
from target_iterable.iterable.limits import (
    ACTIONS,
    CATALOG_ITEMS,
    DOCUMENTED_RATE_LIMITS,
    EVENTS_TRACK_BULK,
    MAX_CATALOG_ITEMS_PER_REQUEST,
    USERS_BULK_UPDATE,
)
from target_iterable.iterable.regions import resolve_base_url
from target_iterable.mapping.values import (
    INEXACT_NUMBER_MODES,
    LONG_VALUE_MODES,
    InexactNumbers,
    LongValues,
    ValueNotes,
    ValuePolicy,
)

OnDelete = Literal["ignore", "delete", "forget"]
ON_DELETE_MODES: tuple[OnDelete, ...] = ("ignore", "delete", "forget")
OnFilteredFields = Literal["warn", "reject"]
ON_FILTERED_FIELDS_MODES: tuple[OnFilteredFields, ...] = ("warn", "reject")
SchemaViolations = Literal["reject", "fail"]
SyncMode = Literal["upsert", "mirror", "all"]
SYNC_MODES: tuple[SyncMode, ...] = ("upsert", "mirror", "all")

# This target's settings that shape what a record becomes (its payload); and those that
# never do (delivery, pacing, paths, policy). Change detection's mapping context holds
# every setting but the second kind (sinks/base.py), so editing one of those does not
# make every record look new; a setting in neither set fails a test, forcing the choice.
PAYLOAD_SETTINGS = frozenset({"stream_options", "project_type"})
DELIVERY_SETTINGS = frozenset(
    {
        "api_key", "region", "api_base_url", "rejects_path", "checkpoint_seconds",
        "users_batch_size", "events_batch_size", "catalog_batch_size",
        "connect_timeout_seconds", "request_timeout_seconds", "max_attempts",
        "max_concurrent_requests", "users_requests_per_second",
        "events_requests_per_second", "catalog_requests_per_second",
        "action_requests_per_second", "schema_violations", "max_rejected_ratio",
        "skip_unknown_streams", "change_detection", "sync_state_url", "full_resync",
        "resend_after_days", "max_delete_ratio", "stop_grace_seconds",
        "not_found_retry_seconds", "dry_run", "dry_run_path", "progress_seconds",
        "run_report_path",
    }
)  # fmt: skip

# The settings that pace an endpoint, by the endpoint they pace.
RATE_SETTINGS = {
    USERS_BULK_UPDATE: "users_requests_per_second",
    EVENTS_TRACK_BULK: "events_requests_per_second",
    CATALOG_ITEMS: "catalog_requests_per_second",
    ACTIONS: "action_requests_per_second",
}
# stream_options that give a record field its default value.
DEFAULT_FIELD_OPTIONS = {
    "event_name": "eventName",
    "campaign_id": "campaignId",
    "template_id": "templateId",
    "application_name": "applicationName",
}


@dataclass(frozen=True)
class StreamOptions:
    """``stream_options.<stream>``: per-stream defaults and behaviours."""

    event_name: str | None = None
    campaign_id: int | None = None
    template_id: int | None = None
    application_name: str | None = None
    merge_nested_objects: bool = False
    prefer_user_id: bool = False
    update_only: bool = False
    on_delete: OnDelete = "ignore"
    sync_mode: SyncMode = "upsert"
    allow_repeats: bool = False
    max_actions_per_run: int | None = None
    # The value rules (mapping/values.py): numbers a double cannot hold exactly, and
    # values over Iterable's size per field.
    inexact_numbers: InexactNumbers = "round"
    long_values: LongValues = "reject"
    # Fields Iterable dropped from an applied record (filteredOutFields).
    on_filtered_fields: OnFilteredFields = "warn"
    update_existing_users_only: bool = False
    channel_unsubscribe: bool = False
    map_all_pages_to_one_event: bool = False
    map_all_screens_to_one_event: bool = False
    track_all_pages: bool = True
    track_categorized_pages: bool = False
    track_named_pages: bool = False
    # messages: RudderStack's behaviours that are choices (see the README's
    # "Migrating from RudderStack").
    page_event_name_format: str | None = None
    screen_event_name_format: str | None = None
    register_device_tokens: bool = True
    anonymous_id_as_user_id: bool = False
    convert_date_strings: bool = True

    @cached_property
    def record_defaults(self) -> dict[str, Any]:
        """Record fields given by these options (a record's own value wins)."""
        return {
            record_field: getattr(self, option)
            for option, record_field in DEFAULT_FIELD_OPTIONS.items()
            if getattr(self, option) is not None
        }

    def value_policy(
        self, stream: str, count: Callable[[str, int], None] | None = None
    ) -> ValuePolicy:
        """This stream's choices for the value rules; what they do to values is warned
        about (naming ``stream``) and counted through ``count`` (the run summary)."""
        return ValuePolicy(self.inexact_numbers, self.long_values, ValueNotes(stream, count))


@dataclass(frozen=True)
class Settings:
    """Every setting the target reads, typed. ``api_key`` never appears in a repr."""

    api_key: str = field(repr=False)
    region: str
    base_url: str
    # How the project identifies users: which identifier a one-identifier call names.
    project_type: ProjectType
    rejects_path: str
    checkpoint_seconds: float
    users_batch_size: int
    events_batch_size: int
    catalog_batch_size: int
    connect_timeout_seconds: float
    request_timeout_seconds: float
    max_attempts: int
    max_concurrent_requests: int
    # Requests per second per paced endpoint (the three settings, and Iterable's
    # documented limits for the endpoints that have no setting).
    rate_limits: Mapping[str, float]
    schema_violations: SchemaViolations
    max_rejected_ratio: float
    skip_unknown_streams: bool
    stream_options: Mapping[str, StreamOptions]
    # Sync state (sync/): what Iterable acknowledged before, to send only changes.
    change_detection: bool
    sync_state_url: str
    full_resync: bool
    resend_after_days: int
    max_delete_ratio: float
    # Preview: plan the writes instead of sending them.
    dry_run: bool
    dry_run_path: str
    stop_grace_seconds: float
    # Iterable applies bulk writes asynchronously: how long an event for a user this
    # run itself wrote may be answered "not found" before it is rejected.
    not_found_retry_seconds: float
    # What an operator sees: progress lines, and the report at the end (off when empty).
    progress_seconds: float
    run_report_path: str | None

    def options_for(self, stream_name: str) -> StreamOptions:
        return self.stream_options.get(stream_name, NO_OPTIONS)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Parse a config (defaults already applied by the SDK); raise one
        ConfigurationError that names every bad value."""
        parser = _Parser(config)
        rate_limits = {
            endpoint: float(limit.requests_per_second)
            for endpoint, limit in DOCUMENTED_RATE_LIMITS.items()
        }
        for endpoint, name in RATE_SETTINGS.items():
            rate_limits[endpoint] = parser.number(name, minimum=0)
        region = parser.text("region", default="us")
        base_url = ""
        try:
            base_url = resolve_base_url(region, config.get("api_base_url") or None)
        except ConfigurationError as exc:
            parser.problems.append(str(exc))
        settings = cls(
            api_key=parser.text("api_key"),
            region=region,
            base_url=base_url,
            project_type=ProjectType(
                parser.choice("project_type", tuple(kind.value for kind in ProjectType))
            ),
            rejects_path=parser.text("rejects_path"),
            checkpoint_seconds=parser.number("checkpoint_seconds", minimum=0),
            users_batch_size=parser.integer("users_batch_size", minimum=1),
            events_batch_size=parser.integer("events_batch_size", minimum=1),
            catalog_batch_size=parser.integer(
                "catalog_batch_size", minimum=1, maximum=MAX_CATALOG_ITEMS_PER_REQUEST
            ),
            connect_timeout_seconds=parser.number("connect_timeout_seconds", minimum=0),
            request_timeout_seconds=parser.number("request_timeout_seconds", minimum=0),
            max_attempts=parser.integer("max_attempts", minimum=1),
            max_concurrent_requests=parser.integer("max_concurrent_requests", minimum=1),
            rate_limits=rate_limits,
            schema_violations=cast(
                SchemaViolations, parser.choice("schema_violations", ("reject", "fail"))
            ),
            max_rejected_ratio=parser.number("max_rejected_ratio", minimum=0, maximum=1),
            skip_unknown_streams=parser.flag("skip_unknown_streams"),
            stream_options=parser.stream_options(),
            change_detection=parser.flag("change_detection", default=True),
            sync_state_url=parser.text("sync_state_url"),
            full_resync=parser.flag("full_resync"),
            resend_after_days=parser.integer("resend_after_days", minimum=0),
            max_delete_ratio=parser.number("max_delete_ratio", minimum=0, maximum=1),
            dry_run=parser.flag("dry_run"),
            dry_run_path=parser.text("dry_run_path"),
            stop_grace_seconds=parser.number("stop_grace_seconds", minimum=0),
            not_found_retry_seconds=parser.number("not_found_retry_seconds", minimum=0),
            progress_seconds=parser.number("progress_seconds", minimum=0),
            run_report_path=parser.optional_text("run_report_path"),
        )
        if parser.problems:
            raise ConfigurationError(
                "invalid settings: " + "; ".join(parser.problems)
                if len(parser.problems) > 1
                else parser.problems[0]
            )
        return settings


NO_OPTIONS = StreamOptions()
_OPTION_TYPES = {option.name: option.type for option in fields(StreamOptions)}
_OPTION_CHOICES: dict[str, tuple[str, ...]] = {
    "on_delete": ON_DELETE_MODES,
    "sync_mode": SYNC_MODES,
    "inexact_numbers": INEXACT_NUMBER_MODES,
    "long_values": LONG_VALUE_MODES,
    "on_filtered_fields": ON_FILTERED_FIELDS_MODES,
}


class _Parser:
    """Reads settings one by one, collecting every problem instead of stopping."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.problems: list[str] = []

    def _bad(self, name: str, value: Any, expected: str) -> None:
        shown = "'<secret>'" if name == "api_key" else repr(value)
        self.problems.append(f"setting {name} must be {expected}, not {shown}")

    def text(self, name: str, default: str | None = None) -> str:
        value = self.config.get(name, default)
        if not isinstance(value, str) or not value:
            self._bad(name, value, "a non-empty string")
            return ""
        return value

    def optional_text(self, name: str) -> str | None:
        """A string that may be left empty (or out): None."""
        value = self.config.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self._bad(name, value, "a string")
            return None
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.config.get(name, default)
        if not isinstance(value, bool):
            self._bad(name, value, "true or false")
            return False
        return value

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self.config.get(name, choices[0])
        if value not in choices:
            self._bad(name, value, "one of " + ", ".join(choices))
            return choices[0]
        return str(value)

    def number(
        self, name: str, *, minimum: float | None = None, maximum: float | None = None
    ) -> float:
        """A number, or its text (Meltano passes some numbers from the environment as text)."""
        value = self.config.get(name)
        try:
            if isinstance(value, bool) or value is None:
                raise InvalidOperation
            number = float(Decimal(str(value).strip()))
        except (InvalidOperation, ValueError):
            self._bad(name, value, "a number")
            return 0.0
        return self._bounded(name, value, number, minimum, maximum)

    def integer(self, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self.config.get(name)
        if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            self._bad(name, value, "an integer")
            return 0
        return int(self._bounded(name, value, value, minimum, maximum))

    def _bounded(
        self, name: str, raw: Any, number: float, minimum: float | None, maximum: float | None
    ) -> float:
        if minimum is not None and number < minimum:
            self._bad(name, raw, f"at least {minimum:g}")
        elif maximum is not None and number > maximum:
            self._bad(name, raw, f"at most {maximum:g}")
        return number

    def stream_options(self) -> dict[str, StreamOptions]:
        raw = self.config.get("stream_options") or {}
        if not isinstance(raw, Mapping):
            self._bad("stream_options", raw, "an object of stream names to options")
            return {}
        parsed: dict[str, StreamOptions] = {}
        for stream, options in raw.items():
            if not isinstance(options, Mapping):
                self._bad(f"stream_options.{stream}", options, "an object")
                continue
            parsed[stream] = self._one_stream(stream, options)
        return parsed

    def _one_stream(self, stream: str, options: Mapping[str, Any]) -> StreamOptions:
        values: dict[str, Any] = {}
        for name, value in options.items():
            where = f"stream_options.{stream}.{name}"
            expected_type = _OPTION_TYPES.get(name)
            if expected_type is None:
                self.problems.append(
                    f"{where} is not an option; the options are {', '.join(_OPTION_TYPES)}"
                )
            elif name in _OPTION_CHOICES:
                choices = _OPTION_CHOICES[name]
                if value not in choices:
                    self._bad(where, value, "one of " + ", ".join(choices))
                else:
                    values[name] = value
            elif expected_type == "bool":
                if isinstance(value, bool):
                    values[name] = value
                else:
                    self._bad(where, value, "true or false")
            elif expected_type == "int | None":
                if isinstance(value, int) and not isinstance(value, bool):
                    values[name] = value
                else:
                    self._bad(where, value, "an integer")
            elif isinstance(value, str) and value:
                values[name] = value
            else:
                self._bad(where, value, "a non-empty string")
        return StreamOptions(**values)


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
