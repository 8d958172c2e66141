"""One function per console page: read the store or the request log, render HTML.

Pages only read. They go through the store's own methods (the ones the API's
handlers use), so the console shows what Iterable's read endpoints would answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from werkzeug.wrappers import Request

from iterable_emulator.console.markup import (
    Cell,
    Html,
    Value,
    document,
    heading,
    href,
    link,
    paragraph,
    search_form,
    table,
)
from iterable_emulator.emulator import Emulator
from iterable_emulator.errors import IterableError
from iterable_emulator.field_types import field_values
from iterable_emulator.responses import MAX_EVENTS_LIMIT
from iterable_emulator.store import User
from iterable_emulator.store.values import iterable_date

USERS_SHOWN = 100
EVENTS_SHOWN = MAX_EVENTS_LIMIT  # as many as GET /api/events/{email} can return
ITEMS_PER_PAGE = 50
REQUESTS_SHOWN = 500


class PageNotFound(LookupError):
    """The page names a user or a catalog the project does not have."""


def _moment(seconds: Any) -> str:
    """Epoch seconds as Iterable prints dates; anything else as it was stored."""
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        return iterable_date(seconds)
    return str(seconds)


def _user_url(user: User) -> str:
    """Iterable's own addressing: by email when the user has one, else by userId."""
    if user.email is not None:
        return href("/users", user.email)
    return href("/users/byUserId", user.user_id or "")


def overview(emulator: Emulator, request: Request) -> str:
    """What landed, counted, and how the requests went."""
    summary = emulator.store.summary()
    total = emulator.stats.snapshot()["total"]
    failed = sum(total[name] for name in ("status_4xx", "status_429", "status_5xx", "dropped"))
    counts: list[tuple[Cell, Cell]] = [
        (link("/users", "users"), summary["users"]),
        ("events", summary["events"]),
        (link("/catalogs", "catalogs"), summary["catalogs"]),
        ("catalog items", summary["catalog_items"]),
        (link("/lists", "lists"), summary["lists"]),
        ("journeys triggered", summary["journeys"]),
        ("messages sent", summary["sends"]),
        ("forgotten identifiers", summary["forgotten_identifiers"]),
        (link("/requests", "API requests"), total["requests"]),
        (link(href("/requests", failed="1"), "failed requests"), failed),
    ]
    events = summary["events_per_name"].items()
    return document(
        "What landed",
        search_form("/users", ""),
        table(["", "count"], counts, [""] * (len(counts) - 1) + ["failed" if failed else ""]),
        heading("Events by name"),
        table(["eventName", "events"], list(events)),
    )


def users(emulator: Emulator, request: Request) -> str:
    """The users whose email or userId contains ``?q=``; without it, the latest updated."""
    query = request.args.get("q", "")
    found = emulator.store.users.search(query, USERS_SHOWN)
    total = emulator.store.summary()["users"]
    rows = [
        (
            link(_user_url(user), user.email or "(no email)"),
            user.user_id,
            len(user.data_fields),
            iterable_date(user.updated_at),
        )
        for user in found
    ]
    scope = f"matching {query!r}" if query else "most recently updated first"
    return document(
        "Users",
        search_form("/users", query),
        paragraph(f"{len(found)} shown ({scope}, at most {USERS_SHOWN}) of {total} users."),
        table(["email", "userId", "fields", "profileUpdatedAt"], rows),
    )


def user_by_email(emulator: Emulator, request: Request, email: str) -> str:
    return _user_page(emulator, emulator.store.users.find(email=email), email)


def user_by_user_id(emulator: Emulator, request: Request, user_id: str) -> str:
    return _user_page(emulator, emulator.store.users.find(user_id=user_id), user_id)


def _user_page(emulator: Emulator, user: User | None, named: str) -> str:
    """A profile: its fields with the types Iterable locked for them, and its events."""
    if user is None:
        raise PageNotFound(f"No user {named}")
    locked = emulator.store.users.field_types()
    events = emulator.store.events.for_user(
        email=user.email, user_id=user.user_id, limit=EVENTS_SHOWN
    )
    return document(
        user.email or user.user_id or named,
        table(
            ["email", "userId", "signupDate", "profileUpdatedAt"],
            [
                (
                    user.email,
                    user.user_id,
                    iterable_date(user.created_at),
                    iterable_date(user.updated_at),
                )
            ],
        ),
        heading("Fields"),
        paragraph("Types are locked project-wide by the first value a field gets.", muted=True),
        table(["field", "locked type", "value"], _field_rows(user.data_fields, locked)),
        heading(f"Events (most recent first, at most {EVENTS_SHOWN})"),
        table(
            ["createdAt", "eventName", "eventType", "id", "dataFields", "other fields"],
            _event_rows(events),
        ),
    )


def _field_rows(fields: Mapping[str, Any], locked: Mapping[str, str]) -> list[list[Cell]]:
    """One row per dotted path, nested ones included; a list of objects shows its first."""
    first_values = dict(reversed(list(field_values(fields))))
    return [
        [path, locked.get(path, "(none)"), Value(first_values[path])]
        for path in sorted(first_values)
    ]


# Shown in columns of their own, or already on the page (the user's identifiers).
_EVENT_COLUMNS = frozenset(
    {"id", "eventType", "eventName", "email", "userId", "createdAt", "dataFields"}
)


def _event_rows(events: list[dict[str, Any]]) -> list[list[Cell]]:
    return [
        [
            _moment(event.get("createdAt")),
            event.get("eventName"),
            event.get("eventType"),
            event.get("id"),
            Value(event.get("dataFields", {})),
            Value({k: v for k, v in event.items() if k not in _EVENT_COLUMNS}),
        ]
        for event in events
    ]


def catalogs(emulator: Emulator, request: Request) -> str:
    counts = emulator.store.summary()["items_per_catalog"]
    rows = [(link(href("/catalogs", name), name), count) for name, count in counts.items()]
    return document("Catalogs", table(["catalog", "items"], rows))


def catalog(emulator: Emulator, request: Request, name: str) -> str:
    """A catalog's field types and one page of its items, by item id."""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    store = emulator.store.catalogs
    try:
        defined, undefined = store.field_mappings(name)
        found = store.items(name, page=page, page_size=ITEMS_PER_PAGE)
    except IterableError as error:
        raise PageNotFound(f"No catalog {name}") from error
    items = [(item.item_id, _moment(item.last_modified), Value(item.value)) for item in found.items]
    pages = max((found.total + ITEMS_PER_PAGE - 1) // ITEMS_PER_PAGE, 1)
    return document(
        f"Catalog {name}",
        heading("Field types"),
        table(["field", "type"], sorted(defined.items())),
        paragraph("Fields only ever null or []: ", ", ".join(undefined) or "none", muted=True),
        heading(f"Items ({found.total}), page {page} of {pages}"),
        table(["itemId", "lastModified", "value"], items),
        _pager(href("/catalogs", name), page, pages),
    )


def _pager(url: str, page: int, pages: int) -> Html:
    links = []
    if page > 1:
        links.append(link(f"{url}?page={page - 1}", "← previous").text)
    if page < pages:
        links.append(link(f"{url}?page={page + 1}", "next →").text)
    return Html(f"<p>{' '.join(links)}</p>")


def lists(emulator: Emulator, request: Request) -> str:
    rows = [
        (found["id"], found["name"], found.get("description"), _moment(found["createdAt"] / 1000))
        for found in emulator.store.lists.all()
    ]
    return document("Lists", table(["listId", "name", "description", "createdAt"], rows))


def is_failure(entry: Mapping[str, Any]) -> bool:
    """Unanswered (dropped) or answered with anything but 2xx."""
    status = entry["status"]
    return status is None or not 200 <= status < 300


REQUEST_COLUMNS = [
    "time", "endpoint", "path", "records", "body bytes", "status", "outcome", "ms", "answer"
]  # fmt: skip


def requests(emulator: Emulator, request: Request) -> str:
    """The API requests, most recent first; failures marked, or alone with ``?failed=1``."""
    only_failed = request.args.get("failed") == "1"
    entries = [e for e in emulator.stats.requests() if not only_failed or is_failure(e)]
    shown = entries[::-1][:REQUESTS_SHOWN]
    rows = [_request_row(entry) for entry in shown]
    marks = ["failed" if is_failure(entry) else "" for entry in shown]
    switch = link("/requests", "all") if only_failed else link("/requests?failed=1", "failed only")
    return document(
        "Failed requests" if only_failed else "Requests",
        paragraph(f"{len(shown)} shown of {len(entries)}, most recent first. Show ", switch, "."),
        table(
            [
                "time",
                "endpoint",
                "path",
                "records",
                "body bytes",
                "status",
                "outcome",
                "ms",
                "answer",
            ],
            rows,
            marks,
        ),
    )


def _request_row(entry: Mapping[str, Any]) -> list[Cell]:
    moment = datetime.fromtimestamp(entry["time"], timezone.utc)
    return [
        moment.strftime("%H:%M:%S.%f")[:-3],
        entry["endpoint"],
        entry["path"],
        entry["records"],
        entry["body_bytes"],
        "—" if entry["status"] is None else entry["status"],
        entry["outcome"],
        entry["duration_ms"],
        entry.get("answer") or "",
    ]
