"""Iterable's type inference and locking rules, as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from iterable_emulator.field_types import (
    TypeCheck,
    coerces,
    field_values,
    incoming_types,
    is_date,
)


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("2024-01-31", True),
        ("2024-01-31 10:20:30 +00:00", True),
        ("2024-01-31 10:20:30 -05:00", True),
        ("2024-01-31T10:20:30Z", True),
        ("2024-01-31T10:20:30.123+02:00", True),
        ("2020-04-13 14:04:09.000", False),  # recorded: not a date
        ("2024-01-31 10:20:30", True),
        ("2000-01-01 00:00:00 -0400", True),
        ("2000-01-01T00:00:00.000-0400", True),
        ("2024-13-01", False),
        ("2024-02-31", False),
        ("2024-01-31 25:00:00", False),
        ("31/01/2024", False),
        ("2024-01-31T10:20:30", False),  # no zone: not among the documented formats
    ],
)
def test_date_formats(text: str, date: bool) -> None:
    """rule date-formats: the formats support article 360033578331 (Catalog Items) lists:
    yyyy-MM-dd HH:mm:ss ZZ, yyyy-MM-dd HH:mm:ss, yyyy-MM-ddTHH:mm:ss.SSSZZ, yyyy-MM-dd;
    rule impossible-dates (a guess): a day that does not exist is not a date."""
    assert is_date(text) is date


@pytest.mark.parametrize(
    ("expected", "value", "coerced"),
    [
        ("long", "31", True),
        ("long", "-7", True),
        ("long", "3.5", False),
        ("long", "99999999999999999999", False),  # past a long
        ("double", "3.5", True),
        ("double", "31", True),
        ("double", "1e3", True),
        ("double", "abc", False),
        ("boolean", "true", False),
        ("string", 31, False),
    ],
)
def test_coercion(expected: str, value: Any, coerced: bool) -> None:
    """rule type-coercion: values that can be coerced are accepted, e.g. '31' into a long
    field [support article 208183076, Field Data Types]; nothing else is coerced."""
    assert coerces(expected, value) is coerced


def test_a_coercible_string_fits_a_numeric_field() -> None:
    """rule type-coercion, through the type check: no mismatch, no new lock."""
    check = TypeCheck({("user", "", "age"): "long"})
    check.check("user", "", {"age": "31", "ages": [1, "2"]})
    check.check("user", "", {"ages": ["2", 3]})
    assert not check.mismatches
    check.check("user", "", {"age": "thirty-one"})
    assert list(check.mismatches) == ["age"]


@pytest.mark.parametrize(
    ("value", "types"),
    [
        (True, ["boolean"]),
        (3, ["long"]),
        (3.0, ["double"]),
        ("x", ["string"]),
        ({"a": 1}, ["object"]),
        ([1, 2], ["long"]),
        ([1, "a", 2], ["long", "string"]),
        ([], []),
        (None, []),
        ([None, 1.5], ["double"]),
    ],
)
def test_incoming_types(value: Any, types: list[str]) -> None:
    assert incoming_types(value) == types


def test_objects_in_lists_are_typed_at_the_list_path() -> None:
    fields = {"items": [{"price": 1.5}, {"price": 2}], "a": {"b": {"c": 1}}}
    assert list(field_values(fields)) == [
        ("items", fields["items"]),
        ("items.price", 1.5),
        ("items.price", 2),
        ("a", {"b": {"c": 1}}),
        ("a.b", {"c": 1}),
        ("a.b.c", 1),
    ]


def test_first_write_of_longs_and_doubles_locks_double() -> None:
    check = TypeCheck({})
    check.check("user", "", {"n": [1, 2.5]})
    assert check.new_types == {("user", "", "n"): "double"}
    assert not check.mismatches


def test_types_are_scoped_by_category_and_scope() -> None:
    check = TypeCheck({("event", "a", "v"): "long"})
    check.check("event", "b", {"v": "x"})
    check.check("user", "", {"v": True})
    assert not check.mismatches
    check.check("event", "a", {"v": "x"})
    assert list(check.mismatches) == ["v"]
    assert check.created_fields("event") == ["v"]
