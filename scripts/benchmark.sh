#!/usr/bin/env bash
# The benchmark: sets up .venv if needed, then runs `python -m benchmarks.run`.
#   bash scripts/benchmark.sh                 # full run, about 6 minutes; writes benchmarks/RESULTS.md
#   bash scripts/benchmark.sh --quick         # tiny inputs: checks the harness, figures meaningless
#   bash scripts/benchmark.sh --only cpu      # one scenario: api, cpu, memory, sync or soak
#   bash scripts/benchmark.sh --keep          # keep the generated inputs, configs and logs
# Prints one Markdown table (API-bound throughput, CPU per 100k records against a no-op
# SDK target, peak RSS); exits 1 if a run failed, 0 otherwise (missed goals print FAIL).
# Where the CPU goes: .venv/bin/python -m benchmarks.profile_target
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
ensure_project_venv
.venv/bin/python -m benchmarks.run "$@"
