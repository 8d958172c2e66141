"""Fixtures of the pipeline tests: `meltano run` against the emulator, a real PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from iterable_emulator.testing import EmulatorProcess
from tests.pipelines.postgres import PostgresServer, PostgresUnavailable

ROOT = Path(__file__).resolve().parents[2]
MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"

MeltanoRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def meltano_run(emulator: EmulatorProcess) -> MeltanoRun:
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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server started for the session on a free loopback port.

    Never skipped: a machine without PostgreSQL fails here with what to do.
    """
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as error:
        pytest.fail(f"cannot start PostgreSQL for the tap-postgres pipeline test: {error}")
    try:
        yield server
    finally:
        server.stop()
