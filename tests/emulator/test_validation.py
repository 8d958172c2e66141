"""Body validation: the compiled checks must agree with jsonschema on every body."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iterable_emulator.errors import IterableError
from iterable_emulator.validation import BodyValidator, load_definitions

DEFINITIONS = load_definitions()
VALIDATOR = BodyValidator(DEFINITIONS)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda children: (
        st.lists(children, max_size=2) | st.dictionaries(st.text(max_size=3), children, max_size=2)
    ),
    max_leaves=4,
)
_LEAVES: dict[str, st.SearchStrategy[Any]] = {
    "string": st.text(max_size=3),
    "integer": st.integers() | st.floats(allow_nan=False),
    "number": st.floats(allow_nan=False) | st.integers(),
    "boolean": st.booleans(),
}


def mostly(
    strategy: st.SearchStrategy[Any], otherwise: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """``strategy`` nine times in ten, ``otherwise`` the tenth."""
    return st.integers(0, 9).flatmap(lambda n: strategy if n else otherwise)


def bodies(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Bodies shaped like ``schema``, with wrong types, missing keys and strays mixed in."""
    if "$ref" in schema:
        if depth > 3:
            return json_values
        return bodies(DEFINITIONS[schema["$ref"].rsplit("/", 1)[-1]], depth + 1)
    if "enum" in schema:
        return mostly(st.sampled_from(schema["enum"]), json_values)
    kind = schema.get("type")
    if kind == "object":
        properties = {
            name: bodies(sub, depth + 1) for name, sub in schema.get("properties", {}).items()
        }
        required = {name: properties[name] for name in schema.get("required", [])}
        optional = {name: value for name, value in properties.items() if name not in required}
        complete = st.fixed_dictionaries(required, optional=optional)
        return mostly(complete, st.fixed_dictionaries({}, optional=properties) | json_values)
    if kind == "array":
        return mostly(st.lists(bodies(schema["items"], depth + 1), max_size=3), json_values)
    return mostly(_LEAVES.get(str(kind), json_values), json_values)


@pytest.mark.parametrize("definition", sorted(DEFINITIONS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_compiled_checks_agree_with_jsonschema(definition: str, data: st.DataObject) -> None:
    body = data.draw(bodies(DEFINITIONS[definition]))
    assert VALIDATOR.checks[definition](body) == VALIDATOR.is_valid(definition, body)


def test_errors_name_the_wrong_field() -> None:
    with pytest.raises(IterableError, match=r"^400 BadParams: users\[1\]\.email: 5 is not of type"):
        VALIDATOR.validate("BulkUpdateUsersRequest", {"users": [{}, {"email": 5}]})
    with pytest.raises(IterableError, match="body: 'users' is a required property"):
        VALIDATOR.validate("BulkUpdateUsersRequest", {})


def test_recursive_definitions_are_checked_at_every_depth() -> None:
    child = {"fieldName": "b", "fieldType": "long"}
    deep = {"fieldName": "a", "fieldType": "object", "children": [{**child, "children": [{}]}]}
    with pytest.raises(IterableError, match="'fieldName' is a required property"):
        VALIDATOR.validate("CatalogMappingsUpdateRequest", {"mappingsUpdates": [deep]})
