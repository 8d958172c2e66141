"""Request bodies checked against the schemas of Iterable's own API description.

``spec_schemas.json`` is extracted from Iterable's OpenAPI (Swagger 2.0) file
by ``tools/extract_spec_schemas.py`` and shipped in the package, so the
emulator refuses exactly the malformed bodies the spec describes (a missing
``eventName``, a string ``createdAt``…) with 400 ``BadParams``. Swagger 2.0
schemas are JSON Schema draft 4: an integer field refuses ``1.0``.

jsonschema is the authority and writes every error message, but it spends some
60 µs per record: a thousand-event trackBulk body would take longer to validate
than Iterable's 10 requests/s allow. So each definition also gets a compiled
check of the few keywords the spec uses; a body that check accepts is valid
(the tests hold the two to the same verdicts), anything else goes to jsonschema.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError

from iterable_emulator.errors import bad_params

SCHEMAS_RESOURCE = "spec_schemas.json"
REF_PREFIX = "#/definitions/"

Check = Callable[[Any], bool]

# Draft 4 types, for values json.loads produced (so exact classes; bool is not an integer).
_TYPE_CHECKS: dict[str, Check] = {
    "object": lambda value: type(value) is dict,
    "array": lambda value: type(value) is list,
    "string": lambda value: type(value) is str,
    "integer": lambda value: type(value) is int,
    "number": lambda value: type(value) is int or type(value) is float,
    "boolean": lambda value: type(value) is bool,
    "null": lambda value: value is None,
}
# What the compiled check understands; ``format`` asserts nothing without a format checker.
_COMPILED_KEYWORDS = frozenset(
    {"type", "properties", "required", "items", "enum", "$ref", "format"}
)


def load_definitions() -> dict[str, Any]:
    text = resources.files("iterable_emulator").joinpath(SCHEMAS_RESOURCE).read_text("utf-8")
    definitions: dict[str, Any] = json.loads(text)["definitions"]
    return definitions


def inline_refs(
    node: Any, definitions: Mapping[str, Any], seen: frozenset[str] = frozenset()
) -> Any:
    """Replace each ``$ref`` by its definition, except a recursive one.

    jsonschema validates an inlined schema about a third faster than one that
    resolves a reference for each of a bulk request's records.
    """
    if isinstance(node, list):
        return [inline_refs(item, definitions, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        name = ref[len(REF_PREFIX) :]
        return node if name in seen else inline_refs(definitions[name], definitions, seen | {name})
    return {key: inline_refs(value, definitions, seen) for key, value in node.items()}


class _Compiler:
    """Turns draft-4 schemas using only ``_COMPILED_KEYWORDS`` into plain predicates."""

    def __init__(self, definitions: Mapping[str, Any]) -> None:
        self._definitions = definitions
        self._checks: dict[str, Check] = {}
        self._compiling: set[str] = set()

    def definition(self, name: str) -> Check:
        """A check of ``#/definitions/name``, looked up at call time so recursion works."""
        if name not in self._compiling:
            self._compiling.add(name)
            self._checks[name] = self.schema(self._definitions[name])
        return functools.partial(self._check_by_name, name)

    def _check_by_name(self, name: str, value: Any) -> bool:
        return self._checks[name](value)

    def schema(self, schema: Mapping[str, Any]) -> Check:
        unknown = set(schema) - _COMPILED_KEYWORDS
        if unknown:
            raise ValueError(f"cannot compile keywords {sorted(unknown)}")
        checks: list[Check] = []
        if "$ref" in schema:
            checks.append(self.definition(schema["$ref"][len(REF_PREFIX) :]))
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            type_checks = [_TYPE_CHECKS[t] for t in types]
            checks.append(lambda value: any(check(value) for check in type_checks))
        if "enum" in schema:
            allowed = [(type(option), option) for option in schema["enum"]]
            checks.append(lambda value: (type(value), value) in allowed)
        if "required" in schema:
            required = list(schema["required"])
            checks.append(
                lambda value: type(value) is not dict or all(key in value for key in required)
            )
        if "properties" in schema:
            properties = {key: self.schema(sub) for key, sub in schema["properties"].items()}
            checks.append(
                lambda value: (
                    type(value) is not dict
                    or all(check(value[key]) for key, check in properties.items() if key in value)
                )
            )
        if "items" in schema:
            item_check = self.schema(schema["items"])
            checks.append(
                lambda value: type(value) is not list or all(item_check(item) for item in value)
            )
        return lambda value: all(check(value) for check in checks)


def describe(error: ValidationError) -> str:
    """``users[3].email: 5 is not of type 'string'``: which field is wrong, and how."""
    where = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
    )
    return f"{where.lstrip('.') or 'body'}: {error.message}"


class BodyValidator:
    """One validator per spec definition, built once."""

    def __init__(self, definitions: Mapping[str, Any] | None = None) -> None:
        definitions = dict(definitions or load_definitions())
        self._validators = {
            name: Draft4Validator(
                {**inline_refs(schema, definitions, frozenset({name})), "definitions": definitions}
            )
            for name, schema in definitions.items()
        }
        compiler = _Compiler(definitions)
        self.checks = {name: compiler.definition(name) for name in definitions}

    def validate(self, definition: str, body: Any) -> None:
        """Raise 400 BadParams naming the first wrong field, if any."""
        if self.checks[definition](body):
            return
        error = next(iter(self._validators[definition].iter_errors(body)), None)
        if error is not None:
            raise bad_params(describe(error))

    def is_valid(self, definition: str, body: Any) -> bool:
        """jsonschema's verdict alone (the tests compare the compiled checks with it)."""
        return bool(self._validators[definition].is_valid(body))
