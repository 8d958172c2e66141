"""Reading Singer messages from stdin: fast, bounded, and precise about bad lines.

msgspec decodes each line (JSON floats as Decimal, like the SDK's reader), and
every problem is reported with its line number and stream instead of a dump
of the offending line: a line can hold a customer's personal data.
"""

from __future__ import annotations

import decimal
import io
import sys
from collections import Counter
from collections.abc import Callable
from typing import IO, Any

import msgspec
from singer_sdk import exceptions as sdk_exceptions
from singer_sdk.singerlib.encoding import GenericSingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine

from target_iterable.errors import SingerInputError, UnknownStreamError

# A record can never be sent in more than one 4 MB body; a far longer line is a
# broken tap, and reading it whole would only exhaust memory.
MAX_LINE_BYTES = 64 * 1024 * 1024

# Errors raised for a message the target cannot accept; reported with the line.
INPUT_ERRORS: tuple[type[Exception], ...] = (
    UnknownStreamError,
    InvalidInputLine,
    sdk_exceptions.RecordsWithoutSchemaException,
    sdk_exceptions.InvalidRecord,
    sdk_exceptions.MissingKeyPropertiesError,
    sdk_exceptions.InvalidJSONSchema,
    sdk_exceptions.StreamMapConfigError,
)

_decoder = msgspec.json.Decoder(float_hook=decimal.Decimal)


def _binary(file_input: IO[Any] | None) -> IO[bytes]:
    if file_input is None:
        return sys.stdin.buffer
    if isinstance(file_input, io.TextIOBase) and hasattr(file_input, "buffer"):
        return file_input.buffer
    return file_input


class SingerLineReader(GenericSingerReader[bytes]):
    """Singer reader over bytes with line numbers in every error."""

    max_line_bytes = MAX_LINE_BYTES

    @property
    def default_input(self) -> IO[bytes]:
        return sys.stdin.buffer

    def deserialize_json(self, line: bytes) -> dict[str, Any]:
        message = _decoder.decode(line)
        if not isinstance(message, dict):
            raise InvalidInputLine(
                f"a Singer message is a JSON object, not {type(message).__name__}"
            )
        return message

    def process_lines(
        self,
        file_input: IO[Any] | None,
        callbacks: dict[str, Callable[[dict[str, Any]], None]],
    ) -> Counter[str]:
        stats: Counter[str] = Counter()
        stream = _binary(file_input)
        line_number = 0
        while raw := stream.readline(self.max_line_bytes + 1):
            line_number += 1
            if len(raw) > self.max_line_bytes:
                raise SingerInputError(
                    f"line {line_number}: longer than {self.max_line_bytes // (1024 * 1024)} MB; "
                    "no record that long can be sent to Iterable (4 MB per request)"
                )
            if not raw.strip():
                continue
            message = self._decode(raw, line_number)
            message_type = message.get("type")
            callback = callbacks.get(message_type) if isinstance(message_type, str) else None
            if callback is None:
                raise SingerInputError(
                    f"line {line_number}: unknown Singer message type {message_type!r} "
                    "(expected SCHEMA, RECORD, STATE, ACTIVATE_VERSION or BATCH)"
                )
            try:
                callback(message)
            except INPUT_ERRORS as exc:
                # Keep the exception's type (callers and the SDK's own tests rely on it)
                # and put the line and stream in front of its message.
                where = f"line {line_number}"
                if isinstance(message.get("stream"), str):
                    where += f", stream '{message['stream']}'"
                exc.args = (f"{where}: {exc}", *exc.args[1:])
                raise
            stats[str(message_type)] += 1
        return stats

    def _decode(self, raw: bytes, line_number: int) -> dict[str, Any]:
        try:
            return self.deserialize_json(raw)
        except (UnicodeDecodeError, msgspec.DecodeError) as exc:
            raise SingerInputError(f"line {line_number}: {undecodable_line(raw, exc)}") from None
        except InvalidInputLine as exc:
            raise SingerInputError(f"line {line_number}: {exc}") from None


def undecodable_line(raw: bytes, exc: Exception) -> str:
    """Why a line could not be decoded, classified by the target, not by the decoder.

    Decoders word (and even classify) the same fault differently from one release
    to the next (msgspec 0.23 reports invalid UTF-8 as a JSON error), so the
    failing line alone is checked for UTF-8 here; the decoder's own text is only
    a detail in parentheses.
    """
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"not valid UTF-8 ({bad.reason} at byte {bad.start}); Singer messages are UTF-8 JSON"
    return f"not valid JSON ({exc})"
