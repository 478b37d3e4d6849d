"""Official accuracies (the reference ``evaluation_lib``): prompt- and instruction-level, strict
and loose, with standard errors.

Prompt-level accuracy = share of prompts whose instructions are all followed;
instruction-level = share of all instructions followed (a ratio over prompts).

Epochs: the scorer's Score.value carries, per sample, ``prompt_<mode>`` (0/1), ``inst_<mode>``
(share of the prompt's instructions followed) and ``instructions`` (how many). Under mean
reduction these become per-prompt means over epochs, and followed = ``inst_<mode>`` ×
``instructions``, so both accuracies equal the mean of the per-epoch accuracies exactly. The
metric reads nothing else (never Score.metadata).

Unscored (a checker errored or timed out): the value is NaN, the (sample, epoch) is in no
denominator (a sample counts with the mean of its scored epochs, or not at all), it is counted
by ``unscored`` and listed by ``harness unscored LOG`` (``harness.analysis.unscored_df``).
"""

from __future__ import annotations

import math

from inspect_ai.scorer import Metric, SampleScore, Value, metric

from harness.benchmarks import official_unscored
from harness.score_values import value_of

MODES = ("strict", "loose")
VALUE_KEYS = ("prompt_strict", "prompt_loose", "inst_strict", "inst_loose", "instructions")
"""The instruction_following scorer's Score.value keys (all NaN when a checker errored)."""
OFFICIAL_METRIC = "instruction_accuracy@2"
"""name@version of this port of the official metric (recorded in each eval's metadata)."""
BENCHMARK_KEY = "benchmark"
"""Sample metadata key naming the benchmark (ifeval / ifbench) a sample belongs to."""
HEADLINE = {"ifeval": "prompt_strict", "ifbench": "prompt_loose"}
"""The number each paper puts first: IFEval (Zhou et al. 2023) tabulates prompt-level strict
accuracy first; IFBench (Pyatkin et al. 2025) reports prompt-level loose accuracy."""


def _stderr(values: list[float], mean: float) -> float:
    n = len(values)
    if n < 2:
        return math.nan
    return math.sqrt(sum((x - mean) ** 2 for x in values) / (n - 1) / n)


@metric
def instruction_accuracy() -> Metric:
    """``prompt_<mode>``, ``inst_<mode>`` and their ``_stderr`` for mode strict and loose, over
    the scored judgments only: each sample is the mean of its scored epochs (Inspect's mean
    reducer skips NaN), a sample with none is left out, and ``samples_scored`` says how many
    samples the accuracies are over. The benchmark's headline accuracy (``HEADLINE``) comes
    first, so every listing of the metrics starts with it; ``instruction_unscored`` follows
    with the unscored (sample, epoch) count."""

    def compute(scores: list[SampleScore]) -> Value:
        rows = [{k: value_of(s, k) for k in VALUE_KEYS} for s in scores]
        rows = [r for r in rows if not any(math.isnan(v) for v in r.values())]
        n = len(rows)
        out: dict[str, float] = {}
        for mode in MODES:
            prompt = [r[f"prompt_{mode}"] for r in rows]
            p = sum(prompt) / n if n else math.nan
            out[f"prompt_{mode}"], out[f"prompt_{mode}_stderr"] = p, _stderr(prompt, p)
            followed = [r[f"inst_{mode}"] * r["instructions"] for r in rows]
            counts = [r["instructions"] for r in rows]
            total = sum(counts)
            ratio = sum(followed) / total if total else math.nan
            out[f"inst_{mode}"] = ratio
            # ratio estimator over prompts (instructions of one prompt are not independent)
            if n > 1 and total:
                residual = sum((f - ratio * c) ** 2 for f, c in zip(followed, counts, strict=True))
                out[f"inst_{mode}_stderr"] = math.sqrt(residual / (n * (n - 1))) / (total / n)
            else:
                out[f"inst_{mode}_stderr"] = math.nan
        benchmark = (scores[0].sample_metadata or {}).get(BENCHMARK_KEY) if scores else None
        first = HEADLINE.get(str(benchmark), "prompt_strict")
        return {
            first: out[first],
            f"{first}_stderr": out[f"{first}_stderr"],
            **out,
            "samples_scored": float(n),
        }

    return compute


def instruction_unscored() -> Metric:
    """``unscored``: (sample, epoch) judgments without verdicts (a checker errored or timed
    out): left out of the accuracies, listed by ``harness unscored`` / ``unscored_df``."""
    return official_unscored("prompt_strict", "unscored")
