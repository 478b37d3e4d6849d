#!/usr/bin/env bash
# Build the checker sandbox image for this checkout if it is missing (offline when no registry answers).
# Runs with the project's environment (.venv, made by scripts/run.sh or scripts/test.sh) when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
python=python3
if [[ -x .venv/bin/python ]]; then python=.venv/bin/python; fi
exec "$python" -m harness.checkers.image build
