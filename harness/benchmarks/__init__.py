"""One package per benchmark (dataset, judge protocol, official metric), and what they share.

The epochs rule every official metric here follows: Inspect reduces each sample's epochs (mean
by default) *before* metrics run and keeps ``Score.metadata`` of the first epoch only, so an
official metric reads what it needs from ``Score.value`` — numbers put there per sample by the
benchmark's ``official_values`` (``hybrid_reward(official_values=...)``), NaN when unscored —
and is then right for any ``--epochs`` and reducer. ``official_unscored`` counts the unscored
(sample, epoch) judgments behind such a value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from inspect_ai.scorer import Metric, SampleScore, Value, metric

from harness.score_values import value_of
from harness.scoring import RewardResult, RubricResult
from harness.spec import NATIVE_SPEC_KEY


def native_rubric(result: RewardResult, metadata: Mapping[str, Any] | None) -> RubricResult | None:
    """The scored rubric judgment of a sample if it was scored with the benchmark's own spec.

    None when the rubric is unscored, or when the hybrid reward used a spec built for the same
    prompt (``specs=``): official numbers come from the native spec only (``spec_metadata``).
    """
    if not _on_native_spec(result, metadata) or result.rubric.status != "scored":
        return None
    return result.rubric


def _on_native_spec(result: RewardResult, metadata: Mapping[str, Any] | None) -> bool:
    native = (metadata or {}).get(NATIVE_SPEC_KEY) or {}
    return native.get("version") in (None, result.spec_version)


def scored_values(scores: list[SampleScore], key: str) -> list[float]:
    """The non-NaN values of ``key`` over the (reduced) sample scores."""
    return [v for v in (value_of(s, key) for s in scores) if not math.isnan(v)]


@metric(scores="unreduced")
def official_unscored(key: str, name: str) -> Metric:
    """``name``: how many (sample, epoch) judgments have no official value under ``key``."""

    def compute(scores: list[SampleScore]) -> Value:
        return {name: float(sum(math.isnan(value_of(s, key)) for s in scores))}

    return compute


# -- reading Score.metadata (first epoch only under reducers) ------------------------------


def native_result(score: SampleScore) -> RewardResult | None:
    """The reward result of a sample if it was scored with the benchmark's own spec.

    Reads ``Score.metadata``: after epoch reduction that is the first epoch's only, so an
    official metric must not aggregate it (see the module docstring).
    """
    result = RewardResult.from_metadata(score.score.metadata)
    if result is None or not _on_native_spec(result, score.sample_metadata):
        return None
    return result


def scored_rubrics(scores: list[SampleScore]) -> tuple[list[RubricResult], int]:
    """The rubric judgments of the benchmark's native spec behind a task's scores, and how many
    samples have none (unscored, or scored with a generated spec: see ``spec_metadata``).

    Reads ``Score.metadata`` (first epoch only under reducers): for inspecting one epoch's
    judgments, not for official metrics.
    """
    rubrics = []
    for s in scores:
        result = native_result(s)
        if result is not None and result.rubric.status == "scored":
            rubrics.append(result.rubric)
    return rubrics, len(scores) - len(rubrics)
