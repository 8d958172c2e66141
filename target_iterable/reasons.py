"""Reason codes for refused records: the ``reason`` field of the rejects file.

Codes are stable (users filter and alert on them); messages are for humans.
"""

from __future__ import annotations

from enum import Enum


class Reason(str, Enum):
    """Why a record did not reach Iterable."""

    # Refused by the target before any request.
    MISSING_IDENTITY = "missing_identity"
    INVALID_EMAIL = "invalid_email"
    INVALID_USER_ID = "invalid_user_id"
    MISSING_EVENT_NAME = "missing_event_name"
    INVALID_ITEM_ID = "invalid_item_id"
    INVALID_FIELD_NAME = "invalid_field_name"
    INVALID_VALUE = "invalid_value"
    # A number a double cannot hold exactly, on a stream with inexact_numbers 'reject'.
    INEXACT_NUMBER = "inexact_number"
    # A value over Iterable's per-field size, on a stream with long_values 'reject'.
    VALUE_TOO_LONG = "value_too_long"
    # A bare NaN / Infinity token in the input line (not JSON; older singer-python taps).
    NON_FINITE_NUMBER = "non_finite_number"
    SCHEMA_VIOLATION = "schema_violation"
    MISSING_KEY_PROPERTY = "missing_key_property"
    MALFORMED_RECORD = "malformed_record"
    STREAM_MAP_ERROR = "stream_map_error"
    MISSING_TOKEN = "missing_token"
    INVALID_PLATFORM = "invalid_platform"
    DELETE_NOT_ENABLED = "delete_not_enabled"
    UNSUPPORTED_MESSAGE_TYPE = "unsupported_message_type"
    MESSAGE_NOT_TRACKED = "message_not_tracked"
    FORGET_QUOTA_EXCEEDED = "forget_quota_exceeded"
    ITEM_TOO_LARGE = "item_too_large"
    RECORD_TOO_LARGE = "record_too_large"
    # New user fields that would take the project past Iterable's 1000 user fields.
    FIELD_LIMIT_EXCEEDED = "field_limit_exceeded"
    # Refused by Iterable.
    INVALID_DATA = "invalid_data"
    IDENTITY_CONFLICT = "identity_conflict"
    FORGOTTEN_USER = "forgotten_user"
    USER_NOT_FOUND = "user_not_found"
    DISALLOWED_EVENT_NAME = "disallowed_event_name"
    TYPE_MISMATCH = "type_mismatch"
    BAD_REQUEST = "bad_request"
    # Iterable applied the record without some of its fields (a project that drops
    # unrecognized fields), on a stream with on_filtered_fields 'reject'.
    FILTERED_OUT_FIELDS = "filtered_out_fields"

    def __str__(self) -> str:
        return self.value


class RecordRejected(Exception):
    """Raised by pure mapping and checks when one record cannot be sent."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
