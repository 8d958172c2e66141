"""The rate limiter, on a fake clock, and Iterable's 429 as a client sees it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from iterable_emulator.limits import FORGET, Limit, RateLimiter
from iterable_emulator.testing import EmulatorProcess

from .helpers import bulk_update


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_admits_n_per_second_then_refuses_until_the_window_slides() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock)
    limit = Limit(5)
    assert [limiter.allow("bulk", limit) for _ in range(6)] == [True] * 5 + [False]
    clock.now += 0.999
    assert not limiter.allow("bulk", limit)
    clock.now += 0.002
    assert limiter.allow("bulk", limit)


def test_endpoints_are_limited_separately() -> None:
    limiter = RateLimiter(FakeClock())
    assert limiter.allow("a", Limit(1))
    assert limiter.allow("b", Limit(1))
    assert not limiter.allow("a", Limit(1))


def test_forget_is_limited_per_second_and_per_day() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock)
    admitted = 0
    for _ in range(2000):
        clock.now += 0.2  # 5 attempts a second, above the 3/s limit
        admitted += limiter.allow("forget", FORGET)
    assert admitted == 1000
    clock.now += 24 * 60 * 60
    assert limiter.allow("forget", FORGET)


def test_multiplier_scales_and_switch_disables() -> None:
    limiter = RateLimiter(FakeClock(), multiplier=0.2)
    assert [limiter.allow("bulk", Limit(5)) for _ in range(2)] == [True, False]
    limiter.enabled = False
    assert all(limiter.allow("bulk", Limit(5)) for _ in range(100))


@given(
    gaps=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=200),
    per_second=st.integers(min_value=1, max_value=10),
)
def test_never_more_than_n_admitted_in_any_one_second_window(
    gaps: list[float], per_second: int
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock)
    admitted = []
    for gap in gaps:
        clock.now += gap
        if limiter.allow("k", Limit(per_second)):
            admitted.append(clock.now)
    for start in admitted:
        assert sum(1 for t in admitted if start <= t < start + 1.0) <= per_second


def test_over_the_limit_is_429_rate_limit_exceeded(emulator: EmulatorProcess) -> None:
    # 0.2 x bulkUpdate's 5/s: the second request within a second is refused.
    emulator.update_settings(rate_limits=True, rate_limit_multiplier=0.2)
    first = bulk_update(emulator, {"email": "a@example.com"})
    second = bulk_update(emulator, {"email": "b@example.com"})
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json() == {"msg": "Exceeded rate limit.", "code": "RateLimitExceeded"}
    assert "Retry-After" not in second.headers
    assert emulator.user_by_email("b@example.com") is None  # reads have their own limit

    emulator.set_faults(retry_after=1)
    third = bulk_update(emulator, {"email": "c@example.com"})
    assert third.status_code == 429
    assert third.headers["Retry-After"] == "1"
    assert emulator.endpoint_stats("POST /api/users/bulkUpdate")["status_429"] == 2


def test_catalog_item_limits_count_per_api_key() -> None:
    with EmulatorProcess("--api-key", "second-key", "--rate-limit-multiplier", "0.01") as emulator:
        emulator.api("POST", "/api/catalogs/c")
        body = {"documents": {"a": {"n": 1}}, "replaceUploadedFieldsOnly": True}
        first_key = [emulator.api("POST", "/api/catalogs/c/items", json=body) for _ in range(2)]
        assert [r.status_code for r in first_key] == [202, 429]
        other = emulator.api(
            "POST", "/api/catalogs/c/items", json=body, headers={"Api-Key": "second-key"}
        )
        assert other.status_code == 202
