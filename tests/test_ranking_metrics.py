"""Ranking metrics: hand-computed fixtures for every rule, checked against scipy/statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

from harness.ranking.groups import comparison
from harness.ranking.metrics import (
    REWARDBENCH_V1_EXAMPLE_COUNTS,
    accuracy_table,
    best_of_n_credit,
    group_credit,
    group_credits,
    length_bias,
    markdown_bias,
    markdown_density,
    markdown_markers,
    paired_comparison,
    position_consistency,
    rb2_table,
    rb2_ties_score,
    rmbench_matrix,
    rmbench_table,
    section_table,
    summarize,
    weighted_accuracy,
)


def scored(groups_and_scores):
    """Build groups whose responses score as given: [(id, subset, [chosen], [rejected])]."""
    groups, scores = [], {}
    for gid, subset, chosen, rejected in groups_and_scores:
        ctexts = [f"{gid}-c{i}" for i in range(len(chosen))]
        rtexts = [f"{gid}-r{i}" for i in range(len(rejected))]
        g = comparison("t", gid, f"prompt {gid}", ctexts, rtexts, subset)
        groups.append(g)
        for r, s in zip(g.chosen + g.rejected, list(chosen) + list(rejected), strict=True):
            scores[r.key] = s
    return groups, scores


# ----------------------------------------------------------------------------- tie policies


@pytest.mark.parametrize(
    ("chosen", "rejected", "strict", "half", "one_over_k"),
    [
        (2.0, [1.0], 1.0, 1.0, 1.0),
        (1.0, [1.0], 0.0, 0.5, 0.5),
        (0.0, [1.0], 0.0, 0.0, 0.0),
        (3.0, [3.0, 3.0, 1.0], 0.0, 0.5, 1 / 3),  # 3-way tie at the top
        (3.0, [3.0, 1.0, 1.0], 0.0, 0.5, 0.5),
        (1.0, [3.0, 1.0, 1.0], 0.0, 0.0, 0.0),  # tied, but not at the top
        (3.0, [2.0, 2.0, 1.0], 1.0, 1.0, 1.0),
    ],
)
def test_tie_policies(chosen, rejected, strict, half, one_over_k):
    (g,), scores = scored([("g", "s", [chosen], rejected)])
    assert group_credit(g, scores, "strict") == strict
    assert group_credit(g, scores, "half") == half
    assert group_credit(g, scores, "1/k") == pytest.approx(one_over_k)
    assert best_of_n_credit(g, scores) == strict


def test_unknown_policy_and_bad_shape():
    (g,), scores = scored([("g", "s", [1.0], [0.0])])
    with pytest.raises(ValueError, match="unknown tie policy"):
        group_credit(g, scores, "lenient")  # type: ignore[arg-type]
    (g2,), scores2 = scored([("g2", "s", [1.0, 2.0], [0.0])])
    with pytest.raises(ValueError, match="g2.*2 chosen"):
        group_credit(g2, scores2)


@pytest.mark.parametrize("missing", ["drop", None, math.nan])
def test_unscored_group_is_excluded_and_counted(missing):
    groups, scores = scored([("a", "s", [2.0], [1.0]), ("b", "s", [0.0], [1.0])])
    extra, extra_scores = scored([("c", "s", [5.0], [1.0])])
    scores = {**scores, **extra_scores}
    key = extra[0].rejected[0].key
    if missing == "drop":
        del scores[key]
    else:
        scores[key] = missing
    groups = groups + extra
    assert group_credit(extra[0], scores) is None
    df = group_credits(groups, scores)
    assert list(df["scored"]) == [True, True, False]
    acc = summarize(list(df["credit"]))
    assert (acc.n, acc.accuracy, acc.unscored) == (2, 0.5, 1)
    assert summarize([None, None]).n == 0
    assert math.isnan(summarize([None]).accuracy)


# ----------------------------------------------------------------------------- bootstrap


def test_summarize_ci_matches_scipy_bootstrap():
    credits = [1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0.5, 1]
    for method in ("percentile", "BCa"):
        acc = summarize(credits, n_resamples=999, seed=7, method=method)
        ref = stats.bootstrap(
            (np.array(credits, float),),
            np.mean,
            n_resamples=999,
            method=method,
            rng=np.random.default_rng(7),
        )
        assert acc.accuracy == pytest.approx(np.mean(credits))
        assert acc.ci_low == pytest.approx(ref.confidence_interval.low)
        assert acc.ci_high == pytest.approx(ref.confidence_interval.high)
        assert acc.ci_low < acc.accuracy < acc.ci_high
    # deterministic for a fixed seed; degenerate cases are explicit
    assert summarize(credits) == summarize(credits)
    assert summarize([1, 1, 1]).ci_low == summarize([1, 1, 1]).ci_high == 1.0
    assert math.isnan(summarize([1]).ci_low)


def test_subset_and_section_tables():
    groups, scores = scored(
        [("a1", "alpacaeval-easy", [1], [0]), ("a2", "alpacaeval-easy", [1], [0])]
        + [("m1", "mt-bench-easy", [0], [1]), ("m2", "mt-bench-easy", [1], [0])]
        + [("x", "mt-bench-easy", [None], [0])]
    )
    df = group_credits(groups, scores)
    table = accuracy_table(df).set_index("subset")
    assert table.loc["alpacaeval-easy", "accuracy"] == 1.0
    assert table.loc["mt-bench-easy", ["n", "accuracy", "unscored"]].tolist() == [2, 0.5, 1]
    # RewardBench v1 Chat: prompt-weighted by EXAMPLE_COUNTS (100 and 28)
    sections = section_table(df, n_resamples=500).set_index("section")
    expected = (1.0 * 100 + 0.5 * 28) / 128
    assert sections.loc["Chat", "accuracy"] == pytest.approx(expected)
    assert sections.loc["Chat", "unscored"] == 1
    assert math.isnan(sections.loc["Safety", "accuracy"])
    subsets = ["alpacaeval-easy", "mt-bench-easy"]
    pooled = weighted_accuracy(df, subsets, "pooled")
    macro = weighted_accuracy(df, subsets, "macro", n_resamples=500)
    assert pooled.accuracy == pytest.approx(3 / 4)
    assert macro.accuracy == pytest.approx(0.75)
    counts = {"alpacaeval-easy": 1, "mt-bench-easy": 3}
    w = weighted_accuracy(df, subsets, "counts", counts=counts, n_resamples=500)
    assert w.accuracy == pytest.approx((1.0 * 1 + 0.5 * 3) / 4)
    assert REWARDBENCH_V1_EXAMPLE_COUNTS["math-prm"] == 984
    with pytest.raises(ValueError, match="needs a count"):
        weighted_accuracy(df, subsets, "counts", counts={})


def test_stratified_ci_matches_multisample_scipy_bootstrap():
    rng = np.random.default_rng(1)
    rows = [(f"a{i}", "A", [float(rng.integers(2))], [0.5]) for i in range(30)]
    rows += [(f"b{i}", "B", [float(rng.integers(2))], [0.5]) for i in range(10)]
    groups, scores = scored(rows)
    df = group_credits(groups, scores)
    got = weighted_accuracy(df, ["A", "B"], "macro", n_resamples=999, seed=3)
    a = df.loc[df.subset == "A", "credit"].to_numpy()
    b = df.loc[df.subset == "B", "credit"].to_numpy()
    ref = stats.bootstrap(
        (a, b),
        lambda x, y, axis=-1: 0.5 * x.mean(axis=axis) + 0.5 * y.mean(axis=axis),
        n_resamples=999,
        method="percentile",
        rng=np.random.default_rng(3),
    )
    assert got.accuracy == pytest.approx((a.mean() + b.mean()) / 2)
    assert got.ci_low == pytest.approx(ref.confidence_interval.low)
    assert got.ci_high == pytest.approx(ref.confidence_interval.high)


# ----------------------------------------------------------------------------- RewardBench 2


def ties_fixture():
    # prompt 1: ref 1 correct (0.9) vs incorrect max 0.5 -> accurate, gap 0.4
    #           tied correct 0.8, 0.6 (spread 0.2) vs incorrect max 0.3 -> accurate, gap 0.3
    # prompt 2: ref correct 0.5 vs incorrect 0.7 -> wrong, gap -0.2
    #           tied correct 0.9, 0.5 (spread 0.4) vs incorrect 0.4 -> accurate, gap 0.1
    return scored(
        [
            ("ref:1", "Ties", [0.9], [0.5, 0.1]),
            ("tied:1", "Ties", [0.8, 0.6], [0.3, 0.2]),
            ("ref:2", "Ties", [0.5], [0.7]),
            ("tied:2", "Ties", [0.9, 0.5], [0.4]),
        ]
    )


def test_rb2_ties_score_by_hand():
    groups, scores = ties_fixture()
    t = rb2_ties_score(groups, scores)
    assert (t.ref_accuracy, t.tied_accuracy) == (0.5, 1.0)
    # correctness_preferred: gap_tied > spread: p1 0.3 > 0.2 yes, p2 0.1 > 0.4 no
    assert t.correctness_preferred == 0.5
    # hard: min(gap_ref, gap_tied) > spread: p1 min(.4,.3)=.3 > .2 yes; p2 -.2 > .4 no
    assert t.correctness_preferred_hard == 0.5
    margin = (np.tanh(0.3 / 0.2 - 1) + np.tanh(-0.2 / 0.4 - 1)) / 2
    assert t.margin_score == pytest.approx(margin)
    expected = 0.3 * 1.0 + 0.3 * 0.5 + 0.2 * 0.5 + 0.2 * 0.5 + 0.01 * margin
    assert t.score == pytest.approx(expected)
    assert (t.n_ref, t.n_tied, t.n_paired, t.unscored) == (2, 2, 2, 0)


def test_rb2_ties_zero_spread_and_unscored():
    # equal correct scores: 0.2/0 = inf -> tanh 1 (upstream divides by zero the same way)
    groups, scores = scored(
        [("ref:1", "Ties", [0.9], [0.5]), ("tied:1", "Ties", [0.7, 0.7], [0.5])]
    )
    t = rb2_ties_score(groups, scores)
    assert t.margin_score == 1.0 and t.correctness_preferred == 1.0
    groups, scores = ties_fixture()
    scores[groups[3].chosen[0].key] = None  # tied:2 unscored: prompt 2 leaves entirely
    t = rb2_ties_score(groups, scores)
    assert (t.n_ref, t.n_tied, t.unscored) == (1, 1, 2)
    assert t.ref_accuracy == 1.0
    bad, bad_scores = scored([("x:1", "Ties", [1.0], [0.0])])
    with pytest.raises(ValueError, match="ref:<n>"):
        rb2_ties_score(bad, bad_scores)


def test_rb2_table_overall_is_unweighted_subset_mean():
    groups, scores = ties_fixture()
    more, more_scores = scored(
        [("f1", "Factuality", [1.0], [0.5, 0.2, 0.1]), ("f2", "Factuality", [0.5], [0.5, 0.1, 0])]
        + [(f"m{i}", "Math", [1.0], [0.0, 0.0, 0.0]) for i in range(3)]
    )
    table = rb2_table(groups + more, {**scores, **more_scores}, n_resamples=200).set_index("subset")
    ties = rb2_ties_score(groups, scores).score
    # f2 ties one rejected at the top: 1/2 credit under the official code's 1/k rule
    assert table.loc["Factuality", "accuracy"] == 0.75
    assert table.loc["Math", "accuracy"] == 1.0
    assert table.loc["Ties", "accuracy"] == pytest.approx(ties)
    assert table.loc["overall", "accuracy"] == pytest.approx((0.75 + 1.0 + ties) / 3)
    assert table.loc["overall", "n"] == 2 + 3 + 4
    strict = rb2_table(
        groups + more, {**scores, **more_scores}, tie_policy="strict", n_resamples=200
    ).set_index("subset")
    assert strict.loc["Factuality", "accuracy"] == 0.5
    assert strict.loc["overall", "accuracy"] == pytest.approx((0.5 + 1.0 + ties) / 3)


# ----------------------------------------------------------------------------- RM-Bench


def rm_fixture():
    # chosen [concise, detailed, markdown] vs rejected in the same order
    return scored(
        [
            # group 1: M = [[1,0,0],[1,1,0],[1,1,1]] -> easy 1, normal 1, hard 0
            ("c1", "chat", [2, 4, 6], [1, 3, 5]),
            # group 2: all chosen above all rejected -> 1, 1, 1
            ("c2", "chat", [5, 6, 7], [1, 2, 3]),
            # safety-refuse and safety-response pool into "safety"; M = [[1,0,0],[1,0,0],[1,1,0]]
            ("s1", "safety-refuse", [2, 3, 5], [1, 3, 6]),
            ("s2", "safety-response", [0, 0, 0], [1, 1, 1]),  # all wrong
        ]
    )


def test_rmbench_matrix_triangles():
    groups, scores = rm_fixture()
    m = rmbench_matrix(groups[0], scores)
    assert m.tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    scores[groups[0].rejected[2].key] = None
    assert rmbench_matrix(groups[0], scores) is None
    bad, bad_scores = scored([("b", "chat", [1], [0])])
    with pytest.raises(ValueError, match="3 chosen and 3 rejected"):
        rmbench_matrix(bad[0], bad_scores)


def test_rmbench_table_domains_and_total():
    groups, scores = rm_fixture()
    t = rmbench_table(groups, scores, n_resamples=200).set_index("domain")
    # chat: easy (1+1)/2, normal (1+1)/2, hard (0+1)/2
    assert t.loc["chat", ["easy", "normal", "hard"]].tolist() == [1.0, 1.0, 0.5]
    assert t.loc["chat", "accuracy"] == pytest.approx(2.5 / 3)
    # safety: s1 easy 3/3, normal 1/3, hard 0; s2 all 0
    assert t.loc["safety", ["easy", "normal", "hard"]].tolist() == pytest.approx([0.5, 1 / 6, 0])
    assert t.loc["safety", "n"] == 2
    assert t.loc["total", "easy"] == pytest.approx((1.0 + 0.5) / 2)
    assert t.loc["total", "hard"] == pytest.approx((0.5 + 0) / 2)
    assert t.loc["total", "accuracy"] == pytest.approx((2.5 / 3 + (0.5 + 1 / 6) / 3) / 2)
    scores[groups[3].chosen[0].key] = math.nan
    t = rmbench_table(groups, scores, n_resamples=200).set_index("domain")
    assert (t.loc["safety", "n"], t.loc["safety", "unscored"], t.loc["total", "unscored"]) == (
        1,
        1,
        1,
    )
    assert t.loc["safety", "normal"] == pytest.approx(1 / 3)


# ----------------------------------------------------------------------------- paired


def test_paired_comparison_matches_statsmodels_and_scipy():
    rng = np.random.default_rng(0)
    ids = [f"g{i}" for i in range(60)]
    a = {i: float(rng.random() < 0.8) for i in ids}
    b = {i: float(rng.random() < 0.6) for i in ids}
    a["g0"] = None  # unscored in one variant
    r = paired_comparison(a, b, n_resamples=999, seed=5)
    keep = [i for i in sorted(ids) if i != "g0"]
    x = np.array([a[i] for i in keep])
    y = np.array([b[i] for i in keep])
    table = [
        [int(np.sum((x == 1) & (y == 1))), int(np.sum((x == 1) & (y == 0)))],
        [int(np.sum((x == 0) & (y == 1))), int(np.sum((x == 0) & (y == 0)))],
    ]
    discordant = table[0][1] + table[1][0]
    ref = mcnemar(table, exact=discordant < 25)
    assert (r.n, r.unscored, r.a_only, r.b_only) == (59, 1, table[0][1], table[1][0])
    assert r.exact == (discordant < 25)
    assert r.p_value == pytest.approx(ref.pvalue)
    assert r.mcnemar_statistic == pytest.approx(ref.statistic)
    boot = stats.bootstrap(
        (x, y),
        lambda u, v, axis=-1: u.mean(axis=axis) - v.mean(axis=axis),
        paired=True,
        n_resamples=999,
        method="percentile",
        rng=np.random.default_rng(5),
    )
    assert r.difference == pytest.approx(x.mean() - y.mean())
    assert r.ci_low == pytest.approx(boot.confidence_interval.low)
    assert r.ci_high == pytest.approx(boot.confidence_interval.high)


def test_paired_exact_chi2_switch_and_fractional():
    # 30 discordant (25 vs 5): chi-square with continuity correction
    a = {f"g{i}": 1.0 if i < 25 else 0.0 for i in range(30)}
    b = {f"g{i}": 0.0 if i < 25 else 1.0 for i in range(30)}
    r = paired_comparison(a, b, n_resamples=200)
    assert not r.exact
    assert r.mcnemar_statistic == pytest.approx((abs(25 - 5) - 1) ** 2 / 30)
    small = paired_comparison({"a": 1.0, "b": 1.0}, {"a": 0.0, "b": 1.0}, n_resamples=200)
    assert small.exact and small.p_value == pytest.approx(1.0)
    half = paired_comparison({"a": 0.5, "b": 1.0}, {"a": 0.0, "b": 1.0}, n_resamples=200)
    assert math.isnan(half.p_value) and half.difference == pytest.approx(0.25)
    with pytest.raises(ValueError, match="same group ids"):
        paired_comparison({"a": 1.0}, {"b": 1.0})


# ----------------------------------------------------------------------------- bias probes


def test_markdown_density():
    text = "# Title\n\n- one\n- two\n1. three\nSome **bold** text\n```py\nx\n```\n"
    # header 1, list items 3, bold 1, fences 2
    assert markdown_markers(text) == 7
    assert markdown_density(text) == pytest.approx(700 / len(text))
    assert markdown_density("") == 0.0
    assert markdown_markers("plain text - not a list, 2*3=6") == 0


def test_length_and_markdown_bias_splits():
    groups, scores = [], {}
    for gid, chosen, rejected, cs, rs in [
        ("l1", "long chosen answer", "short", 1.0, 0.0),  # longer, correct
        ("l2", "long chosen answer", "short", 0.0, 1.0),  # longer, wrong
        ("l3", "long chosen answer", "short", 1.0, 1.0),  # longer, tie (wrong if strict)
        ("s1", "short", "long rejected answer", 1.0, 0.0),  # shorter, correct
        ("s2", "same!", "same?", None, 0.0),  # equal length -> not longer, unscored
    ]:
        g = comparison("t", gid, f"p-{gid}", [chosen], [rejected], "s")
        groups.append(g)
        scores[g.chosen[0].key], scores[g.rejected[0].key] = cs, rs
    t = length_bias(groups, scores, n_resamples=200).set_index("split")
    assert t.loc["chosen_longer", ["n", "unscored"]].tolist() == [3, 0]
    assert t.loc["chosen_longer", "accuracy"] == pytest.approx(1 / 3)
    assert t.loc["chosen_not_longer", ["n", "accuracy", "unscored"]].tolist() == [1, 1.0, 1]
    half = length_bias(groups, scores, "half", n_resamples=200).set_index("split")
    assert half.loc["chosen_longer", "accuracy"] == pytest.approx(1.5 / 3)

    g1 = comparison("t", "m1", "p", ["## A\n- x\n- y"], ["plain words here"], "s")
    g2 = comparison("t", "m2", "p", ["plain words here"], ["**b** - no"], "s")
    md_scores = {g1.chosen[0].key: 1, g1.rejected[0].key: 0}
    md_scores |= {g2.chosen[0].key: 0, g2.rejected[0].key: 1}
    md = markdown_bias([g1, g2], md_scores, n_resamples=200).set_index("split")
    assert md.loc["chosen_denser", ["n", "accuracy"]].tolist() == [1, 1.0]
    assert md.loc["chosen_not_denser", ["n", "accuracy"]].tolist() == [1, 0.0]


def test_position_consistency_judgebench_rule():
    verdicts = {
        "a": ("chosen", "chosen"),  # consistent, correct
        "b": ("chosen", "rejected"),  # inconsistent, net 0 -> not correct
        "c": ("chosen", "tie"),  # inconsistent, net +1 -> correct (JudgeBench)
        "d": ("rejected", "rejected"),  # consistent, wrong
        "e": ("chosen", None),  # missing
    }
    r = position_consistency(verdicts, n_resamples=200)
    assert (r.n, r.unscored) == (4, 1)
    assert r.consistency == pytest.approx(2 / 4)
    assert r.accuracy == pytest.approx(2 / 4)
    assert r.consistent_accuracy == pytest.approx(1 / 4)
    abstain = position_consistency(verdicts, missing="abstain", n_resamples=200)
    assert (abstain.n, abstain.unscored) == (5, 0)
    assert abstain.accuracy == pytest.approx(3 / 5)  # "e" nets +1
    assert abstain.consistency == pytest.approx(2 / 5)
    with pytest.raises(ValueError, match="unknown verdict"):
        position_consistency({"x": ("A>B", "chosen")})  # type: ignore[dict-item]
