"""Creative Writing v3 (EQ-Bench creative-writing-bench): 32 prompts × 3 seeds, a 22-criterion rubric.

What the official code does (EQ-bench/creative-writing-bench: ``core/benchmark.py``,
``core/conversation.py``, ``core/scoring.py``, ``utils/api.py`` and the results-page notebook
``generate_results_html.ipynb``), and what this module follows:

- **Items.** Each prompt of ``creative_writing_prompts_v3.json`` is run for N iterations (3 in
  the published runs); iteration ``i`` (1-based) uses the seed modifier
  ``seed_modifiers[(i - 1) % len(seed_modifiers)]``, substituted for ``<SEED>`` in the prompt.
  Prompts without seed modifiers are skipped.
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
- **Item score**: every parsed value, lower-is-better names inverted as ``20 - score``, averaged
  (0-20). The results pages show ``round(round(mean, 2) * 5, 1)`` per item (0-100; there the
  names are matched to the negative list case-insensitively, in ``core/scoring.py`` exactly).
- **Benchmark score** (``compute_single_benchmark_score_creative``): the mean of the item
  scores (0-20), ``overall_score = round(mean, 2)`` and
  ``eqbench_creative_score = round(mean * 5, 2)`` (0-100). Items without scores are left out.

Checked against the published result pages (``parsed_results.jsonl``, 5 models × 96 items):
this parser reproduces the published per-criterion scores of all 480 judge replies and the item
score reproduces all 480 published item scores (tests/test_creative_writing.py).

In the harness:
- **Native spec**: the 22 criteria, equally weighted, ``category`` = the official name; the 9
  lower-is-better ones carry the tag ``lower_is_better`` and read "Avoids: <name>" (so our own
  protocols grade them the right way round). The spec's prompt is the seeded prompt; its
  provenance notes record the seed, so the official protocol can show the judge the base prompt.
  Its verdict scale is ``one_to_ten``, what our protocols use on it (there is no 0-20 scale;
  the official protocol records the 0-20 score as the verdict and maps it to [0, 1] itself).
- **Official protocol** (``CreativeWritingRubric``): the official prompt and parser. A
  criterion's value is ``s / 20``, or ``(20 - s) / 20`` when lower is better, so the rubric
  component (Σw·v/Σw) is the official item mean / 20 over the rubric's criteria. A criterion the
  judge left out is recorded as ``excluded`` and counted at the mean of the scored ones, which
  leaves it out of the mean exactly as the official score does. A reply with no score for any
  criterion, or a criterion score outside 0-20, is malformed: retried, then unscored (never 0).
  Everything the official parser matched is kept in a rubric note, and the official metric
  reads it, so the benchmark score counts stray matches exactly as the official code does (the
  rubric component does not).

Not reproduced: the official run regenerates responses shorter than 500 characters (up to 3
tries) and drops the item if they stay short; here the one generation is judged as it is. The
official run keeps an item whose reply matched only non-criterion lines; here such a reply is
malformed (retried, then unscored).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping
from typing import Any

from inspect_ai.model import ChatMessage, ChatMessageUser
from inspect_ai.scorer import Metric, SampleScore, Value, metric

from harness.benchmarks import native_result
from harness.data import DataError, DataFile, read_jsonl, resolve
from harness.judges.calling import JudgeReplyError
from harness.judges.rubric import CriterionJudgment, RubricGrades, SingleCallRubric
from harness.scoring import RewardResult
from harness.spec import Criterion, Provenance, RewardSpec

_BASE = "https://raw.githubusercontent.com/EQ-bench/creative-writing-bench/main/data"
_DIR = "creative-writing-v3"
PROMPTS_FILE = DataFile(
    "Creative Writing v3 prompts",
    f"{_DIR}/creative_writing_prompts_v3.json",
    f"{_BASE}/creative_writing_prompts_v3.json",
)
CRITERIA_FILE = DataFile(
    "Creative Writing v3 criteria",
    f"{_DIR}/creative_writing_criteria.txt",
    f"{_BASE}/creative_writing_criteria.txt",
)
NEGATIVE_CRITERIA_FILE = DataFile(
    "Creative Writing v3 negative criteria",
    f"{_DIR}/negative_criteria.txt",
    f"{_BASE}/negative_criteria.txt",
)
JUDGE_PROMPT_FILE = DataFile(
    "Creative Writing v3 judging prompt",
    f"{_DIR}/creative_writing_judging_prompt.txt",
    f"{_BASE}/creative_writing_judging_prompt.txt",
)
# Derived from the published result pages (response, judge reply, item score per item); a
# local copy only, used to check this module against the published numbers.
PUBLISHED_RESULTS_FILE = DataFile(
    "Creative Writing v3 published results (derived)", f"{_DIR}/parsed_results.jsonl", None
)

SPEC_TEMPLATE = "creative-writing-v3-rubric@1"
LOWER_IS_BETTER = "lower_is_better"
"""Tag of the criteria the official score inverts (20 - score)."""
SCALE_MAX = 20.0
ITERATIONS = 3
"""Iterations (seeds) per prompt in the published runs."""

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


# -- data ---------------------------------------------------------------------------------


def _read_lines(file: DataFile) -> list[str]:
    """Non-empty stripped lines, as the official code reads the criteria files."""
    path = resolve(file)
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise DataError(f"{path}: no entries ({file.dataset})")
    return lines


def load_criteria() -> list[str]:
    return _read_lines(CRITERIA_FILE)


def load_negative_criteria() -> list[str]:
    negative = _read_lines(NEGATIVE_CRITERIA_FILE)
    criteria = load_criteria()
    unknown = [n for n in negative if n not in criteria]
    if unknown:
        raise DataError(
            f"{resolve(NEGATIVE_CRITERIA_FILE)}: {unknown} are not among the rubric criteria "
            f"of {resolve(CRITERIA_FILE)}"
        )
    return negative


def load_prompts() -> dict[str, dict[str, Any]]:
    path = resolve(PROMPTS_FILE)
    try:
        prompts = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as ex:
        raise DataError(f"{path}: invalid JSON ({ex.msg})") from None
    if not isinstance(prompts, dict) or not prompts:
        raise DataError(f"{path}: expected an object of prompts keyed by id")
    for key, p in prompts.items():
        missing = [
            k
            for k in ("category", "title", "writing_prompt")
            if not isinstance(p, dict) or k not in p
        ]
        if missing:
            raise DataError(f"{path}: prompt {key} lacks {missing}")
    return prompts


def load_records(
    prompt_ids: list[str] | None = None,
    categories: list[str] | None = None,
    iterations: int = ITERATIONS,
) -> list[dict[str, Any]]:
    """One record per (iteration, prompt), seeded as the official run seeds it."""
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    prompts = load_prompts()
    if prompt_ids:
        unknown = sorted(set(prompt_ids) - set(prompts))
        if unknown:
            raise ValueError(f"unknown Creative Writing v3 prompt ids {unknown}")
    records = []
    for i in range(1, iterations + 1):
        for pid, p in prompts.items():
            seeds = p.get("seed_modifiers") or []
            if not seeds:  # the official run skips these
                continue
            if prompt_ids and pid not in prompt_ids:
                continue
            if categories and p["category"] not in categories:
                continue
            seed = seeds[(i - 1) % len(seeds)]
            records.append(
                {
                    "id": f"{pid}-{i}",
                    "prompt_id": pid,
                    "iteration": i,
                    "category": p["category"],
                    "title": p["title"],
                    "base_prompt": p["writing_prompt"],
                    "seed_modifier": seed,
                    "prompt": p["writing_prompt"].replace("<SEED>", seed),
                }
            )
    return records


def load_published_results() -> list[dict[str, Any]]:
    """The derived published results: model, title, prompt, response, judge, judge_scores, item_score."""
    return read_jsonl(
        resolve(PUBLISHED_RESULTS_FILE),
        required=("model", "title", "response", "judge", "judge_scores", "item_score"),
    )


def native_spec(
    record: dict[str, Any], criteria: list[str], lower_is_better: list[str]
) -> RewardSpec:
    """The official rubric as a spec: equal weights, lower-is-better criteria tagged."""
    spec_criteria = []
    for i, name in enumerate(criteria, start=1):
        negative = name in lower_is_better
        spec_criteria.append(
            Criterion(
                id=f"c{i}",
                text=f"Avoids: {name}" if negative else name,
                category=name,
                tags=(LOWER_IS_BETTER,) if negative else (),
            )
        )
    prompt = record["prompt"]
    seed = record["seed_modifier"]
    # where the seed went, so the official protocol can show the judge the base prompt
    offset = record["base_prompt"].find("<SEED>")
    notes = {"seed_modifier": seed, "seed_offset": offset} if offset >= 0 else {}
    return RewardSpec(
        prompt_id=f"creative-writing-v3-{record['id']}",
        prompt=prompt,
        task_label="creative_writing",
        verdict_scale="one_to_ten",
        criteria=tuple(spec_criteria),
        provenance=Provenance(
            builder="creative-writing-v3-native",
            template_version=SPEC_TEMPLATE,
            source=PROMPTS_FILE.url,
            notes=json.dumps(notes, ensure_ascii=False) if notes else None,
        ),
    )


# -- official parsing and scoring ---------------------------------------------------------

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


def invert_if_negative(
    name: str, score: float, lower_is_better: Collection[str], *, casefold: bool = False
) -> float:
    """20 - score for a lower-is-better name (matched exactly, or case-insensitively)."""
    if casefold:
        negative = name.lower() in {n.lower() for n in lower_is_better}
    else:
        negative = name in lower_is_better
    return SCALE_MAX - score if negative else score


def item_score(
    scores: Mapping[str, Any], lower_is_better: Collection[str], *, casefold: bool = False
) -> float | None:
    """An item's official score (0-20): the mean of all its numeric scores, negatives inverted.

    None when there is no numeric score (the official code leaves such items out).
    """
    values = [
        invert_if_negative(name, float(v), lower_is_better, casefold=casefold)
        for name, v in scores.items()
        if isinstance(v, int | float)
    ]
    return sum(values) / len(values) if values else None


def published_item_score(scores: Mapping[str, Any], lower_is_better: Collection[str]) -> float:
    """The item score as the results pages show it (0-100, one decimal)."""
    score = item_score(scores, lower_is_better, casefold=True)
    if score is None:
        raise ValueError("no numeric score")
    return round(round(score, 2) * 5, 1)


def benchmark_score(item_scores: list[float]) -> dict[str, float]:
    """``compute_single_benchmark_score_creative``: overall_score (0-20) and eqbench_creative_score (0-100).

    NaN when no item has a score (the official code reports 0.0 there).
    """
    if not item_scores:
        return {"overall_score": math.nan, "eqbench_creative_score": math.nan}
    mean = sum(item_scores) / len(item_scores)
    return {"overall_score": round(mean, 2), "eqbench_creative_score": round(mean * 5.0, 2)}


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


# -- the official metric ------------------------------------------------------------------


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


@metric
def creative_writing_score() -> Metric:
    """The official Creative Writing v3 rubric score.

    ``creative_writing``: eqbench_creative_score (0-100) = round(mean item score × 5, 2);
    ``creative_writing_0_20``: overall_score = round(mean item score, 2); the standard error
    (0-100 scale) and the count of samples whose rubric is unscored (left out).
    """

    def compute(scores: list[SampleScore]) -> Value:
        items: list[float] = []
        for s in scores:
            result = native_result(s)
            value = None if result is None else sample_item_score(result)
            if value is not None:
                items.append(value)
        official = benchmark_score(items)
        n = len(items)
        if n > 1:
            mean = sum(items) / n
            var = sum((x - mean) ** 2 for x in items) / (n - 1)
            stderr = 5.0 * (var / n) ** 0.5
        else:
            stderr = math.nan
        return {
            "creative_writing": official["eqbench_creative_score"],
            "creative_writing_0_20": official["overall_score"],
            "creative_writing_stderr": stderr,
            "creative_writing_unscored": float(len(scores) - n),
        }

    return compute
