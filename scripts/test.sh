#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh machine, then run it.
# Benchmark data: HARNESS_DATA_DIR (default: ../shared/data beside the checkout, when present).
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e ".[dev]"

if [[ -z "${HARNESS_DATA_DIR:-}" && -d ../shared/data ]]; then
  export HARNESS_DATA_DIR="$(cd ../shared/data && pwd)"
fi

exec python -m pytest -q "$@"
