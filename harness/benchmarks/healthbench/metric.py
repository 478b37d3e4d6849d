"""The official HealthBench score (simple-evals ``healthbench_eval``).

A sample's score is the points of the rubric items met over the total positive points
(unclipped: pitfalls can make it negative); the benchmark score is clip(mean over samples, 0, 1)
with the bootstrap standard deviation of clipped resampled means.

Epochs: ``official_values`` puts the sample's unclipped score in ``Score.value`` under
``VALUE_KEY``; the metric averages the *reduced* values (per-sample means over epochs), so it
is right for any ``--epochs`` and reducer.
"""

from __future__ import annotations

import math

import numpy as np
from inspect_ai.scorer import Metric, SampleScore, Value, metric
from inspect_ai.solver import TaskState

from harness.benchmarks import native_rubric, official_unscored, scored_values
from harness.scoring import RewardResult

VALUE_KEY = "healthbench_score"
"""Score.value key of a sample's unclipped official score (NaN when it has none)."""
OFFICIAL_METRIC = "healthbench_score@2"
"""name@version of this port of the official metric (recorded in each eval's metadata)."""


def sample_score(points: list[float], met: list[bool]) -> float | None:
    """Official per-sample score: points of met items / total positive points (unclipped)."""
    possible = sum(p for p in points if p > 0)
    if possible <= 0:
        return None
    return sum(p for p, m in zip(points, met, strict=True) if m) / possible


def aggregate(
    values: list[float], bootstrap_samples: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Official aggregation: clip(mean, 0, 1) and the bootstrap std of clipped resampled means."""
    if not values:
        return float("nan"), float("nan")
    # sorted: the same samples give the same std in any order
    arr = np.sort(np.asarray(values, dtype=float))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(arr), size=(bootstrap_samples, len(arr)))
    boot = np.clip(arr[idx].mean(axis=1), 0, 1)
    return float(np.clip(arr.mean(), 0, 1)), float(boot.std())


def official_values(result: RewardResult, state: TaskState) -> dict[str, float]:
    """``hybrid_reward(official_values=...)``: the sample's unclipped official score; NaN when
    the rubric is unscored, was judged on a generated spec, or has no positive points."""
    rubric = native_rubric(result, state.metadata)
    value = (
        None
        if rubric is None
        else sample_score(
            [c.weight for c in rubric.criteria], [c.verdict == "yes" for c in rubric.criteria]
        )
    )
    return {VALUE_KEY: math.nan if value is None else value}


@metric
def healthbench_score(bootstrap_samples: int = 1000) -> Metric:
    """``healthbench`` (the official score) and ``healthbench_bootstrap_std`` over the samples
    with an official score (each the mean of its epochs)."""

    def compute(scores: list[SampleScore]) -> Value:
        score, std = aggregate(scored_values(scores, VALUE_KEY), bootstrap_samples)
        return {"healthbench": score, "healthbench_bootstrap_std": std}

    return compute


def healthbench_unscored() -> Metric:
    """``healthbench_unscored``: (sample, epoch) judgments without an official score."""
    return official_unscored(VALUE_KEY, "healthbench_unscored")
