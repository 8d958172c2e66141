"""Iterable's field types as the target can predict them.

Iterable fixes a field's type with the first value it receives and refuses
the whole request when a later value disagrees. [FACTS: Data types] Knowing
the rule lets the target find the offending records in a refused request and
refuse later ones locally, before they cost a request.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

# The string forms Iterable reads as dates: yyyy-MM-dd, its own
# "yyyy-MM-dd HH:mm:ss +00:00", and ISO-8601 with a "T" and a zone.
_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}"
    r"(( \d{2}:\d{2}:\d{2} [+-]\d{2}:\d{2})"
    r"|(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})))?$"
)


def iterable_type_of(value: Any) -> str | None:
    """The type Iterable infers for a JSON value (None for null and empty lists)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, Decimal):
        # Sent as the number it spells (JSON floats are read as Decimal): 8 is a long
        # to Iterable, 8.0 and 4.5 are doubles.
        return "double" if any(mark in str(value) for mark in ".eE") else "long"
    if isinstance(value, dt.date):
        return "date"  # sent in Iterable's date format (encoding.py)
    if isinstance(value, str):
        return "date" if _DATE.match(value) else "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        types = {iterable_type_of(item) for item in value} - {None}
        return types.pop() if len(types) == 1 else None
    return "string"


def compatible(expected: str, incoming: str | None) -> bool:
    """Whether Iterable accepts ``incoming`` into a field locked as ``expected``."""
    return (
        incoming is None
        or incoming == expected
        or (expected == "double" and incoming == "long")
        or (expected == "string" and incoming == "date")
    )


def flatten_fields(fields: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted.path, value)`` for every field, nested objects included.

    Iterable types nested fields by their position (``address.city``).
    """
    for name, value in fields.items():
        path = f"{prefix}{name}"
        yield path, value
        if isinstance(value, Mapping):
            yield from flatten_fields(value, f"{path}.")


def type_conflicts(fields: Mapping[str, Any], locked: Mapping[str, str]) -> list[str]:
    """Describe each field of ``fields`` whose value Iterable would refuse."""
    if not locked:
        return []
    conflicts = []
    for path, value in flatten_fields(fields):
        expected = locked.get(path)
        incoming = iterable_type_of(value)
        if expected is not None and not compatible(expected, incoming):
            conflicts.append(
                f"field '{path}' is a {expected} in Iterable; "
                f"this record has the {incoming} {value!r}"
            )
    return conflicts
