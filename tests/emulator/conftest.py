"""Fixtures for the emulator's own tests: one emulator process per session, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iterable_emulator.store import Store
from iterable_emulator.testing import EmulatorProcess


@pytest.fixture(scope="session")
def emulator_process() -> Iterator[EmulatorProcess]:
    # Rate limits off by default so fast tests are not throttled; the tests of
    # limits turn them on through /_emulator/settings. The emulator's own rules are
    # tested from its defaults (hybrid, writes applied at once) whatever project the
    # target's tests run against; tests of another project type or of the delay set it.
    with EmulatorProcess(
        "--no-rate-limits", processing_delay_ms=0, project_type="hybrid"
    ) as process:
        yield process


@pytest.fixture
def emulator(emulator_process: EmulatorProcess) -> EmulatorProcess:
    """The session's emulator, emptied, with faults off and start-up settings."""
    emulator_process.reset()
    return emulator_process


@pytest.fixture
def store() -> Iterator[Store]:
    """A fresh in-memory store, for rules simpler to check without HTTP."""
    fresh = Store()
    yield fresh
    fresh.close()
