"""Real taps' schemas through the CLI into the emulator: numerics, arrays of dates,
decimal strings, and duplicate users merged under ``merge_nested_objects``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from iterable_emulator.testing import EmulatorProcess
from tests.project_type import with_user_ids
from tests.singer_io import record, run_target, schema
from tests.target_iterable.test_schema_validation import NUMERIC_10_2

DATE_TIME = {"type": "string", "format": "date-time"}


def user(email: str, **fields: Any) -> dict[str, Any]:
    return record("users", {"email": email, **fields})


def test_numeric_columns_validate_and_land_as_doubles(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    run = run_target(
        tmp_path,
        target_config,
        [
            schema("users", {"email": {"type": "string"}, "balance": NUMERIC_10_2}),
            user("a@example.com", balance=19.99),
            user("b@example.com", balance=5),
            user("c@example.com", balance=19.999),
            user("d@example.com", balance=100000000),
            user("e@example.com", balance=None),
        ],
    )

    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert emulator.user_by_email("a@example.com")["dataFields"]["balance"] == 19.99
    b_balance = emulator.user_by_email("b@example.com")["dataFields"]["balance"]
    assert (b_balance, type(b_balance)) == (5.0, float)
    assert [(r["reason"], r["record"]["email"], r["message"]) for r in run.rejects] == [
        ("schema_violation", "c@example.com", "field 'balance' must be multiple of 0.01"),
        ("schema_violation", "d@example.com", "field 'balance' must be smaller than 100000000"),
    ]
    assert emulator.summary()["users"] == 3


def test_arrays_of_dates_are_sent_in_iterables_date_format(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    properties = {
        "email": {"type": "string"},
        "logins": {"type": ["array", "null"], "items": DATE_TIME},
        "holidays": {"type": "array", "items": {"type": "string", "format": "date"}},
        "orders": {
            "type": "array",
            "items": {"type": "object", "properties": {"placed_at": DATE_TIME}},
        },
    }
    run = run_target(
        tmp_path,
        target_config,
        [
            schema("users", properties),
            user(
                "a@example.com",
                logins=["2024-03-01T12:30:45+02:00", "2024-03-02T08:00:00"],
                holidays=["2024-12-25"],
                orders=[{"placed_at": "2024-01-02T03:04:05.678Z", "sku": "MUG"}],
            ),
            user("b@example.com", logins=["2024-03-01T12:30:45Z", "last tuesday"]),
        ],
    )

    assert run.returncode == 0, run.stderr
    fields = emulator.user_by_email("a@example.com")["dataFields"]
    assert fields["logins"] == ["2024-03-01 10:30:45 +00:00", "2024-03-02 08:00:00 +00:00"]
    assert fields["holidays"] == ["2024-12-25"]
    assert fields["orders"] == [{"placed_at": "2024-01-02 03:04:05 +00:00", "sku": "MUG"}]
    assert [(r["reason"], r["message"]) for r in run.rejects] == [
        ("invalid_value", "field 'logins': item 1: 'last tuesday' is not an ISO-8601 date-time")
    ]


def test_decimal_strings_are_sent_as_numbers(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    properties = {
        "email": {"type": "string"},
        "balance": {"type": ["string", "null"], "format": "x-singer.decimal"},
        "credit": {"type": ["string", "null"], "format": "singer.decimal"},
    }
    run = run_target(
        tmp_path,
        target_config,
        [
            schema("users", properties),
            user("a@example.com", balance="5", credit="0.10"),
            user("b@example.com", balance="1234.56", credit=None),
            user("c@example.com", balance="12,50"),
        ],
    )

    assert run.returncode == 0, run.stderr
    a_fields = emulator.user_by_email("a@example.com")["dataFields"]
    assert [(value, type(value)) for value in a_fields.values()] == [(5.0, float), (0.1, float)]
    assert emulator.user_by_email("b@example.com")["dataFields"] == {"balance": 1234.56}
    assert [(r["reason"], r["record"], r["message"]) for r in run.rejects] == [
        (
            "invalid_value",
            with_user_ids({"email": "c@example.com", "balance": "12,50"}),
            "field 'balance': '12,50' is not a decimal number",
        )
    ]


def test_duplicate_users_in_a_batch_deep_merge_under_merge_nested_objects(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    properties = {"email": {"type": "string"}, "prefs": {"type": "object"}}
    messages = [
        schema("users", properties),
        user("a@example.com", prefs={"email": True, "channels": {"sms": False}}),
        user("a@example.com", prefs={"push": True, "channels": {"web": True}}),
    ]
    merging = {"users": {"merge_nested_objects": True}}

    run = run_target(tmp_path, {**target_config, "stream_options": merging}, messages)
    assert run.returncode == 0, run.stderr
    assert emulator.user_by_email("a@example.com")["dataFields"]["prefs"] == {
        "email": True,
        "push": True,
        "channels": {"sms": False, "web": True},
    }
    assert emulator.endpoint_stats("POST /api/users/bulkUpdate")["requests"] == 1

    emulator.reset()
    replacing = run_target(tmp_path, target_config, messages)
    assert replacing.returncode == 0, replacing.stderr
    assert emulator.user_by_email("a@example.com")["dataFields"]["prefs"] == {
        "push": True,
        "channels": {"web": True},
    }
