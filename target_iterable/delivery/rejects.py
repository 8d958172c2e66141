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
from target_iterable.errors import TargetIterableError
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


class RejectsFileError(TargetIterableError):
    """The rejects file cannot be written: a refused record would be lost."""


class RejectsFile:
    """Thread-safe appender, opened on the first reject so clean runs leave no file.

    The file holds emails and profile fields: it is created readable by its owner
    only (0600). A line that cannot be written stops the run with a message naming
    the path, before any STATE could claim the record: a reject that is not on disk
    is a record lost.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None
        self.count = 0

    def check_writable(self) -> None:
        """Fail at start-up, not at the first reject, when the file cannot be written."""
        existed = self.path.exists()
        with self._lock:
            self._open().close()
            self._file = None
        if not existed:
            self.path.unlink()

    def _open(self) -> IO[bytes]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.fchmod(descriptor, 0o600)  # also a file an older version left readable
            return os.fdopen(descriptor, "ab")
        except OSError as exc:
            raise RejectsFileError(
                f"cannot write the rejects file {self.path}: {exc.strerror or exc}; set "
                "rejects_path to a writable file"
            ) from None

    def write(self, rejected: RejectedRecord) -> None:
        line = rejected.to_json_line()
        with self._lock:
            if self._file is None:
                self._file = self._open()
            try:
                self._file.write(line)
            except OSError as exc:
                raise RejectsFileError(
                    f"cannot write the rejects file {self.path}: {exc.strerror or exc}"
                ) from None
            self.count += 1

    def sync(self) -> None:
        """Make every written line durable (called before each checkpoint)."""
        with self._lock:
            if self._file is not None:
                try:
                    self._file.flush()
                    os.fsync(self._file.fileno())
                except OSError as exc:
                    raise RejectsFileError(
                        f"cannot write the rejects file {self.path}: {exc.strerror or exc}"
                    ) from None

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
                self._file = None
