"""One pointwise scoring pass over comparison groups, with every ablation variant.

Each distinct response (``Response.key``: same prompt, same text) is scored once by the
``RewardEngine``, whatever number of groups it appears in (RM-Bench's style variants are in
three comparisons each). The components of every response are kept, so the ablation variants
(global, rubric, code, rubric+code, the configured hybrid, and the hybrid at both ends of the
global-weight schedule) are recombined from them with ``harness.reward.combine``: an ablation,
a tie policy or a significance test costs no judge call. External reward-model scores join as
one more variant (``external_scores``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.data import DataError
from harness.ranking.groups import Comparison, Response
from harness.reward import GlobalSchedule, HybridConfig, combine
from harness.scoring import RewardEngine, RewardResult, ScoreRequest
from harness.spec import Provenance, RewardSpec, prompt_hash
from harness.store import SpecStore

COMPONENT_VARIANTS = ("global", "rubric", "code")
VARIANTS = (*COMPONENT_VARIANTS, "rubric+code", "hybrid", "hybrid@alpha_start", "hybrid@alpha_end")
"""The ablation table's rows: each component alone, the fine-grained components together
(rubric and code, weighted as configured, no global), the configured hybrid (as scored), and the
hybrid at the first and the last step of the global-weight schedule (the configured schedule,
else the method's default: α 1 → 0)."""


def variant_scores(result: RewardResult, config: HybridConfig) -> dict[str, float | None]:
    """Every variant's score of one response (None: the variant is unscored for it)."""
    values = {
        "rubric": result.rubric.value,
        "global": result.global_.value,
        "code": result.code.value,
    }
    checks = result.code.checks
    passed = None if not checks else all(c.status == "pass" for c in checks)
    flat = config.model_copy(update={"schedule": None})
    schedule = config.schedule or GlobalSchedule()
    scheduled = config.model_copy(update={"schedule": schedule})
    out: dict[str, float | None] = {k: values[k] for k in COMPONENT_VARIANTS}
    out["rubric+code"] = combine(
        {**values, "global": None}, flat, all_checkers_passed=passed
    ).reward
    out["hybrid"] = result.reward
    for name, step in (("hybrid@alpha_start", 0), ("hybrid@alpha_end", schedule.steps)):
        out[name] = combine(values, scheduled, step=step, all_checkers_passed=passed).reward
    return out


def prompt_only_spec(group: Comparison) -> RewardSpec:
    """The spec of a prompt no built spec covers: the global judge alone."""
    return RewardSpec(
        prompt_id=f"{group.dataset}/{group.id}",
        prompt=group.prompt,
        provenance=Provenance(builder="prompt-only"),
    )


@dataclass
class RankingScores:
    """Scores of every response of some groups, per variant."""

    groups: list[Comparison]
    scores: dict[str, dict[str, float | None]] = field(default_factory=dict)
    """variant -> response key -> score (None: unscored)."""
    results: dict[str, RewardResult] = field(default_factory=dict)
    """response key -> the full reward result (criteria, checks, reasons)."""
    reasons: dict[str, str] = field(default_factory=dict)
    """response key -> why its reward is unscored or partial."""

    @property
    def variants(self) -> list[str]:
        return list(self.scores)

    def of(self, variant: str) -> dict[str, float | None]:
        if variant not in self.scores:
            raise KeyError(f"no variant {variant!r}; have {self.variants}")
        return self.scores[variant]


def unique_responses(groups: Iterable[Comparison]) -> dict[str, tuple[Comparison, Response]]:
    """Each distinct response once (the first group it appears in gives its prompt)."""
    out: dict[str, tuple[Comparison, Response]] = {}
    for group in groups:
        for response in group.responses:
            out.setdefault(response.key, (group, response))
    return out


async def score_groups(
    groups: Sequence[Comparison],
    engine: RewardEngine,
    *,
    specs: SpecStore | None = None,
    step: int | None = None,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> RankingScores:
    """Score every distinct response of ``groups`` once, keeping every variant.

    ``specs``: a built spec store; a group whose prompt it has (by prompt hash) is scored with
    that spec, any other with a prompt-only spec (the global judge alone). ``progress(done,
    total)`` is called after each batch of responses.
    """
    todo = unique_responses(groups)
    config = engine.hybrid
    out = RankingScores(list(groups), {v: {} for v in VARIANTS})
    keys = list(todo)
    for start in range(0, len(keys), batch_size):
        chunk = keys[start : start + batch_size]
        requests = []
        for key in chunk:
            group, response = todo[key]
            spec = specs.get_by_prompt_hash(prompt_hash(group.prompt)) if specs else None
            requests.append(
                ScoreRequest(spec or prompt_only_spec(group), response.text, prompt=group.prompt)
            )
        results = await engine.score_batch(requests, step=step)
        for key, result in zip(chunk, results, strict=True):
            out.results[key] = result
            if result.reward_reason:
                out.reasons[key] = result.reward_reason
            for variant, value in variant_scores(result, config).items():
                out.scores[variant][key] = value
        if progress is not None:
            progress(min(start + batch_size, len(keys)), len(keys))
    return out


def external_scores(path: str | Path, groups: Sequence[Comparison]) -> dict[str, float | None]:
    """An external reward model's scores, as a variant: a JSONL file with one line per group,
    ``{"id": <group id>, "chosen": [score, ...], "rejected": [score, ...]}`` in the group's
    response order (null: unscored). Every group must have its line; errors say file:line."""
    path = Path(path)
    by_id = {g.id: g for g in groups}
    out: dict[str, float | None] = {}
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as ex:
        raise DataError(f"{path}: cannot read ({ex})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except ValueError as ex:
            raise DataError(f"{where}: not JSON ({ex})") from None
        group = by_id.get(row.get("id") if isinstance(row, dict) else None)
        if group is None:
            raise DataError(
                f"{where}: no group with id {row.get('id') if isinstance(row, dict) else row!r}"
            )
        for side in ("chosen", "rejected"):
            values = row.get(side)
            responses = getattr(group, side)
            if not isinstance(values, list) or len(values) != len(responses):
                raise DataError(
                    f"{where}: '{side}' must be a list of {len(responses)} scores (group {group.id})"
                )
            for response, value in zip(responses, values, strict=True):
                if value is not None and (
                    isinstance(value, bool)
                    or not isinstance(value, int | float)
                    or not math.isfinite(value)
                ):
                    raise DataError(f"{where}: score {value!r} is not a finite number or null")
                out[response.key] = None if value is None else float(value)
        seen.add(group.id)
    missing = [g.id for g in groups if g.id not in seen]
    if missing:
        raise DataError(f"{path}: no scores for {len(missing)} groups, e.g. {missing[:5]}")
    return out
