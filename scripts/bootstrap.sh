# Sourced by the other scripts: creates or refreshes what the project needs.
#   .venv          the target, the emulator and the test tools (requirements/dev.lock)
#   .venv-meltano  Meltano itself, kept apart as Meltano installs plugins in venvs of its own
#                  (requirements/meltano.lock)
#   .meltano/      the plugins declared inline in meltano.yml (meltano install; their
#                  pip_url reads requirements/tap-*.lock and dev.lock)
#   PostgreSQL     Debian's server package, for the tap-postgres pipeline test (apt-get)
#   Chromium       Debian's browser package, for the emulator console's headless test (apt-get)
# Every Python package comes from a committed lock of exact, hash-checked versions,
# so a fresh machine installs what was tested; scripts/upgrade-deps.sh moves the
# locks forward on purpose. Each step is idempotent and skipped while its inputs are
# unchanged, so a warm machine needs no network. Noisy output goes to
# output/setup.log, shown on failure.

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

# A venv holding exactly what a lock names, made anew whenever the lock (or another
# input named after it) changes, so no package of an earlier lock stays behind.
# Usage: locked_venv DIR LOCK [INPUT...] [-- COMMAND...]: COMMAND (run with the
# venv's python) completes the install, e.g. the editable install of this package.
locked_venv() {
  local dir="$1" lock="$2" want
  shift 2
  local -a inputs=("$lock") after=()
  while (($#)); do
    if [[ "$1" == "--" ]]; then
      shift
      after=("$@")
      break
    fi
    inputs+=("$1")
    shift
  done
  want="$(cat "${inputs[@]}" | sha256sum | cut -c1-16)"
  if [[ -x "$dir/bin/python" ]] && stamped "$dir/.installed" "$want"; then
    return 0
  fi
  echo "==> $dir from $lock (output in output/setup.log)"
  rm -rf "$dir"
  quietly "$PYTHON" -m venv "$dir"
  quietly "$dir/bin/python" -m pip install --no-input --require-hashes --no-deps -r "$lock"
  if ((${#after[@]})); then
    quietly "$dir/bin/python" "${after[@]}"
  fi
  echo "$want" >"$dir/.installed"
}

# The target and emulator themselves go in editable, without their dependencies
# (the lock has them) and without build isolation (the lock has setuptools).
ensure_project_venv() {
  locked_venv .venv requirements/dev.lock pyproject.toml -- \
    -m pip install --no-input --no-deps --no-build-isolation -e .
}

ensure_meltano_venv() {
  locked_venv .venv-meltano requirements/meltano.lock
}

# meltano install re-resolves the editable target against PyPI each time (~4 s);
# skip it while meltano.yml, pyproject.toml, the locks and Meltano are unchanged.
# --clean: Meltano fingerprints a plugin by its pip_url, which names a lock file but
# not its contents, so a changed lock would otherwise be installed over the old one.
ensure_meltano_plugins() {
  ensure_meltano_venv
  local want
  want="$(cat meltano.yml pyproject.toml requirements/*.lock <("$MELTANO" --version) |
    sha256sum | cut -c1-16)"
  if ! stamped .meltano/.installed "$want"; then
    echo "==> meltano install --clean (plugins declared inline in meltano.yml)"
    quietly "$MELTANO" install --clean
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
  apt_install postgresql "PostgreSQL's server" \
    "set PG_BIN_DIR to the directory of its initdb, pg_ctl and psql"
  if ! postgres_bin_dir >/dev/null; then
    echo "set-up failed: apt-get installed postgresql but /usr/lib/postgresql/*/bin has no server" >&2
    exit 1
  fi
}

# Installs one Debian package as root (through sudo when not root), output in $SETUP_LOG.
# Usage: apt_install PACKAGE WHAT ELSEWHERE: WHAT names it in messages, ELSEWHERE says
# what to do on a system without apt-get.
apt_install() {
  local package="$1" what="$2" elsewhere="$3"
  local -a as_root=()
  if [[ "$(id -u)" -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "$what (Debian package '$package') is not installed, and installing it" >&2
      echo "needs root: run 'apt-get install -y $package' as root, then this script again." >&2
      exit 1
    fi
    as_root=(sudo)
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$what is not installed and this is not a Debian-like system (no apt-get):" >&2
    echo "install it and $elsewhere." >&2
    exit 1
  fi
  echo "==> apt-get install $package (output in output/setup.log)"
  quietly "${as_root[@]}" apt-get update
  quietly "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "$package"
}

# Chromium, which tests/emulator/test_console.py runs headless (--dump-dom) to check
# that the emulator's console shows what the target loaded, as a person would see it.
ensure_chromium() {
  if [[ -x /usr/bin/chromium ]]; then
    return 0
  fi
  apt_install chromium "Chromium (the console's browser test)" "make it /usr/bin/chromium"
  if [[ ! -x /usr/bin/chromium ]]; then
    echo "set-up failed: apt-get installed chromium but there is no /usr/bin/chromium" >&2
    exit 1
  fi
}
