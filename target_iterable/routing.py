"""Stream name (after stream maps) → the sink of the Iterable object it feeds.

Adding an Iterable object means one sink module and one entry in ``ROUTES``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from singer_sdk.sinks import Sink

from target_iterable.errors import UnknownStreamError
from target_iterable.sinks.catalog import CATALOG_STREAM_PREFIX, CatalogSink
from target_iterable.sinks.commerce import CartsSink, PurchasesSink
from target_iterable.sinks.devices import DevicesSink
from target_iterable.sinks.events import EventsSink
from target_iterable.sinks.lists import LIST_STREAM_PREFIX, ListSink
from target_iterable.sinks.messages import MessagesSink
from target_iterable.sinks.subscriptions import SubscriptionsSink
from target_iterable.sinks.users import UsersSink

# Catalog names: letters, digits and dashes, at most 255. [FACTS: Catalogs]
_CATALOG_NAME = re.compile(r"^[A-Za-z0-9-]{1,255}$")


@dataclass(frozen=True)
class Route:
    pattern: str
    matches: Callable[[str], bool]
    sink_class: type[Sink]


def _exact_or_prefixed(base: str) -> Callable[[str], bool]:
    return lambda name: name == base or name.startswith(f"{base}-")


ROUTES: tuple[Route, ...] = (
    Route("users, users-<anything>", _exact_or_prefixed("users"), UsersSink),
    Route("events, events-<anything>", _exact_or_prefixed("events"), EventsSink),
    Route(
        "catalog-<catalogName>",
        lambda name: name.startswith(CATALOG_STREAM_PREFIX),
        CatalogSink,
    ),
    Route("purchases", lambda name: name == "purchases", PurchasesSink),
    Route("carts", lambda name: name == "carts", CartsSink),
    Route("devices", lambda name: name == "devices", DevicesSink),
    Route(
        "list-<listId>",
        lambda name: (
            name.startswith(LIST_STREAM_PREFIX) and name[len(LIST_STREAM_PREFIX) :].isdigit()
        ),
        ListSink,
    ),
    Route("subscriptions", lambda name: name == "subscriptions", SubscriptionsSink),
    Route("messages", lambda name: name == "messages", MessagesSink),
)


def sink_class_for(stream_name: str) -> type[Sink]:
    """Route a stream, or raise UnknownStreamError naming the valid stream names."""
    for route in ROUTES:
        if route.matches(stream_name):
            if route.sink_class is CatalogSink:
                _check_catalog_name(stream_name[len(CATALOG_STREAM_PREFIX) :])
            return route.sink_class
    valid = "; ".join(route.pattern for route in ROUTES)
    raise UnknownStreamError(
        f"stream '{stream_name}' does not name an Iterable object. Valid stream names: "
        f"{valid}. Rename it with a stream map, e.g. "
        f'"stream_maps": {{"{stream_name}": {{"__alias__": "users"}}}}, '
        "or set skip_unknown_streams to ignore it."
    )


def _check_catalog_name(catalog: str) -> None:
    if not _CATALOG_NAME.match(catalog):
        raise UnknownStreamError(
            f"catalog name '{catalog}' is not valid: Iterable catalog names are 1-255 "
            "letters, digits or dashes"
        )
