"""Rubric judging protocols by name: ours and the benchmarks' official ones."""

from __future__ import annotations

from harness.benchmarks.creative_writing import CreativeWritingRubric
from harness.benchmarks.healthbench import HealthBenchRubric
from harness.benchmarks.writingbench import WritingBenchRubric
from harness.judges.rubric import PerCriterionRubric, RubricProtocol, SingleCallRubric

RUBRIC_PROTOCOLS: dict[str, type[RubricProtocol]] = {
    "single": SingleCallRubric,
    "per_criterion": PerCriterionRubric,
    "writingbench": WritingBenchRubric,
    "healthbench": HealthBenchRubric,
    "creative_writing": CreativeWritingRubric,
}


def rubric_protocol_named(name: str) -> RubricProtocol:
    if name not in RUBRIC_PROTOCOLS:
        raise ValueError(
            f"unknown rubric mode {name!r}; expected one of {sorted(RUBRIC_PROTOCOLS)}"
        )
    return RUBRIC_PROTOCOLS[name]()
