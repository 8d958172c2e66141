# Sourced by the other scripts: creates or refreshes the project's virtualenvs.
#   .venv          the target, the emulator and the test tools (pip install -e ".[dev]")
#   .venv-meltano  Meltano itself, kept apart as Meltano installs plugins in venvs of its own
# Idempotent and quick when nothing changed (a stamp file tracks pyproject.toml).

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"

ensure_project_venv() {
  local stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
  if [[ ! -x .venv/bin/python ]]; then
    echo "==> Creating .venv"
    "$PYTHON" -m venv .venv
  fi
  if [[ ! -f "$stamp" ]]; then
    echo "==> Installing target-iterable and its test tools into .venv"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[dev]"
    rm -f .venv/.installed-*
    touch "$stamp"
  fi
}

ensure_meltano_venv() {
  if [[ ! -x .venv-meltano/bin/meltano ]]; then
    echo "==> Installing Meltano into .venv-meltano"
    "$PYTHON" -m venv .venv-meltano
    .venv-meltano/bin/python -m pip install --quiet --upgrade pip
    .venv-meltano/bin/python -m pip install --quiet "meltano~=4.4"
  fi
}
