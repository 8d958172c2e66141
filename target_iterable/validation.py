"""Record validation against the stream's JSON schema, compiled once per schema.

The SDK's default validator (jsonschema) costs most of a no-op target's CPU;
fastjsonschema compiles the schema to Python once and validates far faster.
String formats are not checked here (as in the SDK's default): this target's
date converters refuse an unparseable date per record with a precise reason.
A null inside an array is not a violation either, whatever the items' schema
says (tap-postgres declares ``text[]`` items non-null, yet ``{a,NULL}`` is a
valid value): the converters drop it and the run summary counts it, so one
null item does not cost the whole record.
"""

from __future__ import annotations

import decimal
from fractions import Fraction
from typing import Any, cast

import fastjsonschema
from fastjsonschema.draft07 import CodeGeneratorDraft07
from fastjsonschema.ref_resolver import RefResolver
from singer_sdk.exceptions import InvalidJSONSchema, InvalidRecord
from singer_sdk.sinks.core import BaseJSONSchemaValidator

Number = int | float | decimal.Decimal
_DRAFT04_BOUNDS = (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum"))
_IS_NUMBER = "isinstance({variable}, (int, float, Decimal)) and not isinstance({variable}, bool)"
# Keywords whose value is one subschema, a list of them, or a map of names to them.
_SUBSCHEMA = ("additionalProperties", "additionalItems", "not", "if", "then", "else", "contains")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs")
# Keywords that can refuse a null even when "null" is among the types (an enum gets
# null among its values; the others make the items anyOf [them, null]).
_NULL_REFUSING = ("enum", "const", "$ref", "not", *_SUBSCHEMA_LISTS)


def is_multiple_of(value: Number, numerator: int, denominator: int) -> bool:
    """Whether ``value`` is an exact multiple of ``numerator / denominator``.

    Exact integer arithmetic on the value's ratio: a float is taken as the
    decimal it prints as (19.01, not its binary neighbour), so 19.01 is a
    multiple of 0.01.
    """
    if isinstance(value, int):
        return (value * denominator) % numerator == 0
    exact = decimal.Decimal(repr(value)) if isinstance(value, float) else value
    if not exact.is_finite():
        return False
    top, bottom = exact.as_integer_ratio()
    return (top * denominator) % (bottom * numerator) == 0


def upgrade_draft04_bounds(definition: Any) -> Any:
    """Read draft-04's boolean ``exclusiveMinimum``/``exclusiveMaximum`` as later drafts do.

    Draft 04 wrote ``"maximum": 5, "exclusiveMaximum": true``; draft 06 on,
    ``"exclusiveMaximum": 5``. Read as a later draft, ``true`` is the bound 1.
    """
    if not isinstance(definition, dict) or not any(
        isinstance(definition.get(flag), bool) for flag, _ in _DRAFT04_BOUNDS
    ):
        return definition
    upgraded = dict(definition)
    for flag, bound in _DRAFT04_BOUNDS:
        if isinstance(upgraded.get(flag), bool) and upgraded.pop(flag) and bound in upgraded:
            upgraded[flag] = upgraded.pop(bound)
    return upgraded


def allow_null_array_items(definition: Any) -> Any:
    """A copy of a schema in which the items of every array, at any depth, may be null.

    Where the items' schema has a ``type`` or an ``enum`` (and nothing else that would
    refuse a null), null joins them, so a wrong item still reads "must be string";
    otherwise (``$ref``, ``anyOf``...) the items become ``anyOf`` [the schema, null].
    """
    if not isinstance(definition, dict):
        return definition
    relaxed = dict(definition)
    for key in _SUBSCHEMA:
        if key in relaxed:
            relaxed[key] = allow_null_array_items(relaxed[key])
    for key in _SUBSCHEMA_LISTS:
        if isinstance(relaxed.get(key), list):
            relaxed[key] = [allow_null_array_items(variant) for variant in relaxed[key]]
    for key in _SUBSCHEMA_MAPS:
        if isinstance(relaxed.get(key), dict):
            relaxed[key] = {name: allow_null_array_items(sub) for name, sub in relaxed[key].items()}
    items = relaxed.get("items")
    if isinstance(items, dict):
        relaxed["items"] = _nullable(allow_null_array_items(items))
    elif isinstance(items, list):
        relaxed["items"] = [_nullable(allow_null_array_items(item)) for item in items]
    return relaxed


def _nullable(definition: Any) -> Any:
    """A subschema that also accepts null."""
    if not isinstance(definition, dict):
        return definition  # true / false: leave booleans as they are
    types = definition.get("type")
    if types == "null" or (isinstance(types, list) and "null" in types):
        return definition
    refusing = [key for key in _NULL_REFUSING if key in definition]
    if refusing and refusing != ["enum"]:
        return {"anyOf": [definition, {"type": "null"}]}
    nullable = dict(definition)
    if refusing:  # an enum: null joins its values, so a wrong item still reads "one of"
        nullable["enum"] = [*definition["enum"], None]
    if types is not None:
        nullable["type"] = [*([types] if isinstance(types, str) else types), "null"]
    return nullable


class SingerSchemaCodeGenerator(CodeGeneratorDraft07):
    """fastjsonschema's code generator, fixed for the numbers Singer taps send.

    * ``multipleOf``: Singer readers (the SDK's and ours) parse JSON numbers
      with a fraction as ``Decimal``, in schemas and records alike, and
      fastjsonschema's check then divides a ``Decimal`` by a float or calls
      ``Decimal(repr(Decimal))``: a tap-postgres ``numeric(10,2)`` column
      (``"multipleOf": 0.01``) crashed the run at its first record. The check
      generated here is exact for ints, floats and Decimals alike.
    * Draft-04 bounds: the same taps write ``"maximum": 100000000,
      "exclusiveMaximum": true``; read as a later draft, every value of 1 or
      more was refused. Boolean exclusive bounds now mean what draft 04 meant.

    The generator is internal to fastjsonschema, but subclassing it is the one
    way to fix a keyword's check while keeping compiled validation for the rest
    of the schema; schemas without these keywords compile exactly as before,
    and this module's tests pin the behaviour should fastjsonschema change.
    Every schema is read as draft 7: with formats unchecked, that is what
    fastjsonschema applied to schemas naming no draft or a later one, and the
    boolean bounds are the draft-04 difference taps rely on.
    """

    @property
    def global_state(self) -> dict[str, Any]:
        state: dict[str, Any] = super().global_state
        state["is_multiple_of"] = is_multiple_of
        return state

    def generate_func_code_block(self, definition: Any, *args: Any, **kwargs: Any) -> Any:
        upgraded = upgrade_draft04_bounds(definition)
        return super().generate_func_code_block(upgraded, *args, **kwargs)  # type: ignore[no-untyped-call]

    def generate_multiple_of(self) -> None:
        step = cast("dict[str, Any]", self._definition)["multipleOf"]
        if isinstance(step, bool) or not isinstance(step, Number) or not step > 0:
            raise fastjsonschema.JsonSchemaDefinitionException(
                "multipleOf must be a number greater than 0"
            )
        # repr: the decimal the schema wrote, not the float's binary expansion.
        exact = Fraction(repr(step)) if isinstance(step, float) else Fraction(step)
        with (
            self.l(f"if {_IS_NUMBER}:"),
            self.l(
                "if not is_multiple_of({variable}, {}, {}):", exact.numerator, exact.denominator
            ),
        ):
            self.exc("{name} must be multiple of {multipleOf}", rule="multipleOf")  # type: ignore[no-untyped-call]


def compile_schema(schema: dict[str, Any]) -> Any:
    """Compile ``schema`` to a validating function, as ``fastjsonschema.compile`` does."""
    resolver = RefResolver.from_schema(schema, handlers={}, store={})
    generator = SingerSchemaCodeGenerator(  # type: ignore[no-untyped-call]
        schema, resolver=resolver, use_default=False, use_formats=False
    )
    state = generator.global_state
    exec(generator.func_code, state)  # the way fastjsonschema loads what it generated
    return state[resolver.get_scope_name()]


class CompiledSchemaValidator(BaseJSONSchemaValidator):
    """Validates records with a fastjsonschema-compiled schema."""

    def __init__(self, schema: dict[str, Any]) -> None:
        super().__init__(schema)
        try:
            self._validate = compile_schema(allow_null_array_items(schema))
        except fastjsonschema.JsonSchemaDefinitionException as exc:
            raise InvalidJSONSchema(f"the stream's JSON schema is invalid: {exc}") from exc

    def validate(self, record: dict[str, Any]) -> None:
        try:
            self._validate(record)
        except fastjsonschema.JsonSchemaValueException as exc:
            # "data.age must be integer" → "field 'age' must be integer"
            path = ".".join(str(part) for part in exc.path[1:]) if exc.path else ""
            name = exc.name or ""
            rule = (
                exc.message[len(name) :].lstrip() if exc.message.startswith(name) else exc.message
            )
            message = f"field '{path}' {rule}" if path else f"record {rule}"
            raise InvalidRecord(message, record) from exc
