"""harness.compare.stats checked number by number against direct scipy / statsmodels calls."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from harness.benchmarks.alpaca_eval.metric import winrate
from harness.compare.stats import adjust, noise_floor, paired_difference, win_rate_change


def _mean_diff(b: np.ndarray, c: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(c - b, axis=axis)


def _scipy_ci(b: np.ndarray, c: np.ndarray, seed: int = 0, n: int = 2000) -> tuple[float, float]:
    result = sps.bootstrap(
        (b, c),
        _mean_diff,
        paired=True,
        vectorized=True,
        n_resamples=n,
        rng=np.random.default_rng(seed),
    )
    return result.confidence_interval.low, result.confidence_interval.high


@pytest.fixture
def continuous() -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(42)
    ids = [f"s{i}" for i in range(40)]
    base = rng.normal(5, 1, 40)
    cand = base + rng.normal(0.3, 0.8, 40)
    cand[3] = base[3]  # one exact tie
    return pd.Series(base, index=ids), pd.Series(cand, index=ids)


@pytest.fixture
def binary() -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(7)
    ids = [f"q{i}" for i in range(60)]
    base = rng.integers(0, 2, 60).astype(float)
    cand = base.copy()
    flip = rng.choice(60, 18, replace=False)
    cand[flip[:13]] = 1
    cand[flip[13:]] = 0
    return pd.Series(base, index=ids), pd.Series(cand, index=ids)


def test_continuous_matches_scipy(continuous):
    base, cand = continuous
    got = paired_difference(base, cand, kind="continuous", seed=3)
    b, c = base.to_numpy(), cand.to_numpy()
    assert got.n == got.n_samples == 40 and got.unscored == 0
    assert got.mean_baseline == pytest.approx(b.mean())
    assert got.mean_candidate == pytest.approx(c.mean())
    assert got.difference == pytest.approx((c - b).mean())
    low, high = _scipy_ci(b, c, seed=3)
    assert (got.ci_low, got.ci_high) == pytest.approx((low, high), rel=1e-9)
    assert got.ci_low < got.difference < got.ci_high
    # the paired t-test (the mean difference, as the interval) primary, Wilcoxon beside it
    t = sps.ttest_rel(c, b)
    assert got.test == "ttest_rel"
    assert (got.statistic, got.p_value) == pytest.approx((t.statistic, t.pvalue))
    w = sps.wilcoxon(c, b, zero_method="wilcox")
    assert got.secondary_test == "wilcoxon"
    assert (got.secondary_statistic, got.secondary_p_value) == (w.statistic, w.pvalue)
    ranked = paired_difference(base, cand, test="wilcoxon")
    assert (ranked.test, ranked.p_value) == ("wilcoxon", w.pvalue)
    assert (ranked.secondary_test, ranked.secondary_p_value) == (
        "ttest_rel",
        pytest.approx(t.pvalue),
    )
    assert (got.wins, got.ties, got.losses) == (
        int((c > b).sum()),
        1,
        int((c < b).sum()),
    )
    assert got.wins + got.ties + got.losses == 40
    pratt = paired_difference(base, cand, zero_method="pratt", test="wilcoxon")
    assert pratt.p_value == pytest.approx(sps.wilcoxon(c, b, zero_method="pratt").pvalue)
    assert pratt.p_value != ranked.p_value


def test_seed_changes_interval_only(continuous):
    base, cand = continuous
    a = paired_difference(base, cand, seed=0)
    b = paired_difference(base, cand, seed=1)
    assert a.difference == b.difference and a.p_value == b.p_value
    assert a.ci_low != b.ci_low
    assert paired_difference(base, cand, seed=0) == a


def test_binary_mcnemar_exact_and_chi2(binary):
    base, cand = binary
    got = paired_difference(base, cand, kind="binary")
    b, c = base.to_numpy(), cand.to_numpy()
    table = np.array(
        [
            [np.sum((b == 1) & (c == 1)), np.sum((b == 1) & (c == 0))],
            [np.sum((b == 0) & (c == 1)), np.sum((b == 0) & (c == 0))],
        ]
    )
    discordant = table[0, 1] + table[1, 0]
    assert discordant < 25
    ref = mcnemar(table, exact=True)
    assert (got.test, got.statistic, got.p_value) == ("mcnemar", ref.statistic, ref.pvalue)
    assert got.secondary_test is None
    assert got.wins == table[1, 0] and got.losses == table[0, 1]
    assert got.ties == table[0, 0] + table[1, 1]
    # 40 discordant pairs: chi-square with continuity correction
    ids = [f"x{i}" for i in range(50)]
    b2 = np.array([1] * 10 + [0] * 30 + [1] * 5 + [0] * 5, dtype=float)
    c2 = np.array([0] * 10 + [1] * 30 + [1] * 5 + [0] * 5, dtype=float)
    big = paired_difference(pd.Series(b2, index=ids), pd.Series(c2, index=ids), kind="binary")
    ref2 = mcnemar(np.array([[5, 10], [30, 5]]), exact=False, correction=True)
    assert big.statistic == pytest.approx(ref2.statistic)
    assert big.p_value == pytest.approx(ref2.pvalue)
    assert big.statistic == pytest.approx((abs(10 - 30) - 1) ** 2 / 40)
    assert (big.wins, big.ties, big.losses) == (30, 10, 10)


def test_binary_rejects_non_01(binary):
    base, cand = binary
    cand = cand.copy()
    cand.iloc[2] = 0.5
    with pytest.raises(ValueError, match=r"0/1 values; sample 'q2'"):
        paired_difference(base, cand, kind="binary")


def _two_epochs(rng: np.random.Generator, n: int = 30) -> pd.DataFrame:
    # epochs of a sample share most of their value: a strongly clustered design
    base = np.repeat(rng.normal(0, 1, n), 2) + rng.normal(0, 0.05, 2 * n)
    cand = base + np.repeat(rng.normal(0.2, 1, n), 2) + rng.normal(0, 0.05, 2 * n)
    return pd.DataFrame(
        {
            "sample_id": np.repeat([f"s{i}" for i in range(n)], 2),
            "epoch": np.tile([1, 2], n),
            "baseline": base,
            "candidate": cand,
        }
    )


def test_cluster_bootstrap_two_epochs():
    frame = _two_epochs(np.random.default_rng(11))
    got = paired_difference(frame, kind="continuous", seed=5)
    assert got.n == 60 and got.n_samples == 30
    per = frame.groupby("sample_id", sort=False)[["baseline", "candidate"]].mean()
    b, c = per["baseline"].to_numpy(), per["candidate"].to_numpy()
    # balanced epochs: resampling samples == bootstrapping the per-sample means
    low, high = _scipy_ci(b, c, seed=5)
    assert (got.ci_low, got.ci_high) == pytest.approx((low, high), rel=1e-9)
    assert got.difference == pytest.approx((frame["candidate"] - frame["baseline"]).mean())
    # a naive bootstrap over the 60 epoch rows treats them as independent: too narrow
    naive_low, naive_high = _scipy_ci(
        frame["baseline"].to_numpy(), frame["candidate"].to_numpy(), seed=5
    )
    assert (got.ci_high - got.ci_low) > 1.25 * (naive_high - naive_low)
    # the tests run on the per-sample means
    assert got.p_value == pytest.approx(sps.ttest_rel(c, b).pvalue)
    assert got.secondary_p_value == pytest.approx(sps.wilcoxon(c, b).pvalue)
    assert got.wins + got.ties + got.losses == 30


def test_cluster_bootstrap_unbalanced_is_ratio_of_sums():
    frame = _two_epochs(np.random.default_rng(2), n=20)
    frame.loc[[1, 5], "candidate"] = math.nan  # two samples lose one epoch
    got = paired_difference(frame, seed=1)
    assert got.n == 38 and got.unscored == 2 and got.n_samples == 20
    scored = frame.dropna()
    diff = scored["candidate"] - scored["baseline"]
    sums = diff.groupby(scored["sample_id"], sort=False).sum().to_numpy()
    counts = diff.groupby(scored["sample_id"], sort=False).count().to_numpy().astype(float)
    ref = sps.bootstrap(
        (sums, counts),
        lambda s, k, axis=-1: np.sum(s, axis=axis) / np.sum(k, axis=axis),
        paired=True,
        vectorized=True,
        n_resamples=2000,
        rng=np.random.default_rng(1),
    ).confidence_interval
    assert (got.ci_low, got.ci_high) == pytest.approx((ref.low, ref.high), rel=1e-9)
    assert got.difference == pytest.approx(diff.mean())


def test_binary_several_epochs_tests_the_per_sample_proportions():
    frame = pd.DataFrame(
        {
            "sample_id": np.repeat([f"s{i}" for i in range(12)], 2),
            "epoch": np.tile([1, 2], 12),
            "baseline": [0, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0, 0, 0],
            "candidate": [1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0],
        }
    )
    got = paired_difference(frame, kind="binary")
    per = frame.groupby("sample_id", sort=False)[["baseline", "candidate"]].mean()
    ref = sps.ttest_rel(per["candidate"], per["baseline"])
    assert got.test == "ttest_rel" and got.p_value == pytest.approx(ref.pvalue)
    wilcoxon = sps.wilcoxon(per["candidate"], per["baseline"])
    assert got.secondary_p_value == pytest.approx(wilcoxon.pvalue)
    assert got.difference == pytest.approx(frame["candidate"].mean() - frame["baseline"].mean())


def test_unscored_excluded_not_zero(continuous):
    base, cand = continuous
    base, cand = base.copy(), cand.copy()
    base.iloc[0] = math.nan
    cand.iloc[[1, 2]] = math.nan
    cand.iloc[0] = math.nan  # both sides NaN counts once
    got = paired_difference(base, cand)
    assert got.unscored == 3 and got.n == 37
    keep = base.notna() & cand.notna()
    assert got.mean_baseline == pytest.approx(base[keep].mean())
    assert got.difference == pytest.approx((cand[keep] - base[keep]).mean())
    filled = paired_difference(base.fillna(0), cand.fillna(0))
    assert filled.difference != pytest.approx(got.difference)
    with pytest.raises(ValueError, match="no .* pair is scored on both sides"):
        paired_difference(base * math.nan, cand)


def test_multiindex_series_and_dataframe_agree():
    frame = _two_epochs(np.random.default_rng(4), n=15)
    before = frame.copy()
    # shuffled rows and swapped level order still align on (sample_id, epoch)
    b = frame.set_index(["epoch", "sample_id"])["baseline"]
    c = frame.sample(frac=1, random_state=1).set_index(["sample_id", "epoch"])["candidate"]
    b_index = b.index.copy()
    assert paired_difference(b, c) == paired_difference(frame)
    pd.testing.assert_frame_equal(frame, before)  # inputs are not modified
    assert b.index.equals(b_index)


def test_misaligned_ids_raise(continuous):
    base, cand = continuous
    cand = cand.rename(index={"s5": "zz"})
    with pytest.raises(ValueError, match=r"not aligned.*\('s5', 1\).*\('zz', 1\)"):
        paired_difference(base, cand)
    with pytest.raises(ValueError, match="duplicate"):
        paired_difference(
            pd.Series([1.0, 2.0], index=["a", "a"]), pd.Series([1.0, 2.0], index=["a", "a"])
        )
    with pytest.raises(ValueError, match="missing columns"):
        paired_difference(pd.DataFrame({"sample_id": [1], "baseline": [1.0]}))
    with pytest.raises(ValueError, match="numeric"):
        paired_difference(pd.Series(["x"], index=["a"]), pd.Series([1.0], index=["a"]))
    with pytest.raises(ValueError, match="kind"):
        paired_difference(base, base, kind="ordinal")  # type: ignore[arg-type]


def test_no_difference_degenerate(continuous):
    base, _ = continuous
    got = paired_difference(base, base.copy())
    assert got.difference == 0 and (got.ci_low, got.ci_high) == (0, 0)
    assert got.ties == 40 and (got.wins, got.losses) == (0, 0)
    # scipy answers NaN here; no observed difference is reported as p = 1, never NaN
    assert (got.p_value, got.secondary_p_value) == (1.0, 1.0)
    assert math.isnan(sps.ttest_rel(base, base).pvalue)


def test_noise_floor():
    rng = np.random.default_rng(9)
    ids = [f"s{i}" for i in range(50)]
    run_a = pd.Series(rng.normal(0, 1, 50), index=ids)
    run_b = run_a + rng.normal(0, 0.4, 50)
    got = noise_floor(run_a, run_b, seed=2)
    d = (run_b - run_a).to_numpy()
    assert got.std_difference == pytest.approx(np.std(d, ddof=1))
    assert got.mean_difference == pytest.approx(d.mean())
    low, high = _scipy_ci(run_a.to_numpy(), run_b.to_numpy(), seed=2)
    assert (got.ci_low, got.ci_high) == pytest.approx((low, high), rel=1e-9)
    assert got.half_width == pytest.approx((high - low) / 2)
    # about t * sd / sqrt(n) for a normal spread
    assert got.half_width == pytest.approx(1.96 * d.std(ddof=1) / math.sqrt(50), rel=0.2)
    frame = pd.DataFrame(
        {"sample_id": ids, "epoch": 1, "run_a": run_a.to_numpy(), "run_b": run_b.to_numpy()}
    )
    assert noise_floor(frame, seed=2) == got
    # the same checkpoint twice with no noise at all: zero floor
    flat = noise_floor(run_a, run_a.copy())
    assert (flat.std_difference, flat.half_width) == (0.0, 0.0)


def test_adjust_holm_and_bh():
    p = {"ifeval": 0.01, "ifbench": 0.04, "arena": 0.03, "cw": 0.045}
    got = adjust(p)
    ref_reject, ref_p, _, _ = multipletests(list(p.values()), alpha=0.05, method="holm")
    assert list(got.index) == list(p)
    assert got["p_adjusted"].tolist() == pytest.approx(list(ref_p))
    assert got["reject"].tolist() == list(ref_reject)
    assert got.loc["ifeval", "p_adjusted"] == pytest.approx(0.04)
    bh = adjust(list(p.values()), method="fdr_bh")
    ref_reject, ref_p, _, _ = multipletests(list(p.values()), method="fdr_bh")
    assert bh["p_adjusted"].tolist() == pytest.approx(list(ref_p))
    assert bh["p_adjusted"].tolist() == pytest.approx([0.04, 0.045, 0.045, 0.045])
    assert bh["reject"].tolist() == list(ref_reject) == [True, True, True, True]
    assert got["p_adjusted"].tolist() == pytest.approx([0.04, 0.09, 0.09, 0.09])
    assert got["reject"].tolist() == [True, False, False, False]
    with pytest.raises(ValueError, match="method"):
        adjust(p, method="sidak-ish")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust([0.1, math.nan])


def test_win_rate_change():
    rng = np.random.default_rng(5)
    ids = [f"i{i}" for i in range(80)]
    base = pd.Series(rng.choice([1.0, 2.0, 1.5], 80, p=[0.6, 0.35, 0.05]), index=ids)
    cand = pd.Series(rng.choice([1.0, 2.0, 1.5], 80, p=[0.4, 0.55, 0.05]), index=ids)
    cand.iloc[0] = 1.73  # weighted annotator
    base.iloc[1] = 0.0  # old draw encoding
    got = win_rate_change(base, cand, seed=4)
    b = (base.replace({0.0: 1.5}) - 1).to_numpy() * 100
    c = (cand - 1).to_numpy() * 100
    assert got.mean_baseline == pytest.approx(b.mean())
    assert got.mean_candidate == pytest.approx(100 * (cand - 1).mean())
    assert got.difference == pytest.approx(c.mean() - b.mean())
    low, high = _scipy_ci(b, c, seed=4)
    assert (got.ci_low, got.ci_high) == pytest.approx((low, high), rel=1e-9)
    assert got.p_value == pytest.approx(sps.ttest_rel(c, b).pvalue)
    # the same win rates as the project's official get_winrate port
    for side, value in ((base, got.mean_baseline), (cand, got.mean_candidate)):
        assert value == pytest.approx(winrate(list(side), list(side))["win_rate"])
    # a draw counts half
    draws = win_rate_change(pd.Series([1.0, 1.0], ["a", "b"]), pd.Series([1.5, 2.0], ["a", "b"]))
    assert draws.mean_candidate == pytest.approx(75.0) and draws.difference == pytest.approx(75)
    with pytest.raises(ValueError, match=r"\[1, 2\].*3.0"):
        win_rate_change(base, cand.replace({2.0: 3.0}))


# -- the five-benchmark average and per-checkpoint intervals -------------------------------


def _frame(base: pd.Series, cand: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {"sample_id": base.index, "epoch": 1, "baseline": base.values, "candidate": cand.values}
    )


def test_average_of_one_benchmark_is_its_difference_with_scipys_permutation_p(continuous):
    from harness.compare.stats import average_difference

    base, cand = continuous
    got = average_difference({"b": _frame(base, cand)}, {"b": 10.0}, n_resamples=20000, seed=1)
    diff = (cand - base).to_numpy()
    assert got.difference == pytest.approx(10 * diff.mean())
    assert got.mean_baseline == pytest.approx(10 * base.mean())
    assert (got.wins, got.ties, got.losses) == (
        int((diff > 0).sum()), int((diff == 0).sum()), int((diff < 0).sum()),
    )  # fmt: skip
    reference = sps.permutation_test(
        (base.to_numpy(), cand.to_numpy()),
        lambda x, y, axis: np.mean(y - x, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=20000,
        rng=np.random.default_rng(5),
    )
    assert got.test == "sign_flip"
    assert got.p_value == pytest.approx(reference.pvalue, abs=0.01)
    low, high = sps.bootstrap(
        (diff,), np.mean, vectorized=True, n_resamples=20000, method="percentile",
        rng=np.random.default_rng(9),
    ).confidence_interval  # fmt: skip
    assert got.ci_low == pytest.approx(10 * low, abs=0.05) and got.ci_high == pytest.approx(
        10 * high, abs=0.05
    )


def test_average_weighs_benchmarks_equally_whatever_their_size(continuous, binary):
    from harness.compare.stats import average_difference, average_interval

    cb, cc = continuous
    bb, bc = binary
    strata = {"writingbench": _frame(cb, cc), "ifeval": _frame(bb, bc)}
    points = {"writingbench": 10.0, "ifeval": 100.0}
    got = average_difference(strata, points, n_resamples=4000)
    expected = (10 * (cc - cb).mean() + 100 * (bc - bb).mean()) / 2
    assert got.difference == pytest.approx(expected)
    assert got.n == len(cb) + len(bb)
    assert got.ci_low < got.difference < got.ci_high
    # a benchmark with no change pulls the average to half the other's change
    flat = average_difference(
        {"writingbench": _frame(cb, cc), "ifeval": _frame(bb, bb)}, points, n_resamples=2000
    )
    assert flat.difference == pytest.approx(10 * (cc - cb).mean() / 2)
    level = average_interval(
        {"writingbench": cc * 10, "ifeval": bc * 100}, {"writingbench": 1.0, "ifeval": 1.0}
    )
    assert level.mean == pytest.approx((10 * cc.mean() + 100 * bc.mean()) / 2)
    assert level.ci_low < level.mean < level.ci_high
    with pytest.raises(ValueError, match="no points factor"):
        average_difference(strata, {"ifeval": 100.0})
    with pytest.raises(ValueError, match="no benchmark"):
        average_difference({}, {})


def test_no_change_anywhere_is_not_significant(continuous):
    from harness.compare.stats import average_difference

    base, _ = continuous
    got = average_difference({"b": _frame(base, base)}, {"b": 1.0})
    assert got.difference == 0 and got.p_value == 1.0 and got.ci_low == got.ci_high == 0


def test_mean_interval_matches_scipy_and_counts_unscored(continuous):
    from harness.compare.stats import mean_interval

    base, _ = continuous
    values = base.copy()
    values.iloc[0] = np.nan
    got = mean_interval(values, seed=4)
    scored = values.dropna().to_numpy()
    assert got.mean == pytest.approx(scored.mean()) and got.unscored == 1 and got.n == 39
    ref = sps.bootstrap(
        (scored,), np.mean, vectorized=True, n_resamples=2000, rng=np.random.default_rng(4)
    ).confidence_interval
    assert got.ci_low == pytest.approx(ref.low, abs=0.03)
    assert got.ci_high == pytest.approx(ref.high, abs=0.03)
    with pytest.raises(ValueError, match="no scored value"):
        mean_interval(values * np.nan)
