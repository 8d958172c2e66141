"""How Iterable folds incoming fields into what it already stores (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def without_nulls(value: Any) -> Any:
    """Drop null-valued keys at every object level: on a profile, null means "no field"."""
    if type(value) is dict:
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    return value


def merge_objects(stored: Mapping[str, Any], incoming: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``incoming`` into ``stored``; a null removes the key it names."""
    merged = dict(stored)
    for key, value in incoming.items():
        if value is None:
            merged.pop(key, None)
        elif type(value) is dict and type(merged.get(key)) is dict:
            merged[key] = merge_objects(merged[key], value)
        else:
            merged[key] = without_nulls(value)
    return merged


def apply_user_fields(
    profile: dict[str, Any], fields: Mapping[str, Any], *, merge_nested: bool
) -> None:
    """Update a user profile the way users/update and bulkUpdate do.

    Top-level fields omitted from the request are kept; a field set to null is
    removed from the profile. [FACTS: Data types] With ``mergeNestedObjects``
    false (Iterable's default) a top-level object replaces the stored one;
    with true, the two are merged. [spec: bulkUpdate]
    """
    for name, value in fields.items():
        stored = profile.get(name)
        if value is None:
            profile.pop(name, None)
        elif merge_nested and type(value) is dict and type(stored) is dict:
            profile[name] = merge_objects(stored, value)
        else:
            profile[name] = without_nulls(value)
