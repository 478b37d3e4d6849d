"""Ranking benchmarks as Inspect tasks: the model under evaluation is the judge.

A sample is one comparison group (input: its prompt; ``metadata["group"]``: the group, so the
scorer rebuilds it). Nothing is generated: the scorer scores every response of the group once
with the project's ``RewardEngine`` (the spec from ``specs`` by prompt hash, else a prompt-only
spec: the global judge alone), recombines every ablation variant of
``harness.ranking.scoring.VARIANTS`` from the stored components, and returns each variant's
credit for the group (``Score.value = {variant: credit}``, NaN when unscored, never 0).

Judges: ``rubric_grader`` / ``global_grader`` when bound, else ``grader``, else the eval's own
model (``--model``): that is the model being evaluated as a judge.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import asdict
from typing import Any

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig, Model, get_model
from inspect_ai.scorer import Metric, SampleScore, Score, Scorer, Target, Value, metric, scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver

from harness.cache import JudgmentCache
from harness.checkers import resolve_runtime
from harness.judges.holistic import GlobalJudge
from harness.judges.roles import role_judge
from harness.protocols import rubric_protocol_named
from harness.provenance import judge_protocols, task_metadata
from harness.ranking.groups import Comparison, Response
from harness.ranking.metrics import (
    TIE_POLICIES,
    TiePolicy,
    group_credit,
    rmbench_levels,
    rmbench_matrix,
)
from harness.ranking.scoring import VARIANTS, score_groups, unique_responses
from harness.reward import COMPONENTS, HybridConfig
from harness.score_values import mean_and_stderr, value_of
from harness.scorers import headline
from harness.scoring import RewardEngine, RewardResult
from harness.spec import prompt_hash
from harness.store import SpecStore

GROUP_KEY = "group"
SCORER = "ranking_credit"
HEADLINE = "hybrid"
RMBENCH_LEVELS = ("hybrid_easy", "hybrid_normal", "hybrid_hard")
"""RM-Bench's extra value keys: the hybrid's easy / normal / hard accuracy of the group."""
VARIANT_ORDER = ("hybrid", *(v for v in VARIANTS if v != "hybrid"))
"""Score.value keys in metric order: the hybrid (the headline) first."""


# -- samples ------------------------------------------------------------------------------------


def group_metadata(group: Comparison) -> dict[str, Any]:
    """A group as JSON-able sample metadata (``group_from_metadata`` rebuilds it)."""
    return asdict(group)


def group_from_metadata(metadata: dict[str, Any] | None) -> Comparison:
    data = (metadata or {}).get(GROUP_KEY)
    if not isinstance(data, dict):
        raise ValueError(f"sample has no '{GROUP_KEY}' metadata: not a ranking task sample")

    def responses(items: list[dict[str, str]]) -> tuple[Response, ...]:
        return tuple(Response(text=r["text"], key=r["key"]) for r in items)

    return Comparison(
        id=data["id"],
        prompt=data["prompt"],
        chosen=responses(data["chosen"]),
        rejected=responses(data["rejected"]),
        subset=data["subset"],
        dataset=data["dataset"],
        metadata=data.get("metadata") or {},
    )


def group_sample(group: Comparison) -> Sample:
    return Sample(
        id=group.id,
        input=group.prompt,
        metadata={
            "subset": group.subset,
            "dataset": group.dataset,
            "responses": len(group.responses),
            GROUP_KEY: group_metadata(group),
        },
    )


@solver
def no_generation() -> Solver:
    """Nothing to generate: the responses are the dataset's; the model is the judge."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        return state

    return solve


# -- scorer -------------------------------------------------------------------------------------


def group_values(
    group: Comparison,
    scores: dict[str, dict[str, float | None]],
    rmbench: bool,
    ties: TiePolicy = "strict",
) -> dict[str, float]:
    """Score.value of a group: each variant's credit (NaN when unscored). Pairwise and best-of-N
    groups: ``group_credit`` under ``ties``; RM-Bench: the mean of its 3x3 matrix, plus the
    hybrid's easy / normal / hard."""
    out: dict[str, float] = {}
    for variant in VARIANT_ORDER:
        if rmbench:
            m = rmbench_matrix(group, scores[variant])
            out[variant] = math.nan if m is None else float(m.mean())
            if variant == "hybrid":
                levels = (math.nan,) * 3 if m is None else rmbench_levels(m)
                out.update(zip(RMBENCH_LEVELS, levels, strict=True))
        else:
            credit = group_credit(group, scores[variant], ties)
            out[variant] = math.nan if credit is None else credit
    return out


def _cell(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[:limit].rstrip() + "…"
    return flat.replace("|", "\\|")


def _number(value: float | None) -> str:
    return "unscored" if value is None else f"{value:.3f}"


def explanation(
    group: Comparison,
    results: dict[str, RewardResult],
    scores: dict[str, dict[str, float | None]],
    values: dict[str, float],
) -> str:
    """The group's responses side by side: each one's variant scores, component values,
    per-criterion verdicts and checks (markdown)."""
    columns = [(f"chosen {i + 1}", r) for i, r in enumerate(group.chosen)] + [
        (f"rejected {i + 1}", r) for i, r in enumerate(group.rejected)
    ]
    header = "| | " + " | ".join(name for name, _ in columns) + " |"
    rows = [header, "|---" * (len(columns) + 1) + "|"]

    def row(label: str, cells: list[str]) -> None:
        rows.append(f"| {label} | " + " | ".join(cells) + " |")

    row("response", [_cell(r.text) for _, r in columns])
    for variant in VARIANT_ORDER:
        row(f"**{variant}**", [_number(scores[variant].get(r.key)) for _, r in columns])
    for name in COMPONENTS:
        cells = []
        for _, r in columns:
            c = results[r.key].component(name)
            cells.append(
                _number(c.value)
                if c.status != "unscored"
                else f"unscored: {_cell(c.reason or '', 80)}"
            )
        row(name, cells)
    criteria = dict.fromkeys(c.id for _, r in columns for c in results[r.key].rubric.criteria)
    for cid in criteria:
        cells = []
        for _, r in columns:
            rec = next((c for c in results[r.key].rubric.criteria if c.id == cid), None)
            cells.append("" if rec is None else f"{rec.verdict}: {_cell(rec.reason, 80)}")
        row(f"criterion {_cell(cid, 40)}", cells)
    checks = dict.fromkeys(c.id for _, r in columns for c in results[r.key].code.checks)
    for cid in checks:
        cells = []
        for _, r in columns:
            rec = next((c for c in results[r.key].code.checks if c.id == cid), None)
            cells.append("" if rec is None else rec.status)
        row(f"check {_cell(cid, 40)}", cells)
    credit = ", ".join(
        f"{k} {'unscored' if math.isnan(v) else f'{v:.3f}'}" for k, v in values.items()
    )
    return f"**{group.dataset}/{group.subset} {group.id}** credit: {credit}\n\n" + "\n".join(rows)


def _judge(role: str) -> Model:
    """The role's judge, else ``grader``'s, else the eval's model (the one under evaluation)."""
    return role_judge(role, required=False) or get_model()


@scorer(metrics=[])
def ranking_credit(
    rmbench: bool = False,
    ties: TiePolicy = "strict",
    specs: str | None = None,
    rubric_mode: str = "single",
    hybrid: HybridConfig | None = None,
    checker_runtime: str = "auto",
    judge_max_tokens: int | None = None,
    cache_path: str | None = None,
    structured_output: bool = True,
    step: int | None = None,
) -> Scorer:
    """Every variant's credit for a comparison group (see the module docstring)."""
    if ties not in TIE_POLICIES:
        raise ValueError(f"unknown ties {ties!r}; expected one of {TIE_POLICIES}")
    store = SpecStore(specs) if specs else None
    cache = JudgmentCache(cache_path)  # shared by every sample: a repeated response is judged once
    config = hybrid or HybridConfig()
    runtime: list[Any] = []

    async def checker_runtime_for(group: Comparison) -> Any:
        spec = store.get_by_prompt_hash(prompt_hash(group.prompt)) if store else None
        if spec is None or not spec.checkers:
            return None
        if not runtime:
            runtime.append(await asyncio.to_thread(resolve_runtime, checker_runtime, None))
        return runtime[0]

    async def score(state: TaskState, target: Target) -> Score:
        group = group_from_metadata(state.metadata)
        engine = RewardEngine(
            rubric_judge=_judge("rubric_grader"),
            global_judge=_judge("global_grader"),
            checker_runtime=await checker_runtime_for(group),
            rubric_protocol=rubric_protocol_named(rubric_mode),
            global_protocol=GlobalJudge(),
            hybrid=config,
            cache=cache,
            judge_config=GenerateConfig(max_tokens=judge_max_tokens),
            structured_output=structured_output,
        )
        scored = await score_groups([group], engine, specs=store, step=step)
        values = group_values(group, scored.scores, rmbench, ties)
        return Score(
            value=values,
            explanation=explanation(group, scored.results, scored.scores, values),
            metadata={
                "results": {
                    k: r.model_dump(mode="json", by_alias=True) for k, r in scored.results.items()
                },
                "unscored_reasons": scored.reasons,
                # every variant's score of every response: `harness rank --logs` re-ranks from it
                VARIANT_SCORES_KEY: scored.scores,
            },
        )

    return score


VARIANT_SCORES_KEY = "variant_scores"
"""Score.metadata key: variant -> response key -> score (None: unscored)."""


def groups_from_log(log: Any) -> tuple[list[Comparison], dict[str, dict[str, float | None]]]:
    """The comparison groups of a ranking task's log and every variant's scores of their
    responses (first epoch; samples without a score are left out)."""
    groups, variants = [], {}
    for sample in log.samples or []:
        if sample.epoch != 1:
            continue
        score = next(
            (
                s
                for s in (sample.scores or {}).values()
                if s.metadata and VARIANT_SCORES_KEY in s.metadata
            ),
            None,
        )
        if score is None:
            continue
        groups.append(group_from_metadata(sample.metadata))
        for variant, scores in score.metadata[VARIANT_SCORES_KEY].items():
            variants.setdefault(variant, {}).update(scores)
    return groups, variants


# -- metrics ------------------------------------------------------------------------------------


@metric
def ranking_accuracy(keys: list[str], group_by: str = "subset") -> Metric:
    """``<key>`` (mean credit) and ``<key>_stderr`` of each value key, and ``<key>_<group>``
    (mean per value of the sample metadata field ``group_by``) of each. Unscored (NaN) groups
    are skipped, and counted by ``ranking_unscored``."""

    def compute(scores: list[SampleScore]) -> Value:
        out: dict[str, float] = {}
        for key in keys:
            out[key], out[f"{key}_stderr"] = mean_and_stderr([value_of(s, key) for s in scores])
        subsets = sorted({str((s.sample_metadata or {}).get(group_by)) for s in scores})
        for key in keys:
            for subset in subsets:
                values = [
                    value_of(s, key)
                    for s in scores
                    if str((s.sample_metadata or {}).get(group_by)) == subset
                ]
                out[f"{key}_{subset}"] = mean_and_stderr(values)[0]
        return out

    return compute


@metric(scores="unreduced")
def ranking_unscored(keys: list[str]) -> Metric:
    """``<key>_unscored``: how many (group, epoch) judgments leave the key unscored."""

    def compute(scores: list[SampleScore]) -> Value:
        return {
            f"{k}_unscored": float(sum(math.isnan(value_of(s, k)) for s in scores)) for k in keys
        }

    return compute


def ranking_task(
    benchmark: str,
    groups: list[Comparison],
    *,
    rmbench: bool = False,
    ties: TiePolicy = "strict",
    specs: str | None = None,
    limit: int | None = None,
    rubric_mode: str = "single",
    weights: dict[str, float] | None = None,
    checker_runtime: str = "auto",
    judge_max_tokens: int | None = None,
    cache_path: str | None = None,
    structured_output: bool = True,
    version: int = 1,
) -> Task:
    """A ranking benchmark's task (see the module docstring)."""
    from harness.tasks import make_task

    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        groups = groups[:limit]
    keys = [*VARIANT_ORDER, *(RMBENCH_LEVELS if rmbench else ())]
    hybrid = HybridConfig(weights=weights) if weights else HybridConfig()
    return make_task(
        MemoryDataset([group_sample(g) for g in groups], name=benchmark),
        solver=no_generation(),
        scorer=ranking_credit(
            rmbench=rmbench,
            ties=ties,
            specs=specs,
            rubric_mode=rubric_mode,
            hybrid=hybrid,
            checker_runtime=checker_runtime,
            judge_max_tokens=judge_max_tokens,
            cache_path=cache_path,
            structured_output=structured_output,
        ),
        metrics=[ranking_accuracy(keys), ranking_unscored(keys)],
        headline_metric=headline(HEADLINE, scorer=SCORER),
        version=version,
        metadata=task_metadata(
            benchmark,
            judge_protocols(rubric_mode),
            specs=specs,
            ranking={
                "groups": len(groups),
                "responses": len(unique_responses(groups)),
                "ties": "rmbench-matrix" if rmbench else ties,
                "variants": list(VARIANT_ORDER),
            },
        ),
    )
