"""Iterable's field types: inference from JSON values and the lock-on-first-write rule.

Iterable fixes a field's type with the first value it receives and refuses the
whole request when a later value disagrees, answering 400
``RequestFieldsTypesMismatched`` with one ``validationErrors`` entry per
offending field. User fields are typed project-wide, event fields per event
name, catalog fields per catalog once mapped; nested fields are typed by dotted
path (``address.city``). Each rule's source is in ``rules`` (rule ids below).

Pure: the registry is a mapping the store loads and saves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any, Literal

Category = Literal["user", "event", "catalog"]
# (category, scope, dotted path); scope is "" for users, the event name for
# events and the catalog's key for catalogs.
FieldKey = tuple[Category, str, str]

# The types PUT /api/catalogs/{name}/fieldMappings accepts. [spec]
FIELD_TYPES = frozenset({"boolean", "date", "geo_location", "long", "double", "object", "string"})

# rule: date-formats. The formats Iterable's articles list (Catalog Items, Field Data
# Types): yyyy-MM-dd; yyyy-MM-dd HH:mm:ss; yyyy-MM-dd HH:mm:ss ZZ (-0400 or -04:00);
# yyyy-MM-ddTHH:mm:ss.SSSZZ (fraction optional, Z or an offset). '2020-04-13
# 14:04:09.000' (space, fraction, no offset) stays a string [recorded].
_DATE_FORMATS = (
    re.compile(r"\d{4}-\d{2}-\d{2}"),
    re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}( [+-]\d{2}:?\d{2})?"),
    re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})"),
)


def is_date(text: str) -> bool:
    # Cheap test first: most strings are not dates, and this runs for every string.
    if len(text) < 10 or text[4] != "-" or not text[:4].isdigit():
        return False
    if not any(pattern.fullmatch(text) for pattern in _DATE_FORMATS):
        return False
    # rule: impossible-dates. A date format naming no real day or time is a string.
    try:
        date.fromisoformat(text[:10])
        if len(text) > 10:
            time(int(text[11:13]), int(text[14:16]), int(text[17:19]))
    except ValueError:
        return False
    return True


_INTEGER = re.compile(r"[+-]?\d{1,19}")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_LONG_RANGE = range(-(2**63), 2**63)


def coerces(expected: str, value: Any) -> bool:
    """Whether Iterable converts ``value`` to a field of type ``expected``.

    rule: type-coercion. "Values that can be coerced are accepted" ('31' into a
    long field) [Field Data Types]: a string reading as an integer into a long,
    as a number into a double. Nothing else is coerced (the stricter reading).
    """
    if type(value) is not str:
        return False
    if expected == "long":
        return _INTEGER.fullmatch(value) is not None and int(value) in _LONG_RANGE
    return expected == "double" and _NUMBER.fullmatch(value) is not None


def type_of(value: Any) -> str | None:
    """The type Iterable infers for one value; None for null, and for a list in a list."""
    # JSON decodes to exactly these classes, so `type() is` is the (fast) test.
    kind = type(value)
    if kind is str:
        return "date" if is_date(value) else "string"
    if kind is bool:
        return "boolean"
    if kind is int:
        return "long"
    if kind is float:
        return "double"
    if kind is dict:
        return "object"
    return None


def incoming_types(value: Any) -> list[str]:
    """Every type a value brings, in order: a list brings its elements' types.

    This is why Iterable's error reports ``incomingTypes`` as a list. An empty
    list or a null brings none, so it neither locks nor mismatches a field.
    """
    if type(value) is not list:
        value_type = type_of(value)
        return [] if value_type is None else [value_type]
    types: list[str] = []
    for item in value:
        item_type = type_of(item)
        if item_type is not None and item_type not in types:
            types.append(item_type)
    return types


def accepts(expected: str, incoming: str) -> bool:
    """Whether a field locked as ``expected`` takes a value of type ``incoming``.

    A long widens into a double (rule: type-coercion); a date-looking string is
    still a string (the inference only matters on first write); a geo_location
    holds an object.
    """
    return (
        incoming == expected
        or (expected == "double" and incoming == "long")
        or (expected == "string" and incoming == "date")
        or (expected == "geo_location" and incoming == "object")
    )


def lock_type(types: list[str]) -> str:
    """The type a first write locks: longs and doubles together lock double."""
    return "double" if set(types) == {"long", "double"} else types[0]


def field_values(fields: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted.path, value)`` for each field, nested objects included.

    Objects inside lists are typed at the list's path (``items.price``), the
    way Iterable indexes arrays of objects.
    """
    for name, value in fields.items():
        path = prefix + name
        yield path, value
        if type(value) is dict:
            yield from field_values(value, path + ".")
        elif type(value) is list:
            for child in value:
                if type(child) is dict:
                    yield from field_values(child, path + ".")


def _all_coerce(expected: str, value: Any) -> bool:
    """Whether every element of ``value`` fits ``expected``, coercion included."""
    items = value if type(value) is list else [value]
    return all(
        item is None or accepts(expected, type_of(item) or "") or coerces(expected, item)
        for item in items
    )


@dataclass(frozen=True)
class Mismatch:
    """One entry of ``params.validationErrors``."""

    path: str
    incoming_types: list[str]
    expected_type: str
    offending_value: Any
    category: Category

    def as_json(self) -> dict[str, Any]:
        return {
            "incomingTypes": self.incoming_types,
            "expectedType": self.expected_type,
            "offendingValue": self.offending_value,
            "category": self.category,
        }


@dataclass
class TypeCheck:
    """Checks one request's fields against the locked types.

    Fields new to the project are locked provisionally as the request is read,
    so a later record of the same request must agree with an earlier one. The
    caller writes ``new_types`` only when ``mismatches`` is empty: a mismatch
    rejects the whole request, including the locks it would have made. When a
    field has several offending values, the first one is reported.
    """

    locked: Mapping[FieldKey, str]
    new_types: dict[FieldKey, str] = field(default_factory=dict)
    mismatches: dict[str, Mismatch] = field(default_factory=dict)

    def check(
        self, category: Category, scope: str, fields: Mapping[str, Any], *, lock: bool = True
    ) -> None:
        """Check ``fields``; with ``lock`` false, new fields stay untyped (catalogs)."""
        new_types, locked = self.new_types, self.locked
        for path, value in field_values(fields):
            types = incoming_types(value)
            if not types:
                continue
            key: FieldKey = (category, scope, path)
            expected = new_types.get(key) or locked.get(key)
            if expected is None:
                if not lock:
                    continue
                # rule: type-lock-first-write
                expected = new_types[key] = lock_type(types)
            if (len(types) == 1 and types[0] == expected) or all(
                accepts(expected, incoming) for incoming in types
            ):
                continue
            if _all_coerce(expected, value):
                continue
            # rule: type-mismatch-rejects-request
            self.mismatches.setdefault(path, Mismatch(path, types, expected, value, category))

    def created_fields(self, category: Category) -> list[str]:
        return sorted({path for (cat, _, path) in self.new_types if cat == category})
