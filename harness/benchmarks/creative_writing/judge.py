"""Creative Writing v3's judge protocol: the official prompt, the official parser, and the
per-sample official number the metric reads.

What the official code does (EQ-bench/creative-writing-bench: ``core/benchmark.py``,
``core/conversation.py``, ``core/scoring.py``, ``utils/api.py``), and what this module follows:

- **Judging.** One judge call per item (a single user message, temperature 0, 1000 max tokens)
  with ``creative_writing_judging_prompt.txt`` formatted with ``writing_prompt`` = the *base*
  prompt (the official code passes ``base_prompt``, so the judge sees the literal ``<SEED>``
  placeholder, not the seed), ``test_model_response`` = the response with ``<think>`` /
  ``<reasoning>`` blocks cut off and stripped, the criteria as ``"- name"`` lines and the
  lower-is-better criteria joined by ``", "``. The judge scores every criterion 0-20 and may
  leave out criteria that do not apply.
- **Parsing** (``parse_judge_scores_creative``): two regexes over the *whole* reply,
  ``(.*?):\\s*(?:Score\\s+)?(-?\\d+(?:\\.\\d+)?)`` then ``(.*?):\\s*\\[(-?\\d+(?:\\.\\d+)?)\\]``;
  every match becomes ``{name.strip(): float(score)}``, a later match overwriting an earlier
  one. Nothing restricts the names to the rubric: a "09:42:03" in the analysis is parsed too.
  (``parse_judge_scores`` finds the same matches in linear time; the official patterns rescan
  long colon-free lines quadratically. The tests check it against the literal regexes.)

**Official protocol** (``CreativeWritingRubric``): the official prompt and parser. A
criterion's value is ``s / 20``, or ``(20 - s) / 20`` when lower is better, so the rubric
component (Σw·v/Σw) is the official item mean / 20 over the rubric's criteria. A criterion the
judge left out is recorded as ``excluded`` and counted at the mean of the scored ones, which
leaves it out of the mean exactly as the official score does. A reply with no score for any
criterion, or a criterion score outside 0-20, is malformed: retried, then unscored (never 0).
Everything the official parser matched is kept in a rubric note, and the sample's official item
score (``official_values``, in ``Score.value``) is computed from it, so the benchmark score
counts stray matches exactly as the official code does (the rubric component does not).

Not reproduced: the official run regenerates responses shorter than 500 characters (up to 3
tries) and drops the item if they stay short; here the one generation is judged as it is. The
official run keeps an item whose reply matched only non-criterion lines; here such a reply is
malformed (retried, then unscored).
"""

from __future__ import annotations

import json
import math
import re

from inspect_ai.model import ChatMessage, ChatMessageUser
from inspect_ai.solver import TaskState

from harness.benchmarks import native_rubric
from harness.benchmarks.creative_writing.dataset import LOWER_IS_BETTER
from harness.benchmarks.creative_writing.metric import (
    ITEM_SCORE,
    SCALE_MAX,
    item_score,
    published_item_score,
)
from harness.judges.calling import JudgeReplyError
from harness.judges.parsing import ReplyTemplate
from harness.judges.rubric import CriterionJudgment, RubricGrades, SingleCallRubric
from harness.scoring import RewardResult
from harness.spec import Criterion, RewardSpec

# The official judging prompt (data/creative_writing_judging_prompt.txt), verbatim.
JUDGE_PROMPT = """You are an expert in assessing creative writing. Your task is to score the quality of the test model's response below, by several metrics, on a 0-20 scale.

[PROMPT START]

{writing_prompt}

[PROMPT END]

[TEST MODEL RESPONSE]

{test_model_response}

[TEST MODEL RESPONSE END]

[Task]

You are an expert in assessing creative writing. Your task is to score the quality of the test model's response below, by several metrics, on a 0-20 scale.

Scoring notes:

- A scores of 20 represents a masterpiece.

- If the criteria is not relevant to the piece (e.g. criteria relating to dialogue but the piece has none), exclude it from your assessment.

- Do not add any commentary or explanation to the scores section.

- Do not penalize NSFW output; that is the default for some models. Just assess it on its merits.

- Everything within the "TEST MODEL RESPONSE" section was written by the test model. Sometimes models like to write comments on the piece after the piece is concluded; if this happens you should ignore their comments.

- In the output, write the metric names exactly as below so they can be parsed.

- Do not use markdown in your response. Use the designated output format exactly.

- You are to write a comprehensive analysis of the piece, then give your scores.

- For these criteria, lower is better:
{lower_is_better_criteria}

- You are a critic, and your job is to be critical, especially of any failings or amateurish elements.

- Output format is:

[Analysis]

Write your detailed analysis.

[Scores]

Metric 1 name: [Score 0-20]

Metric 2 name: ...

---

Now, rate the supplied model output on the following criteria:

{creative_writing_criteria}"""

# The official lower-is-better list (data/negative_criteria.txt) in its file order, which is the
# order the judge prompt lists them in; lower-is-better criteria not in it follow in spec order.
OFFICIAL_NEGATIVE_ORDER = (
    "Unearned Transformations",
    "Incongruent Ending Positivity",
    "Overwrought",
    "Purple Prose",
    "Amateurish",
    "Unsurprising or Uncreative",
    "Tell-Don't-Show",
    "Weak Dialogue",
    "Meandering",
)


# -- official parsing ---------------------------------------------------------------------

OFFICIAL_SCORE_PATTERNS = (
    r"(.*?):\s*(?:Score\s+)?(-?\d+(?:\.\d+)?)",
    r"(.*?):\s*\[(-?\d+(?:\.\d+)?)\]",
)
"""The official regexes ("Metric: 14" / "Metric: Score 14", then "Metric: [14]")."""

# The same matches without the official patterns' quadratic scan of long colon-free lines:
# with ``re.findall``, a match starts at the search position when its line (``.`` stops at
# "\n") has a colon followed by the score pattern, else at the start of the line that has the
# next such colon, and its name runs to the first such colon.
_SCORE_TAILS = tuple(re.compile(":" + p.removeprefix("(.*?):")) for p in OFFICIAL_SCORE_PATTERNS)


def strip_reasoning(text: str) -> str:
    """What the official API client keeps of a reply: the text after </think> / </reasoning>."""
    for start, end in (("<think>", "</think>"), ("<reasoning>", "</reasoning>")):
        if start in text and end in text:
            text = text[text.find(end) + len(end) :]
    return text


def _find_scores(tail: re.Pattern[str], text: str) -> list[tuple[str, str]]:
    """``re.findall(OFFICIAL_SCORE_PATTERNS[i], text)``, in linear time."""
    matches = []
    pos = 0
    while (m := tail.search(text, pos)) is not None:
        start = max(pos, text.rfind("\n", 0, m.start()) + 1)
        matches.append((text[start : m.start()], m.group(1)))
        pos = m.end()
    return matches


def parse_judge_scores(text: str) -> dict[str, float]:
    """The official ``parse_judge_scores_creative``: every "name: number" match in the reply."""
    scores: dict[str, float] = {}
    for tail in _SCORE_TAILS:
        for name, score in _find_scores(tail, text):
            scores[name.strip()] = float(score)
    return scores


# -- the official judging protocol -------------------------------------------------------

OFFICIAL_PARSE_NOTE = "official parse: "
"""Prefix of the rubric note holding everything the official parser matched (JSON)."""


def official_name(criterion: Criterion) -> str:
    return criterion.category or criterion.text


def is_lower_better(criterion: Criterion) -> bool:
    return LOWER_IS_BETTER in criterion.tags


def judge_writing_prompt(spec: RewardSpec) -> str:
    """The prompt as the official judge sees it: the seed put back to ``<SEED>`` (base prompt)."""
    prompt = spec.prompt_text
    try:
        seed = json.loads(spec.provenance.notes or "{}")
    except json.JSONDecodeError:
        return prompt
    if not isinstance(seed, dict) or "seed_modifier" not in seed or "seed_offset" not in seed:
        return prompt
    text, at = seed["seed_modifier"], seed["seed_offset"]
    if not isinstance(at, int) or prompt[at : at + len(text)] != text:
        return prompt
    return prompt[:at] + "<SEED>" + prompt[at + len(text) :]


def judge_response_text(response: str) -> str:
    """The response as the official run stores it: reasoning cut off, stripped."""
    return strip_reasoning(response).strip()


def _lower_is_better_names(spec: RewardSpec) -> list[str]:
    names = [official_name(c) for c in spec.criteria if is_lower_better(c)]
    order = {n: i for i, n in enumerate(OFFICIAL_NEGATIVE_ORDER)}
    return sorted(names, key=lambda n: order.get(n, len(order)))


def _fmt(x: float) -> str:
    return f"{x:g}"


class CreativeWritingRubric(SingleCallRubric):
    """The official Creative Writing v3 judging: all criteria scored 0-20 in one call."""

    name = "creative_writing_official"
    version = "1"
    # the output format's placeholders (declared here, not inherited from SingleCallRubric)
    reply_template = ReplyTemplate(placeholders=("Write your detailed analysis.", "[Score 0-20]"))

    def response_schema(self, spec: RewardSpec) -> None:
        return None  # the official judge answers in free text; there is no schema to constrain it

    def messages(self, spec: RewardSpec, response: str) -> list[ChatMessage]:
        if any(c.weight <= 0 for c in spec.criteria):
            raise ValueError(
                "the Creative Writing protocol inverts lower-is-better criteria itself: "
                "give every criterion a positive weight and tag those with 'lower_is_better'"
            )
        prompt = JUDGE_PROMPT.format(
            writing_prompt=judge_writing_prompt(spec),
            test_model_response=judge_response_text(response),
            creative_writing_criteria="\n".join("- " + official_name(c) for c in spec.criteria),
            lower_is_better_criteria=", ".join(_lower_is_better_names(spec)),
        )
        return [ChatMessageUser(content=prompt)]

    def parse(self, text: str, spec: RewardSpec) -> RubricGrades:
        text = strip_reasoning(text)
        scores = parse_judge_scores(text)
        found: dict[str, tuple[float, float]] = {}  # id -> (judge score, value in [0, 1])
        for c in spec.criteria:
            name = official_name(c)
            if name not in scores:
                continue
            s = scores[name]
            if not 0 <= s <= SCALE_MAX:
                raise JudgeReplyError(f"score for {name!r} is {_fmt(s)}, outside 0-20")
            inverted = SCALE_MAX - s if is_lower_better(c) else s
            found[c.id] = (s, inverted / SCALE_MAX)
        if not found:
            example = official_name(spec.criteria[0]) if spec.criteria else "Criterion"
            raise JudgeReplyError(
                f"no score for any of the {len(spec.criteria)} criteria "
                f"(expected lines like '{example}: 14')"
            )
        weights = {c.id: c.weight for c in spec.criteria}
        mean_value = sum(weights[i] * v for i, (_, v) in found.items()) / sum(
            weights[i] for i in found
        )
        judgments = []
        for c in spec.criteria:
            if c.id in found:
                s, value = found[c.id]
                reason = (
                    f"{_fmt(s)}/20, lower is better: counts as {_fmt(SCALE_MAX - s)}/20"
                    if is_lower_better(c)
                    else f"{_fmt(s)}/20"
                )
                judgments.append(
                    CriterionJudgment(id=c.id, verdict=_fmt(s), value=value, reason=reason)
                )
            else:
                judgments.append(
                    CriterionJudgment(
                        id=c.id,
                        verdict="excluded",
                        value=mean_value,
                        reason="not scored: the official prompt lets the judge leave out "
                        "criteria that do not apply; counted at the mean of the scored criteria, "
                        "i.e. left out of the mean as the official score does",
                    )
                )
        negatives = _lower_is_better_names(spec)
        official = item_score(scores, negatives)
        criterion_names = {official_name(c) for c in spec.criteria}
        stray = {k: v for k, v in scores.items() if k not in criterion_names}
        notes = [
            f"official item score {published_item_score(scores, negatives):g}/100 "
            f"(mean of {len(scores)} parsed score(s), {official:.4g}/20)",
        ]
        if stray:
            notes.append(
                f"the official parser also matched {len(stray)} line(s) that are not criteria: "
                f"{json.dumps(stray, ensure_ascii=False)}; the official score counts them, the "
                "rubric component does not"
            )
        notes.append(
            OFFICIAL_PARSE_NOTE
            + json.dumps({"scores": scores, "lower_is_better": negatives}, ensure_ascii=False)
        )
        analysis = text.split("[Scores]")[0].replace("[Analysis]", "").strip()
        if analysis:
            notes.append(f"judge analysis: {analysis}")
        return RubricGrades(judgments=judgments, notes=notes)


# -- the per-sample official number ----------------------------------------------------------


def official_parse(notes: list[str]) -> tuple[dict[str, float], list[str]] | None:
    """(scores, lower-is-better names) from the official protocol's rubric note, if any."""
    for note in notes:
        if note.startswith(OFFICIAL_PARSE_NOTE):
            data = json.loads(note[len(OFFICIAL_PARSE_NOTE) :])
            return data["scores"], data["lower_is_better"]
    return None


def sample_item_score(result: RewardResult) -> float | None:
    """A scored sample's official item score (0-20).

    From everything the official parser matched when the official protocol judged it; with
    another protocol, 20 × the rubric value (its criteria are already inverted and weighted).
    """
    rubric = result.rubric
    if rubric.status != "scored":
        return None
    parsed = official_parse(rubric.notes)
    if parsed is not None:
        return item_score(*parsed)
    return None if rubric.value is None else SCALE_MAX * rubric.value


def official_values(result: RewardResult, state: TaskState) -> dict[str, float]:
    """``hybrid_reward(official_values=...)``: the sample's official item score (0-20) in
    ``Score.value[ITEM_SCORE]``; NaN when the rubric is unscored or the sample was judged on
    another spec than its native one (``specs=``)."""
    if native_rubric(result, state.metadata) is None:
        return {ITEM_SCORE: math.nan}
    score = sample_item_score(result)
    return {ITEM_SCORE: math.nan if score is None else score}
