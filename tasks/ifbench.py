"""IFBench (300 prompts, AllenAI): official strict/loose accuracies and the hybrid reward."""

from __future__ import annotations

from inspect_ai import Task, task

from harness.benchmarks.instruction_following import build_task
from harness.tasks import task_name


@task(name=task_name("ifbench", __name__))
def ifbench(
    checker_runtime: str = "auto",
    require_grader: bool = False,
    weights: dict[str, float] | None = None,
    judge_max_tokens: int | None = None,
    specs: str | None = None,
    checker_limits: dict[str, float] | None = None,
) -> Task:
    """IFBench (300 prompts, AllenAI) with the official checkers run in the checker sandbox.

    Headline: prompt-level loose accuracy (``prompt_loose``, the number the IFBench paper
    reports); strict and instruction-level accuracies follow.

    Args:
        checker_runtime: Where checkers run: "auto" (Docker warm pool when an engine answers,
            else host runners, which accept only built-in checkers like these), "docker",
            "sandbox" (per-sample Inspect sandbox) or "local".
        require_grader: Fail when no grader role is bound. Off by default: without a grader the
            rubric and global parts are reported unscored with the reason, and the official
            accuracies and the code score still come out.
        weights: Hybrid component weights, e.g. {"global": 1, "code": 1}.
        judge_max_tokens: Max tokens of each judge reply.
        specs: A spec store (e.g. from `harness spec build`): the hybrid reward uses the spec
            built for each prompt; the official accuracies keep the official checkers.
        checker_limits: Override the checker runner's limits, e.g.
            {"checker_timeout_s": 5, "item_timeout_s": 30} (see sandboxes/runner.py
            DEFAULT_LIMITS); a timeout is an error, never a verdict.
    """
    return build_task(
        "ifbench", checker_runtime, require_grader, weights, judge_max_tokens, specs, checker_limits
    )
