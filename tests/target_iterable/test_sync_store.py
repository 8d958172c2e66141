"""The sync state's pieces: keys, fingerprints, the store, and the change tracker."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from iterable_emulator.testing import EmulatorProcess
from target_iterable.config_schema import OWN_SETTINGS
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.errors import ConfigurationError
from target_iterable.settings import DELIVERY_SETTINGS, PAYLOAD_SETTINGS
from target_iterable.sync.fingerprints import fingerprint, key_of, project_scope
from target_iterable.sync.store import FINGERPRINTS, Acknowledged, Stored, SyncStore, engine_url
from target_iterable.sync.tracker import ChangeTracker, TrackingPolicy
from tests.singer_io import record, run_target, schema


def test_fingerprints_are_of_what_would_be_sent() -> None:
    assert fingerprint("", b'{"a":1}') == fingerprint("", b'{"a":1}')
    assert fingerprint("", b'{"a":1}') != fingerprint("", b'{"a":2}')
    assert fingerprint("delete", b'"A"') != fingerprint("", b'"A"')  # the route counts
    assert len(fingerprint("", b"x")) == 16


def test_keys_come_from_the_key_properties() -> None:
    assert key_of({"id": 7, "x": 1}, ["id"]) == "7"
    assert key_of({"a": "x", "b": 2}, ["a", "b"]) == '["x",2]'
    assert key_of({"id": "7"}, ["id"]) != key_of({"id": 7}, ["id"])


def test_the_project_scope_hashes_the_key_and_url() -> None:
    scope = project_scope("secret-key-123", "https://api.iterable.com")
    assert "secret" not in scope
    assert scope != project_scope("secret-key-123", "https://api.eu.iterable.com")
    assert scope != project_scope("other-key", "https://api.iterable.com")


def test_a_plain_path_means_sqlite_and_postgresql_uses_psycopg() -> None:
    assert engine_url("state/sync.db").drivername == "sqlite"
    assert engine_url("postgresql://u:p@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(ConfigurationError, match="must be sqlite"):
        engine_url("mysql://u:p@h/db")


def test_the_sqlite_file_is_private_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "sync.db"
    store = SyncStore(str(path), "scope-a")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # keys can be emails
    store.record("users", [Acknowledged("email:a@x.io", b"1" * 16, '{"email":"a@x.io"}', 1)])
    assert set(store.lookup("users", ["email:a@x.io", "email:b@x.io"])) == {"email:a@x.io"}
    assert store.lookup("events", ["email:a@x.io"]) == {}  # per stream
    assert SyncStore(str(path), "scope-b").lookup("users", ["email:a@x.io"]) == {}  # per project
    assert store.missing_since("users", 2) == [("email:a@x.io", '{"email":"a@x.io"}')]
    store.forget("users", ["email:a@x.io"])
    assert store.count("users") == 0
    store.close()


def test_an_unreachable_postgresql_store_is_one_clear_error_without_the_password() -> None:
    with pytest.raises(ConfigurationError) as raised:
        SyncStore("postgresql://me:hunter2@127.0.0.1:9/nowhere", "scope")
    assert "cannot open the sync state at postgresql+psycopg://me:***@127.0.0.1:9" in str(
        raised.value
    )
    assert "hunter2" not in str(raised.value)


def prepared(key: str, item: bytes) -> PreparedRecord:
    return PreparedRecord(sources=[item], item=item, sync_key=key)


def test_an_expired_fingerprint_is_sent_again(tmp_path: Path) -> None:
    store = SyncStore(str(tmp_path / "sync.db"), "scope")
    policy = TrackingPolicy(
        skip_unchanged=True, resend_after_seconds=86400.0, mirror=False, max_delete_ratio=0.2
    )
    tracker = ChangeTracker(store, "users", policy)
    tracker.acknowledged([prepared("a", b"A"), prepared("b", b"B")])
    kept, unchanged = tracker.changed([prepared("a", b"A"), prepared("b", b"B2")])
    assert ([p.sync_key for p in kept], unchanged) == (["b"], 1)

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'sync.db'}")
    with engine.begin() as connection:  # "a" was acknowledged two days ago
        connection.execute(
            FINGERPRINTS.update()
            .where(FINGERPRINTS.c.record_key == "a")
            .values(acknowledged_at=FINGERPRINTS.c.acknowledged_at - 2 * 86400)
        )
    engine.dispose()
    kept, unchanged = tracker.changed([prepared("a", b"A")])
    assert ([p.sync_key for p in kept], unchanged) == (["a"], 0)
    store.close()


def test_a_store_made_before_source_digests_gains_the_column(tmp_path: Path) -> None:
    """Upgrading keeps the fingerprints of earlier runs (nothing is sent again)."""
    path = tmp_path / "old.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE target_iterable_fingerprints (scope VARCHAR(32), stream VARCHAR(255), "
            "record_key TEXT, fingerprint BLOB NOT NULL, identity TEXT, "
            "acknowledged_at FLOAT NOT NULL, seen_version INTEGER, "
            "PRIMARY KEY (scope, stream, record_key))"
        )
        connection.exec_driver_sql(
            "INSERT INTO target_iterable_fingerprints "
            "VALUES ('s', 'users', 'a', ?, NULL, 1e12, NULL)",
            (b"1" * 16,),
        )
    engine.dispose()
    store = SyncStore(str(path), "s")
    assert store.lookup("users", ["a"])["a"] == Stored(b"1" * 16, 1e12, None)
    store.close()


def test_a_record_unchanged_by_its_payload_gets_its_new_source_digest(tmp_path: Path) -> None:
    """An input column that is not sent changed: the next run can skip the record
    before mapping it; and its acknowledgement time stays (resend_after_days)."""
    store = SyncStore(str(tmp_path / "sync.db"), "scope")
    policy = TrackingPolicy(
        skip_unchanged=True, resend_after_seconds=None, mirror=False, max_delete_ratio=0.2
    )
    tracker = ChangeTracker(store, "users", policy)
    first = prepared("a", b"A")
    first.source_digest = b"old-source-00000"
    tracker.acknowledged([first])
    acknowledged_at = store.lookup("users", ["a"])["a"].acknowledged_at

    again = prepared("a", b"A")
    again.source_digest = b"new-source-00000"
    assert tracker.changed([again]) == ([], 1)
    stored = store.lookup("users", ["a"])["a"]
    assert (stored.source, stored.acknowledged_at) == (b"new-source-00000", acknowledged_at)
    assert tracker.skippable_sources({"a": stored}, [("a", b"new-source-00000")]) == {"a"}
    assert tracker.skippable_sources({"a": stored}, [("a", b"old-source-00000")]) == set()


def test_every_setting_is_known_to_shape_payloads_or_only_delivery() -> None:
    """Change detection skips a record unchanged under the same settings; a setting
    that shapes payloads but were taken for delivery-only would skip changed records."""
    assert OWN_SETTINGS == PAYLOAD_SETTINGS | DELIVERY_SETTINGS
    assert not PAYLOAD_SETTINGS & DELIVERY_SETTINGS


def test_settings_that_only_shape_delivery_leave_the_mapping_context_alone(
    tmp_path: Path, emulator: EmulatorProcess, target_config: dict[str, Any]
) -> None:
    """A rerun with another rejects_path or batch size keeps each record's source digest
    (its records are skipped before mapping); a payload setting changes it."""
    config = {**target_config, "sync_state_url": str(tmp_path / "sync.db")}
    users = [schema("users", {"email": {"type": "string"}}, ["email"])]
    users += [record("users", {"email": f"m{i}@x.io"}) for i in range(3)]

    def source_after(settings: dict[str, Any]) -> bytes | None:
        assert run_target(tmp_path, settings, users).returncode == 0
        store = SyncStore(str(tmp_path / "sync.db"), project_scope(emulator.api_key, emulator.url))
        source = store.lookup("users", ['"m0@x.io"'])['"m0@x.io"'].source
        store.close()
        return source

    first = source_after(config)
    assert first is not None
    moved = {**config, "rejects_path": str(tmp_path / "elsewhere.jsonl"), "users_batch_size": 7}
    assert source_after(moved) == first
    preferring = {**moved, "stream_options": {"users": {"prefer_user_id": True}}}
    assert source_after(preferring) != first
