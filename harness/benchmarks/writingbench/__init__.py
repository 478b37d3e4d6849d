"""WritingBench (X-PLUG, Apache-2.0): 1,000 writing prompts, each with its own 5-criterion checklist.

- ``dataset``: the prompts and the native spec (5 equally weighted criteria on the 1-10 scale,
  band descriptions as anchors).
- ``judge``: the official protocol, one call per criterion with the benchmark's evaluation
  prompt, an integer 1-10.
- ``metric``: the official score, the mean of all criterion scores, read from Score.value
  (right for any epochs).

The rubric component of the hybrid reward reuses the official judgments, mapped to [0, 1] as
(s - 1) / 9, instead of paying for a second judge call. See README.md.
"""

from harness.benchmarks.writingbench.dataset import (
    BANDS,
    SOURCE,
    SPEC_TEMPLATE,
    load_records,
    native_spec,
)
from harness.benchmarks.writingbench.judge import (
    EVALUATE_PROMPT,
    EVALUATE_SYSTEM,
    WritingBenchRubric,
    checklist_item,
    strip_thinking,
)
from harness.benchmarks.writingbench.metric import (
    OFFICIAL_METRIC,
    VALUE_KEY,
    official_values,
    writingbench_score,
    writingbench_unscored,
)

__all__ = [
    "BANDS",
    "EVALUATE_PROMPT",
    "EVALUATE_SYSTEM",
    "OFFICIAL_METRIC",
    "SOURCE",
    "SPEC_TEMPLATE",
    "VALUE_KEY",
    "WritingBenchRubric",
    "checklist_item",
    "load_records",
    "native_spec",
    "official_values",
    "strip_thinking",
    "writingbench_score",
    "writingbench_unscored",
]
