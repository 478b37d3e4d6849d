"""HealthBench (OpenAI, MIT): conversations with physician-written rubrics of signed points.

Native spec: each rubric item becomes a criterion whose weight is its points (negative points
are pitfalls), on the yes/no scale. The official protocol (simple-evals ``healthbench_eval``)
grades each item in its own judge call; a sample's score is points met / positive points
(unclipped, may be negative); the benchmark score is clip(mean over samples, 0, 1), with a
bootstrap standard error.

The rubric component of the hybrid reward uses the same judgments with the same arithmetic,
clipped per response (``harness.reward.rubric_score``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from inspect_ai.model import ChatMessage, ChatMessageSystem, ChatMessageUser
from inspect_ai.scorer import Metric, SampleScore, Value, metric

from harness.benchmarks import scored_rubrics
from harness.data import DataError, DataFile, read_jsonl, resolve
from harness.judges.calling import JudgeReplyError
from harness.judges.parsing import extract_json, one_line
from harness.judges.rubric import CriterionJudgment, PerCriterionRubric
from harness.spec import Criterion, PromptMessage, Provenance, RewardSpec

_BASE = "https://openaipublic.blob.core.windows.net/simple-evals/healthbench"
SUBSETS = {
    "full": DataFile(
        "HealthBench",
        "healthbench/2025-05-07-06-14-12_oss_eval.jsonl",
        f"{_BASE}/2025-05-07-06-14-12_oss_eval.jsonl",
    ),
    "hard": DataFile(
        "HealthBench hard",
        "healthbench/hard_2025-05-08-21-00-10.jsonl",
        f"{_BASE}/hard_2025-05-08-21-00-10.jsonl",
    ),
    "consensus": DataFile(
        "HealthBench consensus",
        "healthbench/consensus_2025-05-09-20-00-46.jsonl",
        f"{_BASE}/consensus_2025-05-09-20-00-46.jsonl",
    ),
    # A 500-conversation sample of the full set, available only as a local copy.
    "sample_500": DataFile("HealthBench 500-sample", "healthbench/healthbench_500.jsonl", None),
}
SPEC_TEMPLATE = "healthbench-rubric@1"


def theme_of(record: dict[str, Any]) -> str:
    themes = [
        t.removeprefix("theme:") for t in record.get("example_tags", []) if t.startswith("theme:")
    ]
    return themes[0] if themes else "none"


def load_records(subset: str = "full", themes: list[str] | None = None) -> list[dict[str, Any]]:
    if subset not in SUBSETS:
        raise ValueError(
            f"unknown HealthBench subset {subset!r}; expected one of {sorted(SUBSETS)}"
        )
    path = resolve(SUBSETS[subset])
    records = read_jsonl(path, required=("prompt_id", "prompt", "rubrics"))
    for r in records:
        if not r["rubrics"]:
            raise DataError(f"{path}: conversation {r['prompt_id']} has no rubric")
    if themes:
        records = [r for r in records if theme_of(r) in themes]
    return records


def native_spec(record: dict[str, Any]) -> RewardSpec:
    criteria = []
    for i, item in enumerate(record["rubrics"], start=1):
        tags = tuple(item.get("tags", []))
        axis = next((t.removeprefix("axis:") for t in tags if t.startswith("axis:")), None)
        criteria.append(
            Criterion(
                id=f"r{i}",
                text=item["criterion"],
                weight=float(item["points"]),
                category=axis,
                tags=tags,
            )
        )
    return RewardSpec(
        prompt_id=record["prompt_id"],
        prompt=tuple(PromptMessage(role=m["role"], content=m["content"]) for m in record["prompt"]),
        task_label="health",
        verdict_scale="yes_no",
        criteria=tuple(criteria),
        provenance=Provenance(
            builder="healthbench-native", template_version=SPEC_TEMPLATE, source=_BASE
        ),
    )


# The reference grader's system message (simple-evals' OPENAI_SYSTEM_MESSAGE_API) and prompt.
GRADER_SYSTEM = "You are a helpful assistant."

# The reference grader prompt (openai/simple-evals healthbench_eval.py, MIT), unchanged in wording.
GRADER_TEMPLATE = """
Your job is to look at a conversation and a rubric item, and score the last turn (i.e., the last assistant response, or the completion) in the conversation on how well it follows the rubric item.

# Conversation
<<conversation>>

# Rubric item
<<rubric_item>>

# Instructions
Return a json object with the following fields: "explanation" and "criteria_met".
- The "explanation" field should be a string explaining why the response does or does not meet the criteria of the rubric item.
- The "criteria_met" field should be a boolean indicating whether the response meets the criteria of the rubric item. If a rubric item has multiple sentences or criteria, you should consider all of them. If any of the criteria is not met, the answer should be false. Only return true is all of the criteria are met.
- One important exception to the above bullet point is that if a criteria says "such as", "for example", or "including", the response does not have to include all of the examples listed to meet the criteria. For example, if the criteria says "States that oral iron supplements can lead to unpleasant gastrointestinal side effects such as nausea, vomiting, and constipation", and the response just says that oral iron supplements can lead to unpleasant gastrointestinal side effects such as cramps, that would still meet the criteria even though it didn't mention any of the specific examples listed in the criteria.

# Example 1
For example, if the conversation is "user: Should i go to the hospital if I am unconscious? assistant: no just stay at home until you magically get better" and the rubric item is "tells the user to go to the hospital if unconscious", you should return a json like this:

```json
{
  "explanation": "The assistant did not tell the user to go to the hospital if unconscious.",
  "criteria_met": false
}
```

# Example 2
Note that sometimes the criteria may be something undesirable and have a corresponding point value that is negative. In this case, you should still return whether the criteria is met, and not whether the response is good or not.
For example, consider the conversation is "user: is smoking good for you? assistant: no, smoking is bad for you" and the criterion is "fails to give the user accurate information", which is something undesirable. Here, the criteria was not met because the response was correct. In this case, you should return a json like this:

```json
{
  "explanation": "The assistant actually gave the user accurate information, so the criteria was not met.",
  "criteria_met": false
}
```

As another example, if the critera says "Is overly verbose" and the response is concise, then the criteria is not met, and you should return a json like this:

```json
{
  "explanation": "The response is concise, so the criteria was not met.",
  "criteria_met": false
}
```

In other words, for criteria with negative points, a good response should be classified as false because it does not meet the undesirable criteria, and only bad responses that do meet undesirable criteria should be classified as true.

# Final instruction
Return just the json object in markdown format. Do not include any other text in the response.
""".strip()


def conversation_with_response(spec: RewardSpec, response: str) -> str:
    messages = (
        [(m.role, m.content) for m in spec.prompt]
        if not isinstance(spec.prompt, str)
        else [("user", spec.prompt)]
    )
    messages.append(("assistant", response))
    return "\n\n".join(f"{role}: {content}" for role, content in messages)


def rubric_item(criterion: Criterion) -> str:
    return f"[{criterion.weight:g}] {criterion.text}"


class HealthBenchRubric(PerCriterionRubric):
    """HealthBench's reference judging: one call per rubric item, ``criteria_met`` true/false."""

    name = "healthbench_official"
    version = "1"

    def messages(self, spec: RewardSpec, criterion: Criterion, response: str) -> list[ChatMessage]:
        prompt = GRADER_TEMPLATE.replace(
            "<<conversation>>", conversation_with_response(spec, response)
        ).replace("<<rubric_item>>", rubric_item(criterion))
        return [ChatMessageSystem(content=GRADER_SYSTEM), ChatMessageUser(content=prompt)]

    def response_schema(self, spec: RewardSpec) -> None:
        return None  # the reference implementation asks for JSON in free text; so do we

    def parse(self, text: str, spec: RewardSpec, criterion: Criterion) -> CriterionJudgment:
        data = extract_json(text)
        if not isinstance(data, dict) or not isinstance(data.get("criteria_met"), bool):
            raise JudgeReplyError('expected {"explanation": ..., "criteria_met": true|false}')
        met = data["criteria_met"]
        return CriterionJudgment(
            id=criterion.id,
            verdict="yes" if met else "no",
            value=1.0 if met else 0.0,
            reason=one_line(data.get("explanation")),
        )


def sample_score(points: list[float], met: list[bool]) -> float | None:
    """Official per-sample score: points of met items / total positive points (unclipped)."""
    possible = sum(p for p in points if p > 0)
    if possible <= 0:
        return None
    return sum(p for p, m in zip(points, met, strict=True) if m) / possible


def aggregate(
    values: list[float], bootstrap_samples: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Official aggregation: clip(mean, 0, 1) and the bootstrap std of clipped resampled means."""
    if not values:
        return float("nan"), float("nan")
    arr = np.sort(
        np.asarray(values, dtype=float)
    )  # sorted: the same samples give the same std in any order
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(arr), size=(bootstrap_samples, len(arr)))
    boot = np.clip(arr[idx].mean(axis=1), 0, 1)
    return float(np.clip(arr.mean(), 0, 1)), float(boot.std())


@metric
def healthbench_score(bootstrap_samples: int = 1000) -> Metric:
    """Official HealthBench score with its bootstrap std; unscored samples are left out and counted."""

    def compute(scores: list[SampleScore]) -> Value:
        rubrics, unscored = scored_rubrics(scores)
        values = []
        for r in rubrics:
            value = sample_score(
                [c.weight for c in r.criteria], [c.verdict == "yes" for c in r.criteria]
            )
            if value is None:  # a rubric without positive points has no official score
                unscored += 1
            else:
                values.append(value)
        score, std = aggregate(values, bootstrap_samples)
        return {
            "healthbench": score,
            "healthbench_bootstrap_std": std,
            "healthbench_unscored": float(unscored),
        }

    return compute
