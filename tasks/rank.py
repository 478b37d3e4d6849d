"""Ranking benchmarks: the model under evaluation is the judge (``harness.ranking.task``).

Each sample is a comparison group; nothing is generated. The judge (``--model``, or the grader
roles when bound) scores every response once with the hybrid reward (``-T specs=`` a built spec
store, else the global judge alone), and every ablation variant's ranking credit is reported.
"""

from __future__ import annotations

from inspect_ai import Task, task

from harness.ranking.datasets import load_hh_harmless, load_judgebench, load_llmbar, load_rmbench
from harness.ranking.metrics import TiePolicy
from harness.ranking.task import ranking_task
from harness.tasks import task_name


def _list(value: str | list[str]) -> str | list[str]:
    if isinstance(value, str) and "," in value:
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


@task(name=task_name("rank_rmbench", __name__))
def rank_rmbench(
    domains: str | list[str] = "chat,code,safety-refuse,safety-response",
    specs: str | None = None,
    limit: int | None = None,
    rubric_mode: str = "single",
    weights: dict[str, float] | None = None,
    judge_max_tokens: int | None = None,
    cache_path: str | None = None,
    structured_output: bool = True,
) -> Task:
    """RM-Bench: per group, the mean of the 3x3 style matrix (THU-KEG/RM-Bench compute_accuracy)
    for each variant, and the hybrid's easy / normal / hard.

    Args:
        domains: RM-Bench files (chat, code, safety-refuse, safety-response, math), comma-separated.
        specs: Spec store (JSONL) with specs for the prompts (by prompt hash); else prompt-only.
        limit: Only the first N groups.
        rubric_mode: "single" or "per_criterion".
        weights: Hybrid component weights, e.g. {"rubric": 1, "global": 1, "code": 1}.
        judge_max_tokens: Max tokens of each judge reply.
        cache_path: SQLite judgment cache (re-running reuses judgments).
        structured_output: Ask judges for schema-constrained JSON.
    """
    return ranking_task(
        "rank_rmbench",
        load_rmbench(_list(domains)),
        rmbench=True,
        specs=specs,
        limit=limit,
        rubric_mode=rubric_mode,
        weights=weights,
        judge_max_tokens=judge_max_tokens,
        cache_path=cache_path,
        structured_output=structured_output,
    )


@task(name=task_name("rank_judgebench", __name__))
def rank_judgebench(
    responses: str = "gpt-4o",
    ties: TiePolicy = "strict",
    specs: str | None = None,
    limit: int | None = None,
    rubric_mode: str = "single",
    weights: dict[str, float] | None = None,
    judge_max_tokens: int | None = None,
    cache_path: str | None = None,
    structured_output: bool = True,
) -> Task:
    """JudgeBench pairs scored pointwise: per-pair credit of each variant.

    Args:
        responses: Response set: "gpt-4o" or "claude-3.5".
        ties: Tie policy: "strict" (tie = wrong), "half" or "1/k".
        specs: Spec store (JSONL) with specs for the prompts (by prompt hash); else prompt-only.
        limit: Only the first N groups.
        rubric_mode: "single" or "per_criterion".
        weights: Hybrid component weights.
        judge_max_tokens: Max tokens of each judge reply.
        cache_path: SQLite judgment cache.
        structured_output: Ask judges for schema-constrained JSON.
    """
    return ranking_task(
        "rank_judgebench",
        load_judgebench(responses),
        ties=ties,
        specs=specs,
        limit=limit,
        rubric_mode=rubric_mode,
        weights=weights,
        judge_max_tokens=judge_max_tokens,
        cache_path=cache_path,
        structured_output=structured_output,
    )


@task(name=task_name("rank_llmbar", __name__))
def rank_llmbar(
    sets: str | list[str] = "llmbar",
    ties: TiePolicy = "strict",
    specs: str | None = None,
    limit: int | None = None,
    rubric_mode: str = "single",
    weights: dict[str, float] | None = None,
    judge_max_tokens: int | None = None,
    cache_path: str | None = None,
    structured_output: bool = True,
) -> Task:
    """LLMBar (Natural + adversarial sets, or the human-judged sets): per-pair credit.

    Args:
        sets: LLMBar set names or groups (see harness.ranking.datasets.LLMBAR_SETS),
            comma-separated.
        ties: Tie policy: "strict" (tie = wrong), "half" or "1/k".
        specs: Spec store (JSONL) with specs for the prompts (by prompt hash); else prompt-only.
        limit: Only the first N groups.
        rubric_mode: "single" or "per_criterion".
        weights: Hybrid component weights.
        judge_max_tokens: Max tokens of each judge reply.
        cache_path: SQLite judgment cache.
        structured_output: Ask judges for schema-constrained JSON.
    """
    return ranking_task(
        "rank_llmbar",
        load_llmbar(_list(sets)),
        ties=ties,
        specs=specs,
        limit=limit,
        rubric_mode=rubric_mode,
        weights=weights,
        judge_max_tokens=judge_max_tokens,
        cache_path=cache_path,
        structured_output=structured_output,
    )


@task(name=task_name("rank_hh_harmless", __name__))
def rank_hh_harmless(
    ties: TiePolicy = "strict",
    specs: str | None = None,
    limit: int | None = None,
    rubric_mode: str = "single",
    weights: dict[str, float] | None = None,
    judge_max_tokens: int | None = None,
    cache_path: str | None = None,
    structured_output: bool = True,
) -> Task:
    """HH-RLHF harmless-base test pairs (prompt = the shared transcript): per-pair credit.

    Args:
        ties: Tie policy: "strict" (tie = wrong), "half" or "1/k".
        specs: Spec store (JSONL) with specs for the prompts (by prompt hash); else prompt-only.
        limit: Only the first N groups.
        rubric_mode: "single" or "per_criterion".
        weights: Hybrid component weights.
        judge_max_tokens: Max tokens of each judge reply.
        cache_path: SQLite judgment cache.
        structured_output: Ask judges for schema-constrained JSON.
    """
    return ranking_task(
        "rank_hh_harmless",
        load_hh_harmless(),
        ties=ties,
        specs=specs,
        limit=limit,
        rubric_mode=rubric_mode,
        weights=weights,
        judge_max_tokens=judge_max_tokens,
        cache_path=cache_path,
        structured_output=structured_output,
    )
