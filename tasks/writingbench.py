"""WritingBench: the official WritingBench score and the hybrid reward on its native checklists."""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.dataset import Sample

from harness.benchmarks import writingbench as wb
from harness.scorers import spec_metadata
from harness.tasks import rubric_benchmark_task, task_name


@task(name=task_name("writingbench", __name__))
def writingbench(
    domain1: str | list[str] | None = None,
    domain2: str | list[str] | None = None,
    rubric_mode: str = "writingbench",
    require_grader: bool = True,
    weights: dict[str, float] | None = None,
    judge_max_tokens: int | None = None,
    cache_path: str | None = None,
    structured_output: bool = True,
    specs: str | None = None,
) -> Task:
    """WritingBench (1,000 prompts; filter with domain1 / domain2).

    Headline: the official WritingBench score (``writingbench``, 1-10), right for any ``--epochs``.

    Args:
        domain1: Keep only these top-level domains (e.g. "Education").
        domain2: Keep only these sub-domains.
        rubric_mode: "writingbench" (official per-criterion 1-10 protocol, default), "single"
            (all 5 criteria in one call, same scale) or "per_criterion".
        require_grader: Fail when no grader role is bound (else judged parts are unscored).
        weights: Hybrid component weights, e.g. {"rubric": 1, "global": 1}.
        judge_max_tokens: Max tokens of each judge reply.
        cache_path: SQLite file for the judgment cache (re-scoring reuses judgments).
        structured_output: Ask judges for schema-constrained JSON (turn off for servers
            that reject response schemas).
        specs: A spec store (e.g. from `harness spec build`): the hybrid reward uses the spec
            built for each prompt instead of the native one; official metrics stay native.
    """
    d1 = [domain1] if isinstance(domain1, str) else domain1
    d2 = [domain2] if isinstance(domain2, str) else domain2
    samples = []
    for record in wb.load_records(d1, d2):
        spec = wb.native_spec(record)
        samples.append(
            Sample(
                id=record["index"],
                input=record["query"],
                metadata={
                    "domain1": record["domain1"],
                    "domain2": record["domain2"],
                    **spec_metadata(spec, specs),
                },
            )
        )
    if not samples:
        raise ValueError(f"no WritingBench prompts match domain1={d1} domain2={d2}")
    return rubric_benchmark_task(
        "writingbench",
        samples,
        official=(wb.writingbench_score(), wb.writingbench_unscored()),
        official_values=wb.official_values,
        official_protocol=wb.OFFICIAL_METRIC,
        headline_metric="writingbench",
        group_by="domain1",
        rubric_mode=rubric_mode,
        specs=specs,
        weights=weights,
        require_grader=require_grader,
        judge_max_tokens=judge_max_tokens,
        cache_path=cache_path,
        structured_output=structured_output,
    )
