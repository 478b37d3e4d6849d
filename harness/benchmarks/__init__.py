"""One module per benchmark: dataset loader, native spec conversion, official metric."""

from __future__ import annotations

from inspect_ai.scorer import SampleScore

from harness.scoring import RewardResult, RubricResult


def scored_rubrics(scores: list[SampleScore]) -> tuple[list[RubricResult], int]:
    """The scored rubric judgments behind a task's scores, and how many samples have none."""
    rubrics = []
    for s in scores:
        result = RewardResult.from_metadata(s.score.metadata)
        if result is not None and result.rubric.status == "scored":
            rubrics.append(result.rubric)
    return rubrics, len(scores) - len(rubrics)
