"""Each test runs in its own directory: the target's default sync state
(``sqlite:///target-iterable-sync.db``, relative to the working directory) is then
one per test, as it is one per project for users."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def own_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
