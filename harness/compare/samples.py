"""Per-sample values of checkpoints' eval logs, ready to pair.

``read_logs`` reads every log once, through ``inspect_ai.analysis.samples_df``, and gives three
tables:

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

import json
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from inspect_ai.analysis import EvalColumn, SampleColumn
from inspect_ai.analysis import samples_df as inspect_samples_df
from inspect_ai.log import EvalSample, list_eval_logs

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


def benchmark_of(task: str, version: str | None = None) -> str:
    """``harness/ifeval`` is the benchmark ``ifeval``; an Arena-Hard version other than v2.0
    (the method's) is ``arena_hard@v0.1``, so it never enters the five-benchmark average."""
    name = task.rsplit("/", 1)[-1]
    if name == "arena_hard" and version not in (None, "v2.0"):
        name = f"{name}@{version}"
    return name


def log_paths(logs: Iterable[str | Path]) -> list[str]:
    """Log files from files and directories (Inspect's own listing)."""
    out = []
    for item in logs:
        path = Path(item)
        if path.is_dir():
            out += [_local(info.name) for info in list_eval_logs(str(path))]
        elif path.exists():
            out.append(str(path))
        else:
            raise DataError(f"{item}: no such log file or directory")
    return out


def _local(location: str) -> str:
    """A local log's path (Inspect lists them as file:// URIs); other URIs as they are."""
    return location.removeprefix("file://")


def _same_file(location: str) -> str:
    return str(Path(_local(location)).resolve())


def _number(value: Any, key: str) -> float:
    raw = value.get(key) if isinstance(value, dict) else None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return math.nan
    return float(raw)


_SCORERS = {per.scorer for per in (*OFFICIAL.values(), REWARD)}
_RECORD = "compare_record"


def _record(sample: EvalSample) -> str:
    """What the comparison needs of one (sample, epoch), as JSON (a ``samples_df`` column)."""
    text = sample.output.completion if sample.output else ""
    scores = sample.scores or {}
    record: dict[str, Any] = {
        "length": len(text),
        "markdown": markdown_density(text),
        "values": {name: scores[name].value for name in _SCORERS if name in scores},
    }
    meta = scores["instruction_following"].metadata if "instruction_following" in scores else None
    if meta and "instructions" in meta and "strict" in meta:
        record["instructions"] = list(zip(meta["instructions"], meta["strict"], strict=True))
    reward = scores.get("hybrid_reward")
    result = ((reward.metadata or {}).get("reward_result") if reward is not None else None) or {}
    record["criteria"] = [
        {k: c.get(k) for k in ("id", "text", "weight", "value", "covered_by", "category")}
        for c in (result.get("rubric") or {}).get("criteria") or []
    ]
    record["checks"] = [
        {k: c.get(k) for k in ("id", "constraint", "status")}
        for c in (result.get("code") or {}).get("checks") or []
    ]
    return json.dumps(record, allow_nan=True)


_COLUMNS = [
    EvalColumn("task", path="eval.task", required=True),
    EvalColumn("model", path="eval.model", required=True),
    EvalColumn("status", path="status", required=True),
    EvalColumn("version", path="eval.task_args.version"),
    SampleColumn("id", path="id", required=True, type=str),
    SampleColumn("epoch", path="epoch", required=True),
    SampleColumn(_RECORD, path=_record, full=True),
]
# not needed (the scores and the output are): reading without them is much faster on logs
# whose samples made many judge calls
_NOT_NEEDED = {"messages", "events", "store"}


def sample_rows(
    key: tuple[str, str, str, str, int], kind_of: str, record: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``samples``, ``items`` and ``agreement`` rows of one (sample, epoch): ``key`` is
    (checkpoint, log, benchmark, sample id, epoch)."""
    checkpoint, log, benchmark, sample_id, epoch = key
    official = OFFICIAL.get(kind_of)
    values = record["values"]
    wanted = [("official", official)] if official is not None else []
    wanted += [("reward", REWARD), *COMPONENTS.items()]
    samples = [
        {
            "checkpoint": checkpoint, "log": log, "benchmark": benchmark,
            "sample_id": sample_id, "epoch": epoch, "metric": metric, "kind": per.kind,
            "value": _number(values.get(per.scorer), per.key),
            "length": record["length"], "markdown": record["markdown"],
        }
        for metric, per in wanted
        # a log without a hybrid reward has no reward rows; a missing official score is NaN
        if metric == "official" or per.scorer in values
    ]  # fmt: skip
    item_key = (checkpoint, benchmark, sample_id, epoch)
    items = [
        (*item_key, name, "instruction", float(ok)) for name, ok in record.get("instructions", [])
    ]
    checks = {c["id"]: c["status"] for c in record["checks"]}
    if "instructions" not in record:  # IFEval/IFBench: their instructions are the checkers
        items += [
            (
                *item_key,
                c["constraint"] or c["id"],
                "checker",
                1.0 if c["status"] == "pass" else 0.0,
            )
            for c in record["checks"]
            if c["status"] in ("pass", "fail")  # an error is no verdict
        ]
    agreement = []
    for c in record["criteria"]:
        value = c.get("value")
        if not isinstance(value, int | float):
            continue
        name = c.get("text") or c.get("id")
        if c.get("covered_by"):  # judged for audit only: next to its checker's verdict
            status = checks.get(c["covered_by"])
            passed = 1.0 if status == "pass" else 0.0 if status == "fail" else math.nan
            agreement.append(
                dict(
                    zip(
                        AGREEMENT_COLUMNS,
                        (*item_key, name, c["covered_by"], passed, float(value)),
                        strict=True,
                    )
                )
            )
        else:
            kind = "pitfall" if (c.get("weight") or 0) < 0 else c.get("category") or "criterion"
            items.append((*item_key, name, kind, float(value)))
    return samples, [dict(zip(ITEM_COLUMNS, row, strict=True)) for row in items], agreement


@dataclass(frozen=True)
class LogTables:
    samples: pd.DataFrame
    """``COLUMNS``: official value, reward and components per (sample, epoch)."""
    items: pd.DataFrame
    """``ITEM_COLUMNS`` per (sample, epoch): IFEval/IFBench instruction types (``kind``
    "instruction", value 1 if followed, strict); rubric criteria (``kind`` their spec category,
    e.g. "explicit" / "implicit", "criterion" when they have none, "pitfall" for negative
    weights; value 0-1); other checkers by constraint (``kind`` "checker", 1 pass, 0 fail)."""
    agreement: pd.DataFrame
    """``AGREEMENT_COLUMNS``: per criterion a checker verifies and the judge graded too
    (``audit_covered``), the checker's verdict (1 pass, 0 fail, NaN error) and the judge's."""


def read_logs(
    logs: Iterable[str | Path],
    names: Mapping[str, str] | None = None,
    *,
    progress: bool = False,
) -> LogTables:
    """Every log read once, through ``inspect_ai.analysis.samples_df`` (files, or directories
    of logs; ``progress``: Inspect's progress bar). A log's checkpoint is ``names[log path]``,
    else its model name; NaN marks an unscored (sample, epoch)."""
    paths = log_paths(logs)
    named = {_same_file(path): name for path, name in (names or {}).items()}
    with warnings.catch_warnings():
        # Inspect's own pandas deprecation noise (drop_duplicates(inplace=...)): not the user's
        warnings.filterwarnings("ignore", message="The inplace keyword", category=Warning)
        frame = (
            inspect_samples_df(
                paths, columns=_COLUMNS, quiet=not progress, exclude_fields=_NOT_NEEDED
            )
            if paths
            else pd.DataFrame()
        )
    samples: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    agreement: list[dict[str, Any]] = []
    for row in frame.to_dict("records"):
        if row["status"] != "success":
            raise DataError(
                f"{row['log']}: the eval did not finish ({row['status']}); re-run it first"
            )
        benchmark = benchmark_of(row["task"], row["version"])
        checkpoint = named.get(_same_file(row["log"])) or row["model"]
        key = (checkpoint, row["log"], benchmark, str(row["id"]), int(row["epoch"]))
        rows = sample_rows(key, benchmark.split("@", 1)[0], json.loads(row[_RECORD]))
        samples += rows[0]
        items += rows[1]
        agreement += rows[2]
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


def kind_deltas(items: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per benchmark and item kind (instructions, checkers, rubric categories, pitfalls): each
    checkpoint's mean over all its items of that kind and the change from the baseline."""
    columns = ["benchmark", "kind", "checkpoint", "n", "mean", "baseline_mean", "change"]
    if items.empty:
        return pd.DataFrame(columns=columns)
    means = (
        items.groupby(["benchmark", "kind", "checkpoint"])
        .value.agg(["count", "mean"])
        .reset_index()
    )
    base = means[means.checkpoint == baseline].set_index(["benchmark", "kind"])["mean"]
    means["baseline_mean"] = [
        base.get((b, k), math.nan) for b, k in zip(means.benchmark, means.kind, strict=True)
    ]
    means["change"] = means["mean"] - means["baseline_mean"]
    return means.rename(columns={"count": "n"})[columns].reset_index(drop=True)


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
