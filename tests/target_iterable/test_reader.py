"""The reader names each kind of undecodable line itself, whatever the decoder says.

A decoder's wording (and even its classification) changes between releases:
msgspec 0.23 reports invalid UTF-8 as a JSON error. These tests pin the
target's own classification, and prove it does not read the decoder's text.
"""

from __future__ import annotations

import io
from typing import Any

import msgspec
import pytest

from target_iterable import reader
from target_iterable.errors import SingerInputError
from target_iterable.reader import SingerLineReader

SCHEMA_LINE = b'{"type": "SCHEMA", "stream": "users", "schema": {}, "key_properties": []}\n'


def read(data: bytes) -> list[dict[str, Any]]:
    """Read ``data``; return the messages handed to the callbacks before any error."""
    seen: list[dict[str, Any]] = []
    callbacks = dict.fromkeys(("SCHEMA", "RECORD", "STATE"), seen.append)
    SingerLineReader().process_lines(io.BytesIO(data), callbacks=callbacks)
    return seen


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        pytest.param(b'{"type": "RECORD", "rec', "line 2: not valid JSON (", id="truncated JSON"),
        pytest.param(b"nonsense", "line 2: not valid JSON (", id="not JSON at all"),
        pytest.param(
            b'{"type": "RECORD", "record": {"email": "caf\xe9@x.io"}}',
            "line 2: not valid UTF-8 (invalid continuation byte at byte 43); "
            "Singer messages are UTF-8 JSON",
            id="Latin-1 byte in a string",
        ),
        pytest.param(
            b'{"type": "RECORD", "rec\xff',
            "line 2: not valid UTF-8 (invalid start byte at byte 23)",
            id="invalid UTF-8 in broken JSON",
        ),
        pytest.param(
            b'["not", "an", "object"]',
            "line 2: a Singer message is a JSON object, not list",
            id="message not an object",
        ),
        pytest.param(
            b'{"type": "BOGUS"}',
            "line 2: unknown Singer message type 'BOGUS'",
            id="unknown message type",
        ),
        pytest.param(
            b'{"stream": "users"}', "line 2: unknown Singer message type None", id="no type"
        ),
    ],
)
def test_each_kind_of_bad_line_is_named_with_its_line(bad_line: bytes, expected: str) -> None:
    with pytest.raises(SingerInputError) as raised:
        read(SCHEMA_LINE + bad_line + b"\n")
    assert str(raised.value).startswith(expected)
    assert "caf" not in str(raised.value)  # the line's content is never echoed


class MisleadingDecoder:
    """Decodes like msgspec, but fails with a message that names the wrong fault."""

    def __init__(self, message: str) -> None:
        self.message = message

    def decode(self, line: bytes) -> Any:
        if line.startswith(b'{"type": "SCHEMA"'):
            return msgspec.json.decode(line)
        raise msgspec.DecodeError(self.message)


@pytest.mark.parametrize(
    ("decoder_says", "bad_line", "expected"),
    [
        pytest.param(
            "Invalid UTF-8 encoded string",
            b'{"type": "RECORD", "rec',
            "line 2: not valid JSON (Invalid UTF-8 encoded string)",
            id="decoder blames UTF-8 for broken JSON",
        ),
        pytest.param(
            "JSON is malformed: invalid character",
            b'{"type": "RECORD", "record": {"a": "\xe9"}}',
            "line 2: not valid UTF-8 (invalid continuation byte",
            id="decoder blames JSON for invalid UTF-8",
        ),
    ],
)
def test_the_classification_does_not_depend_on_the_decoders_wording(
    monkeypatch: pytest.MonkeyPatch, decoder_says: str, bad_line: bytes, expected: str
) -> None:
    monkeypatch.setattr(reader, "_decoder", MisleadingDecoder(decoder_says))
    with pytest.raises(SingerInputError) as raised:
        read(SCHEMA_LINE + bad_line + b"\n")
    assert str(raised.value).startswith(expected)


def test_lines_before_the_bad_one_are_handed_on() -> None:
    seen: list[dict[str, Any]] = []
    with pytest.raises(SingerInputError, match="line 3: not valid UTF-8"):
        SingerLineReader().process_lines(
            io.BytesIO(SCHEMA_LINE + b"\n" + b'{"type": "STATE", "value": "\xff"}\n'),
            callbacks={"SCHEMA": seen.append},
        )
    assert [message["type"] for message in seen] == ["SCHEMA"]
