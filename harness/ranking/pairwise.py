"""The pairwise judge baseline: the judge sees both responses, in both orders (JudgeBench style).

What users compare a pointwise reward against: a judge shown the prompt and two responses that
names the better one. Each group (one chosen, one rejected) is judged twice, as JudgeBench does
with ``reverse_order`` (ScalerLab/JudgeBench ``run_judge.py`` ``judge_pairs``, commit e2c52c2):
order 1 shows the chosen as assistant A and the rejected as B, order 2 the reverse.

Prompt: JudgeBench's ``arena_hard`` judge (``utils/judges.py`` ``ArenaHard.get_judgment``:
system ``utils/templates/arena_hard_judge_system.jinja2``, user
``utils/templates/arena_hard_judge_prompt.jinja2``, temperature 0, max_tokens 4096), which is
Arena-Hard v0.1's prompt word for word — the same text as
:data:`harness.benchmarks.arena_hard.judge.OG_ARENA_HARD_PROMPT` and ``PROMPT_TEMPLATE``, reused
from there. The judge ends with a label ``[[A>>B]]``, ``[[A>B]]``, ``[[A=B]]``, ``[[B>A]]`` or
``[[B>>A]]``, read as ``ArenaHard.get_score`` reads it (regex ``\\[\\[([AB<>=]+)\\]\\]``, exactly
one distinct label; ``>>`` counts as ``>``): :func:`harness.benchmarks.arena_hard.judge.
parse_verdict` with version ``"v0.1"``.

Where this differs from JudgeBench: a reply without a usable label (none, two different ones, an
unknown one, a copy of the prompt's option list) is retried with a correction turn, up to
``max_attempts`` calls (:func:`harness.judges.calling.ask_judge`, as every judge here), then that
order is *unscored* with its reason. (JudgeBench asks once more to "continue your judgment" when
there is no label and records a null decision otherwise.)

Credit: JudgeBench's net-vote rule (``utils/metrics.py`` ``compute_final_metrics`` with
``reverse_order``): +1 per order that picks the chosen, -1 per order that picks the rejected,
0 for a tie; correct iff the sum is > 0 — counted by
:func:`harness.ranking.metrics.position_consistency`. A group with an unscored order is unscored
(``missing="exclude"``, the default) or counts that order as a 0 vote as JudgeBench counts a null
decision (``missing="abstain"``).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
from inspect_ai.model import ChatMessage, ChatMessageSystem, ChatMessageUser, GenerateConfig, Model

from harness.benchmarks.arena_hard.judge import (
    OG_ARENA_HARD_PROMPT,
    PROMPT_TEMPLATE,
    VERDICT_OPTIONS,
    parse_verdict,
)
from harness.judges.calling import DEFAULT_MAX_ATTEMPTS, TokenUsage, ask_judge
from harness.ranking.groups import Comparison
from harness.ranking.metrics import PositionConsistency, Verdict, position_consistency

__all__ = [
    "ARENA_HARD",
    "ORDERS",
    "OrderJudgment",
    "PairwisePrompt",
    "PairwiseResult",
    "judge_pairs",
    "verdict_of",
]

Order = Literal["chosen_first", "chosen_second"]
ORDERS: tuple[Order, Order] = ("chosen_first", "chosen_second")
"""Order 1 shows the chosen as assistant A; order 2 shows it as assistant B."""

JUDGEBENCH_SETTINGS = GenerateConfig(temperature=0.0, max_tokens=4096)
"""``ArenaHard.get_judgment``'s call settings (a judge role's own settings win over these)."""


@dataclass(frozen=True)
class PairwisePrompt:
    """A pairwise judge prompt: a system message and a user template with ``{QUESTION}``,
    ``{ANSWER_A}`` and ``{ANSWER_B}``. Replies must end with an Arena-Hard verdict label."""

    name: str
    system: str
    template: str

    def __post_init__(self) -> None:
        missing = [f for f in ("{QUESTION}", "{ANSWER_A}", "{ANSWER_B}") if f not in self.template]
        if missing:
            raise ValueError(f"pairwise prompt {self.name!r}: template lacks {', '.join(missing)}")

    def messages(self, question: str, answer_a: str, answer_b: str) -> list[ChatMessage]:
        user = self.template.format(QUESTION=question, ANSWER_A=answer_a, ANSWER_B=answer_b)
        return [ChatMessageSystem(content=self.system), ChatMessageUser(content=user)]


ARENA_HARD = PairwisePrompt("arena_hard", OG_ARENA_HARD_PROMPT, PROMPT_TEMPLATE)
"""JudgeBench's ``arena_hard`` judge prompt (identical to Arena-Hard v0.1's)."""


def verdict_of(label: str, order: Order) -> Verdict:
    """Which response a label picks: ``A>B``/``A>>B`` pick assistant A, ``B>A``/``B>>A`` pick B,
    ``A=B`` is a tie; A is the chosen in ``chosen_first`` and the rejected in ``chosen_second``."""
    if label in ("A>B", "A>>B"):
        a_wins = True
    elif label in ("B>A", "B>>A"):
        a_wins = False
    elif label == "A=B":
        return "tie"
    else:
        raise ValueError(f"unknown verdict label {label!r}")
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; expected one of {ORDERS}")
    return "chosen" if a_wins == (order == "chosen_first") else "rejected"


@dataclass(frozen=True)
class OrderJudgment:
    """One order of one group: the label as the judge wrote it (A/B point of view), the verdict
    it maps to, or the reason there is none."""

    order: Order
    label: str | None
    verdict: Verdict | None
    failure: str | None
    attempts: int
    judgment: str
    usage: TokenUsage


@dataclass(frozen=True)
class PairwiseResult:
    """Both orders' judgments of every group, and what they add up to."""

    groups: tuple[Comparison, ...]
    judgments: dict[str, tuple[OrderJudgment, OrderJudgment]]
    """Group id -> (chosen-first judgment, chosen-second judgment)."""
    missing: Literal["exclude", "abstain"] = "exclude"
    credits: dict[str, int | None] = field(init=False)
    """Group id -> 1 (net vote favours the chosen), 0 (it does not), None (unscored). The input of
    :func:`harness.ranking.metrics.paired_comparison` against a pointwise variant's credits."""
    summary: PositionConsistency = field(init=False)
    """Consistency and net-vote accuracy over all groups (:func:`position_consistency`)."""

    def __post_init__(self) -> None:
        credits: dict[str, int | None] = {}
        for gid, pair in self.verdicts.items():
            one = position_consistency({gid: pair}, missing=self.missing)
            credits[gid] = None if one.n == 0 else int(one.accuracy)
        object.__setattr__(self, "credits", credits)
        object.__setattr__(
            self, "summary", position_consistency(self.verdicts, missing=self.missing)
        )

    @property
    def verdicts(self) -> dict[str, tuple[Verdict | None, Verdict | None]]:
        """Group id -> (verdict with the chosen first, verdict with the chosen second)."""
        return {gid: (a.verdict, b.verdict) for gid, (a, b) in self.judgments.items()}

    @property
    def failures(self) -> list[tuple[str, Order, str]]:
        """(group id, order, reason) of every order left without a verdict."""
        return [
            (gid, j.order, j.failure)
            for gid, pair in self.judgments.items()
            for j in pair
            if j.failure is not None
        ]

    @property
    def usage(self) -> TokenUsage:
        """Judge tokens and calls over all groups and orders (retries included)."""
        total = TokenUsage()
        for pair in self.judgments.values():
            for j in pair:
                total.add(j.usage)
        return total

    def frame(self) -> pd.DataFrame:
        """One row per group: ``id``, ``dataset``, ``subset``, ``chosen_first``,
        ``chosen_second`` (verdicts), ``credit`` (NaN when unscored), ``scored`` and ``reason``.
        Usable with :func:`harness.ranking.metrics.accuracy_table` like ``group_credits``."""
        rows = []
        for g in self.groups:
            first, second = self.judgments[g.id]
            credit = self.credits[g.id]
            reasons = [f"{j.order}: {j.failure}" for j in (first, second) if j.failure]
            rows.append(
                {
                    "id": g.id,
                    "dataset": g.dataset,
                    "subset": g.subset,
                    "chosen_first": first.verdict,
                    "chosen_second": second.verdict,
                    "credit": math.nan if credit is None else float(credit),
                    "scored": credit is not None,
                    "reason": "; ".join(reasons) or None,
                }
            )
        cols = ["id", "dataset", "subset", "chosen_first", "chosen_second", "credit", "scored"]
        return pd.DataFrame(rows, columns=[*cols, "reason"])


def _check_groups(groups: Sequence[Comparison]) -> None:
    seen: set[str] = set()
    for g in groups:
        if len(g.chosen) != 1 or len(g.rejected) != 1:
            raise ValueError(
                f"group {g.id!r} ({g.dataset}/{g.subset}) has {len(g.chosen)} chosen and "
                f"{len(g.rejected)} rejected; the pairwise judge needs exactly 1 of each"
            )
        if g.id in seen:
            raise ValueError(f"group id {g.id!r} ({g.dataset}/{g.subset}) appears twice")
        seen.add(g.id)


async def _judge_order(
    model: Model,
    group: Comparison,
    order: Order,
    prompt: PairwisePrompt,
    config: GenerateConfig,
    max_attempts: int,
    semaphore: asyncio.Semaphore,
) -> OrderJudgment:
    chosen, rejected = group.chosen[0].text, group.rejected[0].text
    a, b = (chosen, rejected) if order == "chosen_first" else (rejected, chosen)
    async with semaphore:
        reply = await ask_judge(
            model,
            prompt.messages(group.prompt, a, b),
            lambda text: parse_verdict(text, "v0.1"),
            config=config,
            max_attempts=max_attempts,
            template=VERDICT_OPTIONS.without(group.prompt, a, b),
        )
    label = reply.value
    return OrderJudgment(
        order=order,
        label=label,
        verdict=None if label is None else verdict_of(label, order),
        failure=reply.failure,
        attempts=reply.attempts,
        judgment=reply.raw,
        usage=reply.usage,
    )


async def judge_pairs(
    groups: Sequence[Comparison],
    model: Model,
    *,
    prompt: PairwisePrompt = ARENA_HARD,
    config: GenerateConfig | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    max_concurrency: int = 16,
    missing: Literal["exclude", "abstain"] = "exclude",
) -> PairwiseResult:
    """Judge every group (exactly one chosen and one rejected) in both orders with ``model``.

    2 calls per group, plus a correction turn per unusable reply (at most ``max_attempts`` calls
    per order), at most ``max_concurrency`` requests at a time. ``config``: the call settings
    (default JudgeBench's: temperature 0, 4096 tokens; a judge role's own settings win).
    Never raises for what the judge returns; raises ValueError for a group that is not a pair, a
    duplicate group id, or ``max_attempts``/``max_concurrency`` below 1.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
    if max_concurrency < 1:
        raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
    if missing not in ("exclude", "abstain"):
        raise ValueError(f"missing must be 'exclude' or 'abstain', got {missing!r}")
    groups = tuple(groups)
    _check_groups(groups)
    semaphore = asyncio.Semaphore(max_concurrency)
    settings = config if config is not None else JUDGEBENCH_SETTINGS
    judged = await asyncio.gather(
        *(
            _judge_order(model, g, order, prompt, settings, max_attempts, semaphore)
            for g in groups
            for order in ORDERS
        )
    )
    judgments = {g.id: (judged[2 * i], judged[2 * i + 1]) for i, g in enumerate(groups)}
    return PairwiseResult(groups=groups, judgments=judgments, missing=missing)
