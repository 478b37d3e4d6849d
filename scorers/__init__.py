"""Inspect scorers over the scoring core (installed as ``harness.scorers``).

Each sample carries its reward spec in ``metadata["reward_spec"]``. Judges come from model
roles: ``rubric_grader`` / ``global_grader`` when bound, else ``grader``; an unbound grader is
an error (never self-grading) unless ``require_grader=False``, in which case the judged
components are reported unscored with the reason.
"""

from harness.score_values import mean_and_stderr, value_of
from harness.scorers._components import code, global_score, rubric
from harness.scorers._hybrid import hybrid_reward
from harness.scorers._metrics import (
    VALUE_KEYS,
    headline,
    reward_metrics,
    reward_summary,
    unscored_counts,
)
from harness.scorers._spec import (
    NATIVE_SPEC_KEY,
    SPEC_KEY,
    chat_messages,
    native_spec_of,
    spec_metadata,
    spec_of,
)

__all__ = [
    "NATIVE_SPEC_KEY",
    "SPEC_KEY",
    "VALUE_KEYS",
    "chat_messages",
    "code",
    "global_score",
    "headline",
    "mean_and_stderr",
    "hybrid_reward",
    "native_spec_of",
    "reward_metrics",
    "reward_summary",
    "rubric",
    "spec_metadata",
    "spec_of",
    "unscored_counts",
    "value_of",
]
