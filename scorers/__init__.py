"""Inspect scorers over the scoring core (installed as ``harness.scorers``).

Each sample carries its reward spec in ``metadata["reward_spec"]``. Judges come from model
roles: ``rubric_grader`` / ``global_grader`` when bound, else ``grader``; an unbound grader is
an error (never self-grading) unless ``require_grader=False``, in which case the judged
components are reported unscored with the reason.
"""

from __future__ import annotations

import asyncio
import functools
import math
from dataclasses import dataclass, field
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    Model,
    get_model,
    model_roles,
)
from inspect_ai.scorer import (
    Metric,
    SampleScore,
    Score,
    Scorer,
    Target,
    Value,
    grouped,
    mean,
    metric,
    scorer,
    stderr,
)
from inspect_ai.solver import TaskState

from harness.cache import JudgmentCache
from harness.checkers import CheckerRuntime, resolve_runtime
from harness.data import DataError
from harness.judges.holistic import GlobalJudge
from harness.protocols import rubric_protocol_named
from harness.report import render_markdown
from harness.reward import COMPONENTS, Gate, GlobalSchedule, HybridConfig
from harness.scoring import RewardEngine, RewardResult
from harness.spec import Prompt, RewardSpec
from harness.store import SpecStore

SPEC_KEY = "reward_spec"
VALUE_KEYS = ("reward", *COMPONENTS)


def chat_messages(prompt: Prompt) -> str | list[ChatMessage]:
    """A spec's prompt as Inspect sample input."""
    if isinstance(prompt, str):
        return prompt
    kinds = {
        "system": ChatMessageSystem,
        "user": ChatMessageUser,
        "assistant": ChatMessageAssistant,
    }
    return [kinds[m.role](content=m.content) for m in prompt]


NATIVE_SPEC_KEY = "native_spec"


@functools.lru_cache(maxsize=8)
def _store(path: str) -> SpecStore:
    return SpecStore(path)


def spec_metadata(native: RewardSpec, specs: str | None = None) -> dict[str, Any]:
    """Sample metadata of a benchmark task: its native spec, and the spec the hybrid reward uses —
    the native one, or the spec built for the same prompt in the store ``specs`` (so native and
    generated specs can be compared on the same responses)."""
    chosen = native
    if specs:
        chosen = _store(specs).get_by_prompt_hash(native.prompt_hash)
        if chosen is None:
            raise DataError(
                f"{specs} has no spec for prompt {native.prompt_id} (build one with `harness spec build`)"
            )
    return {
        SPEC_KEY: chosen.model_dump(mode="json"),
        NATIVE_SPEC_KEY: native.model_dump(mode="json"),
    }


def native_spec_of(state: TaskState) -> RewardSpec:
    """The benchmark's own spec of a sample (what official metrics use)."""
    data = (state.metadata or {}).get(NATIVE_SPEC_KEY)
    return spec_of(state) if data is None else RewardSpec.model_validate(data)


def spec_of(state: TaskState) -> RewardSpec:
    data = (state.metadata or {}).get(SPEC_KEY)
    if data is None:
        raise ValueError(f"sample {state.sample_id} has no '{SPEC_KEY}' in its metadata")
    return data if isinstance(data, RewardSpec) else RewardSpec.model_validate(data)


def _role_model(role: str, require: bool) -> Model | None:
    roles = model_roles()
    if role in roles:
        return get_model(role=role, required=True)
    if "grader" in roles or require:
        return get_model(role="grader", required=True)
    return None


@dataclass(frozen=True)
class _Settings:
    """Everything a reward scorer needs besides the sample."""

    components: tuple[str, ...]
    rubric_mode: str = "single"
    hybrid: HybridConfig = field(default_factory=HybridConfig)
    cache: JudgmentCache = field(default_factory=JudgmentCache)
    checker_runtime: str | CheckerRuntime = "auto"
    require_grader: bool = True
    judge_config: GenerateConfig = field(default_factory=lambda: GenerateConfig(temperature=0.0))
    max_attempts: int = 3
    structured_output: bool = True


async def _score_state(
    state: TaskState, settings: _Settings, step: int | None = None
) -> RewardResult:
    spec = spec_of(state)
    runtime = settings.checker_runtime
    if isinstance(runtime, str):
        # containers start on first use: keep that off the event loop; specs without checkers need none
        needed = spec.checkers and "code" in settings.components
        runtime = await asyncio.to_thread(resolve_runtime, runtime) if needed else None
    components = settings.components
    engine = RewardEngine(
        rubric_judge=_role_model("rubric_grader", settings.require_grader)
        if "rubric" in components
        else None,
        global_judge=_role_model("global_grader", settings.require_grader)
        if "global" in components
        else None,
        checker_runtime=runtime,
        rubric_protocol=rubric_protocol_named(settings.rubric_mode),
        global_protocol=GlobalJudge(),
        hybrid=settings.hybrid,
        cache=settings.cache,
        judge_config=settings.judge_config,
        max_attempts=settings.max_attempts,
        components=components,
        structured_output=settings.structured_output,
    )
    return await engine.score(spec, None, state.output.completion, step=step)


def _score(result: RewardResult, value: Value, state: TaskState) -> Score:
    return Score(
        value=value,
        answer=state.output.completion,
        explanation=render_markdown(result),
        metadata=result.to_metadata(),
    )


@metric
def unscored_counts() -> Metric:
    """How many samples have each of reward/rubric/global/code unscored (absent ones excluded)."""

    def compute(scores: list[SampleScore]) -> Value:
        counts = dict.fromkeys(VALUE_KEYS, 0)
        for s in scores:
            result = RewardResult.from_metadata(s.score.metadata)
            if result is None:
                continue
            counts["reward"] += result.reward is None
            for name in COMPONENTS:
                counts[name] += result.component(name).status == "unscored"
        return {f"{k}_unscored": float(v) for k, v in counts.items()}

    return compute


def reward_metrics(group_by: str | None = None) -> list[Metric | dict[str, list[Metric]]]:
    """Mean and standard error of each value key (unscored NaNs skipped and counted), per group."""
    per_key: list[Metric] = [mean(), stderr()]
    if group_by:
        per_key.append(grouped(mean(), group_by, all=False))
    return [{key: list(per_key) for key in VALUE_KEYS}, unscored_counts()]


@scorer(metrics=reward_metrics())
def hybrid_reward(
    rubric_mode: str = "single",
    weights: dict[str, float] | None = None,
    global_decay_steps: int | None = None,
    step: int | None = None,
    gate_factor: float | None = None,
    checker_errors: str = "unscored",
    checker_runtime: str | CheckerRuntime = "auto",
    require_grader: bool = True,
    judge_temperature: float = 0.0,
    judge_max_tokens: int | None = None,
    max_attempts: int = 3,
    cache_path: str | None = None,
    structured_output: bool = True,
) -> Scorer:
    """Hybrid reward: rubric, global and code components with the weighted, renormalised combination.

    Score.value has the fixed keys reward/rubric/global/code (NaN when unscored or absent);
    Score.explanation is the markdown report; Score.metadata["reward_result"] the full record.
    ``checker_runtime``: auto | docker | sandbox | local | local-unsafe (see
    ``harness.checkers.resolve_runtime``), or a runtime object.
    """
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
        require_grader=require_grader,
        judge_config=GenerateConfig(temperature=judge_temperature, max_tokens=judge_max_tokens),
        max_attempts=max_attempts,
        structured_output=structured_output,
    )

    async def score(state: TaskState, target: Target) -> Score:
        result = await _score_state(state, settings, step)
        return _score(result, result.values(), state)

    return score


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
    judge_temperature: float = 0.0,
    judge_max_tokens: int | None = None,
    max_attempts: int = 3,
) -> Scorer:
    """Rubric score only: Σ w·v / Σ w over the spec's criteria (NaN when unscored or absent)."""
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
    judge_temperature: float = 0.0,
    judge_max_tokens: int | None = None,
    max_attempts: int = 3,
) -> Scorer:
    """Global score only: clip(g / 10, 0, 1) from an independent holistic judgment."""
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
    checker_runtime: str | CheckerRuntime = "auto", checker_errors: str = "unscored"
) -> Scorer:
    """Code score only: the fraction of the spec's checkers that pass (NaN when unscored or absent).

    ``checker_runtime``: auto | docker | sandbox | local | local-unsafe, or a runtime object.
    """
    hybrid = HybridConfig(checker_errors=checker_errors)
    return _component_scorer(_Settings(("code",), hybrid=hybrid, checker_runtime=checker_runtime))
