# Sourced by the other scripts: creates or refreshes what the project needs.
#   .venv          the target, the emulator and the test tools (pip install -e ".[dev]")
#   .venv-meltano  Meltano itself, kept apart as Meltano installs plugins in venvs of its own
#   .meltano/      the plugins declared inline in meltano.yml (meltano install)
#   PostgreSQL     Debian's server package, for the tap-postgres pipeline test (apt-get)
# Each step is idempotent and skipped while its inputs are unchanged, so a warm
# machine needs no network. Noisy output goes to output/setup.log, shown on failure.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
MELTANO="$ROOT/.venv-meltano/bin/meltano"
SETUP_LOG="$ROOT/output/setup.log"
mkdir -p "$ROOT/output"

# Meltano: no usage stats, no release check.
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false
export MELTANO_CLI_DISABLE_VERSION_CHECK=true

# Run a set-up command with its output in $SETUP_LOG, shown only when it fails.
quietly() {
  if ! "$@" >>"$SETUP_LOG" 2>&1; then
    tail -n 30 "$SETUP_LOG" >&2
    echo "set-up failed: '$*' (full output: output/setup.log)" >&2
    exit 1
  fi
}

# Whether a stamp file holds the given fingerprint.
stamped() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }

ensure_project_venv() {
  local want
  want="$(sha256sum pyproject.toml | cut -c1-16)"
  if [[ ! -x .venv/bin/python ]]; then
    echo "==> Creating .venv"
    "$PYTHON" -m venv .venv
  fi
  if ! stamped .venv/.installed "$want"; then
    echo "==> pip install -e \".[dev]\" into .venv (output in output/setup.log)"
    quietly .venv/bin/python -m pip install --upgrade pip
    quietly .venv/bin/python -m pip install -e ".[dev]"
    echo "$want" >.venv/.installed
  fi
}

ensure_meltano_venv() {
  if ! "$MELTANO" --version >/dev/null 2>&1; then
    echo "==> pip install \"meltano~=4.4\" into .venv-meltano (output in output/setup.log)"
    "$PYTHON" -m venv .venv-meltano
    quietly .venv-meltano/bin/python -m pip install --upgrade pip
    quietly .venv-meltano/bin/python -m pip install "meltano~=4.4"
  fi
}

# meltano install re-resolves the editable target against PyPI each time (~4 s);
# skip it while meltano.yml, pyproject.toml and Meltano are unchanged.
ensure_meltano_plugins() {
  ensure_meltano_venv
  local want
  want="$(cat meltano.yml pyproject.toml <("$MELTANO" --version) | sha256sum | cut -c1-16)"
  if ! stamped .meltano/.installed "$want"; then
    echo "==> meltano install (plugins declared inline in meltano.yml)"
    quietly "$MELTANO" install
    echo "$want" >.meltano/.installed
  fi
}

# The directory of PostgreSQL's server binaries (initdb, pg_ctl, postgres, psql):
# $PG_BIN_DIR when set, else Debian's /usr/lib/postgresql/<version>/bin, newest
# first; nothing when there is none. tests/pipelines/postgres.py looks the same way.
postgres_bin_dir() {
  local dir
  while read -r dir; do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" && -x "$dir/psql" ]]; then
      echo "$dir"
      return 0
    fi
  done < <(
    if [[ -n "${PG_BIN_DIR:-}" ]]; then echo "$PG_BIN_DIR"; fi
    find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V -r
  )
  return 1
}

# PostgreSQL's server, which tests/pipelines/test_postgres_pipeline.py starts as a
# throwaway cluster of its own (it never uses the package's own cluster or service).
# Installed once from Debian's packages; afterwards this is one directory lookup.
ensure_postgres() {
  if postgres_bin_dir >/dev/null; then
    return 0
  fi
  local -a as_root=()
  if [[ "$(id -u)" -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "PostgreSQL's server (Debian package 'postgresql') is not installed, and installing it" >&2
      echo "needs root: run 'apt-get install -y postgresql' as root, then this script again." >&2
      exit 1
    fi
    as_root=(sudo)
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL's server is not installed and this is not a Debian-like system (no apt-get):" >&2
    echo "install PostgreSQL and set PG_BIN_DIR to the directory of its initdb, pg_ctl and psql." >&2
    exit 1
  fi
  echo "==> apt-get install postgresql (output in output/setup.log)"
  quietly "${as_root[@]}" apt-get update
  quietly "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends postgresql
  if ! postgres_bin_dir >/dev/null; then
    echo "set-up failed: apt-get installed postgresql but /usr/lib/postgresql/*/bin has no server" >&2
    exit 1
  fi
}
