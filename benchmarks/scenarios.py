"""The scenarios: what each one runs, on which input, and the goal its figures must meet.

1. API-bound: the emulator enforces Iterable's documented rate limits
   (users/bulkUpdate 5 req/s, events/trackBulk 10 req/s) and answers every
   request 150 ms late; the target runs with its default settings.
2. CPU-bound: no limits, no latency. CPU seconds of target-iterable per 100k
   records of a users/events/catalog mix, against a no-op Singer SDK target
   (benchmarks.noop_target, default settings) reading the same file, same run.
3. Memory: peak RSS of target-iterable for 100k and 1M users + events.
4. Change detection: N users loaded once, then the same file again (nothing may be
   sent; CPU against the no-op SDK target on that file; peak RSS flat from 100k to
   1M), then the file with 1% of the users changed (exactly those are sent).
5. Soak: 1M users + events against Iterable's rate limits with 5% of requests
   faulted (errors, connections dropped before and after Iterable applied the
   request) and a storm of 429s: records lost and duplicated (both must be 0).

Each scenario adds its rows and notes to a Report; a run that fails (BenchmarkError
and the like) becomes an ERROR row and the other scenarios still run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from benchmarks.generate import Counts, write_input
from benchmarks.harness import (
    AS_MEASURED,
    TARGET,
    BenchmarkError,
    ProcessRun,
    SendingPhase,
    expect,
    expect_complete,
    expect_landed,
    measured_run,
    run_target,
    sending_phase,
    target_config,
)
from benchmarks.report import Report, Row
from iterable_emulator.testing import EmulatorError, EmulatorProcess

NOOP = [sys.executable, "-m", "benchmarks.noop_target"]

USERS_ENDPOINT = "POST /api/users/bulkUpdate"
EVENTS_ENDPOINT = "POST /api/events/trackBulk"
LATENCY_MS = 150
BATCH_SIZE = 1000  # the target's default users_batch_size and events_batch_size
USERS_LIMIT = 5  # requests per second Iterable allows users/bulkUpdate
EVENTS_LIMIT = 10  # … and events/trackBulk
ENDPOINT_OF = {"users": USERS_ENDPOINT, "events": EVENTS_ENDPOINT}
THROUGHPUT_GOAL = 0.95
CPU_RATIO_GOAL = 0.5
UNCHANGED_CPU_RATIO_GOAL = 0.3
CHANGED_EVERY = 100  # 1% of the users change between the runs
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
    sync: tuple[int, ...]
    soak: int
    timeout_seconds: float  # per target process: a hung run must not hang the benchmark


FULL = Sizes(
    60_000, 120_000, 100, 100_000, (100_000, 1_000_000), (100_000, 1_000_000), 1_000_000, 1800.0
)
QUICK = Sizes(2_000, 3_000, 100, 3_000, (2_000, 4_000), (2_000, 4_000), 4_000, 120.0)
# The soak's faults: 5% of requests, and a storm of 429s at the start.
SOAK_FAULTS = {
    "error_rate": 0.02,
    "drop_rate": 0.015,
    "drop_after_processing_rate": 0.015,
    "seed": 2024,
}
# A storm of 429s at the start: one per 100,000 records (10 for a million), fewer
# than one request's retry budget (the first request, the pre-flight read, takes it).
STORM_PER_RECORDS = 100_000


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
    """One API-bound row, and a note on whether the target or the emulator set the pace."""
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
            figure="throughput",
            label=f"{stream} ({ENDPOINT_OF[stream].rsplit('/', 1)[-1]}, {limit} req/s)",
            ceiling=ceiling,
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


def api_users(sizes: Sizes, work: Path, report: Report) -> None:
    """Users against 5 req/s and 150 ms: the ceiling is 5 x 1000 users per second."""
    n = sizes.api_users
    path = work / "api-users.jsonl"
    counts = write_input(path, users=n)
    with EmulatorProcess("--latency-ms", str(LATENCY_MS), **AS_MEASURED) as emulator:
        label = "api-users"
        run, used = measured_run(
            emulator, path, counts, work=work, label=label, timeout=sizes.timeout_seconds
        )
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
    with EmulatorProcess("--no-rate-limits", **AS_MEASURED) as emulator:
        label = "api-events-users"
        measured_run(
            emulator, users_path, user_counts, work=work, label=label, timeout=sizes.timeout_seconds
        )
        expect_landed(emulator, user_counts, label)
        emulator.update_settings(rate_limits=True)
        emulator.set_faults(latency_ms=LATENCY_MS)
        label = "api-events"
        run, used = measured_run(
            emulator, events_path, counts, work=work, label=label, timeout=sizes.timeout_seconds
        )
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
    with EmulatorProcess("--no-rate-limits", **AS_MEASURED) as emulator:
        label = "cpu-target"
        target, used = measured_run(
            emulator, path, counts, work=work, label=label, timeout=sizes.timeout_seconds
        )
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
            figure="cpu",
            label="target-iterable",
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
            figure="cpu",
            label="no-op SDK target",
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
        with EmulatorProcess("--no-rate-limits", **AS_MEASURED) as emulator:
            run, used = measured_run(
                emulator, path, counts, work=work, label=label, timeout=sizes.timeout_seconds
            )
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


def change_detection(sizes: Sizes, work: Path, report: Report) -> None:
    """A scheduled re-run: unchanged users cost no request and little CPU; 1% changed
    sends exactly that 1%."""
    rows = [_change_detection_row(n, sizes.timeout_seconds, work, report) for n in sizes.sync]
    report.rows.extend(rows)
    if len(rows) > 1 and rows[-1].peak_rss_mb and rows[0].peak_rss_mb:
        growth = rows[-1].peak_rss_mb / rows[0].peak_rss_mb
        if growth > FLAT_GROWTH:
            rows[-1].result = f"FAIL (x{growth:.2f} from {rows[0].n:,})"


def _change_detection_row(n: int, timeout: float, work: Path, report: Report) -> Row:
    path, changed_path = work / f"sync-{n}.jsonl", work / f"sync-{n}-changed.jsonl"
    counts = write_input(path, users=n)
    write_input(changed_path, users=n, changed_every=CHANGED_EVERY)
    store = work / f"sync-{n}.db"
    changed = len(range(0, n, CHANGED_EVERY))
    with EmulatorProcess("--no-rate-limits", **AS_MEASURED) as emulator:

        def again(source: Path, label: str) -> ProcessRun:
            run, _ = measured_run(
                emulator, source, counts, work=work, label=label, timeout=timeout,
                sync_state=store,
            )  # fmt: skip
            return run

        again(path, f"sync-{n}-first")
        before = emulator.endpoint_stats(USERS_ENDPOINT)["records"]
        run = again(path, f"sync-{n}-unchanged")
        sent = emulator.endpoint_stats(USERS_ENDPOINT)["records"] - before
        expect(sent == 0, f"sync-{n}-unchanged: {sent} users sent again, expected none")
        again(changed_path, f"sync-{n}-changed")
        sent = emulator.endpoint_stats(USERS_ENDPOINT)["records"] - before
        expect(sent == changed, f"sync-{n}-changed: {sent} users sent, expected {changed}")
    noop = run_target(NOOP, {}, path, work=work, label=f"sync-{n}-noop", timeout=timeout)
    expect_complete(noop, counts, f"sync-{n}-noop")
    path.unlink()
    changed_path.unlink()
    ratio = run.cpu_seconds / noop.cpu_seconds
    report.notes.append(
        f"Change detection {n:,}: the unchanged re-run used {run.cpu_seconds:.1f} s CPU "
        f"(no-op SDK target on the same file: {noop.cpu_seconds:.1f} s) and sent no request; "
        f"with 1% of the users changed, exactly those {changed:,} were sent."
    )
    within = ratio <= UNCHANGED_CPU_RATIO_GOAL and run.peak_rss_mb < RSS_GOAL_MB
    return Row(
        scenario="Change detection: second run, users unchanged (0 sent)",
        n=n,
        goal=f"ratio <= {UNCHANGED_CPU_RATIO_GOAL}; < {RSS_GOAL_MB:.0f} MB, flat",
        cpu_per_100k=run.cpu_seconds * 100_000 / n,
        ratio=ratio,
        peak_rss_mb=run.peak_rss_mb,
        wall_seconds=run.wall_seconds,
        result="PASS" if within else "FAIL",
    )


def soak(sizes: Sizes, work: Path, report: Report) -> None:
    """Faults for the length of a big run: nothing lost, nothing duplicated."""
    n = sizes.soak
    path = work / "soak.jsonl"
    counts = write_input(path, users=n // 2, events=n - n // 2)
    with EmulatorProcess(**AS_MEASURED) as emulator:  # Iterable's rate limits on
        emulator.set_faults(**SOAK_FAULTS, rate_limit_burst=max(5, n // STORM_PER_RECORDS))
        run = run_target(
            TARGET,
            {**target_config(emulator, work, "soak"), "max_attempts": 12},
            path,
            work=work,
            label="soak",
            timeout=sizes.timeout_seconds,
        )
        expect_complete(run, counts, "soak")
        landed = emulator.summary()
        total = emulator.stats()["total"]
    path.unlink()
    lost = max(0, counts.users - landed["users"]) + max(0, counts.events - landed["events"])
    # Events are upserted by id: a second copy of one would count twice.
    duplicated = max(0, landed["users"] - counts.users) + max(0, landed["events"] - counts.events)
    report.rows.append(
        Row(
            scenario=f"Soak: 5% faulted requests, 429 storm (lost {lost}, duplicated {duplicated})",
            n=n,
            goal="0 lost, 0 duplicated",
            records_per_second=n / run.wall_seconds,
            cpu_per_100k=run.cpu_seconds * 100_000 / n,
            peak_rss_mb=run.peak_rss_mb,
            wall_seconds=run.wall_seconds,
            result="PASS" if lost == duplicated == 0 else "FAIL",
        )
    )
    report.notes.append(
        f"Soak {n:,}: {total['requests']:,} requests, {total['status_5xx']:,} answered 5xx, "
        f"{total['status_429']:,} answered 429, {total['dropped']:,} connections dropped "
        f"(before or after the request was applied); {lost} records lost, {duplicated} "
        f"duplicated; peak RSS {run.peak_rss_mb:.0f} MB."
    )


def _seconds(used: float | None) -> str:
    return "?" if used is None else f"{used:.1f} s"


def _share(cpu: float | None, wall: float) -> str:
    return "?" if cpu is None else f"{cpu / wall:.2f}"


SCENARIOS: dict[str, list[Callable[[Sizes, Path, Report], None]]] = {
    "api": [api_users, api_events],
    "cpu": [cpu_bound],
    "memory": [memory],
    "sync": [change_detection],
    "soak": [soak],
}


def run_scenarios(sizes: Sizes, only: str | None, work: Path) -> Report:
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
