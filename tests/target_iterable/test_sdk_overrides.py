"""The SDK internals this target overrides still exist, with the shape it relies on.

Every private SDK name the target touches is listed in ``sdk_overrides.py``;
an SDK release that renames, removes or reshapes one fails here, by name,
instead of silently bypassing a guarantee (STATE after acknowledgement, records
refused one by one) in production.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from singer_sdk.sinks import BatchSink
from singer_sdk.target_base import Target

from target_iterable import sdk_overrides
from target_iterable.sdk_overrides import SDK_PRIVATE_NAMES, SinkOverrides, TargetOverrides
from target_iterable.sinks.base import IterableSink
from target_iterable.target import TargetIterable

PACKAGE = Path(sdk_overrides.__file__).parent


def sdk_instance_attributes(sdk_class: type) -> set[str]:
    """Names assigned as ``self.<name>`` anywhere in the SDK class's own methods."""
    names: set[str] = set()
    for klass in sdk_class.__mro__:
        if not klass.__module__.startswith("singer_sdk"):
            continue
        tree = ast.parse(inspect.getsource(klass))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
                and isinstance(node.ctx, ast.Store)
            ):
                names.add(node.attr)
    return names


@pytest.mark.parametrize(
    ("sdk_class", "name"),
    SDK_PRIVATE_NAMES,
    ids=[f"{klass.__name__}.{name}" for klass, name in SDK_PRIVATE_NAMES],
)
def test_each_private_sdk_name_still_exists(sdk_class: type, name: str) -> None:
    exists = hasattr(sdk_class, name) or name in sdk_instance_attributes(sdk_class)
    assert exists, (
        f"singer-sdk no longer has {sdk_class.__name__}.{name}, which "
        "target_iterable/sdk_overrides.py relies on: adapt the override to the new SDK"
    )


@pytest.mark.parametrize(
    "override",
    [TargetOverrides, SinkOverrides],
)
def test_overridden_methods_keep_the_sdks_signature(override: type) -> None:
    base = Target if override is TargetOverrides else BatchSink
    for name, method in vars(override).items():
        if not name.startswith("_") or name.startswith("__") or not callable(method):
            continue
        sdk_parameters = list(inspect.signature(getattr(base, name)).parameters)
        ours = list(inspect.signature(method).parameters)
        assert ours[: len(sdk_parameters)] == sdk_parameters or ours[-1] in ("kwargs",), (
            f"{base.__name__}.{name} now takes {sdk_parameters}; the override takes {ours}"
        )


def test_no_other_module_touches_an_sdk_private_name() -> None:
    private = {name for _, name in SDK_PRIVATE_NAMES}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "sdk_overrides.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            used = (
                node.attr
                if isinstance(node, ast.Attribute)
                else node.name
                if isinstance(node, ast.FunctionDef)
                else None
            )
            if used in private:
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {used}")
    assert offenders == []


def test_the_target_and_sinks_use_the_overrides() -> None:
    assert issubclass(TargetIterable, TargetOverrides)
    assert issubclass(IterableSink, SinkOverrides)
