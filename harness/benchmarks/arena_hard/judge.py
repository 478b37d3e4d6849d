"""The Arena-Hard judge: official prompts, verdict parsing, the pairwise protocol and its scorer.

Protocol: every question is judged in two games with the answer order swapped. Game 1 shows the
baseline as assistant A and the model under test as B; game 2 the model as A and the baseline
as B. The judge writes its own answer, compares, and ends with a verdict label ``[[A>>B]]``,
``[[A>B]]``, ``[[A=B]]``, ``[[B>A]]`` or ``[[B>>A]]``, read with the official regex. The
creative-writing system prompt (v2.0) drops the "generate your own answer first" paragraph.

Official code followed (github.com/lmarena/arena-hard-auto):

- v2.0: ``gen_judgment.py`` (``get_score``, ``pairwise_judgment``, ``judgment``) and
  ``utils/judge_utils.py`` as packaged under ``src/arenahard/`` at commit bed1604;
  ``regex_patterns`` and ``prompt_template`` of ``exampleconfig/arena-hard-v2.0.yaml`` @ bed1604;
  the judge settings of ``config/arena-hard-v2.0.yaml`` (gpt-4.1: temperature 0, 16000 tokens).
- v0.1: ``config/judge_config.yaml`` @ 7f1b7f5 (the same system prompt and template,
  gpt-4-1106-preview at temperature 0 and 4096 tokens; one distinct label per judgment).

Where this differs: an unusable judgment (no label, or a label the official tables do not
know) is retried with a correction turn, then left unscored with its reason. (v2.0 neither
retries nor checks the label, and ``show_result.py`` raises on an unknown one; v0.1 asks the
judge to continue its judgment, and drops the game when that fails or the judgment holds two
different labels.)
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from inspect_ai.model import ChatMessage, ChatMessageSystem, ChatMessageUser, GenerateConfig, Model
from inspect_ai.scorer import Score, Scorer, Target, scorer
from inspect_ai.solver import TaskState
from pydantic import BaseModel, Field, computed_field

from harness.benchmarks.arena_hard.dataset import METADATA_KEY, check_version
from harness.benchmarks.arena_hard.metric import (
    V01_LABELS,
    V2_LABEL_TO_SCORE,
    arena_hard_score,
    arena_hard_unscored,
    battle_scores,
    score_value,
    style_features,
)
from harness.judges.calling import DEFAULT_MAX_ATTEMPTS, JudgeReplyError, TokenUsage, ask_judge
from harness.judges.parsing import ReplyTemplate, one_line
from harness.judges.roles import require_judge_roles, role_judge
from harness.report import short_answer

PROTOCOL_VERSION = "1"
"""Bump on any change to the judge prompts, parsing or retries that can move a verdict."""

# utils/judge_utils.py (v2.0) and config/judge_config.yaml (v0.1), unchanged in wording.
OG_ARENA_HARD_PROMPT = """Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants to the user prompt displayed below. You will be given assistant A's answer and assistant B's answer. Your job is to evaluate which assistant's answer is better.

Begin your evaluation by generating your own answer to the prompt. You must provide your answers before judging any answers.

When evaluating the assistants' answers, compare both assistants' answers with your answer. You must identify and correct any mistakes or inaccurate information.

Then consider if the assistant's answers are helpful, relevant, and concise. Helpful means the answer correctly responds to the prompt or follows the instructions. Note when user prompt has any ambiguity or more than one interpretation, it is more helpful and appropriate to ask for clarifications or more information from the user than providing an answer based on assumptions. Relevant means all parts of the response closely connect or are appropriate to what is being asked. Concise means the response is clear and not verbose or excessive.

Then consider the creativity and novelty of the assistant's answers when needed. Finally, identify any missing important information in the assistants' answers that would be beneficial to include when responding to the user prompt.

After providing your explanation, you must output only one of the following choices as your final verdict with a label:

1. Assistant A is significantly better: [[A>>B]]
2. Assistant A is slightly better: [[A>B]]
3. Tie, relatively the same: [[A=B]]
4. Assistant B is slightly better: [[B>A]]
5. Assistant B is significantly better: [[B>>A]]

Example output: "My final verdict is tie: [[A=B]]"."""

CREATIVE_WRITING_PROMPT = """Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants to the user prompt displayed below. You will be given assistant A's answer and assistant B's answer. Your job is to evaluate which assistant's answer is better.

When evaluating the assistants' answers, compare both assistants' answers. You must identify and correct any mistakes or inaccurate information.

Then consider if the assistant's answers are helpful, relevant, and concise. Helpful means the answer correctly responds to the prompt or follows the instructions. Note when user prompt has any ambiguity or more than one interpretation, it is more helpful and appropriate to ask for clarifications or more information from the user than providing an answer based on assumptions. Relevant means all parts of the response closely connect or are appropriate to what is being asked. Concise means the response is clear and not verbose or excessive.

Then consider the creativity and novelty of the assistant's answers when needed. Finally, identify any missing important information in the assistants' answers that would be beneficial to include when responding to the user prompt.

After providing your explanation, you must output only one of the following choices as your final verdict with a label:

1. Assistant A is significantly better: [[A>>B]]
2. Assistant A is slightly better: [[A>B]]
3. Tie, relatively the same: [[A=B]]
4. Assistant B is slightly better: [[B>A]]
5. Assistant B is significantly better: [[B>>A]]

Example output: "My final verdict is tie: [[A=B]]"."""

PROMPT_TEMPLATE = (
    "<|User Prompt|>\n{QUESTION}\n\n"
    "<|The Start of Assistant A's Answer|>\n{ANSWER_A}\n<|The End of Assistant A's Answer|>\n\n"
    "<|The Start of Assistant B's Answer|>\n{ANSWER_B}\n<|The End of Assistant B's Answer|>"
)

V2_PATTERNS = (r"\[\[([AB<>=]+)\]\]", r"\[([AB<>=]+)\]")
"""v2.0 ``regex_patterns``: tried in order on the upper-cased judgment; the last match wins."""
V01_PATTERN = r"\[\[([AB<>=]+)\]\]"
"""v0.1 ``regex_pattern``: the judgment must contain exactly one distinct label."""

JUDGE_SETTINGS = {
    "v2.0": {"temperature": 0.0, "max_tokens": 16000},  # config/arena-hard-v2.0.yaml, gpt-4.1
    "v0.1": {"temperature": 0.0, "max_tokens": 4096},  # config/judge_config.yaml
}

_NO_LABEL = (
    "no final verdict label such as [[A>B]] in the judgment; continue your judgment and finish "
    "by outputting a final verdict label"
)


# The prompt's list of verdict options: a reply that copies it has not chosen one. ("My final
# verdict is tie: [[A=B]]" is not listed: a terse judge may say exactly that.)
VERDICT_OPTIONS = ReplyTemplate(
    placeholders=(
        "Assistant A is significantly better: [[A>>B]] 2. Assistant A is slightly better: [[A>B]]",
    )
)


def judge_protocol(version: str) -> str:
    """``name@version`` of a version's pairwise judge protocol (for the eval metadata)."""
    return f"arena-hard-{check_version(version)}-pairwise@{PROTOCOL_VERSION}"


def system_prompt(version: str, category: str) -> str:
    check_version(version)
    return CREATIVE_WRITING_PROMPT if category == "creative_writing" else OG_ARENA_HARD_PROMPT


def judge_messages(
    version: str, category: str, question: str, answer_a: str, answer_b: str
) -> list[ChatMessage]:
    user = PROMPT_TEMPLATE.format(QUESTION=question, ANSWER_A=answer_a, ANSWER_B=answer_b)
    return [
        ChatMessageSystem(content=system_prompt(version, category)),
        ChatMessageUser(content=user),
    ]


def parse_verdict(text: str, version: str = "v2.0") -> str:
    """The verdict label of a judgment, read as the official code reads it.

    v2.0 (``get_score``): each pattern in turn on the upper-cased text, the last match of the
    first pattern that matches. v0.1: the double-bracket pattern, with one distinct label.
    A label the version's score table does not know is an error too.
    """
    if check_version(version) == "v2.0":
        upper = text.upper()
        for pattern in V2_PATTERNS:
            matches = [m for m in re.findall(pattern, upper) if m != ""]
            if matches:
                label = matches[-1].strip("\n")
                break
        else:
            raise JudgeReplyError(_NO_LABEL)
        known: Sequence[str] = list(V2_LABEL_TO_SCORE)
    else:
        matches = [m for m in re.findall(V01_PATTERN, text) if m != ""]
        if not matches:
            raise JudgeReplyError(_NO_LABEL)
        if len(set(matches)) > 1:
            raise JudgeReplyError(
                f"conflicting verdict labels {sorted(set(matches))}; give one final verdict label"
            )
        label = matches[0].strip("\n")
        known = list(V01_LABELS)
    if label not in known:
        raise JudgeReplyError(
            f"unknown verdict label [[{label}]]; the final verdict must be one of "
            + ", ".join(f"[[{k}]]" for k in V01_LABELS)
        )
    return label


class Game(BaseModel):
    """One of a question's two games."""

    order: str
    """``baseline_first`` (game 1: the baseline is assistant A) or ``model_first`` (game 2)."""
    verdict: str | None = None
    """The label as read from the judgment, from the judge's A/B point of view."""
    failure: str | None = None
    judgment: str = ""
    attempts: int = 0
    usage: TokenUsage = Field(default_factory=TokenUsage)


class PairJudgment(BaseModel):
    """A question's two games and its inputs; kept in Score.metadata for reading and display.

    The official metric reads ``score_value()`` (Score.value), never this record: under epochs
    Inspect keeps the first epoch's metadata only.
    """

    version: str
    uid: str
    question_index: int
    category: str
    baseline: str
    games: list[Game]
    model_style: dict[str, Any] | None = None
    baseline_style: dict[str, Any] | None = None
    note: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def battles(self) -> list[float] | None:
        return battle_scores(self.version, self.verdicts)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> str:
        return "unscored" if self.battles is None else "scored"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reason(self) -> str | None:
        """Why a game has no verdict (v0.1 still scores a question with one usable game)."""
        if self.note:
            return self.note
        failures = [
            f"game {i} ({g.order}): {g.failure}"
            for i, g in enumerate(self.games, 1)
            if g.verdict is None
        ]
        return "; ".join(failures) or None

    @property
    def verdicts(self) -> list[str | None]:
        return [g.verdict for g in self.games]

    @property
    def value(self) -> float:
        """The mean of the model's battle scores; NaN when unscored."""
        battles = self.battles
        return math.nan if battles is None else float(np.mean(battles))

    def score_value(self) -> dict[str, float]:
        """Score.value: what the official metric reads (``metric.VALUE_KEYS``)."""
        return score_value(self.version, self.verdicts, self.model_style)

    def info(self) -> dict[str, Any]:
        """The question's inputs the metric reads, as in ``Sample.metadata[METADATA_KEY]``."""
        return self.model_dump(
            include={"version", "uid", "question_index", "category", "baseline", "baseline_style"}
        )


def judgment_of(score: Score) -> PairJudgment | None:
    """The judgment kept in a Score's metadata (the first epoch's, after epoch reduction)."""
    data = (score.metadata or {}).get(METADATA_KEY)
    return None if data is None else PairJudgment.model_validate(data)


async def judge_game(
    judge: Model,
    messages: list[ChatMessage],
    version: str,
    order: str,
    *,
    config: GenerateConfig | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Game:
    reply = await ask_judge(
        judge,
        messages,
        lambda text: parse_verdict(text, version),
        config=config,
        max_attempts=max_attempts,
        template=VERDICT_OPTIONS,
    )
    return Game(
        order=order,
        verdict=reply.value,
        failure=reply.failure,
        judgment=reply.raw,
        attempts=reply.attempts,
        usage=reply.usage,
    )


def judge_config(version: str, max_tokens: int | None = None) -> GenerateConfig:
    """The official judge settings of a version (temperature 0; its max_tokens unless given)."""
    settings = JUDGE_SETTINGS[check_version(version)]
    return GenerateConfig(
        temperature=settings["temperature"],
        max_tokens=max_tokens if max_tokens is not None else settings["max_tokens"],
    )


async def judge_pair(
    judge: Model,
    version: str,
    category: str,
    question: str,
    answer: str,
    baseline_answer: str,
    *,
    config: GenerateConfig | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> list[Game]:
    """Both games of a question (game 1: baseline as A; game 2: the model as A)."""
    config = config or judge_config(version)
    return list(
        await asyncio.gather(
            judge_game(
                judge,
                judge_messages(version, category, question, baseline_answer, answer),
                version,
                "baseline_first",
                config=config,
                max_attempts=max_attempts,
            ),
            judge_game(
                judge,
                judge_messages(version, category, question, answer, baseline_answer),
                version,
                "model_first",
                config=config,
                max_attempts=max_attempts,
            ),
        )
    )


def render_markdown(j: PairJudgment) -> str:
    """Score.explanation: the verdict of each game, the battles, then both judgments."""
    battles = j.battles
    if battles is None:
        head = f"### Arena-Hard: **unscored** — {one_line(j.reason)}"
    else:
        head = (
            f"### Arena-Hard: model's battle score **{np.mean(battles):.3f}** "
            f"({len(battles)} battles: {', '.join(f'{s:g}' for s in battles)})"
        )
    lines = [
        head,
        "",
        f"{j.version}, category `{j.category}`, baseline `{j.baseline}`",
        "",
        "| game | assistant A | assistant B | verdict | attempts |",
        "|---|---|---|---|---|",
    ]
    for i, g in enumerate(j.games, 1):
        a, b = ("baseline", "model") if g.order == "baseline_first" else ("model", "baseline")
        verdict = f"`[[{g.verdict}]]`" if g.verdict else f"unscored: {one_line(g.failure)}"
        lines.append(f"| {i} | {a} | {b} | {verdict} | {g.attempts} |")
    for i, g in enumerate(j.games, 1):
        lines += ["", f"#### Game {i} judgment", "", g.judgment or "(none)"]
    return "\n".join(lines)


@scorer(metrics=[arena_hard_score(), arena_hard_unscored()])
def arena_hard_judge(
    require_grader: bool = True,
    judge_max_tokens: int | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Scorer:
    """Arena-Hard pairwise judgment against the baseline answer, both orders (official protocol).

    The judge is the ``grader`` role (checked before any generation when ``require_grader``).
    Samples carry their question, category, baseline and the baseline's answer in
    ``metadata["arena_hard"]``. Score.value (``metric.VALUE_KEYS``, NaN when unscored):
    ``battle_mean``, the mean of the sample's battle scores (1 = the model wins); each game's
    battles and points; the answer's style counts — what the official metric reads, so it is
    right for any number of epochs. Score.metadata["arena_hard"] holds the verdicts and
    judgments. ``judge_max_tokens`` defaults to the version's official setting.
    """
    require_judge_roles(("grader",), require_grader)

    async def score(state: TaskState, target: Target) -> Score:
        info = (state.metadata or {}).get(METADATA_KEY)
        if not isinstance(info, dict):
            raise ValueError(f"sample {state.sample_id} has no '{METADATA_KEY}' in its metadata")
        version = info["version"]
        answer = state.output.completion
        try:
            model_style = style_features(answer)
        except Exception:  # no tokenizer data offline: no style-controlled score
            model_style = None
        judgment = PairJudgment(
            version=version,
            uid=info["uid"],
            question_index=info["question_index"],
            category=info["category"],
            baseline=info["baseline"],
            games=[],
            model_style=model_style,
            baseline_style=info.get("baseline_style"),
        )
        judge = role_judge("grader", require_grader)
        if judge is None:
            judgment.note = "no grader model bound (grader role)"
            judgment.games = [
                Game(order=o, failure=judgment.note) for o in ("baseline_first", "model_first")
            ]
        else:
            judgment.games = await judge_pair(
                judge,
                version,
                info["category"],
                info["question"],
                answer,
                info["baseline_answer"],
                config=judge_config(version, judge_max_tokens),
                max_attempts=max_attempts,
            )
        return Score(
            value=judgment.score_value(),
            answer=short_answer(answer),
            explanation=render_markdown(judgment),
            metadata={METADATA_KEY: judgment.model_dump(mode="json")},
        )

    return score
