# Sourced by scripts/demo and scripts/test: create .venv and install sessionward into it.
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SESSIONWARD_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
STAMP="$VENV/.sessionward-installed"

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "sessionward needs Python >= 3.11 on PATH" >&2
  return 1
}

if [ ! -x "$PY" ]; then
  "$(find_python)" -m venv "$VENV"
fi
if [ ! -f "$STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$STAMP" ]; then
  echo "==> installing sessionward and its $1 dependencies into $VENV" >&2
  "$PY" -m pip install -q --disable-pip-version-check --upgrade pip >&2
  "$PY" -m pip install -q --disable-pip-version-check -e "$ROOT[$2]" >&2
  touch "$STAMP"
fi
