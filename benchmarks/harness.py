"""Run one target process, measure it (CPU, peak RSS, wall time) and check the run.

Figures come only from a run that passed every check here (exit 0, last STATE
reached, no rejects, every record landed in the emulator): a BenchmarkError says
which check failed, so a broken run never passes for a fast or a slow one.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.generate import Counts
from iterable_emulator.testing import EmulatorProcess

ROOT = Path(__file__).resolve().parents[1]
TARGET = [str(Path(sys.executable).parent / "target-iterable")]
# The project every figure is measured against, whatever the environment says
# (ITERABLE_EMULATOR_PROJECT_TYPE / _PROCESSING_DELAY_MS are for the test suite): a
# hybrid project applying writes at once, as the published figures were measured.
AS_MEASURED: dict[str, Any] = {"project_type": "hybrid", "processing_delay_ms": 0}


class BenchmarkError(Exception):
    """A run failed or loaded the wrong data: its figures would mean nothing."""


def expect(condition: bool, message: str) -> None:
    """Like assert, but not stripped by ``python -O`` and reported as a failed run."""
    if not condition:
        raise BenchmarkError(message)


@dataclass(frozen=True)
class ProcessRun:
    """One finished target process: its resources, from wait4 (this child only)."""

    cpu_seconds: float
    peak_rss_mb: float
    wall_seconds: float
    stdout: Path
    stderr: Path


def run_target(
    command: Sequence[str],
    config: dict[str, Any],
    input_path: Path,
    *,
    work: Path,
    label: str,
    timeout: float,
) -> ProcessRun:
    """Run a target on ``input_path``; BenchmarkError unless it exits 0 in time.

    ``os.wait4`` returns the rusage of exactly this child (user + sys CPU and
    ru_maxrss, KiB on Linux), so nothing else the benchmark runs is counted.
    """
    config_path = work / f"{label}.config.json"
    config_path.write_text(json.dumps(config))
    stdout_path, stderr_path = work / f"{label}.stdout", work / f"{label}.stderr"
    started = time.perf_counter()
    with (
        input_path.open("rb") as stdin,
        stdout_path.open("wb") as stdout,
        stderr_path.open("wb") as stderr,
    ):
        process = subprocess.Popen(
            [*command, "--config", str(config_path)],
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            cwd=ROOT,
        )
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout:
                process.kill()
                _, status, usage = os.wait4(process.pid, 0)
                process.returncode = -9
                raise BenchmarkError(f"{label}: still running after {timeout:.0f} s, killed")
            time.sleep(0.02)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise BenchmarkError(
            f"{label}: exit {process.returncode}; end of its stderr:\n{stderr_tail(stderr_path)}"
        )
    return ProcessRun(
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
        wall_seconds=wall,
        stdout=stdout_path,
        stderr=stderr_path,
    )


def stderr_tail(path: Path, lines: int = 15) -> str:
    """The last log lines, without the SDK's METRIC lines that bury the error."""
    kept = [line for line in path.read_text(errors="replace").splitlines() if "METRIC:" not in line]
    return "\n".join(kept[-lines:])


def last_state(run: ProcessRun) -> Any:
    """The value of the last STATE message the target wrote, or None."""
    state = None
    with run.stdout.open("rb") as lines:
        for line in lines:
            if line.strip():
                state = json.loads(line)
    return state


def expect_complete(run: ProcessRun, counts: Counts, label: str) -> None:
    """The target read the whole input: it emitted the input's last STATE."""
    got = last_state(run)
    expect(
        got == counts.final_state(),
        f"{label}: last STATE {got!r}, expected {counts.final_state()!r}",
    )


def target_config(
    emulator: EmulatorProcess, work: Path, label: str, sync_state: Path | None = None
) -> dict[str, Any]:
    """The target's default settings, pointed at the emulator; a sync state of the run's
    own unless ``sync_state`` is shared (so no run is skipped as unchanged by another)."""
    return {
        "api_key": emulator.api_key,
        "api_base_url": emulator.url,
        "rejects_path": str(work / f"{label}.rejects.jsonl"),
        "sync_state_url": str(sync_state or work / f"{label}.sync.db"),
    }


def expect_no_rejects(work: Path, label: str) -> None:
    rejects = work / f"{label}.rejects.jsonl"
    count = len(rejects.read_text().splitlines()) if rejects.exists() else 0
    expect(count == 0, f"{label}: {count} records rejected (see the rejects file)")


def expect_landed(emulator: EmulatorProcess, counts: Counts, label: str) -> None:
    """The emulator holds exactly the generated users, events and catalog items."""
    summary = emulator.summary()
    landed = Counts(summary["users"], summary["events"], summary["catalog_items"])
    expect(landed == counts, f"{label}: the emulator holds {landed}, expected {counts}")


class EmulatorCpu:
    """CPU seconds used so far by the emulator (a child of this process), from /proc.

    Tells whether the emulator, not the target, set the pace of a run.
    """

    def __init__(self) -> None:
        self.pid = self._find()

    @staticmethod
    def _find() -> int | None:
        me = str(os.getpid())
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[1] == me and b"iterable_emulator" in cmdline:
                return int(entry.name)
        return None

    def seconds(self) -> float | None:
        if self.pid is None:
            return None
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured_run(
    emulator: EmulatorProcess,
    path: Path,
    counts: Counts,
    *,
    work: Path,
    label: str,
    timeout: float,
    sync_state: Path | None = None,
) -> tuple[ProcessRun, float | None]:
    """Run the target on one input and check it; also the emulator's CPU seconds meanwhile."""
    emulator_cpu = EmulatorCpu()
    before = emulator_cpu.seconds()
    run = run_target(
        TARGET,
        target_config(emulator, work, label, sync_state),
        path,
        work=work,
        label=label,
        timeout=timeout,
    )
    used = _used(before, emulator_cpu.seconds())
    expect_complete(run, counts, label)
    expect_no_rejects(work, label)
    return run, used


def _used(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


@dataclass(frozen=True)
class SendingPhase:
    """One endpoint's requests as the emulator logged them."""

    requests: int
    throttled: int
    records: int  # in requests answered 2xx
    seconds: float  # first request's arrival to the last response
    server_ms: float  # median time the emulator took per request, latency included

    @property
    def rate(self) -> float:
        return self.records / self.seconds


def sending_phase(emulator: EmulatorProcess, endpoint: str) -> SendingPhase:
    """Records per second from the request log: arrival of the first to the last answer.

    The log entry's ``time`` is when the emulator began the request (body read),
    ``duration_ms`` runs to its answer; the log is bounded, so its length is
    checked against the endpoint's counter.
    """
    log = [entry for entry in emulator.requests_log() if entry["endpoint"] == endpoint]
    counted = emulator.endpoint_stats(endpoint)["requests"]
    expect(bool(log), f"the emulator logged no {endpoint} request")
    expect(len(log) == counted, f"request log truncated: {len(log)} of {counted} requests")
    answered = [entry for entry in log if entry["status"] is not None and entry["status"] < 300]
    first = min(entry["time"] for entry in log)
    last = max(entry["time"] + entry["duration_ms"] / 1000 for entry in log)
    return SendingPhase(
        requests=len(log),
        throttled=sum(entry["status"] == 429 for entry in log),
        records=sum(entry["records"] for entry in answered),
        seconds=last - first,
        server_ms=statistics.median(entry["duration_ms"] for entry in log),
    )
