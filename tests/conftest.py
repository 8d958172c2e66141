"""Shared fixtures: one emulator process per test session, reset before each test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from iterable_emulator.testing import PROCESSING_DELAY_ENV, EmulatorProcess
from tests.pipelines.postgres import PostgresServer, PostgresUnavailable
from tests.project_type import PROJECT_TYPE

# Iterable applies bulk writes asynchronously, so the suite's emulator does too
# (issue 16): the target must never rely on reading its own writes at once.
# ITERABLE_EMULATOR_PROCESSING_DELAY_MS / ITERABLE_EMULATOR_PROJECT_TYPE run the
# suite under another delay or project type.
SUITE_PROCESSING_DELAY_MS = 200


@pytest.fixture(scope="session")
def emulator_process() -> Iterator[EmulatorProcess]:
    delay = int(os.environ.get(PROCESSING_DELAY_ENV, SUITE_PROCESSING_DELAY_MS))
    with EmulatorProcess(processing_delay_ms=delay) as process:
        yield process


@pytest.fixture
def emulator(emulator_process: EmulatorProcess) -> EmulatorProcess:
    """A clean emulator: no state, no faults."""
    emulator_process.reset()
    emulator_process.set_faults()
    return emulator_process


@pytest.fixture
def target_config(emulator: EmulatorProcess) -> dict[str, Any]:
    """Settings pointing the target at the emulator, with short retries for tests, for
    the project type the suite runs against (tests/project_type.py)."""
    return {
        "api_key": emulator.api_key,
        "api_base_url": emulator.url,
        "max_attempts": 6,
        "project_type": PROJECT_TYPE.value,
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
