"""Records of the ``subscriptions`` stream → bulkUpdateSubscriptions entries.

The endpoint overwrites: each list given replaces the user's whole list of
that kind (an empty list clears it); a list left out is left untouched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from target_iterable.iterable.checks import identity_fields
from target_iterable.mapping.values import ValueConversionError, to_integer
from target_iterable.reasons import Reason, RecordRejected

ID_LISTS = (
    "emailListIds",
    "unsubscribedChannelIds",
    "unsubscribedMessageTypeIds",
    "subscribedMessageTypeIds",
)


def _id_list(name: str, value: Any) -> list[int]:
    if isinstance(value, str):  # "1, 2,3" from a text column
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, Sequence):
        raise ValueConversionError(f"{name} {value!r} is not a list of ids")
    return [to_integer(item) for item in value]


def subscription_update(record: Mapping[str, Any]) -> dict[str, Any]:
    """Map one record to an ``UpdateSubscriptionsRequest``."""
    update = identity_fields(record)
    try:
        for name in ID_LISTS:
            if record.get(name) is not None:
                update[name] = _id_list(name, record[name])
        for name in ("campaignId", "templateId"):
            if record.get(name) is not None:
                update[name] = to_integer(record[name])
    except ValueConversionError as exc:
        raise RecordRejected(Reason.INVALID_VALUE, str(exc)) from exc
    if not any(name in update for name in ID_LISTS):
        raise RecordRejected(
            Reason.INVALID_VALUE, f"record sets none of {', '.join(ID_LISTS)}; nothing to update"
        )
    return update
