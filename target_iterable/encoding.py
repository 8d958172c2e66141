"""JSON encoding for request bodies and the rejects file.

msgspec, not orjson, for the per-record encodings: orjson returns each result
in a 4 KB allocation whatever its length, and the target keeps thousands of
encoded items queued at once; msgspec's bytes are exactly as long as the JSON.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from target_iterable.mapping.values import format_date


def _iterable_hook(value: Any) -> Any:
    """Values the schema did not announce still reach Iterable in a type it reads.

    (Declared date and date-time fields are already converted to Iterable's
    formats by the mapping; msgspec writes any other datetime as ISO-8601,
    which Iterable also reads as a date.)
    """
    if isinstance(value, dt.date):
        return format_date(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"cannot send a {type(value).__name__} to Iterable")


_for_iterable = msgspec.json.Encoder(enc_hook=_iterable_hook, decimal_format="number")
# The rejects file shows records as received: exact decimals, ISO dates, anything else as text.
_faithful = msgspec.json.Encoder(enc_hook=str, decimal_format="number")


def encode_for_iterable(value: Any) -> bytes:
    """Encode a payload exactly as it will travel in a request body."""
    return _for_iterable.encode(value)


def encode_faithfully(value: Any) -> bytes:
    """Encode anything (a rejected record, a key tuple) without failing."""
    return _faithful.encode(value)
