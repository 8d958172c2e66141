"""The package's layers stay apart: no import circle, and the emulator is never imported."""

from __future__ import annotations

import ast
from pathlib import Path

import target_iterable

PACKAGE = Path(target_iterable.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module of the package that ``path`` imports (type-checking imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {
        name: {imported for imported in imports_of(path) if imported in modules} - {name}
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle, as the list of modules around it, or [] when there is none."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = "open"
        stack.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                return [*stack[stack.index(imported) :], imported]
            if imported not in state and (cycle := visit(imported)):
                return cycle
        state[module] = "done"
        stack.pop()
        return []

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return []


def test_no_import_circle_in_the_package() -> None:
    assert find_cycle(import_graph()) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_target_never_imports_the_emulator() -> None:
    for path in PACKAGE.rglob("*.py"):
        assert not any(name.startswith("iterable_emulator") for name in imports_of(path)), path


def test_mapping_is_pure() -> None:
    """Record → payload mapping does no I/O: it imports neither the client nor the core."""
    for path in (PACKAGE / "mapping").rglob("*.py"):
        imported = imports_of(path)
        assert not any(
            name.startswith(("target_iterable.delivery", "target_iterable.iterable.client"))
            or name in ("requests", "target_iterable.sinks")
            for name in imported
        ), path
