"""Every kind of PostgreSQL column, through `meltano run tap-postgres target-iterable-postgres`.

demo/postgres/column_types.sql holds a row with a value of every column type customer
tables hold (bigint, numeric(20,0) beyond 2**53, numeric(38,10), money, uuid, an enum,
inet, bytea, json and jsonb with periods in their keys, arrays holding NULLs, timestamps
in several time zones and without one, a column named ``a.b``), a row NULL in every
column, and a row with a text over Iterable's size per field value. tap-postgres reads
the table; target-iterable sends it to the emulator both as users and, through a second
stream map of the same table, as events; every field is then compared, value and JSON
type, with what Iterable must hold.
"""

from __future__ import annotations

import json
from pathlib import Path

from iterable_emulator.testing import EmulatorProcess
from tests.pipelines.postgres import PostgresServer
from tests.pipelines.test_postgres_pipeline import ROOT, meltano, typed

COLUMN_TYPES = ROOT / "demo" / "postgres" / "column_types.sql"
STREAM = "public-column_types"
# The table as users (userId = id) and as events "column_types" (id = 'ct-' + id).
STREAM_MAPS = {
    STREAM: {
        "__alias__": "users-columns",
        "__key_properties__": ["userId"],
        "userId": "str(id)",
        "id": "__NULL__",
    },
    "events-columns": {
        "__source__": STREAM,
        "__key_properties__": ["id"],
        "eventName": "'column_types'",
        "userId": "str(id)",
        "id": "str('ct-' + str(id))",
    },
}
ENVIRONMENT = {
    "TAP_POSTGRES__SELECT": json.dumps([f"{STREAM}.*"]),
    "TARGET_ITERABLE_POSTGRES_STREAM_MAPS": json.dumps(STREAM_MAPS),
}

# Row 1, field by field, as Iterable must hold it.
ROW_1 = {
    "small": -32768,
    "big": 9223372036854775807,  # bigint: an integer, exact
    # numeric(20,0) 9007199254740993 and numeric(38,10) 1234567890.1234567890: Iterable
    # stores decimals as doubles, so the nearest ones, with a warning (not silently).
    "exact_20": 9007199254740992.0,
    "precise": 1234567890.1234567,
    "amount": 1249.5,  # numeric(10,2)
    "ratio": 0.1,  # double precision
    "price": "$12.34",  # money
    "token": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",  # uuid
    "feeling": "happy",  # enum
    "address": "192.168.0.1/24",  # inet
    "raw": "deadbeef",  # bytea, hex
    "active": True,
    # json / jsonb: as they are, but periods in keys, at any depth, as underscores
    # (Iterable reads a period as nesting); a null inside a JSON array is JSON's own.
    "doc": {"k_v": 1, "nested": {"x_y": "z"}, "list": [1, None]},
    "docb": {"plain": True, "a_b_c": [{"d_e": 2}]},
    # Arrays: the NULL items dropped, the rest kept (the user is not lost).
    "tags": ["a", "b"],
    "counts": [1, 3],
    "holidays": ["2024-12-25"],  # date[]
    "seen_at": ["2024-11-02 09:15:00 +00:00", "2024-02-29 15:30:00 +00:00"],  # timestamptz[]
    "born_on": "1815-12-10",
    "created_at": "2024-02-29 15:30:00 +00:00",  # 12:00 at -03:30
    "local_at": "2024-11-01 18:45:10 +00:00",  # timestamp without time zone: UTC
    "notes": "short",
    "a_b": "dotted column",  # the column "a.b"
    "updated_at": "2024-11-02 09:15:00 +00:00",  # 10:15 at +01
}


def test_every_column_type_lands_field_by_field(
    postgres_server: PostgresServer, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    postgres_server.run_file(COLUMN_TYPES)
    run = meltano(
        "run",
        "tap-postgres",
        "target-iterable-postgres",
        emulator=emulator,
        postgres=postgres_server,
        workdir=tmp_path,
        env=ENVIRONMENT,
    )

    ada = emulator.user_by_id("1")
    assert ada is not None
    assert ada["email"] == "ada@example.com"
    assert typed(ada["dataFields"]) == typed(ROW_1)
    event = {e["id"]: e for e in emulator.events_for(user_id="1")}["ct-1"]
    assert (event["eventName"], event["email"]) == ("column_types", "ada@example.com")
    assert typed(event["dataFields"]) == typed(ROW_1)

    # NULL in every column but the key and updated_at: a user without those fields (a
    # null removes a field), an event keeping every column, as null.
    nulls = emulator.user_by_id("2")
    assert nulls is not None
    assert nulls["dataFields"] == {"updated_at": "2024-11-03 00:00:00 +00:00"}
    (null_event,) = emulator.events_for(user_id="2")
    assert null_event["dataFields"] == {
        **dict.fromkeys(name for name in ROW_1 if name != "updated_at"),
        "updated_at": "2024-11-03 00:00:00 +00:00",
    }

    # A text over Iterable's size per field value: refused before any request, with
    # its reason, as user and as event; nothing else of the run is lost.
    assert emulator.user_by_id("3") is None
    rejects = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert sorted((r["stream"], r["reason"], r["record"]["email"]) for r in rejects) == [
        ("events-columns", "value_too_long", "long@example.com"),
        ("users-columns", "value_too_long", "long@example.com"),
    ]
    assert rejects[0]["message"].startswith(
        "field 'notes' holds 40,000 characters, over Iterable's limit of about 32,000"
    )

    # The rounding is said, once per field, with the first value concerned.
    log = run.stderr
    assert log.count("field 'exact_20': 9007199254740993 cannot be held exactly") == 2
    assert "field 'precise': 1234567890.1234567890 cannot be held exactly" in log
    assert "field 'tags': null items of the array were dropped" in log
    assert "field 'a.b': sent as 'a_b'" in log
