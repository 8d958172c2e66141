"""The oracle's citations: every rule is enforced somewhere, cited, and in the README."""

from __future__ import annotations

import re
from pathlib import Path

from iterable_emulator.rules import RULES
from iterable_emulator.testing import EmulatorProcess

PACKAGE = Path(__file__).resolve().parents[2] / "iterable_emulator"
_REFERENCE = re.compile(r"rules?:? ([a-z0-9]+(?:-[a-z0-9]+)+)")


def _code() -> str:
    return "\n".join(
        path.read_text() for path in sorted(PACKAGE.rglob("*.py")) if path.name != "rules.py"
    )


def test_every_rule_is_referenced_by_the_code_that_enforces_it() -> None:
    code = _code()
    assert [rule for rule in RULES if rule not in code] == []


def test_every_reference_names_a_registered_rule() -> None:
    named = set(_REFERENCE.findall(_code()))
    assert sorted(named - set(RULES)) == []


def test_every_rule_has_a_source_and_guesses_say_what_was_chosen() -> None:
    for rule in RULES.values():
        assert rule.source, rule.id
        if rule.status == "guess":
            assert rule.note, f"{rule.id}: a guess must say which reading it picked"


def test_the_readme_lists_every_rule() -> None:
    readme = (PACKAGE / "README.md").read_text()
    assert [rule for rule in RULES if f"`{rule}`" not in readme] == []


def test_rules_are_served(emulator: EmulatorProcess) -> None:
    rules = emulator._admin("GET", "rules")["rules"]
    assert {rule["id"] for rule in rules} == set(RULES)
