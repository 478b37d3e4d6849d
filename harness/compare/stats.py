"""Paired statistics for two checkpoints (baseline vs candidate) of one benchmark.

Everything here is a pure function over per-sample values aligned on ``(sample_id, epoch)``.

Input forms (every public function):

- two ``pandas.Series`` whose indexes are the keys: a 2-level ``MultiIndex``
  ``(sample_id, epoch)`` (level names ``sample_id``/``epoch`` if named, else the first two
  levels in that order), or a flat index of sample ids (one epoch each);
- or one ``DataFrame`` with columns ``sample_id``, ``epoch`` and the two value columns
  (``baseline``/``candidate``; ``run_a``/``run_b`` for :func:`noise_floor`) and no second
  argument.

The two sides must hold exactly the same keys (else ``ValueError`` naming the missing keys),
with no duplicate key. A NaN (unscored) value on either side excludes that pair; excluded
pairs are counted in ``unscored``, never read as 0.

Several epochs per sample (clusters):

- the mean difference is over all scored pairs, and its bootstrap interval resamples
  *samples* (all of a sample's epochs together), never single epochs: ``scipy.stats.bootstrap``
  with ``paired=True`` over the per-sample (sum of differences, number of scored epochs) and
  the ratio statistic ``sum(sums) / sum(counts)``;
- the tests and the win/tie/loss counts use each sample's mean over its scored epochs (the
  epochs of one sample are not independent observations).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

Kind = Literal["binary", "continuous"]
LocationTest = Literal["ttest_rel", "wilcoxon"]
ZeroMethod = Literal["wilcox", "pratt"]

MCNEMAR_EXACT_BELOW = 25
"""McNemar uses the exact binomial test when the discordant pairs are fewer than this."""

ADJUST_METHODS = ("holm", "fdr_bh", "bonferroni")


@dataclass(frozen=True)
class PairedDifference:
    """The paired comparison of one benchmark (``difference`` = candidate - baseline).

    ``n``: scored pairs (sample × epoch, both sides scored); ``n_samples``: samples with at
    least one scored pair; ``unscored``: pairs excluded because either side is NaN.
    ``wins``/``ties``/``losses``: samples whose (epoch-averaged) candidate value is greater
    than / equal to / less than the baseline's. ``test``: ``"mcnemar"``, ``"ttest_rel"`` or
    ``"wilcoxon"`` (primary), with ``statistic``/``p_value``; ``secondary_test`` is the other
    continuous test (None after McNemar).
    """

    kind: str
    n: int
    n_samples: int
    unscored: int
    mean_baseline: float
    mean_candidate: float
    difference: float
    ci_low: float
    ci_high: float
    confidence: float
    wins: int
    ties: int
    losses: int
    test: str
    statistic: float
    p_value: float
    secondary_test: str | None = None
    secondary_statistic: float | None = None
    secondary_p_value: float | None = None


@dataclass(frozen=True)
class NoiseFloor:
    """Spread of the per-sample differences between two runs of the SAME checkpoint.

    ``std_difference``: standard deviation (ddof=1) of the per-sample differences (each
    sample's epochs averaged first); ``half_width``: half the width of the bootstrap interval
    (``confidence``, default 95%) of the mean difference, ``(ci_high - ci_low) / 2``. A
    checkpoint delta smaller than ``half_width`` is inside the run-to-run noise.
    """

    n: int
    n_samples: int
    unscored: int
    mean_difference: float
    std_difference: float
    ci_low: float
    ci_high: float
    half_width: float
    confidence: float


def _keys(series: pd.Series, side: str) -> pd.Series:
    if not isinstance(series, pd.Series):
        raise TypeError(f"{side}: expected a pandas Series, got {type(series).__name__}")
    series = series.copy()
    index = series.index
    if isinstance(index, pd.MultiIndex):
        if index.nlevels != 2:
            raise ValueError(
                f"{side}: index must be (sample_id, epoch) or sample_id; got {index.nlevels} levels"
            )
        names = list(index.names)
        if "sample_id" in names and "epoch" in names:
            series = series.reorder_levels(["sample_id", "epoch"])
        series.index = series.index.set_names(["sample_id", "epoch"])
        return series
    series.index = pd.MultiIndex.from_arrays(
        [index, np.ones(len(index), dtype=int)], names=["sample_id", "epoch"]
    )
    return series


def _numeric(values: pd.Series, side: str) -> pd.Series:
    try:
        return pd.to_numeric(values, errors="raise").astype(float)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{side}: values must be numeric (NaN for unscored): {exc}") from exc


def _paired_frame(
    first: pd.Series | pd.DataFrame,
    second: pd.Series | None,
    names: tuple[str, str],
) -> tuple[pd.DataFrame, int]:
    """Columns sample_id, epoch, a, b (scored pairs only) and the number of unscored pairs."""
    a_name, b_name = names
    if isinstance(first, pd.DataFrame):
        if second is not None:
            raise TypeError(f"pass a DataFrame alone, or two Series ({a_name}, {b_name})")
        missing = {"sample_id", "epoch", a_name, b_name} - set(first.columns)
        if missing:
            raise ValueError(f"DataFrame is missing columns {sorted(missing)}")
        a = first.set_index(["sample_id", "epoch"])[a_name]
        b = first.set_index(["sample_id", "epoch"])[b_name]
    else:
        if second is None:
            raise TypeError(f"{b_name} is missing: pass two Series or one DataFrame")
        a, b = _keys(first, a_name), _keys(second, b_name)
        only_a = a.index.difference(b.index)
        only_b = b.index.difference(a.index)
        if len(only_a) or len(only_b):
            raise ValueError(
                f"{a_name} and {b_name} are not aligned on (sample_id, epoch): "
                f"{len(only_a)} key(s) only in {a_name} {list(only_a[:5])}, "
                f"{len(only_b)} only in {b_name} {list(only_b[:5])}"
            )
    for side, values in ((a_name, a), (b_name, b)):
        duplicated = values.index[values.index.duplicated()]
        if len(duplicated):
            raise ValueError(
                f"{side}: duplicate (sample_id, epoch) keys {list(duplicated.unique()[:5])}"
            )
    b = b.reindex(a.index)
    frame = pd.DataFrame({"a": _numeric(a, a_name), "b": _numeric(b, b_name)}).reset_index()
    scored = frame["a"].notna() & frame["b"].notna()
    unscored = int((~scored).sum())
    frame = frame[scored].reset_index(drop=True)
    if frame.empty:
        raise ValueError(
            f"no (sample_id, epoch) pair is scored on both sides ({unscored} unscored)"
        )
    return frame, unscored


def _ratio_of_sums(sums: np.ndarray, counts: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.sum(sums, axis=axis) / np.sum(counts, axis=axis)


def _bootstrap_ci(
    frame: pd.DataFrame, confidence: float, n_resamples: int, seed: int, method: str
) -> tuple[float, float]:
    """Interval of mean(b - a) over pairs, resampling samples (clusters) with their epochs."""
    diff = frame["b"] - frame["a"]
    grouped = diff.groupby(frame["sample_id"], sort=False)
    sums = grouped.sum().to_numpy()
    counts = grouped.count().to_numpy().astype(float)
    point = float(sums.sum() / counts.sum())
    if len(sums) < 2 or np.ptp(sums / counts) == 0:
        # no spread to resample (scipy would answer NaN with a DegenerateDataWarning)
        return point, point
    result = sps.bootstrap(
        (sums, counts),
        _ratio_of_sums,
        paired=True,
        vectorized=True,
        n_resamples=n_resamples,
        confidence_level=confidence,
        method=method,
        rng=np.random.default_rng(seed),
    )
    interval = result.confidence_interval
    return float(interval.low), float(interval.high)


def _per_sample(frame: pd.DataFrame) -> pd.DataFrame:
    """Each sample's mean over its scored epochs (columns a, b; index sample_id)."""
    return frame.groupby("sample_id", sort=False)[["a", "b"]].mean()


def _mcnemar_table(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rows: baseline 1 / 0; columns: candidate 1 / 0."""
    return np.array(
        [
            [np.sum((a == 1) & (b == 1)), np.sum((a == 1) & (b == 0))],
            [np.sum((a == 0) & (b == 1)), np.sum((a == 0) & (b == 0))],
        ]
    )


def _location_test(
    test: LocationTest, a: np.ndarray, b: np.ndarray, zero_method: ZeroMethod
) -> tuple[float, float]:
    """(statistic, two-sided p) of the paired t-test or the Wilcoxon signed-rank test of b - a."""
    d = b - a
    if np.all(d == 0):
        # no observed difference: scipy would answer NaN (with a RuntimeWarning); reported as
        # p = 1 so that :func:`adjust` can take every benchmark
        return 0.0, 1.0
    if test == "wilcoxon":
        result = sps.wilcoxon(b, a, zero_method=zero_method)
        return float(result.statistic), float(result.pvalue)
    if np.ptp(d) <= 1e-12 * max(1.0, float(np.abs(d).max())):
        # one and the same shift on every sample: t is infinite (scipy would warn of
        # catastrophic cancellation and answer from rounding noise)
        return math.copysign(math.inf, float(d.mean())), 0.0
    result = sps.ttest_rel(b, a)
    return float(result.statistic), float(result.pvalue)


def paired_difference(
    baseline: pd.Series | pd.DataFrame,
    candidate: pd.Series | None = None,
    kind: Kind = "continuous",
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
    zero_method: ZeroMethod = "wilcox",
    bootstrap_method: Literal["BCa", "percentile", "basic"] = "BCa",
    test: LocationTest = "ttest_rel",
    exact_below: int = MCNEMAR_EXACT_BELOW,
) -> PairedDifference:
    """Paired comparison of candidate against baseline on one benchmark.

    ``difference`` = mean(candidate) - mean(baseline) over the pairs scored on both sides, with
    a bootstrap interval (``scipy.stats.bootstrap``, ``paired=True``, ``bootstrap_method``,
    ``n_resamples``, ``rng=numpy.random.default_rng(seed)``) that resamples samples, each with
    all its epochs.

    Tests, on per-sample values (each sample's epochs averaged first):

    - ``kind="binary"`` (values 0/1) with one epoch per sample: McNemar
      (``statsmodels.stats.contingency_tables.mcnemar``; exact binomial when the discordant
      pairs are fewer than ``exact_below`` (25), else chi-square with continuity correction). With several epochs
      per sample the per-sample means are proportions, not 0/1, and the continuous tests apply.
    - ``kind="continuous"``: ``test`` is the primary test, the other one secondary, both
      two-sided: ``"ttest_rel"`` (default: ``scipy.stats.ttest_rel``), a test of the mean
      difference, the quantity the interval is about; ``"wilcoxon"``
      (``scipy.stats.wilcoxon``, ``zero_method="wilcox"`` by default: zero differences dropped;
      ``"pratt"`` keeps them in the ranking), a test of symmetry about zero. They can disagree:
      on AlpacaEval, many tiny positive changes of the judge's probability make Wilcoxon
      significant while the win rate's change, carried by a few flipped verdicts, is not.

    When every per-sample difference is zero the tests report statistic 0 and p = 1 (scipy
    itself would answer NaN), so :func:`adjust` can take every benchmark.
    """
    if kind not in ("binary", "continuous"):
        raise ValueError(f"kind must be 'binary' or 'continuous', got {kind!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    frame, unscored = _paired_frame(baseline, candidate, ("baseline", "candidate"))
    if kind == "binary":
        bad = frame[~frame["a"].isin([0, 1]) | ~frame["b"].isin([0, 1])]
        if len(bad):
            row = bad.iloc[0]
            raise ValueError(
                f"kind='binary' needs 0/1 values; sample {row['sample_id']!r} epoch "
                f"{row['epoch']!r} has baseline={row['a']}, candidate={row['b']}"
            )
    ci_low, ci_high = _bootstrap_ci(frame, confidence, n_resamples, seed, bootstrap_method)
    per_sample = _per_sample(frame)
    a, b = per_sample["a"].to_numpy(), per_sample["b"].to_numpy()
    several_epochs = len(per_sample) < len(frame)
    secondary: tuple[str | None, float | None, float | None] = (None, None, None)
    if kind == "binary" and not several_epochs:
        table = _mcnemar_table(a, b)
        discordant = int(table[0, 1] + table[1, 0])
        result = mcnemar(table, exact=discordant < exact_below, correction=True)
        test, statistic, p_value = "mcnemar", float(result.statistic), float(result.pvalue)
    else:
        other = "wilcoxon" if test == "ttest_rel" else "ttest_rel"
        statistic, p_value = _location_test(test, a, b, zero_method)
        secondary = (other, *_location_test(other, a, b, zero_method))
    return PairedDifference(
        kind=kind,
        n=len(frame),
        n_samples=len(per_sample),
        unscored=unscored,
        mean_baseline=float(frame["a"].mean()),
        mean_candidate=float(frame["b"].mean()),
        difference=float((frame["b"] - frame["a"]).mean()),
        ci_low=ci_low,
        ci_high=ci_high,
        confidence=confidence,
        wins=int(np.sum(b > a)),
        ties=int(np.sum(b == a)),
        losses=int(np.sum(b < a)),
        test=test,
        statistic=statistic,
        p_value=p_value,
        secondary_test=secondary[0],
        secondary_statistic=secondary[1],
        secondary_p_value=secondary[2],
    )


def noise_floor(
    run_a: pd.Series | pd.DataFrame,
    run_b: pd.Series | None = None,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
    bootstrap_method: Literal["BCa", "percentile", "basic"] = "BCa",
) -> NoiseFloor:
    """Run-to-run noise from two runs of the same checkpoint (two epochs, or two eval sets).

    Same input forms as :func:`paired_difference` (DataFrame columns ``run_a``/``run_b``);
    the interval is the same sample-level bootstrap, so a checkpoint delta can be read against
    ``half_width`` directly.
    """
    frame, unscored = _paired_frame(run_a, run_b, ("run_a", "run_b"))
    ci_low, ci_high = _bootstrap_ci(frame, confidence, n_resamples, seed, bootstrap_method)
    per_sample = _per_sample(frame)
    diffs = (per_sample["b"] - per_sample["a"]).to_numpy()
    std = float(np.std(diffs, ddof=1)) if len(diffs) > 1 else math.nan
    return NoiseFloor(
        n=len(frame),
        n_samples=len(per_sample),
        unscored=unscored,
        mean_difference=float((frame["b"] - frame["a"]).mean()),
        std_difference=std,
        ci_low=ci_low,
        ci_high=ci_high,
        half_width=(ci_high - ci_low) / 2,
        confidence=confidence,
    )


def adjust(
    p_values: Mapping[str, float] | pd.Series | Sequence[float],
    method: str = "holm",
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Multiple-comparison correction across benchmarks (``statsmodels`` ``multipletests``).

    ``method``: ``"holm"`` (default; family-wise error), ``"fdr_bh"`` (Benjamini-Hochberg false
    discovery rate) or ``"bonferroni"``. Returns a DataFrame indexed like the input (benchmark
    names for a mapping / Series, 0..n-1 for a sequence) with columns ``p_value``,
    ``p_adjusted`` and ``reject`` (adjusted p < alpha, as statsmodels decides).
    """
    if method not in ADJUST_METHODS:
        raise ValueError(f"method must be one of {ADJUST_METHODS}, got {method!r}")
    if isinstance(p_values, Mapping):
        p_values = pd.Series(dict(p_values), dtype=float)
    series = pd.Series(p_values, dtype=float)
    if series.empty:
        raise ValueError("no p-values to adjust")
    bad = series[series.isna() | (series < 0) | (series > 1)]
    if len(bad):
        raise ValueError(f"p-values must be in [0, 1]; got {bad.to_dict()}")
    reject, adjusted, _, _ = multipletests(series.to_numpy(), alpha=alpha, method=method)
    return pd.DataFrame(
        {"p_value": series.to_numpy(), "p_adjusted": adjusted, "reject": reject.astype(bool)},
        index=series.index,
    )


def _win_rate_values(preferences: pd.Series, side: str) -> pd.Series:
    values = _numeric(preferences, side)
    # 0 is the old encoding of a draw (alpaca_eval BaseScoringRule.preprocess_predictions;
    # harness/benchmarks/alpaca_eval/metric.py replaces it by 1.5 the same way)
    values = values.replace({0.0: 1.5})
    bad = values[values.notna() & ~values.between(1, 2)]
    if len(bad):
        raise ValueError(
            f"{side}: AlpacaEval preferences must be in [1, 2] (or 0 / NaN); "
            f"got {bad.iloc[0]} for {bad.index[0]!r}"
        )
    # alpaca_eval.metrics.get_winrate -> describe_head2head: win_rate = mean(preference - 1) * 100
    return (values - 1) * 100


def win_rate_change(
    baseline_prefs: pd.Series | pd.DataFrame,
    candidate_prefs: pd.Series | None = None,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
    zero_method: ZeroMethod = "wilcox",
    bootstrap_method: Literal["BCa", "percentile", "basic"] = "BCa",
) -> PairedDifference:
    """Change of the AlpacaEval win rate (percent) from baseline to candidate, paired per item.

    Each side holds, per instruction, its preference against the same reference in [1, 2]
    (1 = reference wins, 2 = model wins, 1.5 = draw, fractional for the weighted annotator;
    0 = old draw encoding, read as 1.5). The win rate is ``100 * mean(preference - 1)``
    (``alpaca_eval.metrics.get_winrate``, as ``harness.benchmarks.alpaca_eval.metric``), so a
    draw counts half. Returns a :class:`PairedDifference` on the values ``100 * (pref - 1)``:
    ``mean_baseline``/``mean_candidate`` are the two win rates over the instructions scored on
    both sides (equal to the official ones when nothing is unscored), ``difference`` the change
    with its paired bootstrap interval, the paired t-test its p-value (Wilcoxon secondary).
    """
    options = dict(
        kind="continuous",
        confidence=confidence,
        n_resamples=n_resamples,
        seed=seed,
        zero_method=zero_method,
        bootstrap_method=bootstrap_method,
    )
    if isinstance(baseline_prefs, pd.DataFrame):
        if candidate_prefs is not None:
            raise TypeError("pass a DataFrame alone, or two Series")
        frame = baseline_prefs.copy()
        for column in ("baseline", "candidate"):
            if column in frame.columns:
                frame[column] = _win_rate_values(frame[column], column)
        return paired_difference(frame, **options)  # type: ignore[arg-type]
    if candidate_prefs is None:
        raise TypeError("candidate_prefs is missing: pass two Series or one DataFrame")
    return paired_difference(
        _win_rate_values(baseline_prefs, "baseline"),
        _win_rate_values(candidate_prefs, "candidate"),
        **options,  # type: ignore[arg-type]
    )


def scaled(result: PairedDifference, points: float) -> PairedDifference:
    """The same comparison with its means, difference and interval multiplied by ``points``
    (e.g. 100 for a 0/1 accuracy in percentage points); tests and counts are unchanged."""
    return replace(
        result,
        mean_baseline=result.mean_baseline * points,
        mean_candidate=result.mean_candidate * points,
        difference=result.difference * points,
        ci_low=result.ci_low * points,
        ci_high=result.ci_high * points,
    )


@dataclass(frozen=True)
class MeanInterval:
    """One checkpoint's mean on one benchmark with its bootstrap interval (samples resampled
    with all their epochs). ``n``: scored (sample, epoch) values; ``unscored``: NaN ones."""

    n: int
    n_samples: int
    unscored: int
    mean: float
    ci_low: float
    ci_high: float
    confidence: float


def _values_frame(values: pd.Series | pd.DataFrame) -> pd.DataFrame:
    """Columns sample_id, epoch, value from a keyed Series or such a DataFrame."""
    if isinstance(values, pd.DataFrame):
        missing = {"sample_id", "epoch", "value"} - set(values.columns)
        if missing:
            raise ValueError(f"DataFrame is missing columns {sorted(missing)}")
        frame = values[["sample_id", "epoch", "value"]].copy()
    else:
        frame = _keys(values, "values").rename("value").reset_index()
    frame["value"] = _numeric(frame["value"], "values")
    return frame


def mean_interval(
    values: pd.Series | pd.DataFrame,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
    bootstrap_method: Literal["BCa", "percentile", "basic"] = "BCa",
) -> MeanInterval:
    """Mean over the scored (sample, epoch) values and its bootstrap interval
    (``scipy.stats.bootstrap`` over samples, as :func:`paired_difference`)."""
    frame = _values_frame(values)
    scored = frame[frame.value.notna()]
    if scored.empty:
        raise ValueError(f"no scored value ({len(frame)} unscored)")
    paired = scored.assign(a=0.0, b=scored.value)
    ci_low, ci_high = _bootstrap_ci(paired, confidence, n_resamples, seed, bootstrap_method)
    return MeanInterval(
        n=len(scored),
        n_samples=scored.sample_id.nunique(),
        unscored=len(frame) - len(scored),
        mean=float(scored.value.mean()),
        ci_low=ci_low,
        ci_high=ci_high,
        confidence=confidence,
    )


def stratified_ci(
    samples: Sequence[np.ndarray],
    weights: Sequence[float],
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
    method: Literal["BCa", "percentile", "basic"] = "percentile",
) -> tuple[float, float]:
    """Bootstrap interval of ``sum_i w_i mean(sample_i) / sum_i w_i``, each sample resampled
    within itself (``scipy.stats.bootstrap`` over several samples): strata of different sizes
    (benchmarks, dataset subsets) each keep their size. NaN when a sample has fewer than 2
    values; the point itself when no sample varies."""
    if any(len(x) < 2 for x in samples):
        return math.nan, math.nan
    total = float(sum(weights))
    w = [float(x) / total for x in weights]
    point = sum(wi * float(np.mean(x)) for wi, x in zip(w, samples, strict=True))
    if all(np.all(x == x[0]) for x in samples):
        return point, point

    def statistic(*xs: np.ndarray, axis: int = -1) -> np.ndarray:
        return sum(wi * np.mean(x, axis=axis) for wi, x in zip(w, xs, strict=True))

    res = sps.bootstrap(
        tuple(samples),
        statistic,
        n_resamples=n_resamples,
        vectorized=True,
        confidence_level=confidence,
        method=method,
        rng=np.random.default_rng(seed),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _clusters(frame: pd.DataFrame, column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per sample: the sum of ``column`` over its scored epochs and their number."""
    grouped = column.groupby(frame["sample_id"], sort=False)
    return grouped.sum().to_numpy(), grouped.count().to_numpy().astype(float)


def average_difference(
    strata: Mapping[str, pd.DataFrame],
    points: Mapping[str, float],
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> PairedDifference:
    """The paired change of an average over benchmarks (the method's five-benchmark average).

    ``strata``: per benchmark, a DataFrame of ``sample_id, epoch, baseline, candidate`` (as
    :func:`paired_difference`); ``points``: per benchmark, the factor putting its values on
    the average's 0-100 scale. The average is ``mean over benchmarks of points_b *
    mean_b(candidate - baseline)`` (each benchmark weighs the same whatever its size), so it is
    exactly the mean of the benchmarks' scaled ``difference``.

    Interval: :func:`stratified_ci` (percentile) over the per-sample differences (epochs
    averaged), each benchmark resampled within itself. Test (``"sign_flip"``): the stratified
    paired permutation test, each sample's difference flipping sign at random under the null of
    no change, two-sided, ``p = (1 + #{|T*| >= |T|}) / (n_resamples + 1)``. Counts add up over
    benchmarks.
    """
    if not strata:
        raise ValueError("no benchmark to average")
    missing = set(strata) - set(points)
    if missing:
        raise ValueError(f"no points factor for {sorted(missing)}")
    rng = np.random.default_rng(seed)
    weight = 1.0 / len(strata)
    estimate = mean_a = mean_b = 0.0
    flipped = np.zeros(n_resamples)
    diffs = []
    n = n_samples = unscored = wins = ties = losses = 0
    for name, data in strata.items():
        frame, dropped = _paired_frame(data, None, ("baseline", "candidate"))
        sums, counts = _clusters(frame, frame["b"] - frame["a"])
        w = weight * points[name]
        estimate += w * sums.sum() / counts.sum()
        mean_a += w * frame["a"].mean()
        mean_b += w * frame["b"].mean()
        signs = rng.choice(np.array([-1.0, 1.0]), size=(n_resamples, len(sums)))
        flipped += w * (signs * sums).sum(axis=1) / counts.sum()
        per_sample = _per_sample(frame)
        a, b = per_sample["a"].to_numpy(), per_sample["b"].to_numpy()
        diffs.append(points[name] * (b - a))
        n, n_samples, unscored = n + len(frame), n_samples + len(per_sample), unscored + dropped
        wins += int(np.sum(b > a))
        ties += int(np.sum(b == a))
        losses += int(np.sum(b < a))
    ci_low, ci_high = stratified_ci(
        diffs, [1.0] * len(diffs), confidence=confidence, n_resamples=n_resamples, seed=seed
    )
    # a tolerance so that draws equal to the observed value up to rounding count as extreme
    extreme = np.abs(flipped) >= abs(estimate) - 1e-12 * max(1.0, abs(estimate))
    return PairedDifference(
        kind="continuous",
        n=n,
        n_samples=n_samples,
        unscored=unscored,
        mean_baseline=float(mean_a),
        mean_candidate=float(mean_b),
        difference=float(estimate),
        ci_low=ci_low,
        ci_high=ci_high,
        confidence=confidence,
        wins=wins,
        ties=ties,
        losses=losses,
        test="sign_flip",
        statistic=float(estimate),
        p_value=float((1 + extreme.sum()) / (n_resamples + 1)),
    )


def average_interval(
    strata: Mapping[str, pd.Series | pd.DataFrame],
    points: Mapping[str, float],
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> MeanInterval:
    """One checkpoint's average over benchmarks (``points`` as :func:`average_difference`) with
    a :func:`stratified_ci` interval over the per-sample values (epochs averaged)."""
    if not strata:
        raise ValueError("no benchmark to average")
    weight = 1.0 / len(strata)
    estimate = 0.0
    values = []
    n = n_samples = unscored = 0
    for name, data in strata.items():
        frame = _values_frame(data)
        scored = frame[frame.value.notna()]
        if scored.empty:
            raise ValueError(f"{name}: no scored value")
        sums, counts = _clusters(scored, scored.value)
        estimate += weight * points[name] * sums.sum() / counts.sum()
        values.append(points[name] * sums / counts)
        n, n_samples = n + len(scored), n_samples + len(sums)
        unscored += len(frame) - len(scored)
    ci_low, ci_high = stratified_ci(
        values, [1.0] * len(values), confidence=confidence, n_resamples=n_resamples, seed=seed
    )
    return MeanInterval(n, n_samples, unscored, float(estimate), ci_low, ci_high, confidence)
