"""The benchmark harness keeps working as the code changes (figures are not checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_produces_every_figure() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    for scenario in ("API-bound users", "API-bound events", "CPU-bound", "Memory"):
        assert scenario in completed.stdout
    assert "rec/s" in completed.stdout
    assert "ratio" in completed.stdout
    assert "peak RSS" in completed.stdout
