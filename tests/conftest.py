"""Shared fixtures: one emulator process per test session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from iterable_emulator.testing import EmulatorProcess
from tests.pipelines.postgres import PostgresServer, PostgresUnavailable


@pytest.fixture(scope="session")
def emulator_process() -> Iterator[EmulatorProcess]:
    with EmulatorProcess() as process:
        yield process


@pytest.fixture
def emulator(emulator_process: EmulatorProcess) -> EmulatorProcess:
    """A clean emulator: no state, no faults."""
    emulator_process.reset()
    emulator_process.set_faults()
    return emulator_process


@pytest.fixture
def target_config(emulator: EmulatorProcess) -> dict[str, Any]:
    """Settings pointing the target at the emulator, with short retries for tests."""
    return {
        "api_key": emulator.api_key,
        "api_base_url": emulator.url,
        "max_attempts": 6,
    }


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server started for the session on a free loopback port.

    Never skipped: a machine without PostgreSQL fails here with what to do.
    """
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as error:
        pytest.fail(f"cannot start PostgreSQL (tap-postgres pipeline, sync state store): {error}")
    try:
        yield server
    finally:
        server.stop()
