"""The instruction_following scorer: official strict and loose verdicts of the built-in spec."""

from __future__ import annotations

import asyncio
import math

from inspect_ai.scorer import Score, Scorer, Target, scorer
from inspect_ai.solver import TaskState

from harness.benchmarks.instruction_following.checkers import Following, follow
from harness.benchmarks.instruction_following.metric import (
    VALUE_KEYS,
    instruction_accuracy,
    instruction_unscored,
)
from harness.checkers import CheckerRuntime, limits_argument, resolve_runtime
from harness.report import short_answer


def _explanation(f: Following) -> str:
    """The verdict table; an instruction whose checker errored reads ``**error**``, never a
    verdict (the sample is unscored)."""

    def verdict(i: int, passed: bool) -> str:
        return "**error**" if i in f.errored else "pass" if passed else "**fail**"

    lines = ["| # | instruction | strict | loose |", "|---|---|---|---|"]
    for i, (name, s, lo) in enumerate(zip(f.instructions, f.strict, f.loose, strict=True)):
        lines.append(f"| {i} | {name} | {verdict(i, s)} | {verdict(i, lo)} |")
    failed = [
        name
        for i, (name, s) in enumerate(zip(f.instructions, f.strict, strict=True))
        if not s and i not in f.errored
    ]
    lines.append("")
    lines.append(f"Failed (strict): {', '.join(failed) if failed else 'none'}")
    if f.errors:
        lines.append("")
        lines.append("**Unscored: checker errors** — " + "; ".join(f.errors[:10]))
    return "\n".join(lines)


@scorer(metrics=[instruction_accuracy(), instruction_unscored()])
def instruction_following(
    checker_runtime: str | CheckerRuntime = "auto", checker_limits: dict[str, float] | None = None
) -> Scorer:
    """Official strict and loose instruction-following verdicts for the sample's built-in spec.

    Score.value: prompt_strict, prompt_loose (0/1), inst_strict, inst_loose (share of this
    prompt's instructions followed) and instructions (how many); NaN everywhere when a checker
    errored (the reason is in the explanation and ``Score.metadata["errors"]``): such a
    (sample, epoch) is counted by the ``unscored`` metric and listed by ``harness unscored``.
    Score.metadata: per-instruction verdicts.
    ``checker_limits``: overrides of the checker runner's limits.
    """
    checker_limits = limits_argument(checker_limits)

    async def score(state: TaskState, target: Target) -> Score:
        from harness.scorers import native_spec_of  # harness.scorers imports the benchmarks

        spec = native_spec_of(state)
        runtime = checker_runtime
        if isinstance(runtime, str):
            runtime = await asyncio.to_thread(resolve_runtime, runtime, checker_limits)
        response = state.output.completion
        try:
            f = await follow(runtime, spec, response)
        except Exception as ex:  # the runtime refused or failed: no official score
            instructions = [c.kwargs["instruction_id"] for c in spec.checkers]
            f = Following(instructions, [], [], [f"checker runtime failed: {ex}"], set())
        if f.errors:
            return Score(
                value=dict.fromkeys(VALUE_KEYS, math.nan),
                answer=short_answer(response),
                explanation=_explanation(f) if f.strict else f.errors[0],
                metadata={"errors": f.errors},
            )
        value = {
            "prompt_strict": float(all(f.strict)),
            "prompt_loose": float(all(f.loose)),
            "inst_strict": sum(f.strict) / len(f.strict),
            "inst_loose": sum(f.loose) / len(f.loose),
            "instructions": float(len(f.strict)),
        }
        return Score(
            value=value,
            answer=short_answer(response),
            explanation=_explanation(f),
            metadata={"instructions": f.instructions, "strict": f.strict, "loose": f.loose},
        )

    return score
