"""The users this run wrote to Iterable (a compact Bloom filter), and how long to wait
before asking Iterable again about one of them.

Iterable applies bulk user writes asynchronously, so an event for a user this
run created a moment ago can be answered "not found". Such an event is worth
sending again; an event for a user nobody wrote is not. A million users fit in
2 MB here, where a set of their keys would hold some 100 MB; a false positive
(well under 1% at a million users) only means a record is retried for
``not_found_retry_seconds`` before it is rejected, as it would have been anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

_BITS = 1 << 24  # 2 MB of bits
_MASK = _BITS - 1


def _positions(key: str) -> tuple[int, int, int]:
    """Three bit positions from the key's string hash (salted per process, which is
    fine: the filter lives only as long as the run)."""
    value = hash(key) & 0xFFFF_FFFF_FFFF_FFFF
    return value & _MASK, (value >> 24) & _MASK, ((value >> 40) ^ (value << 7)) & _MASK


class WrittenUsers:
    """May-contain set of user keys (``email:<lowercase>``, ``userId:<id>``)."""

    def __init__(self) -> None:
        self._bits = bytearray(_BITS // 8)
        self._lock = threading.Lock()

    def add(self, keys: set[str]) -> None:
        with self._lock:
            for key in keys:
                for position in _positions(key):
                    self._bits[position >> 3] |= 1 << (position & 7)

    def may_contain(self, key: str) -> bool:
        """False: this run certainly did not write the user. True: it probably did."""
        return all(self._bits[p >> 3] & (1 << (p & 7)) for p in _positions(key))

    def may_contain_any(self, keys: Iterable[str]) -> bool:
        """Whether this run probably wrote the user with these keys (``user_keys()``)."""
        return any(map(self.may_contain, keys))


def pause_before_asking_again(waited: float, limit: float) -> float | None:
    """How long to wait before asking again about a user this run wrote: as long as
    already waited (0.5, 0.5, 1, 2, 4… s), within ``limit`` (not_found_retry_seconds);
    None once the limit is reached."""
    remaining = limit - waited
    return min(max(0.5, waited), remaining) if remaining > 0 else None
