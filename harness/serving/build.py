"""A reward engine and service from plain settings (what ``harness score``, ``harness serve``, the
environment-configured adapters and the Ray deployment share)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.cache import JudgmentCache
from harness.judges.rate_limits import RateLimit
from harness.judges.roles import load_judge
from harness.protocols import rubric_protocol_named
from harness.reward import COMPONENTS, GlobalSchedule, HybridConfig
from harness.scoring import RewardEngine
from harness.serving.service import DEFAULT_DEADLINE_S, RewardService


@dataclass(frozen=True)
class EngineSettings:
    """How to score: judges (a model name, or inline YAML as for ``--model-role``; None leaves
    that component unscored), rubric protocol, weights, schedule, checkers, cache."""

    grader: str | None = None
    rubric_grader: str | None = None
    global_grader: str | None = None
    rubric_mode: str = "single"
    weights: Sequence[float] | None = None
    """Weights of rubric, global and code, in that order (None: equal)."""
    global_decay_steps: int | None = None
    """The global share α decays 1 → 0 over this many training steps (the method: 800)."""
    checker_runtime: str = "auto"
    cache_path: str | None = None
    max_connections: int | None = None
    """Concurrent calls per judge (None: the provider's default)."""
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    """Each judge model's budget (None: unlimited); roles on one model share it."""
    memory_entries: int | None = None
    """Judgments kept in memory (None: the cache's default; all are in ``cache_path``)."""


def build_engine(settings: EngineSettings, *, checks: bool = True) -> RewardEngine:
    """The engine ``settings`` describe; a checker runtime only when ``checks`` (some spec has
    checkers). A bad judge or runtime name raises here, in one line, before any work."""
    from harness.checkers import RUNTIME_KINDS, resolve_runtime

    if settings.checker_runtime not in RUNTIME_KINDS:
        raise ValueError(
            f"checker runtime must be one of {', '.join(RUNTIME_KINDS)}, "
            f"got {settings.checker_runtime!r}"
        )

    rate_limit = (
        RateLimit(settings.requests_per_minute, settings.tokens_per_minute)
        if settings.requests_per_minute or settings.tokens_per_minute
        else None
    )

    def judge(name: str | None, role: str):
        name = name or settings.grader
        if name is None:
            return None
        return load_judge(
            name, role, max_connections=settings.max_connections, rate_limit=rate_limit
        )

    weights = settings.weights
    if weights is not None and len(weights) != len(COMPONENTS):
        raise ValueError(f"weights: expected {len(COMPONENTS)} numbers ({', '.join(COMPONENTS)})")
    hybrid = HybridConfig(
        weights=dict(zip(COMPONENTS, weights, strict=True))
        if weights
        else dict.fromkeys(COMPONENTS, 1.0),
        schedule=GlobalSchedule(steps=settings.global_decay_steps)
        if settings.global_decay_steps
        else None,
    )
    cache = (
        JudgmentCache(settings.cache_path, memory_entries=settings.memory_entries)
        if settings.memory_entries
        else JudgmentCache(settings.cache_path)
    )
    return RewardEngine(
        checker_runtime=resolve_runtime(settings.checker_runtime) if checks else None,
        rubric_judge=judge(settings.rubric_grader, "rubric_grader"),
        global_judge=judge(settings.global_grader, "global_grader"),
        rubric_protocol=rubric_protocol_named(settings.rubric_mode),
        hybrid=hybrid,
        cache=cache,
    )


def build_service(
    specs: str,
    settings: EngineSettings | None = None,
    *,
    deadline_s: float | None = DEFAULT_DEADLINE_S,
    max_pending: int = 16_384,
    **engine_settings: object,
) -> RewardService:
    """A service over the spec store ``specs`` (indexed: opened in well under a second however
    large; specs verified as they are used). ``engine_settings``: ``EngineSettings`` fields."""
    from harness.store_index import IndexedSpecStore

    settings = settings or EngineSettings(**engine_settings)  # type: ignore[arg-type]
    return RewardService(
        build_engine(settings),
        IndexedSpecStore(specs),
        deadline_s=deadline_s,
        max_pending=max_pending,
    )
