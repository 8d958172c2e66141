"""The settings the target declares are the ones its documentation and meltano.yml show.

meltano.yml's target-iterable ``settings:`` are generated from ``--about`` by
tools/meltano_settings.py; these tests fail when that block drifts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from tools import meltano_settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def target_setting_names() -> list[str]:
    """The target's own settings (the SDK's builtin ones are not in the README table)."""
    sdk = meltano_settings.sdk_setting_names()
    schema = meltano_settings.about_settings_schema()
    return [name for name in schema["properties"] if name not in sdk]


def test_every_setting_is_in_the_readme_table() -> None:
    missing = [name for name in target_setting_names() if f"| `{name}` |" not in README]
    assert missing == []


def test_meltano_yml_settings_are_generated_from_about() -> None:
    diff = meltano_settings.drift()
    assert diff == "", (
        "meltano.yml's target-iterable settings: differ from `target-iterable --about`. "
        f"Fix: {meltano_settings.FIX_COMMAND}\n{diff}"
    )


def test_meltano_yml_declares_every_setting_as_generated() -> None:
    """What YAML reads back is what the generator meant (its quoting is hand-rolled)."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    [loader] = [p for p in project["plugins"]["loaders"] if p["name"] == "target-iterable"]
    wanted = [setting.as_yaml_data() for setting in meltano_settings.current_settings()]
    assert loader["settings"] == wanted, f"Fix: {meltano_settings.FIX_COMMAND}"
    schema = meltano_settings.about_settings_schema()
    assert {s["name"] for s in loader["settings"]} == set(schema["properties"])
    assert loader["settings_group_validation"] == [schema["required"]]


def test_generator_reads_the_schema_about_prints() -> None:
    """The generator imports the target; ``--about`` must print that very schema."""
    about = subprocess.run(
        [
            sys.executable,
            "-c",
            "from target_iterable.target import TargetIterable; TargetIterable.cli()",
            "--about",
            "--format=json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    printed = json.loads(about.stdout)["settings"]
    assert printed == json.loads(json.dumps(meltano_settings.about_settings_schema()))


def test_number_settings_accept_their_text_as_meltano_passes_it() -> None:
    """Meltano passes a ``kind: string`` setting set in the environment as text."""
    schema = meltano_settings.about_settings_schema()
    validator = Draft202012Validator(schema)
    numbers = [s.name for s in meltano_settings.current_settings() if s.number]
    assert numbers, "no number settings?"
    refused = [
        name
        for name in numbers
        for text in ("0.5", "1", " .25 ")
        if list(validator.iter_errors({"api_key": "k", name: text}))
    ]
    assert refused == []
