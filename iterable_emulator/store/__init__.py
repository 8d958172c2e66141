"""The model: one Iterable project's users, events, catalogs and lists, with its rules.

Like moto's ``models.py``: no HTTP here. Rules that refuse a request raise
``IterableError`` (status, code, message), per-record refusals come back as
``BulkOutcome``s, and the HTTP layer renders both. One model per Iterable
object, sharing one ``Database`` (SQLite, ``:memory:`` or a file).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from iterable_emulator.field_types import Category
from iterable_emulator.store.actions import Actions
from iterable_emulator.store.catalogs import Catalogs
from iterable_emulator.store.database import Database
from iterable_emulator.store.events import Events
from iterable_emulator.store.lists import Lists
from iterable_emulator.store.users import Users
from iterable_emulator.store.values import (
    FAILURE_LISTS,
    BulkOutcome,
    CatalogItem,
    Failure,
    Page,
    ProjectSettings,
    User,
)

__all__ = [
    "FAILURE_LISTS",
    "BulkOutcome",
    "CatalogItem",
    "Failure",
    "Page",
    "ProjectSettings",
    "Store",
    "User",
]


class Store:
    """One Iterable project."""

    def __init__(
        self,
        path: str = ":memory:",
        *,
        settings: ProjectSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings or ProjectSettings()
        self._db = Database(path, clock, self._field_limits)
        self.users = Users(self._db, self.settings)
        self.events = Events(self._db, self.users)
        self.catalogs = Catalogs(self._db)
        self.lists = Lists(self._db, self.users)
        self.actions = Actions(self._db, self.users, self.settings)

    def _field_limits(self) -> dict[Category, int]:
        return {
            "user": self.settings.user_field_limit,
            "event": self.settings.event_field_limit,
        }

    def rehearsal(self) -> AbstractContextManager[None]:
        """Run a write for its answer only (see ``Database.rehearsal``)."""
        return self._db.rehearsal()

    def reset(self) -> None:
        """Forget everything: users, events, catalogs, lists, journeys, sends and locked
        field types."""
        self._db.reset()

    def close(self) -> None:
        self._db.close()

    def summary(self) -> dict[str, Any]:
        """What landed, counted: for the demo, and for tests that check totals."""
        db = self._db
        with db.snapshot():
            items_per_catalog = db.query(
                "SELECT c.name, COUNT(i.item_id) FROM catalogs c"
                " LEFT JOIN catalog_items i ON i.catalog = c.key GROUP BY c.key ORDER BY c.key"
            )
            events_per_name = db.query(
                "SELECT event_name, COUNT(*) FROM events GROUP BY event_name ORDER BY event_name"
            )
            sends_per_channel = db.query(
                "SELECT channel, COUNT(*) FROM sends GROUP BY channel ORDER BY channel"
            )
            return {
                "users": db.count("users"),
                "events": db.count("events"),
                "catalogs": db.count("catalogs"),
                "catalog_items": db.count("catalog_items"),
                "lists": db.count("lists"),
                "forgotten_identifiers": db.count("forgotten"),
                "journeys": db.count("journeys"),
                "sends": db.count("sends"),
                "items_per_catalog": dict(items_per_catalog),
                "events_per_name": dict(events_per_name),
                "sends_per_channel": dict(sends_per_channel),
            }
