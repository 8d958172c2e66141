"""One emulated Iterable project: its state, its switches and its counters.

The HTTP layer (``app``) and the admin endpoints work on this object; tests can
build one directly to drive the WSGI app in-process.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from iterable_emulator.faults import FaultInjector, FaultSwitches
from iterable_emulator.identity import ProjectType
from iterable_emulator.limits import Clock, RateLimiter
from iterable_emulator.pending import PendingWrites
from iterable_emulator.stats import Stats
from iterable_emulator.store import ProjectSettings, Store
from iterable_emulator.store.actions import CHANNELS
from iterable_emulator.validation import BodyValidator

DEFAULT_API_KEY = "test-api-key"

Campaigns = Mapping[str, frozenset[int]]


def _ids(value: Any, name: str) -> frozenset[int]:
    if not isinstance(value, list) or not all(type(item) is int and item > 0 for item in value):
        raise ValueError(f"{name} must be a list of positive integers")
    return frozenset(value)


def parse_campaigns(value: Any) -> Campaigns | None:
    """``null`` (any positive id is a campaign) or ``{channel: [campaignId, ...]}``."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("campaigns must be null or an object of channel: [campaign ids]")
    unknown = sorted(set(value) - set(CHANNELS))
    if unknown:
        raise ValueError(f"campaigns: unknown channels {unknown}; channels are {list(CHANNELS)}")
    return {channel: _ids(ids, f"campaigns.{channel}") for channel, ids in value.items()}


def parse_workflows(value: Any) -> frozenset[int] | None:
    """``null`` (any positive id is a journey) or ``[workflowId, ...]``."""
    return None if value is None else _ids(value, "workflows")


@dataclass(frozen=True)
class EmulatorConfig:
    """The start-up configuration; ``POST /_emulator/reset`` returns to it."""

    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)
    db: str = ":memory:"
    project_type: ProjectType = ProjectType.HYBRID
    disallowed_event_names: frozenset[str] = frozenset()
    rate_limits: bool = True
    rate_limit_multiplier: float = 1.0
    faults: FaultSwitches = field(default_factory=FaultSwitches)
    campaigns: Campaigns | None = None  # None: any positive campaign id exists
    workflows: frozenset[int] | None = None  # None: any positive workflow id exists
    processing_delay_ms: int = 0  # rule: async-writes; 0 applies every write at once
    drop_unrecognized_fields: bool = False  # rule: drop-unrecognized-fields
    user_fields: Mapping[str, str] = field(default_factory=dict)  # declared: name → type
    user_field_limit: int = 1000  # rule: user-field-limit
    event_field_limit: int = 8000  # rule: event-field-limit


class Emulator:
    """State (the store), switches (faults, rate limits) and counters (stats)."""

    def __init__(self, config: EmulatorConfig | None = None, clock: Clock = time.monotonic) -> None:
        self.config = config or EmulatorConfig()
        self.api_keys = frozenset(self.config.api_keys)
        self.store = Store(self.config.db, settings=ProjectSettings())
        self.limiter = RateLimiter(clock)
        self.faults = FaultInjector()
        self.stats = Stats(clock)
        self.validator = BodyValidator()
        self.pending = PendingWrites(clock)
        self._apply_config()

    def _apply_config(self) -> None:
        config = self.config
        self.store.settings.project_type = config.project_type
        self.store.settings.disallowed_event_names = config.disallowed_event_names
        self.store.settings.campaigns = config.campaigns
        self.store.settings.workflows = config.workflows
        self.store.settings.drop_unrecognized_fields = config.drop_unrecognized_fields
        self.store.settings.user_field_limit = config.user_field_limit
        self.store.settings.event_field_limit = config.event_field_limit
        self.store.users.declare_fields(config.user_fields)
        self.pending.delay_ms = config.processing_delay_ms
        self.limiter.enabled = config.rate_limits
        self.limiter.multiplier = config.rate_limit_multiplier
        self.faults.replace(config.faults)

    def reset(self) -> None:
        """Clear all state and counters; settings and faults return to the start-up ones."""
        self.pending.clear()
        self.store.reset()
        self.stats.reset()
        self.limiter.reset()
        self._apply_config()

    def settings(self) -> dict[str, Any]:
        """``GET /_emulator/settings``: the project and rate-limit settings."""
        return {
            "project_type": self.store.settings.project_type.value,
            "disallowed_event_names": sorted(self.store.settings.disallowed_event_names),
            "rate_limits": self.limiter.enabled,
            "rate_limit_multiplier": self.limiter.multiplier,
            "log_bodies": self.stats.keep_bodies,
            "campaigns": _campaigns_json(self.store.settings.campaigns),
            "workflows": _ids_json(self.store.settings.workflows),
            "processing_delay_ms": self.pending.delay_ms,
            "drop_unrecognized_fields": self.store.settings.drop_unrecognized_fields,
            "user_fields": self.store.users.field_types(),
            "user_field_limit": self.store.settings.user_field_limit,
            "event_field_limit": self.store.settings.event_field_limit,
        }

    def update_settings(self, changes: Mapping[str, Any]) -> None:
        """Apply the settings present in ``changes``; ValueError if one is wrong."""
        unknown = sorted(set(changes) - set(self.settings()))
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(unknown)}")
        project_type = ProjectType(changes.get("project_type", self.store.settings.project_type))
        names = changes.get("disallowed_event_names", self.store.settings.disallowed_event_names)
        if not all(isinstance(name, str) for name in names) or isinstance(names, str):
            raise ValueError("disallowed_event_names must be a list of strings")
        enabled = changes.get("rate_limits", self.limiter.enabled)
        if not isinstance(enabled, bool):
            raise ValueError("rate_limits must be true or false")
        multiplier = changes.get("rate_limit_multiplier", self.limiter.multiplier)
        if (
            isinstance(multiplier, bool)
            or not isinstance(multiplier, int | float)
            or multiplier <= 0
        ):
            raise ValueError("rate_limit_multiplier must be a positive number")
        log_bodies = changes.get("log_bodies", self.stats.keep_bodies)
        if not isinstance(log_bodies, bool):
            raise ValueError("log_bodies must be true or false")
        settings = self.store.settings
        campaigns = (
            parse_campaigns(changes["campaigns"]) if "campaigns" in changes else settings.campaigns
        )
        workflows = (
            parse_workflows(changes["workflows"]) if "workflows" in changes else settings.workflows
        )
        delay = _count(changes, "processing_delay_ms", self.pending.delay_ms)
        drop = changes.get("drop_unrecognized_fields", settings.drop_unrecognized_fields)
        if not isinstance(drop, bool):
            raise ValueError("drop_unrecognized_fields must be true or false")
        user_field_limit = _count(changes, "user_field_limit", settings.user_field_limit)
        event_field_limit = _count(changes, "event_field_limit", settings.event_field_limit)
        user_fields = changes.get("user_fields", {})
        if not isinstance(user_fields, dict):
            raise ValueError("user_fields must be an object of field name: type")
        self.store.users.declare_fields(user_fields)
        settings.drop_unrecognized_fields = drop
        settings.user_field_limit = user_field_limit
        settings.event_field_limit = event_field_limit
        self.pending.delay_ms = delay
        settings.campaigns = campaigns
        settings.workflows = workflows
        self.stats.keep_bodies = log_bodies
        self.store.settings.project_type = project_type
        self.store.settings.disallowed_event_names = frozenset(names)
        self.limiter.enabled = enabled
        self.limiter.multiplier = float(multiplier)


def _count(changes: Mapping[str, Any], name: str, default: int) -> int:
    value = changes.get(name, default)
    if type(value) is not int or value < 0:
        raise ValueError(f"{name} must be a non-negative integer")
    return value


def _ids_json(ids: frozenset[int] | None) -> list[int] | None:
    return None if ids is None else sorted(ids)


def _campaigns_json(campaigns: Campaigns | None) -> dict[str, list[int]] | None:
    if campaigns is None:
        return None
    return {channel: sorted(ids) for channel, ids in campaigns.items()}
