"""Change detection and sync modes: the real target, run after run, against the emulator.

Every test runs once with the SQLite store and once with PostgreSQL (a real
server, started for the session), since users pick either.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from iterable_emulator.testing import EmulatorProcess
from tests.pipelines.postgres import PostgresServer
from tests.project_type import with_user_ids
from tests.singer_io import TargetRun, record, run_target, schema, spawn_target, state

BULK_UPDATE = "/api/users/bulkUpdate"
USERS = schema(
    "users",
    {"email": {"type": "string"}, "plan": {"type": "string"}, "note": {"type": "string"}},
)


@pytest.fixture(params=["sqlite", "postgresql"])
def sync_state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty sync state store of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'sync.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    database = f"sync_{uuid.uuid4().hex[:12]}"
    server.superuser_sql(f"CREATE DATABASE {database} OWNER {server.user}")
    yield (f"postgresql://{server.user}:{server.password}@{server.host}:{server.port}/{database}")


@pytest.fixture
def config(target_config: dict[str, Any], sync_state_url: str) -> dict[str, Any]:
    return {**target_config, "sync_state_url": sync_state_url}


def users(*rows: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [USERS, *(record("users", row) for row in rows), state({"done": True})]


def sent_records(emulator: EmulatorProcess, path: str = BULK_UPDATE) -> int:
    """Records the emulator received on one endpoint since its last reset."""
    return sum(entry["records"] for entry in emulator.requests_log(path))


def run(tmp_path: Path, config: Mapping[str, Any], messages: Iterable[Any]) -> TargetRun:
    """One run in its own directory (rejects files are appended to)."""
    directory = tmp_path / f"run-{uuid.uuid4().hex[:8]}"
    directory.mkdir()
    result = run_target(directory, config, list(messages))
    assert result.returncode == 0, result.stderr
    return result


ROWS = [{"email": f"u{i}@example.com", "plan": "free", "note": "x"} for i in range(50)]


def test_an_unchanged_second_run_sends_nothing(
    tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    first = run(tmp_path, config, users(*ROWS))
    assert sent_records(emulator) == 50
    assert "unchanged=0" in first.stderr

    emulator.reset()
    second = run(tmp_path, config, users(*ROWS))
    assert emulator.requests_log(BULK_UPDATE) == []
    assert "received=50 sent=0 accepted=0 rejected=0 unchanged=50" in second.stderr
    assert second.states == [{"done": True}]


def test_only_changed_rows_are_sent(
    tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    run(tmp_path, config, users(*ROWS))
    emulator.reset()
    changed = [dict(row) for row in ROWS]
    changed[7]["plan"] = "pro"
    changed[31]["note"] = "y"
    second = run(tmp_path, config, users(*changed))
    assert sent_records(emulator) == 2
    assert emulator.user_by_email("u7@example.com")["dataFields"]["plan"] == "pro"
    assert emulator.user_by_email("u31@example.com")["dataFields"]["note"] == "y"
    assert emulator.user_by_email("u8@example.com") is None  # not sent again
    assert "unchanged=48" in second.stderr


def test_a_column_that_is_not_mapped_changes_nothing(
    tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    """The fingerprint is of what would be sent, after stream maps."""
    mapped = {
        **config,
        "stream_maps": {"customers": {"__alias__": "users", "internal_id": None}},
    }
    customers = schema(
        "customers", {"email": {"type": "string"}, "internal_id": {"type": "integer"}}
    )

    def rows(offset: int) -> list[dict[str, Any]]:
        return [
            customers,
            *(
                record("customers", {"email": f"c{i}@x.io", "internal_id": i + offset})
                for i in range(5)
            ),
        ]

    run(tmp_path, mapped, rows(0))
    emulator.reset()
    run(tmp_path, mapped, rows(1000))
    assert emulator.requests_log(BULK_UPDATE) == []


def test_settings_or_a_schema_that_change_the_payload_send_again(
    tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    """An unchanged input record is skipped before it is mapped only while what it maps
    through (the settings, the stream's schema) is unchanged too."""
    rows = [
        {"email": f"s{i}@x.io", "plan": "free", "note": "2024-01-02T03:04:05Z"} for i in range(3)
    ]
    run(tmp_path, config, users(*rows))
    assert "unchanged=3" in run(tmp_path, config, users(*rows)).stderr

    emulator.reset()
    nested = {**config, "stream_options": {"users": {"merge_nested_objects": True}}}
    run(tmp_path, nested, users(*rows))
    assert sent_records(emulator) == 3  # the payload gained mergeNestedObjects

    emulator.reset()
    dated = schema(
        "users",
        {
            "email": {"type": "string"},
            "plan": {"type": "string"},
            "note": {"type": "string", "format": "date-time"},
        },
    )
    run(tmp_path, nested, [dated, *users(*rows)[1:]])
    assert sent_records(emulator) == 3  # note is now sent as an Iterable date
    assert emulator.user_by_email("s0@x.io")["dataFields"]["note"] == "2024-01-02 03:04:05 +00:00"


def test_records_are_still_checked_when_unchanged_ones_are_skipped(
    tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    """Skipped records are those Iterable acknowledged; any other is validated as ever."""
    typed = schema(
        "users", {"email": {"type": "string"}, "age": {"type": "integer"}}, key_properties=["email"]
    )
    rows = [{"email": f"v{i}@x.io", "age": i} for i in range(4)]
    run(tmp_path, config, [typed, *(record("users", r) for r in rows)])
    emulator.reset()
    changed = [*rows[:2], {"email": "v2@x.io", "age": "two"}, {"age": 3}]
    second = run(tmp_path, config, [typed, *(record("users", r) for r in changed)])
    assert [(r["reason"], r["record"]) for r in second.rejects] == [
        ("schema_violation", with_user_ids({"email": "v2@x.io", "age": "two"})),
        ("missing_key_property", {"age": 3}),
    ]
    assert "unchanged=2" in second.stderr
    assert emulator.requests_log(BULK_UPDATE) == []


def test_rejected_rows_are_tried_again_on_the_next_run(
    tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    # Iterable already holds `plan` as a long: a string plan is refused by Iterable.
    emulator.api(
        "POST",
        BULK_UPDATE,
        json={"users": [with_user_ids({"email": "seed@x.io", "dataFields": {"plan": 1}})]},
    )
    rows = [{"email": "a@x.io", "plan": "pro"}, {"email": "b@x.io"}]
    first = run(tmp_path, {**config, "max_rejected_ratio": 1}, users(*rows))
    assert [r["record"]["email"] for r in first.rejects] == ["a@x.io"]

    second = run(tmp_path, {**config, "max_rejected_ratio": 1}, users(*rows))
    # b was acknowledged and is not sent again; a was refused, so it is tried again.
    assert "unchanged=1" in second.stderr
    assert [r["record"]["email"] for r in second.rejects] == ["a@x.io"]


def test_full_resync_sends_everything_and_a_second_project_is_not_skipped(
    tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    run(tmp_path, config, users(*ROWS[:10]))
    emulator.reset()
    run(tmp_path, {**config, "full_resync": True}, users(*ROWS[:10]))
    assert sent_records(emulator) == 10

    emulator.reset()
    # The same store and key, another base URL: another Iterable project as far as the
    # store can tell, so nothing there is skipped.
    other = {**config, "api_base_url": config["api_base_url"].replace("127.0.0.1", "localhost")}
    run(tmp_path, other, users(*ROWS[:10]))
    assert sent_records(emulator) == 10


def test_sync_mode_all_keeps_no_fingerprints(
    tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    every_time = {**config, "stream_options": {"users": {"sync_mode": "all"}}}
    run(tmp_path, every_time, users(*ROWS[:5]))
    emulator.reset()
    run(tmp_path, every_time, users(*ROWS[:5]))
    assert sent_records(emulator) == 5


def test_a_killed_run_loses_nothing(
    tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    """SIGKILL mid-run: what Iterable acknowledged is not sent again, the rest is."""
    emulator.set_faults(latency_ms=300)
    rows = [{"email": f"k{i}@x.io", "plan": "free"} for i in range(400)]
    small_batches = {
        **config,
        "users_batch_size": 20,
        "batch_size_rows": 40,  # drain often, so the kill lands mid-run
        "rejects_path": str(tmp_path / "r"),
    }
    process = spawn_target(tmp_path, small_batches, users(*rows))
    deadline = time.monotonic() + 30
    while emulator.summary()["users"] < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    emulator.set_faults()  # the latency slows the test's own reads too
    delivered_before = {u for u in (f"k{i}@x.io" for i in range(400)) if emulator.user_by_email(u)}
    assert 0 < len(delivered_before) < 400

    before = sent_records(emulator)
    rerun = run(tmp_path, config, users(*rows))
    assert all(emulator.user_by_email(f"k{i}@x.io") for i in range(400))
    resent = sent_records(emulator) - before
    # Everything not acknowledged before the kill was sent; most of what was, was not.
    assert 400 - len(delivered_before) <= resent < 400
    assert "unchanged=" in rerun.stderr


CATALOG = schema("catalog-products", {"itemId": {"type": "string"}, "name": {"type": "string"}})


def activate_version(stream: str, version: int) -> dict[str, Any]:
    return {"type": "ACTIVATE_VERSION", "stream": stream, "version": version}


def items(version: int, *item_ids: str, marker: str) -> list[dict[str, Any]]:
    """A full-table version of the catalog, with its marker before (SDK taps) or
    after (classic Singer taps) the records."""
    records = [
        {**record("catalog-products", {"itemId": i, "name": f"item {i}"}), "version": version}
        for i in item_ids
    ]
    marked = [activate_version("catalog-products", version)]
    body = [*marked, *records] if marker == "before" else [*records, *marked]
    return [CATALOG, *body, state({"version": version})]


MIRROR = {"stream_options": {"catalog-products": {"sync_mode": "mirror"}}}


def test_mirror_with_completion_markers_removes_vanished_items_at_once(
    tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    mirror = {**config, **MIRROR}
    run(tmp_path, mirror, items(1, *"ABCDEFGHIJ", marker="after"))
    assert len(emulator.catalog_items("products")) == 10
    second = run(tmp_path, mirror, items(2, *"ABCDEFGHI", marker="after"))
    assert sorted(emulator.catalog_items("products")) == list("ABCDEFGHI")
    assert "deleted=1" in second.stderr
    assert "unchanged=9" in second.stderr


def test_mirror_with_start_markers_removes_a_key_missing_from_two_versions(
    tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    """SDK taps mark a version only before its records: a short version may be a tap
    that died, so one short version removes nothing."""
    mirror = {**config, **MIRROR}
    run(tmp_path, mirror, items(1, *"ABCDEFGHIJ", marker="before"))
    run(tmp_path, mirror, items(2, *"ABCDEFGHI", marker="before"))  # J missing once
    run(tmp_path, mirror, items(3, *"ABCDEFGHI", marker="before"))  # closes version 2
    assert "J" in emulator.catalog_items("products")
    fourth = run(tmp_path, mirror, items(4, *"ABCDEFGHI", marker="before"))  # closes 3
    assert "J" not in emulator.catalog_items("products")
    assert "deleted=1" in fourth.stderr


def test_mirror_refuses_to_remove_more_than_max_delete_ratio(
    tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    mirror = {**config, **MIRROR}
    run(tmp_path, mirror, items(1, *"ABCDEFGHIJ", marker="after"))
    broken = run_target(tmp_path, mirror, items(2, "A", marker="after"))
    assert broken.returncode == 1
    assert "would remove 9 of its 10 known keys" in broken.stderr
    assert "over max_delete_ratio 20%; nothing was removed" in broken.stderr
    assert "Traceback" not in broken.stderr
    assert len(emulator.catalog_items("products")) == 10
    assert broken.states == []


def test_mirror_without_version_markers_removes_nothing_and_says_so(
    tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    mirror = {**config, **MIRROR}
    plain = [CATALOG, record("catalog-products", {"itemId": "A", "name": "a"})]
    result = run(tmp_path, mirror, plain)
    assert "no ACTIVATE_VERSION message arrived: nothing was removed" in result.stderr


def test_mirror_is_refused_where_deleting_has_no_meaning(
    tmp_path: Path, config: dict[str, Any]
) -> None:
    events = schema("events", {"email": {"type": "string"}, "eventName": {"type": "string"}})
    refused = run_target(
        tmp_path,
        {**config, "stream_options": {"events": {"sync_mode": "mirror"}}},
        [events],
    )
    assert refused.returncode == 1
    assert "stream 'events': sync_mode mirror removes from Iterable" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_mirror_removes_users_per_on_delete(
    tmp_path: Path, emulator: EmulatorProcess, config: dict[str, Any]
) -> None:
    mirror = {
        **config,
        "stream_options": {"users": {"sync_mode": "mirror", "on_delete": "delete"}},
    }

    def version(number: int, count: int) -> list[dict[str, Any]]:
        rows = [
            {**record("users", {"email": f"m{i}@x.io"}), "version": number} for i in range(count)
        ]
        return [USERS, *rows, activate_version("users", number)]

    run(tmp_path, mirror, version(1, 10))
    second = run(tmp_path, mirror, version(2, 9))
    assert emulator.user_by_email("m9@x.io") is None
    assert emulator.user_by_email("m8@x.io") is not None
    assert "deleted=1" in second.stderr
