"""Iterable's error envelope as exceptions the store and handlers raise.

Iterable answers errors with ``IterableApiResponse {code, msg, params}``; the
HTTP status goes with the code, so an error carries both and the HTTP layer only
serialises it (moto's models raise their service's errors the same way).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from iterable_emulator.field_types import Mismatch


class IterableError(Exception):
    """An answer other than success, in Iterable's envelope."""

    def __init__(
        self, status: int, code: str, msg: str, params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {msg}")
        self.status = status
        self.code = code
        self.msg = msg
        self.params = params

    def body(self) -> dict[str, Any]:
        return {"msg": self.msg, "code": self.code, "params": self.params}


def bad_params(msg: str) -> IterableError:
    return IterableError(400, "BadParams", msg)


def batch_too_large(msg: str) -> IterableError:
    return IterableError(400, "BatchTooLarge", msg)


def not_found(msg: str) -> IterableError:
    return IterableError(404, "NotFound", msg)


def types_mismatched(mismatches: list[Mismatch]) -> IterableError:
    """Iterable's answer when a value's type differs from its field's locked type.

    ``params.validationErrors`` maps each offending field path to
    ``{incomingTypes, expectedType, offendingValue, category}``. [observed]
    """
    described = "; ".join(
        f"{m.path}: expected {m.expected_type}, got {'/'.join(m.incoming_types)}"
        for m in mismatches
    )
    return IterableError(
        400,
        "RequestFieldsTypesMismatched",
        f"Request fields types do not match existing fields' types: {described}",
        {"validationErrors": {m.path: m.as_json() for m in mismatches}},
    )
