"""Stream name (after stream maps) → the sink of the Iterable object it feeds.

Adding an Iterable object means one mapping module, one adapter and one entry
in ``ROUTES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from singer_sdk.sinks import Sink

from target_iterable.adapters.actions import (
    JOURNEY_PREFIX,
    SEND_CHANNELS,
    EmailUpdateAction,
    JourneyAdapter,
    SendAdapter,
    UserActionsAdapter,
    UserMergesAdapter,
)
from target_iterable.adapters.catalog import CATALOG_STREAM_PREFIX, CatalogAdapter
from target_iterable.adapters.commerce import CartsAdapter, PurchasesAdapter
from target_iterable.adapters.devices import DevicesAdapter
from target_iterable.adapters.events import EventsAdapter
from target_iterable.adapters.lists import LIST_STREAM_PREFIX, ListAdapter
from target_iterable.adapters.subscriptions import SubscriptionsAdapter
from target_iterable.adapters.users import UsersAdapter
from target_iterable.errors import UnknownStreamError
from target_iterable.iterable.limits import CATALOG_NAME_OR_ITEM_ID
from target_iterable.sinks.base import object_sink
from target_iterable.sinks.messages import MessagesSink


@dataclass(frozen=True)
class Route:
    pattern: str
    matches: Callable[[str], bool]
    sink_class: type[Sink]


def _exact_or_prefixed(base: str) -> Callable[[str], bool]:
    return lambda name: name == base or name.startswith(f"{base}-")


def _exactly(base: str) -> Callable[[str], bool]:
    return lambda name: name == base


def _numbered(prefix: str) -> Callable[[str], bool]:
    """``<prefix><digits>``: a list, a workflow or a campaign, by its Iterable id."""
    return lambda name: name.startswith(prefix) and name[len(prefix) :].isdigit()


ROUTES: tuple[Route, ...] = (
    Route("users, users-<anything>", _exact_or_prefixed("users"), object_sink(UsersAdapter)),
    Route("events, events-<anything>", _exact_or_prefixed("events"), object_sink(EventsAdapter)),
    Route(
        "catalog-<catalogName>",
        lambda name: name.startswith(CATALOG_STREAM_PREFIX),
        object_sink(CatalogAdapter),
    ),
    Route("purchases", _exactly("purchases"), object_sink(PurchasesAdapter)),
    Route("carts", _exactly("carts"), object_sink(CartsAdapter)),
    Route("devices", _exactly("devices"), object_sink(DevicesAdapter)),
    Route("list-<listId>", _numbered(LIST_STREAM_PREFIX), object_sink(ListAdapter)),
    Route("subscriptions", _exactly("subscriptions"), object_sink(SubscriptionsAdapter)),
    Route("messages", _exactly("messages"), MessagesSink),
    # Actions: one call per record, at most once per key and payload.
    Route("journey-<workflowId>", _numbered(JOURNEY_PREFIX), object_sink(JourneyAdapter)),
    Route(
        "send-email|push|sms|in-app|web-push|whatsapp-<campaignId>",
        lambda name: any(_numbered(prefix)(name) for prefix in SEND_CHANNELS),
        object_sink(SendAdapter),
    ),
    Route("email-updates", _exactly("email-updates"), object_sink(EmailUpdateAction)),
    Route("user-merges", _exactly("user-merges"), object_sink(UserMergesAdapter)),
    Route("user-actions", _exactly("user-actions"), object_sink(UserActionsAdapter)),
)


def sink_class_for(stream_name: str) -> type[Sink]:
    """Route a stream, or raise UnknownStreamError naming the valid stream names."""
    for route in ROUTES:
        if route.matches(stream_name):
            if stream_name.startswith(CATALOG_STREAM_PREFIX):
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
    """createCatalog: catalog names are letters, digits and dashes, at most 255."""
    if not CATALOG_NAME_OR_ITEM_ID.match(catalog):
        raise UnknownStreamError(
            f"catalog name '{catalog}' is not valid: Iterable catalog names are 1-255 "
            "letters, digits or dashes"
        )
