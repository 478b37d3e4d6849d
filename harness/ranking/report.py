"""Ranking tables (pandas) and the report ``harness rank`` writes: markdown, CSV and PNG.

``ranking_report(groups, variants)`` turns each variant's pointwise scores into:

- ``accuracy``: per variant and subset, then the dataset's official overall (RM-Bench: the
  3×3 matrix per domain and its total; RewardBench 2: best-of-N per subset, the Ties score and
  the plain mean; pairwise datasets: pooled over pairs, as JudgeBench and LLMBar count), each
  with a bootstrap interval where it is a mean over groups;
- ``ablation``: the overall per variant;
- ``significance``: the reference variant (the hybrid) against every other on the same groups
  (McNemar on per-group correctness, paired bootstrap of the accuracy difference);
- ``bias``: accuracy split by whether the chosen response is the longer one and whether it has
  more markdown (pairwise datasets; RM-Bench measures style in its matrix instead).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.ranking import metrics
from harness.ranking.groups import Comparison
from harness.ranking.pairwise import PairwiseResult
from harness.ranking.plots import grouped_bars
from harness.tables import write_tables

RMBENCH, REWARDBENCH2 = "rm-bench", "rewardbench2"
PAIRWISE = "pairwise judge"
OFFICIAL_TIES: dict[str, metrics.TiePolicy] = {REWARDBENCH2: "1/k"}
"""Each dataset's official tie rule where it is not strict (RewardBench 2's code gives 1/k:
metrics.rb2_table); strict (a tie is wrong, RewardBench v1) elsewhere."""


@dataclass
class RankingReport:
    dataset: str
    tie_policy: str
    accuracy: pd.DataFrame
    """variant, subset (``overall`` last), n, accuracy, ci_low, ci_high, unscored; RM-Bench
    adds easy, normal, hard (its subsets are domains, its overall ``total``)."""
    ablation: pd.DataFrame
    """variant, n, accuracy, ci_low, ci_high, unscored: the overall of each variant."""
    significance: pd.DataFrame
    """reference, variant, n, accuracy_reference, accuracy_variant, difference, ci_low,
    ci_high, reference_only, variant_only, p_value (McNemar; NaN for non-0/1 credits), exact."""
    bias: pd.DataFrame
    """variant, probe (length / markdown), split, n, accuracy, ci_low, ci_high, unscored."""
    position: pd.DataFrame
    """The pairwise judge baseline, if one ran: n, consistency (both orders agree), accuracy
    (JudgeBench's net vote), consistent_accuracy, ci_low, ci_high, unscored."""


def _kind(groups: Sequence[Comparison]) -> str:
    datasets = {g.dataset for g in groups}
    if len(datasets) != 1:
        raise ValueError(f"one dataset per report, got {sorted(datasets)}")
    return datasets.pop()


def credits(
    groups: Sequence[Comparison], scores: metrics.Scores, tie_policy: metrics.TiePolicy
) -> dict[str, float | None]:
    """Per-group correctness used for paired tests: the pair's credit, best-of-N's credit, or
    RM-Bench's share of the 9 chosen-over-rejected comparisons a group gets right."""
    if _kind(groups) == RMBENCH:
        out: dict[str, float | None] = {}
        for g in groups:
            m = metrics.rmbench_matrix(g, scores)
            out[g.id] = None if m is None else float(m.mean())
        return out
    frame = metrics.group_credits(groups, scores, tie_policy)
    return {i: None if math.isnan(c) else c for i, c in zip(frame.id, frame.credit, strict=True)}


def _accuracy(
    groups: Sequence[Comparison],
    scores: metrics.Scores,
    tie_policy: metrics.TiePolicy,
    bootstrap: Mapping[str, object],
) -> pd.DataFrame:
    kind = _kind(groups)
    if kind == RMBENCH:
        table = metrics.rmbench_table(groups, scores, **bootstrap)  # type: ignore[arg-type]
        table = table.rename(columns={"domain": "subset"})
        table["subset"] = table["subset"].replace({"total": "overall"})
        return table
    if kind == REWARDBENCH2:
        return metrics.rb2_table(groups, scores, tie_policy=tie_policy, **bootstrap)  # type: ignore[arg-type]
    results = metrics.group_credits(groups, scores, tie_policy)
    table = metrics.accuracy_table(results, "subset", **bootstrap)  # type: ignore[arg-type]
    pooled = metrics.weighted_accuracy(
        results,
        sorted(results.subset.unique()),
        "pooled",
        **bootstrap,  # type: ignore[arg-type]
    )
    return pd.concat(
        [table, pd.DataFrame([{"subset": "overall", **pooled.row()}])], ignore_index=True
    )


def ranking_report(
    groups: Sequence[Comparison],
    variants: Mapping[str, metrics.Scores],
    *,
    tie_policy: metrics.TiePolicy | None = None,
    reference: str = "hybrid",
    n_resamples: int = 2000,
    seed: int = 0,
    pairwise: PairwiseResult | None = None,
) -> RankingReport:
    """Every table of the report, for each variant's scores (response key -> score).

    ``reference``: the variant the others are tested against (the first variant if absent);
    ``tie_policy``: None for the dataset's official rule (``OFFICIAL_TIES``). ``pairwise``: a
    pairwise judge's verdicts on the same groups (``harness.ranking.pairwise.judge_pairs``): one
    more ablation row (``pairwise judge``), tested against the reference like the others, and
    its position consistency.
    """
    if not variants:
        raise ValueError("no variant to rank")
    bootstrap = {"n_resamples": n_resamples, "seed": seed}
    kind = _kind(groups)
    tie_policy = tie_policy or OFFICIAL_TIES.get(kind, "strict")
    accuracy = []
    for name, scores in variants.items():
        table = _accuracy(groups, scores, tie_policy, bootstrap)
        table.insert(0, "variant", name)
        accuracy.append(table)
    accuracy_frame = pd.concat(accuracy, ignore_index=True)
    overall = accuracy_frame[accuracy_frame.subset == "overall"]
    ablation = overall[["variant", "n", "accuracy", "ci_low", "ci_high", "unscored"]].reset_index(
        drop=True
    )
    ref = reference if reference in variants else next(iter(variants))
    ref_credits = credits(groups, variants[ref], tie_policy)
    others = {
        name: credits(groups, scores, tie_policy)
        for name, scores in variants.items()
        if name != ref
    }
    position = pd.DataFrame(columns=list(metrics.PositionConsistency.__dataclass_fields__))
    if pairwise is not None:
        judged: dict[str, float | None] = {g.id: None for g in groups}
        judged.update(pairwise.credits)
        others[PAIRWISE] = judged
        acc = metrics.summarize(
            [math.nan if c is None else float(c) for c in judged.values()], **bootstrap
        )  # type: ignore[arg-type]
        row = pd.DataFrame([{"variant": PAIRWISE, **acc.row()}])
        ablation = pd.concat([ablation, row], ignore_index=True)
        position = pd.DataFrame([vars(pairwise.summary)])
    rows = []
    for name, other in others.items():
        p = metrics.paired_comparison(ref_credits, other, **bootstrap)  # type: ignore[arg-type]
        rows.append(
            {
                "reference": ref,
                "variant": name,
                "n": p.n,
                "accuracy_reference": p.accuracy_a,
                "accuracy_variant": p.accuracy_b,
                "difference": p.difference,
                "ci_low": p.ci_low,
                "ci_high": p.ci_high,
                "reference_only": p.a_only,
                "variant_only": p.b_only,
                "p_value": p.p_value,
                "exact": p.exact,
            }
        )
    significance = pd.DataFrame(
        rows,
        columns=[
            "reference", "variant", "n", "accuracy_reference", "accuracy_variant", "difference",
            "ci_low", "ci_high", "reference_only", "variant_only", "p_value", "exact",
        ],
    )  # fmt: skip
    bias = []
    pairwise = [g for g in groups if len(g.chosen) == 1]
    if kind != RMBENCH and pairwise:
        for name, scores in variants.items():
            for probe, fn in (("length", metrics.length_bias), ("markdown", metrics.markdown_bias)):
                table = fn(pairwise, scores, tie_policy, **bootstrap)
                table.insert(0, "probe", probe)
                table.insert(0, "variant", name)
                bias.append(table)
    bias_frame = (
        pd.concat(bias, ignore_index=True)
        if bias
        else pd.DataFrame(columns=["variant", "probe", "split", *metrics.COLUMNS])
    )
    return RankingReport(
        kind, tie_policy, accuracy_frame, ablation, significance, bias_frame, position
    )


def write_report(
    report: RankingReport,
    out: str | Path,
    *,
    title: str,
    command: str,
    extra: Sequence[tuple[str, pd.DataFrame]] = (),
) -> list[Path]:
    """``report.md`` (every table, the command that made it), one CSV per table, and the plots
    (accuracy per subset with intervals, ablation bars, length bias). Returns the files."""
    out = Path(out)
    tables = [
        ("accuracy", report.accuracy),
        ("ablation", report.ablation),
        ("significance", report.significance),
        ("bias", report.bias),
        ("position", report.position),
        *extra,
    ]
    files = []
    subsets = report.accuracy[report.accuracy.subset != "overall"]
    files.append(
        grouped_bars(subsets, "subset", "variant", out / "accuracy.png", f"{title}: accuracy")
    )
    files.append(
        grouped_bars(
            report.ablation.assign(all="overall"),
            "variant",
            "all",
            out / "ablation.png",
            f"{title}: ablation",
        )
    )
    length = report.bias[report.bias.probe == "length"]
    if not length.empty:
        files.append(
            grouped_bars(length, "split", "variant", out / "length_bias.png", f"{title}: length")
        )
    note = (
        f"Dataset `{report.dataset}`; ties: `{report.tie_policy}` (see harness/ranking/metrics.py);"
        " intervals: 95% bootstrap over groups."
    )
    return write_tables(
        out, "report.md", title=title, command=command, note=note, tables=tables, plots=files
    )
