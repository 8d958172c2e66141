#!/usr/bin/env bash
# Sets up .venv if needed, then runs the benchmark (a few minutes; not part of the tests).
# Prints the table quoted in the README and writes it to benchmarks/RESULTS.md.
# Pass --quick for tiny inputs (checks the harness, figures meaningless).
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
ensure_project_venv
.venv/bin/python -m benchmarks.run "$@"
