"""HealthBench: the official HealthBench score and the hybrid reward on physician rubrics."""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.dataset import Sample

from harness.benchmarks import healthbench as hb
from harness.scorers import chat_messages, spec_metadata
from harness.tasks import rubric_benchmark_task, task_name


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
    return rubric_benchmark_task(
        "healthbench",
        samples,
        dataset_name=f"healthbench-{subset}",
        official=(hb.healthbench_score(), hb.healthbench_unscored()),
        official_values=hb.official_values,
        official_protocol=hb.OFFICIAL_METRIC,
        headline_metric="healthbench",
        group_by="theme",
        rubric_mode=rubric_mode,
        specs=specs,
        weights=weights,
        require_grader=require_grader,
        judge_max_tokens=judge_max_tokens,
        cache_path=cache_path,
        structured_output=structured_output,
    )
