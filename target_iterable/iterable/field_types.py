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

# The string forms Iterable reads as dates, as its support articles list them
# ("Catalog Items": acceptable date formats; "Field Data Types"): yyyy-MM-dd;
# yyyy-MM-dd HH:mm:ss, optionally with an offset (-0400 or -04:00); ISO-8601 with a
# "T", optional fraction, and Z or an offset. A space and a fraction without an
# offset ("2020-04-13 14:04:09.000") is not a date [FACTS: Data types].
_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}"
    r"(( \d{2}:\d{2}:\d{2}( [+-]\d{2}:?\d{2})?)"
    r"|(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})))?$"
)
# Strings Iterable coerces into number fields ("values that can be coerced are
# accepted": "31" into a long field; support article "Field Data Types").
_INTEGER_TEXT = re.compile(r"^[+-]?\d{1,19}$")
_NUMBER_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


def is_date_text(text: str) -> bool:
    """A string in one of Iterable's date formats that names a real day and time (one
    that names none, "2024-02-31", is a string: the stricter reading, as the articles
    are silent)."""
    if not _DATE.match(text):
        return False
    try:
        dt.date.fromisoformat(text[:10])
        if len(text) > 10:
            dt.time(int(text[11:13]), int(text[14:16]), int(text[17:19]))
    except ValueError:
        return False
    return True


def coerces(expected: str, value: Any) -> bool:
    """Whether Iterable converts this string into a field of type ``expected``."""
    if not isinstance(value, str):
        return False
    if expected == "long":
        return bool(_INTEGER_TEXT.match(value)) and _LONG_MIN <= int(value) <= _LONG_MAX
    return expected == "double" and bool(_NUMBER_TEXT.match(value))


def iterable_type_of(value: Any) -> str | None:
    """The type a first value locks in Iterable (None for null and empty lists)."""
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
        return "date" if is_date_text(value) else "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        # A list locks its first item's type (a double when it mixes longs and doubles);
        # nulls, empty lists and lists inside it lock nothing.
        types = [
            t for item in value if not isinstance(item, list) and (t := iterable_type_of(item))
        ]
        if not types:
            return None
        return "double" if set(types) == {"long", "double"} else types[0]
    return "string"


def compatible(expected: str, incoming: str | None) -> bool:
    """Whether Iterable accepts ``incoming`` into a field locked as ``expected``: a long
    widens into a double, a date-looking string is still a string, and a geo_location
    holds an object."""
    return (
        incoming is None
        or incoming == expected
        or (expected == "double" and incoming == "long")
        or (expected == "string" and incoming == "date")
        or (expected == "geo_location" and incoming == "object")
    )


def accepts(expected: str, value: Any) -> bool:
    """Whether Iterable takes ``value`` into a field locked as ``expected``: each item
    of a list must fit, and a string that reads as a number fits a number field."""
    items = value if isinstance(value, list) else [value]
    return all(
        item is None
        or isinstance(item, list)
        or compatible(expected, iterable_type_of(item))
        or coerces(expected, item)
        for item in items
    )


def flatten_fields(fields: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted.path, value)`` for every field, nested objects included.

    Iterable types nested fields by their position (``address.city``), and the
    objects of a list at the list's path (``items.price``).
    """
    for name, value in fields.items():
        path = f"{prefix}{name}"
        yield path, value
        if isinstance(value, Mapping):
            yield from flatten_fields(value, f"{path}.")
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    yield from flatten_fields(item, f"{path}.")


def type_conflicts(fields: Mapping[str, Any], locked: Mapping[str, str]) -> list[str]:
    """Describe each field of ``fields`` whose value Iterable would refuse."""
    if not locked:
        return []
    conflicts = []
    first: dict[str, str] = {}  # fields new to Iterable: the type this record locks
    for path, value in flatten_fields(fields):
        expected = locked.get(path) or first.get(path)
        if expected is None:
            expected = iterable_type_of(value)
            if expected is None:
                continue
            first[path] = expected
        if not accepts(expected, value):
            conflicts.append(
                f"field '{path}' is a {expected} in Iterable; "
                f"this record has the {iterable_type_of(value) or 'list'} {value!r}"
            )
    return conflicts
