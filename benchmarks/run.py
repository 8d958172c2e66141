"""Measure target-iterable against the emulator; print (and save) one table of figures.

    python -m benchmarks.run                # full run (about 6 minutes on 2 cores)
    python -m benchmarks.run --quick        # tiny inputs: checks the harness, figures meaningless
    python -m benchmarks.run --only cpu     # one scenario: api, cpu or memory

Every target run is a subprocess reading a generated file (benchmarks.generate) on
stdin, stdout and stderr to files. A run counts only if the target exited 0, its
last STATE is the input's last STATE (it read everything), it rejected nothing,
and the emulator holds exactly the records sent; otherwise the scenario is an
ERROR and the exit status is 1. A missed goal is a FAIL in the table, exit 0.

1. API-bound: the emulator enforces Iterable's documented rate limits
   (users/bulkUpdate 5 req/s, events/trackBulk 10 req/s) and answers every
   request 150 ms late; the target runs with its default settings.
2. CPU-bound: no limits, no latency. CPU seconds of target-iterable per 100k
   records of a users/events/catalog mix, against a no-op Singer SDK target
   (benchmarks.noop_target, default settings) reading the same file, same run.
3. Memory: peak RSS of target-iterable for 100k and 1M users + events.

A full run writes the table to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from benchmarks.generate import Counts, write_input
from iterable_emulator.testing import EmulatorError, EmulatorProcess

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
TARGET = [str(Path(sys.executable).parent / "target-iterable")]
NOOP = [sys.executable, "-m", "benchmarks.noop_target"]

USERS_ENDPOINT = "POST /api/users/bulkUpdate"
EVENTS_ENDPOINT = "POST /api/events/trackBulk"
LATENCY_MS = 150
BATCH_SIZE = 1000  # the target's default users_batch_size and events_batch_size
USERS_LIMIT = 5  # requests per second Iterable allows users/bulkUpdate
EVENTS_LIMIT = 10  # … and events/trackBulk
THROUGHPUT_GOAL = 0.95
CPU_RATIO_GOAL = 0.5
RSS_GOAL_MB = 150.0
FLAT_GROWTH = 1.2  # "flat": the largest N peaks at most 20% above the smallest


@dataclass(frozen=True)
class Sizes:
    """Record counts per scenario."""

    api_users: int
    api_events: int
    # Users loaded (unmeasured) before the events run, whom the events name. Few, so
    # that the emulator's per-user lookups (each trackBulk resolves every distinct
    # user it names) do not make the emulator rather than the target the bottleneck.
    event_population: int
    cpu: int
    memory: tuple[int, ...]
    timeout_seconds: float  # per target process: a hung run must not hang the benchmark


FULL = Sizes(60_000, 120_000, 100, 100_000, (100_000, 1_000_000), 1800.0)
QUICK = Sizes(2_000, 3_000, 100, 3_000, (2_000, 4_000), 120.0)


class BenchmarkError(Exception):
    """A run failed or loaded the wrong data: its figures would mean nothing."""


def expect(condition: bool, message: str) -> None:
    """Like assert, but not stripped by ``python -O`` and reported as a failed run."""
    if not condition:
        raise BenchmarkError(message)


# Processes ---------------------------------------------------------------------------


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


def target_config(emulator: EmulatorProcess, work: Path, label: str) -> dict[str, Any]:
    """The target's default settings, pointed at the emulator."""
    return {
        "api_key": emulator.api_key,
        "api_base_url": emulator.url,
        "rejects_path": str(work / f"{label}.rejects.jsonl"),
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


class ProcessCpu:
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


# Figures -----------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table; None prints as a blank cell."""

    scenario: str
    n: int
    goal: str
    records_per_second: float | None = None
    fraction: float | None = None
    cpu_per_100k: float | None = None
    ratio: float | None = None
    peak_rss_mb: float | None = None
    wall_seconds: float | None = None
    result: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


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


def api_row(
    stream: str,
    limit: int,
    n: int,
    *,
    phase: SendingPhase,
    run: ProcessRun,
    emulator_cpu: float | None,
    report: Report,
) -> None:
    ceiling = limit * BATCH_SIZE
    fraction = phase.rate / ceiling
    report.rows.append(
        Row(
            scenario=f"API-bound {stream} ({limit} req/s, {LATENCY_MS} ms latency)",
            n=n,
            goal=f">= {THROUGHPUT_GOAL} of {ceiling:,}/s",
            records_per_second=phase.rate,
            fraction=fraction,
            cpu_per_100k=run.cpu_seconds * 100_000 / n,
            peak_rss_mb=run.peak_rss_mb,
            wall_seconds=run.wall_seconds,
            result="PASS" if fraction >= THROUGHPUT_GOAL else "FAIL",
        )
    )
    report.notes.append(
        f"API-bound {stream}: {phase.requests} requests ({phase.throttled} answered 429), "
        f"sending phase {phase.seconds:.2f} s, median request {phase.server_ms:.0f} ms in the "
        f"emulator (latency included); whole process {run.wall_seconds:.2f} s wall = "
        f"{n / run.wall_seconds:,.0f} rec/s = {n / run.wall_seconds / ceiling:.3f} of the ceiling. "
        f"CPU per wall second: target {run.cpu_seconds / run.wall_seconds:.2f}, emulator "
        f"{_share(emulator_cpu, run.wall_seconds)} (near 1.0 = that process set the pace; "
        "the emulator serves one request at a time). The target used "
        f"{run.cpu_seconds / n * 1e6:.0f} us CPU per record (start-up included): at that cost "
        f"one core delivers {n / run.cpu_seconds:,.0f} rec/s = "
        f"{n / run.cpu_seconds / ceiling:.2f} of the ceiling (its reading, validation and "
        "mapping share one core: the GIL)."
    )


def measured_run(
    emulator: EmulatorProcess, path: Path, counts: Counts, *, sizes: Sizes, work: Path, label: str
) -> tuple[ProcessRun, float | None]:
    """Run the target on one input and check it; also the emulator's CPU seconds meanwhile."""
    emulator_cpu = ProcessCpu()
    before = emulator_cpu.seconds()
    run = run_target(
        TARGET,
        target_config(emulator, work, label),
        path,
        work=work,
        label=label,
        timeout=sizes.timeout_seconds,
    )
    used = _used(before, emulator_cpu.seconds())
    expect_complete(run, counts, label)
    expect_no_rejects(work, label)
    return run, used


def api_users(sizes: Sizes, work: Path, report: Report) -> None:
    """Users against 5 req/s and 150 ms: the ceiling is 5 x 1000 users per second."""
    n = sizes.api_users
    path = work / "api-users.jsonl"
    counts = write_input(path, users=n)
    with EmulatorProcess("--latency-ms", str(LATENCY_MS)) as emulator:
        label = "api-users"
        run, used = measured_run(emulator, path, counts, sizes=sizes, work=work, label=label)
        expect_landed(emulator, counts, label)
        phase = sending_phase(emulator, USERS_ENDPOINT)
        expect(phase.records == n, f"{label}: {phase.records} users answered 2xx, expected {n}")
    path.unlink()
    api_row("users", USERS_LIMIT, n, phase=phase, run=run, emulator_cpu=used, report=report)


def api_events(sizes: Sizes, work: Path, report: Report) -> None:
    """Events against 10 req/s and 150 ms, once their users exist (loaded unmeasured)."""
    n, population = sizes.api_events, sizes.event_population
    users_path, events_path = work / "api-events-users.jsonl", work / "api-events.jsonl"
    user_counts = write_input(users_path, users=population)
    counts = write_input(events_path, events=n, user_population=population)
    with EmulatorProcess("--no-rate-limits") as emulator:
        label = "api-events-users"
        measured_run(emulator, users_path, user_counts, sizes=sizes, work=work, label=label)
        expect_landed(emulator, user_counts, label)
        emulator.update_settings(rate_limits=True)
        emulator.set_faults(latency_ms=LATENCY_MS)
        label = "api-events"
        run, used = measured_run(emulator, events_path, counts, sizes=sizes, work=work, label=label)
        expect_landed(emulator, Counts(users=population, events=n), label)
        phase = sending_phase(emulator, EVENTS_ENDPOINT)
        expect(phase.records == n, f"{label}: {phase.records} events answered 2xx, expected {n}")
    events_path.unlink()
    api_row("events", EVENTS_LIMIT, n, phase=phase, run=run, emulator_cpu=used, report=report)


def mixed_counts(n: int) -> Counts:
    """The CPU mix: half users, 40% events, 10% catalog items."""
    users, events = n // 2, n * 2 // 5
    return Counts(users, events, n - users - events)


def cpu_bound(sizes: Sizes, work: Path, report: Report) -> None:
    """CPU of target-iterable and of a no-op SDK target on the same file, same run."""
    n = sizes.cpu
    path = work / "cpu-mixed.jsonl"
    want = mixed_counts(n)
    counts = write_input(path, users=want.users, events=want.events, items=want.items)
    with EmulatorProcess("--no-rate-limits") as emulator:
        label = "cpu-target"
        target, used = measured_run(emulator, path, counts, sizes=sizes, work=work, label=label)
        expect_landed(emulator, counts, label)
    noop = run_target(NOOP, {}, path, work=work, label="cpu-noop", timeout=sizes.timeout_seconds)
    expect_complete(noop, counts, "cpu-noop")
    path.unlink()
    per_100k = 100_000 / n
    ratio = target.cpu_seconds / noop.cpu_seconds
    mix = f"{counts.users:,} users, {counts.events:,} events, {counts.items:,} items"
    report.rows.append(
        Row(
            scenario=f"CPU-bound target-iterable ({mix})",
            n=n,
            goal=f"ratio <= {CPU_RATIO_GOAL}",
            cpu_per_100k=target.cpu_seconds * per_100k,
            ratio=ratio,
            peak_rss_mb=target.peak_rss_mb,
            wall_seconds=target.wall_seconds,
            result="PASS" if ratio <= CPU_RATIO_GOAL else "FAIL",
        )
    )
    report.rows.append(
        Row(
            scenario="CPU-bound no-op SDK target (baseline, same file)",
            n=n,
            goal="",
            cpu_per_100k=noop.cpu_seconds * per_100k,
            ratio=1.0,
            peak_rss_mb=noop.peak_rss_mb,
            wall_seconds=noop.wall_seconds,
        )
    )
    report.notes.append(
        f"CPU-bound: target-iterable {target.cpu_seconds:.2f} s CPU (user + sys) in "
        f"{target.wall_seconds:.2f} s wall; no-op {noop.cpu_seconds:.2f} s CPU; the emulator "
        f"used {_seconds(used)} CPU during the target's run."
    )


def memory(sizes: Sizes, work: Path, report: Report) -> None:
    """Peak RSS for growing inputs: it must stay under the goal and not grow with N."""
    rows: list[Row] = []
    for n in sizes.memory:
        path = work / f"memory-{n}.jsonl"
        counts = write_input(path, users=n // 2, events=n - n // 2)
        label = f"memory-{n}"
        with EmulatorProcess("--no-rate-limits") as emulator:
            run, used = measured_run(emulator, path, counts, sizes=sizes, work=work, label=label)
            expect_landed(emulator, counts, label)
        path.unlink()
        row = Row(
            scenario="Memory: target-iterable, users + events",
            n=n,
            goal=f"< {RSS_GOAL_MB:.0f} MB, flat",
            records_per_second=n / run.wall_seconds,
            cpu_per_100k=run.cpu_seconds * 100_000 / n,
            peak_rss_mb=run.peak_rss_mb,
            wall_seconds=run.wall_seconds,
            result="PASS" if run.peak_rss_mb < RSS_GOAL_MB else "FAIL",
        )
        rows.append(row)
        report.rows.append(row)
        report.notes.append(
            f"Memory {n:,}: {run.wall_seconds:.1f} s wall; target {run.cpu_seconds:.1f} s CPU, "
            f"emulator {_seconds(used)} CPU (an emulator near 1 CPU-second per "
            "second of wall time is what sets the pace)."
        )
    if len(rows) > 1 and rows[-1].peak_rss_mb and rows[0].peak_rss_mb:
        growth = rows[-1].peak_rss_mb / rows[0].peak_rss_mb
        if growth > FLAT_GROWTH:
            rows[-1].result = f"FAIL (x{growth:.2f} from {rows[0].n:,})"


def _used(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def _seconds(used: float | None) -> str:
    return "?" if used is None else f"{used:.1f} s"


def _share(cpu: float | None, wall: float) -> str:
    return "?" if cpu is None else f"{cpu / wall:.2f}"


# Output ------------------------------------------------------------------------------

HEADER = (
    "scenario",
    "N",
    "records/s",
    "fraction of ceiling",
    "CPU s/100k",
    "ratio",
    "peak RSS MB",
    "wall s",
    "goal",
    "result",
)


def _cell(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def table(rows: Sequence[Row]) -> list[str]:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        cells = (
            row.scenario,
            f"{row.n:,}",
            _cell(row.records_per_second, 0),
            _cell(row.fraction, 3),
            _cell(row.cpu_per_100k, 2),
            _cell(row.ratio, 2),
            _cell(row.peak_rss_mb, 1),
            _cell(row.wall_seconds, 1),
            row.goal,
            row.result,
        )
        lines.append("| " + " | ".join(cells) + " |")
    return lines


HOW = """\
How these are measured:
- records/s (API-bound): records answered 2xx / (arrival of the endpoint's first request at \
the emulator to the end of its last response), from the emulator's request log; fraction of \
ceiling = that / (documented limit x 1000 records per request). Whole-process wall time and \
the rate it gives are in the notes, for reference. Memory rows: N / process wall time.
- CPU s/100k: user + sys CPU seconds of the target process alone (os.wait4 rusage of that \
child), scaled to 100k records; ratio = target-iterable / no-op SDK target on the same file.
- peak RSS MB: ru_maxrss of the target process.
- Every run is checked: exit 0, last STATE = the input's last STATE, no rejects, and the \
emulator holds exactly the generated users, events and items."""


def git_revision() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "target_iterable", "iterable_emulator"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit} + uncommitted changes" if dirty else commit


def load_average() -> str:
    """The 1-minute load average: on a shared machine, other work skews wall-time figures."""
    return Path("/proc/loadavg").read_text().split()[0]


def machine() -> list[str]:
    """What the figures are quoted with: date, nproc, memory, CPU model, versions, load."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
        platform.processor() or "unknown",
    )
    meminfo = Path("/proc/meminfo").read_text().split()
    memory_gib = int(meminfo[meminfo.index("MemTotal:") + 1]) / 1024**2
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"- date: {when}",
        f"- nproc: {len(os.sched_getaffinity(0))}",
        f"- memory: {memory_gib:.1f} GiB",
        f"- CPU: {model}",
        f"- Python {platform.python_version()}, "
        f"singer-sdk {importlib.metadata.version('singer-sdk')}, commit {git_revision()}",
        f"- load average (1 min) at the start: {load_average()}",
    ]


SCENARIOS: dict[str, list[Callable[[Sizes, Path, Report], None]]] = {
    "api": [api_users, api_events],
    "cpu": [cpu_bound],
    "memory": [memory],
}


def run(sizes: Sizes, only: str | None, work: Path) -> Report:
    """Run the scenarios; a failed one is recorded and the others still run."""
    report = Report()
    for name, scenarios in SCENARIOS.items():
        if only not in (None, name):
            continue
        for scenario in scenarios:
            print(f"... {scenario.__name__}", file=sys.stderr, flush=True)
            try:
                scenario(sizes, work, report)
            except (BenchmarkError, EmulatorError, OSError, requests.RequestException) as error:
                report.errors.append(f"{scenario.__name__}: {error}")
                report.rows.append(
                    Row(scenario=f"{scenario.__name__} (run failed)", n=0, goal="", result="ERROR")
                )
    return report


def render(report: Report, setting: list[str], elapsed: float, quick: bool) -> str:
    """The whole output, Markdown: printed, and saved as RESULTS.md by a full run."""
    title = ["# Benchmark results", "", "`bash scripts/benchmark.sh`", ""]
    setting = [*setting, f"- load average (1 min) at the end: {load_average()}"]
    lines = [*title, *setting, "", *table(report.rows), "", HOW, ""]
    if quick:
        lines += ["(--quick: tiny inputs, the figures mean nothing)", ""]
    lines += ["Notes:", *(f"- {note}" for note in report.notes), ""]
    if report.errors:
        lines += ["Failed runs:", *(f"- {error}" for error in report.errors), ""]
    lines += [f"Whole benchmark: {elapsed:.0f} s.", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny inputs (harness check)")
    parser.add_argument("--only", choices=sorted(SCENARIOS), help="run one scenario")
    parser.add_argument("--keep", action="store_true", help="keep the inputs, configs and logs")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    setting = machine()  # before the run: the code measured is the code at this commit
    work = Path(tempfile.mkdtemp(prefix="target-iterable-bench-"))
    try:
        report = run(QUICK if args.quick else FULL, args.only, work)
    finally:
        if args.keep:
            print(f"inputs, configs and logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    text = render(report, setting, time.perf_counter() - started, quick=args.quick)
    print(text)
    # Only a full, clean run replaces the figures others quote.
    if not args.quick and args.only is None and not report.errors:
        RESULTS.write_text(text)
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
