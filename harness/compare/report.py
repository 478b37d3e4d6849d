"""The comparison tables (pandas) and the report ``harness compare`` writes.

``comparison(samples, baseline)`` pairs every other checkpoint with the baseline on the same
(benchmark, sample, epoch) and gives:

- ``scores``: each checkpoint's official metric (in points, 0-100) and hybrid reward per
  benchmark, and the method's five-benchmark average, with bootstrap intervals;
- ``deltas``: per benchmark, metric (official / reward / its components) and candidate: both
  means, the paired difference with its bootstrap interval, the paired test suited to the
  metric, win / tie / loss counts, and the p-value adjusted across benchmarks (Holm); plus the
  change of the five-benchmark average (stratified bootstrap, sign-flip test);
- ``noise``: where a checkpoint has two runs (two epochs, or two logs of the same model), the
  spread of their differences: a delta inside it is not a change;
- ``drift``: mean response length and markdown density per checkpoint next to its reward change
  (reward hacking shows as reward up with length or markdown up and the official metric flat);
- ``regressions``: the largest per-sample drops, with the log file and sample id to open in
  ``inspect view``;
- ``agreement``: where the judge also graded the criteria checkers verify (``audit_covered``),
  how often the two disagree, per checkpoint, with a flag when the checker passes more
  responses that the judge says miss the criterion (a policy gaming the checker).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.compare import stats
from harness.compare.samples import METHOD_BENCHMARKS, points_of
from harness.ranking.plots import grouped_bars, scatter
from harness.tables import write_tables

PAIR_KEYS = ["benchmark", "sample_id", "epoch"]
METRICS = ("official", "reward", "rubric", "global", "code")
AVERAGE = "average"
"""The benchmark name of the five-benchmark average's rows."""


@dataclass
class Comparison:
    baseline: str
    scores: pd.DataFrame
    deltas: pd.DataFrame
    noise: pd.DataFrame
    drift: pd.DataFrame
    regressions: pd.DataFrame
    agreement: pd.DataFrame
    average_of: tuple[str, ...]
    """The benchmarks of the five-benchmark average (those every checkpoint ran)."""


def _paired(samples: pd.DataFrame, baseline: str, candidate: str, metric: str) -> pd.DataFrame:
    part = samples[samples.metric == metric]
    left = part[part.checkpoint == baseline].set_index(PAIR_KEYS)
    right = part[part.checkpoint == candidate].set_index(PAIR_KEYS)
    joined = left[["value", "log", "kind"]].merge(
        right[["value", "log"]],
        left_index=True,
        right_index=True,
        suffixes=("_baseline", "_candidate"),
    )
    return joined.reset_index()


def _common_method_benchmarks(samples: pd.DataFrame) -> tuple[str, ...]:
    """The method's benchmarks that every checkpoint has official values for (two at least)."""
    official = samples[(samples.metric == "official") & samples.value.notna()]
    have = official.groupby("checkpoint").benchmark.agg(set)
    common = set.intersection(*have) if len(have) else set()
    chosen = tuple(b for b in METHOD_BENCHMARKS if b in common)
    return chosen if len(chosen) >= 2 else ()


def _row(benchmark: str, metric: str, candidate: str, result: stats.PairedDifference) -> dict:
    return {
        "benchmark": benchmark,
        "metric": metric,
        "candidate": candidate,
        "n": result.n,
        "unscored": result.unscored,
        "baseline_mean": result.mean_baseline,
        "candidate_mean": result.mean_candidate,
        "difference": result.difference,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "wins": result.wins,
        "ties": result.ties,
        "losses": result.losses,
        "test": result.test,
        "p_value": result.p_value,
        "secondary_test": result.secondary_test,
        "secondary_p_value": result.secondary_p_value,
    }


def comparison(
    samples: pd.DataFrame,
    baseline: str,
    *,
    agreement: pd.DataFrame | None = None,
    n_resamples: int = 2000,
) -> Comparison:
    """Every table, for each checkpoint against ``baseline`` (see the module docstring), from
    ``samples.read_logs``'s ``samples`` and ``agreement``. Official values are in points
    (0-100, ``samples.OFFICIAL``), rewards 0-1."""
    checkpoints = list(dict.fromkeys(samples.checkpoint))
    if baseline not in checkpoints:
        raise ValueError(f"no checkpoint {baseline!r} in the logs; have {checkpoints}")
    average_of = _common_method_benchmarks(samples)
    rows, worst = [], []
    for candidate in checkpoints:
        if candidate == baseline:
            continue
        for metric in METRICS:
            pairs = _paired(samples, baseline, candidate, metric)
            strata = {}
            for benchmark, part in pairs.groupby("benchmark", sort=True):
                kind = part.kind.iloc[0]
                scored = part.value_baseline.notna() & part.value_candidate.notna()
                if not scored.any():  # e.g. no judge for the reward: nothing to pair, said so
                    if metric not in ("official", "reward"):
                        continue  # its components: the reward's row says it
                    rows.append(
                        {
                            "benchmark": benchmark,
                            "metric": metric,
                            "candidate": candidate,
                            "n": 0,
                            "unscored": len(part),
                            "test": "none: no sample scored on both sides",
                        }
                    )
                    continue
                paired = part[["sample_id", "epoch"]].assign(
                    baseline=part.value_baseline, candidate=part.value_candidate
                )
                if kind == "preference":  # AlpacaEval, in win-rate points
                    result = stats.win_rate_change(paired, n_resamples=n_resamples)
                else:
                    result = stats.paired_difference(
                        paired,
                        kind="binary" if kind == "binary" else "continuous",
                        n_resamples=n_resamples,
                    )
                    if metric == "official":
                        result = stats.scaled(result, points_of(benchmark))
                if metric == "official" and benchmark in average_of:
                    strata[benchmark] = paired
                rows.append(_row(benchmark, metric, candidate, result))
                drop = (part.value_candidate - part.value_baseline).rename("change")
                worst.append(
                    part.assign(change=drop, candidate=candidate, metric=metric)
                    .dropna(subset=["change"])
                    .nsmallest(5, "change")
                )
            if len(strata) == len(average_of) and strata:
                result = stats.average_difference(
                    strata, {b: points_of(b) for b in strata}, n_resamples=n_resamples
                )
                rows.append(_row(AVERAGE, metric, candidate, result))
    deltas = pd.DataFrame(rows)
    if not deltas.empty:
        deltas["p_adjusted"] = math.nan
        # across benchmarks, per metric and candidate (the average combines them: not adjusted)
        for _, part in deltas[deltas.benchmark != AVERAGE].groupby(["metric", "candidate"]):
            ok = part.p_value.notna()
            if ok.any():
                adjusted = stats.adjust(list(part.p_value[ok]))["p_adjusted"].to_numpy()
                deltas.loc[part.index[ok], "p_adjusted"] = adjusted
    regressions = (
        pd.concat(worst, ignore_index=True)[
            ["benchmark", "metric", "candidate", "sample_id", "epoch", "change", "log_candidate"]
        ].sort_values("change")
        if worst
        else pd.DataFrame()
    )
    return Comparison(
        baseline,
        scores_table(samples, average_of, n_resamples=n_resamples),
        deltas,
        noise_table(samples),
        drift_table(samples, baseline),
        regressions,
        agreement_table(agreement, baseline) if agreement is not None else pd.DataFrame(),
        average_of,
    )


def in_points(samples: pd.DataFrame) -> pd.DataFrame:
    """``samples`` with the official values in points (``samples.OFFICIAL``; AlpacaEval's
    preference as its win rate); rewards stay 0-1."""
    official = samples.metric == "official"
    preference = samples.kind == "preference"
    factor = samples.benchmark.map(points_of)
    value = samples.value.where(~official, samples.value * factor)
    value = value.where(~(official & preference), (samples.value - 1) * 100)
    return samples.assign(value=value)


def scores_table(
    samples: pd.DataFrame, average_of: tuple[str, ...] = (), *, n_resamples: int = 2000
) -> pd.DataFrame:
    """Each checkpoint's mean per benchmark and metric with its bootstrap interval (official
    values in points; AlpacaEval's is the win rate), and its average over ``average_of``."""
    rows = []
    values = in_points(samples)
    for (checkpoint, metric, benchmark), part in values.groupby(
        ["checkpoint", "metric", "benchmark"], sort=False
    ):
        if part.value.notna().any():
            result = stats.mean_interval(part, n_resamples=n_resamples)
            rows.append({"checkpoint": checkpoint, "benchmark": benchmark, "metric": metric,
                         **vars(result)})  # fmt: skip
    for checkpoint, part in values[values.metric == "official"].groupby("checkpoint", sort=False):
        if average_of:
            strata = {b: part[part.benchmark == b] for b in average_of}
            result = stats.average_interval(
                strata, dict.fromkeys(average_of, 1.0), n_resamples=n_resamples
            )
            rows.append({"checkpoint": checkpoint, "benchmark": AVERAGE, "metric": "official",
                         **vars(result)})  # fmt: skip
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    order = {m: i for i, m in enumerate(METRICS)}
    return (
        table.sort_values(
            ["metric", "benchmark", "checkpoint"],
            key=lambda c: c.map(order) if c.name == "metric" else c,
        )
        .drop(columns=["confidence"])
        .reset_index(drop=True)
    )


def agreement_table(agreement: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per benchmark and checkpoint, over the criteria both a checker and the judge graded:
    how often they disagree (checker pass with judge "no", checker fail with judge "yes";
    a partial judgment is neither), each rate's change from the baseline, and the flag
    ``checker_gamed``: more checker passes the judge rejects than the baseline had."""
    if agreement.empty:
        return pd.DataFrame()
    judged = agreement[agreement.checker_pass.notna()].assign(
        pass_judge_no=lambda f: (f.checker_pass == 1) & (f.judge == 0),
        fail_judge_yes=lambda f: (f.checker_pass == 0) & (f.judge == 1),
    )
    table = (
        judged.groupby(["benchmark", "checkpoint"], sort=True)
        .agg(
            n=("judge", "size"),
            checker_pass=("checker_pass", "mean"),
            judge=("judge", "mean"),
            pass_judge_no=("pass_judge_no", "mean"),
            fail_judge_yes=("fail_judge_yes", "mean"),
        )
        .reset_index()
    )
    table["disagree"] = table.pass_judge_no + table.fail_judge_yes
    for column in ("pass_judge_no", "disagree"):
        ref = table[table.checkpoint == baseline].set_index("benchmark")[column]
        table[f"{column}_change"] = table[column] - table.benchmark.map(ref)
    table["checker_gamed"] = table.pass_judge_no_change > 0
    return table


def noise_table(samples: pd.DataFrame) -> pd.DataFrame:
    """The noise floor of each checkpoint, benchmark and metric that was run twice: its first
    two epochs (``source`` "epochs"), or its first two logs (``source`` "runs", e.g. a repeated
    eval set), paired on the same samples; official values in points, as the deltas."""
    rows = []
    for (checkpoint, benchmark, metric), part in in_points(samples).groupby(
        ["checkpoint", "benchmark", "metric"], sort=True
    ):
        logs = list(dict.fromkeys(part.log))
        if len(logs) >= 2:
            first, second = (part[part.log == log] for log in logs[:2])
            a = first.set_index(["sample_id", "epoch"]).value
            b = second.set_index(["sample_id", "epoch"]).value
            common = a.index.intersection(b.index)
            source = "runs"
        else:
            epochs = sorted(part.epoch.unique())
            if len(epochs) < 2:
                continue
            a = part[part.epoch == epochs[0]].set_index("sample_id").value
            b = part[part.epoch == epochs[1]].set_index("sample_id").value
            common = a.index.intersection(b.index)
            source = "epochs"
        if a[common].notna().mul(b[common].notna()).sum() == 0:
            continue
        floor = stats.noise_floor(a[common], b[common])
        rows.append(
            {
                "checkpoint": checkpoint,
                "benchmark": benchmark,
                "metric": metric,
                "source": source,
                **vars(floor),
            }
        )
    return pd.DataFrame(rows)


def drift_table(samples: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per checkpoint and benchmark: mean response length, markdown density, official value (in points),
    reward and its rubric and global components, each with its change from the baseline, and
    two reward-hacking flags: the rubric and global judges move in opposite directions, or the
    reward rises with the length while the official metric does not."""
    samples = in_points(samples)
    official = samples[samples.metric == "official"]
    base = official if not official.empty else samples
    table = (
        base.groupby(["benchmark", "checkpoint"], sort=True)[["length", "markdown"]]
        .mean()
        .reset_index()
    )
    keys = list(zip(table.benchmark, table.checkpoint, strict=True))
    for metric in ("official", "reward", "rubric", "global"):
        means = samples[samples.metric == metric].groupby(["benchmark", "checkpoint"]).value.mean()
        table[metric] = [means.get(k, math.nan) for k in keys]
    for column in ("length", "markdown", "official", "reward", "rubric", "global"):
        ref = table[table.checkpoint == baseline].set_index("benchmark")[column]
        table[f"{column}_change"] = table[column] - table.benchmark.map(ref)
    table["rubric_global_disagree"] = table.rubric_change * table.global_change < 0
    table["reward_up_with_length"] = (
        (table.reward_change > 0) & (table.length_change > 0) & ~(table.official_change > 0)
    )
    return table


def write_comparison(
    result: Comparison,
    out: str | Path,
    *,
    command: str,
    items: pd.DataFrame | None = None,
    kinds: pd.DataFrame | None = None,
    samples: pd.DataFrame | None = None,
) -> list[Path]:
    """``comparison.md`` (every table and the command), one CSV per table, the delta plot and,
    with ``items`` (``samples.item_deltas``), the per-instruction / per-criterion delta chart;
    ``kinds`` (``samples.kind_deltas``): the changes per item kind (instruction, checker, rubric
    category, pitfall)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = [
        ("scores", result.scores),
        ("deltas", result.deltas),
        ("noise", result.noise),
        ("drift", result.drift),
        ("agreement", result.agreement),
        ("regressions", result.regressions),
    ]
    if kinds is not None:
        tables.append(("kinds", kinds))
    if items is not None:
        tables.append(("items", items))
    files = []
    official = (
        result.deltas[result.deltas.metric == "official"]
        if not result.deltas.empty
        else result.deltas
    )
    if not official.empty:
        plot = official.rename(columns={"difference": "accuracy"})
        files.append(
            grouped_bars(
                plot,
                "benchmark",
                "candidate",
                out / "deltas.png",
                f"change vs {result.baseline} (official metric)",
                ylabel="difference",
                line=0.0,
                ylim=None,
            )
        )
    if items is not None and not items.empty:
        top = items.reindex(items.change.abs().sort_values(ascending=False).index).head(15)
        chart = top.assign(accuracy=top.change, ci_low=top.change, ci_high=top.change)
        chart = chart.assign(item=chart.item.astype(str).str.slice(0, 40))
        files.append(
            grouped_bars(
                chart, "item", "checkpoint", out / "items.png",
                f"largest per-instruction / per-criterion changes vs {result.baseline}",
                ylabel="change", line=0.0, ylim=None,
            )
        )  # fmt: skip
    rewards = (
        samples[samples.metric == "reward"].dropna(subset=["value"])
        if samples is not None
        else None
    )
    if rewards is not None and not rewards.empty:
        files.append(
            scatter(
                rewards, "length", "value", "checkpoint", out / "reward_vs_length.png",
                "hybrid reward against response length",
            )
        )  # fmt: skip
    average = (
        f" `{AVERAGE}`: the method's five-benchmark average over the {len(result.average_of)}"
        f" of them every checkpoint ran ({', '.join(result.average_of)}), each benchmark"
        " weighing the same; its interval is a stratified bootstrap and its test a stratified"
        " sign-flip permutation test."
        if result.average_of
        else ""
    )
    note = (
        "Official metrics in points (0-100: accuracies and Arena-Hard battle scores × 100,"
        " WritingBench × 10, Creative Writing item scores × 5, AlpacaEval win rate); rewards"
        " 0-1. Paired on (benchmark, sample, epoch); intervals: 95% bootstrap over samples;"
        " p-values adjusted across benchmarks (Holm)." + average
    )
    return write_tables(
        out,
        "comparison.md",
        title=f"Checkpoints compared with {result.baseline}",
        command=command,
        note=note,
        tables=tables,
        plots=files,
    )
