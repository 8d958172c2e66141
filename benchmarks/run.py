"""Measure target-iterable against the emulator; print (and save) one table of figures.

    python -m benchmarks.run                # full run (about 6 minutes on 2 cores)
    python -m benchmarks.run --quick        # tiny inputs: checks the harness, figures meaningless
    python -m benchmarks.run --only cpu     # one scenario: api, cpu, memory, sync or soak

Every target run is a subprocess reading a generated file (benchmarks.generate) on
stdin, stdout and stderr to files. A run counts only if the target exited 0, its
last STATE is the input's last STATE (it read everything), it rejected nothing,
and the emulator holds exactly the records sent; otherwise the scenario is an
ERROR and the exit status is 1. A missed goal is a FAIL in the table, exit 0.

This module is the command line only: the scenarios (API-bound, CPU-bound, memory, change detection)
are in benchmarks.scenarios, running and measuring one process in
benchmarks.harness, the table and machine information in benchmarks.report.

A full run writes the table to benchmarks/RESULTS.md, the figures as data to
benchmarks/results.json, and draws them (benchmarks.plots) into benchmarks/figures/.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.plots import FIGURES, draw
from benchmarks.report import RESULTS, RESULTS_JSON, machine, render, results_document
from benchmarks.scenarios import FULL, QUICK, SCENARIOS, run_scenarios


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny inputs (harness check)")
    parser.add_argument("--only", choices=sorted(SCENARIOS), help="run one scenario")
    parser.add_argument("--keep", action="store_true", help="keep the inputs, configs and logs")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    setting = machine()  # before the run: the code measured is the code at this commit
    work = Path(tempfile.mkdtemp(prefix="target-iterable-bench-"))
    try:
        report = run_scenarios(QUICK if args.quick else FULL, args.only, work)
    finally:
        if args.keep:
            print(f"inputs, configs and logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    text = render(report, setting, elapsed, quick=args.quick)
    print(text)
    # Only a full, clean run replaces the figures others quote.
    if not args.quick and args.only is None and not report.errors:
        RESULTS.write_text(text)
        document = results_document(report, setting, elapsed)
        RESULTS_JSON.write_text(json.dumps(document, indent=2) + "\n")
        for path in draw(document, FIGURES):
            print(f"figure: {path.relative_to(RESULTS.parent.parent)}")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
