"""The HTTP layer: a WSGI app that turns requests into handler calls, Iterable-style.

For each API request, in order: the fault switches (which act before anything
is processed, so a faulted request changes no state), the ``Api-Key`` check,
the endpoint's rate limit, the 4 MB body limit (rule: body-4mb), JSON parsing
and validation against the spec's schema, then the handler, or, for Iterable's
asynchronous writes under a processing delay, the handler's rehearsal and a
place in ``pending``. Due pending writes are applied before any request.
Errors are answered in Iterable's envelope. ``/_emulator/`` endpoints skip all of it
but JSON parsing; the console's HTML pages (``console``) skip all of it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request, Response

from iterable_emulator import console
from iterable_emulator.calls import Call, Reply
from iterable_emulator.emulator import Emulator
from iterable_emulator.errors import IterableError, batch_too_large
from iterable_emulator.faults import FaultPlan
from iterable_emulator.pending import Pipeline, replay_of
from iterable_emulator.stats import Outcome
from iterable_emulator.urls import URL_MAP, Endpoint

# "Max size of request body: 4MB" [spec: bulkUpdate]. Iterable documents no
# status for a larger body; the emulator answers 400 BatchTooLarge.
MAX_BODY_BYTES = 4 * 1024 * 1024

BAD_API_KEY = {"msg": "Invalid API key", "code": "BadApiKey"}
RATE_LIMITED = {"msg": "Exceeded rate limit.", "code": "RateLimitExceeded"}
# WSGI environ key: when the request reached the server, as rate limits count it.
ARRIVED_AT = "iterable_emulator.arrived_at"
_SERVER_ERROR_TITLES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

logger = logging.getLogger("iterable_emulator")

StartResponse = Callable[..., Any]
_CONVERTER = re.compile(r"<(?:[^:>]+:)?([^>]+)>")  # werkzeug's <path:email>


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status, headers, mimetype="application/json")


def endpoint_name(method: str, rule: str) -> str:
    """``POST /api/catalogs/{catalogName}/items``: the spec's spelling of a route."""
    return method + " " + _CONVERTER.sub(r"{\1}", rule)


def _parse_json(body: bytes) -> tuple[Any, str | None]:
    """The parsed body, or why it is not JSON."""
    if not body:
        return None, "The request body is empty"
    try:
        return json.loads(body), None
    except (ValueError, UnicodeDecodeError) as error:
        return None, f"The request body is not valid JSON: {error}"


def _record_count(endpoint: Endpoint, body: Any) -> int:
    if endpoint.records is not None and isinstance(body, dict):
        records = body.get(endpoint.records)
        return len(records) if isinstance(records, list | dict) else 0
    return 1 if body is not None and endpoint.schema is not None else 0


def _server_error(plan: FaultPlan) -> Response:
    """An injected 5xx, shaped like Iterable's envelope or like an edge proxy's HTML page."""
    status = plan.error_status or 500
    title = f"{status} {_SERVER_ERROR_TITLES[status]}"
    if plan.error_as_html:
        page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
        return Response(page, status, mimetype="text/html")
    return json_response(status, {"msg": title, "code": "GenericError", "params": None})


def _answer(endpoint: Endpoint, call: Call) -> Reply:
    """The handler's reply, or the error it raised as Iterable's envelope."""
    try:
        return endpoint.handler(call)
    except IterableError as error:
        return Reply(error.status, error.body())
    except Exception:
        logger.exception("Handler %s failed", endpoint.handler.__name__)
        return Reply(500, {"msg": "The emulator failed; see its log", "code": "GenericError"})


def _drop_connection(environ: dict[str, Any]) -> Response:
    """Close the connection without answering: the client sees a connection error.

    Werkzeug's server hands the socket over in ``werkzeug.socket``; once it is
    shut down, writing the returned response fails and Werkzeug treats that as
    a client that went away. Outside that server there is no socket to cut.
    """
    connection = environ.get("werkzeug.socket")
    if connection is None:
        raise ConnectionAbortedError("connection dropped by the emulator's fault switches")
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    return Response(status=500)  # never delivered


@dataclass(frozen=True)
class Incoming:
    """One API request as read off the wire, before any of it is judged."""

    request: Request
    endpoint: Endpoint
    name: str  # "POST /api/catalogs/{catalogName}/items": what stats and limits count by
    path: Mapping[str, str]
    body: bytes
    parsed: Any
    json_error: str | None

    def call(self, emulator: Emulator) -> Call:
        return Call(emulator, self.parsed, self.request.args, self.path)


class EmulatorApp:
    """WSGI application serving one ``Emulator``."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        environ[ARRIVED_AT] = self.emulator.limiter.clock()
        # Writes whose processing time has come are visible to this request and after.
        self.emulator.pending.apply_due()
        request = Request(environ)
        page = console.page(self.emulator, request)  # HTML under /, served like /_emulator/
        if page is not None:
            return page(environ, start_response)
        try:
            rule, path = URL_MAP.bind_to_environ(environ).match(return_rule=True)
        except RequestRedirect as redirect:
            return redirect(environ, start_response)
        except NotFound:
            response = self._unmatched(
                request, 404, f"No endpoint {request.method} {request.path}", "NotFound"
            )
        except MethodNotAllowed:
            response = self._unmatched(
                request, 405, f"{request.method} is not allowed on {request.path}", "BadParams"
            )
        else:
            # Read the whole body first: even a dropped request has been sent in full.
            body = request.get_data()
            parsed, json_error = _parse_json(body)
            incoming = Incoming(
                request,
                rule.endpoint,
                endpoint_name(request.method, rule.rule),
                path,
                body,
                parsed,
                json_error,
            )
            response = self._admin(incoming) if incoming.endpoint.admin else self._api(incoming)
        return response(environ, start_response)

    def _unmatched(self, request: Request, status: int, msg: str, code: str) -> Response:
        """Answer a request no route takes, and log it: a loader calling a wrong URL shows."""
        body = request.get_data()
        record = self.emulator.stats.begin(
            request.method, request.path, f"{request.method} (no such endpoint)", body, 0
        )
        response = json_response(status, {"msg": msg, "code": code})
        self.emulator.stats.finish(record, status, "answered", response.get_data(as_text=True))
        return response

    def _admin(self, incoming: Incoming) -> Response:
        if incoming.body and incoming.json_error:
            return json_response(400, {"msg": incoming.json_error, "code": "BadJsonBody"})
        return self._reply(incoming.endpoint, incoming.call(self.emulator))

    def _api(self, incoming: Incoming) -> Response:
        request = incoming.request
        stats = self.emulator.stats
        record = stats.begin(
            request.method,
            request.path,
            incoming.name,
            incoming.body,
            _record_count(incoming.endpoint, incoming.parsed),
        )
        status: int | None = None
        answer: str | None = None
        outcome: Outcome = "answered"
        try:
            plan = self.emulator.faults.plan()
            if plan.delay_seconds:
                time.sleep(plan.delay_seconds)
            if plan.drop:
                outcome = "dropped"
                return _drop_connection(request.environ)
            if plan.throttle:
                response = self._rate_limited()
            elif plan.error_status is not None:
                response = _server_error(plan)
            else:
                response = self._process(incoming)
                if plan.drop_after_processing:
                    outcome = "dropped_after_processing"
                    return _drop_connection(request.environ)
            status = response.status_code
            answer = response.get_data(as_text=True)
            return response
        finally:
            stats.finish(record, status, outcome, answer)

    def _process(self, incoming: Incoming) -> Response:
        """Authenticate, rate-limit, check the body, run the handler."""
        endpoint, name, body = incoming.endpoint, incoming.name, incoming.body
        api_key = incoming.request.headers.get("Api-Key")
        if api_key not in self.emulator.api_keys:
            return json_response(401, BAD_API_KEY)
        limit = endpoint.limit
        if limit is not None:
            # Iterable counts catalog item calls per API key, the rest per project.
            key = f"{name} {api_key}" if limit.per_api_key else name
            arrived_at = incoming.request.environ.get(ARRIVED_AT)
            if not self.emulator.limiter.allow(key, limit, arrived_at):
                return self._rate_limited()
        try:
            if len(body) > MAX_BODY_BYTES:
                raise batch_too_large(
                    f"The request body is {len(body)} bytes; the maximum is {MAX_BODY_BYTES}"
                )
            if endpoint.schema is not None:
                if incoming.json_error is not None:
                    raise IterableError(400, "BadJsonBody", incoming.json_error)
                self.emulator.validator.validate(endpoint.schema, incoming.parsed)
        except IterableError as error:
            return json_response(error.status, error.body())
        return self._reply(endpoint, incoming.call(self.emulator))

    def _reply(self, endpoint: Endpoint, call: Call, name: str = "") -> Response:
        pending = self.emulator.pending
        if not (endpoint.deferred and pending.delay_ms > 0):
            reply = _answer(endpoint, call)
        else:
            # rule: async-writes. Answer from a rehearsal, apply the delay later.
            with pending.ordered():
                with call.store.rehearsal():
                    reply = _answer(endpoint, call)
                if 200 <= reply.status < 300:
                    replay = replay_of(call, endpoint.records, reply)
                    # rule: async-pipelines
                    pipeline: Pipeline = "bulk" if endpoint.records else "single"
                    pending.defer(name, lambda: endpoint.handler(replay), pipeline)
        return json_response(reply.status, reply.body)

    def _rate_limited(self) -> Response:
        """429 as Iterable sends it; ``Retry-After`` only when the switch asks for one."""
        retry_after = self.emulator.faults.switches.retry_after
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return json_response(429, RATE_LIMITED, headers)
