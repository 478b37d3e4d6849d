"""One module per benchmark: dataset loader, native spec conversion, official metric."""

from __future__ import annotations

from inspect_ai.scorer import SampleScore

from harness.scoring import RewardResult, RubricResult


def native_result(score: SampleScore) -> RewardResult | None:
    """The reward result of a sample if it was scored with the benchmark's own spec."""
    result = RewardResult.from_metadata(score.score.metadata)
    native = (score.sample_metadata or {}).get("native_spec") or {}
    if result is None or native.get("version") not in (None, result.spec_version):
        return None
    return result


def scored_rubrics(scores: list[SampleScore]) -> tuple[list[RubricResult], int]:
    """The rubric judgments of the benchmark's native spec behind a task's scores, and how many
    samples have none (unscored, or scored with a generated spec: see ``spec_metadata``)."""
    rubrics = []
    for s in scores:
        result = native_result(s)
        if result is not None and result.rubric.status == "scored":
            rubrics.append(result.rubric)
    return rubrics, len(scores) - len(rubrics)
