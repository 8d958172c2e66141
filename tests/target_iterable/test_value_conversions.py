"""Table tests of value conversions real tap schemas need: arrays of dates, decimal strings."""

from __future__ import annotations

import decimal
from typing import Any

import orjson
import pytest

from target_iterable.encoding import encode_for_iterable
from target_iterable.mapping.catalog import catalog_field_types
from target_iterable.mapping.users import user_payload
from target_iterable.mapping.values import compile_converters
from target_iterable.reasons import Reason, RecordRejected

DATE_TIME = {"type": "string", "format": "date-time"}
SCHEMA: dict[str, Any] = {
    "properties": {
        "email": {"type": "string"},
        "logins": {"type": ["array", "null"], "items": DATE_TIME},
        "holidays": {"type": "array", "items": {"type": ["string", "null"], "format": "date"}},
        "orders": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {"placed_at": DATE_TIME, "total": {"type": "number"}},
            },
        },
        "weeks": {"type": "array", "items": {"type": "array", "items": DATE_TIME}},
        "scores": {"anyOf": [{"type": "array", "items": {"type": "number"}}, {"type": "null"}]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "balance": {"type": ["string", "null"], "format": "x-singer.decimal"},
        # singer-sdk's typing helpers write the format without the "x-".
        "credit": {"type": "string", "format": "singer.decimal"},
    }
}
CONVERTERS = compile_converters(SCHEMA)


def data_fields(record: dict[str, Any]) -> Any:
    """The dataFields exactly as the request body carries them."""
    payload = user_payload({"email": "a@b.co", **record}, CONVERTERS)
    return orjson.loads(encode_for_iterable(payload))["dataFields"]


def test_arrays_needing_no_conversion_cost_nothing_per_record() -> None:
    assert "tags" not in CONVERTERS
    assert "email" not in CONVERTERS


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        pytest.param(
            {"logins": ["2024-03-01T12:30:45+02:00", None, "2024-03-02T00:00:00Z"]},
            {"logins": ["2024-03-01 10:30:45 +00:00", None, "2024-03-02 00:00:00 +00:00"]},
            id="array of date-times, element-wise, nulls kept",
        ),
        pytest.param(
            {"holidays": ["2024-12-25", "2024-12-26T00:00:00"]},
            {"holidays": ["2024-12-25", "2024-12-26"]},
            id="array of dates",
        ),
        pytest.param(
            {"logins": [], "orders": None},
            {"logins": [], "orders": None},
            id="empty array and null array",
        ),
        pytest.param(
            {"orders": [{"placed_at": "2024-01-02T03:04:05Z", "total": 5, "note": "x"}]},
            {"orders": [{"placed_at": "2024-01-02 03:04:05 +00:00", "total": 5.0, "note": "x"}]},
            id="objects in an array: their dates and numbers converted",
        ),
        pytest.param(
            {"weeks": [["2024-01-01T00:00:00+01:00"], []]},
            {"weeks": [["2023-12-31 23:00:00 +00:00"], []]},
            id="arrays of arrays",
        ),
        pytest.param(
            {"scores": [1, decimal.Decimal("2.5")], "tags": ["a", "b"]},
            {"scores": [1.0, 2.5], "tags": ["a", "b"]},
            id="array of numbers as doubles, like number fields",
        ),
        pytest.param(
            {"balance": "1234.50", "credit": "5"},
            {"balance": 1234.5, "credit": 5.0},
            id="decimal strings as doubles (5.0, so the field never locks as long)",
        ),
        pytest.param(
            {"balance": "-0.001", "credit": "1E+3"},
            {"balance": -0.001, "credit": 1000.0},
            id="decimal strings as str(Decimal) writes them",
        ),
        pytest.param(
            {"balance": None, "credit": decimal.Decimal("7")},
            {"balance": None, "credit": 7.0},
            id="null decimal string, or a number where a decimal string was announced",
        ),
    ],
)
def test_conversions(record: dict[str, Any], expected: dict[str, Any]) -> None:
    converted = data_fields(record)
    assert converted == expected
    assert [type(value) for value in converted.values()] == [
        type(value) for value in expected.values()
    ]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            {"logins": ["2024-03-01T00:00:00Z", "yesterday"]},
            "field 'logins': item 1: 'yesterday' is not an ISO-8601 date-time",
        ),
        (
            {"orders": [{"placed_at": "2024-01-02T03:04:05Z"}, {"placed_at": "soon"}]},
            "field 'orders': item 1: field 'placed_at': 'soon' is not an ISO-8601 date-time",
        ),
        ({"holidays": ["25/12/2024"]}, "field 'holidays': item 0: '25/12/2024' is not an ISO-8601"),
        ({"balance": "12,50"}, "field 'balance': '12,50' is not a decimal number"),
        ({"balance": "NaN"}, "field 'balance': 'NaN' is not a decimal number"),
        ({"balance": ""}, "field 'balance': '' is not a decimal number"),
        ({"credit": "1_000"}, "field 'credit': '1_000' is not a decimal number"),
        ({"credit": "1e999"}, "field 'credit': '1e999' is out of the range of a double"),
    ],
)
def test_unconvertible_values_refuse_the_record(record: dict[str, Any], message: str) -> None:
    with pytest.raises(RecordRejected) as refused:
        data_fields(record)
    assert refused.value.reason is Reason.INVALID_VALUE
    assert message in refused.value.message


def test_catalog_declares_decimal_strings_as_doubles() -> None:
    schema = {
        "properties": {
            "price": {"type": ["string", "null"], "format": "x-singer.decimal"},
            "sku_name": {"type": "string"},
        }
    }
    assert catalog_field_types(schema) == {"price": "double", "sku_name": "string"}
