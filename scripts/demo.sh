#!/usr/bin/env bash
# Offline end-to-end demo: demo/data/*.jsonl -> tap-jsonl -> target-iterable -> local
# Iterable emulator, run through Meltano. One command, from any directory:
#
#     bash scripts/demo.sh
#
# On a fresh machine it sets everything up first (needs PyPI only):
#   .venv           python3 -m venv + pip install -e ".[emulator]"  (target + emulator)
#   .venv-meltano   python3 -m venv + pip install "meltano~=4.4"    (Meltano, kept apart)
#   meltano install the plugins declared inline in meltano.yml (no Meltano Hub)
# Then it starts the emulator on a free loopback port, runs the pipeline and shows
# what landed. The run itself uses no network beyond 127.0.0.1.
#
# Environment: PYTHON (interpreter for the venvs, default python3),
# DEMO_EMAIL (user to read back, default ada.lovelace@example.com),
# DEMO_VERBOSE=1 (show every Meltano log line, not just the progress lines).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
MELTANO_VENV="$ROOT/.venv-meltano"
MELTANO="$MELTANO_VENV/bin/meltano"
OUTPUT="$ROOT/output"
REJECTS="$OUTPUT/rejects.jsonl"        # same file as rejects_path in meltano.yml
EMULATOR_LOG="$OUTPUT/emulator.log"
RUN_LOG="$OUTPUT/meltano-run.log"
SETUP_LOG="$OUTPUT/setup.log"
API_KEY="test-api-key"                 # the emulator's default key
DEMO_EMAIL="${DEMO_EMAIL:-ada.lovelace@example.com}"

# Meltano: no usage stats, no release check, nothing but PyPI during install.
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false
export MELTANO_CLI_DISABLE_VERSION_CHECK=true

STEP=0
section() {
    STEP=$((STEP + 1))
    printf '\n==== %d. %s ====\n' "$STEP" "$*"
}
fail() {
    printf '\nDEMO FAILED: %s\n' "$*" >&2
    exit 1
}
# Run a set-up command with its (noisy) output in $SETUP_LOG, shown only on failure.
quietly() {
    if ! "$@" >>"$SETUP_LOG" 2>&1; then
        tail -n 30 "$SETUP_LOG" >&2
        fail "'$*' failed (full output: ${SETUP_LOG#"$ROOT"/})"
    fi
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
: >"$SETUP_LOG"

# ---------------------------------------------------------------------------
section "Python environment for the target and the emulator (.venv)"
if [[ ! -x "$VENV/bin/python" ]]; then
    echo "Creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
# Re-install only when pyproject.toml changed since the last successful install.
STAMP="$VENV/.demo-install-stamp"
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [[ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]] \
    || [[ ! -x "$VENV/bin/target-iterable" ]] || [[ ! -x "$VENV/bin/iterable-emulator" ]]; then
    echo "pip install -e \".[emulator]\" (output in ${SETUP_LOG#"$ROOT"/})"
    quietly "$VENV/bin/python" -m pip install --upgrade pip
    quietly "$VENV/bin/python" -m pip install -e ".[emulator]"
    echo "$WANT" >"$STAMP"
else
    echo "Already set up (pyproject.toml unchanged since the last install)."
fi
"$VENV/bin/target-iterable" --version

# ---------------------------------------------------------------------------
section "Meltano in its own environment (.venv-meltano)"
if ! "$MELTANO" --version >/dev/null 2>&1; then
    echo "Creating $MELTANO_VENV: pip install \"meltano~=4.4\" (output in ${SETUP_LOG#"$ROOT"/})"
    "$PYTHON" -m venv "$MELTANO_VENV"
    quietly "$MELTANO_VENV/bin/python" -m pip install --upgrade pip
    quietly "$MELTANO_VENV/bin/python" -m pip install "meltano~=4.4"
fi
"$MELTANO" --version

# ---------------------------------------------------------------------------
section "meltano install (plugins declared inline in meltano.yml)"
# meltano install is idempotent but re-resolves the editable target against PyPI
# each time (~4 s); skip it while meltano.yml, pyproject.toml and Meltano are
# unchanged and the plugins are in place, so a warm demo needs no network at all.
MELTANO_STAMP="$ROOT/.meltano/.demo-install-stamp"
WANT_PLUGINS="$(cat meltano.yml pyproject.toml <("$MELTANO" --version 2>/dev/null) | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$MELTANO_STAMP" 2>/dev/null || true)" == "$WANT_PLUGINS" ]] \
    && [[ -x .meltano/extractors/tap-jsonl/venv/bin/tap-jsonl ]] \
    && [[ -x .meltano/loaders/target-iterable/venv/bin/target-iterable ]]; then
    echo "Already installed (meltano.yml and pyproject.toml unchanged since the last meltano install)."
else
    STARTED=$SECONDS
    quietly "$MELTANO" install
    grep -E "Installed [0-9]+/[0-9]+ plugins" "$SETUP_LOG" | tail -n 1 | sed -E 's/.*meltano +//'
    echo "$WANT_PLUGINS" >"$MELTANO_STAMP"
    echo "tap-jsonl and target-iterable installed under .meltano/ in $((SECONDS - STARTED)) s"
fi

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

printf '\nDemo finished. Re-run it any time: bash scripts/demo.sh\n'
