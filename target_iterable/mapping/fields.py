"""Splitting a record into Iterable's top-level fields and its ``dataFields``."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from target_iterable.mapping.values import (
    Converter,
    FieldConverters,
    ValueConversionError,
    checked_fields,
)
from target_iterable.reasons import RecordRejected

SDC_PREFIX = "_sdc_"


def data_fields(
    record: Mapping[str, Any], converters: Mapping[str, Converter], top_level: Collection[str]
) -> dict[str, Any]:
    """Everything but the top-level fields and Singer's ``_sdc_*`` metadata, converted.

    One pass over the record (this runs for every record): top-level fields are
    left to the payload builder, which converts them to what Iterable expects
    there (``createdAt`` in Unix seconds, not as a date string). Then the value
    rules of ``values.py`` that apply to the whole object: sizes, and periods in
    names (sent as underscores).
    An unconvertible value, or one the rules refuse, refuses the record.
    """
    fields = {
        name: value
        for name, value in record.items()
        if name not in top_level and not name.startswith(SDC_PREFIX)
    }
    if not isinstance(converters, FieldConverters):  # a plain mapping (tests, callers)
        converters = FieldConverters(converters)
    # Converters are few (dates, numbers): look each up in the record, not the reverse.
    for name, convert in converters.items():
        if name in fields:
            try:
                fields[name] = convert(fields[name])
            except ValueConversionError as exc:
                raise refusal(exc.inside(f"field '{name}'")) from exc
    try:
        return checked_fields(fields, converters.policy)
    except ValueConversionError as exc:
        raise refusal(exc) from exc


def refusal(error: ValueConversionError) -> RecordRejected:
    """The record's refusal for a value that cannot be sent."""
    return RecordRejected(error.reason, str(error))


def with_defaults(record: Mapping[str, Any], defaults: Mapping[str, Any]) -> Mapping[str, Any]:
    """The record with ``defaults`` filled in where it has no value (its own win)."""
    if not defaults:
        return record
    merged = dict(record)
    for name, value in defaults.items():
        if merged.get(name) is None and value is not None:
            merged[name] = value
    return merged
