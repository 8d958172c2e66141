"""Concurrent sending: per-user ordering, backpressure, the barrier and failures."""

from __future__ import annotations

import threading
import time

import pytest

from target_iterable.delivery.dispatch import RequestDispatcher


def test_one_user_never_in_two_in_flight_requests_and_order_is_kept() -> None:
    dispatcher = RequestDispatcher("users", concurrency=6)
    in_flight: dict[str, int] = {}
    order: dict[str, list[int]] = {}
    lock = threading.Lock()
    violations: list[str] = []

    def job(number: int, users: frozenset[str]) -> None:
        with lock:
            for user in users:
                if in_flight.get(user):
                    violations.append(user)
                in_flight[user] = in_flight.get(user, 0) + 1
                order.setdefault(user, []).append(number)
        time.sleep(0.002)
        with lock:
            for user in users:
                in_flight[user] -= 1

    for number in range(300):
        users = frozenset({f"u{number % 7}", f"u{(number * 3) % 11}"})
        dispatcher.submit(lambda n=number, u=users: job(n, u), users)
    dispatcher.wait_idle()
    dispatcher.close()
    assert violations == []
    for numbers in order.values():
        assert numbers == sorted(numbers)
    assert dispatcher.peak_in_flight > 1  # unrelated users did travel concurrently


def test_backpressure_bounds_the_queue() -> None:
    release = threading.Event()
    dispatcher = RequestDispatcher("events", concurrency=2, max_queued=3)
    submitted = []

    def producer() -> None:
        for number in range(10):
            dispatcher.submit(release.wait)
            submitted.append(number)

    thread = threading.Thread(target=producer)
    thread.start()
    time.sleep(0.2)
    assert len(submitted) == 2 + 3  # two in flight, three queued, the producer blocked
    release.set()
    thread.join(5)
    dispatcher.wait_idle()
    dispatcher.close()
    assert len(submitted) == 10


def test_a_failure_is_raised_to_the_submitter_and_stops_the_queue() -> None:
    dispatcher = RequestDispatcher("catalog", concurrency=1)
    ran: list[int] = []

    def fail() -> None:
        raise RuntimeError("Iterable refused the API key")

    dispatcher.submit(fail)
    with pytest.raises(RuntimeError, match="API key"):
        dispatcher.wait_idle()
    with pytest.raises(RuntimeError):
        dispatcher.submit(lambda: ran.append(1))
    dispatcher.close()
    assert ran == []
