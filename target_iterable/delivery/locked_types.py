"""Field types Iterable has locked, learned this run from its refusals.

Iterable fixes a field's type on its first value and refuses a later value of
another type ("When updating an existing field, you cannot change its data
type": bulkUpdateUser; event fields are typed per event name: trackBulk). Once a
refusal has named a field's type, later records that would break it are refused
locally instead of failing a whole request again.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping


class LockedTypes:
    """Types by scope (project users, one event name, one catalog…) and field path."""

    def __init__(self) -> None:
        self._types: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        """Whether any type was learned (the common case, none, costs one check)."""
        return bool(self._types)

    def in_scope(self, scope: str) -> Mapping[str, str]:
        return self._types.get(scope, {})

    def lock(self, scope: str, path: str, field_type: str) -> None:
        with self._lock:
            self._types.setdefault(scope, {})[path] = field_type
