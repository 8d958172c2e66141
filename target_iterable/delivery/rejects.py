"""The rejects file: one JSON line per record that did not reach Iterable.

Nothing is dropped silently: every refusal, local or Iterable's, is written
here with the stream, the record as the sink received it, a stable reason code
and a human message. The file is flushed and fsynced before each STATE, so a
checkpoint never claims a record that is neither in Iterable nor here.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgspec

from target_iterable.encoding import encode_faithfully
from target_iterable.reasons import Reason


@dataclass(frozen=True)
class RejectedRecord:
    """One refused record, as written to the rejects file."""

    stream: str
    record: Mapping[str, Any] | bytes  # bytes: already encoded (see PreparedRecord)
    reason: Reason
    message: str

    def to_json_line(self) -> bytes:
        return (
            encode_faithfully(
                {
                    "stream": self.stream,
                    "reason": self.reason.value,
                    "message": self.message,
                    "record": msgspec.Raw(self.record)
                    if isinstance(self.record, bytes)
                    else self.record,
                    "rejected_at": dt.datetime.now(dt.timezone.utc).isoformat(),
                }
            )
            + b"\n"
        )


class RejectsFile:
    """Thread-safe appender, opened on the first reject so clean runs leave no file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None
        self.count = 0

    def write(self, rejected: RejectedRecord) -> None:
        line = rejected.to_json_line()
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("ab")
            self._file.write(line)
            self.count += 1

    def sync(self) -> None:
        """Make every written line durable (called before each checkpoint)."""
        with self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
                self._file = None
