"""Table tests of value conversions real tap schemas need (arrays of dates, decimal
strings) and of the value rules (numbers a double cannot hold, nulls in arrays, periods
in field names, values over Iterable's size)."""

from __future__ import annotations

import decimal
from typing import Any

import orjson
import pytest

from target_iterable.config_schema import CONFIG_SCHEMA
from target_iterable.encoding import encode_for_iterable
from target_iterable.errors import ConfigurationError
from target_iterable.iterable.checks import MAX_FIELD_VALUE_CHARACTERS
from target_iterable.mapping.catalog import catalog_field_types, catalog_item
from target_iterable.mapping.events import event_payload
from target_iterable.mapping.users import user_payload
from target_iterable.mapping.values import (
    InexactNumbers,
    LongValues,
    ValueNotes,
    ValuePolicy,
    compile_converters,
    schema_fits_a_double,
)
from target_iterable.reasons import Reason, RecordRejected
from target_iterable.settings import NO_OPTIONS, Settings
from tests.pipelines.test_postgres_pipeline import typed

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


def test_fields_no_rule_can_apply_to_cost_nothing_per_record() -> None:
    converters = compile_converters(
        {
            "properties": {
                "visits": {"type": ["integer", "null"]},
                "vip": {"type": "boolean"},
                "code": {"type": "string", "maxLength": 10},  # varchar(10)
            }
        }
    )
    assert dict(converters) == {}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        pytest.param(
            {"logins": ["2024-03-01T12:30:45+02:00", None, "2024-03-02T00:00:00Z"]},
            {"logins": ["2024-03-01 10:30:45 +00:00", "2024-03-02 00:00:00 +00:00"]},
            id="array of date-times, element-wise, null items dropped",
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


# The value rules: numbers a double cannot hold, nulls in arrays, periods in names, size.

D = decimal.Decimal
BIG = 9007199254740993  # 2**53 + 1: numeric(20,0) in PostgreSQL, `number` in the schema
NUMERIC_10_2 = {  # what taps write for numeric(10,2): 10 significant digits at most
    "type": ["number", "null"],
    "multipleOf": D("0.01"),
    "maximum": 100000000,
    "exclusiveMaximum": True,
    "minimum": -100000000,
    "exclusiveMinimum": True,
}
RULES_SCHEMA: dict[str, Any] = {
    "properties": {
        "email": {"type": "string"},
        "amount": {"type": ["number", "null"]},
        "price": NUMERIC_10_2,
        "visits": {"type": ["integer", "null"]},
        "balance": {"type": ["string", "null"], "format": "x-singer.decimal"},
        "ratios": {"type": ["array", "null"], "items": {"type": "number"}},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "grid": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
        "doc": {"type": ["string", "number", "integer", "array", "object", "boolean"]},
        "a.b": {"type": ["string", "null"]},
        "a_c": {"type": ["string", "null"]},
        "bio": {"type": ["string", "null"]},
        "code": {"type": ["string", "null"], "maxLength": 8},
        "address": {
            "type": ["object", "null"],
            "properties": {"zip.code": {"type": "string"}, "lat": {"type": "number"}},
        },
    }
}


class Notes:
    """A run summary's counters, as the value rules report to it."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def __call__(self, kind: str, times: int) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + times


def sent(
    record: dict[str, Any],
    *,
    inexact_numbers: InexactNumbers = "round",
    long_values: LongValues = "reject",
    notes: Notes | None = None,
) -> Any:
    """The dataFields of ``record`` as sent, with the given stream options."""
    policy = ValuePolicy(inexact_numbers, long_values, ValueNotes("users", notes))
    payload = user_payload({"email": "a@b.co", **record}, compile_converters(RULES_SCHEMA, policy))
    return orjson.loads(encode_for_iterable(payload))["dataFields"]


PRECISE = D("1234567890.1234567890")  # numeric(38,10): 20 significant digits
ROUNDED = 1234567890.1234567


@pytest.mark.parametrize(
    ("record", "mode", "expected", "inexact"),
    [
        pytest.param({"amount": BIG}, "round", {"amount": 9007199254740992.0}, 1, id="2**53+1"),
        pytest.param({"amount": PRECISE}, "round", {"amount": ROUNDED}, 1, id="20 digits"),
        pytest.param(
            {"balance": "12345678901234567.5"}, "round", {"balance": 1.2345678901234568e16}, 1
        ),
        pytest.param({"ratios": [D("0.1"), BIG]}, "round", {"ratios": [0.1, 2.0**53]}, 1),
        pytest.param({"amount": BIG}, "string", {"amount": "9007199254740993"}, 1),
        pytest.param(
            {"amount": PRECISE, "balance": "1E+3"},
            "string",
            {"amount": "1234567890.1234567890", "balance": "1000"},
            1,
            id="string: exact text, no exponent",
        ),
        # 'string': every value of the field, exact or not (one type per field in Iterable),
        # unless the field's schema shows every value fits a double.
        pytest.param(
            {"amount": D("19.90"), "ratios": [1]}, "string", {"amount": "19.90", "ratios": ["1"]}, 0
        ),
        pytest.param({"price": D("19.90")}, "string", {"price": 19.9}, 0, id="numeric(10,2)"),
        pytest.param(
            {
                "amount": D("19.90"),
                "ratios": [D("0.30000000000000004"), 2**53, -(2**53)],
                "balance": "-0.001",
            },
            "round",
            {
                "amount": 19.9,
                "ratios": [0.30000000000000004, 2.0**53, -(2.0**53)],
                "balance": -0.001,
            },
            0,
            id="held exactly: the double reads back as the same decimal",
        ),
        pytest.param(
            {"visits": BIG, "doc": {"n": BIG}},
            "reject",
            {"visits": BIG, "doc": {"n": BIG}},
            0,
            id="integers, and numbers in undeclared JSON, are sent exactly as read",
        ),
    ],
)
def test_numbers_a_double_cannot_hold_are_never_rounded_silently(
    record: dict[str, Any],
    mode: InexactNumbers,
    expected: dict[str, Any],
    inexact: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    notes = Notes()
    assert typed(sent(record, inexact_numbers=mode, notes=notes)) == typed(expected)
    assert notes.counts.get("inexact_numbers", 0) == inexact
    warnings = [r.getMessage() for r in caplog.records if "inexact_numbers" in r.getMessage()]
    assert len(warnings) == inexact


def test_an_inexact_number_is_warned_once_per_field_with_its_first_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notes = Notes()
    policy = ValuePolicy(notes=ValueNotes("users", notes))
    converters = compile_converters(RULES_SCHEMA, policy)
    for value in (BIG, BIG + 2, D("19.9"), BIG + 4):
        user_payload({"email": "a@b.co", "amount": value}, converters)
    assert notes.counts == {"inexact_numbers": 3}
    (warning,) = [r.getMessage() for r in caplog.records]
    assert warning.startswith("Stream 'users', field 'amount': 9007199254740993 cannot be held")
    assert "sent as 9007199254740992.0" in warning
    assert "stream_options.users.inexact_numbers" in warning


def test_reject_mode_refuses_the_record_with_its_reason() -> None:
    with pytest.raises(RecordRejected) as refused:
        sent({"ratios": [1, BIG]}, inexact_numbers="reject")
    assert refused.value.reason is Reason.INEXACT_NUMBER
    assert refused.value.message.startswith(
        "field 'ratios': 9007199254740993 cannot be held exactly by a double"
    )
    assert "stream_options.users.inexact_numbers" in refused.value.message
    assert sent({"amount": D("19.90")}, inexact_numbers="reject") == {"amount": 19.9}


@pytest.mark.parametrize(
    ("prop", "fits"),
    [
        (NUMERIC_10_2, True),
        ({"type": "number", "multipleOf": 1, "maximum": 10**15, "minimum": -(10**15)}, True),
        ({"type": "number", "multipleOf": 1, "maximum": 10**20, "minimum": -(10**20)}, False),
        (
            {
                "type": "number",
                "multipleOf": D("1E-10"),
                "exclusiveMaximum": 10**28,
                "exclusiveMinimum": -(10**28),
            },
            False,
        ),
        ({"anyOf": [NUMERIC_10_2, {"type": "null"}]}, True),
        ({"type": "number", "multipleOf": D("0.01"), "maximum": 100}, False),  # no lower bound
        ({"type": "number"}, False),
    ],
)
def test_declared_range_and_step_spare_the_check(prop: dict[str, Any], fits: bool) -> None:
    assert schema_fits_a_double(prop) is fits


NULLS = "dropped_array_nulls"
RENAMED = "renamed_fields"


@pytest.mark.parametrize(
    ("record", "expected", "counts"),
    [
        # Null items of the arrays the schema declares (PostgreSQL arrays) are dropped.
        pytest.param({"tags": ["a", None, "b", None]}, {"tags": ["a", "b"]}, {NULLS: 2}),
        pytest.param({"tags": [None]}, {"tags": []}, {NULLS: 1}, id="only a null"),
        pytest.param({"ratios": [None, D("2.5")]}, {"ratios": [2.5]}, {NULLS: 1}, id="numeric[]"),
        pytest.param({"grid": [[1, None], None, []]}, {"grid": [[1], []]}, {NULLS: 2}, id="[][]"),
        pytest.param({"tags": None, "ratios": []}, {"tags": None, "ratios": []}, {}, id="nulls"),
        pytest.param(
            {"doc": [1, None, {"x": None}]},
            {"doc": [1, None, {"x": None}]},
            {},
            id="JSON the schema does not describe is sent as written",
        ),
        # Periods in names, at any depth, become underscores.
        pytest.param({"a.b": "x"}, {"a_b": "x"}, {RENAMED: 1}, id="declared column a.b"),
        pytest.param({"k.v": 1, "n": 2}, {"k_v": 1, "n": 2}, {RENAMED: 1}, id="undeclared"),
        pytest.param(
            {"doc": {"k.v": {"x.y.z": [{"p.q": 1}]}, "ok": True}},
            {"doc": {"k_v": {"x_y_z": [{"p_q": 1}]}, "ok": True}},
            {RENAMED: 3},
            id="jsonb keys at any depth, in arrays too",
        ),
        pytest.param(
            {"address": {"zip.code": "0150", "lat": 59}},
            {"address": {"zip_code": "0150", "lat": 59.0}},
            {RENAMED: 1},
            id="declared nested property, converted then renamed",
        ),
        pytest.param({"doc": "k.v", "bio": "a.b"}, {"doc": "k.v", "bio": "a.b"}, {}, id="values"),
    ],
)
def test_rules_that_keep_the_record_say_what_they_did(
    record: dict[str, Any], expected: dict[str, Any], counts: dict[str, int]
) -> None:
    notes = Notes()
    assert typed(sent(record, notes=notes)) == typed(expected)
    assert notes.counts == counts


@pytest.mark.parametrize(
    ("record", "fragment"),
    [
        ({"a.c": 1, "a_c": "2"}, "field names 'a.c' and 'a_c' both become 'a_c'"),
        ({"doc": {"k_v": 1, "k.v": 2}}, "'k_v' and 'k.v' in field 'doc' both become 'k_v'"),
    ],
)
def test_two_names_that_would_become_one_refuse_the_record(
    record: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(RecordRejected) as refused:
        sent(record)
    assert refused.value.reason is Reason.INVALID_FIELD_NAME
    assert fragment in refused.value.message


LIMIT = MAX_FIELD_VALUE_CHARACTERS


@pytest.mark.parametrize(
    ("record", "path"),
    [
        ({"bio": "x" * (LIMIT + 1)}, "bio"),
        ({"tags": ["a", "x" * 100_000]}, "tags"),
        ({"doc": {"notes": ["ok", "x" * (LIMIT + 1)]}}, "doc.notes"),
        ({"undeclared": "x" * (LIMIT + 1)}, "undeclared"),
    ],
)
def test_values_over_iterables_size_refuse_the_record(record: dict[str, Any], path: str) -> None:
    with pytest.raises(RecordRejected) as refused:
        sent(record)
    assert refused.value.reason is Reason.VALUE_TOO_LONG
    assert refused.value.message.startswith(f"field '{path}' holds ")
    assert "stream_options.users.long_values to 'truncate'" in refused.value.message


def test_values_over_the_size_are_truncated_only_when_asked() -> None:
    notes = Notes()
    fields = sent(
        {"bio": "é" * (LIMIT + 5), "doc": {"n": ["x" * 100_000]}, "code": "ABC"},
        long_values="truncate",
        notes=notes,
    )
    assert fields == {"bio": "é" * LIMIT, "doc": {"n": ["x" * LIMIT]}, "code": "ABC"}
    assert notes.counts == {"truncated_values": 2}
    assert sent({"bio": "x" * LIMIT}) == {"bio": "x" * LIMIT}  # at the limit: sent whole


def test_the_same_rules_apply_to_events_and_catalog_items() -> None:
    schema = {
        "properties": {"amount": {"type": "number"}, "tags": RULES_SCHEMA["properties"]["tags"]}
    }
    converters = compile_converters(schema)
    event = event_payload(
        {"eventName": "e", "email": "a@b.co", "amount": BIG, "tags": ["a", None], "k.v": 1},
        converters,
        stream_name="events",
        key_properties=[],
    )
    _, item = catalog_item(
        {"itemId": "A1", "amount": BIG, "tags": ["a", None], "k.v": {"x.y": 1}}, converters
    )
    assert event["dataFields"] == {"amount": 9007199254740992.0, "tags": ["a"], "k_v": 1}
    assert item == {"amount": 9007199254740992.0, "tags": ["a"], "k_v": {"x_y": 1}}
    with pytest.raises(RecordRejected) as refused:
        catalog_item({"itemId": "A1", "bio": "x" * (LIMIT + 1)}, converters)
    assert refused.value.reason is Reason.VALUE_TOO_LONG


def test_catalog_field_types_use_the_names_items_are_sent_with() -> None:
    schema = {"properties": {"size.cm": {"type": "number"}, "itemId": {"type": "string"}}}
    assert catalog_field_types(schema) == {"size_cm": "double"}


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"inexact_numbers": "string", "long_values": "truncate"}, None),
        ({"inexact_numbers": "exact"}, "must be one of round, reject, string"),
        ({"long_values": "cut"}, "must be one of reject, truncate"),
    ],
)
def test_stream_options_of_the_value_rules(options: dict[str, Any], problem: str | None) -> None:
    defaults = {
        name: spec["default"]
        for name, spec in CONFIG_SCHEMA["properties"].items()
        if "default" in spec
    }
    config = {**defaults, "api_key": "k", "stream_options": {"users": options}}
    if problem is None:
        policy = Settings.from_config(config).options_for("users").value_policy("users")
        assert (policy.inexact_numbers, policy.long_values) == ("string", "truncate")
        assert NO_OPTIONS.value_policy("users").inexact_numbers == "round"
        assert NO_OPTIONS.value_policy("users").long_values == "reject"
        return
    with pytest.raises(ConfigurationError, match=problem):
        Settings.from_config(config)
