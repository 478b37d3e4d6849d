"""Arena-Hard-Auto: the official pairwise win rate against the baseline and the hybrid reward."""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.solver import generate

from harness.benchmarks import arena_hard as ah
from harness.replay import stored_responses_model
from harness.scorers import hybrid_reward, spec_metadata
from harness.spec import Provenance, RewardSpec
from harness.tasks import task_name

SPEC_TEMPLATE = "arena-hard-prompt-only@1"


def prompt_only_spec(version: str, question: ah.Question) -> RewardSpec:
    """No criteria and no checkers: the hybrid reward is the global component alone."""
    return RewardSpec(
        prompt_id=f"arena-hard-{version}-{question.uid}",
        prompt=question.prompt,
        task_label=question.category,
        provenance=Provenance(
            builder="arena-hard-prompt-only",
            template_version=SPEC_TEMPLATE,
            source=ah.question_file(version).url,
        ),
    )


@task(name=task_name("arena_hard", __name__))
def arena_hard(
    version: str = "v2.0",
    category: str | list[str] | None = None,
    replay: str | None = None,
    require_grader: bool = True,
    weights: dict[str, float] | None = None,
    judge_max_tokens: int | None = None,
    cache_path: str | None = None,
    structured_output: bool = True,
    specs: str | None = None,
) -> Task:
    """Arena-Hard-Auto v2.0 (750 questions) or v0.1 (500), judged against the official baseline.

    Args:
        version: "v2.0" (hard prompts against o3-mini-2025-01-31, creative writing against
            gemini-2.0-flash-001) or "v0.1" (against gpt-4-0314).
        category: Keep only these categories or subcategories ("hard_prompt",
            "creative_writing", "coding", "math").
        replay: Judge this published model's answers (``model_answer/<name>.jsonl``, e.g.
            "gemini-2.0-flash-001", or a v0.1 model) instead of generating with the policy.
        require_grader: Fail when no grader role is bound (else judged parts are unscored).
        weights: Hybrid component weights (the prompt-only spec has only the global component).
        judge_max_tokens: Max tokens of each judge reply. Unset, the pairwise judge uses the
            official setting (16000 for v2.0, 4096 for v0.1) and the global judge its default.
        cache_path: SQLite file for the judgment cache of the hybrid reward.
        structured_output: Ask the global judge for schema-constrained JSON (turn off for
            servers that reject response schemas).
        specs: A spec store (e.g. from `harness spec build`): the hybrid reward uses the spec
            built for each prompt instead of the prompt-only one.
    """
    categories = [category] if isinstance(category, str) else category
    questions = ah.load_questions(version, categories)
    baselines = {
        model: ah.load_answers(version, model)
        for model in sorted({ah.baseline_model(version, q.category) for q in questions})
    }
    replayed = ah.load_answers(version, replay) if replay else None
    samples = []
    for q in questions:
        baseline = ah.baseline_model(version, q.category)
        answer = baselines[baseline].get(q.uid)
        # gen_judgment.py skips a question whose baseline (or model) answer is missing
        if answer is None or (replayed is not None and q.uid not in replayed):
            continue
        samples.append(
            Sample(
                id=q.uid,
                input=q.prompt,
                metadata={
                    "category": q.category,
                    "subcategory": q.subcategory,
                    ah.METADATA_KEY: {
                        "version": version,
                        "uid": q.uid,
                        "question_index": q.index,
                        "category": q.category,
                        "question": q.prompt,
                        "baseline": baseline,
                        "baseline_answer": answer.text,
                        "baseline_style": answer.metadata,
                    },
                    **spec_metadata(prompt_only_spec(version, q), specs),
                },
            )
        )
    if not samples:
        raise ValueError(f"no Arena-Hard {version} questions match category={categories}")
    return Task(
        dataset=MemoryDataset(samples, name=f"arena-hard-{version}"),
        solver=generate(),
        # stored answers come through the shared replay/ model provider
        model=stored_responses_model(replay, ah.answer_file(version, replay)) if replay else None,
        scorer=[
            ah.arena_hard_judge(require_grader=require_grader, judge_max_tokens=judge_max_tokens),
            hybrid_reward(
                weights=weights,
                require_grader=require_grader,
                judge_max_tokens=judge_max_tokens,
                cache_path=cache_path,
                structured_output=structured_output,
            ),
        ],
    )
