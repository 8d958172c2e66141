"""The console's HTML, built from escaped parts only.

Every value shown comes from what a loader sent (emails, field names, event
names, item ids) and may hold markup; ``Html`` marks text already escaped or
written here, and everything else goes through ``html.escape`` on its way in.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

LONG_VALUE = 300  # characters of a value shown; the rest is cut, marked with "…"

_STYLE = """
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: .5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.value { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; }
tr.failed td { background: #fde2e2; }
.muted { color: #777; }
"""


@dataclass(frozen=True)
class Html:
    """Markup that is safe as it is: built here, or from escaped values."""

    text: str


@dataclass(frozen=True)
class Value:
    """A field value, shown as its JSON in a monospace cell."""

    data: Any


Text = str | int | float | None | Html
Cell = Text | Value


def escape(value: Text) -> str:
    """A value as HTML text: markup is kept, anything else escaped (quotes too)."""
    if isinstance(value, Html):
        return value.text
    return html.escape("" if value is None else str(value), quote=True)


def json_text(value: Any) -> str:
    """A field value as its JSON, so ``"5"`` and ``5`` read apart; long ones cut."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= LONG_VALUE else text[:LONG_VALUE] + "…"


def href(path: str, *segments: str, **query: str) -> str:
    """A console URL: ``segments`` percent-encoded (an email or an id may hold ``/``)."""
    url = path + "".join("/" + quote(segment, safe="@") for segment in segments)
    return url + ("?" + urlencode(query) if query else "")


def link(url: str, label: Text) -> Html:
    return Html(f'<a href="{escape(url)}">{escape(label)}</a>')


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Cell]], row_classes: Iterable[str] = ()
) -> Html:
    """A table; ``row_classes`` marks rows (``failed``), in order, as long as it lasts."""
    classes = iter(row_classes)
    head = "".join(f"<th>{escape(name)}</th>" for name in headers)
    body = []
    for row in rows:
        marked = next(classes, "")
        attribute = f' class="{escape(marked)}"' if marked else ""
        cells = "".join(_cell(value) for value in row)
        body.append(f"<tr{attribute}>{cells}</tr>")
    if not body:
        return paragraph("Nothing yet.", muted=True)
    return Html(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def _cell(value: Cell) -> str:
    if isinstance(value, Value):
        return f'<td class="value">{escape(json_text(value.data))}</td>'
    return f"<td>{escape(value)}</td>"


def heading(text: Text, level: int = 2) -> Html:
    return Html(f"<h{level}>{escape(text)}</h{level}>")


def paragraph(*parts: Text, muted: bool = False) -> Html:
    attribute = ' class="muted"' if muted else ""
    return Html(f"<p{attribute}>{''.join(escape(part) for part in parts)}</p>")


def search_form(action: str, query: str) -> Html:
    return Html(
        f'<form method="get" action="{escape(action)}">'
        f'<input type="search" name="q" value="{escape(query)}" size="40"'
        ' placeholder="email or userId contains…"> <button>Search</button></form>'
    )


NAVIGATION = (
    ("/", "Overview"),
    ("/users", "Users"),
    ("/catalogs", "Catalogs"),
    ("/lists", "Lists"),
    ("/requests", "Requests"),
)


def document(title: str, *parts: Html) -> str:
    """The whole page: navigation, a title, the parts."""
    nav = " ".join(link(url, label).text for url, label in NAVIGATION)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)} · iterable-emulator</title><style>{_STYLE}</style></head>"
        f"<body><nav>{nav}</nav><h1>{escape(title)}</h1>"
        f"{''.join(part.text for part in parts)}</body></html>"
    )
