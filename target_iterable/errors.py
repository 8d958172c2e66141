"""Exceptions the target raises, each carrying a message a user can act on.

The API key is never part of any message: the client builds messages from the
endpoint path and Iterable's ``code``/``msg`` only.
"""

from __future__ import annotations


class TargetIterableError(Exception):
    """Base class: any error the CLI reports as one clear line, without a traceback."""


class ConfigurationError(TargetIterableError):
    """A setting is missing, contradictory or unsafe."""


class UnknownStreamError(TargetIterableError):
    """A stream name (after stream maps) routes to no Iterable object."""


class IterableApiError(TargetIterableError):
    """Iterable answered a request with an error that retrying will not fix."""

    def __init__(
        self,
        endpoint: str,
        status: int | None,
        code: str | None,
        msg: str,
        params: object = None,
        *,
        attempts: int = 1,
        throttled: int = 0,
    ) -> None:
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.msg = msg
        self.params = params
        self.attempts = attempts
        self.throttled = throttled
        super().__init__(self.describe())

    def describe(self) -> str:
        status_text = f"HTTP {self.status}" if self.status is not None else "no response"
        code_text = f" {self.code}" if self.code else ""
        return f"Iterable refused {self.endpoint}: {status_text}{code_text}: {self.msg}"


class AuthenticationError(IterableApiError):
    """Iterable refused the API key (401/403): retrying cannot help."""


class RetriesExhaustedError(IterableApiError):
    """A retryable failure (429, 5xx, network) persisted past the attempt budget."""

    def describe(self) -> str:
        return (
            f"{self.endpoint} still failing after {self.attempts} attempts "
            f"(last: {self.msg}); Iterable or the network is unavailable, rerun later: "
            "the last STATE emitted is where a rerun resumes"
        )


class SingerInputError(TargetIterableError):
    """The Singer input cannot be processed further (named by line and stream)."""


class TerminationRequested(BaseException):
    """A termination signal arrived; raised in the main thread, between two messages,
    to stop reading (a BaseException: no ``except Exception`` may swallow it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum
