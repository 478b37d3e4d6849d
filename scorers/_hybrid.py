"""The hybrid reward scorer: rubric, global and code components combined."""

from __future__ import annotations

from collections.abc import Callable

from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import Score, Scorer, Target, scorer
from inspect_ai.solver import TaskState

from harness.cache import JudgmentCache
from harness.checkers import CheckerRuntime, limits_argument
from harness.judges.roles import require_judge_roles
from harness.reward import COMPONENTS, Gate, GlobalSchedule, HybridConfig
from harness.scorers._metrics import reward_metrics
from harness.scorers._settings import _score, _score_state, _Settings
from harness.scoring import RewardResult


@scorer(metrics=reward_metrics())
def hybrid_reward(
    rubric_mode: str = "single",
    weights: dict[str, float] | None = None,
    global_decay_steps: int | None = None,
    step: int | None = None,
    gate_factor: float | None = None,
    checker_errors: str = "unscored",
    checker_runtime: str | CheckerRuntime = "auto",
    checker_limits: dict[str, float] | None = None,
    require_grader: bool = True,
    judge_temperature: float | None = None,
    judge_max_tokens: int | None = None,
    max_attempts: int = 3,
    cache_path: str | None = None,
    structured_output: bool = True,
    audit_covered: bool = False,
    official_values: Callable[[RewardResult, TaskState], dict[str, float]] | None = None,
) -> Scorer:
    """Hybrid reward: rubric, global and code components with the weighted, renormalised combination.

    Score.value has the fixed keys reward/rubric/global/code (NaN when unscored or absent);
    Score.explanation is the markdown report; Score.metadata["reward_result"] the full record.
    ``checker_runtime``: auto | docker | sandbox | local | local-unsafe (see
    ``harness.checkers.resolve_runtime``), or a runtime object; ``checker_limits`` override
    the runner's limits (e.g. ``{"checker_timeout_s": 5}``; a runtime object keeps its own).
    ``official_values``: a benchmark's per-sample numbers for its official metric, added to
    Score.value (same keys on every sample, NaN when unscored) so that the metric reads reduced
    values and is right for any number of epochs.
    ``judge_temperature`` / ``judge_max_tokens``: judge settings for every judge role (unset:
    temperature 0, the provider's max tokens); a role's own settings win, per role:
    ``--model-role 'grader={model: ..., temperature: 0.6, max_tokens: 2048}'``.
    ``audit_covered``: the rubric judge also grades the criteria a checker verifies (recorded
    with ``covered_by``, not scored), so ``harness compare`` can show checker-judge disagreement.
    """
    require_judge_roles(("rubric_grader", "global_grader"), require_grader)
    settings = _Settings(
        components=COMPONENTS,
        rubric_mode=rubric_mode,
        hybrid=HybridConfig(
            weights=weights or dict.fromkeys(COMPONENTS, 1.0),
            schedule=GlobalSchedule(steps=global_decay_steps) if global_decay_steps else None,
            gate=Gate(factor=gate_factor) if gate_factor is not None else None,
            checker_errors=checker_errors,
        ),
        cache=JudgmentCache(cache_path),
        checker_runtime=checker_runtime,
        checker_limits=limits_argument(checker_limits),
        require_grader=require_grader,
        judge_config=GenerateConfig(temperature=judge_temperature, max_tokens=judge_max_tokens),
        max_attempts=max_attempts,
        structured_output=structured_output,
        audit_covered=audit_covered,
    )

    async def score(state: TaskState, target: Target) -> Score:
        result = await _score_state(state, settings, step)
        value: dict[str, float] = dict(result.values())
        if official_values is not None:
            value.update(official_values(result, state))
        return _score(result, value, state)

    return score
