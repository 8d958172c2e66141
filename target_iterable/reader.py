"""Reading Singer messages from stdin: fast, bounded, and precise about bad lines.

msgspec decodes each line (JSON floats as Decimal, like the SDK's reader), and
every problem is reported with its line number and stream instead of a dump
of the offending line: a line can hold a customer's personal data.

One fault is a per-record problem, not a fatal one: bare ``NaN``, ``Infinity``
and ``-Infinity`` tokens, which are not JSON but which taps built on the older
singer-python library write for non-finite floats (``json.dumps`` allows them
by default). A line msgspec refuses is read once more, leniently; when those
tokens were its only fault and it is a RECORD, that record is rejected (reason
``non_finite_number``) and the run goes on.
"""

from __future__ import annotations

import decimal
import io
import json
import sys
from collections import Counter
from collections.abc import Callable
from typing import IO, Any, Protocol, runtime_checkable

import msgspec
from singer_sdk import exceptions as sdk_exceptions
from singer_sdk.singerlib.encoding import GenericSingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine

from target_iterable.errors import SingerInputError, TerminationRequested, UnknownStreamError
from target_iterable.reasons import Reason

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
RECORD = "RECORD"


class NonFiniteToken(str):
    """A bare ``NaN``, ``Infinity`` or ``-Infinity`` of a line, kept as its text."""


@runtime_checkable
class InputRejecter(Protocol):
    """What receives the RECORD callback and can reject a record before any sink
    (the target's ``reject_input``): counted under its stream, in the rejects file."""

    def reject_input(
        self, stream: str, record: dict[str, Any], reason: Reason, message: str
    ) -> None: ...


def read_with_non_finite_tokens(raw: bytes) -> dict[str, Any] | None:
    """The message of a line msgspec refused, when bare NaN / Infinity tokens were its
    only fault (each kept as a ``NonFiniteToken``); None otherwise."""
    seen = False

    def token(text: str) -> NonFiniteToken:
        nonlocal seen
        seen = True
        return NonFiniteToken(text)

    try:
        message = json.loads(raw, parse_float=decimal.Decimal, parse_constant=token)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        return None
    return message if seen and isinstance(message, dict) else None


def non_finite_fields(value: Any, path: str = "") -> list[str]:
    """``'path' (token)`` for each bare token in a record, nested ones by dotted path."""
    if isinstance(value, NonFiniteToken):
        return [f"'{path}' ({value})"]
    found: list[str] = []
    if isinstance(value, dict):
        for name, item in value.items():
            found += non_finite_fields(item, f"{path}.{name}" if path else str(name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += non_finite_fields(item, f"{path}[{index}]")
    return found


def _binary(file_input: IO[Any] | None) -> IO[bytes]:
    if file_input is None:
        return sys.stdin.buffer
    if isinstance(file_input, io.TextIOBase) and hasattr(file_input, "buffer"):
        return file_input.buffer
    return file_input


class SingerLineReader(GenericSingerReader[bytes]):
    """Singer reader over bytes with line numbers in every error."""

    max_line_bytes = MAX_LINE_BYTES
    # Set by the target's signal handler: stop before the next message. While the
    # reader waits for input, the handler stops it at once instead.
    stop_signal: int | None = None
    waiting_for_input = False

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

    def _next_line(self, stream: IO[bytes]) -> bytes:
        """The next line; a stop asked by a signal takes effect here, between messages."""
        if self.stop_signal is not None:
            raise TerminationRequested(self.stop_signal)
        self.waiting_for_input = True
        try:
            return stream.readline(self.max_line_bytes + 1)
        finally:
            self.waiting_for_input = False

    def process_lines(
        self,
        file_input: IO[Any] | None,
        callbacks: dict[str, Callable[[dict[str, Any]], None]],
    ) -> Counter[str]:
        stats: Counter[str] = Counter()
        stream = _binary(file_input)
        line_number = 0
        while raw := self._next_line(stream):
            line_number += 1
            if len(raw) > self.max_line_bytes:
                raise SingerInputError(
                    f"line {line_number}: longer than {self.max_line_bytes // (1024 * 1024)} MB; "
                    "no record that long can be sent to Iterable (4 MB per request)"
                )
            if not raw.strip():
                continue
            message = self._decode(raw, line_number, callbacks)
            if message is None:  # a record with bare NaN / Infinity tokens: rejected
                stats[RECORD] += 1
                continue
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

    def _decode(
        self,
        raw: bytes,
        line_number: int,
        callbacks: dict[str, Callable[[dict[str, Any]], None]] | None = None,
    ) -> dict[str, Any] | None:
        """The message of a line; None when it was a record rejected for bare NaN /
        Infinity tokens; SingerInputError when the line cannot be read."""
        try:
            return self.deserialize_json(raw)
        except (UnicodeDecodeError, msgspec.DecodeError) as exc:
            lenient = read_with_non_finite_tokens(raw)
            if lenient is None:
                raise SingerInputError(
                    f"line {line_number}: {undecodable_line(raw, exc)}"
                ) from None
            self._reject_non_finite(lenient, line_number, callbacks or {})
            return None
        except InvalidInputLine as exc:
            raise SingerInputError(f"line {line_number}: {exc}") from None

    @staticmethod
    def _reject_non_finite(
        message: dict[str, Any],
        line_number: int,
        callbacks: dict[str, Callable[[dict[str, Any]], None]],
    ) -> None:
        """Reject a RECORD holding bare NaN / Infinity tokens (JSON has no such numbers
        and Iterable cannot store them); any other message with them is fatal."""
        stream, record = message.get("stream"), message.get("record")
        fields = non_finite_fields(record)
        rejecter = getattr(callbacks.get(RECORD), "__self__", None)
        if (
            message.get("type") != RECORD
            or not isinstance(stream, str)
            or not isinstance(record, dict)
            or not fields
            or not isinstance(rejecter, InputRejecter)
        ):
            raise SingerInputError(
                f"line {line_number}: not valid JSON (bare NaN / Infinity tokens, which "
                "taps built on singer-python write for non-finite numbers, are accepted "
                "only inside a RECORD's record, which is then rejected)"
            )
        rejecter.reject_input(
            stream,
            record,
            Reason.NON_FINITE_NUMBER,
            f"line {line_number}: "
            + (f"field {fields[0]} is" if len(fields) == 1 else f"fields {', '.join(fields)} are")
            + " not a number: a bare NaN or Infinity token is not JSON (the tap wrote a "
            "non-finite float), and Iterable cannot store it",
        )


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
