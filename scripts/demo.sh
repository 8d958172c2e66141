#!/usr/bin/env bash
# Offline end-to-end demo: demo/data/*.jsonl -> tap-jsonl -> target-iterable -> local
# Iterable emulator, run through Meltano. One command, from any directory:
#
#     bash scripts/demo.sh
#
# On a fresh machine it sets everything up first (needs PyPI only), with the
# functions of scripts/bootstrap.sh: .venv (target + emulator), .venv-meltano
# (Meltano, kept apart), and meltano install of the plugins declared inline.
# Then it starts the emulator on a free loopback port, runs the pipeline, shows
# what landed and prints the emulator console's URL; run from a terminal, it keeps
# the emulator up until Enter is pressed. The run itself uses no network beyond 127.0.0.1.
#
# Environment: PYTHON (interpreter for the venvs, default python3),
# DEMO_EMAIL (user to read back, default ada.lovelace@example.com),
# DEMO_VERBOSE=1 (show every Meltano log line, not just the progress lines).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

VENV="$ROOT/.venv"
OUTPUT="$ROOT/output"
REJECTS="$OUTPUT/rejects.jsonl"        # same file as rejects_path in meltano.yml
EMULATOR_LOG="$OUTPUT/emulator.log"
RUN_LOG="$OUTPUT/meltano-run.log"
API_KEY="test-api-key"                 # the emulator's default key
DEMO_EMAIL="${DEMO_EMAIL:-ada.lovelace@example.com}"

STEP=0
section() {
    STEP=$((STEP + 1))
    printf '\n==== %d. %s ====\n' "$STEP" "$*"
}
fail() {
    printf '\nDEMO FAILED: %s\n' "$*" >&2
    exit 1
}
# The pipeline's progress: which job runs, the target's per-stream summary,
# warnings and errors. Everything is in $RUN_LOG.
progress() {
    if [[ "${DEMO_VERBOSE:-0}" == 1 ]]; then
        cat
    else
        grep --line-buffered -E "Running job|Summary:|\[(warning|error|critical) *\]|Run completed|failed" \
            | grep --line-buffered -v -E "Stream is assumed to be unsorted|Force option is enabled" || true
    fi
}

EMULATOR_PID=""
cleanup() {
    if [[ -n "$EMULATOR_PID" ]] && kill -0 "$EMULATOR_PID" 2>/dev/null; then
        kill "$EMULATOR_PID" 2>/dev/null || true
        wait "$EMULATOR_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$OUTPUT"

# ---------------------------------------------------------------------------
section "Set-up: .venv, .venv-meltano, meltano install (skipped when already done)"
ensure_project_venv
ensure_meltano_plugins
"$VENV/bin/target-iterable" --version
"$MELTANO" --version

# ---------------------------------------------------------------------------
section "Local Iterable emulator"
PORT="$("$VENV/bin/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')"
BASE_URL="http://127.0.0.1:$PORT"
"$VENV/bin/iterable-emulator" --port "$PORT" >"$EMULATOR_LOG" 2>&1 &
EMULATOR_PID=$!
for _ in $(seq 1 100); do
    if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
        cat "$EMULATOR_LOG" >&2
        EMULATOR_PID=""
        fail "the emulator exited at start (log above, also in $EMULATOR_LOG)"
    fi
    if "$VENV/bin/python" - "$BASE_URL" <<'PY' 2>/dev/null; then
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/_emulator/health", timeout=1) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
        break
    fi
    sleep 0.2
done
"$VENV/bin/python" -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/_emulator/health", timeout=2)' "$BASE_URL" 2>/dev/null \
    || fail "the emulator did not answer on $BASE_URL within 20 s (log: $EMULATOR_LOG)"
echo "Emulator pid $EMULATOR_PID on $BASE_URL (log: ${EMULATOR_LOG#"$ROOT"/})"

export TARGET_ITERABLE_API_KEY="$API_KEY"
export TARGET_ITERABLE_API_BASE_URL="$BASE_URL"

# ---------------------------------------------------------------------------
section "meltano run --full-refresh jsonl-to-iterable"
echo "customers -> users, signups -> events, products -> catalog-products (stream maps in meltano.yml)"
echo "Rejected records go to ${REJECTS#"$ROOT"/} (cleared now; the target appends to it)."
rm -f "$REJECTS"
# --full-refresh: each demo starts an empty emulator, so re-read the files even
# though the previous run's state says they were loaded (re-sends are upserts).
# --force: a demo interrupted earlier must not block this one.
STARTED=$SECONDS
if ! "$MELTANO" run --full-refresh --force jsonl-to-iterable 2>&1 | tee "$RUN_LOG" | progress; then
    if [[ "${DEMO_VERBOSE:-0}" != 1 ]]; then
        echo "---- last lines of ${RUN_LOG#"$ROOT"/} ----" >&2
        tail -n 40 "$RUN_LOG" >&2
    fi
    fail "meltano run failed after $((SECONDS - STARTED)) s (full log: ${RUN_LOG#"$ROOT"/})"
fi
echo "Pipeline finished in $((SECONDS - STARTED)) s (full log: ${RUN_LOG#"$ROOT"/})"

# ---------------------------------------------------------------------------
section "Results"
"$VENV/bin/python" demo/show_results.py \
    --base-url "$BASE_URL" --api-key "$API_KEY" --rejects "$REJECTS" --email "$DEMO_EMAIL" \
    || fail "could not show the results"

# The console: users with their fields' locked types, events, catalogs, lists and the
# requests the pipeline made. From a terminal the emulator stays up until Enter; CI
# and scripts (stdin not a terminal) never wait.
printf '\nBrowse what landed: %s/\n' "$BASE_URL"
if [[ -t 0 ]]; then
    read -r -p "The emulator keeps running for the console; press Enter to stop it. " _ || true
fi

printf '\nDemo finished. Re-run it any time: bash scripts/demo.sh\n'
