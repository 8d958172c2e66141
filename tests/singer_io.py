"""Building Singer input and running the real ``target-iterable`` CLI on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.project_type import with_user_id_properties, with_user_ids

# The console script users run, from the same virtualenv as the tests.
TARGET = [str(Path(sys.executable).parent / "target-iterable")]


def schema(
    stream: str, properties: Mapping[str, Any], key_properties: Sequence[str] = ()
) -> dict[str, Any]:
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": {"type": "object", "properties": with_user_id_properties(properties)},
        "key_properties": list(key_properties),
    }


def record(stream: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """A RECORD message; in a userId-based project a user named by email alone also
    gets a userId (tests/project_type.py)."""
    return {"type": "RECORD", "stream": stream, "record": with_user_ids(data)}


def state(value: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "STATE", "value": dict(value)}


def singer_lines(messages: Iterable[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(m) + "\n" for m in messages)


@dataclass
class TargetRun:
    returncode: int
    stdout: str
    stderr: str
    rejects: list[dict[str, Any]]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def rejected_by_reason(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for line in self.rejects:
            grouped.setdefault(line["reason"], []).append(line["record"])
        return grouped


def run_target(
    tmp_path: Path,
    config: Mapping[str, Any],
    messages: Iterable[Mapping[str, Any]] | str,
    *,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
) -> TargetRun:
    """Run the target as users do: a subprocess reading Singer lines on stdin."""
    config = dict(config)
    rejects_path = Path(config.setdefault("rejects_path", str(tmp_path / "rejects.jsonl")))
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    text = messages if isinstance(messages, str) else singer_lines(messages)
    completed = subprocess.run(
        [*TARGET, "--config", str(config_path)],
        input=text,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    rejects = (
        [json.loads(line) for line in rejects_path.read_text().splitlines()]
        if rejects_path.exists()
        else []
    )
    return TargetRun(completed.returncode, completed.stdout, completed.stderr, rejects)


def spawn_target(
    directory: Path,
    config: Mapping[str, Any],
    messages: Iterable[Mapping[str, Any]],
    *,
    output: int = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """Start the target on ``messages`` without closing its input, so a test can act on
    it mid-run (signal it, kill it); ``output`` is where its stdout and stderr go."""
    config_path = directory / "config.json"
    config_path.write_text(json.dumps(config))
    process = subprocess.Popen(
        [*TARGET, "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=output,
        stderr=output,
    )
    assert process.stdin is not None
    process.stdin.write(singer_lines(messages).encode())
    process.stdin.flush()
    return process
