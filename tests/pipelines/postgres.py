"""A throwaway PostgreSQL server for the pipeline tests.

``PostgresServer.start()`` runs ``initdb`` into a fresh temporary directory,
starts the cluster with ``pg_ctl`` on a free loopback port (TCP on 127.0.0.1
only, its Unix socket in the same directory), and creates a login role with a
password and a database owned by it, which is what tap-postgres connects with.
``stop()`` stops the server and removes the directory.

The binaries are Debian's (package ``postgresql``, in
``/usr/lib/postgresql/<version>/bin``; ``scripts/test.sh`` installs it when it
is absent), or those of ``$PG_BIN_DIR``. PostgreSQL refuses to run as root, so
when the tests run as root the cluster belongs to the ``postgres`` user and its
commands run through ``runuser``.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

SETUP_HINT = (
    "run the tests with `bash scripts/test.sh`, which installs Debian's `postgresql` "
    "package when it is missing (or set PG_BIN_DIR to a directory holding initdb, pg_ctl, "
    "postgres and psql)"
)
_SERVER_TOOLS = ("initdb", "pg_ctl", "postgres", "psql")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries, or the server would not start."""


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def find_bin_dir() -> Path:
    """The directory of initdb, pg_ctl, postgres and psql: $PG_BIN_DIR or Debian's newest."""
    candidates: list[Path] = []
    if os.environ.get("PG_BIN_DIR"):
        candidates.append(Path(os.environ["PG_BIN_DIR"]))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    for directory in candidates:
        if all(os.access(directory / tool, os.X_OK) for tool in _SERVER_TOOLS):
            return directory
    raise PostgresUnavailable(
        f"PostgreSQL's server binaries ({', '.join(_SERVER_TOOLS)}) were not found in "
        f"{', '.join(map(str, candidates)) or '/usr/lib/postgresql/*/bin'}: {SETUP_HINT}"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, for one test session."""

    superuser = "postgres"

    def __init__(
        self,
        *,
        user: str = "tap_reader",
        password: str = "tap-reader-secret",
        database: str = "shop",
    ) -> None:
        self.user = user
        self.password = password
        self.database = database
        self.host = "127.0.0.1"
        self.port = 0
        self.bin_dir = find_bin_dir()
        self.directory: Path | None = None
        # As root, the cluster and its processes belong to the `postgres` user.
        self.run_as: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "the tests run as root, PostgreSQL refuses to, and there is no `postgres` "
                    f"user to run it as: {SETUP_HINT}"
                ) from None
            self.run_as = "postgres"

    # Life cycle ------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        assert self.directory is not None, "the server is not started"
        return self.directory / "data"

    @property
    def log_file(self) -> Path:
        assert self.directory is not None, "the server is not started"
        return self.directory / "server.log"

    def _server_command(self, *args: str, timeout: float = 60) -> str:
        """Run one of the server's tools as the cluster's owner; its output, or raise."""
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        completed = subprocess.run(
            command,
            cwd=self.directory,  # readable by the cluster's owner
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0:
            log = (
                self.log_file.read_text(errors="replace")[-3000:] if self.log_file.exists() else ""
            )
            raise PostgresUnavailable(
                f"`{' '.join(args)}` failed ({completed.returncode}):\n"
                f"{completed.stdout}{completed.stderr}{log}"
            )
        return completed.stdout

    def start(self) -> PostgresServer:
        # As root, under /tmp: $TMPDIR may be a directory the cluster's owner cannot enter.
        parent = "/tmp" if self.run_as is not None else None
        self.directory = Path(tempfile.mkdtemp(prefix="target-iterable-pg-", dir=parent))
        if self.run_as is not None:
            shutil.chown(self.directory, user=self.run_as, group=self.run_as)
        try:
            self._server_command(
                "initdb",
                "--pgdata", str(self.data_dir),
                "--username", self.superuser,
                "--encoding", "UTF8",
                "--no-locale",
                "--auth-local", "trust",           # the socket, in our own 0700 directory
                "--auth-host", "scram-sha-256",    # TCP: the password is checked
                "--no-sync",
            )  # fmt: skip
            for _attempt in range(3):  # a free port can be taken between probe and bind
                self.port = free_port()
                options = (
                    f"-p {self.port} -k {self.directory} -c listen_addresses={self.host} "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                )
                try:
                    self._server_command(
                        "pg_ctl", "start", "--pgdata", str(self.data_dir), "--wait",
                        "--timeout", "30", "--log", str(self.log_file), "-o", options,
                    )  # fmt: skip
                    break
                except PostgresUnavailable:
                    if "could not bind" not in self.log_file.read_text(errors="replace"):
                        raise
            else:
                raise PostgresUnavailable(f"no free port:\n{self.log_file.read_text()}")
            self.superuser_sql(
                f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password}'",
                f"CREATE DATABASE {self.database} OWNER {self.user} ENCODING 'UTF8' "
                "TEMPLATE template0",
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (immediately: nothing in it is worth keeping) and remove it."""
        if self.directory is None:
            return
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._server_command(
                    "pg_ctl", "stop", "--pgdata", str(self.data_dir), "--mode", "immediate",
                    "--wait",
                )  # fmt: skip
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # SQL -------------------------------------------------------------------------------

    def superuser_sql(self, *statements: str) -> str:
        """Run statements as the superuser through the Unix socket, each in its own transaction."""
        commands = [part for statement in statements for part in ("--command", statement)]
        return self._server_command(
            "psql", "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1",
            "--host", str(self.directory), "--port", str(self.port),
            "--username", self.superuser, "--dbname", "postgres", *commands,
        )  # fmt: skip

    def psql(self, *args: str, sql: str | None = None) -> str:
        """Run psql as the tap's role over TCP with its password, as tap-postgres connects."""
        command = [str(self.bin_dir / "psql"), "--no-psqlrc", "--quiet", "--no-align"]
        command += ["--tuples-only", "--set", "ON_ERROR_STOP=1", "--host", self.host]
        command += ["--port", str(self.port), "--username", self.user, "--dbname", self.database]
        environment = {**os.environ, "PGPASSWORD": self.password, "PGTZ": "UTC"}
        completed = subprocess.run(
            [*command, *args],
            input=sql,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"psql failed ({completed.returncode}): {completed.stderr}")
        return completed.stdout

    def run_file(self, path: Path) -> None:
        self.psql("--file", str(path))

    def execute(self, sql: str) -> None:
        self.psql(sql=sql)

    def query_json(self, sql: str) -> Any:
        """The value of a query returning one JSON value (e.g. ``SELECT json_agg(t) FROM t``)."""
        return json.loads(self.psql("--command", sql))

    # tap-postgres ----------------------------------------------------------------------

    def tap_env(self) -> dict[str, str]:
        """Environment variables pointing tap-postgres (through Meltano) at this server."""
        return {
            "TAP_POSTGRES_HOST": self.host,
            "TAP_POSTGRES_PORT": str(self.port),
            "TAP_POSTGRES_USER": self.user,
            "TAP_POSTGRES_PASSWORD": self.password,
            "TAP_POSTGRES_DATABASE": self.database,
            "TAP_POSTGRES_FILTER_SCHEMAS": '["public"]',
        }
