#!/usr/bin/env bash
# Sets up everything the tests need, then runs lint, type checks and the whole test suite.
#
# With pytest options (`bash scripts/test.sh -k catalog`), one pytest run takes them.
# Without, the suite runs as CI runs it: the target's tests against a hybrid, an
# email-based and a userId-based Iterable project in turn (tests/project_type.py; the
# slow runs under injected faults in the hybrid one only), the rest once.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
ensure_project_venv
ensure_meltano_plugins   # the demo pipeline is tested through `meltano run`
ensure_postgres          # a real PostgreSQL server for the tap-postgres pipeline test
ensure_chromium          # a real browser for the emulator console's test

echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy"
.venv/bin/mypy

pytest() { .venv/bin/python -m pytest "$@"; }

if [[ $# -gt 0 ]]; then
    echo "==> pytest $*"
    pytest "$@"
    exit
fi
echo "==> pytest: the emulator and the benchmark harness"
pytest -n 2 tests/emulator tests/benchmarks
echo "==> pytest: Meltano pipelines (one at a time: meltano run jobs share .meltano/run)"
pytest tests/pipelines
# The target's tests mostly wait (on Iterable's asynchronous processing, retries,
# subprocesses), so three workers share the two cores well.
echo "==> pytest: the target, in a project of type hybrid"
ITERABLE_EMULATOR_PROJECT_TYPE=hybrid pytest -n 3 tests/target_iterable
for project_type in email userId; do
    echo "==> pytest: the target (all but its runs under faults), in a project of type $project_type"
    ITERABLE_EMULATOR_PROJECT_TYPE=$project_type pytest -n 3 -m "not faults" tests/target_iterable
done
