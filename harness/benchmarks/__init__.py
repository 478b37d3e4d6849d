"""One module per benchmark: dataset loader, native spec conversion, official metric."""

from __future__ import annotations

from inspect_ai.scorer import SampleScore

from harness.scoring import RewardResult, RubricResult


def scored_rubrics(scores: list[SampleScore]) -> tuple[list[RubricResult], int]:
    """The rubric judgments of the benchmark's native spec behind a task's scores, and how many
    samples have none (unscored, or scored with a generated spec: see ``spec_metadata``)."""
    rubrics = []
    for s in scores:
        result = RewardResult.from_metadata(s.score.metadata)
        native = (s.sample_metadata or {}).get("native_spec") or {}
        on_native = native.get("version") in (None, getattr(result, "spec_version", None))
        if result is not None and result.rubric.status == "scored" and on_native:
            rubrics.append(result.rubric)
    return rubrics, len(scores) - len(rubrics)
