"""SQLite persistence shared by the store's models, and the field-type registry.

One connection behind one re-entrant lock: the HTTP server is threaded, and
Iterable's rules are easiest to keep when each request is applied as one
transaction, during which no other thread touches the database. A request that
breaks a rule rejecting the whole request is rolled back, so nothing of it is
written.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from iterable_emulator.errors import IterableError, types_mismatched
from iterable_emulator.field_types import Category, FieldKey, TypeCheck

# How many fields a (category, scope) may have; read at each check, so settings apply at once.
FieldLimits = Callable[[], Mapping[Category, int]]

Row = tuple[Any, ...]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    pk INTEGER PRIMARY KEY,
    -- Uniqueness depends on the project type (email-based projects do not enforce a
    -- unique userId, userId-based ones no unique email), so Users enforces it.
    email TEXT COLLATE NOCASE,
    user_id TEXT,
    data_fields TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS users_by_email ON users (email);
CREATE INDEX IF NOT EXISTS users_by_user_id ON users (user_id);
CREATE TABLE IF NOT EXISTS forgotten (
    kind TEXT NOT NULL,  -- "email" (stored lower-cased) or "userId"
    value TEXT NOT NULL,
    grp INTEGER NOT NULL DEFAULT 0,  -- identifiers forgotten together (one user) share it
    PRIMARY KEY (kind, value)
);
CREATE TABLE IF NOT EXISTS events (
    pk INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    event_name TEXT NOT NULL,
    user_pk INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_user ON events (user_pk, created_at);
CREATE TABLE IF NOT EXISTS catalogs (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS catalog_items (
    catalog TEXT NOT NULL,
    item_id TEXT NOT NULL,
    value TEXT NOT NULL,
    last_modified REAL NOT NULL,
    PRIMARY KEY (catalog, item_id)
);
CREATE TABLE IF NOT EXISTS field_types (
    category TEXT NOT NULL,
    scope TEXT NOT NULL,
    path TEXT NOT NULL,
    type TEXT NOT NULL,
    PRIMARY KEY (category, scope, path)
);
CREATE TABLE IF NOT EXISTS catalog_fields (  -- every field path an item brought, typed or not
    catalog TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (catalog, path)
);
CREATE TABLE IF NOT EXISTS lists (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS journeys (
    pk INTEGER PRIMARY KEY,
    workflow_id INTEGER NOT NULL,
    body TEXT NOT NULL  -- the journey as GET /_emulator/journeys shows it
);
CREATE TABLE IF NOT EXISTS sends (
    pk INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    campaign_id INTEGER NOT NULL,
    body TEXT NOT NULL  -- the send as GET /_emulator/sends shows it
);
"""
# Columns added since a table was first created: a --db file of an older emulator
# gets them on start-up (CREATE TABLE IF NOT EXISTS leaves an existing table alone).
_ADDED_COLUMNS = {"forgotten": {"grp": "INTEGER NOT NULL DEFAULT 0"}}
_TABLES = (
    "users",
    "forgotten",
    "events",
    "catalogs",
    "catalog_items",
    "catalog_fields",
    "field_types",
    "lists",
    "journeys",
    "sends",
)


def dumps(value: Any) -> str:
    """Compact JSON, the encoding Iterable's size limits are measured in."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Database:
    """The project's tables, and the types Iterable has locked for its fields."""

    def __init__(
        self, path: str, clock: Callable[[], float], field_limits: FieldLimits = dict
    ) -> None:
        self.clock = clock
        self.field_limits = field_limits
        self._lock = threading.RLock()
        self._depth = 0  # open transactions: nested ones are savepoints
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._connection.executescript(_SCHEMA)
        self._add_missing_columns()
        self.types: dict[FieldKey, str] = {
            (category, scope, path): type_
            for category, scope, path, type_ in self._connection.execute(
                "SELECT * FROM field_types"
            )
        }

    def _add_missing_columns(self) -> None:
        for table, columns in _ADDED_COLUMNS.items():
            present = {row[1] for row in self._connection.execute(f"PRAGMA table_info({table})")}
            for name, declaration in columns.items():
                if name not in present:
                    self._connection.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Apply one request atomically: any exception rolls all of it back.

        Nested (inside ``rehearsal``), it is a savepoint of the outer transaction.
        """
        with self._lock:
            nested = self._depth > 0
            begin, commit, rollback = (
                ("SAVEPOINT tx", ["RELEASE tx"], ["ROLLBACK TO tx", "RELEASE tx"])
                if nested
                else ("BEGIN", ["COMMIT"], ["ROLLBACK"])
            )
            self._connection.execute(begin)
            self._depth += 1
            try:
                yield
            except BaseException:
                for statement in rollback:
                    self._connection.execute(statement)
                raise
            finally:
                self._depth -= 1
            for statement in commit:
                self._connection.execute(statement)

    @contextmanager
    def rehearsal(self) -> Iterator[None]:
        """Run a write to learn its answer, then undo its data but keep its type locks.

        Asynchronous mode answers a write now and applies it later; Iterable
        checks field types when it answers (a mismatch is a synchronous 400
        [observed]), so the types a rehearsed write locks stay locked.
        """
        with self._lock:
            before = dict(self.types)
            self._connection.execute("BEGIN")
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                self._connection.execute("ROLLBACK")
                locked = {key: kind for key, kind in self.types.items() if key not in before}
                self.types = before
                self.add_types(locked)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Hold the lock across several reads so they see one state."""
        with self._lock:
            yield

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        with self._lock:
            return self._connection.execute(sql, tuple(params)).fetchall()

    def query_one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        with self._lock:
            row: Row | None = self._connection.execute(sql, tuple(params)).fetchone()
            return row

    def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement; return the row id it inserted, if any."""
        with self._lock:
            return self._connection.execute(sql, tuple(params)).lastrowid or 0

    def execute_many(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        with self._lock:
            self._connection.executemany(sql, [tuple(row) for row in rows])

    def lock_new_types(self, check: TypeCheck) -> None:
        """Refuse the request on any mismatch, else lock the types it introduced.

        Iterable locks a field's type on first write and a mismatch rejects the
        whole request: raising here, inside the request's transaction, rolls
        back everything the request wrote. Call it inside ``transaction()``.
        """
        if check.mismatches:
            raise types_mismatched(list(check.mismatches.values()))
        self.check_field_limits(check.new_types)
        self.add_types(check.new_types)

    def check_field_limits(self, new_types: Mapping[FieldKey, str]) -> None:
        """Refuse a request that would take a scope past its field limit.

        rule: user-field-limit, event-field-limit. Iterable documents the limits
        (1000 user fields per project, 8000 fields per event name) but not the
        answer; the emulator refuses the whole request, 400 UniqueFieldsLimitExceeded
        (the code the spec lists and catalogs use for their own limit).
        """
        limits = self.field_limits()
        grown = {key[:2] for key in new_types if key not in self.types and key[0] in limits}
        for category, scope in grown:
            fields = {k for k in (*self.types, *new_types) if k[:2] == (category, scope)}
            if len(fields) > limits[category]:
                where = f"event {scope}" if category == "event" else "the project's users"
                raise IterableError(
                    400,
                    "UniqueFieldsLimitExceeded",
                    f"{where} would have {len(fields)} fields; the limit is {limits[category]}",
                )

    def add_types(self, new_types: dict[FieldKey, str]) -> None:
        self.execute_many(
            "INSERT INTO field_types VALUES (?, ?, ?, ?)",
            [(*key, type_) for key, type_ in new_types.items()],
        )
        self.types.update(new_types)

    def drop_types(self, category: str, scope: str) -> None:
        self.execute("DELETE FROM field_types WHERE category = ? AND scope = ?", (category, scope))
        for key in [key for key in self.types if key[:2] == (category, scope)]:
            del self.types[key]

    def count(self, table: str) -> int:
        row = self.query_one(f"SELECT COUNT(*) FROM {table}")
        return int(row[0]) if row else 0

    def reset(self) -> None:
        with self.transaction():
            for table in _TABLES:
                self.execute(f"DELETE FROM {table}")
            self.types.clear()

    def close(self) -> None:
        with self._lock:
            self._connection.close()
