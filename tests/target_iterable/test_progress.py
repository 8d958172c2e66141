"""Progress lines: one per active stream every progress_seconds, quiet when nothing flows."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from iterable_emulator.testing import EmulatorProcess
from target_iterable.delivery.run_summary import RunSummary, StreamCounts
from target_iterable.iterable.limits import EVENTS_TRACK_BULK, LISTS, USERS_BULK_UPDATE
from target_iterable.progress import ProgressReporter, documented_limit, progress_line
from target_iterable.reasons import Reason
from tests.singer_io import record, run_target, schema, spawn_target

PROGRESS = re.compile(
    r"Progress: users: ([\d,]+) received, ([\d,]+) sent, ([\d,]+) accepted, "
    r"([\d,]+) rejected, ([\d,]+) unchanged; ([\d,]+) rec/s(?: \(([\d.]+)% of Iterable's limit\))?"
)


def test_a_progress_line_gives_counts_rate_and_share_of_the_limit() -> None:
    before = StreamCounts("users", received=2_000, sent=1_000, accepted=1_000, attempts=1)
    after = StreamCounts(
        "users", received=412_000, sent=410_000, accepted=409_997, rejected=3, attempts=411
    )
    assert progress_line(before, after, 82.0, 5.0) == (
        "users: 412,000 received, 410,000 sent, 409,997 accepted, 3 rejected, 0 unchanged; "
        "4,988 rec/s (100.0% of Iterable's limit)"
    )
    assert progress_line(before, after, 82.0, None) == (
        "users: 412,000 received, 410,000 sent, 409,997 accepted, 3 rejected, 0 unchanged; "
        "4,988 rec/s"
    )
    assert progress_line(after, after, 15.0, 5.0) is None


def test_unchanged_records_count_as_settled() -> None:
    after = StreamCounts("users", received=30_000, unchanged=30_000)
    line = progress_line(StreamCounts("users"), after, 10.0, 5.0)
    assert line is not None
    assert line.endswith("30,000 unchanged; 3,000 rec/s (0.0% of Iterable's limit)")


def test_the_limit_is_iterables_documented_one_for_a_single_endpoint() -> None:
    assert documented_limit({USERS_BULK_UPDATE}) == 5
    assert documented_limit({EVENTS_TRACK_BULK}) == 10
    assert documented_limit({LISTS}) is None  # Iterable documents none
    assert documented_limit({USERS_BULK_UPDATE, EVENTS_TRACK_BULK}) is None
    assert documented_limit(set()) is None


def test_only_streams_whose_counters_moved_are_reported() -> None:
    summary = RunSummary()
    users, events = summary.for_stream("users"), summary.for_stream("events")
    users.note_endpoint(USERS_BULK_UPDATE)
    now = [0.0]
    lines: list[str] = []
    reporter = ProgressReporter(summary, 10, lines.append, clock=lambda: now[0])
    for _ in range(100):
        users.count_received()
    users.count_rejected(Reason.INVALID_EMAIL)
    users.count_request(records=99, accepted=99, attempts=2, throttled=1)
    now[0] = 10.0
    reporter.report()
    assert lines == [
        "users: 100 received, 99 sent, 99 accepted, 1 rejected, 0 unchanged; "
        "10 rec/s (4.0% of Iterable's limit)"
    ]
    events.count_received()
    now[0] = 20.0
    reporter.report()
    assert lines[1:] == ["events: 1 received, 0 sent, 0 accepted, 0 rejected, 0 unchanged; 0 rec/s"]
    now[0] = 30.0
    reporter.report()
    assert len(lines) == 2  # nothing moved: quiet


def users_input(count: int) -> list[dict[str, Any]]:
    return [
        schema("users", {"email": {"type": "string"}, "n": {"type": "integer"}}),
        record("users", {"email": "not-an-email", "n": -1}),
        *[record("users", {"email": f"u{i}@example.com", "n": i}) for i in range(count)],
    ]


def progress_counts(stderr: str) -> list[tuple[int, ...]]:
    return [
        tuple(int(value.replace(",", "")) for value in match.groups()[:5])
        for match in PROGRESS.finditer(stderr)
    ]


def slowed_run(
    tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any], users: int
) -> str:
    """The log of a run of ``users`` users in requests of 50, each answered 150 ms late."""
    emulator.set_faults(latency_ms=150)
    run = run_target(tmp_path, {**config, "users_batch_size": 50}, users_input(users))
    assert run.returncode == 0, run.stderr
    return run.stderr


def test_progress_lines_follow_a_slowed_run(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    stderr = slowed_run(tmp_path, emulator, {**target_config, "progress_seconds": 0.3}, 1_000)
    counts = progress_counts(stderr)
    assert len(counts) >= 2, stderr
    for received, sent, accepted, rejected, unchanged in counts:
        assert received <= 1_001
        assert accepted == sent <= received
        assert accepted % 50 == 0  # whole requests, counted when Iterable answers
        assert rejected == 1  # the bad email, refused as it was read
        assert unchanged == 0
    assert [c[2] for c in counts] == sorted(c[2] for c in counts)
    assert counts[-1][2] < 1_000  # lines came while records flowed, not after
    assert all(m.group(7) is not None for m in PROGRESS.finditer(stderr))


def test_progress_seconds_zero_turns_progress_off(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    stderr = slowed_run(tmp_path, emulator, {**target_config, "progress_seconds": 0}, 300)
    assert "Progress:" not in stderr
    assert "Summary: stream 'users'" in stderr


def test_no_progress_line_while_nothing_flows(
    tmp_path: Path, target_config: dict[str, Any]
) -> None:
    config = {**target_config, "progress_seconds": 0.1}
    log = tmp_path / "target.log"
    with log.open("wb") as output:
        process = spawn_target(tmp_path, config, users_input(5), output=output.fileno())
        time.sleep(2.0)  # about 20 intervals with no input and nothing to send
        assert process.stdin is not None
        process.stdin.close()
        assert process.wait(30) == 0
    lines = [line for line in log.read_text().splitlines() if "Progress:" in line]
    # The five records read at the start, perhaps their sending at the end: never one
    # line per interval of the idle wait.
    assert 1 <= len(lines) <= 2, lines
    assert "6 received" in lines[0]
