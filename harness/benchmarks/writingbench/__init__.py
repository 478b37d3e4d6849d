"""WritingBench (X-PLUG, Apache-2.0): 1,000 writing prompts, each with its own 5-criterion checklist.

Native spec: the 5 checklist items become 5 equally weighted criteria on the 1-10 scale, with
their band descriptions as anchors. The official protocol scores each criterion 1-10 in its own
judge call with the benchmark's evaluation prompt; the benchmark score is the mean of all
criterion scores (1-10 scale).

The rubric component of the hybrid reward reuses those official judgments, mapped to [0, 1]
as (s - 1) / 9, instead of paying for a second judge call.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import ChatMessage, ChatMessageSystem, ChatMessageUser
from inspect_ai.scorer import Metric, SampleScore, Value, metric

from harness.benchmarks import scored_rubrics
from harness.data import DataError, DataFile, read_jsonl, resolve
from harness.judges.calling import JudgeReplyError
from harness.judges.parsing import extract_json, normalise_verdict, one_line
from harness.judges.rubric import CriterionJudgment, PerCriterionRubric
from harness.spec import Criterion, Provenance, RewardSpec

SOURCE = DataFile(
    dataset="WritingBench",
    relative_path="writingbench/benchmark_all.jsonl",
    url="https://raw.githubusercontent.com/X-PLUG/WritingBench/main/benchmark_query/benchmark_all.jsonl",
)
BANDS = ("1-2", "3-4", "5-6", "7-8", "9-10")
SPEC_TEMPLATE = "writingbench-checklist@1"


def load_records(
    domain1: list[str] | None = None, domain2: list[str] | None = None
) -> list[dict[str, Any]]:
    path = resolve(SOURCE)
    records = read_jsonl(path, required=("index", "domain1", "domain2", "query", "checklist"))
    for r in records:
        if not isinstance(r["checklist"], list) or not r["checklist"]:
            raise DataError(f"{path}: prompt {r['index']} has no checklist")
    if domain1:
        records = [r for r in records if r["domain1"] in domain1]
    if domain2:
        records = [r for r in records if r["domain2"] in domain2]
    return records


def native_spec(record: dict[str, Any]) -> RewardSpec:
    criteria = []
    for i, item in enumerate(record["checklist"], start=1):
        missing = [k for k in ("name", "criteria_description", *BANDS) if k not in item]
        if missing:
            raise DataError(f"WritingBench prompt {record['index']} criterion {i} lacks {missing}")
        criteria.append(
            Criterion(
                id=f"c{i}",
                text=item["criteria_description"],
                category=item["name"],
                anchors={band: item[band] for band in BANDS},
            )
        )
    return RewardSpec(
        prompt_id=f"writingbench-{record['index']}",
        prompt=record["query"],
        task_label="writing",
        verdict_scale="one_to_ten",
        criteria=tuple(criteria),
        provenance=Provenance(
            builder="writingbench-native", template_version=SPEC_TEMPLATE, source=SOURCE.url
        ),
    )


# The benchmark's own evaluation prompt (X-PLUG/WritingBench, prompt.py), unchanged in wording.
EVALUATE_SYSTEM = (
    "You are an expert evaluator with extensive experience in evaluating response of given query."
)

EVALUATE_PROMPT = """Evaluate the Response based on the Query and Criteria provided following the Scoring Rules.

** Scoring Rules **

"1-2": "Low score description: Critical deficiencies and major issues that prevent adequate functionality.",
"3-4": "Below average score description: Lacking with noticeable shortcomings that impact overall effectiveness and require improvement.",
"5-6": "Average score description: Adequate but not exemplary, Baseline performance that meets essential requirements. Most models may achieve this score.",
"7-8": "Above average score description: Strong performance characterized by competent execution, though minor refinements are needed to achieve excellence.",
"9-10": "High score description: Exceptional performance with all aspects optimally addressed, demonstrating superior effectiveness and quality without any flaws."

-Provide reasons for each score by indicating specific strengths or deficiencies within the Response. Reference exact text passages to justify the score, ensuring that each reason is concrete and aligns with the criteria requirements while highlighting key gaps from the ideal answer.

-Be very STRICT and do not be misled by format or length; ensure that the Response is thoroughly evaluated beyond superficial appearances.

-Carefully discern whether the content of the Response is an illusion, appearing substantial but actually entirely fabricated.

-Sometimes the model may only provide an introduction or an overview without truly completing the query, which should be considered a failed response. Carefully discern this.

-Scoring Range: Assign an integer score between 1 to 10

** Output format ** 
(Remove symbols that interfere with JSON parsing, don't use " inside reason)
Return the results in the following JSON format, Only output the following JSON format and nothing else:
```json
{{
    "score": an integer score between 1 to 10,
    "reason": "Specific and detailed justification for the score using text elements."
}}

** Criteria **
```{criteria}```

** Query **
```{query}```

** Response **
```{response}```

Provide your evaluation based on the criteria restated below:

```{criteria}```

** Output format ** 
(Remove symbols that interfere with JSON parsing, don't use " inside reason)
Return the results in the following JSON format, Only output the following JSON format and nothing else:
```json
{{
    "score": an integer score between 1 to 10,
    "reason": "Specific and detailed justification for the score using text elements."
}}
```"""


def checklist_item(criterion: Criterion) -> dict[str, str]:
    """The checklist item as it appears in the dataset (the judge sees it in this form)."""
    return {
        "name": criterion.category or "",
        "criteria_description": criterion.text,
        **criterion.anchors,
    }


def strip_thinking(response: str) -> str:
    marker = "</think>\n\n"
    position = response.find(marker)
    return response if position == -1 else response[position + len(marker) :]


class WritingBenchRubric(PerCriterionRubric):
    """WritingBench's official judging: one call per criterion, an integer 1-10 with a reason."""

    name = "writingbench_official"
    version = "1"

    def messages(self, spec: RewardSpec, criterion: Criterion, response: str) -> list[ChatMessage]:
        if spec.verdict_scale != "one_to_ten":
            raise ValueError("the WritingBench protocol grades on the 1-10 scale")
        # As the reference evaluator does: the checklist item goes in as its Python repr, and a
        # reasoning model's thinking is cut off the response.
        prompt = EVALUATE_PROMPT.format(
            criteria=str(checklist_item(criterion)),
            query=spec.prompt_text,
            response=strip_thinking(response),
        )
        return [ChatMessageSystem(content=EVALUATE_SYSTEM), ChatMessageUser(content=prompt)]

    def response_schema(self, spec: RewardSpec) -> None:
        return None  # the reference implementation asks for JSON in free text; so do we

    def parse(self, text: str, spec: RewardSpec, criterion: Criterion) -> CriterionJudgment:
        data = extract_json(text)
        if not isinstance(data, dict) or "score" not in data:
            raise JudgeReplyError('expected {"score": 1-10, "reason": ...}')
        verdict, value = normalise_verdict(data["score"], "one_to_ten")
        return CriterionJudgment(
            id=criterion.id, verdict=verdict, value=value, reason=one_line(data.get("reason"))
        )


@metric
def writingbench_score() -> Metric:
    """Official WritingBench score (1-10): the mean of all criterion scores of all samples.

    (The reference ``calculate_scores.py`` sums every criterion score and divides by their
    count; with 5 criteria per prompt that is also the mean of per-prompt means.) Samples whose
    rubric judgment is unscored are left out and counted.
    """

    def compute(scores: list[SampleScore]) -> Value:
        rubrics, unscored = scored_rubrics(scores)
        per_sample = [[int(c.verdict) for c in r.criteria] for r in rubrics]
        all_scores = [x for sample in per_sample for x in sample]
        overall = sum(all_scores) / len(all_scores) if all_scores else float("nan")
        means = [sum(sample) / len(sample) for sample in per_sample]
        n = len(means)
        var = sum((m - overall) ** 2 for m in means) / (n - 1) if n > 1 else float("nan")
        return {
            "writingbench": overall,
            "writingbench_stderr": (var / n) ** 0.5 if n > 1 else float("nan"),
            "writingbench_unscored": float(unscored),
        }

    return compute
