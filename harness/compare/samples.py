"""Per-sample values of checkpoints' eval logs, ready to pair.

``read_logs`` reads every log once and gives three tables:

- ``samples``: one row per (checkpoint, log, benchmark, sample, epoch, metric): the benchmark's
  per-sample official value (``OFFICIAL``: what its official metric averages) and the hybrid
  reward with its components, with the response's length and markdown density (drift flags);
- ``items``: per IFEval/IFBench instruction type and per rubric criterion;
- ``agreement``: per criterion a checker verifies and the judge also graded (``audit_covered``),
  the checker's verdict next to the judge's.

Values come from ``Score.value`` of each epoch (before Inspect's reduction), so two checkpoints
pair on (benchmark, sample, epoch).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from inspect_ai.log import EvalLog, EvalSample, list_eval_logs, read_eval_log

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
    points: float = 1.0
    """Factor putting the value on the benchmark's 0-100 headline scale (preferences are
    converted by ``stats.win_rate_change``)."""


OFFICIAL: dict[str, PerSample] = {
    "ifeval": PerSample("instruction_following", "prompt_strict", "binary", 100),
    "ifbench": PerSample("instruction_following", "prompt_loose", "binary", 100),
    "alpaca_eval": PerSample("alpaca_eval_pairwise", "preference", "preference"),
    "arena_hard": PerSample("arena_hard_judge", "battle_mean", "continuous", 100),
    "writingbench": PerSample("hybrid_reward", "writingbench_score", "continuous", 10),
    "healthbench": PerSample("hybrid_reward", "healthbench_score", "continuous", 100),
    "creative_writing": PerSample("hybrid_reward", "item_score", "continuous", 5),
}
"""Each benchmark's per-sample official value: the scorer and ``Score.value`` key its official
metric averages (IFEval and IFBench: the headline prompt-level accuracy), in points (0-100):
accuracies and Arena-Hard battle scores × 100, WritingBench's 1-10 × 10, Creative Writing's
0-20 item score × 5 (its published 0-100 scale), AlpacaEval's win rate."""
METHOD_BENCHMARKS = ("ifeval", "ifbench", "arena_hard", "creative_writing", "writingbench")
"""The method's five-benchmark average (IFEval, IFBench, Arena-Hard v2.0, Creative Writing v3,
WritingBench): the mean of their official values in points."""
REWARD = PerSample("hybrid_reward", "reward", "continuous")
COMPONENTS = {
    name: PerSample("hybrid_reward", name, "continuous") for name in ("rubric", "global", "code")
}
"""The hybrid reward's components, compared like the reward (their disagreement is a flag)."""
COLUMNS = [
    "checkpoint", "log", "benchmark", "sample_id", "epoch", "metric", "kind", "value",
    "length", "markdown",
]  # fmt: skip
ITEM_COLUMNS = ["checkpoint", "benchmark", "sample_id", "epoch", "item", "kind", "value"]
AGREEMENT_COLUMNS = [
    "checkpoint", "benchmark", "sample_id", "epoch", "criterion", "checker", "checker_pass",
    "judge",
]  # fmt: skip


def points_of(benchmark: str) -> float:
    """The factor to 0-100 points of a benchmark's official value (1 when it has none)."""
    official = OFFICIAL.get(benchmark.split("@", 1)[0])
    return official.points if official is not None else 1.0


def benchmark_of(log: EvalLog) -> str:
    """``harness/ifeval`` is the benchmark ``ifeval``; an Arena-Hard version other than v2.0
    (the method's) is ``arena_hard@v0.1``, so it never enters the five-benchmark average."""
    name = log.eval.task.rsplit("/", 1)[-1]
    if name == "arena_hard":
        version = (log.eval.task_args or {}).get("version", "v2.0")
        if version != "v2.0":
            name = f"{name}@{version}"
    return name


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
    """The ``samples`` rows of one log."""
    benchmark = benchmark_of(log)
    official = OFFICIAL.get(benchmark.split("@", 1)[0])
    wanted = [("official", official)] if official is not None else []
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


def _reward_result(sample: EvalSample) -> dict[str, Any]:
    reward = (sample.scores or {}).get("hybrid_reward")
    return ((reward.metadata or {}).get("reward_result") if reward is not None else None) or {}


def item_rows_of(log: EvalLog, checkpoint: str) -> list[dict[str, Any]]:
    """The ``items`` rows of one log: IFEval/IFBench instructions by type (``kind``
    "instruction", value 1 if followed, strict) and the rubric criteria the score counts
    (``kind`` "criterion", or "pitfall" for negative weights; value 0-1)."""
    benchmark = benchmark_of(log)
    rows = []
    for sample in log.samples or []:
        key = (checkpoint, benchmark, str(sample.id), sample.epoch)
        official = (sample.scores or {}).get("instruction_following")
        meta = official.metadata if official is not None else None
        if meta and "instructions" in meta and "strict" in meta:
            for name, followed in zip(meta["instructions"], meta["strict"], strict=True):
                rows.append((*key, name, "instruction", float(followed)))
        for c in (_reward_result(sample).get("rubric") or {}).get("criteria") or []:
            value = c.get("value")
            if c.get("covered_by") or not isinstance(value, int | float):
                continue  # audit-only judgments are in the agreement table
            kind = "pitfall" if c.get("weight", 0) < 0 else "criterion"
            rows.append((*key, c.get("text") or c.get("id"), kind, float(value)))
    return [dict(zip(ITEM_COLUMNS, row, strict=True)) for row in rows]


def agreement_rows_of(log: EvalLog, checkpoint: str) -> list[dict[str, Any]]:
    """The ``agreement`` rows of one log: each criterion a checker verifies and the judge
    graded too (``audit_covered``), with the checker's verdict (1 pass, 0 fail, NaN error) and
    the judge's value (0-1)."""
    benchmark = benchmark_of(log)
    rows = []
    for sample in log.samples or []:
        result = _reward_result(sample)
        checks = {
            c.get("id"): c.get("status") for c in (result.get("code") or {}).get("checks") or []
        }
        for c in (result.get("rubric") or {}).get("criteria") or []:
            checker, value = c.get("covered_by"), c.get("value")
            if not checker or not isinstance(value, int | float):
                continue
            status = checks.get(checker)
            passed = 1.0 if status == "pass" else 0.0 if status == "fail" else math.nan
            rows.append(
                dict(
                    zip(
                        AGREEMENT_COLUMNS,
                        (checkpoint, benchmark, str(sample.id), sample.epoch,
                         c.get("text") or c.get("id"), checker, passed, float(value)),
                        strict=True,
                    )
                )
            )  # fmt: skip
    return rows


@dataclass(frozen=True)
class LogTables:
    samples: pd.DataFrame
    """``COLUMNS``: official value, reward and components per (sample, epoch)."""
    items: pd.DataFrame
    """``ITEM_COLUMNS``: instruction types and rubric criteria per (sample, epoch)."""
    agreement: pd.DataFrame
    """``AGREEMENT_COLUMNS``: checker and judge verdicts on the criteria checkers verify."""


def read_logs(
    logs: Iterable[str | Path],
    names: Mapping[str, str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> LogTables:
    """Every log read once (files, or directories of logs). A log's checkpoint is
    ``names[log path]``, else its model name; NaN marks an unscored (sample, epoch).
    ``progress(done, total, path)`` is called before each log and once at the end."""
    paths = log_paths(logs)
    samples: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    agreement: list[dict[str, Any]] = []
    for i, path in enumerate(paths):
        if progress is not None:
            progress(i, len(paths), path)
        log = read_eval_log(path)
        if log.status != "success":
            raise DataError(f"{path}: the eval did not finish ({log.status}); re-run it first")
        checkpoint = (names or {}).get(path) or log.eval.model
        samples += rows_of(log, checkpoint)
        items += item_rows_of(log, checkpoint)
        agreement += agreement_rows_of(log, checkpoint)
    if progress is not None:
        progress(len(paths), len(paths), "")
    return LogTables(
        pd.DataFrame(samples, columns=COLUMNS),
        pd.DataFrame(items, columns=ITEM_COLUMNS),
        pd.DataFrame(agreement, columns=AGREEMENT_COLUMNS),
    )


def samples_df(logs: Iterable[str | Path], names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The ``samples`` table of the logs (see :func:`read_logs`)."""
    return read_logs(logs, names).samples


def items_df(logs: Iterable[str | Path], names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The ``items`` table of the logs (see :func:`read_logs`)."""
    return read_logs(logs, names).items


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
