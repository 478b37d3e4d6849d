"""AlpacaEval 2 (tatsu-lab/alpaca_eval): 805 instructions judged pairwise against gpt4_1106_preview.

- ``dataset``: the instructions, the baseline's and any published model's outputs, the published
  annotations and leaderboard;
- ``judge``: the leaderboard annotator's protocol (``weighted_alpaca_eval_gpt4_turbo``: prompt,
  seeded order, logprob-weighted preference) and the ``alpaca_eval_pairwise`` scorer;
- ``metric``: the official ``get_winrate`` and the ``alpaca_eval_winrate`` metric.

**The length-controlled win rate is not implemented**: the official
``get_length_controlled_winrate`` fits its GLM on instruction-difficulty parameters and on the
annotations of two "gamed" baselines, downloaded from the Hugging Face hub at run time; they ship
neither in the ``alpaca-eval`` package nor in the offline data, and an approximation is not
reported under its name. See README.md.
"""

from harness.benchmarks.alpaca_eval.dataset import (
    ANNOTATOR,
    BASELINE,
    LEADERBOARD,
    N_INSTRUCTIONS,
    REPO_RAW,
    aligned_outputs,
    annotations_file,
    load_annotations,
    load_leaderboard,
    load_model_outputs,
    load_records,
    model_outputs_file,
)
from harness.benchmarks.alpaca_eval.judge import (
    FIRST,
    JUDGE_TEMPLATE,
    METADATA_KEY,
    PROTOCOL,
    SECOND,
    SWITCH_SEED,
    TOP_LOGPROBS,
    PairwiseJudgment,
    Verdict,
    alpaca_eval_pairwise,
    is_switched,
    judge_config,
    judge_messages,
    judge_pair,
    judgment_of,
    parse_verdict,
    render_markdown,
)
from harness.benchmarks.alpaca_eval.metric import (
    DISCRETE_PREFERENCE,
    LENGTH,
    PREFERENCE,
    VALUE_KEYS,
    alpaca_eval_unscored,
    alpaca_eval_winrate,
    avg_length,
    discrete_preference,
    get_winrate,
    preference_values,
    winrate,
)

__all__ = [
    "ANNOTATOR",
    "BASELINE",
    "DISCRETE_PREFERENCE",
    "FIRST",
    "JUDGE_TEMPLATE",
    "LEADERBOARD",
    "LENGTH",
    "METADATA_KEY",
    "N_INSTRUCTIONS",
    "PREFERENCE",
    "PROTOCOL",
    "REPO_RAW",
    "SECOND",
    "SWITCH_SEED",
    "TOP_LOGPROBS",
    "VALUE_KEYS",
    "PairwiseJudgment",
    "Verdict",
    "aligned_outputs",
    "alpaca_eval_pairwise",
    "alpaca_eval_unscored",
    "alpaca_eval_winrate",
    "annotations_file",
    "avg_length",
    "discrete_preference",
    "get_winrate",
    "is_switched",
    "judge_config",
    "judge_messages",
    "judge_pair",
    "judgment_of",
    "load_annotations",
    "load_leaderboard",
    "load_model_outputs",
    "load_records",
    "model_outputs_file",
    "parse_verdict",
    "preference_values",
    "render_markdown",
    "winrate",
]
