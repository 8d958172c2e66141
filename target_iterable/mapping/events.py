"""Records of ``events`` streams → events in a POST /api/events/trackBulk body."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from target_iterable.encoding import encode_faithfully
from target_iterable.iterable.checks import identity_fields
from target_iterable.iterable.limits import MAX_EVENT_ID_BYTES
from target_iterable.mapping.fields import data_fields
from target_iterable.mapping.values import (
    Converter,
    ValueConversionError,
    to_integer,
    to_unix_seconds,
)
from target_iterable.reasons import Reason, RecordRejected

EVENT_TOP_LEVEL_FIELDS = frozenset(
    {"email", "userId", "eventName", "id", "createdAt", "campaignId", "templateId"}
)


def derive_event_id(
    stream_name: str, key_properties: Sequence[str], record: Mapping[str, Any]
) -> str:
    """A stable id from the stream name and key values.

    Iterable upserts events by ``id``, so re-running a sync (or resuming after a
    crash) updates the events it already sent instead of duplicating them.
    """
    key = encode_faithfully([stream_name, [record.get(name) for name in key_properties]])
    return hashlib.sha256(key).hexdigest()[:40]


def upsert_id(
    record: Mapping[str, Any], stream_name: str, key_properties: Sequence[str]
) -> str | None:
    """The record's ``id``, else one derived from the stream's key values (events and
    purchases are upserted by it), else None."""
    value = record.get("id")
    if value in (None, "") and key_properties:
        value = derive_event_id(stream_name, key_properties, record)
    return None if value in (None, "") else str(value)


def tracking_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """``createdAt`` in Unix seconds and integer ``campaignId``/``templateId``, where given."""
    fields: dict[str, Any] = {}
    for name in ("createdAt", "campaignId", "templateId"):
        value = record.get(name)
        if value is None:
            continue
        try:
            fields[name] = to_unix_seconds(value) if name == "createdAt" else to_integer(value)
        except ValueConversionError as exc:
            raise RecordRejected(Reason.INVALID_VALUE, f"field '{name}': {exc}") from exc
    return fields


def event_payload(
    record: Mapping[str, Any],
    converters: Mapping[str, Converter],
    *,
    stream_name: str,
    key_properties: Sequence[str],
) -> dict[str, Any]:
    """Map one record to a ``TrackRequest``."""
    event_name = record.get("eventName")
    if event_name in (None, ""):
        raise RecordRejected(
            Reason.MISSING_EVENT_NAME,
            "record has no 'eventName'; map one with a stream map, e.g. "
            '{"eventName": "\'signup\'"} or {"eventName": "event_type"}',
        )
    payload: dict[str, Any] = {"eventName": str(event_name), **identity_fields(record)}
    event_id = upsert_id(record, stream_name, key_properties)
    if event_id is not None:
        if len(event_id.encode()) > MAX_EVENT_ID_BYTES:
            raise RecordRejected(
                Reason.INVALID_VALUE, f"event id is over Iterable's {MAX_EVENT_ID_BYTES} bytes"
            )
        payload["id"] = event_id
    payload.update(tracking_fields(record))
    payload["dataFields"] = data_fields(record, converters, EVENT_TOP_LEVEL_FIELDS)
    return payload
