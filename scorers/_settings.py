"""Judges from model roles, the settings every reward scorer shares, and scoring one sample."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from inspect_ai.model import GenerateConfig, Model
from inspect_ai.scorer import Score, Value
from inspect_ai.solver import TaskState

from harness.cache import JudgmentCache
from harness.checkers import CheckerRuntime, resolve_runtime
from harness.judges.holistic import GlobalJudge
from harness.judges.roles import role_judge
from harness.protocols import rubric_protocol_named
from harness.report import render_markdown, short_answer
from harness.reward import HybridConfig
from harness.scorers._spec import spec_of
from harness.scoring import RewardEngine, RewardResult


@dataclass(frozen=True)
class _Settings:
    """Everything a reward scorer needs besides the sample."""

    components: tuple[str, ...]
    rubric_mode: str = "single"
    hybrid: HybridConfig = field(default_factory=HybridConfig)
    cache: JudgmentCache = field(default_factory=JudgmentCache)
    checker_runtime: str | CheckerRuntime = "auto"
    checker_limits: dict[str, float] | None = None
    require_grader: bool = True
    judge_config: GenerateConfig = field(default_factory=GenerateConfig)
    """The task's judge settings; the engine's defaults fill what is unset, and a judge role's
    own settings (--model-role 'grader={model: ..., temperature: ...}') win over both."""
    max_attempts: int = 3
    structured_output: bool = True
    audit_covered: bool = False
    last_engine: _EngineSlot = field(default_factory=lambda: _EngineSlot(), compare=False)

    def engine(
        self, rubric: Model | None, global_: Model | None, runtime: CheckerRuntime | None
    ) -> RewardEngine:
        """The engine for these judges and runtime: the last one when they are the same objects
        (every sample of an eval), so its per-judge settings are worked out once."""
        last = self.last_engine.engine
        if (
            last is not None
            and last.rubric_judge is rubric
            and last.global_judge is global_
            and last.checker_runtime is runtime
        ):
            return last
        engine = RewardEngine(
            rubric_judge=rubric,
            global_judge=global_,
            checker_runtime=runtime,
            rubric_protocol=rubric_protocol_named(self.rubric_mode),
            global_protocol=GlobalJudge(),
            hybrid=self.hybrid,
            cache=self.cache,
            judge_config=self.judge_config,
            max_attempts=self.max_attempts,
            components=self.components,
            structured_output=self.structured_output,
            audit_covered=self.audit_covered,
        )
        self.last_engine.engine = engine
        return engine


@dataclass
class _EngineSlot:
    engine: RewardEngine | None = None


async def _score_state(
    state: TaskState, settings: _Settings, step: int | None = None
) -> RewardResult:
    spec = spec_of(state)
    runtime = settings.checker_runtime
    if isinstance(runtime, str):
        # containers start on first use: keep that off the event loop; specs without checkers need none
        needed = spec.checkers and "code" in settings.components
        runtime = (
            await asyncio.to_thread(resolve_runtime, runtime, settings.checker_limits)
            if needed
            else None
        )
    components = settings.components
    engine = settings.engine(
        role_judge("rubric_grader", settings.require_grader) if "rubric" in components else None,
        role_judge("global_grader", settings.require_grader) if "global" in components else None,
        runtime,
    )
    return await engine.score(spec, None, state.output.completion, step=step)


def _score(result: RewardResult, value: Value, state: TaskState) -> Score:
    return Score(
        value=value,
        answer=short_answer(state.output.completion),
        explanation=render_markdown(result),
        metadata=result.to_metadata(),
    )
