"""pandas frames over Inspect logs of the reward scorers: per component, criterion and checker.

``inspect_ai.analysis.samples_df`` gives a reward scorer's value as one JSON string (NaN inside)
and leaves the per-criterion record nested in the score metadata. These frames read that record
(``Score.metadata["reward_result"]``, a ``RewardResult``) through ``samples_df`` and lay it out
one row per item, with the same keys as ``samples_df`` / ``evals_df`` (``eval_id``,
``sample_id``, ``id``, ``epoch``) so they join with Inspect's own frames.

Every (sample, epoch) of every log is read (scores before epoch reduction), and every reward
scorer in a log: a log re-scored with ``inspect score --action append`` has a second scorer
(``hybrid_reward1``), told apart by the ``scorer`` column.

``unscored_df`` lists the (sample, epoch, scorer) judgments of any task of this project that have
no score, with the reason: exactly those its ``*unscored`` metrics count.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator, Sequence
from os import PathLike
from typing import TYPE_CHECKING, Any, TypeAlias

from inspect_ai.analysis import EvalColumn, SampleColumn, samples_df
from inspect_ai.log import EvalLog, EvalSample

from harness.reward import COMPONENTS
from harness.scoring import METADATA_KEY, RewardResult

if TYPE_CHECKING:
    import pandas as pd

Logs: TypeAlias = str | PathLike[str] | EvalLog | Sequence[str | PathLike[str] | EvalLog]
"""Log files, log directories or EvalLogs, as ``samples_df`` takes them (not mixed)."""

KEYS = ["eval_id", "log", "task", "model", "sample_id", "id", "epoch", "scorer"]
"""The first columns of every frame: which log, sample, epoch and scorer a row comes from."""
SPEC_KEYS = ["prompt_id", "spec_version"]

COMPONENT_COLUMNS = [
    *KEYS,
    *SPEC_KEYS,
    "component",
    "status",
    "value",
    "weight",
    "reason",
    "judge",
    "protocol",
    "attempts",
    "calls",
    "input_tokens",
    "output_tokens",
    "cached",
]
CRITERION_COLUMNS = [
    *KEYS,
    *SPEC_KEYS,
    "criterion",
    "text",
    "weight",
    "verdict",
    "value",
    "reason",
    "judge",
    "protocol",
]
CHECK_COLUMNS = [
    *KEYS,
    *SPEC_KEYS,
    "checker",
    "constraint",
    "status",
    "error_kind",
    "message",
    "duration_s",
]
UNSCORED_COLUMNS = [*KEYS, "missing", "reason"]

_RESULTS = "reward_results"


def _reward_results(sample: EvalSample) -> str:
    """The reward records of a sample's scorers, as JSON: [[scorer, record], ...]."""
    found = [
        [name, score.metadata[METADATA_KEY]]
        for name, score in (sample.scores or {}).items()
        if isinstance(score.metadata, dict) and METADATA_KEY in score.metadata
    ]
    return json.dumps(found)


# skipped when reading samples: the scores are all these frames need (40x faster on a log
# whose samples made 40 judge calls each)
_NOT_NEEDED = {"messages", "events", "store"}
_COLUMNS = [
    EvalColumn("task", path="eval.task", required=True),
    EvalColumn("model", path="eval.model", required=True),
    SampleColumn("id", path="id", required=True, type=str),
    SampleColumn("epoch", path="epoch", required=True),
    SampleColumn(_RESULTS, path=_reward_results, full=True),
]


def reward_results(
    logs: Logs, parallel: bool | int = False
) -> Iterator[tuple[dict[str, Any], RewardResult]]:
    """Every reward record in ``logs`` (paths, directories or EvalLogs, as ``samples_df``
    takes): the row keys (``KEYS``) and the ``RewardResult``, per (sample, epoch, scorer)."""
    with warnings.catch_warnings():
        # Inspect's own pandas deprecation noise (drop_duplicates(inplace=...)): not the user's
        warnings.filterwarnings("ignore", message="The inplace keyword", category=Warning)
        frame = samples_df(
            logs, columns=_COLUMNS, parallel=parallel, quiet=True, exclude_fields=_NOT_NEEDED
        )
    for row in frame.to_dict("records"):
        for scorer, record in json.loads(row[_RESULTS] or "[]"):
            keys = {k: row[k] for k in KEYS if k != "scorer"} | {"scorer": scorer}
            try:
                result = RewardResult.model_validate(record)
            except ValueError as ex:
                raise ValueError(
                    f"{row['log']}: sample {row['id']} epoch {row['epoch']}, scorer {scorer}: "
                    f"not a reward record: {ex}"
                ) from None
            yield keys, result


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


def components_df(logs: Logs, parallel: bool | int = False) -> pd.DataFrame:
    """One row per (sample, epoch, scorer, component), components ``reward``, ``rubric``,
    ``global``, ``code``: ``status`` (scored / unscored / absent), ``value`` (NaN unless
    scored), ``weight`` in the hybrid reward, ``reason`` (why unscored or absent; for the
    reward, why it is unscored or partial), the ``judge`` model and ``protocol``, and judge
    ``attempts``, ``calls``, ``input_tokens``, ``output_tokens`` and ``cached`` (the judgment
    came from the judgment cache). The ``reward`` row totals the components' judge usage."""
    rows = []
    for keys, result in reward_results(logs, parallel):
        keys = keys | {"prompt_id": result.prompt_id, "spec_version": result.spec_version}
        parts = [result.component(name) for name in COMPONENTS]
        total = result.usage
        rows.append(
            keys
            | {
                "component": "reward",
                "status": "unscored" if result.reward is None else "scored",
                "value": _number(result.reward),
                "weight": math.nan,
                "reason": result.reward_reason,
                "attempts": sum(c.attempts for c in parts),
                "calls": total.calls,
                "input_tokens": total.input_tokens,
                "output_tokens": total.output_tokens,
            }
        )
        for name, c in zip(COMPONENTS, parts, strict=True):
            rows.append(
                keys
                | {
                    "component": name,
                    "status": c.status,
                    "value": _number(c.value),
                    "weight": float(result.weights.get(name, 0.0)),
                    "reason": c.reason,
                    "judge": c.judge,
                    "protocol": c.protocol,
                    "attempts": c.attempts,
                    "calls": c.usage.calls,
                    "input_tokens": c.usage.input_tokens,
                    "output_tokens": c.usage.output_tokens,
                    "cached": c.usage.cached,
                }
            )
    return _frame(rows, COMPONENT_COLUMNS)


def criteria_df(logs: Logs, parallel: bool | int = False) -> pd.DataFrame:
    """One row per (sample, epoch, scorer, rubric criterion): ``criterion`` id, ``text``,
    ``weight`` (negative: a pitfall), the judge's ``verdict``, its ``value`` in [0, 1] and
    ``reason``, the rubric ``judge`` and ``protocol``, with the ``prompt_id`` and
    ``spec_version`` judged. A rubric that could not be scored has no criterion rows: its row
    in ``components_df`` says why."""
    rows = []
    for keys, result in reward_results(logs, parallel):
        r = result.rubric
        for c in r.criteria:
            rows.append(
                keys
                | {"prompt_id": result.prompt_id, "spec_version": result.spec_version}
                | {
                    "criterion": c.id,
                    "text": c.text,
                    "weight": c.weight,
                    "verdict": c.verdict,
                    "value": c.value,
                    "reason": c.reason,
                    "judge": r.judge,
                    "protocol": r.protocol,
                }
            )
    return _frame(rows, CRITERION_COLUMNS)


def checks_df(logs: Logs, parallel: bool | int = False) -> pd.DataFrame:
    """One row per (sample, epoch, scorer, checker): ``checker`` id, ``constraint``,
    ``status`` (pass / fail / error), ``error_kind`` and ``message`` of an error, and
    ``duration_s``. A code component that could not run has no checker rows: its row in
    ``components_df`` says why."""
    rows = []
    for keys, result in reward_results(logs, parallel):
        for ch in result.code.checks:
            rows.append(
                keys
                | {"prompt_id": result.prompt_id, "spec_version": result.spec_version}
                | {
                    "checker": ch.id,
                    "constraint": ch.constraint,
                    "status": ch.status,
                    "error_kind": ch.error_kind,
                    "message": ch.message,
                    "duration_s": _number(ch.duration_s),
                }
            )
    return _frame(rows, CHECK_COLUMNS)


# -- unscored judgments, of any scorer -------------------------------------------------------

_UNSCORED_KEYS = "unscored_keys"
_SCORES = "score_summary"
_REWARD_UNSCORED = "reward_unscored"


def _unscored_keys(log: EvalLog) -> str:
    """JSON {scorer: [value keys]}: the ``Score.value`` keys whose absence each scorer's unscored
    counts count, read from the log's own metrics: ``official_unscored(key=...)`` (official
    numbers of benchmark tasks) and ``reward_unscored`` (the hybrid reward)."""
    keys: dict[str, list[str]] = {}
    for score in log.results.scores if log.results else []:
        found = keys.setdefault(score.name, [])
        for name, m in score.metrics.items():
            key = (m.params or {}).get("key")
            if name == _REWARD_UNSCORED:
                key = "reward"
            if isinstance(key, str) and key not in found and name.endswith("unscored"):
                found.append(key)
    return json.dumps(keys)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


def _why(score: Any) -> str:
    """Why a score has no value: the checker errors, the reward record's reason, a judgment's
    reason, else the first line of the explanation."""
    metadata = score.metadata if isinstance(score.metadata, dict) else {}
    errors = metadata.get("errors")
    if isinstance(errors, list) and errors:
        return "; ".join(str(e) for e in errors)
    if METADATA_KEY in metadata:
        try:
            result = RewardResult.model_validate(metadata[METADATA_KEY])
        except ValueError:
            result = None
        if result is not None:
            parts = [result.reward_reason] if result.reward is None and result.reward_reason else []
            parts += [f"{name}: {reason}" for name, reason in result.unscored.items()]
            if parts:
                return "; ".join(parts)
    for record in metadata.values():
        if isinstance(record, dict) and record.get("status") == "unscored" and record.get("reason"):
            return str(record["reason"])
    lines = (score.explanation or "").strip().splitlines()
    return lines[0] if lines else "no value"


def _score_summary(sample: EvalSample) -> str:
    """JSON: the sample's error, and per scorer its value keys holding a number and the reason
    it would be unscored."""
    scores = {}
    for name, score in (sample.scores or {}).items():
        value = score.value
        if isinstance(value, dict):
            keys, numeric = list(value), [k for k, v in value.items() if _is_number(v)]
        else:
            keys, numeric = ["value"], ["value"] if _is_number(value) else []
        reason = _why(score) if len(numeric) < len(keys) else ""
        scores[name] = {"keys": keys, "numeric": numeric, "reason": reason}
    error = sample.error.message.strip().splitlines()[0] if sample.error else None
    return json.dumps({"error": error, "scores": scores})


_UNSCORED_COLUMNS = [
    EvalColumn("task", path="eval.task", required=True),
    EvalColumn("model", path="eval.model", required=True),
    EvalColumn(_UNSCORED_KEYS, path=_unscored_keys),
    SampleColumn("id", path="id", required=True, type=str),
    SampleColumn("epoch", path="epoch", required=True),
    SampleColumn(_SCORES, path=_score_summary, full=True),
]


def unscored_df(logs: Logs, parallel: bool | int = False) -> pd.DataFrame:
    """One row per (sample, epoch, scorer) judgment without a score, in a log of any task of
    this project: exactly what the task's unscored metrics count (``unscored``,
    ``reward_unscored``, ``healthbench_unscored``, …), plus samples that ended in an error and
    so have no score at all. ``missing``: the ``Score.value`` keys without a number (an
    official accuracy, ``reward``; ``value`` for a plain number; ``*`` for a sample with no
    score); ``reason``: why (the checker errors, the judge's failure, the sample's error).

    A scorer whose log names no unscored metric counts as unscored when none of its value
    keys holds a number. An empty frame: every judgment was scored."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The inplace keyword", category=Warning)
        frame = samples_df(
            logs,
            columns=_UNSCORED_COLUMNS,
            parallel=parallel,
            quiet=True,
            exclude_fields=_NOT_NEEDED,
        )
    rows = []
    for row in frame.to_dict("records"):
        expected = json.loads(row[_UNSCORED_KEYS] or "{}")
        summary = json.loads(row[_SCORES] or "{}")
        base = {k: row[k] for k in KEYS if k != "scorer"}
        scores = summary.get("scores", {})
        for scorer in [*expected, *(s for s in scores if s not in expected)]:
            got = scores.get(scorer)
            if got is None:
                reason = summary.get("error") or "the sample has no score"
                rows.append(base | {"scorer": scorer, "missing": "*", "reason": reason})
                continue
            keys = expected.get(scorer) or got["keys"]
            missing = [k for k in keys if k not in got["numeric"]]
            if expected.get(scorer) or len(missing) == len(keys):
                if missing:
                    rows.append(
                        base
                        | {"scorer": scorer, "missing": ", ".join(missing), "reason": got["reason"]}
                    )
        if not expected and not scores:  # an errored sample of a log with no scores at all
            reason = summary.get("error") or "the sample has no score"
            rows.append(base | {"scorer": None, "missing": "*", "reason": reason})
    return _frame(rows, UNSCORED_COLUMNS)
