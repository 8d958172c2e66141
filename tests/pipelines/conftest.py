"""Fixtures of the pipeline tests: `meltano run` against the emulator, a real PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from iterable_emulator.testing import EmulatorProcess

ROOT = Path(__file__).resolve().parents[2]
MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"

MeltanoRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def meltano_run(emulator: EmulatorProcess, tmp_path: Path) -> MeltanoRun:
    """``run(job, **env)``: ``meltano run`` a job of meltano.yml into the test's emulator.

    Re-reads the bundled files (``--full-refresh``) whatever Meltano's state says,
    with ``env`` added to the environment (e.g. the loader's rejects path). Fails
    the test when the run fails or prints the API key.
    """

    def run(job: str, **env: str) -> subprocess.CompletedProcess[str]:
        assert MELTANO.exists(), "Meltano is not set up: run the tests with bash scripts/test.sh"
        completed = subprocess.run(
            [str(MELTANO), "run", "--full-refresh", "--force", job],
            cwd=ROOT,
            env={
                **os.environ,
                "TARGET_ITERABLE_API_KEY": emulator.api_key,
                "TARGET_ITERABLE_API_BASE_URL": emulator.url,
                # The sync state of this test only (the emulator is shared, and reset).
                "TARGET_ITERABLE_SYNC_STATE_URL": f"sqlite:///{tmp_path / 'sync.db'}",
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                **env,
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        assert emulator.api_key not in completed.stdout + completed.stderr
        return completed

    return run


@pytest.fixture
def emulator(emulator_process: EmulatorProcess) -> EmulatorProcess:
    """The session's emulator, applying writes at once, as a hybrid project: these tests
    count the records each run puts on the wire, which retries of events answered 'not
    found' under asynchronous processing would blur; and the jobs' data (meltano.yml's
    demo and objects files, the PostgreSQL fixture) has rows that name their user by
    email alone, which only email-based and hybrid projects take. Asynchronous
    processing and every project type are covered end to end in tests/target_iterable
    (scripts/test.sh runs it in each project type)."""
    emulator_process.reset()
    emulator_process.set_faults()
    emulator_process.update_settings(processing_delay_ms=0, project_type="hybrid")
    return emulator_process
