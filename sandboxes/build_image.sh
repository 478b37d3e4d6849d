#!/usr/bin/env bash
# Build the checker sandbox image for this checkout if it is missing (offline when no registry answers).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python -m harness.checkers.image build
