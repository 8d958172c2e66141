"""Splitting encoded items into request bodies that respect Iterable's limits.

Iterable refuses bodies over 4 MB and catalog uploads over 1000 documents
(``iterable/limits.py``), so bodies are planned from the exact encoded size of
each item rather than estimated.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from target_iterable.iterable.limits import MAX_BODY_BYTES


@dataclass(frozen=True)
class Envelope:
    """The bytes around a JSON array (or object) of items: ``prefix item,item suffix``."""

    prefix: bytes
    suffix: bytes

    def wrap(self, items: Sequence[bytes]) -> bytes:
        return self.prefix + b",".join(items) + self.suffix

    @property
    def overhead(self) -> int:
        return len(self.prefix) + len(self.suffix)

    def fits_alone(self, item: bytes, max_bytes: int = MAX_BODY_BYTES) -> bool:
        """Whether a single item can travel at all."""
        return self.overhead + len(item) <= max_bytes


# Endpoints that take one record per request: the body is the item itself.
ONE_PER_REQUEST = Envelope(b"", b"")


def plan_bodies(
    sizes: Sequence[int],
    *,
    max_items: int,
    overhead: int,
    max_bytes: int = MAX_BODY_BYTES,
) -> Iterator[range]:
    """Yield consecutive index ranges whose bodies hold ≤ max_items and ≤ max_bytes.

    Every item must fit alone (callers refuse larger ones beforehand).
    """
    start = 0
    body = overhead
    for index, size in enumerate(sizes):
        separator = 1 if index > start else 0
        if index > start and (index - start >= max_items or body + separator + size > max_bytes):
            yield range(start, index)
            start, body, separator = index, overhead, 0
        body += separator + size
    if start < len(sizes):
        yield range(start, len(sizes))
