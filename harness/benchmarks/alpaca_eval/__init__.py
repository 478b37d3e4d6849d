"""AlpacaEval 2 (tatsu-lab/alpaca_eval): 805 instructions judged pairwise against gpt4_1106_preview.

Data (the repository's ``results/<model>/...`` files; outputs are CC-BY-NC-4.0, research use):
the instructions and the official baseline outputs come from ``gpt4_1106_preview``'s
``model_outputs.json``; any published model's outputs can be replayed the same way; the
published per-item verdicts of the leaderboard annotator (``weighted_alpaca_eval_gpt4_turbo``)
and the published leaderboard table are read to check the metric code.

Judge protocol (``weighted_alpaca_eval_gpt4_turbo``, the AlpacaEval 2 leaderboard annotator),
reproduced from the ``alpaca-eval`` package (0.6.6):

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
  ``m`` or ``M`` (1 or 2, the binarised ``alpaca_eval_clf_gpt4_turbo`` reading). Anything else is retried with a correction turn
  (``ask_judge``) and then **unscored** (NaN, with the reason), which the official metric drops,
  as it drops items its annotator could not parse;
- two identical outputs are a draw (1.5) without a judge call, as ``PairwiseAnnotator`` does.

Preference encoding (the official one): 1 = the baseline wins, 2 = the model wins, 1.5 = a
draw, fractional values for the weighted annotator.

Metric: ``get_winrate`` is ``alpaca_eval.metrics.get_winrate`` (``AbsoluteScoringRule``):
win rate = 100 · mean(preference − 1) (a draw counts half), standard error = 100 · the
pandas ``sem`` (ddof = 1) of the same values, the counts of wins / baseline wins / draws, and
the discrete win rate (``ZeroOneScoringRule``: each preference rounded to 1 or 2, 1.5 a draw).
On the published per-item verdicts it reproduces the published leaderboard values
(``tests/test_alpaca_eval.py``).

**The length-controlled win rate is not implemented.** The official
``get_length_controlled_winrate`` fits its GLM on precomputed instruction-difficulty
parameters and on the annotations of two "gamed" baselines (``instruction_difficulty.csv`` and
``df_gamed.csv``, downloaded from the ``tatsu-lab/alpaca_eval`` dataset on the Hugging Face
hub at run time); they ship neither in the ``alpaca-eval`` package nor in the offline data, so
a faithful LC win rate cannot be computed here, and an approximation is not reported under
its name.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from inspect_ai.model import (
    ChatMessage,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    Model,
    ModelOutput,
)
from inspect_ai.scorer import (
    Metric,
    SampleScore,
    Score,
    Scorer,
    Target,
    Value,
    metric,
    scorer,
)
from inspect_ai.solver import TaskState
from pydantic import BaseModel, computed_field

from harness.data import DataError, DataFile, resolve
from harness.judges.calling import JudgeReplyError, TokenUsage, ask_judge
from harness.judges.parsing import one_line

REPO_RAW = "https://raw.githubusercontent.com/tatsu-lab/alpaca_eval/main"
BASELINE = "gpt4_1106_preview"
ANNOTATOR = "weighted_alpaca_eval_gpt4_turbo"
PROTOCOL = f"{ANNOTATOR}@1"
N_INSTRUCTIONS = 805
SWITCH_SEED = 0
"""The annotator's seed (``BaseAnnotator(seed=0)``), passed on to its order-switching processor."""
METADATA_KEY = "alpaca_eval"

LEADERBOARD = DataFile(
    dataset="AlpacaEval",
    relative_path="alpaca-eval/leaderboards/alpaca_eval_2_weighted_gpt4_turbo_leaderboard.csv",
    url=f"{REPO_RAW}/src/alpaca_eval/leaderboards/data_AlpacaEval_2/"
    "weighted_alpaca_eval_gpt4_turbo_leaderboard.csv",
)


def model_outputs_file(model: str) -> DataFile:
    """A published model's 805 outputs (``results/<model>/model_outputs.json``)."""
    return DataFile(
        dataset="AlpacaEval",
        relative_path=f"alpaca-eval/model_outputs/{model}.json",
        url=f"{REPO_RAW}/results/{model}/model_outputs.json",
    )


def annotations_file(model: str) -> DataFile:
    """The leaderboard annotator's published per-item verdicts for a model."""
    return DataFile(
        dataset="AlpacaEval",
        relative_path=f"alpaca-eval/annotations_weighted_gpt4_turbo/{model}.json",
        url=f"{REPO_RAW}/results/{model}/{ANNOTATOR}/annotations.json",
    )


# -- loading ------------------------------------------------------------------------------


def _read_json_items(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as ex:
        raise DataError(f"{path}: invalid JSON ({ex.msg}, line {ex.lineno})") from None
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of items")
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise DataError(f"{path}: item {i} is not a JSON object")
        missing = [k for k in required if k not in item]
        if missing:
            raise DataError(f"{path}: item {i} lacks field(s) {missing}")
    return data


def load_model_outputs(model: str) -> list[dict[str, Any]]:
    """A published model's outputs, in the benchmark's order (805 items: instruction, output, ...)."""
    path = resolve(model_outputs_file(model))
    items = _read_json_items(path, required=("instruction", "output"))
    if len(items) != N_INSTRUCTIONS:
        raise DataError(f"{path}: expected {N_INSTRUCTIONS} items, found {len(items)}")
    return items


def load_records() -> list[dict[str, Any]]:
    """The 805 AlpacaEval instructions with the official baseline's (gpt4_1106_preview) outputs.

    Each record: ``index`` (0-804, the benchmark's order), ``instruction``, ``dataset`` (the
    source set: helpful_base, koala, oasst, selfinstruct, vicuna) and ``baseline_output``.
    """
    return [
        {
            "index": i,
            "instruction": item["instruction"],
            "dataset": item.get("dataset", ""),
            "baseline_output": item["output"],
        }
        for i, item in enumerate(load_model_outputs(BASELINE))
    ]


def aligned_outputs(model: str, records: list[dict[str, Any]] | None = None) -> list[str]:
    """A published model's outputs by benchmark index, checked against the instructions."""
    records = records if records is not None else load_records()
    items = load_model_outputs(model)
    for record in records:
        item = items[record["index"]]
        if item["instruction"] != record["instruction"]:
            raise DataError(
                f"AlpacaEval outputs of {model}: item {record['index']} answers a different "
                "instruction than the benchmark's"
            )
    return [item["output"] if item["output"] is not None else "" for item in items]


def load_annotations(model: str) -> list[dict[str, Any]]:
    """The published ``weighted_alpaca_eval_gpt4_turbo`` verdicts for a model (805 items)."""
    path = resolve(annotations_file(model))
    items = _read_json_items(path, required=("instruction", "output_1", "output_2", "preference"))
    if len(items) != N_INSTRUCTIONS:
        raise DataError(f"{path}: expected {N_INSTRUCTIONS} items, found {len(items)}")
    return items


def load_leaderboard() -> pd.DataFrame:
    """The published AlpacaEval 2 leaderboard (weighted GPT-4-turbo annotator), indexed by model."""
    path = resolve(LEADERBOARD)
    table = pd.read_csv(path, index_col=0)
    missing = [c for c in ("win_rate", "standard_error", "n_total") if c not in table.columns]
    if missing:
        raise DataError(f"{path}: leaderboard lacks column(s) {missing}")
    return table


# -- the official metric --------------------------------------------------------------------


def _describe_head2head(predictions: pd.Series) -> dict[str, float]:
    """``BaseScoringRule.describe_head2head`` after its rule's ``preprocess_predictions``."""
    n_draws = int(((predictions == 1.5) | (predictions == 0)).sum())
    predictions = predictions.astype(float).replace({0.0: 1.5})
    # validate_alpacaeval_preference(x, is_allow_nan=False): NaN and values outside [1, 2] go
    is_preference = predictions.apply(lambda x: bool(1 <= x <= 2))
    predictions = predictions[is_preference] - 1
    return {
        "win_rate": float(predictions.mean() * 100),
        "standard_error": float(predictions.sem() * 100),
        "n_wins": int((predictions > 0.5).sum()),
        "n_wins_base": int((predictions < 0.5).sum()),
        "n_draws": n_draws,
        "n_total": len(predictions),
    }


def get_winrate(preferences: list[float | None]) -> dict[str, float]:
    """``alpaca_eval.metrics.get_winrate`` on per-item preferences (1 baseline, 2 model, 1.5 draw).

    ``win_rate`` (percent; a draw counts half, a weighted preference its fraction),
    ``standard_error`` (percent, pandas ``sem``), ``n_wins``, ``n_wins_base``, ``n_draws``,
    ``n_total`` (items with a valid preference: None / NaN are dropped) and
    ``discrete_win_rate`` (each preference rounded to a win or a loss first).
    """
    values = pd.Series([math.nan if p is None else p for p in preferences], dtype=float)
    # AbsoluteScoringRule: 0 is the old encoding of a draw
    out = _describe_head2head(values.replace({0: 1.5}).astype(float))
    # ZeroOneScoringRule: 1.5 -> 0 (draw), then rounded to 1 or 2
    discrete = values.replace({1.5: 0}).round().astype(pd.Int64Dtype())
    out["discrete_win_rate"] = _describe_head2head(discrete)["win_rate"]
    return out


def avg_length(outputs: list[str]) -> int:
    """The leaderboard's ``avg_length``: the mean output length in characters, truncated."""
    return int(pd.Series(outputs, dtype=object).str.len().mean())


# -- the judge protocol ---------------------------------------------------------------------

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
        recorder,  # type: ignore[arg-type]  # ask_judge only calls generate()
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


# -- Inspect scorer and metric --------------------------------------------------------------


def judgment_of(score: Score) -> PairwiseJudgment | None:
    data = (score.metadata or {}).get(METADATA_KEY)
    return None if data is None else PairwiseJudgment.model_validate(data)


@metric
def alpaca_eval_winrate() -> Metric:
    """The official AlpacaEval win rate ± standard error over the samples' preferences.

    Also the leaderboard's other columns: discrete win rate, counts and ``avg_length`` (of the
    responses, in characters). Inspect hands a metric only the scored samples (a NaN value is
    counted in the score's ``unscored_samples`` instead), which is what the official metric
    keeps too; ``avg_length`` therefore covers the responses of the scored samples.
    """

    def compute(scores: list[SampleScore]) -> Value:
        preferences: list[float | None] = []
        answers: list[str] = []
        for s in scores:
            value = s.score.value
            preference = float(value) if isinstance(value, int | float) else math.nan
            preferences.append(None if math.isnan(preference) else preference)
            if s.score.answer is not None:
                answers.append(s.score.answer)
        out: dict[str, float] = {k: float(v) for k, v in get_winrate(preferences).items()}
        out["avg_length"] = float(avg_length(answers)) if answers else math.nan
        return out

    return compute


@scorer(metrics=[alpaca_eval_winrate()])
def alpaca_eval_pairwise(
    require_grader: bool = True,
    judge_temperature: float | None = 0.0,
    judge_max_tokens: int | None = 1,
    logprobs: bool = True,
    max_attempts: int = 3,
    seed: int = SWITCH_SEED,
) -> Scorer:
    """AlpacaEval 2 pairwise preference against gpt4_1106_preview (the official annotator).

    Score.value is the official per-item preference (1 = baseline wins, 2 = model wins,
    fractional when the judge returns logprobs; NaN when unscored); Score.metadata
    ["alpaca_eval"] the judgment with the judge's raw output. The judge is the ``grader`` role.
    Samples need ``instruction`` and ``baseline_output`` in their metadata.
    """
    config = judge_config(judge_temperature, judge_max_tokens, logprobs)

    async def score(state: TaskState, target: Target) -> Score:
        from harness.scorers import _role_model  # here: harness.scorers imports the benchmarks

        metadata = state.metadata or {}
        missing = [k for k in ("instruction", "baseline_output") if k not in metadata]
        if missing:
            raise ValueError(f"sample {state.sample_id} lacks {missing} in its metadata")
        response = state.output.completion
        judge = _role_model("grader", require_grader)
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
        return Score(
            value=judgment.value,
            answer=response,
            explanation=render_markdown(judgment),
            metadata={METADATA_KEY: judgment.model_dump(mode="json")},
        )

    return score
