"""Record validation against the stream's JSON schema, compiled once per schema.

The SDK's default validator (jsonschema) costs most of a no-op target's CPU;
fastjsonschema compiles the schema to Python once and validates far faster.
String formats are not checked here (as in the SDK's default): this target's
date converters refuse an unparseable date per record with a precise reason.
"""

from __future__ import annotations

from typing import Any

import fastjsonschema
from singer_sdk.exceptions import InvalidJSONSchema, InvalidRecord
from singer_sdk.sinks.core import BaseJSONSchemaValidator


class CompiledSchemaValidator(BaseJSONSchemaValidator):
    """Validates records with a fastjsonschema-compiled schema."""

    def __init__(self, schema: dict[str, Any]) -> None:
        super().__init__(schema)
        try:
            self._validate = fastjsonschema.compile(schema, use_default=False, use_formats=False)
        except fastjsonschema.JsonSchemaDefinitionException as exc:
            raise InvalidJSONSchema(f"the stream's JSON schema is invalid: {exc}") from exc

    def validate(self, record: dict[str, Any]) -> None:
        try:
            self._validate(record)
        except fastjsonschema.JsonSchemaValueException as exc:
            # "data.age must be integer" → "field 'age' must be integer"
            path = ".".join(str(part) for part in exc.path[1:]) if exc.path else ""
            rule = exc.message.split(" must ", 1)[-1] if " must " in exc.message else exc.message
            message = f"field '{path}' must {rule}" if path else f"record must {rule}"
            raise InvalidRecord(message, record) from exc
