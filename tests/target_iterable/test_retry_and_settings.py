"""Retry policy values and the resolution of the API's base URL."""

from __future__ import annotations

import random

import pytest
from jsonschema import Draft7Validator

from target_iterable.errors import ConfigurationError
from target_iterable.retry import RetryPolicy, parse_retry_after
from target_iterable.settings import CONFIG_SCHEMA, resolve_base_url


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, rng=random.Random(7))
    delays = [policy.delay(n) for n in range(1, 7)]
    for n, delay in enumerate(delays, start=1):
        step = min(8.0, 2 ** (n - 1))
        assert step / 2 <= delay <= step


def test_retry_after_wins_and_is_capped() -> None:
    policy = RetryPolicy(max_retry_after=30.0)
    assert policy.delay(1, retry_after=4.0) == 4.0
    assert policy.delay(1, retry_after=600.0) == 30.0
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, "https://api.iterable.com"),
        ({"region": "eu"}, "https://api.eu.iterable.com"),
        ({"api_base_url": "http://127.0.0.1:8089/"}, "http://127.0.0.1:8089"),
        ({"api_base_url": "http://localhost:9"}, "http://localhost:9"),
        ({"api_base_url": "https://proxy.example.com"}, "https://proxy.example.com"),
    ],
)
def test_base_url(config: dict[str, str], expected: str) -> None:
    assert resolve_base_url(config) == expected


@pytest.mark.parametrize(
    "config",
    [
        {"api_base_url": "http://proxy.example.com"},
        {"api_base_url": "ftp://127.0.0.1"},
        {"region": "apac"},
    ],
)
def test_unsafe_or_invalid_base_url_is_refused(config: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        resolve_base_url(config)


@pytest.mark.parametrize(
    ("ratio", "valid"),
    [
        (0.2, True),
        (1, True),
        ("0.25", True),
        (" 1 ", True),
        (".5", True),
        (1.5, False),
        ("", False),
        ("lots", False),
        ("1.5", False),
        ("-0.1", False),
    ],
)
def test_max_rejected_ratio_is_a_number_or_its_text(ratio: object, valid: bool) -> None:
    """Text too: Meltano passes it as a string (a `decimal` setting crashes Meltano 4.4)."""
    errors = list(
        Draft7Validator(CONFIG_SCHEMA).iter_errors({"api_key": "k", "max_rejected_ratio": ratio})
    )
    assert (not errors) == valid
