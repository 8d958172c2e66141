"""Helpers for the project's tests, benchmarks and demo: run the emulator as a process.

The target never imports this module. ``EmulatorProcess`` starts
``python -m iterable_emulator`` on a free loopback port, waits until it
answers, and offers small read-back helpers, so a test can run the real target
against a real HTTP server and then check what landed::

    with EmulatorProcess("--no-rate-limits") as emulator:
        run_target(api_endpoint=emulator.url, api_key=emulator.api_key)
        assert emulator.user_by_email("a@example.com")["dataFields"]["plan"] == "pro"
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import requests

from iterable_emulator.emulator import DEFAULT_API_KEY

_LISTENING = re.compile(r"iterable-emulator listening on (http://\S+:(\d+))")
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


_READ_ATTEMPTS = 50
# Defaults for the flags below when neither the args nor the keywords set them, so a
# whole suite can be run against an asynchronous or a non-hybrid project.
PROCESSING_DELAY_ENV = "ITERABLE_EMULATOR_PROCESSING_DELAY_MS"
PROJECT_TYPE_ENV = "ITERABLE_EMULATOR_PROJECT_TYPE"


def _default_flags(
    args: tuple[str, ...], processing_delay_ms: int | None, project_type: str | None
) -> list[str]:
    """``--processing-delay-ms`` and ``--project-type`` from the keywords, else from the
    environment, unless ``args`` already has them."""
    flags = []
    for flag, value, env in (
        ("--processing-delay-ms", processing_delay_ms, PROCESSING_DELAY_ENV),
        ("--project-type", project_type, PROJECT_TYPE_ENV),
    ):
        if any(arg == flag or arg.startswith(flag + "=") for arg in args):
            continue
        chosen = str(value) if value is not None else os.environ.get(env)
        if chosen:
            flags += [flag, chosen]
    return flags


class EmulatorError(RuntimeError):
    """The emulator process failed to start, or an admin call failed."""


class EmulatorProcess:
    """A running emulator for the duration of a ``with`` block.

    ``args`` are extra CLI flags (``"--project-type", "email"``,
    ``"--no-rate-limits"``…); the host, port and API key are set here. The
    processing delay and the project type come from ``args``, else from the
    keywords, else from ``ITERABLE_EMULATOR_PROCESSING_DELAY_MS`` and
    ``ITERABLE_EMULATOR_PROJECT_TYPE``, else the emulator's defaults (0, hybrid).

    The read-back helpers (``user_by_email``, ``summary``, ``catalog_items``…) first
    wait until every write answered so far is applied (``settle``): a test asks
    what landed in the end, as one polling Iterable until it is consistent would.
    ``settle_reads=False`` reads the state as it is, for tests of the delay itself.
    """

    def __init__(
        self,
        *args: str,
        api_key: str = DEFAULT_API_KEY,
        startup_timeout: float = 20.0,
        processing_delay_ms: int | None = None,
        project_type: str | None = None,
        settle_reads: bool = True,
    ) -> None:
        self.args = (*args, *_default_flags(args, processing_delay_ms, project_type))
        self.settle_reads = settle_reads
        self.api_key = api_key
        self.startup_timeout = startup_timeout
        self.url = ""
        self.port = 0
        self.output: deque[str] = deque(maxlen=200)  # the process's last lines of output
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._listening = threading.Event()
        self._session = requests.Session()

    # Life cycle ------------------------------------------------------------------------

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> EmulatorProcess:
        command = [sys.executable, "-m", "iterable_emulator", "--host", "127.0.0.1", "--port", "0"]
        command += ["--api-key", self.api_key, *self.args]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        assert self._process.stdout is not None
        self._reader = threading.Thread(
            target=self._read_output, args=(self._process.stdout,), daemon=True
        )
        self._reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._listening.wait(0.05):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise EmulatorError("the emulator did not start:\n" + "\n".join(self.output))
        self.health()
        return self

    def _read_output(self, stream: IO[str]) -> None:
        """Keep reading (a full pipe would block the server) and spot the port line."""
        for line in stream:
            self.output.append(line.rstrip())
            match = _LISTENING.search(line)
            if match and not self._listening.is_set():
                self.url, self.port = match.group(1), int(match.group(2))
                self._listening.set()

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after 5 s)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._reader is not None:
            self._reader.join(5)
        self._session.close()

    # Admin endpoints -------------------------------------------------------------------

    def _admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._session.request(method, f"{self.url}/_emulator/{path}", **kwargs)
        if response.status_code != 200:
            raise EmulatorError(
                f"{method} /_emulator/{path}: {response.status_code} {response.text}"
            )
        return response.json()

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._admin("GET", "health")
        return result

    def reset(self) -> None:
        """Clear all state and counters; faults and settings return to the start-up ones."""
        self._admin("POST", "reset")

    def set_faults(self, **switches: Any) -> dict[str, Any]:
        """Replace the fault switches (``error_rate=0.5``…); unnamed ones are turned off."""
        result: dict[str, Any] = self._admin("POST", "faults", json=switches)
        return result

    def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self._admin("GET", "faults")
        return result

    def update_settings(self, **settings: Any) -> dict[str, Any]:
        """Change project settings (``project_type="email"``, ``rate_limits=False``…)."""
        result: dict[str, Any] = self._admin("POST", "settings", json=settings)
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._admin("GET", "stats")
        return result

    def endpoint_stats(self, endpoint: str) -> dict[str, int]:
        """Counters of one endpoint, e.g. ``"POST /api/users/bulkUpdate"`` (zeros if unseen)."""
        stats = self.stats()
        seen: dict[str, int] | None = stats["endpoints"].get(endpoint)
        return seen if seen is not None else dict.fromkeys(stats["total"], 0)

    def _settled(self) -> None:
        if self.settle_reads:
            self.settle()

    def summary(self) -> dict[str, Any]:
        self._settled()
        result: dict[str, Any] = self._admin("GET", "summary")
        return result

    def journeys(self, workflow_id: int | None = None) -> list[dict[str, Any]]:
        """The journeys triggered, oldest first: ``{"workflowId", "email", "userId",
        "listId", "dataFields"}`` each (identifiers as sent, null when not)."""
        params = {"workflowId": workflow_id} if workflow_id is not None else None
        self._settled()
        result: list[dict[str, Any]] = self._admin("GET", "journeys", params=params)["journeys"]
        return result

    def sends(
        self, channel: str | None = None, campaign_id: int | None = None
    ) -> list[dict[str, Any]]:
        """The messages sent, oldest first: ``{"channel", "campaignId", "recipientEmail",
        "recipientUserId", "dataFields", "sendAt", "allowRepeatMarketingSends",
        "metadata"}`` each. ``channel`` is the endpoint's path segment: ``email``,
        ``push``, ``sms``, ``inApp``, ``webPush`` or ``whatsApp``."""
        params: dict[str, Any] = {}
        if channel is not None:
            params["channel"] = channel
        if campaign_id is not None:
            params["campaignId"] = campaign_id
        self._settled()
        result: list[dict[str, Any]] = self._admin("GET", "sends", params=params)["sends"]
        return result

    def pending(self) -> dict[str, Any]:
        """``{"pending": n, "next_due_ms": ms | None}``: writes answered, not yet applied."""
        result: dict[str, Any] = self._admin("GET", "pending")
        return result

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every write answered so far has been applied (asynchronous mode).

        Tests that read back what they wrote call this first; it returns at once
        when there is no processing delay.
        """
        deadline = time.monotonic() + timeout
        while True:
            state = self.pending()
            if state["pending"] == 0:
                return
            if time.monotonic() > deadline:
                raise EmulatorError(f"{state['pending']} writes still pending after {timeout} s")
            time.sleep(min(max(state["next_due_ms"] or 0, 5) / 1000, 0.5))

    def requests_log(self, path: str | None = None) -> list[dict[str, Any]]:
        params = {"path": path} if path is not None else None
        result: list[dict[str, Any]] = self._admin("GET", "requests", params=params)["requests"]
        return result

    # Iterable's API, read back ---------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call Iterable's API on the emulator with this process's API key."""
        headers = {"Api-Key": self.api_key, **kwargs.pop("headers", {})}
        return self._session.request(method, self.url + path, headers=headers, **kwargs)

    def _read(self, path: str, **params: Any) -> dict[str, Any]:
        """Read back through Iterable's API, seeing through the fault switches."""
        response = self._get_through_faults(path, params)
        if response.status_code != 200:
            raise EmulatorError(f"GET {path}: {response.status_code} {response.text}")
        result: dict[str, Any] = response.json()
        return result

    def _get_through_faults(self, path: str, params: Mapping[str, Any]) -> requests.Response:
        """GET once every write so far is applied, asking again while answers are faulted.

        Tests read while faults are on (to check each STATE as it is emitted), so
        a faulted answer (5xx, 429, dropped connection) is simply asked again.
        """
        self._settled()
        for _ in range(_READ_ATTEMPTS):
            try:
                response = self.api("GET", path, params=params)
            except requests.ConnectionError:
                continue
            if response.status_code == 429 or response.status_code >= 500:
                time.sleep(0.05)
                continue
            return response
        raise EmulatorError(f"GET {path}: still faulted after {_READ_ATTEMPTS} attempts")

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        """The user object (email, userId, dataFields…), or None when unknown."""
        user: dict[str, Any] | None = self._read("/api/users/getByEmail", email=email).get("user")
        return user

    def user_by_id(self, user_id: str) -> dict[str, Any] | None:
        user: dict[str, Any] | None = self._read("/api/users/byUserId", userId=user_id).get("user")
        return user

    def events_for(
        self, email: str | None = None, user_id: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """The user's events, most recent first."""
        if (email is None) == (user_id is None):
            raise ValueError("pass exactly one of email and user_id")
        path = f"/api/events/{email}" if email is not None else f"/api/events/byUserId/{user_id}"
        events: list[dict[str, Any]] = self._read(path, limit=limit)["events"]
        return events

    def catalog_items(self, name: str) -> dict[str, dict[str, Any]]:
        """Every item of a catalog, ``{itemId: value}``."""
        items: dict[str, dict[str, Any]] = {}
        page = 1
        while True:
            params = self._read(f"/api/catalogs/{name}/items", page=page, pageSize=1000)["params"]
            for item in params["catalogItemsWithProperties"]:
                items[item["itemId"]] = item["value"]
            if "nextPageUrl" not in params:
                return items
            page += 1

    def catalog_item(self, name: str, item_id: str) -> dict[str, Any] | None:
        """One item's value, or None when the item (or catalog) does not exist."""
        response = self._get_through_faults(f"/api/catalogs/{name}/items/{item_id}", {})
        if response.status_code == 404:
            return None
        response.raise_for_status()
        value: dict[str, Any] = response.json()["params"]["value"]
        return value

    def field_mappings(self, name: str) -> dict[str, Any]:
        """``{"definedMappings": {...}, "undefinedFields": [...]}`` of a catalog."""
        params: dict[str, Any] = self._read(f"/api/catalogs/{name}/fieldMappings")["params"]
        return params
