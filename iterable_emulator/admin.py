"""Emulator-only endpoints under ``/_emulator/``: no API key, never faulted or limited.

Tests, benchmarks and the demo use them to reset state, flip fault switches and
read what the emulator saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from iterable_emulator.calls import Call, Reply
from iterable_emulator.errors import bad_params
from iterable_emulator.faults import FaultSwitches
from iterable_emulator.rules import rules_json
from iterable_emulator.store.actions import CHANNELS


def _object_body(call: Call) -> Mapping[str, Any]:
    body = {} if call.body is None else call.body
    if not isinstance(body, Mapping):
        raise bad_params("body: expected a JSON object")
    return body


def health(call: Call) -> Reply:
    return Reply(200, {"status": "ok"})


def reset(call: Call) -> Reply:
    """Clear all state and counters; faults and settings return to their start-up values."""
    call.emulator.reset()
    return Reply(200, {"reset": True})


def get_faults(call: Call) -> Reply:
    return Reply(200, call.emulator.faults.state())


def set_faults(call: Call) -> Reply:
    """Replace every switch: those missing from the body return to "no fault"."""
    try:
        switches = FaultSwitches.from_json(_object_body(call))
    except ValueError as error:
        raise bad_params(str(error)) from None
    call.emulator.faults.replace(switches)
    return Reply(200, call.emulator.faults.state())


def get_settings(call: Call) -> Reply:
    return Reply(200, call.emulator.settings())


def update_settings(call: Call) -> Reply:
    """Change the settings present in the body; the others keep their values."""
    try:
        call.emulator.update_settings(_object_body(call))
    except ValueError as error:
        raise bad_params(str(error)) from None
    return Reply(200, call.emulator.settings())


def stats(call: Call) -> Reply:
    return Reply(200, call.emulator.stats.snapshot())


def summary(call: Call) -> Reply:
    return Reply(200, call.store.summary())


def _int_filter(call: Call, name: str) -> int | None:
    raw = call.query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_params(f"{name} must be an integer, not {raw!r}") from None


def journeys(call: Call) -> Reply:
    """The journeys triggered, oldest first; ``?workflowId=`` keeps one workflow's."""
    found = call.store.actions.journeys(_int_filter(call, "workflowId"))
    return Reply(200, {"journeys": found})


def sends(call: Call) -> Reply:
    """The sends accepted, oldest first; ``?channel=`` and ``?campaignId=`` filter them."""
    channel = call.query.get("channel")
    if channel is not None and channel not in CHANNELS:
        raise bad_params(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    found = call.store.actions.sends(channel, _int_filter(call, "campaignId"))
    return Reply(200, {"sends": found})


def requests_log(call: Call) -> Reply:
    return Reply(200, {"requests": call.emulator.stats.requests(call.query.get("path"))})


def pending(call: Call) -> Reply:
    """``{"pending": n, "next_due_ms": ms | null}``: writes answered, not yet applied."""
    return Reply(200, call.emulator.pending.state())


def rules(call: Call) -> Reply:
    """The rules the emulator enforces, each with its source (see ``rules``)."""
    return Reply(200, {"rules": rules_json()})
