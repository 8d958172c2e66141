"""The limiter never exceeds its rate over any one-second window (deterministic clock)."""

from __future__ import annotations

import pytest

from target_iterable.iterable.rate_limit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def permits(limiter: RateLimiter, clock: FakeClock, count: int, gap: float = 0.0) -> list[float]:
    times = []
    for _ in range(count):
        limiter.acquire()
        times.append(clock.now)
        clock.now += gap
    return times


def max_in_any_window(times: list[float], window: float = 1.0) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


@pytest.mark.parametrize("rate", [5.0, 10.0, 100.0])
def test_never_more_than_rate_per_second(rate: float) -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate, clock=clock, sleep=clock.sleep)
    times = permits(limiter, clock, 300)
    assert max_in_any_window(times) <= rate
    # …and it keeps the pipe full: 300 permits take (300 - 1) / rate seconds.
    assert times[-1] - times[0] == pytest.approx(299 / rate)


def test_idle_time_is_not_banked_into_a_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5.0, clock=clock, sleep=clock.sleep)
    permits(limiter, clock, 3)
    clock.now += 30  # idle
    assert max_in_any_window(permits(limiter, clock, 20)) <= 5


def test_slows_down_on_429_and_recovers_on_success() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    limiter.on_throttled(limiter.acquire())
    assert limiter.rate == pytest.approx(7.0)
    times = permits(limiter, clock, 50)
    assert max_in_any_window(times[1:]) <= 7
    for _ in range(40):
        limiter.on_success()
    assert limiter.rate == 10.0


def test_finds_a_lower_real_limit_with_few_429s() -> None:
    """Another loader shares the project: Iterable allows 3/s, the limiter starts at 10/s.

    A sliding one-second window plays Iterable; a refused request does not use quota.
    """
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    admitted: list[float] = []
    throttled = 0
    start = clock.now
    while clock.now - start < 60:
        granted_at = limiter.acquire()
        if sum(1 for t in admitted if t > clock.now - 1.0) >= 3:
            throttled += 1
            limiter.on_throttled(granted_at)
        else:
            admitted.append(clock.now)
            limiter.on_success()
    # Four cuts find the limit (10 → 7 → 4.9 → 3.4 → 2.4), then a rare 429 while
    # probing above it (plain AIMD here: one 429 in every 2.5 admitted requests).
    assert throttled <= len(admitted) / 8
    assert len(admitted) / 60 >= 0.85 * 3


def test_429s_of_requests_sent_before_a_cut_do_not_cut_again() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    in_flight = [limiter.acquire() for _ in range(4)]
    for granted_at in in_flight:
        limiter.on_throttled(granted_at)
    assert limiter.rate == pytest.approx(7.0)
    limiter.on_throttled(limiter.acquire())  # sent after the cut: cuts again
    assert limiter.rate == pytest.approx(4.9)


def test_a_429_at_the_configured_rate_is_taken_as_jitter() -> None:
    """No remembered ceiling: back to the full rate after a handful of successes."""
    clock = FakeClock()
    limiter = RateLimiter(5.0, clock=clock, sleep=clock.sleep)
    limiter.on_throttled(limiter.acquire())
    for _ in range(6):
        limiter.on_success()
    assert limiter.rate == 5.0
