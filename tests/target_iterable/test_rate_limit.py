"""The limiter never exceeds its rate over any one-second window (deterministic clock)."""

from __future__ import annotations

import pytest

from target_iterable.rate_limit import RateLimiter


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


def test_halves_on_429_and_recovers_on_success() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    limiter.on_throttled()
    assert limiter.rate == 5.0
    times = permits(limiter, clock, 50)
    assert max_in_any_window(times[1:]) <= 5
    for _ in range(40):
        limiter.on_success()
    assert limiter.rate == 10.0
