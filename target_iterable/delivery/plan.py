"""The plan of a dry run: every write request the target would send, one JSON line each.

The body is written exactly as it would go out (decoded once, so the line stays
one JSON document a user can diff, or replay with curl after ``jq .body``).
Read-only requests are sent for real (pre-flight types, update-only lookups),
so the plan is what a real run of the same input would write, no more.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

import orjson

from target_iterable.errors import ConfigurationError

# The stream whose request is being sent, on the thread sending it.
_stream: ContextVar[str] = ContextVar("stream", default="")


@contextlib.contextmanager
def planning_for(stream: str) -> Iterator[None]:
    """Requests made inside belong to ``stream`` in the plan."""
    token = _stream.set(stream)
    try:
        yield
    finally:
        _stream.reset(token)


class PlanFile:
    """The dry run's plan; readable by its owner only (bodies hold personal data)."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.count = 0
        self._lock = threading.Lock()
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot write the dry run's plan to {self.path}: {exc.strerror}"
            ) from None
        self._file = os.fdopen(descriptor, "wb")

    def record(self, method: str, path: str, body: bytes | None) -> None:
        line = {
            "stream": _stream.get(),
            "method": method,
            "path": path,
            "body": orjson.loads(body) if body else None,
        }
        encoded = orjson.dumps(line) + b"\n"
        with self._lock:
            self._file.write(encoded)
            self.count += 1

    def close(self) -> None:
        with self._lock:
            self._file.close()
