"""Fixtures of the pipeline tests: a real PostgreSQL server for tap-postgres."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pipelines.postgres import PostgresServer, PostgresUnavailable


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
