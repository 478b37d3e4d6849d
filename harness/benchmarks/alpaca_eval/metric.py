"""AlpacaEval 2's official aggregation (``alpaca_eval.metrics.get_winrate``) and its metric.

Preference encoding (the official one): 1 = the baseline wins, 2 = the model wins, 1.5 = a
draw, fractional values for the weighted annotator; 0 is the old encoding of a draw.

The Inspect metric reads only ``Score.value`` (``VALUE_KEYS``), which Inspect reduces over
epochs before metrics, so it is right for any ``--epochs`` and reducer: with the mean reducer
the win rates and the average length are the means of the per-epoch ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from inspect_ai.scorer import Metric, SampleScore, Value, metric

from harness.benchmarks import official_unscored
from harness.score_values import value_of

PREFERENCE = "preference"
"""Score.value key: the official preference in [1, 2]; NaN when unscored."""
DISCRETE_PREFERENCE = "discrete_preference"
"""Score.value key: the preference as ``ZeroOneScoringRule`` reads it (1, 1.5 or 2); NaN when
unscored."""
LENGTH = "length"
"""Score.value key: the response's length in characters (the leaderboard's ``avg_length``)."""
VALUE_KEYS = (PREFERENCE, DISCRETE_PREFERENCE, LENGTH)


if TYPE_CHECKING:  # pandas loads on use: loading every task stays fast
    import pandas as pd


def _describe_head2head(predictions: pd.Series) -> dict[str, float]:
    """``BaseScoringRule.describe_head2head`` after its rule's ``preprocess_predictions``."""
    n_draws = int(((predictions == 1.5) | (predictions == 0)).sum())
    predictions = predictions.astype(float).replace({0.0: 1.5})
    # validate_alpacaeval_preference(x, is_allow_nan=False): NaN and values outside [1, 2] go
    is_preference = predictions.apply(lambda x: bool(1 <= x <= 2))
    predictions = predictions[is_preference] - 1
    return {
        "win_rate": float(predictions.mean() * 100),
        "standard_error": float(predictions.sem() * 100),
        "n_wins": int((predictions > 0.5).sum()),
        "n_wins_base": int((predictions < 0.5).sum()),
        "n_draws": n_draws,
        "n_total": len(predictions),
    }


def _series(values: Sequence[float | None]) -> pd.Series:
    import pandas as pd

    return pd.Series([math.nan if v is None else v for v in values], dtype=float)


def discrete_preference(preference: float | None) -> float:
    """One item under ``ZeroOneScoringRule``: 1.5 (a draw) stays, else rounded to 1 or 2.

    The rule replaces 1.5 by 0 (a draw), rounds half to even and reads 0 as a draw. NaN (and
    None) stay NaN.
    """
    if preference is None or math.isnan(preference):
        return math.nan
    if preference == 1.5:
        return 1.5
    rounded = float(round(preference))
    return 1.5 if rounded == 0 else rounded


def winrate(
    preferences: Sequence[float | None], discrete_preferences: Sequence[float | None]
) -> dict[str, float]:
    """``get_winrate`` from per-item preferences and their ``discrete_preference`` values.

    ``win_rate`` (percent; a draw counts half, a weighted preference its fraction),
    ``standard_error`` (percent, pandas ``sem``), ``n_wins``, ``n_wins_base``, ``n_draws``,
    ``n_total`` (items with a valid preference: None / NaN are dropped, as the official
    validation drops them) and ``discrete_win_rate``.
    """
    out = _describe_head2head(_series(preferences).replace({0: 1.5}))
    out["discrete_win_rate"] = _describe_head2head(_series(discrete_preferences))["win_rate"]
    return out


def get_winrate(preferences: Sequence[float | None]) -> dict[str, float]:
    """``alpaca_eval.metrics.get_winrate`` on per-item preferences (1 baseline, 2 model, 1.5 draw)."""
    return winrate(preferences, [discrete_preference(p) for p in preferences])


def _avg_length(lengths: Sequence[float]) -> float:
    return float(int(sum(lengths) / len(lengths))) if lengths else math.nan


def avg_length(outputs: Sequence[str]) -> int:
    """The leaderboard's ``avg_length``: the mean output length in characters, truncated."""
    return int(_avg_length([len(o) for o in outputs]))


def preference_values(preference: float | None, response: str) -> dict[str, float]:
    """A sample's ``Score.value``: the same keys on every sample, NaN when unscored."""
    p = math.nan if preference is None else float(preference)
    return {
        PREFERENCE: p,
        DISCRETE_PREFERENCE: discrete_preference(p),
        LENGTH: float(len(response)),
    }


@metric
def alpaca_eval_winrate() -> Metric:
    """The official AlpacaEval win rate ± standard error over the samples' (reduced) preferences.

    Also the leaderboard's other columns: discrete win rate, counts of wins / baseline wins /
    draws / valid preferences (over the epoch-reduced preferences), and ``avg_length`` of the
    responses of every sample (scored or not, as the leaderboard measures all outputs).
    Unscored preferences are left out, as the official metric leaves out items its annotator
    could not parse; ``alpaca_eval_unscored`` counts them.
    """

    def compute(scores: list[SampleScore]) -> Value:
        out = winrate(
            [value_of(s, PREFERENCE) for s in scores],
            [value_of(s, DISCRETE_PREFERENCE) for s in scores],
        )
        lengths = [x for x in (value_of(s, LENGTH) for s in scores) if not math.isnan(x)]
        out["avg_length"] = _avg_length(lengths)
        return {k: float(v) for k, v in out.items()}

    return compute


def alpaca_eval_unscored() -> Metric:
    """``unscored``: how many (sample, epoch) judgments have no preference (each with its reason
    in the sample's explanation)."""
    return official_unscored(PREFERENCE, "unscored")
