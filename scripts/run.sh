#!/usr/bin/env bash
# Install, then run an evaluation and say where its log is.
#   bash scripts/run.sh                       offline smoke run: WritingBench, 2 prompts, scripted
#                                             stand-ins for policy and judge (judged parts unscored)
#   bash scripts/run.sh <inspect eval args>   anything `inspect eval` accepts, e.g.
#       harness/writingbench --model openai/gpt-4o-mini --model-role grader=openai/gpt-4.1 --limit 20
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e .

if [[ -z "${HARNESS_DATA_DIR:-}" && -d ../shared/data ]]; then
  export HARNESS_DATA_DIR="$(cd ../shared/data && pwd)"
fi

if [[ $# -eq 0 ]]; then
  set -- harness/writingbench --model mockllm/model --model-role grader=mockllm/model --limit 2
fi

log_dir="${INSPECT_LOG_DIR:-logs}"
inspect eval "$@" --log-dir "$log_dir"
echo
echo "Log: $(ls -t "$log_dir"/*.eval | head -1)"
echo "Open it with: inspect view --log-dir $log_dir"
