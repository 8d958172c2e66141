"""End to end in each kind of Iterable project, with asynchronous processing.

Iterable projects identify users by email (email-based), by userId
(userId-based) or by either (hybrid), per the support article "Project Types
and Unique Identifiers" (the emulator's rules identity-*). A pipeline written
for its project type must land users, their events and catalog items, skip
an unchanged rerun, and delete per on_delete, in each.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iterable_emulator.testing import EmulatorProcess
from tests.singer_io import record, run_target, schema, state

# How records name a user in each project type.
IDENTITY = {
    "email": lambda i: {"email": f"p{i}@x.io"},
    "userId": lambda i: {"userId": f"user-{i}", "email": f"p{i}@x.io"},
    "hybrid": lambda i: {"email": f"p{i}@x.io", "userId": f"user-{i}"},
}
USERS = schema(
    "users",
    {
        "email": {"type": "string"},
        "userId": {"type": "string"},
        "plan": {"type": "string"},
        "_sdc_deleted_at": {"type": ["null", "string"]},
    },
)
EVENTS = schema(
    "events",
    {
        "email": {"type": "string"},
        "userId": {"type": "string"},
        "eventName": {"type": "string"},
        "id": {"type": "string"},
    },
)
ITEMS = schema("catalog-products", {"itemId": {"type": "string"}, "name": {"type": "string"}})


@pytest.fixture(scope="module", params=sorted(IDENTITY))
def project(request: pytest.FixtureRequest) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(
        "--no-rate-limits", project_type=request.param, processing_delay_ms=300
    ) as process:
        process.project_type = request.param  # type: ignore[attr-defined]
        yield process


def as_written(stream: str, data: dict[str, Any]) -> dict[str, Any]:
    """A RECORD as given: these tests name users as their own project type does, not as
    the suite's project would (tests/project_type.py)."""
    return {"type": "RECORD", "stream": stream, "record": data}


def messages(project_type: str, deleted: int | None = None) -> list[dict[str, Any]]:
    who = IDENTITY[project_type]
    users = [
        {**who(i), "plan": "pro", "_sdc_deleted_at": "2024-05-01" if i == deleted else None}
        for i in range(5)
    ]
    events = [{**who(i), "eventName": "signup", "id": f"ev-{i}"} for i in range(5)]
    return [
        USERS,
        *(as_written("users", row) for row in users),
        EVENTS,
        *(as_written("events", row) for row in events),
        ITEMS,
        *(record("catalog-products", {"itemId": f"i{i}", "name": f"n{i}"}) for i in range(3)),
        state({"done": True}),
    ]


def find(project: EmulatorProcess, i: int) -> dict[str, Any] | None:
    if project.project_type == "userId":  # type: ignore[attr-defined]
        return project.user_by_id(f"user-{i}")
    return project.user_by_email(f"p{i}@x.io")


def test_a_pipeline_lands_reruns_and_deletes_in_each_project_type(
    tmp_path: Path, project: EmulatorProcess
) -> None:
    project.reset()
    kind: str = project.project_type  # type: ignore[attr-defined]
    config = {
        "api_key": project.api_key,
        "api_base_url": project.url,
        "sync_state_url": str(tmp_path / "sync.db"),
        "project_type": kind,
        "stream_options": {"users": {"on_delete": "delete"}},
    }
    first = run_target(tmp_path, config, messages(kind))
    assert first.returncode == 0, first.stderr
    assert first.rejects == []
    assert first.states == [{"done": True}]
    for i in range(5):
        user = find(project, i)
        assert user is not None, (kind, i)
        assert user["dataFields"]["plan"] == "pro"
    assert project.summary()["events"] == 5
    assert sorted(project.catalog_items("products")) == ["i0", "i1", "i2"]

    rerun = run_target(tmp_path, config, messages(kind))
    assert rerun.returncode == 0, rerun.stderr
    assert "stream 'users': received=5 sent=0" in rerun.stderr
    assert "stream 'events': received=5 sent=0" in rerun.stderr

    deleting = run_target(tmp_path, config, messages(kind, deleted=3))
    assert deleting.returncode == 0, deleting.stderr
    assert find(project, 3) is None
    assert find(project, 2) is not None


def test_a_user_id_project_refuses_email_only_records_and_names_users_by_user_id(
    tmp_path: Path,
) -> None:
    """In a userId-based project an email alone names no one ("How to identify users in
    API requests: userId"): such records are refused before they cost a request, and
    calls that take one identifier name the user by userId though the record has both."""
    with EmulatorProcess("--no-rate-limits", project_type="userId") as project:
        config = {
            "api_key": project.api_key,
            "api_base_url": project.url,
            "project_type": "userId",
            "max_rejected_ratio": 1,
            "stream_options": {"users": {"on_delete": "delete"}},
        }
        ada = {"email": "ada@x.io", "userId": "u-ada"}
        first = run_target(
            tmp_path,
            config,
            [
                USERS,
                as_written("users", {**ada, "plan": "pro"}),
                as_written("users", {"email": "only@x.io", "plan": "pro"}),
                EVENTS,
                as_written("events", {"email": "only@x.io", "eventName": "signup"}),
                schema("journey-7", {"id": {"type": "integer"}}, ["id"]),
                as_written("journey-7", {"id": 1, **ada}),
            ],
        )
        assert first.returncode == 0, first.stderr
        refused = [(r["stream"], r["reason"], r["record"]["email"]) for r in first.rejects]
        assert refused == [
            ("users", "missing_identity", "only@x.io"),
            ("events", "missing_identity", "only@x.io"),
        ]
        assert "a userId-based project (setting project_type)" in first.rejects[0]["message"]
        assert project.requests_log("/api/events/trackBulk") == []
        assert [r["records"] for r in project.requests_log("/api/users/bulkUpdate")] == [1]
        assert project.summary()["users"] == 1
        assert project.user_by_id("u-ada")["dataFields"] == {"plan": "pro"}
        [journey] = project.journeys()
        assert (journey["userId"], journey["email"]) == ("u-ada", None)

        deleting = run_target(
            tmp_path,
            config,
            [USERS, as_written("users", {**ada, "_sdc_deleted_at": "2024-05-01"})],
        )
        assert deleting.returncode == 0, deleting.stderr
        assert [r["path"] for r in project.requests_log("/api/users/byUserId/u-ada")] == [
            "/api/users/byUserId/u-ada"
        ]
        assert project.user_by_id("u-ada") is None
