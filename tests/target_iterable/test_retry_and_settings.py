"""Retry policy values and the resolution of the API's base URL."""

from __future__ import annotations

import random
from typing import Any

import pytest
from jsonschema import Draft7Validator

from target_iterable.config_schema import CONFIG_SCHEMA
from target_iterable.errors import ConfigurationError
from target_iterable.iterable.regions import resolve_base_url
from target_iterable.iterable.retry import RetryPolicy, parse_retry_after
from target_iterable.settings import Settings, StreamOptions
from target_iterable.target import TargetIterable


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
    assert resolve_base_url(config.get("region", "us"), config.get("api_base_url")) == expected


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
        resolve_base_url(config.get("region", "us"), config.get("api_base_url"))


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


def with_defaults(**config: Any) -> dict[str, Any]:
    """A config as the SDK hands it over: the schema's defaults, then ``config``."""
    defaults = {
        name: spec["default"]
        for name, spec in CONFIG_SCHEMA["properties"].items()
        if "default" in spec
    }
    return {"api_key": "k", **defaults, **config}


def test_settings_are_parsed_once_into_typed_values() -> None:
    settings = Settings.from_config(
        with_defaults(
            checkpoint_seconds="2.5",  # Meltano may pass a number from the environment as text
            users_requests_per_second=4,
            stream_options={"events-signups": {"event_name": "signup", "campaign_id": 7}},
        )
    )
    assert settings.checkpoint_seconds == 2.5
    assert settings.rate_limits["users_bulk_update"] == 4.0
    assert settings.rate_limits["user_forgets"] == 3.0  # Iterable's documented limit
    assert settings.options_for("events-signups").record_defaults == {
        "eventName": "signup",
        "campaignId": 7,
    }
    assert settings.options_for("users") == StreamOptions()
    assert "api_key" not in repr(settings)
    assert "'k'" not in repr(settings)


def test_every_bad_setting_is_named_at_start_up() -> None:
    config = with_defaults(
        max_attempts=0,
        checkpoint_seconds="soon",
        stream_options={
            "users": {"on_delete": "erase", "update_only": "yes"},
            "events": {"evnt_name": "x"},
        },
    )
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_config(config)
    message = str(raised.value)
    assert "setting max_attempts must be at least 1, not 0" in message
    assert "setting checkpoint_seconds must be a number, not 'soon'" in message
    assert (
        "setting stream_options.users.on_delete must be one of ignore, delete, forget, "
        "not 'erase'" in message
    )
    assert "setting stream_options.users.update_only must be true or false, not 'yes'" in message
    assert "stream_options.events.evnt_name is not an option" in message


def test_the_target_refuses_a_bad_setting_before_reading_anything() -> None:
    with pytest.raises(ConfigurationError, match=r"stream_options\.users\.on_delete"):
        TargetIterable(
            config=with_defaults(stream_options={"users": {"on_delete": "erase"}}),
            validate_config=False,
        )
