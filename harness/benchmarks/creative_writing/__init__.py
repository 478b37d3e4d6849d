"""Creative Writing v3 (EQ-Bench creative-writing-bench): 32 prompts × 3 seeds, 22 criteria.

- ``dataset``: the prompts and seeds, the rubric files, the published results, the native spec;
- ``judge``: the official judging prompt and parser (``CreativeWritingRubric``, the
  ``creative_writing`` rubric mode) and the per-sample official item score (``official_values``);
- ``metric``: the official item and benchmark scores and the ``creative_writing_score`` metric.

Checked against the published result pages (5 models × 96 items): the parser reproduces the
published per-criterion scores of all 480 judge replies and the item score all 480 published
item scores. See README.md.
"""

from harness.benchmarks.creative_writing.dataset import (
    CRITERIA_FILE,
    ITERATIONS,
    JUDGE_PROMPT_FILE,
    LOWER_IS_BETTER,
    NEGATIVE_CRITERIA_FILE,
    PROMPTS_FILE,
    PUBLISHED_RESULTS_FILE,
    SPEC_TEMPLATE,
    load_criteria,
    load_negative_criteria,
    load_prompts,
    load_published_results,
    load_records,
    native_spec,
)
from harness.benchmarks.creative_writing.judge import (
    JUDGE_PROMPT,
    OFFICIAL_NEGATIVE_ORDER,
    OFFICIAL_PARSE_NOTE,
    OFFICIAL_SCORE_PATTERNS,
    CreativeWritingRubric,
    is_lower_better,
    judge_response_text,
    judge_writing_prompt,
    official_name,
    official_parse,
    official_values,
    parse_judge_scores,
    sample_item_score,
    strip_reasoning,
)
from harness.benchmarks.creative_writing.metric import (
    ITEM_SCORE,
    SCALE_MAX,
    benchmark_score,
    creative_writing_score,
    creative_writing_unscored,
    invert_if_negative,
    item_score,
    published_item_score,
)

__all__ = [
    "CRITERIA_FILE",
    "ITEM_SCORE",
    "ITERATIONS",
    "JUDGE_PROMPT",
    "JUDGE_PROMPT_FILE",
    "LOWER_IS_BETTER",
    "NEGATIVE_CRITERIA_FILE",
    "OFFICIAL_NEGATIVE_ORDER",
    "OFFICIAL_PARSE_NOTE",
    "OFFICIAL_SCORE_PATTERNS",
    "PROMPTS_FILE",
    "PUBLISHED_RESULTS_FILE",
    "SCALE_MAX",
    "SPEC_TEMPLATE",
    "CreativeWritingRubric",
    "benchmark_score",
    "creative_writing_score",
    "creative_writing_unscored",
    "invert_if_negative",
    "is_lower_better",
    "item_score",
    "judge_response_text",
    "judge_writing_prompt",
    "load_criteria",
    "load_negative_criteria",
    "load_prompts",
    "load_published_results",
    "load_records",
    "native_spec",
    "official_name",
    "official_parse",
    "official_values",
    "parse_judge_scores",
    "published_item_score",
    "sample_item_score",
    "strip_reasoning",
]
