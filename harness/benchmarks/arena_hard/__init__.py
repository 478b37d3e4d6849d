"""Arena-Hard-Auto (lmarena, Apache-2.0): hard real-world prompts judged pairwise against a baseline.

Versions:

- ``v2.0`` (default): 750 questions, 500 ``hard_prompt`` (subcategories coding and math) and 250
  ``creative_writing``. The baseline depends on the category, as in the official
  ``JUDGE_SETTINGS``: o3-mini-2025-01-31 for hard prompts, gemini-2.0-flash-001 for creative
  writing, whose judge system prompt also drops the "generate your own answer first" paragraph.
- ``v0.1``: 500 questions, baseline gpt-4-0314.

Protocol: every question is judged in two games with the answer order swapped. Game 1 shows the
baseline as assistant A and the model under test as B; game 2 the model as A and the baseline
as B. The judge writes its own answer, compares, and ends with a verdict label ``[[A>>B]]``,
``[[A>B]]``, ``[[A=B]]``, ``[[B>A]]`` or ``[[B>>A]]``, read with the official regex.

Score: each game becomes battles scored from the model's side (1 win, 0.5 tie, 0 loss), a
strong verdict (``>>``) counting as 3 battles. v2.0 (``show_result.py``): the score is the mean
over 100 bootstrap resamples of the battles' mean, with the 5%/95% quantiles as its interval; a
question with an unusable verdict in either game is left out. With ``--control-features
markdown length`` (the configuration of the published hard-prompt leaderboard) a Bradley-Terry
model with four style covariates is fitted instead (``arena_hard*_sc`` here). v0.1: a
Bradley-Terry model (logistic regression on the battles, ties as one win each way) gives Elo
ratings anchored at the baseline = 1000, converted to the win rate against the baseline, with a
95% interval from 100 bootstrap refits (``np.random.seed(42)``); an unusable game is dropped on
its own. When every battle is against the same baseline the Bradley-Terry win rate equals the
mean battle score, so the two versions agree on the point estimate.

Official code followed (github.com/lmarena/arena-hard-auto):

- v2.0 judging: ``gen_judgment.py`` (``get_score``, ``pairwise_judgment``, ``judgment``) and
  ``utils/judge_utils.py`` as packaged under ``src/arenahard/`` at commit bed1604;
  ``regex_patterns`` and ``prompt_template`` of ``exampleconfig/arena-hard-v2.0.yaml`` @ bed1604;
  the judge settings of ``config/arena-hard-v2.0.yaml`` (gpt-4.1: temperature 0, 16000 tokens).
- v2.0 aggregation: ``show_result.py`` @ 0489bf3 (``load_judgments``, ``print_leaderboard``,
  ``print_leaderboard_with_style_features``), ``utils/math_utils.py`` @ a9e743c (the
  Bradley-Terry fit and win-rate conversion), ``utils/add_markdown_info.py`` @ 3bab294 (style
  features).
- v0.1 judging: ``config/judge_config.yaml`` @ 7f1b7f5 (the same system prompt and template,
  gpt-4-1106-preview at temperature 0 and 4096 tokens; one distinct label per judgment).
- v0.1 aggregation: ``utils_math.py`` @ 561534a (``compute_mle_elo``, ``get_bootstrap_result``,
  ``predict_win_rate``, ``get_win_rate_column``) with the v0.1 ``show_result.py``
  (``get_battles_from_row``: game 1 maps A to the baseline, game 2 to the model).

Where this differs from the official code, and why:

- An unusable judgment (no label, or a label the official tables do not know) is retried with a
  correction turn, then left unscored with its reason. (v2.0 neither retries nor checks the
  label, and ``show_result.py`` raises on an unknown one; v0.1 asks the judge to continue its
  judgment, and drops the game when that fails or the judgment holds two different labels.)
- Battles are ordered by question and both bootstraps take a seed (v2.0's is unseeded there),
  so the interval is reproducible; with the same order and seed the draws are the official ones.
- A model that wins (or loses) every battle has no finite Bradley-Terry estimate: this reports
  the limit, 100 (or 0); the official optimiser stops at its iteration limit just below it.
- Style control leaves out a style feature that is constant over the battles (the official
  normalisation divides by its zero spread and yields NaN).
- v2.0 publishes each category on its own; the overall ``arena_hard`` here pools the battles
  of the categories, each game against its own category's baseline.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from inspect_ai.model import ChatMessage, ChatMessageSystem, ChatMessageUser, GenerateConfig, Model
from inspect_ai.scorer import Metric, SampleScore, Score, Scorer, Target, Value, metric, scorer
from inspect_ai.solver import TaskState
from pydantic import BaseModel, Field, computed_field

from harness.data import DataError, DataFile, read_jsonl_lines, resolve
from harness.judges.calling import DEFAULT_MAX_ATTEMPTS, JudgeReplyError, TokenUsage, ask_judge
from harness.judges.parsing import one_line
from harness.replay import response_of

VERSIONS = ("v2.0", "v0.1")
METADATA_KEY = "arena_hard"
"""Score.metadata key of a sample's judgment; also the Sample.metadata key of its inputs."""

_RAW = "https://raw.githubusercontent.com/lmarena/arena-hard-auto/main/data/arena-hard-{version}/{path}"

# utils/judge_utils.py JUDGE_SETTINGS (v2.0); v0.1 has one category and one baseline.
BASELINES: dict[str, dict[str, str]] = {
    "v2.0": {
        "hard_prompt": "o3-mini-2025-01-31",
        "coding": "o3-mini-2025-01-31",
        "math": "o3-mini-2025-01-31",
        "creative_writing": "gemini-2.0-flash-001",
    },
    "v0.1": {"arena-hard-v0.1": "gpt-4-0314"},
}


def _check_version(version: str) -> str:
    if version not in VERSIONS:
        raise ValueError(f"unknown Arena-Hard version {version!r}; expected one of {VERSIONS}")
    return version


def question_file(version: str = "v2.0") -> DataFile:
    _check_version(version)
    return DataFile(
        f"Arena-Hard {version} questions",
        f"arena-hard/{version}/question.jsonl",
        _RAW.format(version=version, path="question.jsonl"),
    )


def answer_file(version: str, model: str) -> DataFile:
    _check_version(version)
    if not model or "/" in model or model.startswith("."):
        raise ValueError(f"not a model answer name: {model!r}")
    return DataFile(
        f"Arena-Hard {version} answers of {model}",
        f"arena-hard/{version}/model_answer/{model}.jsonl",
        _RAW.format(version=version, path=f"model_answer/{model}.jsonl"),
    )


def baseline_model(version: str, category: str) -> str:
    """The official baseline of a category (``JUDGE_SETTINGS[category]["baseline"]``)."""
    baselines = BASELINES[_check_version(version)]
    if category not in baselines:
        raise ValueError(
            f"Arena-Hard {version} has no baseline for category {category!r}; "
            f"known: {sorted(baselines)}"
        )
    return baselines[category]


@dataclass(frozen=True)
class Question:
    index: int
    """Position in the question file (the order battles are aggregated in)."""
    uid: str
    category: str
    subcategory: str
    prompt: str


@dataclass(frozen=True)
class Answer:
    uid: str
    model: str
    text: str
    metadata: dict[str, Any] | None = None
    """The style attributes (token_len, header/list/bold counts) when the file has them."""


def load_questions(
    version: str = "v2.0", categories: Sequence[str] | None = None
) -> list[Question]:
    """Questions in file order; ``categories`` keeps those whose category or subcategory matches.

    Both schemas are read: ``uid, category, prompt`` (current) and ``question_id, category,
    turns[0].content`` (the original v0.1 files).
    """
    path = resolve(question_file(version))
    questions = []
    for lineno, r in read_jsonl_lines(path):
        uid = r.get("uid", r.get("question_id"))
        prompt = r.get("prompt")
        if prompt is None and r.get("turns"):
            prompt = r["turns"][0].get("content") if isinstance(r["turns"][0], dict) else None
        if not isinstance(uid, str) or not isinstance(prompt, str) or "category" not in r:
            raise DataError(f"{path}:{lineno}: expected uid, category and prompt")
        questions.append(
            Question(
                index=len(questions),
                uid=uid,
                category=str(r["category"]),
                subcategory=str(r.get("subcategory") or r.get("cluster") or r["category"]),
                prompt=prompt,
            )
        )
    if categories:
        wanted = set(categories)
        known = {q.category for q in questions} | {q.subcategory for q in questions}
        unknown = sorted(wanted - known)
        if unknown:
            raise ValueError(
                f"Arena-Hard {version} has no category {unknown}; "
                f"categories: {sorted({q.category for q in questions})}"
            )
        questions = [q for q in questions if q.category in wanted or q.subcategory in wanted]
    return questions


def load_answers(version: str, model: str) -> dict[str, Answer]:
    """A model's published answers by question uid (either answer schema)."""
    path = resolve(answer_file(version, model))
    answers = {}
    for lineno, r in read_jsonl_lines(path):
        uid = r.get("uid", r.get("question_id"))
        text = response_of(r)
        if not isinstance(uid, str) or text is None:
            raise DataError(
                f"{path}:{lineno}: expected uid and messages[-1].content.answer "
                "(or question_id and choices[0].turns[0].content)"
            )
        metadata = r.get("metadata", r.get("conv_metadata"))
        answers[uid] = Answer(
            uid=uid,
            model=str(r.get("model", r.get("model_id", model))),
            text=text,
            metadata=metadata if isinstance(metadata, dict) else None,
        )
    return answers


# -- the judge ---------------------------------------------------------------------------------

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

WEIGHT = 3
"""Battles per strong verdict (``>>``), the official ``weight`` / ``--weight`` default."""

# show_result.py load_judgments (v2.0): the A-side score of each label, as battles.
V2_LABEL_TO_SCORE: dict[str, list[float]] = {
    "A>B": [1.0],
    "A>>B": [1.0] * WEIGHT,
    "A=B": [0.5],
    "A<<B": [0.0] * WEIGHT,
    "A<B": [0.0],
    "B>A": [0.0],
    "B>>A": [0.0] * WEIGHT,
    "B=A": [0.5],
    "B<<A": [1.0] * WEIGHT,
    "B<A": [1.0],
}
# get_battles_from_row (v0.1): (A-side score, weight); any other label drops the game.
V01_LABELS: dict[str, tuple[float, int]] = {
    "A=B": (0.5, 1),
    "A>B": (1.0, 1),
    "A>>B": (1.0, WEIGHT),
    "B>A": (0.0, 1),
    "B>>A": (0.0, WEIGHT),
}

JUDGE_SETTINGS = {
    "v2.0": {"temperature": 0.0, "max_tokens": 16000},  # config/arena-hard-v2.0.yaml, gpt-4.1
    "v0.1": {"temperature": 0.0, "max_tokens": 4096},  # config/judge_config.yaml
}

_NO_LABEL = (
    "no final verdict label such as [[A>B]] in the judgment; continue your judgment and finish "
    "by outputting a final verdict label"
)


def system_prompt(version: str, category: str) -> str:
    _check_version(version)
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
    if version == "v2.0":
        upper = text.upper()
        for pattern in V2_PATTERNS:
            matches = [m for m in re.findall(pattern, upper) if m != ""]
            if matches:
                label = matches[-1].strip("\n")
                break
        else:
            raise JudgeReplyError(_NO_LABEL)
        known: Sequence[str] = list(V2_LABEL_TO_SCORE)
    elif version == "v0.1":
        matches = [m for m in re.findall(V01_PATTERN, text) if m != ""]
        if not matches:
            raise JudgeReplyError(_NO_LABEL)
        if len(set(matches)) > 1:
            raise JudgeReplyError(
                f"conflicting verdict labels {sorted(set(matches))}; give one final verdict label"
            )
        label = matches[0].strip("\n")
        known = list(V01_LABELS)
    else:
        _check_version(version)
        raise AssertionError("unreachable")
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
    """A question's two games, with everything the metric needs; kept in Score.metadata."""

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
        return battle_scores(self.version, [g.verdict for g in self.games])

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
    def value(self) -> float:
        battles = self.battles
        return math.nan if battles is None else float(np.mean(battles))


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
    settings = JUDGE_SETTINGS[_check_version(version)]
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


# -- battles and the official aggregation -----------------------------------------------------


def battle_scores(version: str, verdicts: Sequence[str | None]) -> list[float] | None:
    """The model's battle scores (1 win, 0.5 tie, 0 loss) from a question's two verdicts.

    ``verdicts`` are game 1 (baseline as A) then game 2 (model as A). v2.0 (``load_judgments``):
    game 2's scores then game 1's complemented, and None when either game has no verdict. v0.1
    (``get_battles_from_row``): game 1's battles then game 2's, an unusable game dropped alone,
    None when neither is usable.
    """
    game1, game2 = verdicts
    if version == "v2.0":
        if game1 not in V2_LABEL_TO_SCORE or game2 not in V2_LABEL_TO_SCORE:
            return None
        return list(V2_LABEL_TO_SCORE[game2]) + [1 - s for s in V2_LABEL_TO_SCORE[game1]]
    _check_version(version)
    scores: list[float] = []
    for verdict, model_is_a in ((game1, False), (game2, True)):
        if verdict not in V01_LABELS:
            continue
        a_score, weight = V01_LABELS[verdict]
        scores += [a_score if model_is_a else 1 - a_score] * weight
    return scores or None


@dataclass(frozen=True)
class Aggregate:
    """A score against the baseline in percent, with its bootstrap interval."""

    score: float
    lower: float
    upper: float
    battles: int


NAN_AGGREGATE = Aggregate(math.nan, math.nan, math.nan, 0)


def bootstrap_mean(scores: Sequence[float], rounds: int = 100, seed: int = 42) -> Aggregate:
    """v2.0 ``print_leaderboard``: mean of per-round means of resampled battles; 5%/95% quantiles.

    The rounds draw as ``groupby("model").sample(frac=1.0, replace=True)`` does under
    ``np.random.seed(seed)`` (one model, so one ``choice`` per round).
    """
    x = np.asarray(scores, dtype=float)
    if x.size == 0:
        return NAN_AGGREGATE
    rs = np.random.RandomState(seed)
    means = np.array(
        [x[rs.choice(x.size, size=x.size, replace=True)].mean() for _ in range(rounds)]
    )
    return Aggregate(
        score=100 * float(means.mean()),
        lower=100 * float(np.quantile(means, 0.05)),
        upper=100 * float(np.quantile(means, 0.95)),
        battles=int(x.size),
    )


def _fit_logistic(
    X: np.ndarray, y: np.ndarray, max_iter: int = 100, tol: float = 1e-10
) -> np.ndarray:
    """Unpenalised logistic regression without intercept (soft labels allowed), by Newton's method.

    Maximises Σ y·log σ(Xw) + (1 − y)·log(1 − σ(Xw)) with step halving; on separable data
    the estimate grows until ``max_iter`` (the likelihood has no finite maximum).
    """

    def loglik(w: np.ndarray) -> float:
        z = X @ w
        return float(-(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)).sum())

    w = np.zeros(X.shape[1])
    current = loglik(w)
    for _ in range(max_iter):
        p = 0.5 * (1 + np.tanh(0.5 * (X @ w)))  # σ(Xw), without overflow
        gradient = X.T @ (y - p)
        hessian = (X * (p * (1 - p))[:, None]).T @ X
        step = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        t = 1.0
        while t > 1e-8:
            candidate = w + t * step
            value = loglik(candidate)
            if value >= current - 1e-12:
                break
            t /= 2
        else:
            break
        w, improvement, current = candidate, value - current, value
        if np.max(np.abs(t * step)) < tol or improvement < tol * max(1.0, abs(current)) * 1e-3:
            break
    return w


def bradley_terry_elo(
    battles: Sequence[tuple[str, str, float]],
    baseline: str,
    scale: float = 400,
    base: float = 10,
    init_rating: float = 1000,
) -> dict[str, float]:
    """v0.1 ``compute_mle_elo``: Elo ratings from (model_a, model_b, score of model_a) battles.

    Logistic regression on X[a] = +ln(base), X[b] = −ln(base), no intercept, no penalty, every
    battle twice, a tie as one win for each side; the ratings are anchored at the baseline =
    1000. (A tie counted once each way is the 0.5 soft label the fit below uses.)
    """
    models = sorted({a for a, _, _ in battles} | {b for _, b, _ in battles} | {baseline})
    free = [m for m in models if m != baseline]
    column = {m: i for i, m in enumerate(free)}
    X = np.zeros((len(battles), len(free)))
    y = np.empty(len(battles))
    for row, (a, b, score) in enumerate(battles):
        if a in column:
            X[row, column[a]] += math.log(base)
        if b in column:
            X[row, column[b]] -= math.log(base)
        y[row] = score
    coef = _fit_logistic(X, y)
    ratings = {m: init_rating + scale * float(coef[column[m]]) for m in free}
    ratings[baseline] = init_rating  # anchor: elo += 1000 - elo[baseline]
    return {m: r + 1000 - ratings[baseline] for m, r in ratings.items()}


def win_rate(
    rating: float, baseline_rating: float = 1000, scale: float = 400, base: float = 10
) -> float:
    """``predict_win_rate``: the expected score of a rating against the baseline's."""
    exponent = (baseline_rating - rating) / scale
    return 0.0 if exponent > 300 else 1 / (1 + base**exponent)


_UNBOUNDED = 1e6
"""The rating offset standing for an infinite estimate (its win rate is 0 or 1 in floats)."""


def bradley_terry_win_rate(scores: Sequence[float], rounds: int = 100, seed: int = 42) -> Aggregate:
    """v0.1: the Bradley-Terry win rate against the baseline with its 95% bootstrap interval.

    Battles are (baseline, model) with the baseline's score ``1 − s``, as
    ``get_battles_from_row`` builds them; ``get_bootstrap_result`` refits on
    ``battles.sample(frac=1.0, replace=True)`` under ``np.random.seed(seed)``; the interval is
    the 2.5/97.5 percentiles of the bootstrap ratings, converted to win rates.
    """
    x = np.asarray(scores, dtype=float)
    if x.size == 0:
        return NAN_AGGREGATE
    model, baseline = "model", "baseline"

    def rating(sample: np.ndarray) -> float:
        if np.all(sample == 1) or np.all(sample == 0):  # no finite MLE: the limit
            return _UNBOUNDED if sample[0] == 1 else -_UNBOUNDED
        return bradley_terry_elo([(baseline, model, 1 - s) for s in sample], baseline)[model]

    rs = np.random.RandomState(seed)
    boot = np.array(
        [rating(x[rs.choice(x.size, size=x.size, replace=True)]) for _ in range(rounds)]
    )
    lower, upper = float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))
    return Aggregate(
        score=100 * win_rate(rating(x)),
        lower=100 * win_rate(lower),
        upper=100 * win_rate(upper),
        battles=int(x.size),
    )


_CODE_BLOCK = re.compile("```([^`]*)```")


def style_features(text: str) -> dict[str, Any]:
    """``add_markdown_info.py``: token length (gpt-4o encoding) and markdown element counts.

    Code blocks are removed first, as the official ``remove_pattern`` does (it removes the text
    between the fences, leaving the fences).
    """
    import tiktoken

    encoder = tiktoken.encoding_for_model("gpt-4o")
    stripped = text
    for block in _CODE_BLOCK.findall(text):
        stripped = stripped.replace(block, "")
    return {
        "token_len": len(encoder.encode(text, disallowed_special=())),
        "header_count": {
            f"h{i}": len(re.findall(rf"^#{{{i}}}\s", stripped, re.MULTILINE)) for i in range(1, 7)
        },
        "list_count": {
            "ordered": len(re.findall(r"^\s*\d+\.\s", stripped, re.MULTILINE)),
            "unordered": len(re.findall(r"^\s*[-*+]\s", stripped, re.MULTILINE)),
        },
        "bold_count": {
            "**": len(re.findall(r"\*\*[^*\n]+\*\*", stripped)),
            "__": len(re.findall(r"__[^_\n]+__", stripped)),
        },
    }


STYLE_KEYS = ("token_len", "header_count", "list_count", "bold_count")


def _has_style(metadata: dict[str, Any] | None) -> bool:
    return isinstance(metadata, dict) and all(k in metadata for k in STYLE_KEYS)


def style_vector(metadata: dict[str, Any]) -> list[float]:
    """[token_len, headers, lists, bold]: nested counts summed, as the official code does."""
    out = []
    for key in STYLE_KEYS:
        v = metadata[key]
        out.append(float(v if isinstance(v, int | float) else sum(v.values())))
    return out


def style_controlled_win_rate(
    scores: Sequence[float],
    model_style: Sequence[Sequence[float]],
    baseline_style: Sequence[Sequence[float]],
    rounds: int = 100,
    seed: int = 42,
) -> Aggregate:
    """v2.0 ``print_leaderboard_with_style_features`` with ``--control-features markdown length``.

    Per battle: the length difference ratio (m − b)/(m + b) and, for headers, lists and bold,
    the density difference (m_d − b_d)/(m_d + b_d + 1) with density = count / length; each
    standardised over the battles. A Bradley-Terry model (model +1, baseline −1, the four style
    features; outcome = the battle score) is refitted on ``np.random.randint(0, n, (rounds, n))``
    resamples; the score is the median win rate σ(β_model − β_baseline), the interval the
    5%/95% quantiles.
    """
    y = np.asarray(scores, dtype=float)
    n = y.size
    if n < 2:
        return NAN_AGGREGATE
    m = np.asarray(model_style, dtype=float)
    b = np.asarray(baseline_style, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        final = np.zeros_like(m)
        final[:, 0] = np.nan_to_num((m[:, 0] - b[:, 0]) / (m[:, 0] + b[:, 0]))
        m_density = np.nan_to_num(m[:, 1:] / m[:, :1])
        b_density = np.nan_to_num(b[:, 1:] / b[:, :1])
        final[:, 1:] = (m_density - b_density) / (m_density + b_density + 1)
    std = final.std(axis=0, ddof=1)
    keep = std > 0  # a constant feature carries nothing (and would divide by zero)
    features = (final[:, keep] - final[:, keep].mean(axis=0)) / std[keep]
    X = np.column_stack([np.ones(n), features])  # β_model − β_baseline, then the style coefs
    rs = np.random.RandomState(seed)
    idx = rs.randint(low=0, high=n, size=(rounds, n))
    rates = np.array([1 / (1 + math.exp(-_fit_logistic(X[i], y[i])[0])) for i in idx])
    return Aggregate(
        score=100 * float(np.quantile(rates, 0.5)),
        lower=100 * float(np.quantile(rates, 0.05)),
        upper=100 * float(np.quantile(rates, 0.95)),
        battles=n,
    )


def aggregate(
    version: str, scores: Sequence[float], rounds: int = 100, seed: int = 42
) -> Aggregate:
    """The version's official score of a list of battle scores (see the module docstring)."""
    if _check_version(version) == "v2.0":
        return bootstrap_mean(scores, rounds, seed)
    return bradley_terry_win_rate(scores, rounds, seed)


def _key(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]+", "_", name)


def judgment_of(score: Score) -> PairJudgment | None:
    data = (score.metadata or {}).get(METADATA_KEY)
    return None if data is None else PairJudgment.model_validate(data)


def summarise(judgments: Sequence[PairJudgment], rounds: int = 100, seed: int = 42) -> dict:
    """The official scores of a set of judgments: overall, per category, style-controlled."""
    versions = {j.version for j in judgments}
    if len(versions) > 1:
        raise ValueError(f"judgments of several Arena-Hard versions: {sorted(versions)}")
    ordered = sorted(judgments, key=lambda j: j.question_index)
    scored = [(j, b) for j in ordered if (b := j.battles) is not None]
    version = versions.pop() if versions else "v2.0"
    categories = sorted({j.category for j, _ in scored})
    groups = [("arena_hard", scored)]
    if len(categories) > 1:
        groups += [(_key(c), [(j, b) for j, b in scored if j.category == c]) for c in categories]
    out: dict[str, float] = {}  # "arena_hard" first: Inspect shows the first value
    for name, group in groups:
        agg = aggregate(version, [s for _, b in group for s in b], rounds, seed)
        out |= {name: agg.score, f"{name}_lower": agg.lower, f"{name}_upper": agg.upper}
        if version == "v2.0" and group:
            out |= _style_controlled(name, group, rounds, seed)
    return out | {
        "arena_hard_questions": float(len(scored)),
        "arena_hard_battles": float(sum(len(b) for _, b in scored)),
        "arena_hard_unscored": float(len(judgments) - len(scored)),
    }


def _style_controlled(name: str, group: list, rounds: int, seed: int) -> dict[str, float]:
    keys = (f"{name}_sc", f"{name}_sc_lower", f"{name}_sc_upper")
    styled = all(_has_style(j.model_style) and _has_style(j.baseline_style) for j, _ in group)
    if not styled or len({j.baseline for j, _ in group}) > 1:
        return dict.fromkeys(keys, math.nan)  # no style attributes, or several baselines
    scores, m, b = [], [], []
    for j, battles in group:
        mv, bv = style_vector(j.model_style), style_vector(j.baseline_style)
        scores += battles
        m += [mv] * len(battles)
        b += [bv] * len(battles)
    agg = style_controlled_win_rate(scores, m, b, rounds, seed)
    return dict(zip(keys, (agg.score, agg.lower, agg.upper), strict=True))


@metric
def arena_hard_score(bootstrap_rounds: int = 100, seed: int = 42) -> Metric:
    """The official Arena-Hard score (% against the baseline) with its bootstrap interval.

    Keys: ``arena_hard`` (+ ``_lower``/``_upper``), per category when there are several
    (``hard_prompt``, ``creative_writing``), the style-controlled ``*_sc`` (v2.0), and the
    counts ``arena_hard_questions`` / ``arena_hard_battles`` / ``arena_hard_unscored``.
    Samples without a usable judgment are left out and counted, never scored 0 or 1.
    """

    def compute(scores: list[SampleScore]) -> Value:
        judgments = [judgment_of(s.score) for s in scores]
        missing = sum(j is None for j in judgments)
        out = summarise([j for j in judgments if j is not None], bootstrap_rounds, seed)
        out["arena_hard_unscored"] += missing
        return out

    return compute


# -- the Inspect scorer -----------------------------------------------------------------------


def render_markdown(j: PairJudgment) -> str:
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


@scorer(metrics=[arena_hard_score()])
def arena_hard_judge(
    require_grader: bool = True,
    judge_max_tokens: int | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Scorer:
    """Arena-Hard pairwise judgment against the baseline answer, both orders (official protocol).

    The judge is the ``grader`` role. Samples carry their question, category, baseline and the
    baseline's answer in ``metadata["arena_hard"]``. Score.value is ``{"battle_mean": x}``, the
    mean of the sample's battle scores (1 = the model wins; NaN when unscored);
    Score.metadata["arena_hard"] the verdicts and judgments the official metric aggregates. ``judge_max_tokens`` defaults to the
    version's official setting.
    """

    async def score(state: TaskState, target: Target) -> Score:
        from harness.scorers import _role_model  # here: harness.scorers imports the benchmarks

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
        judge = _role_model("grader", require_grader)
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
            # a dict, not a bare NaN: Inspect drops NaN-valued samples before the metric runs,
            # and the metric counts the unscored ones
            value={"battle_mean": judgment.value},
            answer=answer,
            explanation=render_markdown(judgment),
            metadata={METADATA_KEY: judgment.model_dump(mode="json")},
        )

    return score
