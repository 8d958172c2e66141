"""Splitting a record into Iterable's top-level fields and its ``dataFields``."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from target_iterable.mapping.values import Converter, ValueConversionError, convert_fields
from target_iterable.reasons import Reason, RecordRejected

SDC_PREFIX = "_sdc_"


def converted(record: Mapping[str, Any], converters: Mapping[str, Converter]) -> dict[str, Any]:
    """Apply the schema's converters; an unconvertible value refuses the record."""
    try:
        return convert_fields(record, converters)  # type: ignore[no-any-return]
    except ValueConversionError as exc:
        raise RecordRejected(Reason.INVALID_VALUE, str(exc)) from exc


def data_fields(record: Mapping[str, Any], top_level: Collection[str]) -> dict[str, Any]:
    """Everything but the top-level fields and Singer's ``_sdc_*`` metadata."""
    return {
        name: value
        for name, value in record.items()
        if name not in top_level and not name.startswith(SDC_PREFIX)
    }


def with_defaults(record: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The record with ``defaults`` filled in where it has no value (its own win)."""
    merged = dict(record)
    for name, value in defaults.items():
        if merged.get(name) is None and value is not None:
            merged[name] = value
    return merged
