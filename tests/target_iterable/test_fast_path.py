"""The fast path (msgspec reader, compiled validator) agrees with the SDK's defaults."""

from __future__ import annotations

import decimal
import io
import json
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.exceptions import InvalidRecord
from singer_sdk.io_base import SingerReader
from singer_sdk.sinks.core import JSONSchemaValidator

from target_iterable.reader import SingerLineReader
from target_iterable.validation import CompiledSchemaValidator

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "email": {"type": "string"},
        "age": {"type": ["integer", "null"]},
        "ltv": {"type": ["number", "null"]},
        "vip": {"type": "boolean"},
        "since": {"type": "string", "format": "date-time"},
        "address": {
            "type": ["object", "null"],
            "properties": {"zip": {"type": "string"}},
            "required": ["zip"],
        },
        "tags": {"type": "array", "items": {"type": "string"}},
        "plan": {"type": "string", "enum": ["free", "pro"]},
    },
    "required": ["email"],
}

CORPUS: list[dict[str, Any]] = [
    {"email": "a@x.io"},
    {"email": "a@x.io", "age": 3, "ltv": decimal.Decimal("1.5"), "vip": True},
    {"email": "a@x.io", "age": None, "ltv": None, "since": "not a date"},
    {"email": "a@x.io", "address": {"zip": "N1"}, "tags": ["a", "b"], "plan": "pro"},
    {"age": 3},
    {"email": 7},
    {"email": "a@x.io", "age": "3"},
    {"email": "a@x.io", "age": decimal.Decimal("3.5")},
    {"email": "a@x.io", "vip": "yes"},
    {"email": "a@x.io", "address": {}},
    {"email": "a@x.io", "tags": ["a", 1]},
    {"email": "a@x.io", "plan": "gold"},
    {"email": "a@x.io", "extra": {"anything": [1, 2]}},
]


def verdict(validator: Any, record: dict[str, Any]) -> bool:
    try:
        validator.validate(record)
    except InvalidRecord:
        return False
    return True


@pytest.mark.parametrize("record", CORPUS)
def test_compiled_validator_agrees_with_the_sdk_default(record: dict[str, Any]) -> None:
    assert verdict(CompiledSchemaValidator(SCHEMA), record) == verdict(
        JSONSchemaValidator(SCHEMA), record
    )


def test_msgspec_reader_parses_like_the_sdk_reader(tmp_path: Path) -> None:
    lines = [
        json.dumps({"type": "SCHEMA", "stream": "users", "schema": SCHEMA, "key_properties": []}),
        '{"type":"RECORD","stream":"users","record":{"email":"caf\\u00e9@x.io","ltv":19.90,'
        '"n":12345678901234567890,"f":1e-7,"nested":{"a":[1,2.5,null,true]}}}',
        '{"type":"STATE","value":{"bookmarks":{"users":{"replication_key_value":"2024-01-01"}}}}',
    ]
    text = "\n".join(lines) + "\n"
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    callbacks_ours = dict.fromkeys(("SCHEMA", "RECORD", "STATE"), ours.append)
    callbacks_theirs = dict.fromkeys(("SCHEMA", "RECORD", "STATE"), theirs.append)
    SingerLineReader().process_lines(io.BytesIO(text.encode()), callbacks_ours)
    SingerReader().process_lines(io.StringIO(text), callbacks_theirs)
    assert ours == theirs
    assert isinstance(ours[1]["record"]["ltv"], decimal.Decimal)
