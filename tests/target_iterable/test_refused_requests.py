"""Whole-request refusals keep good records: type mismatches and bisection of 400s."""

from __future__ import annotations

import json
import math
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from iterable_emulator.testing import EmulatorProcess
from target_iterable.adapters.base import StreamSpec
from target_iterable.adapters.users import UsersAdapter
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.delivery.sender import RequestSender
from target_iterable.encoding import encode_faithfully
from target_iterable.iterable.client import ApiResponse
from target_iterable.mapping.users import user_payload
from target_iterable.target import TargetIterable
from tests.singer_io import record, run_target, schema, singer_lines, spawn_target

USERS = schema("users", {"email": {"type": "string"}, "age": {"type": ["integer", "string"]}})
BULK_UPDATE = "POST /api/users/bulkUpdate"


def test_type_mismatch_rejects_only_the_offending_records_and_is_remembered(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    """A type locked after the pre-flight read (another writer, say): the refusal
    teaches it, and the records carrying the offending values alone are rejected."""
    config = {**target_config, "users_batch_size": 2, "max_concurrent_requests": 1}
    target = spawn_target(
        tmp_path,
        {**config, "rejects_path": str(tmp_path / "r.jsonl")},
        [USERS],
        output=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30  # the target's pre-flight read, at SCHEMA
    while not emulator.requests_log("/api/users/getFields") and time.monotonic() < deadline:
        time.sleep(0.05)
    # Meanwhile, another writer locks `age` as a long.
    (tmp_path / "other").mkdir()
    first = run_target(
        tmp_path / "other", target_config, [USERS, record("users", {"email": "a@x.io", "age": 30})]
    )
    assert first.returncode == 0, first.stderr

    emails = [f"u{i}@x.io" for i in range(6)]
    ages: list[Any] = [31, "thirty-two", 33, "old", 35, "older"]
    records = [record("users", {"email": e, "age": a}) for e, a in zip(emails, ages, strict=True)]
    _, stderr = target.communicate(singer_lines(records).encode(), timeout=120)
    assert target.returncode == 0, stderr.decode()
    rejects = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    for email, age in zip(emails, ages, strict=True):
        user = emulator.user_by_email(email)
        assert (user is not None) == isinstance(age, int), email
    assert [(r["reason"], r["record"]["age"]) for r in rejects] == [
        ("type_mismatch", "thirty-two"),
        ("type_mismatch", "old"),
        ("type_mismatch", "older"),
    ]
    assert rejects[0]["message"] == (
        "field 'age' is a long in Iterable; this record has the string 'thirty-two'"
    )
    # One refused request taught the target the type; the two bodies after it
    # were cleaned before sending instead of being refused too.
    stats = emulator.endpoint_stats(BULK_UPDATE)
    assert stats["status_4xx"] == 1
    assert stats["requests"] == 1 + 1 + 1 + 2  # the other writer, refused, resent, two bodies


class BadParamsForSomeUsers:
    """Stands in for Iterable: refuses any request holding one of ``bad`` with 400."""

    def __init__(self, bad: set[str]) -> None:
        self.bad = bad
        self.requests = 0
        self.accepted: list[str] = []

    def bulk_update_users(self, body: bytes) -> ApiResponse:
        self.requests += 1
        emails = [user["email"] for user in orjson.loads(body)["users"]]
        if self.bad & set(emails):
            return ApiResponse(400, {"code": "BadParams", "msg": "dataFields.bio is too long"})
        self.accepted += emails
        return ApiResponse(200, {"successCount": len(emails), "failCount": 0})


def prepared(email: str) -> PreparedRecord:
    record = {"email": email}
    return PreparedRecord.of_person_payload([encode_faithfully(record)], user_payload(record, {}))


def users_sender(tmp_path: Path, fake_client: Any) -> tuple[TargetIterable, RequestSender]:
    """The sender of a users stream, whose client is ``fake_client``."""
    target = TargetIterable(
        config={
            "api_key": "k",
            "api_base_url": "http://127.0.0.1:9",
            "rejects_path": str(tmp_path / "rejects.jsonl"),
        }
    )
    target.delivery.client = fake_client
    spec = StreamSpec.of("users", {"properties": {}}, [], target.settings)
    adapter = UsersAdapter(spec, target.delivery)
    return target, RequestSender(adapter, target.delivery.run_summary.for_stream("users"))


@pytest.mark.parametrize(("n", "bad_count"), [(1000, 1), (1000, 3), (64, 64), (17, 0)])
def test_other_400s_are_bisected_until_bad_records_stand_alone(
    tmp_path: Path, n: int, bad_count: int
) -> None:
    emails = [f"u{i}@x.io" for i in range(n)]
    bad = set(emails[:: max(1, n // bad_count)][:bad_count]) if bad_count else set()
    fake = BadParamsForSomeUsers(bad)
    target, sender = users_sender(tmp_path, fake)

    sender.send([prepared(e) for e in emails])
    target.delivery.rejects.close()

    rejected = (
        [orjson.loads(line) for line in (tmp_path / "rejects.jsonl").read_bytes().splitlines()]
        if bad
        else []
    )
    assert {r["record"]["email"] for r in rejected} == bad
    assert all(r["reason"] == "bad_request" for r in rejected)
    assert all("HTTP 400 BadParams: dataFields.bio is too long" in r["message"] for r in rejected)
    assert sorted(fake.accepted) == sorted(set(emails) - bad)
    # O(k log n): each bad record costs at most two requests per halving level.
    assert fake.requests <= 1 + 2 * max(bad_count, 1) * math.ceil(math.log2(n))


class InvalidDataForOneRecord:
    """Refuses, by email, the user of whichever record carries ``bio: "bad"``."""

    def __init__(self) -> None:
        self.bodies: list[list[dict[str, Any]]] = []

    def bulk_update_users(self, body: bytes) -> ApiResponse:
        users = orjson.loads(body)["users"]
        self.bodies.append(users)
        bad = sorted({u["email"] for u in users if u["dataFields"].get("bio") == "bad"})
        return ApiResponse(
            200,
            {
                "successCount": len(users) - len(bad),
                "failCount": len(bad),
                "failedUpdates": {"invalidDataEmails": bad},
            },
        )


def test_shared_identifier_with_data_dependent_failure_is_resolved_by_resending_alone(
    tmp_path: Path,
) -> None:
    fake = InvalidDataForOneRecord()
    target, sender = users_sender(tmp_path, fake)
    good = {"email": "a@x.io", "bio": "fine"}
    bad = {"email": "A@x.io", "bio": "bad"}  # the same user, as Iterable compares emails
    batch = [
        PreparedRecord.of_person_payload([encode_faithfully(r)], user_payload(r, {}))
        for r in (good, bad, {"email": "b@x.io", "bio": "ok"})
    ]

    sender.send(batch)
    target.delivery.rejects.close()

    rejected = [
        orjson.loads(line) for line in (tmp_path / "rejects.jsonl").read_bytes().splitlines()
    ]
    assert [(r["record"], r["reason"]) for r in rejected] == [(bad, "invalid_data")]
    # The first answer named a@x.io for two records: each was sent again alone.
    assert [len(body) for body in fake.bodies] == [3, 1, 1]
    assert sender.stats.accepted == 2
