# Sourced by scripts/run.sh and scripts/test.sh: create (once) and activate the project's own
# virtual environment, .venv in the checkout, and install the project into it.
#
# Never installs into the system interpreter: stock Debian/Ubuntu Pythons are "externally
# managed" and refuse it. Idempotent: a second run reuses .venv and skips pip when neither
# pyproject.toml nor the requested extras changed.
#
#   ensure_env [EXTRAS]    e.g. ensure_env dev   or   ensure_env local

VENV_DIR="${HARNESS_VENV:-.venv}"

env_log() { echo "[env] $*" >&2; }

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3 python; do
    [[ -z "$candidate" ]] && continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

install_venv_support() {
  # Debian/Ubuntu ship venv's pip bootstrap (ensurepip) in a separate package
  local python="$1" version sudo=""
  command -v apt-get >/dev/null 2>&1 || return 1
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || return 1
    sudo="sudo"
  fi
  version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  env_log "installing python${version}-venv (the system Python cannot create virtual environments)"
  $sudo apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "python${version}-venv" >/dev/null ||
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
}

ensure_env() {
  local extras="${1:-}" python stamp wanted spec
  if [[ ! -x "$VENV_DIR/bin/python" ]]; then
    python=$(find_python) || {
      env_log "error: Python >= 3.10 is needed (python3 not found or too old)"
      return 1
    }
    rm -rf "$VENV_DIR"
    if ! "$python" -m venv "$VENV_DIR" >/dev/null 2>&1; then
      rm -rf "$VENV_DIR"
      install_venv_support "$python" && "$python" -m venv "$VENV_DIR" || {
        env_log "error: '$python -m venv' failed; install your distribution's python3-venv package"
        return 1
      }
    fi
    env_log "created $VENV_DIR with $("$VENV_DIR/bin/python" --version)"
  fi
  export VIRTUAL_ENV="$(cd "$VENV_DIR" && pwd)"
  export PATH="$VIRTUAL_ENV/bin:$PATH"
  hash -r

  wanted="$(cat pyproject.toml setup.cfg 2>/dev/null | "$VIRTUAL_ENV/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])')-${extras}"
  stamp="$VIRTUAL_ENV/.reward-harness-installed"
  if [[ -f "$stamp" ]] && grep -qxF "$wanted" "$stamp"; then
    return 0
  fi
  env_log "installing the project into $VENV_DIR (extras: $extras)"
  python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  spec="."
  [[ -n "$extras" ]] && spec=".[$extras]"
  python -m pip install -qq --disable-pip-version-check -e "$spec"
  echo "$wanted" >>"$stamp"
}
