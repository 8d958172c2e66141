"""The target's type model against the oracle: will Iterable take this value?

The target refuses locally a record whose value Iterable would refuse
(``type_mismatch``) and must never refuse one Iterable would take. Its model
(``iterable/field_types.py``) and the emulator's (``iterable_emulator/field_types.py``,
each rule citing Iterable's articles) are written apart; these property tests
generate values of many shapes (nested objects, lists of objects, date-like
strings, impossible dates, numeric strings) and check that the target's
prediction is the emulator's answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iterable_emulator.testing import EmulatorProcess
from target_iterable.iterable.field_types import (
    flatten_fields,
    iterable_type_of,
    type_conflicts,
)
from tests.project_type import with_user_ids

BULK_UPDATE = "/api/users/bulkUpdate"
_names = itertools.count()

# A first value of each type Iterable locks a user field as.
SEEDS: dict[str, Any] = {
    "long": 7,
    "double": 2.5,
    "string": "text",
    "date": "2024-01-02 03:04:05 +00:00",
    "boolean": True,
    "object": {"a": 1, "b": "x"},
}


def date_like() -> st.SearchStrategy[str]:
    """Strings in and around Iterable's date formats, impossible days and hours included."""
    day = st.builds(
        "{:04d}-{:02d}-{:02d}".format,
        st.integers(1000, 9999),
        st.integers(0, 13),
        st.integers(0, 32),
    )
    clock = st.builds(
        "{:02d}:{:02d}:{:02d}".format, st.integers(0, 25), st.integers(0, 60), st.integers(0, 60)
    )
    zone = st.sampled_from(["", "Z", "+00:00", "-0400", "-04:00", " +00:00", " -0400", "+0530"])
    fraction = st.sampled_from(["", ".000", ".5", ".123456"])
    separator = st.sampled_from(["T", " "])
    return st.one_of(
        day,
        st.builds(lambda d, s, c, f, z: f"{d}{s}{c}{f}{z}", day, separator, clock, fraction, zone),
    )


NUMERIC_TEXT = st.from_regex(r"[+-]?\d{1,21}(\.\d{0,3})?([eE][+-]?\d{1,2})?", fullmatch=True)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(max_size=12),
    NUMERIC_TEXT,
    date_like(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
    ),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def unlimited() -> Iterator[EmulatorProcess]:
    """An emulator without rate limits: each example makes two or three requests."""
    with EmulatorProcess("--no-rate-limits") as process:
        yield process


@pytest.fixture
def emulator(unlimited: EmulatorProcess) -> EmulatorProcess:
    unlimited.reset()  # each test makes a few hundred fields, under the 1000-field limit
    return unlimited


def write(emulator: EmulatorProcess, fields: dict[str, Any]) -> dict[str, Any]:
    response = emulator.api(
        "POST",
        BULK_UPDATE,
        json={"users": [with_user_ids({"email": f"t{next(_names)}@x.io", "dataFields": fields})]},
    )
    assert response.status_code in (200, 400), response.text
    body: dict[str, Any] = response.json()
    if response.status_code == 400:
        assert body["code"] == "RequestFieldsTypesMismatched", body
    return body


def locked_types(emulator: EmulatorProcess) -> dict[str, str]:
    fields = emulator.api("GET", "/api/users/getFields").json()["fields"]
    return {str(name): str(kind) for name, kind in fields.items()}


EXAMPLES = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@EXAMPLES
@given(value=st.one_of(SCALARS, st.dictionaries(st.sampled_from(["a", "b"]), SCALARS)))
def test_the_type_a_first_value_locks(emulator: EmulatorProcess, value: Any) -> None:
    field = f"f{next(_names)}"
    write(emulator, {field: value})
    expected = {
        path: kind
        for path, item in flatten_fields({field: value})
        if (kind := iterable_type_of(item)) is not None
    }
    assert {k: v for k, v in locked_types(emulator).items() if k.split(".")[0] == field} == (
        expected
    )


@EXAMPLES
@given(kind=st.sampled_from(sorted(SEEDS)), value=VALUES)
def test_whether_a_locked_field_takes_a_value(
    emulator: EmulatorProcess, kind: str, value: Any
) -> None:
    field = f"f{next(_names)}"
    assert "code" not in write(emulator, {field: SEEDS[kind]})
    locked = {k: v for k, v in locked_types(emulator).items() if k.split(".")[0] == field}
    predicted_refusal = bool(type_conflicts({field: value}, locked))
    answer = write(emulator, {field: value})
    assert ("code" in answer) == predicted_refusal, (locked, value, answer)
