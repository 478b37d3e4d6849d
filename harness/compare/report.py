"""The comparison tables (pandas) and the report ``harness compare`` writes.

``comparison(samples, baseline)`` pairs every other checkpoint with the baseline on the same
(benchmark, sample, epoch) and gives:

- ``deltas``: per benchmark, metric (official / reward) and candidate: both means, the paired
  difference with its bootstrap interval, the paired test suited to the metric, win / tie /
  loss counts, and the p-value adjusted across benchmarks (Holm);
- ``noise``: where a checkpoint has two runs (two epochs, or two logs of the same model), the
  spread of their differences: a delta inside it is not a change;
- ``drift``: mean response length and markdown density per checkpoint next to its reward change
  (reward hacking shows as reward up with length or markdown up and the official metric flat);
- ``regressions``: the largest per-sample drops, with the log file and sample id to open in
  ``inspect view``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.compare import stats
from harness.ranking.plots import grouped_bars, scatter
from harness.tables import write_tables

PAIR_KEYS = ["benchmark", "sample_id", "epoch"]


@dataclass
class Comparison:
    baseline: str
    deltas: pd.DataFrame
    noise: pd.DataFrame
    drift: pd.DataFrame
    regressions: pd.DataFrame


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


def comparison(samples: pd.DataFrame, baseline: str, *, n_resamples: int = 2000) -> Comparison:
    """Every table, for each checkpoint against ``baseline`` (see the module docstring)."""
    checkpoints = list(dict.fromkeys(samples.checkpoint))
    if baseline not in checkpoints:
        raise ValueError(f"no checkpoint {baseline!r} in the logs; have {checkpoints}")
    rows, worst = [], []
    for candidate in checkpoints:
        if candidate == baseline:
            continue
        for metric in ("official", "reward", "rubric", "global", "code"):
            pairs = _paired(samples, baseline, candidate, metric)
            for benchmark, part in pairs.groupby("benchmark", sort=True):
                kind = part.kind.iloc[0]
                scored = part.value_baseline.notna() & part.value_candidate.notna()
                if not scored.any():  # e.g. no judge for the reward: nothing to pair, said so
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
                rows.append(
                    {
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
                    }
                )
                drop = (part.value_candidate - part.value_baseline).rename("change")
                worst.append(
                    part.assign(change=drop, candidate=candidate, metric=metric)
                    .dropna(subset=["change"])
                    .nsmallest(5, "change")
                )
    deltas = pd.DataFrame(rows)
    if not deltas.empty:
        deltas["p_adjusted"] = math.nan
        for _, part in deltas.groupby(["metric", "candidate"]):
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
        baseline, deltas, noise_table(samples), drift_table(samples, baseline), regressions
    )


def noise_table(samples: pd.DataFrame) -> pd.DataFrame:
    """The noise floor of each checkpoint, benchmark and metric that was run twice: its first
    two epochs (``source`` "epochs"), or its first two logs (``source`` "runs", e.g. a repeated
    eval set), paired on the same samples."""
    rows = []
    for (checkpoint, benchmark, metric), part in samples.groupby(
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
    """Per checkpoint and benchmark: mean response length, markdown density, official value,
    reward and its rubric and global components, each with its change from the baseline, and
    two reward-hacking flags: the rubric and global judges move in opposite directions, or the
    reward rises with the length while the official metric does not."""
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
    samples: pd.DataFrame | None = None,
) -> list[Path]:
    """``comparison.md`` (every table and the command), one CSV per table, the delta plot and,
    with ``items`` (``samples.item_deltas``), the per-instruction / per-criterion delta chart."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = [
        ("deltas", result.deltas),
        ("noise", result.noise),
        ("drift", result.drift),
        ("regressions", result.regressions),
    ]
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
    note = (
        "Paired on (benchmark, sample, epoch); intervals: 95% paired bootstrap over samples;"
        " p-values adjusted across benchmarks (Holm). AlpacaEval in win-rate points."
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
