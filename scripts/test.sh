#!/usr/bin/env bash
# Sets up everything the tests need, then runs lint, type checks and the whole test suite.
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
echo "==> pytest"
.venv/bin/python -m pytest "$@"
