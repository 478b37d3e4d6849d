"""The official WritingBench score (X-PLUG/WritingBench ``calculate_scores.py``).

The reference sums every criterion score (1-10) and divides by their count; every prompt has
its 5 criteria, so that is also the mean over prompts of each prompt's mean criterion score,
which is what the reference's per-domain scores average.

Epochs: ``official_values`` puts the sample's mean criterion score in ``Score.value`` under
``VALUE_KEY``; the metric averages the *reduced* values (per-sample means over epochs), so it
is right for any ``--epochs`` and reducer.
"""

from __future__ import annotations

import math

from inspect_ai.scorer import Metric, SampleScore, Value, metric
from inspect_ai.solver import TaskState

from harness.benchmarks import native_rubric, official_unscored, scored_values
from harness.score_values import mean_and_stderr
from harness.scoring import RewardResult

VALUE_KEY = "writingbench_score"
"""Score.value key of a sample's mean criterion score, 1-10 (NaN when it has none)."""
OFFICIAL_METRIC = "writingbench_score@2"
"""name@version of this port of the official metric (recorded in each eval's metadata)."""


def official_values(result: RewardResult, state: TaskState) -> dict[str, float]:
    """``hybrid_reward(official_values=...)``: the sample's mean criterion score (1-10); NaN
    when the rubric is unscored or was judged on a generated spec."""
    rubric = native_rubric(result, state.metadata)
    if rubric is None or not rubric.criteria:
        return {VALUE_KEY: math.nan}
    return {VALUE_KEY: sum(int(c.verdict) for c in rubric.criteria) / len(rubric.criteria)}


@metric
def writingbench_score() -> Metric:
    """``writingbench`` (the official score, 1-10) and ``writingbench_stderr`` over the samples
    with a score (each the mean of its epochs)."""

    def compute(scores: list[SampleScore]) -> Value:

        score, stderr = mean_and_stderr(scored_values(scores, VALUE_KEY))
        return {"writingbench": score, "writingbench_stderr": stderr}

    return compute


def writingbench_unscored() -> Metric:
    """``writingbench_unscored``: (sample, epoch) judgments without an official score."""
    return official_unscored(VALUE_KEY, "writingbench_unscored")
