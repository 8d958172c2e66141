"""The benchmark's figures are drawn from its results document."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from benchmarks.plots import CPU_SVG, THROUGHPUT_SVG, draw, main
from benchmarks.report import Report, Row, results_document


def synthetic_results() -> dict[str, object]:
    """A results document as a full run writes it, with made-up figures."""
    report = Report(
        rows=[
            Row(
                "API-bound users",
                60_000,
                "",
                4_828,
                0.966,
                figure="throughput",
                label="users (bulkUpdate, 5 req/s)",
                ceiling=5_000,
            ),
            Row(
                "API-bound events",
                120_000,
                "",
                9_445,
                0.945,
                figure="throughput",
                label="events (trackBulk, 10 req/s)",
                ceiling=10_000,
            ),
            Row(
                "CPU-bound target-iterable",
                100_000,
                "",
                cpu_per_100k=4.75,
                ratio=0.69,
                figure="cpu",
                label="target-iterable",
            ),
            Row(
                "CPU-bound no-op",
                100_000,
                "",
                cpu_per_100k=6.91,
                ratio=1.0,
                figure="cpu",
                label="no-op SDK target",
            ),
            Row("Memory", 100_000, "", 6_148, cpu_per_100k=5.01),
        ]
    )
    document = results_document(report, ["- nproc: 2"], 960.0)
    assert document["rows"][0] == asdict(report.rows[0])
    return document


def test_both_figures_are_drawn_with_their_figures_as_text(tmp_path: Path) -> None:
    written = draw(synthetic_results(), tmp_path / "figures")
    assert [path.name for path in written] == [THROUGHPUT_SVG, CPU_SVG]
    throughput = (tmp_path / "figures" / THROUGHPUT_SVG).read_text()
    cpu = (tmp_path / "figures" / CPU_SVG).read_text()
    assert throughput.lstrip().startswith("<?xml")
    assert "<svg" in throughput
    assert len(throughput) > 5_000
    assert len(cpu) > 5_000
    for text in ("users (bulkUpdate, 5 req/s)", "4,828/s", "96.6%", "9,445/s", "ceiling"):
        assert text in throughput, text
    for text in ("no-op SDK target", "4.75 s (ratio 0.69)", "6.91 s"):
        assert text in cpu, text
    assert "Memory" not in throughput + cpu  # rows of no figure are not drawn


def test_the_same_results_draw_the_same_files(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps(synthetic_results()))
    for out in ("a", "b"):
        assert main(["--results", str(results), "--out", str(tmp_path / out)]) == 0
    for name in (THROUGHPUT_SVG, CPU_SVG):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_results_without_figure_rows_draw_nothing(tmp_path: Path) -> None:
    assert draw({"rows": []}, tmp_path) == []
