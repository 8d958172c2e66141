"""Retry policy as a small value object, apart from the code that sends requests.

Iterable answers 429 when a project exceeds an endpoint's rate limit, and 5xx
or dropped connections happen: both are worth retrying, with exponential
backoff and jitter so concurrent senders do not retry in lockstep, and with
``Retry-After`` honoured when Iterable sends it. [FACTS: Responses and errors]
"""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry one request."""

    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    retryable_statuses: frozenset[int] = RETRYABLE_STATUSES
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def is_retryable_status(self, status: int) -> bool:
        return status in self.retryable_statuses

    def delay(self, retry_number: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry ``retry_number`` (1-based).

        ``Retry-After`` wins when present (capped); otherwise exponential
        backoff with "equal jitter": half the step fixed, half random.
        """
        if retry_after is not None and retry_after >= 0:
            return float(min(retry_after, self.max_retry_after))
        step = float(min(self.max_delay, self.base_delay * 2 ** (retry_number - 1)))
        return step / 2 + self.rng.uniform(0, step / 2)

    def wait_times(self) -> Generator[float, Any, None]:
        """A ``backoff`` wait generator: receives each failure, yields the delay."""
        failure = yield 0.0  # backoff primes the generator with one send
        retry_number = 0
        while True:
            retry_number += 1
            failure = yield self.delay(retry_number, getattr(failure, "retry_after", None))


def parse_retry_after(header: str | None) -> float | None:
    """Read a ``Retry-After`` header given in seconds (HTTP dates are ignored)."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        return None
