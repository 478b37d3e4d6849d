"""Metrics of the reward scorers: mean and stderr per value key (per group), unscored counts.

Every metric here is a plain metric of the scorer (no per-key metric dicts), so every number
lives under the scorer's name: ``evals_df`` columns read ``score_hybrid_reward_reward`` and a
second scorer appended by ``inspect score --action append`` gets its own distinct columns.

Epochs: means are taken over the *reduced* values (Inspect's epoch reducer, mean by default,
skips unscored epochs), so they are correct for any ``--epochs``. Unscored counts read every
epoch (``scores="unreduced"``): they count unscored (sample, epoch) judgments.
"""

from __future__ import annotations

from collections import defaultdict

from inspect_ai.log import HeadlineMetric
from inspect_ai.scorer import Metric, SampleScore, Value, metric

from harness.reward import COMPONENTS
from harness.score_values import mean_and_stderr, value_of
from harness.scoring import RewardResult

VALUE_KEYS = ("reward", *COMPONENTS)
"""The keys every reward scorer's Score.value has (NaN when unscored or absent)."""


@metric
def reward_summary(keys: list[str] | None = None, group_by: str | None = None) -> Metric:
    """``<key>`` (mean) and ``<key>_stderr`` of each value key, and ``<key>_<group>`` (mean per
    value of the sample metadata field ``group_by``) for the reward. Unscored (NaN) values are
    skipped, and counted by ``unscored_counts``."""
    names = list(keys or VALUE_KEYS)

    def compute(scores: list[SampleScore]) -> Value:
        out: dict[str, float] = {}
        for key in names:
            out[key], out[f"{key}_stderr"] = mean_and_stderr([value_of(s, key) for s in scores])
        if group_by:
            groups: dict[str, list[float]] = defaultdict(list)
            for s in scores:
                group = str((s.sample_metadata or {}).get(group_by, "none"))
                groups[group].append(value_of(s, names[0]))
            for group in sorted(groups):
                out[f"{names[0]}_{group}"] = mean_and_stderr(groups[group])[0]
        return out

    return compute


@metric(scores="unreduced")
def unscored_counts() -> Metric:
    """How many (sample, epoch) judgments have each of reward/rubric/global/code unscored
    (absent components excluded)."""

    def compute(scores: list[SampleScore]) -> Value:
        counts = dict.fromkeys(VALUE_KEYS, 0)
        for s in scores:
            result = RewardResult.from_metadata(s.score.metadata)
            if result is None:
                continue
            counts["reward"] += result.reward is None
            for name in COMPONENTS:
                counts[name] += result.component(name).status == "unscored"
        return {f"{k}_unscored": float(v) for k, v in counts.items()}

    return compute


def reward_metrics(group_by: str | None = None) -> list[Metric]:
    """The reward scorers' metrics: mean reward first (the headline of a task without an
    official score), then each component, per-group reward means, and the unscored counts.
    Benchmark tasks put their official metric before these."""
    return [reward_summary(group_by=group_by), unscored_counts()]


def headline(metric_name: str = "reward", scorer: str = "hybrid_reward") -> HeadlineMetric:
    """A task's headline (``Task(headline_metric=...)``): the number users came for — the
    official score of a benchmark, the mean reward otherwise — never an unscored count."""
    return HeadlineMetric(scorer=scorer, metric=metric_name)
