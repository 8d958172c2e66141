"""How Iterable folds incoming fields into what it already stores (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from iterable_emulator.errors import bad_params


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
    removed from the profile (rule: nulls-remove-fields). With ``mergeNestedObjects``
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


# Arrays Iterable (and the emulator) manage on profiles: "The objects in this
# arrayMerge array should only reference custom arrays, not Iterable-managed arrays
# such as devices" [spec: MergeUsersRequest.arrayMerge]. The spec does not say what
# naming one does; the emulator takes the stricter reading and refuses the merge.
ITERABLE_MANAGED_ARRAYS = frozenset(
    {
        "devices",
        "browserTokens",
        "emailListIds",
        "shoppingCartItems",
        "unsubscribedChannelIds",
        "unsubscribedMessageTypeIds",
        "subscribedMessageTypeIds",
    }
)


@dataclass(frozen=True)
class ArrayMergeRule:
    """One ``ArrayMerge`` of a mergeUsers request: a top-level array field to merge."""

    field: str
    dedupe_by: str | None = None

    @classmethod
    def from_json(cls, rule: Mapping[str, Any]) -> ArrayMergeRule:
        field = rule.get("field")
        if not field:
            raise bad_params("arrayMerge: each entry needs a field")
        if field in ITERABLE_MANAGED_ARRAYS:
            raise bad_params(f"arrayMerge: {field} is managed by Iterable, not a custom array")
        return cls(field, rule.get("dedupeBy"))


def json_equal(left: Any, right: Any) -> bool:
    """Equality as ArrayMerge defines it: "arrays equal if they have the same items, in
    the same order. Objects equal if they have the same fields and values. Other data
    types must simply have the same value" [spec: ArrayMerge.dedupeBy] (so ``true`` is
    not ``1``, unlike Python's ``==``)."""
    if type(left) is dict and type(right) is dict:
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if type(left) is list and type(right) is list:
        return len(left) == len(right) and all(map(json_equal, left, right))
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    numbers = (int, float)
    if isinstance(left, numbers) and isinstance(right, numbers):
        return left == right
    return type(left) is type(right) and left == right


def merge_arrays(destination: Any, source: Any, rule: ArrayMergeRule) -> list[Any]:
    """The destination's items, then the source's items the rule does not discard.

    A value that is not an array counts as an array of that one value. With
    ``dedupeBy``, a source object is discarded when it has that field and a
    destination object has the same field and value; without it, a source item is
    discarded when the destination has an equal one. ``dedupeBy`` on an array of
    anything but objects "will cause the entire user merge operation to fail"
    (400 BadParams here). [spec: ArrayMerge]
    """
    kept = destination if type(destination) is list else [destination]
    incoming = source if type(source) is list else [source]
    key = rule.dedupe_by
    if key is None:
        return kept + [item for item in incoming if not any(json_equal(item, d) for d in kept)]
    if not all(type(item) is dict for item in (*kept, *incoming)):
        raise bad_params(f"arrayMerge: dedupeBy {key!r} on {rule.field!r}, not an array of objects")
    return kept + [
        item
        for item in incoming
        if key not in item or not any(key in d and json_equal(d[key], item[key]) for d in kept)
    ]


def merge_profiles(
    destination: Mapping[str, Any], source: Mapping[str, Any], rules: list[ArrayMergeRule]
) -> dict[str, Any]:
    """The destination profile's fields after a merge.

    Fields only the source has are copied; on a conflict "the destination profile
    field wins" and "objects are not combined" [support article: Merging User
    Profiles]; the ``arrayMerge`` fields both profiles have are merged [spec:
    ArrayMerge].
    """
    merged = {**source, **destination}
    for rule in rules:
        if rule.field in destination and rule.field in source:
            merged[rule.field] = merge_arrays(destination[rule.field], source[rule.field], rule)
    return merged
