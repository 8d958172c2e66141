"""Deterministic Singer input for the benchmarks, written as a stream.

Records are made one at a time and written straight to the file, so a 1M-record
input costs no memory. The same arguments always give the same bytes (one seeded
random generator), so figures from different runs read the same input.

Streams come one after the other, the way taps emit them: users, then events
(each naming a generated user, since trackBulk does not create users), then
catalog items. A STATE message follows every ``STATE_EVERY`` records.

    python -m benchmarks.generate out.jsonl --users 1000 --events 2000 --items 100
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

STATE_EVERY = 10_000
DEFAULT_SEED = 20_241_125
CATALOG_STREAM = "catalog-products"

_NULLABLE_STRING = {"type": ["string", "null"]}
USERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "email": {"type": "string"},
        "userId": {"type": "string"},
        "first_name": _NULLABLE_STRING,
        "last_name": _NULLABLE_STRING,
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
    "required": ["email"],
}
EVENTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "event_uid": {"type": "string"},
        "eventName": {"type": "string"},
        "email": {"type": "string"},
        "createdAt": {"type": "string", "format": "date-time"},
        "page": _NULLABLE_STRING,
        "amount": {"type": ["number", "null"]},
        "quantity": {"type": ["integer", "null"]},
        "referrer": _NULLABLE_STRING,
    },
    "required": ["event_uid", "eventName", "email"],
}
ITEMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "itemId": {"type": "string"},
        "name": {"type": "string"},
        "price": {"type": "number"},
        "in_stock": {"type": "boolean"},
        "category": {"type": "string"},
    },
    "required": ["itemId"],
}

_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson")
_CITIES = (("London", "GB"), ("Paris", "FR"), ("Berlin", "DE"), ("Austin", "US"), ("Lyon", "FR"))
_TAGS = ("newsletter", "beta", "mobile", "web", "promo", "churn-risk", "loyal")
_EVENT_NAMES = ("page_viewed", "product_clicked", "added_to_cart", "checkout_started")
_REFERRERS = ("google", "newsletter", "direct", "partner", None)
_CATEGORIES = ("kitchen", "garden", "books", "toys", "sports")
_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def user_email(index: int) -> str:
    """The email of generated user ``index``: unique per index, so each is a profile."""
    return f"user{index:07d}@example.com"


@dataclass
class Counts:
    """How many records of each stream an input holds."""

    users: int = 0
    events: int = 0
    items: int = 0

    @property
    def total(self) -> int:
        return self.users + self.events + self.items

    def final_state(self) -> dict[str, Any]:
        """The value of the input's last STATE: a target that read it all emits it last."""
        streams = (("users", self.users), ("events", self.events), (CATALOG_STREAM, self.items))
        return {"bookmarks": {name: {"position": n} for name, n in streams if n}}


class RecordMaker:
    """Makes the records; one seeded generator, so the output is reproducible."""

    def __init__(self, seed: int, user_population: int) -> None:
        self.random = random.Random(seed)
        self.user_population = user_population

    def user(self, index: int) -> dict[str, Any]:
        r = self.random
        city, country = r.choice(_CITIES)
        signed_up = _EPOCH + dt.timedelta(seconds=r.randrange(365 * 86_400))
        return {
            "email": user_email(index),
            "userId": f"u{index:07d}",
            "first_name": r.choice(_FIRST),
            "last_name": r.choice(_LAST),
            "signed_up_at": signed_up.isoformat(),
            "birthday": f"{r.randrange(1950, 2006)}-{r.randrange(1, 13):02d}-"
            f"{r.randrange(1, 29):02d}",
            "lifetime_value": round(r.uniform(0, 5000), 2),
            "visits": r.randrange(1000),
            "vip": r.random() < 0.1,
            "address": {"city": city, "country": country, "zip": f"{r.randrange(100_000):05d}"},
            "tags": r.sample(_TAGS, r.randrange(4)),
        }

    def event(self, index: int) -> dict[str, Any]:
        r = self.random
        created = _EPOCH + dt.timedelta(seconds=index * 7 + r.randrange(7))
        return {
            "event_uid": f"evt-{index:08d}",
            "eventName": r.choice(_EVENT_NAMES),
            "email": user_email(r.randrange(self.user_population)),
            "createdAt": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "page": f"/products/{r.randrange(5000)}",
            "amount": round(r.uniform(1, 500), 2),
            "quantity": r.randrange(1, 6),
            "referrer": r.choice(_REFERRERS),
        }

    def item(self, index: int) -> dict[str, Any]:
        r = self.random
        return {
            "itemId": f"SKU-{index:06d}",
            "name": f"Product {index}",
            "price": round(r.uniform(1, 300), 2),
            "in_stock": r.random() < 0.8,
            "category": r.choice(_CATEGORIES),
        }


def _write(out: IO[str], message: dict[str, Any]) -> None:
    out.write(json.dumps(message, separators=(",", ":")))
    out.write("\n")


def _messages(
    counts: Counts, maker: RecordMaker
) -> Iterator[tuple[str, int, Callable[[int], dict[str, Any]], dict[str, Any], list[str]]]:
    yield "users", counts.users, maker.user, USERS_SCHEMA, ["email"]
    yield "events", counts.events, maker.event, EVENTS_SCHEMA, ["event_uid"]
    yield CATALOG_STREAM, counts.items, maker.item, ITEMS_SCHEMA, ["itemId"]


def write_input(
    path: Path,
    *,
    users: int = 0,
    events: int = 0,
    items: int = 0,
    user_population: int | None = None,
    seed: int = DEFAULT_SEED,
    changed_every: int = 0,
) -> Counts:
    """Write SCHEMA, RECORD and STATE messages to ``path``; return the counts.

    Events name users drawn from the first ``user_population`` generated users
    (default: the users of this same file), so they exist when events arrive.
    With ``changed_every`` = k, every k-th user differs from the same seed's
    default in one field (a re-run's changed rows, for change detection).
    """
    population = user_population if user_population is not None else users
    if events and population < 1:
        raise ValueError("events need users: pass users or user_population")
    counts = Counts(users, events, items)
    maker = RecordMaker(seed, max(population, 1))
    written = 0
    bookmarks: dict[str, Any] = {}
    with path.open("w", encoding="utf-8") as out:
        for stream, total, make, schema, keys in _messages(counts, maker):
            if not total:
                continue
            _write(
                out, {"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": keys}
            )
            for index in range(total):
                made = make(index)
                if changed_every and stream == "users" and index % changed_every == 0:
                    made["visits"] += 1000  # visits are below 1000: always a change
                _write(out, {"type": "RECORD", "stream": stream, "record": made})
                written += 1
                if written % STATE_EVERY == 0:
                    bookmarks[stream] = {"position": index + 1}
                    _write(out, {"type": "STATE", "value": {"bookmarks": bookmarks}})
            bookmarks[stream] = {"position": total}
        _write(out, {"type": "STATE", "value": {"bookmarks": bookmarks}})
    return counts


def main() -> None:
    """Write an input file by hand, to replay one benchmark run outside the harness."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--users", type=int, default=0)
    parser.add_argument("--events", type=int, default=0)
    parser.add_argument("--items", type=int, default=0)
    parser.add_argument("--user-population", type=int, default=None)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    counts = write_input(
        args.path,
        users=args.users,
        events=args.events,
        items=args.items,
        user_population=args.user_population,
        seed=args.seed,
    )
    print(f"{counts.total} records written to {args.path}")


if __name__ == "__main__":
    main()
