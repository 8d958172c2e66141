"""The run report: one JSON document written at the end of every run (``run_report_path``).

Schedulers and dashboards read how a run ended from it instead of parsing logs:
per-stream counts, reject reasons, requests, retries, 429s, bytes, durations,
the last STATE emitted and the exit status. Its shape is documented by
``schemas/run-report.schema.json`` (``schema_version`` changes when a field's
meaning does). It holds counts, names and reasons only: never the API key, never
a record's values.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgspec

from target_iterable.delivery.run_summary import StreamStats
from target_iterable.encoding import encode_faithfully

SCHEMA_VERSION = 1

Status = Literal["succeeded", "failed", "stopped", "crashed"]


@dataclass(frozen=True)
class RunOutcome:
    """How the run ended: its exit code, and the one error line if it failed."""

    exit_code: int
    status: Status
    error: str | None = None


@dataclass(frozen=True)
class RunClock:
    """When the run started: wall time for the report, monotonic time for durations."""

    started_at: dt.datetime
    started_monotonic: float


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


def stream_report(stats: StreamStats, ended_monotonic: float) -> dict[str, Any]:
    """One stream's counts; its duration runs from its SCHEMA to its last answer
    from Iterable (to the end of the run when it sent nothing)."""
    last = stats.last_answer_at if stats.last_answer_at is not None else ended_monotonic
    return {
        "received": stats.received,
        "sent": stats.sent,
        "accepted": stats.accepted,
        "rejected": stats.rejected_total,
        "reject_reasons": dict(sorted(stats.rejected.items())),
        "unchanged": stats.unchanged,
        "deleted": stats.deleted,
        "adjusted_values": {kind: n for kind, n in sorted(stats.adjusted.items()) if n},
        "requests": stats.requests,
        "retries": stats.retries,
        "rate_limited": stats.throttled,
        "bytes_sent": stats.bytes_sent,
        "duration_seconds": round(max(0.0, last - stats.started_at), 3),
    }


def build_report(
    *,
    streams: Iterable[StreamStats],
    outcome: RunOutcome,
    clock: RunClock,
    ended_at: dt.datetime,
    ended_monotonic: float,
    last_state: Mapping[str, Any] | None,
    dry_run: bool,
    rejects_path: str,
    rejects_count: int,
) -> dict[str, Any]:
    """The report as a JSON-ready document (schemas/run-report.schema.json)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "target": {"name": "target-iterable", "version": _version()},
        "started_at": _timestamp(clock.started_at),
        "ended_at": _timestamp(ended_at),
        "duration_seconds": round(ended_monotonic - clock.started_monotonic, 3),
        "dry_run": dry_run,
        "outcome": {
            "status": outcome.status,
            "exit_code": outcome.exit_code,
            "error": outcome.error,
        },
        "streams": {
            stats.stream: stream_report(stats, ended_monotonic)
            for stats in sorted(streams, key=lambda s: s.stream)
        },
        "rejects": {"path": rejects_path, "count": rejects_count},
        "last_state": dict(last_state) if last_state is not None else None,
    }


def _version() -> str:
    try:
        return importlib.metadata.version("target-iterable")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def write_report(path: str, document: Mapping[str, Any]) -> None:
    """Replace the report atomically (a reader never sees half of one), mode 0600 like
    the rejects file: a report names streams and reject reasons."""
    target = Path(path)
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            # Faithfully: a STATE's decimals stay exact.
            handle.write(msgspec.json.format(encode_faithfully(document), indent=2) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
