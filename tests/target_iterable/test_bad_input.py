"""Bad Singer input: a clear message naming the line and stream, nothing accepted lost."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from iterable_emulator.testing import EmulatorProcess
from target_iterable.errors import SingerInputError
from target_iterable.reader import SingerLineReader
from tests.project_type import mapped_user_id, with_user_ids
from tests.singer_io import TARGET, record, run_target, schema, singer_lines, state

USERS = schema("users", {"email": {"type": "string"}, "age": {"type": ["integer", "null"]}})


def lines(*messages: dict[str, Any]) -> str:
    return singer_lines(messages)


GOOD_PREFIX = lines(USERS, record("users", {"email": "first@example.com"}), state({"n": 1}))


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        pytest.param(
            b'{"type": "RECORD", "stream": "users", "rec',
            "line 4: not valid JSON",
            id="malformed JSON",
        ),
        pytest.param(
            json.dumps(record("orders", {"id": 1})).encode(),
            "line 4, stream 'orders': A record for stream 'orders' was encountered before",
            id="record before schema",
        ),
        pytest.param(
            json.dumps(schema("orders", {"id": {"type": "integer"}})).encode(),
            "line 4, stream 'orders': stream 'orders' does not name an Iterable object",
            id="unknown stream",
        ),
        pytest.param(
            b'["not", "an", "object"]',
            "line 4: a Singer message is a JSON object, not list",
            id="message not an object",
        ),
        pytest.param(
            b'{"type": "RECORD", "stream": "users", "record": {"email": "caf\xe9@x.io"}}',
            "line 4: not valid UTF-8",
            id="invalid UTF-8",
        ),
        pytest.param(
            b'{"type": "BOGUS"}',
            "line 4: unknown Singer message type 'BOGUS'",
            id="unknown message type",
        ),
    ],
)
def test_fatal_input_errors_name_the_line_and_deliver_what_came_before(
    tmp_path: Path,
    emulator: EmulatorProcess,
    target_config: dict[str, Any],
    bad_line: bytes,
    expected: str,
) -> None:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({**target_config, "rejects_path": str(tmp_path / "r")}))
    completed = subprocess.run(
        [*TARGET, "--config", str(config_path)],
        input=GOOD_PREFIX.encode() + bad_line + b"\n",
        capture_output=True,
        check=False,
    )
    stderr = completed.stderr.decode()
    assert completed.returncode == 1
    assert expected in stderr
    assert "Traceback" not in stderr
    assert "caf" not in stderr  # no dump of the offending line: it may hold personal data
    # Everything before the bad line was delivered and checkpointed.
    assert emulator.user_by_email("first@example.com") is not None
    assert completed.stdout.decode().splitlines() == ['{"n": 1}']


def test_enormous_line_is_refused_without_reading_it_whole() -> None:
    reader = SingerLineReader()
    reader.max_line_bytes = 100
    text = json.dumps(record("users", {"email": "x" * 500})) + "\n"
    with pytest.raises(SingerInputError, match="line 1: longer than"):
        reader.process_lines(io.BytesIO(text.encode()), callbacks={})


def test_non_object_record_is_rejected_and_the_run_goes_on(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    run = run_target(
        tmp_path,
        target_config,
        [
            USERS,
            record("users", {"email": "a@example.com"}),
            {"type": "RECORD", "stream": "users", "record": [1, 2]},
            record("users", {"email": "b@example.com"}),
        ],
    )
    assert run.returncode == 0, run.stderr
    assert emulator.summary()["users"] == 2
    assert run.rejects[0]["reason"] == "malformed_record"
    assert run.rejects[0]["record"] == {"record": [1, 2]}


def test_schema_violations_are_rejected_by_default_or_fail_when_asked(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    messages = [
        USERS,
        record("users", {"email": "a@example.com", "age": 3}),
        record("users", {"email": "b@example.com", "age": "three"}),
        state({"n": 2}),
    ]
    run = run_target(tmp_path, target_config, messages)
    assert run.returncode == 0, run.stderr
    assert [(r["reason"], r["message"]) for r in run.rejects] == [
        ("schema_violation", "field 'age' must be integer or null")
    ]
    assert emulator.summary()["users"] == 1

    emulator.reset()
    failing = run_target(tmp_path / "..", {**target_config, "schema_violations": "fail"}, messages)
    assert failing.returncode == 1
    assert "line 3, stream 'users'" in failing.stderr
    assert "field 'age' must be integer or null" in failing.stderr
    assert failing.states == []


def test_schema_change_mid_stream_keeps_every_record(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    run = run_target(
        tmp_path,
        target_config,
        [
            USERS,
            record("users", {"email": "a@example.com", "age": 1}),
            schema("users", {"email": {"type": "string"}, "plan": {"type": "string"}}),
            record("users", {"email": "b@example.com", "plan": "pro"}),
            record("users", {"email": "a@example.com", "plan": "free"}),
            state({"n": 3}),
        ],
    )
    assert run.returncode == 0, run.stderr
    assert emulator.user_by_email("a@example.com")["dataFields"] == {"age": 1, "plan": "free"}
    assert emulator.user_by_email("b@example.com")["dataFields"] == {"plan": "pro"}
    assert run.states == [{"n": 3}]


def test_map_expression_failing_on_one_record_rejects_only_it(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    config = {
        **target_config,
        "stream_maps": {
            "customers": {
                "__alias__": "users",
                "email": "address.lower()",
                **mapped_user_id("address.lower()"),
            }
        },
    }
    run = run_target(
        tmp_path,
        config,
        [
            schema("customers", {"address": {"type": "string"}}),
            record("customers", {"address": "A@Example.com"}),
            record("customers", {"name": "no address"}),
        ],
    )
    assert run.returncode == 0, run.stderr
    assert emulator.user_by_email("a@example.com") is not None
    assert [r["reason"] for r in run.rejects] == ["stream_map_error"]
    assert "record.get('field')" in run.rejects[0]["message"]


def test_an_unquoted_list_alias_is_a_clear_configuration_error(
    tmp_path: Path, target_config: dict[str, Any]
) -> None:
    """The SDK would evaluate list-1234 as Python's list minus 1234: a traceback."""
    config = {**target_config, "stream_maps": {"newsletter": {"__alias__": "list-1234"}}}
    run = run_target(tmp_path, config, [schema("newsletter", {"email": {"type": "string"}})])
    assert run.returncode == 1
    assert "stream_maps.newsletter.__alias__ 'list-1234'" in run.stderr
    assert "quote it twice: \"'list-1234'\"" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_record_without_its_key_property_is_rejected_and_the_run_goes_on(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    keyed = schema("events", {"uid": {"type": "string"}, "email": {"type": "string"}}, ["uid"])
    messages = [
        keyed,
        record("events", {"uid": "e1", "email": "a@example.com", "eventName": "x"}),
        record("events", {"email": "a@example.com", "eventName": "x"}),
        state({"n": 2}),
    ]
    users = [USERS, record("users", {"email": "a@example.com"})]
    run = run_target(tmp_path, target_config, [*users, *messages])
    assert run.returncode == 0, run.stderr
    assert emulator.summary()["events"] == 1
    assert [(r["reason"], r["record"]) for r in run.rejects] == [
        ("missing_key_property", with_user_ids({"email": "a@example.com", "eventName": "x"}))
    ]
    assert "lacks the stream's key properties ['uid']" in run.rejects[0]["message"]
    assert run.states == [{"n": 2}]

    failing = run_target(
        tmp_path / "..", {**target_config, "schema_violations": "fail"}, [*users, *messages]
    )
    assert failing.returncode == 1
    assert "line 5, stream 'events': Record is missing one or more key_properties" in (
        failing.stderr
    )
    assert "Traceback" not in failing.stderr


# Bare NaN / Infinity tokens (singer-python taps) and nulls inside arrays ------------------

# What a tap built on singer-python writes for a float column holding NaN or Infinity
# (json.dumps' default allow_nan=True): not JSON.
NAN_LINE = '{"type": "RECORD", "stream": "users", "record": {"email": "nan@example.com", '
NAN_LINE += '"score": NaN, "stats": {"max": Infinity, "min": -Infinity}}}\n'
SCORED = schema(
    "users",
    {
        "email": {"type": "string"},
        "score": {"type": ["number", "null"]},
        "stats": {"type": ["object", "null"]},
        # tap-postgres declares the items of a text[] column non-null.
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
    },
)


def test_bare_nan_tokens_reject_that_record_only_and_the_run_goes_on(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    text = (
        lines(SCORED, record("users", {"email": "before@example.com", "score": 1.5}))
        + NAN_LINE
        + lines(
            record("users", {"email": "after@example.com", "tags": ["a", None, "b"]}),
            state({"n": 3}),
        )
    )
    run = run_target(tmp_path, target_config, text)
    assert run.returncode == 0, run.stderr
    assert emulator.user_by_email("before@example.com")["dataFields"] == {"score": 1.5}
    # One NULL in a text[] does not lose the user: the null is dropped, the rest is sent.
    assert emulator.user_by_email("after@example.com")["dataFields"] == {"tags": ["a", "b"]}
    assert emulator.user_by_email("nan@example.com") is None
    (rejected,) = run.rejects
    assert rejected["reason"] == "non_finite_number"
    assert rejected["stream"] == "users"
    assert rejected["record"] == {
        "email": "nan@example.com",
        "score": "NaN",
        "stats": {"max": "Infinity", "min": "-Infinity"},
    }
    assert rejected["message"] == (
        "line 3: fields 'score' (NaN), 'stats.max' (Infinity), 'stats.min' (-Infinity) are "
        "not a number: a bare NaN or Infinity token is not JSON (the tap wrote a non-finite "
        "float), and Iterable cannot store it"
    )
    assert "received=3 sent=2 accepted=2 rejected=1 (non_finite_number=1)" in run.stderr
    assert run.states == [{"n": 3}]


def test_bare_nan_tokens_outside_a_record_stop_the_run_with_the_line(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    bad_schema = '{"type": "SCHEMA", "stream": "users", "schema": {"maximum": Infinity}, '
    bad_schema += '"key_properties": []}\n'
    run = run_target(tmp_path, target_config, GOOD_PREFIX + bad_schema)
    assert run.returncode == 1
    assert "line 4: not valid JSON (bare NaN / Infinity tokens" in run.stderr
    assert emulator.user_by_email("first@example.com") is not None  # what came before


class Rejecter:
    """The part of the target the reader reports a rejected record to."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.rejected: list[tuple[str, dict[str, Any], str, str]] = []

    def process_record(self, message: dict[str, Any]) -> None:
        self.records.append(message["record"])

    def reject_input(self, stream: str, data: dict[str, Any], reason: Any, message: str) -> None:
        self.rejected.append((stream, data, str(reason), message))


@pytest.mark.parametrize(
    ("line", "rejected"),
    [
        pytest.param(
            '{"type": "RECORD", "stream": "s", "record": {"x": [1, NaN]}}',
            [("s", {"x": [1, "NaN"]}, "non_finite_number", "line 2: field 'x[1]' (NaN) is")],
            id="in an array",
        ),
        pytest.param('{"type": "RECORD", "stream": "s", "record": {"x": "NaN"}}', [], id="text"),
        pytest.param('{"type": "RECORD", "stream": "s", "record": {"x": 1.5}}', [], id="plain"),
    ],
)
def test_the_reader_hands_a_record_with_bare_tokens_to_the_rejecter(
    line: str, rejected: list[tuple[str, dict[str, Any], str, str]]
) -> None:
    target = Rejecter()
    text = '{"type": "RECORD", "stream": "s", "record": {"x": 0}}\n' + line + "\n"
    counts = SingerLineReader().process_lines(
        io.BytesIO(text.encode()), callbacks={"RECORD": target.process_record}
    )
    assert counts == {"RECORD": 2}
    assert [(s, r, reason, m[: len(rejected[0][3])]) for s, r, reason, m in target.rejected] == (
        rejected
    )
    assert len(target.records) == 2 - len(rejected)


def test_bare_tokens_beside_another_fault_are_still_fatal() -> None:
    text = b'{"type": "RECORD", "stream": "s", "record": {"x": NaN, }}\n'
    target = Rejecter()
    with pytest.raises(SingerInputError, match="line 1: not valid JSON"):
        SingerLineReader().process_lines(io.BytesIO(text), {"RECORD": target.process_record})
    assert target.rejected == []
