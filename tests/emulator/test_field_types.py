"""Iterable's type inference and locking rules, as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from iterable_emulator.field_types import TypeCheck, field_values, incoming_types, is_date


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("2024-01-31", True),
        ("2024-01-31 10:20:30 +00:00", True),
        ("2024-01-31 10:20:30 -05:00", True),
        ("2024-01-31T10:20:30Z", True),
        ("2024-01-31T10:20:30.123+02:00", True),
        ("2020-04-13 14:04:09.000", False),
        ("2024-01-31 10:20:30", False),
        ("2024-13-01", False),
        ("31/01/2024", False),
    ],
)
def test_date_formats(text: str, date: bool) -> None:
    assert is_date(text) is date


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
