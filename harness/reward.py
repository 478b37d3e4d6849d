"""Reward arithmetic: the rubric score, and the hybrid of rubric, global and code scores.

Rubric score with signed weights (HealthBench's convention, generalised to partial credit):

    s_r = clip( (Σ_{w_i>0} w_i·v_i  +  Σ_{w_i<0} w_i·v_i) / Σ_{w_i>0} w_i , 0, 1 )

with v_i = 1 (yes), 0.5 (partial), 0 (no), or (s-1)/9 on a 1-10 scale. Positive criteria
earn their weight when met; a met pitfall (negative weight) subtracts its weight; the
denominator is the positive total only. Without pitfalls this is exactly Σw·v/Σw. The
unclipped value is kept too (HealthBench averages unclipped per-sample scores).

Hybrid reward: a weighted mean of the components present (rubric, global, code), each
weight renormalised over the components that were scored. With a global-weight schedule
the global share is α(step) and the remaining 1-α goes to the weighted mean of rubric
and code (again over those present): reward = α·s_g + (1-α)·R_fine. An optional gate
multiplies the reward by a factor when any checker did not pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.spec import Criterion

COMPONENTS = ("rubric", "global", "code")


def rubric_score(criteria: Sequence[Criterion], values: Mapping[str, float]) -> tuple[float, float]:
    """(clipped score in [0, 1], unclipped score) of per-criterion values in [0, 1]."""
    positive_total = sum(c.weight for c in criteria if c.weight > 0)
    if positive_total <= 0:
        raise ValueError("rubric has no positive weight")
    missing = [c.id for c in criteria if c.id not in values]
    if missing:
        raise ValueError(f"no value for criteria {missing}")
    achieved = sum(c.weight * values[c.id] for c in criteria)
    raw = achieved / positive_total
    return min(1.0, max(0.0, raw)), raw


class GlobalSchedule(BaseModel):
    """Linear schedule of the global share α over training steps (paper: 1 → 0 over 800)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    steps: int = Field(800, gt=0)
    start: float = Field(1.0, ge=0, le=1)
    end: float = Field(0.0, ge=0, le=1)

    def alpha(self, step: int) -> float:
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        frac = min(step, self.steps) / self.steps
        return self.start + (self.end - self.start) * frac


class Gate(BaseModel):
    """Multiply the reward by ``factor`` when any checker did not pass (fail or error)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    factor: float = Field(0.0, ge=0, le=1)


class HybridConfig(BaseModel):
    """How the components combine into one reward."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    weights: dict[str, float] = Field(default_factory=lambda: dict.fromkeys(COMPONENTS, 1.0))
    schedule: GlobalSchedule | None = None
    gate: Gate | None = None
    checker_errors: Literal["unscored", "fail"] = "unscored"
    """'unscored': any checker error leaves the code score unscored (with the reason);
    'fail': an erroring checker counts as failed (closes the door on a policy that learns to
    crash checkers to escape them)."""

    @field_validator("weights")
    @classmethod
    def _valid_weights(cls, weights: dict[str, float]) -> dict[str, float]:
        unknown = set(weights) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown components {sorted(unknown)}; expected {COMPONENTS}")
        if any(w < 0 for w in weights.values()):
            raise ValueError("component weights must be >= 0")
        return {k: float(weights.get(k, 0.0)) for k in COMPONENTS}


class HybridOutcome(BaseModel):
    reward: float | None
    weights: dict[str, float]
    """Effective (normalised) weight of each component; 0 for absent or unscored ones."""
    formula: str
    reason: str | None = None


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _weighted_mean(
    values: Mapping[str, float], weights: Mapping[str, float]
) -> tuple[float, dict[str, float], str] | None:
    used = {k: weights[k] for k in values if weights.get(k, 0) > 0}
    total = sum(used.values())
    if total <= 0:
        return None
    mean = sum(used[k] * values[k] for k in used) / total
    terms = " + ".join(f"{_fmt(used[k])}·{_fmt(values[k])}[{k}]" for k in used)
    return mean, {k: w / total for k, w in used.items()}, f"({terms}) / {_fmt(total)}"


def combine(
    scores: Mapping[str, float | None],
    config: HybridConfig,
    *,
    step: int | None = None,
    all_checkers_passed: bool | None = None,
) -> HybridOutcome:
    """Combine component scores (None = absent or unscored) into the hybrid reward."""
    present = {k: float(v) for k, v in scores.items() if v is not None and k in COMPONENTS}
    weights = dict.fromkeys(COMPONENTS, 0.0)
    if config.schedule is not None:
        if step is None:
            raise ValueError("a global-weight schedule needs the training step")
        alpha = config.schedule.alpha(step)
        fine = _weighted_mean({k: v for k, v in present.items() if k != "global"}, config.weights)
        has_global = "global" in present
        if fine is not None and has_global:
            fine_mean, fine_w, fine_formula = fine
            reward = alpha * present["global"] + (1 - alpha) * fine_mean
            weights["global"] = alpha
            weights.update({k: (1 - alpha) * w for k, w in fine_w.items()})
            formula = f"α={_fmt(alpha)} (step {step}): {_fmt(alpha)}·{_fmt(present['global'])}[global] + {_fmt(1 - alpha)}·{fine_formula}"
        elif fine is not None:
            reward, fine_w, formula = fine
            weights.update(fine_w)
            formula = f"{formula} (global unscored: α ignored)"
        elif has_global:
            reward = present["global"]
            weights["global"] = 1.0
            formula = f"{_fmt(reward)}[global] (no rubric or code score)"
        else:
            return HybridOutcome(
                reward=None, weights=weights, formula="", reason="no component was scored"
            )
    else:
        result = _weighted_mean(present, config.weights)
        if result is None:
            return HybridOutcome(
                reward=None, weights=weights, formula="", reason="no component was scored"
            )
        reward, used, formula = result
        weights.update(used)
    if config.gate is not None and all_checkers_passed is False:
        formula = f"[{formula}] × {_fmt(config.gate.factor)} (gate: a checker did not pass)"
        reward *= config.gate.factor
    return HybridOutcome(reward=reward, weights=weights, formula=f"{formula} = {_fmt(reward)}")
