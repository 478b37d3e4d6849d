"""AlpacaEval 2's judge protocol (``weighted_alpaca_eval_gpt4_turbo``) and the pairwise scorer.

Reproduced from the ``alpaca-eval`` package (0.6.6):

- the prompt is ``alpaca_eval_clf_gpt4_turbo/alpaca_eval_clf.txt`` verbatim (the file that
  ``evaluators_configs/weighted_alpaca_eval_gpt4_turbo/configs.yaml`` names), filled by
  replacing the first ``{instruction}``, ``{output_1}``, ``{output_2}`` in turn and split into
  system and user messages as ``utils.prompt_to_chatml`` does;
- the order of the two outputs is the official one: the baseline is ``output_1`` (identifier
  ``m``) and the model ``output_2`` (``M``), switched when
  ``random.Random("is_switched_outputs" + instruction + "0").choices([False, True])[0]``
  (``RandomSwitchTwoColumnsProcessor`` seeded by the annotator's seed 0). This reproduces the
  order behind every published annotation here (3,211 of 3,211 judged items);
- the judge answers one token (``max_tokens=1``) with ``logprobs`` / ``top_logprobs=5``; the
  preference in prompt order is ``2 - P(m) / (P(m) + P(M))`` over the first token's top
  logprobs (``logprob_parser`` with ``is_binarize=False``), mapped back to model order with
  ``3 - x`` when switched. (The official config samples at temperature 1 and reads only the
  logprobs; the scorer defaults to temperature 0, which keeps the text reading below
  deterministic: pass ``judge_temperature=1`` to match the config exactly.) A judge that
  returns no logprobs (or none for ``m`` / ``M``) is read from its text, which must be exactly
  ``m`` or ``M`` (1 or 2, the binarised ``alpaca_eval_clf_gpt4_turbo`` reading). Anything else
  is retried with a correction turn (``ask_judge``) and then **unscored** (NaN, with the
  reason), which the official metric drops, as it drops items its annotator could not parse;
- two identical outputs are a draw (1.5) without a judge call, as ``PairwiseAnnotator`` does.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Literal

from inspect_ai.model import (
    ChatMessage,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    Model,
    ModelOutput,
)
from inspect_ai.scorer import Score, Scorer, Target, scorer
from inspect_ai.solver import TaskState
from pydantic import BaseModel, computed_field

from harness.benchmarks.alpaca_eval.dataset import ANNOTATOR, BASELINE
from harness.benchmarks.alpaca_eval.metric import (
    alpaca_eval_unscored,
    alpaca_eval_winrate,
    preference_values,
)
from harness.judges.calling import JudgeReplyError, TokenUsage, ask_judge
from harness.judges.parsing import one_line
from harness.judges.roles import GRADER, require_judge_roles, role_judge
from harness.report import short_answer

PROTOCOL = f"{ANNOTATOR}@1"
SWITCH_SEED = 0
"""The annotator's seed (``BaseAnnotator(seed=0)``), passed on to its order-switching processor."""
METADATA_KEY = "alpaca_eval"

# alpaca_eval 0.6.6, evaluators_configs/alpaca_eval_clf_gpt4_turbo/alpaca_eval_clf.txt, verbatim
# (the prompt of weighted_alpaca_eval_gpt4_turbo).
JUDGE_TEMPLATE = '''<|im_start|>system
You are a highly efficient assistant, who evaluates and selects the best large language model (LLMs) based on the quality of their responses to a given instruction. This process will be used to create a leaderboard reflecting the most accurate and human-preferred answers.
<|im_end|>
<|im_start|>user
I require a leaderboard for various large language models. I'll provide you with prompts given to these models and their corresponding outputs. Your task is to assess these responses, and select the model that produces the best output from a human perspective.

## Instruction

{
    "instruction": """{instruction}""",
}

## Model Outputs

Here are the unordered outputs from the models. Each output is associated with a specific model, identified by a unique model identifier.

{
    {
        "model_identifier": "m",
        "output": """{output_1}"""
    },
    {
        "model_identifier": "M",
        "output": """{output_2}"""
    }
}

## Task

Evaluate the models based on the quality and relevance of their outputs, and select the model that generated the best output. Answer by providing the model identifier of the best model. We will use your output as the name of the best model, so make sure your output only contains one of the following model identifiers and nothing else (no quotes, no spaces, no new lines, ...): m or M.

## Best Model Identifier
<|im_end|>'''

FIRST, SECOND = "m", "M"
"""Identifiers of output_1 and output_2 in the prompt."""
TOP_LOGPROBS = 5


def is_switched(instruction: str, seed: int = SWITCH_SEED) -> bool:
    """Whether the official annotator shows the model's output first (as ``m``, output_1)."""
    return random.Random("is_switched_outputs" + instruction + str(seed)).choices(
        [False, True], k=1
    )[0]


def _chatml(prompt: str) -> list[ChatMessage]:
    """``alpaca_eval.utils.prompt_to_chatml`` for the system and user turns of the template."""
    kinds = {"system": ChatMessageSystem, "user": ChatMessageUser}
    messages: list[ChatMessage] = []
    for part in prompt.strip().split("<|im_start|>")[1:]:
        role, content = part.split("\n", 1)
        messages.append(kinds[role.strip()](content=content.split("<|im_end|>", 1)[0].strip()))
    return messages


def judge_messages(instruction: str, output_1: str, output_2: str) -> list[ChatMessage]:
    """The judge prompt for one pair, in prompt order (output_1 is ``m``, output_2 is ``M``)."""
    prompt = JUDGE_TEMPLATE
    # as alpaca_eval.utils.make_prompts: replace the first occurrence of each placeholder in turn
    for key, value in (
        ("instruction", instruction),
        ("output_1", output_1),
        ("output_2", output_2),
    ):
        prompt = prompt.replace("{" + key + "}", str(value), 1)
    return _chatml(prompt)


@dataclass(frozen=True)
class Verdict:
    """A parsed judge reply, in prompt order (1: ``m`` / output_1 is better, 2: ``M``)."""

    preference: float
    token: str
    p_first: float | None
    """P(m) / (P(m) + P(M)) from the first token's top logprobs; None when read from text."""
    source: Literal["logprobs", "text"]


def parse_verdict(text: str, output: ModelOutput | None = None) -> Verdict:
    """The preference of a reply in prompt order: weighted from logprobs when given, else from text."""
    logprobs = output.choices[0].logprobs if output is not None and output.choices else None
    if logprobs is not None and logprobs.content:
        first = logprobs.content[0]
        top = first.top_logprobs or []
        found = {t.token: t.logprob for t in top if t.token in (FIRST, SECOND)}
        if found:
            # logprob_parser(numerator_token="m", denominator_tokens=["m", "M"], is_binarize=False)
            lp_first = found.get(FIRST, -math.inf)
            lp_second = found.get(SECOND, -math.inf)
            top_lp = max(lp_first, lp_second)
            denominator = top_lp + math.log(
                math.exp(lp_first - top_lp) + math.exp(lp_second - top_lp)
            )
            p_first = math.exp(lp_first - denominator)
            return Verdict(2 - p_first, first.token, p_first, "logprobs")
    answer = text.strip()
    if answer == FIRST:
        return Verdict(1.0, answer, None, "text")
    if answer == SECOND:
        return Verdict(2.0, answer, None, "text")
    shown = one_line(text)
    raise JudgeReplyError(
        f"expected only the model identifier {FIRST} or {SECOND}, got {shown[:80]!r}"
        + ("" if logprobs is None else " (and no logprobs for m / M)")
    )


class PairwiseJudgment(BaseModel):
    """One item's pairwise judgment against the baseline, in the official encoding."""

    preference: float | None
    """Model order: 1 = the baseline wins, 2 = the model wins, 1.5 = a draw; None when unscored."""
    status: Literal["scored", "unscored"]
    reason: str | None = None
    switched: bool | None = None
    """True when the model's output was shown first (identifier m); None when no judge was asked."""
    source: Literal["logprobs", "text", "identical_outputs"] | None = None
    token: str | None = None
    """The judge's first token (or its whole answer when read from text)."""
    p_first: float | None = None
    """P(m) / (P(m) + P(M)) over the first token's top logprobs (prompt order)."""
    raw: str = ""
    """The judge's raw output (the last attempt's)."""
    attempts: int = 0
    usage: TokenUsage = TokenUsage()
    judge: str | None = None
    protocol: str = PROTOCOL
    baseline: str = BASELINE

    @computed_field  # type: ignore[prop-decorator]
    @property
    def model_identifier(self) -> str | None:
        """The model's identifier in the judge prompt (m or M)."""
        if self.switched is None:
            return None
        return FIRST if self.switched else SECOND

    @property
    def value(self) -> float:
        return math.nan if self.preference is None else self.preference


class _Recorder:
    """A judge model that keeps its last output, so the parser can read the logprobs too."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.last: ModelOutput | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)  # its config, api, name: ask_judge reads them

    def __str__(self) -> str:
        return str(self.model)  # "provider/name": what provider-specific settings key on

    async def generate(self, input: list[ChatMessage], config: GenerateConfig) -> ModelOutput:
        self.last = None
        self.last = await self.model.generate(input, config=config)
        return self.last


def judge_config(
    temperature: float | None = 0.0, max_tokens: int | None = 1, logprobs: bool = True
) -> GenerateConfig:
    """The pairwise judge's generation settings (official: one token, top-5 logprobs)."""
    return GenerateConfig(
        temperature=temperature,
        max_tokens=max_tokens,
        logprobs=True if logprobs else None,
        top_logprobs=TOP_LOGPROBS if logprobs else None,
    )


async def judge_pair(
    judge: Model,
    instruction: str,
    output: str,
    baseline_output: str,
    *,
    config: GenerateConfig | None = None,
    max_attempts: int = 3,
    seed: int = SWITCH_SEED,
) -> PairwiseJudgment:
    """Judge a model's output against the baseline's with the official protocol."""
    if output == baseline_output:
        return PairwiseJudgment(
            preference=1.5,
            status="scored",
            source="identical_outputs",
            reason="identical outputs: a draw without a judge call (as the official annotator)",
        )
    switched = is_switched(instruction, seed)
    output_1, output_2 = (output, baseline_output) if switched else (baseline_output, output)
    recorder = _Recorder(judge)
    reply = await ask_judge(
        recorder,  # type: ignore[arg-type]  # a Model in all but type
        judge_messages(instruction, output_1, output_2),
        lambda text: parse_verdict(text, recorder.last),
        config=config or judge_config(),
        max_attempts=max_attempts,
    )
    common = {
        "switched": switched,
        "raw": reply.raw,
        "attempts": reply.attempts,
        "usage": reply.usage,
        "judge": str(judge),
    }
    if reply.value is None:
        return PairwiseJudgment(preference=None, status="unscored", reason=reply.failure, **common)
    verdict = reply.value
    # RandomSwitchTwoColumnsProcessor.postprocess: 3 - x undoes the switch
    preference = 3 - verdict.preference if switched else verdict.preference
    return PairwiseJudgment(
        preference=preference,
        status="scored",
        source=verdict.source,
        token=verdict.token,
        p_first=verdict.p_first,
        **common,
    )


def render_markdown(j: PairwiseJudgment) -> str:
    if j.preference is None:
        head = f"### AlpacaEval preference **unscored** — {one_line(j.reason)}"
    else:
        who = "draw" if j.preference == 1.5 else ("model" if j.preference > 1.5 else "baseline")
        head = f"### AlpacaEval preference **{j.preference:.4f}** (favours the {who})"
    lines = [
        head,
        "",
        f"_1 = the baseline ({j.baseline}) wins, 2 = the model wins, 1.5 = a draw; "
        f"protocol {j.protocol}._",
        "",
    ]
    if j.switched is not None:
        ident = j.model_identifier
        other = SECOND if ident == FIRST else FIRST
        lines.append(
            f"- order: the model's output is `{ident}`, the baseline's `{other}` "
            f"({'switched' if j.switched else 'not switched'}, seeded on the instruction)"
        )
    if j.source == "logprobs" and j.p_first is not None:
        lines.append(
            f"- first token `{j.token}`; P(m) = {j.p_first:.4f} over m / M in its top "
            f"{TOP_LOGPROBS} logprobs"
        )
    elif j.source == "text":
        lines.append(f"- answer `{j.token}` (no logprobs: a binary verdict)")
    elif j.source == "identical_outputs":
        lines.append(f"- {j.reason}")
    if j.attempts:
        lines.append(
            f"- judge {j.judge}: {j.attempts} attempt(s), {j.usage.input_tokens} in / "
            f"{j.usage.output_tokens} out tokens; raw output: `{one_line(j.raw)[:200]}`"
        )
    return "\n".join(lines)


# -- the Inspect scorer ---------------------------------------------------------------------


def judgment_of(score: Score) -> PairwiseJudgment | None:
    data = (score.metadata or {}).get(METADATA_KEY)
    return None if data is None else PairwiseJudgment.model_validate(data)


@scorer(metrics=[alpaca_eval_winrate(), alpaca_eval_unscored()])
def alpaca_eval_pairwise(
    require_grader: bool = True,
    judge_temperature: float | None = 0.0,
    judge_max_tokens: int | None = 1,
    logprobs: bool = True,
    max_attempts: int = 3,
    seed: int = SWITCH_SEED,
) -> Scorer:
    """AlpacaEval 2 pairwise preference against gpt4_1106_preview (the official annotator).

    Score.value (``metric.VALUE_KEYS``): the official per-item ``preference`` (1 = baseline
    wins, 2 = model wins, fractional when the judge returns logprobs), its
    ``discrete_preference`` and the response ``length``; the preferences are NaN when unscored
    (Score.reason says which kind, the explanation why). Score.metadata["alpaca_eval"]: the
    judgment with the judge's raw output. The judge is the ``grader`` role. Samples need
    ``instruction`` and ``baseline_output`` in their metadata.
    """
    require_judge_roles((GRADER,), require_grader)
    config = judge_config(judge_temperature, judge_max_tokens, logprobs)

    async def score(state: TaskState, target: Target) -> Score:
        metadata = state.metadata or {}
        missing = [k for k in ("instruction", "baseline_output") if k not in metadata]
        if missing:
            raise ValueError(f"sample {state.sample_id} lacks {missing} in its metadata")
        response = state.output.completion
        judge = role_judge(GRADER, require_grader)
        if judge is None:
            judgment = PairwiseJudgment(
                preference=None, status="unscored", reason="no grader model bound (grader role)"
            )
        else:
            judgment = await judge_pair(
                judge,
                metadata["instruction"],
                response,
                metadata["baseline_output"],
                config=config,
                max_attempts=max_attempts,
                seed=seed,
            )
        reason = None
        if judgment.status == "unscored":
            reason = "grader_failed" if judgment.attempts else "scoring_failed"
        return Score(
            value=preference_values(judgment.preference, response),
            answer=short_answer(response),
            explanation=render_markdown(judgment),
            reason=reason,
            metadata={METADATA_KEY: judgment.model_dump(mode="json")},
        )

    return score
