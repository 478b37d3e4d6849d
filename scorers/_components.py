"""One scorer per component: rubric, global, code (each alone, NaN when unscored or absent)."""

from __future__ import annotations

import math

from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import Score, Scorer, Target, mean, scorer, stderr
from inspect_ai.solver import TaskState

from harness.checkers import CheckerRuntime, limits_argument
from harness.judges.roles import require_judge_roles
from harness.reward import HybridConfig
from harness.scorers._settings import _score, _score_state, _Settings


def _component_scorer(settings: _Settings) -> Scorer:
    [component] = settings.components

    async def score(state: TaskState, target: Target) -> Score:
        result = await _score_state(state, settings)
        value = result.component(component).value
        return _score(result, math.nan if value is None else value, state)

    return score


@scorer(metrics=[mean(), stderr()])
def rubric(
    rubric_mode: str = "single",
    require_grader: bool = True,
    judge_temperature: float | None = None,
    judge_max_tokens: int | None = None,
    max_attempts: int = 3,
) -> Scorer:
    """Rubric score only: Σ w·v / Σ w over the spec's criteria (NaN when unscored or absent)."""
    require_judge_roles(("rubric_grader",), require_grader)
    config = GenerateConfig(temperature=judge_temperature, max_tokens=judge_max_tokens)
    return _component_scorer(
        _Settings(
            ("rubric",),
            rubric_mode,
            require_grader=require_grader,
            judge_config=config,
            max_attempts=max_attempts,
        )
    )


@scorer(metrics=[mean(), stderr()], name="global")
def global_score(
    require_grader: bool = True,
    judge_temperature: float | None = None,
    judge_max_tokens: int | None = None,
    max_attempts: int = 3,
) -> Scorer:
    """Global score only: clip(g / 10, 0, 1) from an independent holistic judgment."""
    require_judge_roles(("global_grader",), require_grader)
    config = GenerateConfig(temperature=judge_temperature, max_tokens=judge_max_tokens)
    return _component_scorer(
        _Settings(
            ("global",),
            require_grader=require_grader,
            judge_config=config,
            max_attempts=max_attempts,
        )
    )


@scorer(metrics=[mean(), stderr()])
def code(
    checker_runtime: str | CheckerRuntime = "auto",
    checker_errors: str = "unscored",
    checker_limits: dict[str, float] | None = None,
) -> Scorer:
    """Code score only: the fraction of the spec's checkers that pass (NaN when unscored or absent).

    ``checker_runtime``: auto | docker | sandbox | local | local-unsafe, or a runtime object.
    """
    hybrid = HybridConfig(checker_errors=checker_errors)
    settings = _Settings(
        ("code",),
        hybrid=hybrid,
        checker_runtime=checker_runtime,
        checker_limits=limits_argument(checker_limits),
    )
    return _component_scorer(settings)
