"""Arena-Hard-Auto: the official pairwise win rate against the baseline and the hybrid reward."""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.solver import generate

from harness.benchmarks import arena_hard as ah
from harness.judges.calling import DEFAULT_MAX_ATTEMPTS
from harness.provenance import judge_protocols, task_metadata
from harness.replay import stored_responses_model
from harness.scorers import headline, hybrid_reward, spec_metadata
from harness.spec import Provenance, RewardSpec
from harness.tasks import make_task, task_name

SPEC_TEMPLATE = "arena-hard-prompt-only@1"
HYBRID_RUBRIC_MODE = "single"
"""The hybrid reward's rubric protocol (used only with ``specs=``: the prompt-only spec has no
criteria, so its reward is the global component alone)."""


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
    samples = [
        Sample(
            id=q.uid,
            input=q.prompt,
            metadata={
                "category": q.category,
                "subcategory": q.subcategory,
                ah.METADATA_KEY: info,
                **spec_metadata(prompt_only_spec(version, q), specs),
            },
        )
        for q, info in ah.judged_questions(version, categories, replay)
    ]
    pairwise = ah.judge_config(version, judge_max_tokens)
    return make_task(
        MemoryDataset(samples, name=f"arena-hard-{version}"),
        solver=generate(),
        # stored answers come through the shared replay/ model provider
        model=stored_responses_model(replay, ah.answer_file(version, replay)) if replay else None,
        scorer=[
            # first: its official score is the log's first metric (and the headline)
            ah.arena_hard_judge(require_grader=require_grader, judge_max_tokens=judge_max_tokens),
            hybrid_reward(
                rubric_mode=HYBRID_RUBRIC_MODE,
                weights=weights,
                require_grader=require_grader,
                judge_max_tokens=judge_max_tokens,
                cache_path=cache_path,
                structured_output=structured_output,
            ),
        ],
        headline_metric=headline("arena_hard", "arena_hard_judge"),
        version=2,
        metadata=task_metadata(
            "arena_hard",
            judge_protocols(HYBRID_RUBRIC_MODE) | {"arena_hard": ah.judge_protocol(version)},
            specs=specs,
            arena_hard={
                "version": version,
                "categories": sorted({s.metadata["category"] for s in samples}),
                "baselines": sorted({s.metadata[ah.METADATA_KEY]["baseline"] for s in samples}),
                "judge_settings": {
                    "temperature": pairwise.temperature,
                    "max_tokens": pairwise.max_tokens,
                    "max_attempts": DEFAULT_MAX_ATTEMPTS,
                },
                "replay": replay,
            },
        ),
    )
