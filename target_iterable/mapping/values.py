"""Value conversions Iterable needs, derived once per Singer schema.

Iterable infers a field's type from the first value it sees and locks it forever,
so every conversion here aims at a stable, predictable type per field:
JSON-schema ``number`` fields (and decimal strings) always travel as doubles
(``5`` would lock a ``long``), ``date-time`` fields in the one string format
Iterable reads as a date, and arrays of either element by element.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

Converter = Callable[[Any], Any]

_UTC = dt.timezone.utc
# Iterable reads "yyyy-MM-dd HH:mm:ss +00:00" as a date, and returns dates in it;
# "2020-04-13 14:04:09.000" (fractional seconds) is a plain string. [FACTS: Data types]
# Epoch numbers above this are milliseconds: 1e11 seconds is the year 5138.
_EPOCH_MILLIS_THRESHOLD = 100_000_000_000
_INTEGER_STRING = re.compile(r"^[+-]?\d+$")
# singer-sdk's decimal string (``use_singer_decimal``): its SQL connector reads
# "x-singer.decimal", its typing helpers write "singer.decimal".
SINGER_DECIMAL_FORMATS = frozenset({"x-singer.decimal", "singer.decimal"})
# What str(Decimal) writes for a finite number: no "NaN", "Infinity" or "1_000".
_DECIMAL_STRING = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class ValueConversionError(ValueError):
    """A value cannot be converted to what Iterable expects for its field."""


def parse_datetime(value: str) -> dt.datetime:
    """Parse an ISO-8601 timestamp; a naive one is taken as UTC."""
    try:
        # Python 3.11 reads "Z" and most of ISO 8601: the common case, tried first.
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueConversionError(f"'{value}' is not an ISO-8601 date-time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_UTC)


def format_datetime(value: Any) -> str:
    """Render a timestamp as Iterable's date format, in UTC."""
    moment: dt.datetime
    if isinstance(value, str):
        moment = parse_datetime(value)
    elif isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=_UTC)
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day, tzinfo=_UTC)
    else:
        raise ValueConversionError(f"{value!r} is not a date-time")
    # isoformat is several times faster than strftime on this per-record path.
    return moment.astimezone(_UTC).isoformat(sep=" ", timespec="seconds")[:19] + " +00:00"


def format_date(value: Any) -> str:
    """Render a calendar date as ``yyyy-MM-dd``."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError as exc:
            raise ValueConversionError(f"'{value}' is not an ISO-8601 date") from exc
    raise ValueConversionError(f"{value!r} is not a date")


def to_unix_seconds(value: Any) -> int:
    """Convert ``createdAt`` to integer Unix seconds, as Iterable requires.

    Accepts an ISO string, a datetime/date, or an epoch number in seconds or
    milliseconds (told apart by magnitude).
    """
    if isinstance(value, str):  # the common case first
        text = value.strip()
        if _INTEGER_STRING.match(text):
            return to_unix_seconds(int(text))
        return int(parse_datetime(text).timestamp())
    if isinstance(value, bool):
        raise ValueConversionError(f"{value!r} is not a timestamp")
    if isinstance(value, (int, float, decimal.Decimal)):
        number = int(value)
        return number // 1000 if abs(number) >= _EPOCH_MILLIS_THRESHOLD else number
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=_UTC)
        return int(aware.timestamp())
    if isinstance(value, dt.date):
        return int(dt.datetime(value.year, value.month, value.day, tzinfo=_UTC).timestamp())
    raise ValueConversionError(f"{value!r} is not a timestamp")


def to_integer(value: Any) -> int:
    """Convert an id such as ``campaignId`` to an integer ("1234" → 1234)."""
    if isinstance(value, bool):
        raise ValueConversionError(f"{value!r} is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, (float, decimal.Decimal)) and value == int(value):
        return int(value)
    if isinstance(value, str) and _INTEGER_STRING.match(value.strip()):
        return int(value)
    raise ValueConversionError(f"{value!r} is not an integer")


def to_double(value: Any) -> Any:
    """Send a JSON-schema ``number`` as a double so the field locks as double."""
    if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
        return float(value)
    return value


def decimal_string_to_double(value: Any) -> Any:
    """Send a decimal string (``"19.90"``) as a double, like a ``number`` field.

    Sent as text, the field would lock as a string in Iterable, where it can be
    neither summed nor compared; "5" goes as 5.0, so it locks as a double.
    """
    if isinstance(value, str):
        if not _DECIMAL_STRING.match(value):
            raise ValueConversionError(f"'{value}' is not a decimal number")
        number = float(value)
        if math.isinf(number):
            raise ValueConversionError(f"'{value}' is out of the range of a double")
        return number
    return to_double(value)


def property_types(prop: Mapping[str, Any]) -> tuple[set[str], str | None, Mapping[str, Any]]:
    """Collect the JSON types, the string format and object properties of a property.

    A decimal string counts as a ``number``: that is what it holds and how it is sent.
    """
    types: set[str] = set()
    fmt: str | None = prop.get("format")
    properties: dict[str, Any] = dict(prop.get("properties") or {})
    raw_type = prop.get("type")
    if isinstance(raw_type, str):
        types.add(raw_type)
    elif isinstance(raw_type, list):
        types.update(str(t) for t in raw_type)
    for variant in prop.get("anyOf", []) or prop.get("oneOf", []) or []:
        sub_types, sub_fmt, sub_props = property_types(variant)
        types |= sub_types
        fmt = fmt or sub_fmt
        properties.update(sub_props)
    if fmt in SINGER_DECIMAL_FORMATS and "string" in types:
        types.discard("string")
        types.add("number")
    return types, fmt, properties


def array_items(prop: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The schema of an array property's items (one schema for all items), if any."""
    items = prop.get("items")
    if isinstance(items, Mapping):
        return items
    for variant in prop.get("anyOf", []) or prop.get("oneOf", []) or []:
        if isinstance(variant, Mapping) and (found := array_items(variant)) is not None:
            return found
    return None


def _nullable(convert: Converter) -> Converter:
    def convert_or_none(value: Any) -> Any:
        return None if value is None else convert(value)

    return convert_or_none


def _element_wise(convert: Converter) -> Converter:
    def convert_items(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        converted = []
        for index, item in enumerate(value):
            try:
                converted.append(convert(item))
            except ValueConversionError as exc:
                raise ValueConversionError(f"item {index}: {exc}") from exc
        return converted

    return convert_items


def converter_for(prop: Mapping[str, Any]) -> Converter | None:
    """Return the conversion one schema property needs, or None if it needs none."""
    types, fmt, properties = property_types(prop)
    if fmt in SINGER_DECIMAL_FORMATS and "number" in types:
        return _nullable(decimal_string_to_double)
    if "string" in types and fmt == "date-time":
        return _nullable(format_datetime)
    if "string" in types and fmt == "date":
        return _nullable(format_date)
    if "object" in types and properties:
        nested = compile_converters({"properties": properties})
        if nested:
            return _nullable(lambda value: convert_fields(value, nested))
        return None
    if "array" in types and (items := array_items(prop)) is not None:
        convert_item = converter_for(items)
        return None if convert_item is None else _nullable(_element_wise(convert_item))
    if "number" in types and "integer" not in types:
        return _nullable(to_double)
    return None


def compile_converters(schema: Mapping[str, Any]) -> dict[str, Converter]:
    """Map each schema property needing conversion to its converter, once per schema."""
    converters: dict[str, Converter] = {}
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, Mapping) and (convert := converter_for(prop)) is not None:
            converters[name] = convert
    return converters


def convert_fields(record: Any, converters: Mapping[str, Converter]) -> Any:
    """Apply field converters to a record (or nested object), returning a new dict."""
    if not isinstance(record, Mapping):
        return record
    result = dict(record)
    for name, convert in converters.items():
        if name in result:
            try:
                result[name] = convert(result[name])
            except ValueConversionError as exc:
                raise ValueConversionError(f"field '{name}': {exc}") from exc
    return result
