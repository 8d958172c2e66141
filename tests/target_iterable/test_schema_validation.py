"""Table tests of the compiled validator on the number keywords real taps write.

Schemas are read the way the target reads them (JSON numbers with a fraction as
Decimal), since that is what broke fastjsonschema's own ``multipleOf``.
"""

from __future__ import annotations

import decimal
import json
from typing import Any

import fastjsonschema
import pytest
from fastjsonschema.ref_resolver import RefResolver
from singer_sdk.exceptions import InvalidJSONSchema, InvalidRecord

from target_iterable.validation import (
    CompiledSchemaValidator,
    SingerSchemaCodeGenerator,
    allow_null_array_items,
)
from tests.target_iterable.test_fast_path import SCHEMA as PLAIN_SCHEMA


def as_read(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as the target reads it from a SCHEMA message."""
    read: dict[str, Any] = json.loads(json.dumps(schema), parse_float=decimal.Decimal)
    return read


# What tap-postgres (singer-io / pipelinewise) emits for a numeric(10,2) column.
NUMERIC_10_2 = {
    "type": ["null", "number"],
    "multipleOf": 0.01,
    "maximum": 100000000,
    "exclusiveMaximum": True,
    "minimum": -100000000,
    "exclusiveMinimum": True,
}
SCHEMA = as_read(
    {
        "type": "object",
        "properties": {
            "amount": NUMERIC_10_2,
            "step_float": {"type": "number", "multipleOf": 0.1},
            "every_fifth": {"type": "integer", "multipleOf": 5},
            "lines": {
                "type": "array",
                "items": {"type": "object", "properties": {"price": NUMERIC_10_2}},
            },
            "maybe": {"anyOf": [NUMERIC_10_2, {"type": "string"}]},
            "rate": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "ratio": {"type": "number", "minimum": 0, "maximum": 1, "exclusiveMaximum": False},
        },
    }
)
D = decimal.Decimal


def verdict(record: dict[str, Any]) -> str | None:
    """None when valid, else the violation message."""
    try:
        CompiledSchemaValidator(SCHEMA).validate(record)
    except InvalidRecord as violation:
        return str(violation.error_message)
    return None


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"amount": D("19.99")}, None),
        ({"amount": D("19.90")}, None),
        ({"amount": D("-0.01")}, None),
        ({"amount": 42}, None),
        ({"amount": None}, None),
        ({"amount": D("1E+2")}, None),
        ({"amount": 0.57}, None),  # a float from a stream map: the decimal it prints as
        ({"amount": D("99999999.99")}, None),
        ({"amount": D("19.999")}, "field 'amount' must be multiple of 0.01"),
        ({"amount": 0.575}, "field 'amount' must be multiple of 0.01"),
        ({"amount": 100000000}, "field 'amount' must be smaller than 100000000"),
        ({"amount": -100000000}, "field 'amount' must be bigger than -100000000"),
        ({"amount": "19.99"}, "field 'amount' must be null or number"),
        ({"step_float": D("0.3")}, None),
        ({"step_float": D("0.35")}, "field 'step_float' must be multiple of 0.1"),
        ({"every_fifth": 10}, None),
        ({"every_fifth": 12}, "field 'every_fifth' must be multiple of 5"),
        ({"lines": [{"price": D("1.50")}, {"price": 3}]}, None),
        ({"lines": [{"price": D("1.50")}, {"price": D("1.505")}]}, "must be multiple of 0.01"),
        ({"maybe": D("2.25")}, None),
        ({"maybe": "n/a"}, None),
        ({"maybe": D("2.255")}, "field 'maybe' cannot be validated by any definition"),
        ({"rate": D("0.5")}, None),
        ({"rate": 1}, "field 'rate' must be smaller than 1"),
        ({"ratio": 1}, None),
    ],
)
def test_number_keywords(record: dict[str, Any], expected: str | None) -> None:
    result = verdict(record)
    if expected is None:
        assert result is None
    else:
        assert result is not None
        assert expected in result


@pytest.mark.parametrize("step", [0, -0.5, "0.01", True])
def test_an_impossible_multiple_of_is_an_invalid_schema(step: Any) -> None:
    schema = as_read({"properties": {"x": {"type": "number", "multipleOf": step}}})
    with pytest.raises(InvalidJSONSchema, match="multipleOf"):
        CompiledSchemaValidator(schema)


def test_schemas_without_these_keywords_compile_as_fastjsonschema_compiles_them() -> None:
    resolver = RefResolver.from_schema(PLAIN_SCHEMA, handlers={}, store={})
    ours = SingerSchemaCodeGenerator(
        PLAIN_SCHEMA, resolver=resolver, use_default=False, use_formats=False
    )
    theirs = fastjsonschema.compile_to_code(PLAIN_SCHEMA, use_default=False, use_formats=False)
    assert theirs.endswith(ours.func_code)


ARRAYS = as_read(
    {
        "type": "object",
        "properties": {
            "tags": {"type": ["array", "null"], "items": {"type": "string"}},  # text[]
            "grid": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
            "moods": {"type": "array", "items": {"type": "string", "enum": ["ok", "sad"]}},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"codes": {"type": "array", "items": {"type": "string"}}},
                },
            },
            "items": {"type": "array", "items": {"$ref": "#/definitions/price"}},
        },
        "definitions": {"price": NUMERIC_10_2},
    }
)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"tags": ["a", None, "b"]}, None),
        ({"tags": [None]}, None),
        ({"tags": ["a", 5]}, "field 'tags.1' must be string or null"),
        ({"grid": [[1, None], None]}, None),
        ({"grid": [[1, "x"]]}, "field 'grid.0.1' must be integer or null"),
        ({"moods": ["ok", None]}, None),
        ({"moods": ["meh"]}, "field 'moods.0' must be one of ['ok', 'sad', None]"),
        ({"lines": [{"codes": ["a", None]}, None]}, None),
        ({"items": [D("1.50"), None]}, None),
        ({"items": [D("1.505")]}, "field 'items.0' cannot be validated by any definition"),
    ],
)
def test_a_null_inside_an_array_is_not_a_violation(
    record: dict[str, Any], expected: str | None
) -> None:
    """tap-postgres declares text[] items non-null, but {a,NULL} is a valid value: the
    converters drop the null; a wrong item is still refused."""
    validator = CompiledSchemaValidator(ARRAYS)
    if expected is None:
        validator.validate(record)
        return
    with pytest.raises(InvalidRecord) as violation:
        validator.validate(record)
    assert expected in str(violation.value.error_message)


def test_nullable_items_leave_the_rest_of_the_schema_alone() -> None:
    schema = {
        "type": "object",
        "properties": {
            "items": {"type": "string"},  # a property named "items", not the keyword
            "tags": {"type": "array", "items": {"type": ["string", "null"]}},
            "any": {"type": "array", "items": {}},
        },
    }
    assert allow_null_array_items(schema) == schema
    assert allow_null_array_items({"type": "array", "items": {"type": "string"}}) == {
        "type": "array",
        "items": {"type": ["string", "null"]},
    }
