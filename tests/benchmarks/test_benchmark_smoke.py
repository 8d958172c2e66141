"""The benchmark harness keeps working as the code changes.

Runs ``python -m benchmarks.run --quick`` (tiny inputs, about 15 s) and checks
that every scenario ran and produced its figures. Figures are not compared with
the goals: timings on a shared machine would make this test flaky.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Scenario (start of the table's first cell) -> the columns it must fill.
EXPECTED = {
    "API-bound users": ("records/s", "fraction of ceiling", "CPU s/100k", "peak RSS MB"),
    "API-bound events": ("records/s", "fraction of ceiling", "CPU s/100k", "peak RSS MB"),
    "CPU-bound target-iterable": ("CPU s/100k", "ratio", "peak RSS MB"),
    "CPU-bound no-op": ("CPU s/100k", "peak RSS MB"),
    "Memory": ("records/s", "CPU s/100k", "peak RSS MB"),
}


def table_rows(output: str) -> list[dict[str, str]]:
    """The Markdown table of the output, one dict per row keyed by column name."""
    lines = [line for line in output.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [
        dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True))
        for line in lines[1:]
    ]


def test_quick_benchmark_produces_every_figure() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,  # a hard stop; it normally takes about 15 s
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    rows = table_rows(completed.stdout)
    assert all(row["result"] != "ERROR" for row in rows), completed.stdout
    for scenario, columns in EXPECTED.items():
        matching = [row for row in rows if row["scenario"].startswith(scenario)]
        assert matching, f"no {scenario!r} row in:\n{completed.stdout}"
        for row in matching:
            for column in columns:
                assert float(row[column].replace(",", "")) > 0, (scenario, column, row)
    assert len([row for row in rows if row["scenario"].startswith("Memory")]) == 2
