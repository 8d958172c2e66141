#!/usr/bin/env bash
# Moves the project's dependencies forward on purpose: recompiles every lock in
# requirements/ to the newest versions its ranges allow (pyproject.toml for .venv,
# requirements/*.in for Meltano and the taps), then runs the whole test suite on
# exactly those versions. Commit the changed locks only when it passes, as a
# commit of their own ("Upgrade dependencies: ...") so the change is visible.
#
#     bash scripts/upgrade-deps.sh              # newest versions, then the tests
#     bash scripts/upgrade-deps.sh --keep       # re-lock after editing a range, keeping
#                                               # every other pin; then the tests
#
# Any further arguments go to pytest, as with scripts/test.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

upgrade=(--upgrade)
if [[ "${1:-}" == "--keep" ]]; then
  upgrade=()
  shift
fi

# uv compiles the locks; it comes from the current lock (it is a dev dependency).
ensure_project_venv
UV="$ROOT/.venv/bin/uv"

# One universal lock per venv: exact versions and every file's hash, for each
# Python the package supports (requires-python >= 3.10) and every platform.
compile_lock() {
  local output="$1"
  shift
  echo "==> $output"
  (cd "$ROOT" && "$UV" pip compile --quiet "${upgrade[@]}" --generate-hashes --universal \
    --python-version 3.10 --output-file "$output" "$@")
}

compile_lock requirements/dev.lock pyproject.toml --extra dev
for input in requirements/*.in; do
  compile_lock "${input%.in}.lock" "$input"
done

git -C "$ROOT" --no-pager diff --stat -- requirements/
bash "$ROOT/scripts/test.sh" "$@"
