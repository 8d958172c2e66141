"""The emulator's console: HTML pages under ``/`` showing what a pipeline loaded.

Like moto's dashboard or LocalStack's resource browser, it is for people trying
pipelines without an Iterable account: users (with the types their fields
locked) and their events, catalogs and items, lists, and the recent API
requests with failures marked. Server-rendered with the standard library, no
JavaScript. Like ``/_emulator/*`` it needs no API key and is never faulted,
rate-limited or counted in the stats; it answers only loopback clients asking
for a loopback host name, so a web page elsewhere cannot read it through a DNS
name pointed at 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request, Response

from iterable_emulator.console import pages
from iterable_emulator.console.markup import document, paragraph
from iterable_emulator.emulator import Emulator

Page = Callable[..., str]

# Scripts may not run even if a value slipped through unescaped; inline CSS may.
_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}

_API_PREFIXES = ("/api/", "/_emulator/")


def _get(rule: str, view: Page | None) -> Rule:
    return Rule(rule, methods=["GET"], endpoint=view)


CONSOLE_MAP = Map(
    [
        _get("/", pages.overview),
        _get("/users", pages.users),
        # Iterable's own addressing: /api/users/{email}, /api/users/byUserId/{userId}
        _get("/users/byUserId/<path:user_id>", pages.user_by_user_id),
        _get("/users/<path:email>", pages.user_by_email),
        _get("/catalogs", pages.catalogs),
        _get("/catalogs/<name>", pages.catalog),
        _get("/lists", pages.lists),
        _get("/requests", pages.requests),
        # Browsers ask for it: answered (empty) so it is not logged as a wrong API call.
        _get("/favicon.ico", None),
    ],
    strict_slashes=False,
)


def page(emulator: Emulator, request: Request) -> Response | None:
    """The console's answer to ``request``, or None when it is not a console page."""
    if request.path.startswith(_API_PREFIXES):
        return None  # the hot path: API calls pay one string test, not a route match
    try:
        view, arguments = CONSOLE_MAP.bind_to_environ(request.environ).match(method=request.method)
    except RequestRedirect as redirect:
        return redirect.get_response(request.environ)
    except HTTPException:
        return None  # not a console page (or not a GET): the API's routes decide
    if not _from_loopback(request):
        return Response("The console answers loopback clients only.", 403, mimetype="text/plain")
    if view is None:
        return Response(status=204)
    return _render(view, emulator, request, arguments)


def _render(
    view: Page, emulator: Emulator, request: Request, arguments: Mapping[str, Any]
) -> Response:
    try:
        return Response(view(emulator, request, **arguments), 200, _HEADERS, mimetype="text/html")
    except pages.PageNotFound as missing:
        body = document("Not found", paragraph(str(missing)))
        return Response(body, 404, _HEADERS, mimetype="text/html")


def _from_loopback(request: Request) -> bool:
    """Both the peer and the host name asked for are loopback (DNS rebinding guard).

    No peer address means no network: the app called in-process (werkzeug's test client).
    """
    peer, host = request.remote_addr, urlsplit("//" + request.host).hostname or ""
    return (peer is None or _is_loopback(peer)) and (host == "localhost" or _is_loopback(host))


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
