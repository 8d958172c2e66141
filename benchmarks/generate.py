"""Deterministic Singer input for the benchmarks, written as a stream (never all in memory)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

STATE_EVERY = 10_000

USERS_SCHEMA = {
    "type": "object",
    "properties": {
        "email": {"type": "string"},
        "userId": {"type": "string"},
        "first_name": {"type": ["string", "null"]},
        "last_name": {"type": ["string", "null"]},
        "signed_up_at": {"type": ["string", "null"], "format": "date-time"},
        "birthday": {"type": ["string", "null"], "format": "date"},
        "lifetime_value": {"type": ["number", "null"]},
        "visits": {"type": ["integer", "null"]},
        "vip": {"type": ["boolean", "null"]},
        "address": {
            "type": ["object", "null"],
            "properties": {
                "city": {"type": "string"},
                "country": {"type": "string"},
                "zip": {"type": "string"},
            },
        },
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
    },
}
EVENTS_SCHEMA = {
    "type": "object",
    "properties": {
        "event_uid": {"type": "integer"},
        "eventName": {"type": "string"},
        "email": {"type": "string"},
        "createdAt": {"type": "string", "format": "date-time"},
        "page": {"type": "string"},
        "amount": {"type": "number"},
    },
}
ITEMS_SCHEMA = {
    "type": "object",
    "properties": {
        "itemId": {"type": "string"},
        "name": {"type": "string"},
        "price": {"type": "number"},
        "in_stock": {"type": "boolean"},
        "category": {"type": "string"},
    },
}


def _line(out: IO[str], message: dict[str, Any]) -> None:
    out.write(json.dumps(message, separators=(",", ":")))
    out.write("\n")


def user(i: int) -> dict[str, Any]:
    return {
        "email": f"user{i}@example.com",
        "userId": f"u{i}",
        "first_name": "Ada",
        "last_name": f"Lovelace{i % 97}",
        "signed_up_at": f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}T12:30:45+02:00",
        "birthday": f"19{50 + i % 50}-07-14",
        "lifetime_value": round(i * 1.37 % 5000, 2),
        "visits": i % 300,
        "vip": i % 7 == 0,
        "address": {"city": "London", "country": "GB", "zip": f"N{i % 20} 9GU"},
        "tags": ["newsletter", f"cohort-{i % 10}"],
    }


def event(i: int, users: int) -> dict[str, Any]:
    return {
        "event_uid": i,
        "eventName": ("viewed", "clicked", "purchased")[i % 3],
        "email": f"user{i % max(users, 1)}@example.com",
        "createdAt": f"2024-03-{i % 28 + 1:02d}T08:{i % 60:02d}:00Z",
        "page": f"/products/{i % 500}",
        "amount": round(i % 1000 / 7, 2),
    }


def item(i: int) -> dict[str, Any]:
    return {
        "itemId": f"SKU-{i:07d}",
        "name": f"Product {i}",
        "price": round(5 + i % 200 * 0.99, 2),
        "in_stock": i % 5 != 0,
        "category": ("kitchen", "garden", "books")[i % 3],
    }


def write_input(path: Path, *, users: int = 0, events: int = 0, items: int = 0) -> int:
    """Write SCHEMA, RECORD and periodic STATE messages; return the record count.

    Users come first (trackBulk does not create users), then events, then items.
    """
    count = 0
    with path.open("w") as out:
        if users:
            _line(
                out,
                {
                    "type": "SCHEMA",
                    "stream": "users",
                    "schema": USERS_SCHEMA,
                    "key_properties": ["userId"],
                },
            )
        if events:
            _line(
                out,
                {
                    "type": "SCHEMA",
                    "stream": "events",
                    "schema": EVENTS_SCHEMA,
                    "key_properties": ["event_uid"],
                },
            )
        if items:
            _line(
                out,
                {
                    "type": "SCHEMA",
                    "stream": "catalog-bench",
                    "schema": ITEMS_SCHEMA,
                    "key_properties": ["itemId"],
                },
            )
        for stream, total, make in (
            ("users", users, user),
            ("events", events, lambda i: event(i, users)),
            ("catalog-bench", items, item),
        ):
            for i in range(total):
                _line(out, {"type": "RECORD", "stream": stream, "record": make(i)})
                count += 1
                if count % STATE_EVERY == 0:
                    _line(out, {"type": "STATE", "value": {"records": count}})
        _line(out, {"type": "STATE", "value": {"records": count}})
    return count
