"""dbt models to Iterable: `meltano run dbt-postgres:build tap-postgres-dbt target-iterable-dbt`.

The reverse-ETL workflow of the README's "From dbt models", end to end, against the
session's real PostgreSQL server (``postgres_server``) and the test's emulator: dbt
(the utility ``dbt-postgres`` of meltano.yml, installed from requirements/dbt.lock)
builds and tests the models of demo/dbt over the raw tables of demo/postgres/seed.sql
into the schema ``analytics``; tap-postgres-dbt reads the three models whole;
target-iterable-dbt maps them onto users, events and catalog-products.

Run 1 (the job dbt-to-iterable) sends everything, compared field by field and type by
type with expectations computed from the raw rows in Python (not from the models'
SQL), plus a few literal ones and the types Iterable locked. A new order for one
customer then changes that customer's aggregates; run 2 (the issue's own command,
``dbt-postgres:run``) must send exactly that user and the new event: change
detection counts every other row ``unchanged``. Run 3 adds a product whose SKU is no
valid itemId: the models' dbt test fails, and the job stops before the tap, with
nothing sent.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from iterable_emulator.testing import EmulatorProcess
from tests.pipelines.postgres import PostgresServer
from tests.pipelines.test_postgres_pipeline import (
    CATALOG_ITEMS,
    EVENTS,
    MELTANO,
    ROOT,
    SEED,
    USERS,
    iterable_datetime,
    meltano,
    records_received,
    rows,
    typed,
    unix_seconds,
)

DBT = ROOT / ".meltano" / "utilities" / "dbt-postgres" / "venv" / "bin" / "dbt"
SETUP_HINT = "run the tests with `bash scripts/test.sh` (its set-up runs `meltano install`)"
PLUGINS = ("tap-postgres-dbt", "target-iterable-dbt")
# The request paths whose bodies show which users and events a run sent.
PATHS = ("/api/users/bulkUpdate", "/api/events/trackBulk")


# Helpers ---------------------------------------------------------------------------------


def summary_counts(completed: subprocess.CompletedProcess[str], stream: str) -> dict[str, int]:
    """The counts of a stream's summary line, e.g. ``{"received": 6, "sent": 1, ...}``."""
    found = re.search(rf"Summary: stream '{stream}': ([^\n]*)", completed.stderr)
    assert found is not None, f"no summary of {stream}:\n{completed.stderr[-3000:]}"
    return {name: int(n) for name, n in re.findall(r"(\w+)=(\d+)", found.group(1))}


def sent_bodies(emulator: EmulatorProcess, path: str, since: int) -> list[dict[str, Any]]:
    """The bodies of the requests to ``path`` after the first ``since`` ones."""
    return [json.loads(request["body"]) for request in emulator.requests_log(path)[since:]]


def expected_users(postgres: PostgresServer) -> dict[str, dict[str, Any]]:
    """iterable_users as Iterable must hold it, computed from the raw rows: ``{userId: user}``."""
    orders = [o for o in rows(postgres, "orders", "id") if o["status"] != "cancelled"]
    users = {}
    for customer in rows(postgres, "customers", "id"):
        own = [o for o in orders if o["customer_id"] == customer["id"]]
        fields = {
            "first_name": customer["first_name"],
            "last_name": customer["last_name"],
            "plan": customer["plan"] or "free",
            "is_active": customer["is_active"],
            "signed_up_at": iterable_datetime(customer["signed_up_at"]),
            "order_count": len(own),
            "lifetime_value": float(round(sum(o["total"] for o in own), 2)),
            "last_order_at": (
                iterable_datetime(max(own, key=lambda o: unix_seconds(o["placed_at"]))["placed_at"])
                if own
                else None
            ),
        }
        users[str(customer["id"])] = {
            "email": customer["email"],
            # A new profile keeps no null field: Iterable removes a field sent as null.
            "dataFields": {name: value for name, value in fields.items() if value is not None},
        }
    return users


def check_users(emulator: EmulatorProcess, postgres: PostgresServer) -> None:
    for user_id, expected in expected_users(postgres).items():
        user = emulator.user_by_id(user_id)
        assert user is not None, f"user {user_id} is not in Iterable"
        assert user.get("email") == expected["email"], user_id
        assert typed(user["dataFields"]) == typed(expected["dataFields"]), f"user {user_id}"


def check_events(emulator: EmulatorProcess, postgres: PostgresServer) -> None:
    for order in rows(postgres, "orders", "id"):
        events = {e["id"]: e for e in emulator.events_for(user_id=str(order["customer_id"]))}
        event = events.get(f"order_placed-{order['id']}")
        assert event is not None, f"order {order['id']} is not in Iterable: {sorted(events)}"
        assert event["eventName"] == "order_placed"
        assert typed(event["createdAt"]) == typed(unix_seconds(order["placed_at"]))
        assert typed(event["dataFields"]) == typed(
            {
                "order_id": order["id"],
                "status": order["status"],
                "total": float(order["total"]),
                "currency": order["currency"],
                "item_count": len(order["line_items"]),
            }
        ), f"order {order['id']}"


def check_catalog(emulator: EmulatorProcess, postgres: PostgresServer) -> None:
    products = rows(postgres, "products", "sku")
    items = emulator.catalog_items("products")
    assert sorted(items) == [p["sku"] for p in products]
    for product in products:
        assert typed(items[product["sku"]]) == typed(
            {
                "name": product["name"],
                "description": product["description"],  # an item keeps what it was sent
                "price": float(product["price"]),
                "stock": product["stock"],
                "in_stock": product["stock"] > 0,
                "colors": product["colors"],
                "launched_on": product["launched_on"],
            }
        ), f"product {product['sku']}"


def check_literals_and_types(emulator: EmulatorProcess) -> None:
    """A few values spelled out, and the types Iterable locked for the derived fields."""
    ada = emulator.user_by_email("ada.lovelace@example.com")
    assert ada is not None
    assert ada["userId"] == "1001"
    assert ada["dataFields"]["order_count"] == 2
    assert typed(ada["dataFields"]["lifetime_value"]) == typed(78.5)  # 59.00 + 19.50
    assert ada["dataFields"]["last_order_at"] == "2024-11-01 08:30:00 +00:00"  # 09:30 at +01
    assert "user_id" not in ada["dataFields"]
    assert not [name for name in ada["dataFields"] if name.startswith("_sdc")]
    yamada = emulator.user_by_id("1005")  # no email; its only order was cancelled
    assert yamada is not None
    assert yamada.get("email") is None
    assert typed(yamada["dataFields"]["lifetime_value"]) == typed(0.0)  # numeric 0.00: a double
    assert yamada["dataFields"]["order_count"] == 0
    assert "last_order_at" not in yamada["dataFields"]
    lukasz = emulator.user_by_id("1004")
    assert lukasz is not None
    assert lukasz["dataFields"]["plan"] == "free"  # NULL in the raw table

    fields = emulator.api("GET", "/api/users/getFields").json()["fields"]
    assert {name: fields[name] for name in ("order_count", "lifetime_value", "last_order_at")} == {
        "order_count": "long",
        "lifetime_value": "double",
        "last_order_at": "date",
    }
    mug = emulator.catalog_item("products", "SKU-010")
    assert mug is not None
    assert (mug["price"], mug["in_stock"], mug["launched_on"]) == (24.9, True, "2024-03-01")


# The test ----------------------------------------------------------------------------------


def test_dbt_models_to_iterable_then_only_what_the_models_changed(
    postgres_server: PostgresServer, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    assert MELTANO.exists(), f"Meltano is not set up: {SETUP_HINT}"
    assert DBT.exists(), f"dbt (the Meltano utility dbt-postgres) is not installed: {SETUP_HINT}"
    postgres = postgres_server
    postgres.execute("DROP SCHEMA IF EXISTS analytics CASCADE")
    postgres.run_file(SEED)
    emulator.update_settings(log_bodies=True)
    rejects = tmp_path / "rejects.jsonl"

    def run(*blocks: str, succeed: bool = True) -> subprocess.CompletedProcess[str]:
        """``meltano run <blocks>`` into the test's emulator, rejects, sync state and state."""
        return meltano(
            "run",
            *blocks,
            emulator=emulator,
            postgres=postgres,
            workdir=tmp_path,
            env={"TARGET_ITERABLE_DBT_REJECTS_PATH": str(rejects)},
            succeed=succeed,
        )

    try:
        # Run 1, the job: dbt builds and tests the models, then every row is sent.
        first = run("dbt-to-iterable")
        assert "Done. PASS=16 WARN=0 ERROR=0" in first.stderr  # 3 models, 13 dbt tests
        assert not rejects.exists(), rejects.read_text()
        assert records_received(emulator) == {USERS: 6, EVENTS: 6, CATALOG_ITEMS: 5}
        check_users(emulator, postgres)
        check_events(emulator, postgres)
        check_catalog(emulator, postgres)
        check_literals_and_types(emulator)

        # A new order for Grace (1002): her aggregates change, nobody else's.
        postgres.execute(
            "INSERT INTO orders (id, customer_id, status, total, currency, line_items, placed_at)"
            " VALUES (5008, 1002, 'placed', 200.00, 'USD', '[{\"sku\": \"SKU-002\"}]',"
            " '2024-11-06 10:00:00+00')"
        )
        before = records_received(emulator)
        requests_before = {path: len(emulator.requests_log(path)) for path in PATHS}

        # Run 2, the command: `dbt run`, the tap, the target.
        second = run("dbt-postgres:run", *PLUGINS)
        assert not rejects.exists(), rejects.read_text()
        after = records_received(emulator)
        assert {endpoint: after[endpoint] - before[endpoint] for endpoint in after} == {
            USERS: 1,
            EVENTS: 1,
            CATALOG_ITEMS: 0,
        }
        [users_body] = sent_bodies(emulator, PATHS[0], requests_before[PATHS[0]])
        assert [user["userId"] for user in users_body["users"]] == ["1002"]
        [events_body] = sent_bodies(emulator, PATHS[1], requests_before[PATHS[1]])
        assert [event["id"] for event in events_body["events"]] == ["order_placed-5008"]
        for stream, received, sent in (
            ("users", 6, 1),
            ("events", 7, 1),
            ("catalog-products", 5, 0),
        ):
            counts = summary_counts(second, stream)
            assert (counts["received"], counts["sent"]) == (received, sent), stream
            assert counts["unchanged"] == received - sent, stream
        grace = emulator.user_by_id("1002")
        assert grace is not None
        assert (grace["dataFields"]["order_count"], grace["dataFields"]["lifetime_value"]) == (
            2,
            5000.0,  # 4800.00 + 200.00
        )
        assert grace["dataFields"]["last_order_at"] == "2024-11-06 10:00:00 +00:00"
        check_users(emulator, postgres)
        check_events(emulator, postgres)
        assert emulator.summary()["events"] == 7

        # Run 3: a SKU that is no valid itemId fails the models' dbt test, and the
        # job stops there: the tap never runs, nothing reaches Iterable.
        postgres.execute(
            "INSERT INTO products (sku, name, price, stock) VALUES ('SKU 014', 'Bad SKU', 1, 1)"
        )
        before = records_received(emulator)
        failed = run("dbt-to-iterable", succeed=False)
        assert failed.returncode != 0
        assert "FAIL 1 item_ids_are_valid_for_iterable" in failed.stderr, failed.stderr[-3000:]
        assert "Beginning sync" not in failed.stderr
        assert records_received(emulator) == before
    finally:
        # Leave the session's database as the other pipeline tests expect it.
        postgres.execute("DROP SCHEMA IF EXISTS analytics CASCADE")
