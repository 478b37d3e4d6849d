"""Creative Writing v3's official aggregation (``core/scoring.py``) and its metric.

- **Item score**: every parsed "name: score" of the judge's reply, lower-is-better names
  inverted as ``20 - score``, averaged (0-20). The results pages show
  ``round(round(mean, 2) * 5, 1)`` per item (0-100; there the names are matched to the negative
  list case-insensitively, in ``core/scoring.py`` exactly).
- **Benchmark score** (``compute_single_benchmark_score_creative``): the mean of the item
  scores (0-20), ``overall_score = round(mean, 2)`` and
  ``eqbench_creative_score = round(mean * 5, 2)`` (0-100). Items without scores are left out.

The Inspect metric reads each sample's item score from ``Score.value[ITEM_SCORE]`` (put there
by the scorer, ``judge.official_values``), which Inspect reduces over epochs before metrics:
it is right for any ``--epochs`` and reducer (with the mean reducer, the mean of the per-epoch
scores up to their rounding).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from inspect_ai.scorer import Metric, SampleScore, Value, metric

from harness.benchmarks import official_unscored, scored_values

SCALE_MAX = 20.0
ITEM_SCORE = "item_score"
"""Score.value key: the sample's official item score (0-20); NaN when it has none."""


def invert_if_negative(
    name: str, score: float, lower_is_better: Collection[str], *, casefold: bool = False
) -> float:
    """20 - score for a lower-is-better name (matched exactly, or case-insensitively)."""
    if casefold:
        negative = name.lower() in {n.lower() for n in lower_is_better}
    else:
        negative = name in lower_is_better
    return SCALE_MAX - score if negative else score


def item_score(
    scores: Mapping[str, Any], lower_is_better: Collection[str], *, casefold: bool = False
) -> float | None:
    """An item's official score (0-20): the mean of all its numeric scores, negatives inverted.

    None when there is no numeric score (the official code leaves such items out).
    """
    values = [
        invert_if_negative(name, float(v), lower_is_better, casefold=casefold)
        for name, v in scores.items()
        if isinstance(v, int | float)
    ]
    return sum(values) / len(values) if values else None


def published_item_score(scores: Mapping[str, Any], lower_is_better: Collection[str]) -> float:
    """The item score as the results pages show it (0-100, one decimal)."""
    score = item_score(scores, lower_is_better, casefold=True)
    if score is None:
        raise ValueError("no numeric score")
    return round(round(score, 2) * 5, 1)


def benchmark_score(item_scores: list[float]) -> dict[str, float]:
    """``compute_single_benchmark_score_creative``: overall_score (0-20) and eqbench_creative_score (0-100).

    NaN when no item has a score (the official code reports 0.0 there).
    """
    if not item_scores:
        return {"overall_score": math.nan, "eqbench_creative_score": math.nan}
    mean = sum(item_scores) / len(item_scores)
    return {"overall_score": round(mean, 2), "eqbench_creative_score": round(mean * 5.0, 2)}


@metric
def creative_writing_score() -> Metric:
    """The official Creative Writing v3 rubric score over the samples' (reduced) item scores.

    ``creative_writing``: eqbench_creative_score (0-100) = round(mean item score × 5, 2);
    ``creative_writing_0_20``: overall_score = round(mean item score, 2); and the standard
    error (0-100 scale). Samples without an item score are left out, as the official score
    leaves them out; ``creative_writing_unscored`` counts them.
    """

    def compute(scores: list[SampleScore]) -> Value:
        items = scored_values(scores, ITEM_SCORE)
        official = benchmark_score(items)
        n = len(items)
        if n > 1:
            mean = sum(items) / n
            var = sum((x - mean) ** 2 for x in items) / (n - 1)
            stderr = 5.0 * (var / n) ** 0.5
        else:
            stderr = math.nan
        return {
            "creative_writing": official["eqbench_creative_score"],
            "creative_writing_0_20": official["overall_score"],
            "creative_writing_stderr": stderr,
        }

    return compute


def creative_writing_unscored() -> Metric:
    """``creative_writing_unscored``: how many (sample, epoch) judgments have no official item
    score (the rubric unscored, with its reason in the sample's explanation; or the sample
    judged on another spec than the native one, ``specs=``)."""
    return official_unscored(ITEM_SCORE, "creative_writing_unscored")
