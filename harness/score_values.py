"""Numbers read from (epoch-reduced) ``Score.value`` dicts: the one place reward and official
metrics get them from. A leaf module: benchmark metrics import it without importing the scorers
(which import the benchmarks' judge protocols)."""

from __future__ import annotations

import math

import numpy as np
from inspect_ai.scorer import SampleScore


def value_of(score: SampleScore, key: str) -> float:
    """A numeric value key of a (reduced) sample score; NaN when missing or not a number."""
    value = score.score.value
    raw = value.get(key) if isinstance(value, dict) else None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return math.nan
    return float(raw)


def mean_and_stderr(values: list[float]) -> tuple[float, float]:
    """Mean and standard error (ddof=1, as Inspect's ``stderr``) of the non-NaN values."""
    arr = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if arr.size == 0:
        return math.nan, math.nan
    if arr.size == 1:
        return float(arr[0]), 0.0
    return float(arr.mean()), float(arr.std(ddof=1) / math.sqrt(arr.size))
