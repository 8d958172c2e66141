"""Value conversions Iterable needs, derived once per Singer schema.

Iterable infers a field's type from the first value it sees and locks it forever,
so every conversion here aims at a stable, predictable type per field:
JSON-schema ``number`` fields (and decimal strings) always travel as doubles
(``5`` would lock a ``long``), ``date-time`` fields in the one string format
Iterable reads as a date, and arrays of either element by element. The same
compiled converters apply Iterable's rules on values (see "Value rules" below):
no silent rounding, no null inside an array, no period in a field name, no
value over Iterable's size per field.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import msgspec

from target_iterable.iterable.checks import (
    FIELD_NAME_PERIOD,
    MAX_FIELD_VALUE_CHARACTERS,
    iterable_field_name,
    renamed_fields,
)
from target_iterable.reasons import Reason

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
    """A value cannot be converted to what Iterable expects for its field.

    ``reason`` is the reject reason; ``located``: the message names the field already
    (by its full path), so enclosing fields and items do not prefix it.
    """

    def __init__(
        self, message: str, reason: Reason = Reason.INVALID_VALUE, *, located: bool = False
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.located = located

    def inside(self, where: str) -> ValueConversionError:
        """This error as an enclosing field or item reports it (``where``: "item 3")."""
        message = str(self) if self.located else f"{where}: {self}"
        return ValueConversionError(message, self.reason, located=self.located)


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
        try:
            return float(value)
        except OverflowError:  # an integer beyond 1.8e308
            raise ValueConversionError(f"{value} is out of the range of a double") from None
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


# Value rules ----------------------------------------------------------------------------
#
# Besides converting, the compiled converters (numbers, arrays) and ``checked_fields``
# (sizes, names: the whole object, after conversion) apply Iterable's rules on values,
# each the same for every object (users, events, catalog items, commerce, ...):
#
# * Numbers. Iterable stores a decimal as a double; a ``number`` value a double cannot
#   hold exactly (9007199254740993, or a numeric(38,10) with 20 significant digits) is,
#   per stream option ``inexact_numbers``: 'round' (default) sent as the nearest double,
#   warned about once per field with its first such value and counted; 'reject' refused
#   (reason inexact_number); 'string' sent, with every value of a field that can hold
#   one, as its exact decimal text (one type per field: Iterable locks it on first write).
#   "Exactly" means the double reads back as the same decimal (19.90 is held, as 19.9).
#   ``integer`` values are never converted, so they stay exact.
# * Arrays. A null item of an array whose items the schema declares (a PostgreSQL array)
#   is dropped, and counted; the record is kept.
# * Field names. A period, which Iterable reads as nesting, is sent as an underscore, at
#   any depth (iterable/checks.py); counted, warned about once per name.
# * Size. A string longer than Iterable's per-field limit (checks.MAX_FIELD_VALUE_CHARACTERS)
#   is, per stream option ``long_values``: 'reject' (default) refused, reason
#   value_too_long; 'truncate' cut to the limit, counted and warned about once per field.
#
# Per record, this costs about a microsecond: integers, booleans, strings and dates get
# no number or array work at all, nor numbers whose declared range and step (``maximum``,
# ``multipleOf``, as some taps declare numeric(p,s)) fit in 15 significant digits; a
# number of at most 15 digits is known exact from its length; and one encoding of the
# whole object shows, for nearly every record, that no string is too long and no key
# holds a period, before anything is walked.

InexactNumbers = Literal["round", "reject", "string"]
INEXACT_NUMBER_MODES: tuple[InexactNumbers, ...] = ("round", "reject", "string")
LongValues = Literal["reject", "truncate"]
LONG_VALUE_MODES: tuple[LongValues, ...] = ("reject", "truncate")

# What the notes count, by the name the run summary shows.
INEXACT_NUMBERS = "inexact_numbers"
DROPPED_NULLS = "dropped_array_nulls"
RENAMED_FIELDS = "renamed_fields"
TRUNCATED_VALUES = "truncated_values"

# Any decimal of at most 15 significant digits (within a double's range) reads back
# from the nearest double unchanged; 2**53 bounds the integers a double holds exactly.
_EXACT_DIGITS = 15
_EXACT_INTEGER = 2**53
_EXACT_BOUND = decimal.Decimal(10) ** _EXACT_DIGITS
_MAX_LENGTH = MAX_FIELD_VALUE_CHARACTERS
_CONTAINERS = (dict, list)
LOGGER = logging.getLogger("target-iterable")


class ValueNotes:
    """What the rules did to a stream's values without refusing a record.

    Each kind is counted through ``count(kind, times)`` (the run summary) and warned
    about once per field, with the first value concerned where that is useful.
    """

    def __init__(
        self,
        stream: str | None = None,
        count: Callable[[str, int], None] | None = None,
        logger: logging.Logger = LOGGER,
    ) -> None:
        self.stream = stream
        self.count = count
        self.logger = logger
        self._warned: set[tuple[str, str]] = set()

    @property
    def option_prefix(self) -> str:
        return f"stream_options.{self.stream or '<stream>'}"

    def note(self, kind: str, path: str, warning: str, times: int = 1) -> None:
        """Count ``times`` of ``kind`` at field ``path``; warn the first time there."""
        if self.count is not None:
            self.count(kind, times)
        if (kind, path) in self._warned:
            return
        self._warned.add((kind, path))
        where = f"Stream '{self.stream}', " if self.stream else ""
        self.logger.warning(
            "%sfield '%s': %s. Warned once per field; the summary counts %s.",
            where,
            path,
            warning,
            kind,
        )


@dataclass(frozen=True)
class ValuePolicy:
    """A stream's choices for the value rules (its stream_options), and its notes."""

    inexact_numbers: InexactNumbers = "round"
    long_values: LongValues = "reject"
    notes: ValueNotes = field(default_factory=ValueNotes, compare=False)


def decimal_text(value: Any) -> str:
    """The exact decimal text of a number (no exponent), as the 'string' mode sends it."""
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return format(decimal.Decimal(repr(value)), "f")
    return str(value)


def held_exactly(value: Any, number: float) -> bool:
    """Whether ``number`` (the double of ``value``) reads back as the same decimal."""
    kind = type(value)
    if kind is int:
        return bool(-_EXACT_INTEGER <= value <= _EXACT_INTEGER or int(number) == value)
    if kind is decimal.Decimal or kind is str:
        text = value if kind is str else str(value)
        if len(text) <= _EXACT_DIGITS and "E" not in text and "e" not in text:
            return True  # at most 15 digits, no exponent: always held
        return bool(decimal.Decimal(repr(number)) == decimal.Decimal(value))
    return True  # a float is a double already


def _bound(prop: Mapping[str, Any], names: tuple[str, str]) -> decimal.Decimal | None:
    for name in names:
        value = prop.get(name)
        if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
            return abs(decimal.Decimal(str(value)))
    return None


def schema_fits_a_double(prop: Mapping[str, Any]) -> bool:
    """Whether every value a ``number`` property allows has at most 15 significant
    digits, by its declared step and range (the singer-io and pipelinewise tap-postgres
    write them for numeric(p,s): ``multipleOf`` 10**-s and bounds ±10**(p-s)); then no
    value needs checking."""
    for variant in (prop, *(prop.get("anyOf", []) or prop.get("oneOf", []) or [])):
        if not isinstance(variant, Mapping) or "multipleOf" not in variant:
            continue
        upper = _bound(variant, ("maximum", "exclusiveMaximum"))
        lower = _bound(variant, ("minimum", "exclusiveMinimum"))
        try:
            step = decimal.Decimal(str(variant["multipleOf"]))
        except decimal.InvalidOperation:
            return False
        if upper is None or lower is None or not step.is_finite() or step <= 0:
            return False
        exponent = step.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return bool(max(upper, lower).scaleb(places) <= _EXACT_BOUND)
    return False


class FieldConverters(dict[str, Converter]):
    """The converters of one schema's properties, by name, and the stream's policy for
    the value rules (which ``checked_fields`` applies to the whole object)."""

    def __init__(
        self, converters: Mapping[str, Converter], policy: ValuePolicy | None = None
    ) -> None:
        super().__init__(converters)
        self.policy = policy or ValuePolicy()


def _nullable(convert: Converter) -> Converter:
    def convert_or_none(value: Any) -> Any:
        return None if value is None else convert(value)

    return convert_or_none


def _path(parent: str, name: str) -> str:
    """A nested field's path for messages: ``address.city``, ``json["k.v"]``."""
    if not parent:
        return name
    return f'{parent}["{name}"]' if FIELD_NAME_PERIOD in name else f"{parent}.{name}"


def _long_value(value: str, policy: ValuePolicy, path: str) -> str:
    """A string over Iterable's size per field value: refused, or cut when asked."""
    if policy.long_values == "truncate":
        policy.notes.note(
            TRUNCATED_VALUES,
            path,
            f"a value of {len(value):,} characters was cut to its first {_MAX_LENGTH:,} "
            "(Iterable keeps about 32,000 characters per field value)",
        )
        return value[:_MAX_LENGTH]
    raise ValueConversionError(
        f"field '{path}' holds {len(value):,} characters, over Iterable's limit of about "
        f"{_MAX_LENGTH:,} per field value; set {policy.notes.option_prefix}.long_values to "
        f"'truncate' to send its first {_MAX_LENGTH:,}, or leave the column out",
        Reason.VALUE_TOO_LONG,
        located=True,
    )


def _renamed(fields: dict[str, Any], policy: ValuePolicy, path: str) -> dict[str, Any]:
    """``fields`` with periods in names sent as underscores, each rename noted."""
    renamed = renamed_fields(fields, path)
    for name in fields:
        if FIELD_NAME_PERIOD in name:
            policy.notes.note(
                RENAMED_FIELDS,
                _path(path, name),
                f"sent as '{iterable_field_name(name)}': Iterable reads a period in a field "
                "name as nesting",
            )
    return renamed


def checked_value(value: Any, policy: ValuePolicy, path: str) -> Any:
    """``value`` with the rules applied at every depth: strings over the size, periods
    in names. Unchanged parts are shared, not copied."""
    kind = type(value)
    if kind is str:
        return value if len(value) <= _MAX_LENGTH else _long_value(value, policy, path)
    if kind is dict:
        fields: dict[str, Any] = value
        changed: dict[str, Any] | None = None
        for name, item in fields.items():
            item_kind = type(item)
            if item_kind is str and len(item) <= _MAX_LENGTH:
                continue
            if item_kind is str or item_kind in _CONTAINERS:
                new = checked_value(item, policy, _path(path, name))
                if new is not item:
                    changed = changed if changed is not None else dict(fields)
                    changed[name] = new
        fields = fields if changed is None else changed
        return _renamed(fields, policy, path) if FIELD_NAME_PERIOD in "".join(fields) else fields
    if kind is list:
        items: list[Any] = value
        copied: list[Any] | None = None
        for index, item in enumerate(items):
            item_kind = type(item)
            if item_kind is str and len(item) <= _MAX_LENGTH:
                continue
            if item_kind is str or item_kind in _CONTAINERS:
                new = checked_value(item, policy, path)
                if new is not item:
                    copied = copied if copied is not None else list(items)
                    copied[index] = new
        return items if copied is None else copied
    return value


# In JSON text, a key is the one string followed by a colon: a period inside a key, at
# any depth, matches; a period in a value or a number never does. (Possessive: a failed
# try does not backtrack, which kept texts with many periods slow.)
_PERIOD_IN_A_KEY = re.compile(rb'\.[^"\\]*+(?:\\.[^"\\]*+)*+":')
_as_json = msgspec.json.Encoder(enc_hook=str, decimal_format="number")


def checked_fields(fields: dict[str, Any], policy: ValuePolicy) -> dict[str, Any]:
    """An object's fields, once converted, with the size and name rules applied.

    One encoding of the whole object tells, for nearly every record, that no rule
    applies: no string is longer than the whole text, and no key holds a period. Only
    then is it walked, field by field.
    """
    text = _as_json.encode(fields)
    if len(text) <= _MAX_LENGTH and (b"." not in text or not _PERIOD_IN_A_KEY.search(text)):
        return fields
    return cast("dict[str, Any]", checked_value(fields, policy, ""))


def _inexact_message(value: Any, number: float) -> str:
    return (
        f"{decimal_text(value)} cannot be held exactly by a double, which is how Iterable "
        f"stores decimals (it would read {number!r})"
    )


def _number_converter(
    prop: Mapping[str, Any], policy: ValuePolicy, path: str, *, from_text: bool
) -> Converter:
    """A ``number`` (or decimal string) as a double, or per ``inexact_numbers``."""
    to_number = decimal_string_to_double if from_text else to_double
    if schema_fits_a_double(prop):
        return to_number
    notes, mode = policy.notes, policy.inexact_numbers
    option = f"{notes.option_prefix}.inexact_numbers"

    def inexact(value: Any, number: float) -> None:
        if not math.isfinite(number):
            raise ValueConversionError(f"{value!r} is not a finite number")
        if mode == "reject":
            raise ValueConversionError(
                f"field '{path}': {_inexact_message(value, number)}; set {option} to 'round' "
                "to send the nearest double, or to 'string' to send the field as text",
                Reason.INEXACT_NUMBER,
                located=True,
            )
        sent = f"sent as '{decimal_text(decimal.Decimal(value) if from_text else value)}'"
        notes.note(
            INEXACT_NUMBERS,
            path,
            f"{_inexact_message(value, number)}; "
            + (
                f"{sent}, as every value of the field ({option} 'string')"
                if mode == "string"
                else f"sent as {number!r} ({option} 'reject' refuses such records, "
                "'string' sends the field as text)"
            ),
        )

    if mode == "string":

        def as_text(value: Any) -> Any:
            number = to_number(value)
            if number.__class__ is not float:
                return number  # not a number (a string of an anyOf): left alone
            if not held_exactly(value, number):
                inexact(value, number)
            return decimal_text(decimal.Decimal(value) if from_text else value)

        return as_text

    def as_double(value: Any) -> Any:
        if value.__class__ is decimal.Decimal:  # what the reader makes of 12.5: fast path
            number = float(value)
            text = str(value)
            if len(text) <= _EXACT_DIGITS and "E" not in text:
                return number
        else:
            number = to_number(value)
            if number.__class__ is not float:
                return number  # not a number (a string of an anyOf): left alone
        if not held_exactly(value, number):
            inexact(value, number)
        return number

    return as_double


def _array_converter(convert_item: Converter | None, notes: ValueNotes, path: str) -> Converter:
    """Drop null items (counted), then convert the others one by one."""

    def convert_items(value: Any) -> Any:
        if value.__class__ is not list:
            return value
        if None in value:
            kept = [item for item in value if item is not None]
            notes.note(
                DROPPED_NULLS,
                path,
                "null items of the array were dropped; the rest of it, and the record, were sent",
                len(value) - len(kept),
            )
            value = kept
        if convert_item is None:
            return value
        converted = []
        for index, item in enumerate(value):
            try:
                converted.append(convert_item(item))
            except ValueConversionError as exc:
                raise exc.inside(f"item {index}") from exc
        return converted

    return convert_items


def converter_for(
    prop: Mapping[str, Any], policy: ValuePolicy | None = None, path: str = ""
) -> Converter | None:
    """Return the conversion one schema property needs, or None if it needs none."""
    policy = policy or ValuePolicy()
    types, fmt, properties = property_types(prop)
    if fmt in SINGER_DECIMAL_FORMATS and "number" in types:
        return _nullable(_number_converter(prop, policy, path, from_text=True))
    if "string" in types and fmt == "date-time":
        return _nullable(format_datetime)
    if "string" in types and fmt == "date":
        return _nullable(format_date)
    if "object" in types and properties:
        nested = compile_converters({"properties": properties}, policy, path)
        if nested:
            return _nullable(lambda value: convert_fields(value, nested))
        return None
    if "array" in types and (items := array_items(prop)) is not None:
        return _array_converter(converter_for(items, policy, path), policy.notes, path)
    if "number" in types and "integer" not in types:
        return _nullable(_number_converter(prop, policy, path, from_text=False))
    return None


def compile_converters(
    schema: Mapping[str, Any], policy: ValuePolicy | None = None, path: str = ""
) -> FieldConverters:
    """Map each schema property needing conversion to its converter, once per schema.

    ``policy``: the stream's choices for the value rules, and where their notes go
    (default: Iterable's defaults, warnings in the log only).
    """
    policy = policy or ValuePolicy()
    properties: Mapping[str, Any] = schema.get("properties") or {}
    converters: dict[str, Converter] = {}
    for name, prop in properties.items():
        if isinstance(prop, Mapping):
            convert = converter_for(prop, policy, _path(path, name))
            if convert is not None:
                converters[name] = convert
    return FieldConverters(converters, policy)


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
                raise exc.inside(f"field '{name}'") from exc
    return result
