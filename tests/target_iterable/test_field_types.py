"""The target predicts Iterable's type locking to isolate mismatching records."""

from __future__ import annotations

import pytest

from target_iterable.iterable.field_types import compatible, iterable_type_of, type_conflicts


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "boolean"),
        (3, "long"),
        (3.0, "double"),
        ("2024-01-02", "date"),
        ("2024-01-02 03:04:05 +00:00", "date"),
        ("2024-01-02T03:04:05", "string"),
        ("2024-01-02T03:04:05.123Z", "date"),
        ("2024-01-02 03:04:05.000", "string"),
        ("hello", "string"),
        ({"a": 1}, "object"),
        ([1, 2], "long"),
        (None, None),
    ],
)
def test_iterable_type_of(value: object, expected: str | None) -> None:
    assert iterable_type_of(value) == expected


def test_compatibility_rules() -> None:
    assert compatible("double", "long")
    assert not compatible("long", "double")
    assert compatible("string", "date")
    assert not compatible("date", "string")
    assert compatible("long", None)


def test_type_conflicts_names_the_field_and_types() -> None:
    conflicts = type_conflicts(
        {"age": "forty", "address": {"zip": 1234}}, {"age": "long", "address.zip": "string"}
    )
    assert conflicts == [
        "field 'age' is a long in Iterable; this record has the string 'forty'",
        "field 'address.zip' is a string in Iterable; this record has the long 1234",
    ]
