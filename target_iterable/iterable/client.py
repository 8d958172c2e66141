"""The one HTTP client for Iterable's API.

It owns the base URL, the ``Api-Key`` header, timeouts, retries and the
translation of Iterable's error envelope into typed exceptions. Sinks call
domain methods (``bulk_update_users``…) and never see HTTP details. The key
lives only in the session headers: no message, log line or exception built
here contains it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import backoff
import orjson
import requests
from requests.adapters import HTTPAdapter

from target_iterable.errors import AuthenticationError, IterableApiError, RetriesExhaustedError
from target_iterable.iterable.limits import (
    ACTIONS,
    CATALOG_ITEMS,
    DEVICE_TOKENS,
    EVENTS_TRACK_BULK,
    RATE_SAFETY_MARGIN,
    USER_DELETES,
    USER_FIELDS,
    USER_FORGETS,
    USER_MERGES,
    USER_READS,
    USER_UNFORGETS,
    USERS_BULK_UPDATE,
)
from target_iterable.iterable.rate_limit import RateLimiter
from target_iterable.iterable.retry import RetryPolicy, parse_retry_after

logger = logging.getLogger("target-iterable.client")

USER_AGENT = "target-iterable (Meltano Singer SDK)"


@dataclass
class ApiResponse:
    """A final (non-retryable) answer from Iterable."""

    status: int
    body: dict[str, Any]
    attempts: int = 1
    throttled: int = 0
    # A dry run's stand-in answer: the request was written to the plan, not sent.
    planned: bool = False

    @property
    def code(self) -> str | None:
        code = self.body.get("code")
        return code if isinstance(code, str) else None

    @property
    def msg(self) -> str:
        return str(self.body.get("msg") or "")


@dataclass
class _Call:
    """One logical request, and its attempts and 429s across retries."""

    method: str
    path: str
    body: bytes | None
    params: Mapping[str, str] | None
    limiter: RateLimiter | None
    attempts: int = 0
    throttled: int = 0

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path}"


class _RetryableFailure(Exception):
    """One attempt failed in a way worth retrying (429, 5xx, network)."""

    def __init__(self, description: str, response: ApiResponse | None, retry_after: float | None):
        super().__init__(description)
        self.description = description
        self.response = response
        self.retry_after = retry_after


@dataclass
class ClientSettings:
    """Everything the client needs, resolved from the target's settings."""

    api_key: str
    base_url: str
    region: str
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    pool_size: int = 16
    # Requests per second per rate-limited endpoint; an endpoint not listed is not paced.
    rate_limits: Mapping[str, float] = field(default_factory=dict)


# Faults of the connection or of the answer's transfer: the request may or may not
# have reached Iterable, so it is sent again (every write the target makes is an
# idempotent upsert: users by identity, events and purchases by id, items by itemId).
NETWORK_FAULTS: tuple[type[Exception], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def _decode_body(response: requests.Response) -> dict[str, Any] | None:
    """Iterable's JSON envelope; None when the body is not a JSON object.

    Iterable answers every API call with a JSON object (IterableApiResponse or the
    endpoint's response model), so anything else came from something in between
    (a proxy's HTML page, a truncated body): on a 2xx it is no acknowledgement.
    """
    try:
        body = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


class RequestRecorder(Protocol):
    """Where a dry run's write requests go instead of Iterable (delivery.plan.PlanFile)."""

    def record(self, method: str, path: str, body: bytes | None) -> None: ...


# What a planned write "answers": accepted, with no per-record failure.
PLANNED = {"msg": "planned (dry run): not sent", "code": "Success"}


class IterableClient:
    """Thread-safe: one session shared by every sink, pooled connections.

    With a ``recorder`` (a dry run), every request but a GET is recorded instead
    of sent, and answered as accepted; reads still go to Iterable.
    """

    def __init__(
        self,
        settings: ClientSettings,
        session: requests.Session | None = None,
        recorder: RequestRecorder | None = None,
    ) -> None:
        self.settings = settings
        self.recorder = recorder
        self._session = session or requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=settings.pool_size, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._limiters = {
            name: RateLimiter(rate * RATE_SAFETY_MARGIN)
            for name, rate in settings.rate_limits.items()
            if rate > 0
        }
        self._refused: AuthenticationError | None = None
        self._session.headers.update(
            {
                "Api-Key": settings.api_key,
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            }
        )

    # Domain methods -----------------------------------------------------------------

    def bulk_update_users(self, body: bytes) -> ApiResponse:
        return self.request("POST", "/api/users/bulkUpdate", body=body, paced=USERS_BULK_UPDATE)

    def track_events(self, body: bytes) -> ApiResponse:
        return self.request("POST", "/api/events/trackBulk", body=body, paced=EVENTS_TRACK_BULK)

    def upsert_catalog_items(self, catalog: str, body: bytes) -> ApiResponse:
        return self.request(
            "POST", f"/api/catalogs/{quote(catalog)}/items", body=body, paced=CATALOG_ITEMS
        )

    def track_purchase(self, body: bytes) -> ApiResponse:
        return self.request("POST", "/api/commerce/trackPurchase", body=body)

    def update_cart(self, body: bytes) -> ApiResponse:
        return self.request("POST", "/api/commerce/updateCart", body=body)

    def register_device_token(self, body: bytes) -> ApiResponse:
        return self.request(
            "POST", "/api/users/registerDeviceToken", body=body, paced=DEVICE_TOKENS
        )

    def register_browser_token(self, body: bytes) -> ApiResponse:
        return self.request("POST", "/api/users/registerBrowserToken", body=body)

    def subscribe_to_list(self, body: bytes) -> ApiResponse:
        return self.request("POST", "/api/lists/subscribe", body=body)

    def unsubscribe_from_list(self, body: bytes) -> ApiResponse:
        return self.request("POST", "/api/lists/unsubscribe", body=body)

    def bulk_update_subscriptions(self, body: bytes) -> ApiResponse:
        return self.request("POST", "/api/users/bulkUpdateSubscriptions", body=body)

    def user_exists(self, *, email: str | None, user_id: str | None) -> bool:
        """Whether Iterable knows the user (it answers ``{}`` for an unknown one)."""
        if email is not None:
            response = self.request(
                "GET", "/api/users/getByEmail", params={"email": email}, paced=USER_READS
            )
        else:
            response = self.request("GET", _by_user_id(user_id), paced=USER_READS)
        if response.status == 404:
            return False
        raise_for_request_error(f"GET user {email or user_id}", response)
        return bool(response.body.get("user"))

    def delete_catalog_items(self, catalog: str, body: bytes) -> ApiResponse:
        return self.request(
            "DELETE", f"/api/catalogs/{quote(catalog)}/items", body=body, paced=CATALOG_ITEMS
        )

    def delete_user(self, *, email: str | None, user_id: str | None) -> ApiResponse:
        path = f"/api/users/{quote(email, safe='@')}" if email is not None else _by_user_id(user_id)
        return self.request("DELETE", path, paced=USER_DELETES)

    def forget_user(self, body: bytes) -> ApiResponse:
        return self.request("POST", "/api/users/forget", body=body, paced=USER_FORGETS)

    def update_email(self, body: bytes) -> ApiResponse:
        """POST /api/users/updateEmail (updateEmail: no documented rate limit)."""
        return self.request("POST", "/api/users/updateEmail", body=body)

    def trigger_workflow(self, body: bytes) -> ApiResponse:
        return self.request("POST", "/api/workflows/triggerWorkflow", body=body, paced=ACTIONS)

    def send_to_recipient(self, channel_path: str, body: bytes) -> ApiResponse:
        """POST /api/<channel>/target (email, push, sms, inApp, webPush, whatsApp)."""
        return self.request("POST", f"/api/{channel_path}/target", body=body, paced=ACTIONS)

    def merge_users(self, body: bytes) -> ApiResponse:
        return self.request("POST", "/api/users/merge", body=body, paced=USER_MERGES)

    def unforget_user(self, body: bytes) -> ApiResponse:
        return self.request("POST", "/api/users/unforget", body=body, paced=USER_UNFORGETS)

    def put_catalog_field_mappings(self, catalog: str, body: bytes) -> ApiResponse:
        return self.request("PUT", f"/api/catalogs/{quote(catalog)}/fieldMappings", body=body)

    def create_catalog(self, catalog: str) -> ApiResponse:
        return self.request("POST", f"/api/catalogs/{quote(catalog)}")

    def get_user_fields(self) -> dict[str, str]:
        """GET /api/users/getFields: the project's user fields and the type Iterable
        locked for each, by dotted path (getUserFields, 3 requests/s)."""
        response = self.request("GET", "/api/users/getFields", paced=USER_FIELDS)
        raise_for_request_error("GET /api/users/getFields", response)
        fields = response.body.get("fields")
        return (
            {path: kind for path, kind in fields.items() if isinstance(kind, str)}
            if isinstance(fields, dict)
            else {}
        )

    def get_catalog_field_mappings(self, catalog: str) -> ApiResponse:
        """GET the catalog's field mappings; Iterable answers 404 when it does not exist."""
        return self.request("GET", f"/api/catalogs/{quote(catalog)}/fieldMappings")

    # Transport ----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        paced: str | None = None,
    ) -> ApiResponse:
        """Send one request, retrying per the policy; return the final 2xx/4xx answer.

        ``paced`` names the rate limit every attempt (retries included) waits for.

        Raises AuthenticationError on 401/403 (never retried) and
        RetriesExhaustedError when retryable failures outlast the attempt budget.
        Other 4xx answers are returned for the caller to interpret per record.
        """
        if self.recorder is not None and method != "GET":
            self.recorder.record(method, path, body)
            return ApiResponse(200, dict(PLANNED), planned=True)
        call = _Call(method, path, body, params, self._limiters.get(paced or ""))
        endpoint = call.endpoint
        policy = self.settings.retry

        def log_retry(details: Any) -> None:
            failure: _RetryableFailure = details["exception"]
            logger.warning(
                "%s: %s; retry %d/%d in %.1fs",
                endpoint,
                failure.description,
                details["tries"],
                policy.max_attempts - 1,
                details["wait"],
            )

        send = backoff.on_exception(
            policy.wait_times,
            _RetryableFailure,
            max_tries=policy.max_attempts,
            jitter=None,
            on_backoff=log_retry,
            logger=None,  # log_retry says it once, in our words
        )(self._attempt)
        try:
            response = send(call)
        except _RetryableFailure as exc:
            last = exc.response
            raise RetriesExhaustedError(
                endpoint,
                last.status if last else None,
                last.code if last else None,
                exc.description,
                attempts=call.attempts,
                throttled=call.throttled,
            ) from None
        response.attempts = call.attempts
        response.throttled = call.throttled
        return response

    def _attempt(self, call: _Call) -> ApiResponse:
        call.attempts += 1
        endpoint = call.endpoint
        limiter = call.limiter
        granted_at = limiter.acquire() if limiter is not None else 0.0
        if self._refused is not None:
            # The key was refused once: no other request is sent with it.
            raise self._refused
        try:
            raw = self._session.request(
                call.method,
                self.settings.base_url + call.path,
                data=call.body,
                params=call.params,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout),
            )
        except NETWORK_FAULTS as exc:
            raise _RetryableFailure(f"network error ({type(exc).__name__})", None, None) from None
        body = _decode_body(raw)
        if body is None and raw.status_code < 300:
            # Not Iterable's answer: the records are not known to be accepted.
            raise _RetryableFailure(
                f"HTTP {raw.status_code} with a body that is not Iterable's JSON answer "
                f"({raw.headers.get('Content-Type') or 'no content type'}, "
                f"{len(raw.content)} bytes)",
                None,
                None,
            )
        response = ApiResponse(
            raw.status_code, body if body is not None else {"msg": raw.text[:300].strip()}
        )
        if raw.status_code in (401, 403):
            self._refused = AuthenticationError(
                endpoint,
                raw.status_code,
                response.code,
                f"Iterable refused the API key for region '{self.settings.region}' "
                f"({self.settings.base_url}); check api_key and region: a key works only "
                f"in its own data centre",
            )
            raise self._refused
        if self.settings.retry.is_retryable_status(raw.status_code):
            if raw.status_code == 429:
                call.throttled += 1
                if limiter is not None:
                    limiter.on_throttled(granted_at)
            code = f" {response.code}" if response.code else ""
            raise _RetryableFailure(
                f"HTTP {raw.status_code}{code}",
                response,
                parse_retry_after(raw.headers.get("Retry-After")),
            )
        if limiter is not None and raw.status_code < 300:
            limiter.on_success()
        return response


def _by_user_id(user_id: str | None) -> str:
    """The path of a user named by userId (any character escaped, slashes included)."""
    return f"/api/users/byUserId/{quote(str(user_id), safe='')}"


def raise_for_request_error(endpoint: str, response: ApiResponse) -> None:
    """Turn a non-2xx answer into an IterableApiError (callers that cannot split)."""
    if response.status >= 300:
        raise IterableApiError(
            endpoint, response.status, response.code, response.msg, response.body.get("params")
        )
