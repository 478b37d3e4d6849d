"""HealthBench (OpenAI, MIT): conversations with physician-written rubrics of signed points.

- ``dataset``: the conversation files and the native spec (rubric items as criteria weighted by
  their points, yes/no scale).
- ``judge``: the reference protocol (simple-evals ``healthbench_eval``), one judge call per item.
- ``metric``: the official score, points met / positive points per sample (unclipped), the
  clipped mean over samples with a bootstrap std, read from Score.value (right for any epochs).

The rubric component of the hybrid reward uses the same judgments with the same arithmetic,
clipped per response (``harness.reward.rubric_score``). See README.md.
"""

from harness.benchmarks.healthbench.dataset import (
    SPEC_TEMPLATE,
    SUBSETS,
    load_records,
    native_spec,
    theme_of,
)
from harness.benchmarks.healthbench.judge import (
    GRADER_SYSTEM,
    GRADER_TEMPLATE,
    HealthBenchRubric,
    conversation_with_response,
    rubric_item,
)
from harness.benchmarks.healthbench.metric import (
    OFFICIAL_METRIC,
    VALUE_KEY,
    aggregate,
    healthbench_score,
    healthbench_unscored,
    official_values,
    sample_score,
)

__all__ = [
    "GRADER_SYSTEM",
    "GRADER_TEMPLATE",
    "OFFICIAL_METRIC",
    "SPEC_TEMPLATE",
    "SUBSETS",
    "VALUE_KEY",
    "HealthBenchRubric",
    "aggregate",
    "conversation_with_response",
    "healthbench_score",
    "healthbench_unscored",
    "load_records",
    "native_spec",
    "official_values",
    "rubric_item",
    "sample_score",
    "theme_of",
]
