"""HealthBench: the official HealthBench score and the hybrid reward on physician rubrics."""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.solver import generate

from harness.benchmarks import healthbench as hb
from harness.provenance import judge_protocols, task_metadata
from harness.scorers import (
    SPEC_KEY,
    chat_messages,
    headline,
    hybrid_reward,
    reward_metrics,
    spec_metadata,
)
from harness.tasks import make_task, task_name


@task(name=task_name("healthbench", __name__))
def healthbench(
    subset: str = "full",
    theme: str | list[str] | None = None,
    rubric_mode: str = "healthbench",
    require_grader: bool = True,
    weights: dict[str, float] | None = None,
    judge_max_tokens: int | None = None,
    cache_path: str | None = None,
    structured_output: bool = True,
    specs: str | None = None,
) -> Task:
    """HealthBench conversations (subset full / hard / consensus / sample_500; filter by theme).

    Headline: the official HealthBench score (``healthbench``), right for any ``--epochs``.

    Args:
        subset: Which HealthBench file to use.
        theme: Keep only these themes (e.g. "emergency_referrals", "hedging").
        rubric_mode: "healthbench" (official per-item protocol, default), "single" (all items
            in one call) or "per_criterion".
        require_grader: Fail when no grader role is bound (else judged parts are unscored).
        weights: Hybrid component weights, e.g. {"rubric": 1, "global": 1}.
        judge_max_tokens: Max tokens of each judge reply.
        cache_path: SQLite file for the judgment cache (re-scoring reuses judgments).
        structured_output: Ask judges for schema-constrained JSON (turn off for servers
            that reject response schemas).
        specs: A spec store (e.g. from `harness spec build`): the hybrid reward uses the spec
            built for each prompt instead of the native one; official metrics stay native.
    """
    themes = [theme] if isinstance(theme, str) else theme
    samples = []
    for record in hb.load_records(subset, themes):
        spec = hb.native_spec(record)
        samples.append(
            Sample(
                id=record["prompt_id"],
                input=chat_messages(spec.prompt),
                metadata={
                    "theme": hb.theme_of(record),
                    "example_tags": record.get("example_tags", []),
                    **spec_metadata(spec, specs),
                },
            )
        )
    if not samples:
        raise ValueError(f"no HealthBench conversations match theme={themes}")
    return make_task(
        MemoryDataset(samples, name=f"healthbench-{subset}"),
        solver=generate(),
        scorer=hybrid_reward(
            rubric_mode=rubric_mode,
            weights=weights,
            require_grader=require_grader,
            judge_max_tokens=judge_max_tokens,
            cache_path=cache_path,
            structured_output=structured_output,
            official_values=hb.official_values,
        ),
        metrics=[
            hb.healthbench_score(),
            *reward_metrics(group_by="theme"),
            hb.healthbench_unscored(),
        ],
        headline_metric=headline("healthbench"),
        version=2,
        metadata=task_metadata(
            "healthbench",
            {**judge_protocols(rubric_mode), "official": hb.OFFICIAL_METRIC},
            specs=specs,
            checkers=any(s.metadata[SPEC_KEY]["checkers"] for s in samples),
        ),
    )
