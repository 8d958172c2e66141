"""The benchmark's output: the Markdown table, its notes and the machine it ran on.

The same text is printed and, by a full run, saved as RESULTS.md: the figures are
only worth quoting with the machine, versions and load they were measured under.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import ROOT

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
# The same figures, machine-readable: what benchmarks/plots.py draws from.
RESULTS_JSON = ROOT / "benchmarks" / "results.json"


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
    # For the figures (benchmarks/plots.py): which one the row feeds, its short label,
    # and, for throughput, the ceiling in records per second.
    figure: str | None = None
    label: str = ""
    ceiling: float | None = None


@dataclass
class Report:
    """What the scenarios found: the table's rows, the notes under it, the failed runs."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


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


def results_document(report: Report, setting: list[str], elapsed: float) -> dict[str, Any]:
    """The figures as data (results.json): every row, and the machine they ran on."""
    return {
        "machine": [line.removeprefix("- ") for line in setting],
        "elapsed_seconds": round(elapsed, 1),
        "rows": [asdict(row) for row in report.rows],
        "errors": list(report.errors),
    }
