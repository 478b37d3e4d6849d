"""WritingBench's official judging protocol: one judge call per criterion with the benchmark's own
evaluation prompt, an integer score 1-10 with a reason."""

from __future__ import annotations

from inspect_ai.model import ChatMessage, ChatMessageSystem, ChatMessageUser

from harness.judges.calling import JudgeReplyError
from harness.judges.parsing import ReplyTemplate, extract_json, normalise_verdict, one_line
from harness.judges.rubric import CriterionJudgment, PerCriterionRubric
from harness.spec import Criterion, RewardSpec

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
    # the output format's field descriptions: a reply containing one copied the prompt
    reply_template = ReplyTemplate(
        placeholders=(
            "Specific and detailed justification for the score using text elements.",
            "an integer score between 1 to 10",
        )
    )

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
