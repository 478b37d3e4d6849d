"""Any prompts plus a spec store: generate, then score with the hybrid reward."""

from __future__ import annotations

from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.solver import generate

from harness.checkers.inspect_sandbox import sandbox_spec
from harness.data import DataError, read_prompts
from harness.provenance import judge_protocols, task_metadata
from harness.scorers import SPEC_KEY, chat_messages, headline, hybrid_reward, reward_metrics
from harness.spec import prompt_hash
from harness.store_index import IndexedSpecStore
from harness.tasks import make_task, task_name


@task(name=task_name("prompts", __name__))
def prompts(
    prompts: str,
    specs: str,
    rubric_mode: str = "single",
    require_grader: bool = True,
    weights: dict[str, float] | None = None,
    gate_factor: float | None = None,
    checker_runtime: str = "auto",
    checker_limits: dict[str, float] | None = None,
    judge_max_tokens: int | None = None,
    cache_path: str | None = None,
    structured_output: bool = True,
    audit_covered: bool = False,
) -> Task:
    """Prompts from a JSONL file, each scored with its spec from a spec store.

    Args:
        prompts: JSONL file, one object per line: {"id": ..., "prompt": "text" or
            [{"role": ..., "content": ...}, ...], "metadata": {...} (optional)}.
        specs: Spec store (JSONL). A prompt's spec is found by prompt id, else by prompt hash.
        rubric_mode: "single" (all criteria in one judge call) or "per_criterion".
        require_grader: Fail when no grader role is bound (else judged parts are unscored).
        weights: Hybrid component weights, e.g. {"rubric": 1, "global": 1, "code": 1}.
        gate_factor: Multiply the reward by this when any checker does not pass.
        checker_runtime: Where checkers run: "auto" (Docker warm pool when an engine
            answers), "docker", "sandbox" (a per-sample Inspect sandbox), "local" (host,
            trusted code only) or "local-unsafe".
        checker_limits: Override the checker runner's limits, e.g.
            {"checker_timeout_s": 5, "item_timeout_s": 30} (see sandboxes/runner.py
            DEFAULT_LIMITS); a timeout is an error, never a verdict.
        judge_max_tokens: Max tokens of each judge reply.
        cache_path: SQLite file for the judgment cache (re-scoring reuses judgments).
        structured_output: Ask judges for schema-constrained JSON (turn off for servers
            that reject response schemas).
        audit_covered: The rubric judge also grades the criteria a checker verifies
            (recorded, not scored), so `harness compare` can show where checkers and the
            judge disagree; costs judge tokens.
    """
    store = IndexedSpecStore(specs)
    samples, missing = [], []
    for record in read_prompts(Path(prompts)):
        spec = store.get(record.id) or store.get_by_prompt_hash(prompt_hash(record.prompt))
        if spec is None:
            missing.append(record.id)
            continue
        if spec.prompt_hash != prompt_hash(record.prompt):
            raise DataError(
                f"{prompts}:{record.line}: prompt {record.id!r} differs from the prompt "
                f"its spec in {specs} was built for"
            )
        samples.append(
            Sample(
                id=record.id,
                input=chat_messages(record.prompt),
                metadata={
                    **record.metadata,
                    "task_label": spec.task_label or "unlabelled",
                    SPEC_KEY: spec.model_dump(mode="json"),
                },
            )
        )
    if missing:
        shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        raise DataError(f"{specs} has no spec for {len(missing)} prompt(s) of {prompts}: {shown}")
    return make_task(
        MemoryDataset(samples, name=Path(prompts).stem),
        solver=generate(),
        scorer=hybrid_reward(
            rubric_mode=rubric_mode,
            weights=weights,
            gate_factor=gate_factor,
            checker_runtime=checker_runtime,
            checker_limits=checker_limits,
            require_grader=require_grader,
            judge_max_tokens=judge_max_tokens,
            cache_path=cache_path,
            structured_output=structured_output,
            audit_covered=audit_covered,
        ),
        metrics=reward_metrics(group_by="task_label"),
        sandbox=sandbox_spec() if checker_runtime == "sandbox" else None,
        headline_metric=headline("reward"),
        version=2,
        metadata=task_metadata(
            "prompts",
            judge_protocols(rubric_mode),
            specs=specs,
            checkers=any(s.metadata[SPEC_KEY]["checkers"] for s in samples),
        ),
    )
