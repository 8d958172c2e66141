"""Fault switches: make the emulator slow, throttled, failing or silent on purpose.

The real service is sometimes all of these (429s with or without
``Retry-After``, 5xx from its edge, connections cut mid-request), and a loader is
only as good as its behaviour then. Faults hit a request before it is
processed, so a faulted request changes no state, except
``drop_after_processing_rate``: the request is applied and its answer lost, the
way a client timeout after a success looks, which is what idempotency tests need.

Decisions come from one seeded random generator, so a sequential run with a
given ``seed`` faults the same requests every time.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ERROR_STATUSES = (500, 502, 503)
_RATES = ("latency_spike_rate", "error_rate", "drop_rate", "drop_after_processing_rate")
_COUNTS = ("latency_ms", "latency_spike_ms", "rate_limit_burst")


@dataclass(frozen=True)
class FaultSwitches:
    """The switches, as set by CLI flags or ``POST /_emulator/faults``."""

    latency_ms: int = 0  # added to every API request
    latency_spike_rate: float = 0.0  # fraction of requests that also get a spike…
    latency_spike_ms: int = 1000  # …of this long to twice this long
    error_rate: float = 0.0  # fraction answered 500/502/503, JSON or HTML body
    rate_limit_burst: int = 0  # the next N requests are answered 429
    drop_rate: float = 0.0  # fraction whose connection is closed unanswered
    drop_after_processing_rate: float = 0.0  # fraction applied, then closed unanswered
    retry_after: int | None = None  # seconds for a Retry-After header on 429s; None: no header
    seed: int | None = None  # seeds the fault decisions

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultSwitches:
        """Build switches from JSON, defaults for what is missing; ValueError if wrong."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault switches: {', '.join(unknown)}")
        for name in _RATES:
            value = data.get(name, 0.0)
            if not _is_number(value) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a number between 0 and 1, not {value!r}")
        for name in _COUNTS:
            if name in data and not (_is_int(data[name]) and data[name] >= 0):
                raise ValueError(f"{name} must be a non-negative integer, not {data[name]!r}")
        for name in ("retry_after", "seed"):
            value = data.get(name)
            if value is not None and not (_is_int(value) and value >= 0):
                raise ValueError(f"{name} must be a non-negative integer or null, not {value!r}")
        values = {name: float(data[name]) for name in _RATES if name in data}
        return dataclasses.replace(cls(), **{**data, **values})

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class FaultPlan:
    """What happens to one request."""

    delay_seconds: float = 0.0
    drop: bool = False
    throttle: bool = False
    error_status: int | None = None
    error_as_html: bool = False
    drop_after_processing: bool = False


class FaultInjector:
    """Draws a ``FaultPlan`` per API request from the current switches."""

    def __init__(self, switches: FaultSwitches | None = None) -> None:
        self._lock = threading.Lock()
        self.replace(switches or FaultSwitches())

    def replace(self, switches: FaultSwitches) -> None:
        """Install new switches; this restarts the burst count and the random sequence."""
        with self._lock:
            self.switches = switches
            self.burst_remaining = switches.rate_limit_burst
            self._random = random.Random(switches.seed)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {**self.switches.as_json(), "rate_limit_burst_remaining": self.burst_remaining}

    def plan(self) -> FaultPlan:
        """Decide one request's fate; every call draws the same count of numbers."""
        with self._lock:
            s = self.switches
            spike, spike_length, drop, error, error_kind, late_drop = (
                self._random.random() for _ in range(6)
            )
            delay_ms = float(s.latency_ms)
            if spike < s.latency_spike_rate:
                delay_ms += s.latency_spike_ms * (1.0 + spike_length)
            if drop < s.drop_rate:
                return FaultPlan(delay_ms / 1000, drop=True)
            throttle = self.burst_remaining > 0
            if throttle:
                self.burst_remaining -= 1
                return FaultPlan(delay_ms / 1000, throttle=True)
            if error < s.error_rate:
                status = ERROR_STATUSES[int(error_kind * 6) % len(ERROR_STATUSES)]
                return FaultPlan(
                    delay_ms / 1000, error_status=status, error_as_html=error_kind >= 0.5
                )
            return FaultPlan(
                delay_ms / 1000, drop_after_processing=late_drop < s.drop_after_processing_rate
            )
