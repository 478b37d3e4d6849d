"""Per-sample values of checkpoints' eval logs, ready to pair.

One row per (checkpoint, log, benchmark, sample, epoch, metric): the benchmark's per-sample
official value (``OFFICIAL``: what its official metric averages) and the hybrid reward, with the
response's length and markdown density (for drift flags). Values come from ``Score.value`` of
each epoch (before Inspect's reduction), so two checkpoints pair on (benchmark, sample, epoch).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log

from harness.data import DataError
from harness.ranking.metrics import markdown_density

Kind = Literal["binary", "continuous", "preference"]


@dataclass(frozen=True)
class PerSample:
    scorer: str
    key: str
    kind: Kind
    """binary: 0/1 (McNemar); continuous (Wilcoxon, paired t); preference: AlpacaEval's 1-2
    preference (win rate = 100 · mean(preference − 1))."""


OFFICIAL: dict[str, PerSample] = {
    "ifeval": PerSample("instruction_following", "prompt_strict", "binary"),
    "ifbench": PerSample("instruction_following", "prompt_loose", "binary"),
    "alpaca_eval": PerSample("alpaca_eval_pairwise", "preference", "preference"),
    "arena_hard": PerSample("arena_hard_judge", "battle_mean", "continuous"),
    "writingbench": PerSample("hybrid_reward", "writingbench_score", "continuous"),
    "healthbench": PerSample("hybrid_reward", "healthbench_score", "continuous"),
    "creative_writing": PerSample("hybrid_reward", "item_score", "continuous"),
}
"""Each benchmark's per-sample official value: the scorer and ``Score.value`` key its official
metric averages (IFEval and IFBench: the headline prompt-level accuracy)."""
REWARD = PerSample("hybrid_reward", "reward", "continuous")
COMPONENTS = {
    name: PerSample("hybrid_reward", name, "continuous") for name in ("rubric", "global", "code")
}
"""The hybrid reward's components, compared like the reward (their disagreement is a flag)."""
COLUMNS = [
    "checkpoint", "log", "benchmark", "sample_id", "epoch", "metric", "kind", "value",
    "length", "markdown",
]  # fmt: skip


def benchmark_of(task: str) -> str:
    """``harness/ifeval`` and ``ifeval`` are the benchmark ``ifeval``."""
    return task.rsplit("/", 1)[-1]


def log_paths(logs: Iterable[str | Path]) -> list[str]:
    """Log files from files and directories (Inspect's own listing)."""
    out = []
    for item in logs:
        path = Path(item)
        if path.is_dir():
            out += [info.name for info in list_eval_logs(str(path))]
        elif path.exists():
            out.append(str(path))
        else:
            raise DataError(f"{item}: no such log file or directory")
    return out


def _number(value: Any, key: str) -> float:
    raw = value.get(key) if isinstance(value, dict) else None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return math.nan
    return float(raw)


def rows_of(log: EvalLog, checkpoint: str) -> list[dict[str, Any]]:
    benchmark = benchmark_of(log.eval.task)
    wanted = [("official", OFFICIAL[benchmark])] if benchmark in OFFICIAL else []
    wanted += [("reward", REWARD), *COMPONENTS.items()]
    rows = []
    for sample in log.samples or []:
        text = sample.output.completion if sample.output else ""
        for metric, per in wanted:
            score = (sample.scores or {}).get(per.scorer)
            if score is None and metric != "official":
                continue  # no hybrid reward in this log
            rows.append(
                {
                    "checkpoint": checkpoint,
                    "log": log.location,
                    "benchmark": benchmark,
                    "sample_id": str(sample.id),
                    "epoch": sample.epoch,
                    "metric": metric,
                    "kind": per.kind,
                    "value": math.nan if score is None else _number(score.value, per.key),
                    "length": len(text),
                    "markdown": markdown_density(text),
                }
            )
    return rows


def samples_df(logs: Iterable[str | Path], names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Every sample value of the logs (``COLUMNS``). A log's checkpoint is ``names[log path]``,
    else its model name; NaN marks an unscored (sample, epoch)."""
    rows: list[dict[str, Any]] = []
    for path in log_paths(logs):
        log = read_eval_log(path)
        if log.status != "success":
            raise DataError(f"{path}: the eval did not finish ({log.status}); re-run it first")
        checkpoint = (names or {}).get(path) or log.eval.model
        rows += rows_of(log, checkpoint)
    return pd.DataFrame(rows, columns=COLUMNS)


ITEM_COLUMNS = ["checkpoint", "benchmark", "sample_id", "epoch", "item", "kind", "value"]


def items_df(logs: Iterable[str | Path], names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per judged item of each sample and epoch (``ITEM_COLUMNS``): IFEval/IFBench
    instructions by type (``kind`` "instruction", value 1 if followed, strict) and rubric
    criteria of the hybrid reward (``kind`` "criterion" or "pitfall" for negative weights,
    value 0-1)."""
    rows: list[dict[str, Any]] = []
    for path in log_paths(logs):
        log = read_eval_log(path)
        checkpoint = (names or {}).get(path) or log.eval.model
        benchmark = benchmark_of(log.eval.task)
        for sample in log.samples or []:
            key = (checkpoint, benchmark, str(sample.id), sample.epoch)
            official = (sample.scores or {}).get("instruction_following")
            meta = official.metadata if official is not None else None
            if meta and "instructions" in meta and "strict" in meta:
                for name, followed in zip(meta["instructions"], meta["strict"], strict=True):
                    rows.append(
                        dict(
                            zip(
                                ITEM_COLUMNS,
                                (*key, name, "instruction", float(followed)),
                                strict=True,
                            )
                        )
                    )
            reward = (sample.scores or {}).get("hybrid_reward")
            result = (reward.metadata or {}).get("reward_result") if reward is not None else None
            for c in ((result or {}).get("rubric") or {}).get("criteria") or []:
                kind = "pitfall" if c.get("weight", 0) < 0 else "criterion"
                value = c.get("value")
                if isinstance(value, int | float):
                    rows.append(
                        dict(
                            zip(
                                ITEM_COLUMNS,
                                (*key, c.get("text") or c.get("id"), kind, float(value)),
                                strict=True,
                            )
                        )
                    )
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)


def item_deltas(items: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per benchmark, item kind and item (instruction type, criterion): each checkpoint's mean
    and its change from the baseline, largest regressions first."""
    if items.empty:
        return pd.DataFrame(
            columns=[
                "benchmark",
                "kind",
                "item",
                "checkpoint",
                "n",
                "mean",
                "baseline_mean",
                "change",
            ]
        )
    means = (
        items.groupby(["benchmark", "kind", "item", "checkpoint"])
        .value.agg(["count", "mean"])
        .reset_index()
    )
    base = means[means.checkpoint == baseline].set_index(["benchmark", "kind", "item"])["mean"]
    others = means[means.checkpoint != baseline].copy()
    others["baseline_mean"] = [
        base.get((b, k, i), math.nan)
        for b, k, i in zip(others.benchmark, others.kind, others.item, strict=True)
    ]
    others["change"] = others["mean"] - others["baseline_mean"]
    return others.rename(columns={"count": "n"}).sort_values("change").reset_index(drop=True)
