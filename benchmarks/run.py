"""Measure target-iterable against the emulator and print the figures the README quotes.

    python -m benchmarks.run            # full run (a few minutes)
    python -m benchmarks.run --quick    # tiny inputs, to check the harness works

1. API-bound: the emulator enforces Iterable's rate limits (bulkUpdate 5/s,
   trackBulk 10/s) and adds 150 ms to every request. Throughput is records /
   (last response - first request), from the emulator's request log; the
   ceiling is limit x 1000 records per request.
2. CPU-bound: no limits, no latency. CPU seconds (user + sys, of the target
   process alone) per 100k records, against a no-op Singer SDK target with
   default settings reading the same file in the same run.
3. Memory: peak RSS of the target for 100k and 1M records.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.generate import write_input
from iterable_emulator.testing import EmulatorProcess

ROOT = Path(__file__).resolve().parents[1]
TARGET = [str(Path(sys.executable).parent / "target-iterable")]
NOOP = [sys.executable, "-m", "benchmarks.noop_target"]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"


@dataclass
class Run:
    """One finished target process."""

    cpu_seconds: float
    peak_rss_mb: float
    wall_seconds: float


def run_process(command: list[str], config: dict[str, Any], input_path: Path, work: Path) -> Run:
    """Run a target on a file; CPU and peak RSS come from wait4, for this child only."""
    config_path = work / f"config-{len(list(work.iterdir()))}.json"
    config_path.write_text(json.dumps(config))
    started = dt.datetime.now()
    with input_path.open("rb") as stdin, (work / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(
            [*command, "--config", str(config_path)],
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=ROOT,
        )
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = (work / "stderr.log").read_text()[-2000:]
        raise SystemExit(f"{command[-1]} failed (exit {process.returncode}):\n{tail}")
    return Run(
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
        wall_seconds=(dt.datetime.now() - started).total_seconds(),
    )


def target_config(emulator: EmulatorProcess, work: Path) -> dict[str, Any]:
    return {
        "api_key": emulator.api_key,
        "api_base_url": emulator.url,
        "rejects_path": str(work / "rejects.jsonl"),
    }


def sending_rate(emulator: EmulatorProcess, endpoint: str) -> tuple[float, int]:
    """Records per second over the sending phase, from the emulator's request log."""
    log = [r for r in emulator.requests_log() if r["endpoint"] == endpoint and r["status"] == 200]
    records = sum(r["records"] for r in log)
    first = min(r["time"] for r in log)
    last = max(r["time"] + r["duration_ms"] / 1000 for r in log)
    return records / (last - first), records


def api_bound(n_users: int, n_events: int, work: Path) -> list[list[str]]:
    rows = []
    for stream, n, endpoint, limit in (
        ("users", n_users, "POST /api/users/bulkUpdate", 5),
        ("events", n_events, "POST /api/events/trackBulk", 10),
    ):
        path = work / f"api-{stream}.jsonl"
        # Events need their users: load them first without limits, then measure events.
        write_input(path, **{stream: n})
        with EmulatorProcess("--latency-ms", "150") as emulator:
            if stream == "events":
                users = work / "api-users-for-events.jsonl"
                write_input(users, users=min(n, 1000))
                emulator.update_settings(rate_limits=False)
                run_process(TARGET, target_config(emulator, work), users, work)
                emulator.update_settings(rate_limits=True)
                emulator.set_faults(latency_ms=150)
            run = run_process(TARGET, target_config(emulator, work), path, work)
            rate, records = sending_rate(emulator, endpoint)
            assert records == n, f"{stream}: the emulator received {records} of {n} records"
            throttled = emulator.endpoint_stats(endpoint)["status_429"]
        ceiling = limit * 1000
        rows.append(
            [
                f"API-bound {stream} ({limit} req/s, 150 ms latency)",
                f"{n:,}",
                f"{rate:,.0f} rec/s ({run.wall_seconds:.1f} s wall, {throttled} x 429)",
                f"{rate / ceiling:.3f} of {ceiling:,}/s",
                ">= 0.95",
                "PASS" if rate / ceiling >= 0.95 else "FAIL",
            ]
        )
    return rows


def mixed_input(work: Path, n: int) -> Path:
    path = work / f"mixed-{n}.jsonl"
    write_input(path, users=n // 2, events=n * 2 // 5, items=n // 10)
    return path


def cpu_bound(n: int, work: Path) -> list[list[str]]:
    path = mixed_input(work, n)
    with EmulatorProcess("--no-rate-limits") as emulator:
        target = run_process(TARGET, target_config(emulator, work), path, work)
        summary = emulator.summary()
    assert summary["users"] == n // 2, summary
    noop = run_process(NOOP, {}, path, work)
    per_100k = 100_000 / n
    ratio = target.cpu_seconds / noop.cpu_seconds
    return [
        [
            "CPU-bound (mixed users/events/catalog)",
            f"{n:,}",
            f"target {target.cpu_seconds * per_100k:.1f} s / noop "
            f"{noop.cpu_seconds * per_100k:.1f} s CPU per 100k",
            f"ratio {ratio:.2f}",
            "<= 0.5",
            "PASS" if ratio <= 0.5 else "FAIL",
        ]
    ]


def memory(sizes: list[int], work: Path) -> list[list[str]]:
    rows = []
    peaks = []
    for n in sizes:
        path = work / f"memory-{n}.jsonl"
        write_input(path, users=n // 2, events=n // 2)
        with EmulatorProcess("--no-rate-limits") as emulator:
            run = run_process(TARGET, target_config(emulator, work), path, work)
        path.unlink()
        peaks.append(run.peak_rss_mb)
        rows.append(
            [
                "Memory (users + events)",
                f"{n:,}",
                f"peak RSS {run.peak_rss_mb:.0f} MB ({run.wall_seconds:.0f} s wall)",
                "",
                "< 150 MB, flat",
                "PASS" if run.peak_rss_mb < 150 else "FAIL",
            ]
        )
    if len(peaks) > 1 and peaks[-1] > peaks[0] * 1.25:
        rows[-1][-1] = "FAIL (grows)"
    return rows


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_gib = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    python = platform.python_version()
    return f"{os.cpu_count()} cores ({model}), {memory_gib:.0f} GiB, Python {python}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny inputs (harness check)")
    parser.add_argument(
        "--only", choices=["api", "cpu", "memory"], help="run one scenario (no RESULTS.md)"
    )
    args = parser.parse_args()
    users, events, cpu, memory_sizes = (
        (2000, 3000, 3000, [2000, 4000])
        if args.quick
        else (60_000, 120_000, 100_000, [100_000, 1_000_000])
    )
    with tempfile.TemporaryDirectory(prefix="target-iterable-bench-") as tmp:
        work = Path(tmp)
        rows = []
        if args.only in (None, "api"):
            rows += api_bound(users, events, work)
        if args.only in (None, "cpu"):
            rows += cpu_bound(cpu, work)
        if args.only in (None, "memory"):
            rows += memory(memory_sizes, work)
    header = ["scenario", "records", "measured", "ratio", "goal", "result"]
    table = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *["| " + " | ".join(row) + " |" for row in rows],
    ]
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join([f"Benchmark of {when} on {machine()}", "", *table, ""])
    print(text)
    if not args.quick and args.only is None:
        RESULTS.write_text(f"# Benchmark results\n\n`bash scripts/benchmark.sh`\n\n{text}")


if __name__ == "__main__":
    main()
