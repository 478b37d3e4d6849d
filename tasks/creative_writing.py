"""Creative Writing v3: the official rubric score and the hybrid reward on its 22-criterion rubric."""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.model import GenerateConfig, get_model

from harness.benchmarks import creative_writing as cw
from harness.benchmarks.creative_writing.published import published_responses
from harness.scorers import spec_metadata
from harness.tasks import rubric_benchmark_task, task_name


@task(name=task_name("creative_writing", __name__))
def creative_writing(
    prompt_id: str | int | list[str | int] | None = None,
    category: str | list[str] | None = None,
    iterations: int = cw.ITERATIONS,
    rubric_mode: str = "creative_writing",
    require_grader: bool = True,
    weights: dict[str, float] | None = None,
    judge_max_tokens: int | None = None,
    cache_path: str | None = None,
    structured_output: bool = True,
    specs: str | None = None,
    replay: str | None = None,
) -> Task:
    """Creative Writing v3 (32 prompts × 3 seeds; filter with prompt_id / category).

    The policy samples as the official run does (temperature 0.7, 4000 max tokens; override
    with --temperature / --max-tokens). The headline is the official score
    (``hybrid_reward/creative_writing``, 0-100), then the hybrid reward, then unscored counts.

    Args:
        prompt_id: Keep only these prompt ids (keys of creative_writing_prompts_v3.json).
        category: Keep only these categories (e.g. "historical fiction").
        iterations: Seeds per prompt; iteration i uses the prompt's i-th seed modifier (3 in
            the published runs).
        rubric_mode: "creative_writing" (official single call, all criteria 0-20, default),
            "single" or "per_criterion" (our protocols, 1-10 per criterion).
        require_grader: Fail when no grader role is bound (else judged parts are unscored).
        weights: Hybrid component weights, e.g. {"rubric": 1, "global": 1}.
        judge_max_tokens: Max tokens of each judge reply (the official run uses 1000).
        cache_path: SQLite file for the judgment cache (re-scoring reuses judgments).
        structured_output: Ask judges for schema-constrained JSON (turn off for servers
            that reject response schemas; the official protocol never uses a schema).
        specs: A spec store (e.g. from `harness spec build`): the hybrid reward uses the spec
            built for each prompt instead of the native one; the official score stays native.
        replay: Score this published model's responses (the result pages in
            parsed_results.jsonl, e.g. "google__gemma-2-9b-it"; the k-th item of a prompt is
            iteration k). With `--model-role grader=creative_writing_judge/<model>` the judge
            replies are the published ones too, and the item scores the published ones.
    """
    # `-T prompt_id=14` arrives as an int
    ids = (
        None
        if prompt_id is None
        else [str(p) for p in (prompt_id if isinstance(prompt_id, list) else [prompt_id])]
    )
    categories = [category] if isinstance(category, str) else category
    criteria = cw.load_criteria()
    lower_is_better = cw.load_negative_criteria()
    samples = []
    for record in cw.load_records(ids, categories, iterations):
        spec = cw.native_spec(record, criteria, lower_is_better)
        samples.append(
            Sample(
                id=record["id"],
                input=record["prompt"],
                metadata={
                    "prompt_id": record["prompt_id"],
                    "iteration": record["iteration"],
                    "category": record["category"],
                    "title": record["title"],
                    "seed_modifier": record["seed_modifier"],
                    **spec_metadata(spec, specs),
                },
            )
        )
    if not samples:
        raise ValueError(
            f"no Creative Writing v3 prompts match prompt_id={ids} category={categories}"
        )
    return rubric_benchmark_task(
        "creative_writing",
        samples,
        dataset_name="creative-writing-v3",
        official=(cw.creative_writing_score(), cw.creative_writing_unscored()),
        official_values=cw.official_values,
        headline_metric="creative_writing",
        group_by="category",
        rubric_mode=rubric_mode,
        specs=specs,
        metadata={"iterations": iterations, "spec_template": cw.SPEC_TEMPLATE},
        config=GenerateConfig(temperature=0.7, max_tokens=4000),
        weights=weights,
        require_grader=require_grader,
        judge_max_tokens=judge_max_tokens,
        cache_path=cache_path,
        structured_output=structured_output,
        # stored answers come through the shared replay/ model provider
        model=get_model(f"replay/{replay}", responses=str(published_responses(replay)))
        if replay
        else None,
    )
