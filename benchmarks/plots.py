"""The benchmark's figures as pictures: SVGs drawn from benchmarks/results.json.

    python -m benchmarks.plots                       # results.json -> benchmarks/figures/
    python -m benchmarks.plots --results r.json --out /tmp/figures

Two figures, the ones the README quotes: throughput against Iterable's ceiling
per endpoint (a target that keeps the pipe full reaches the ceiling, and can go
no higher), and CPU per 100k records against the no-op SDK target on the same
file (what the target costs beyond reading Singer). A full benchmark run draws
them (benchmarks.run); the SVGs are committed with RESULTS.md. Text stays text
and no date or random id is written, so a figure changes only when a number does.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt

from benchmarks.report import RESULTS_JSON

FIGURES = RESULTS_JSON.parent / "figures"
THROUGHPUT_SVG = "throughput.svg"
CPU_SVG = "cpu.svg"
MEASURED, CEILING, BASELINE = "#2b6cb0", "#a0aec0", "#718096"


def rows_for(results: Mapping[str, Any], figure: str) -> list[dict[str, Any]]:
    return [row for row in results.get("rows", []) if row.get("figure") == figure]


def draw_throughput(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    """Measured records/s beside the ceiling (documented requests/s x 1000 records)."""
    labels = [row["label"] for row in rows]
    measured = [row["records_per_second"] for row in rows]
    ceilings = [row["ceiling"] for row in rows]
    figure, axes = plt.subplots(figsize=(7, 3.6))
    positions = range(len(rows))
    axes.bar([p - 0.2 for p in positions], ceilings, 0.4, color=CEILING, label="Iterable's ceiling")
    bars = axes.bar([p + 0.2 for p in positions], measured, 0.4, color=MEASURED, label="measured")
    for bar, rate, ceiling in zip(bars, measured, ceilings, strict=True):
        axes.annotate(
            f"{rate:,.0f}/s\n{rate / ceiling:.1%}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    axes.set_xticks(list(positions), labels)
    axes.set_ylabel("records per second")
    axes.set_ylim(0, max(ceilings) * 1.25)
    axes.set_title("API-bound throughput against Iterable's rate ceiling")
    axes.legend(loc="upper left", frameon=False)
    _save(figure, path)


def draw_cpu(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    """CPU seconds per 100k records, target-iterable beside the no-op SDK target."""
    labels = [row["label"] for row in rows]
    cpu = [row["cpu_per_100k"] for row in rows]
    colours = [BASELINE if row.get("ratio") == 1.0 else MEASURED for row in rows]
    figure, axes = plt.subplots(figsize=(7, 2.6))
    bars = axes.barh(labels, cpu, color=colours)
    for bar, seconds, row in zip(bars, cpu, rows, strict=True):
        ratio = row.get("ratio")
        text = f"{seconds:.2f} s" + (f" (ratio {ratio:.2f})" if ratio not in (None, 1.0) else "")
        axes.annotate(
            text,
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    axes.invert_yaxis()
    axes.set_xlim(0, max(cpu) * 1.35)
    axes.set_xlabel("CPU seconds (user + sys) per 100k records, same file")
    axes.set_title("CPU per record against the no-op SDK target")
    _save(figure, path)


def _save(figure: Any, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, format="svg", metadata={"Date": None})
    plt.close(figure)


def draw(results: Mapping[str, Any], out: Path) -> list[Path]:
    """Draw every figure the results hold rows for; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    # Labels stay searchable text; element ids are stable from one run to the next.
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "target-iterable"}):
        for figure, name, drawer in (
            ("throughput", THROUGHPUT_SVG, draw_throughput),
            ("cpu", CPU_SVG, draw_cpu),
        ):
            rows = rows_for(results, figure)
            if rows:
                drawer(rows, out / name)
                written.append(out / name)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS_JSON)
    parser.add_argument("--out", type=Path, default=FIGURES)
    args = parser.parse_args(argv)
    for path in draw(json.loads(args.results.read_text()), args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
