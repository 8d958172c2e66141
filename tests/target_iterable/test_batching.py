"""Bodies never exceed the record cap or Iterable's 4 MB."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from target_iterable.delivery.batching import MAX_BODY_BYTES, Envelope, plan_bodies

USERS = Envelope(b'{"users":[', b"]}")


def test_splits_by_count() -> None:
    assert [list(r) for r in plan_bodies([10] * 5, max_items=2, overhead=12)] == [
        [0, 1],
        [2, 3],
        [4],
    ]


def test_splits_by_bytes_exactly_at_the_limit() -> None:
    overhead = USERS.overhead
    half = (MAX_BODY_BYTES - overhead - 1) // 2
    sizes = [half, half, 1]
    ranges = list(plan_bodies(sizes, max_items=1000, overhead=overhead))
    assert [list(r) for r in ranges] == [[0, 1], [2]]
    body = USERS.wrap([b"x" * half, b"x" * half])
    assert len(body) <= MAX_BODY_BYTES


def test_single_item_too_large_is_detected() -> None:
    assert USERS.fits_alone(b"x" * (MAX_BODY_BYTES - USERS.overhead))
    assert not USERS.fits_alone(b"x" * (MAX_BODY_BYTES - USERS.overhead + 1))


@given(
    sizes=st.lists(st.integers(min_value=1, max_value=400), max_size=200),
    max_items=st.integers(min_value=1, max_value=50),
    max_bytes=st.integers(min_value=420, max_value=5000),
)
def test_every_item_once_in_order_within_limits(
    sizes: list[int], max_items: int, max_bytes: int
) -> None:
    ranges = list(plan_bodies(sizes, max_items=max_items, overhead=12, max_bytes=max_bytes))
    assert [i for r in ranges for i in r] == list(range(len(sizes)))
    for r in ranges:
        assert 0 < len(r) <= max_items
        assert 12 + sum(sizes[i] for i in r) + len(r) - 1 <= max_bytes
