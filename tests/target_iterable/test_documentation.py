"""Every setting the target declares is documented in the README's settings table."""

from __future__ import annotations

from pathlib import Path

import yaml

from target_iterable.settings import CONFIG_SCHEMA

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_readme_table() -> None:
    missing = [name for name in CONFIG_SCHEMA["properties"] if f"| `{name}` |" not in README]
    assert missing == []


def test_every_setting_is_declared_in_meltano_yml() -> None:
    project = yaml.safe_load((Path(__file__).resolve().parents[2] / "meltano.yml").read_text())
    [loader] = [p for p in project["plugins"]["loaders"] if p["name"] == "target-iterable"]
    declared = {setting["name"] for setting in loader["settings"]}
    assert set(CONFIG_SCHEMA["properties"]) - declared == set()
