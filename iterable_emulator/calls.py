"""The contract between the HTTP layer and the handlers: a ``Call`` in, a ``Reply`` out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from iterable_emulator.emulator import Emulator
    from iterable_emulator.store import Store


@dataclass(frozen=True)
class Call:
    """A request that passed authentication, rate limits and body validation."""

    emulator: Emulator
    body: Any  # the parsed JSON body (None without one)
    query: Mapping[str, str]
    path: Mapping[str, str]  # the route's path parameters

    @property
    def store(self) -> Store:
        return self.emulator.store


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # JSON-serialisable


Handler = Callable[[Call], Reply]


def success(msg: str, params: dict[str, Any] | None = None, status: int = 200) -> Reply:
    """Iterable's IterableApiResponse envelope with code ``Success``."""
    return Reply(status, {"msg": msg, "code": "Success", "params": params})
