"""JSON encoding for request bodies and the rejects file (orjson: fast, bytes out)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import orjson

from target_iterable.mapping.values import format_date, format_datetime

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def _iterable_default(value: Any) -> Any:
    """Values the schema did not announce still reach Iterable in a type it reads."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return format_date(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot send a {type(value).__name__} to Iterable")


def _faithful_default(value: Any) -> Any:
    """The rejects file shows records as received: ISO dates, exact decimals."""
    if isinstance(value, decimal.Decimal):
        return float(value) if value.as_tuple().exponent != 0 else int(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def encode_for_iterable(value: Any) -> bytes:
    """Encode a payload exactly as it will travel in a request body."""
    return orjson.dumps(value, default=_iterable_default, option=_OPTIONS)


def encode_faithfully(value: Any) -> bytes:
    """Encode anything (a rejected record, a key tuple) without failing."""
    return orjson.dumps(value, default=_faithful_default, option=_OPTIONS)
