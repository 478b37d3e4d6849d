"""Unscored samples are listed with their reasons, counted in the metrics, and left out of the
accuracies' denominators — never silently dropped (issue 10 §3).

Checkers run on the host runner (``checker_runtime="local"``): no Docker needed. A checker
timeout is forced by CPU time, not wall clock: IFEval's ``length_constraints:number_words``
tokenizes a 2 MB response with NLTK (seconds of CPU) under a 0.25 s CPU budget, while the
other responses' checkers use a few milliseconds.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
from conftest import ScriptedJudge, metrics_of
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.log import EvalLog, read_eval_log
from inspect_ai.solver import generate

from harness.analysis import UNSCORED_COLUMNS, unscored_df
from harness.benchmarks import instruction_following as inf
from harness.checkers import UnavailableRuntime
from harness.cli import main
from harness.scorers import spec_metadata

WORDY = 1000  # IFEval sample with length_constraints:number_words (NLTK word counting)
PASSES = 1001  # punctuation:no_comma: a short reply without commas follows it
FAILS = 1005  # detectable_content:number_placeholders: a short reply does not follow it
BIG = "word " * 400_000
SHORT = "a short reply"
GOOD = "*one* *two* *three* " + "word " * 300  # follows all of WORDY's instructions
TIGHT = {"checker_timeout_s": 0.25, "retry_factor": 0}


def records(ids: list[int]) -> list[dict]:
    by_key = {r["key"]: r for r in inf.load_records("ifeval")}
    return [by_key[i] for i in ids]


def policy(responses: dict[str, list[str]]) -> ScriptedJudge:
    """The (i+1)-th ask of a prompt gets ``responses[prompt][i]`` (one per epoch)."""
    asked: Counter[str] = Counter()

    def script(prompt: str, n: int) -> str:
        key = prompt.strip()
        asked[key] += 1
        return responses[key][asked[key] - 1]

    return ScriptedJudge(script)


def run(task: Task, judge: ScriptedJudge, ids: list[int], epochs: int, tmp_path: Path) -> EvalLog:
    [log] = eval(
        task,
        model=judge.model(),
        sample_id=ids,
        epochs=epochs,
        log_dir=str(tmp_path),
        display="none",
        fail_on_error=False,
    )
    return read_eval_log(log.location)


def listed(frame, scorer: str) -> set[tuple[str, int]]:
    rows = frame[frame.scorer == scorer]
    return {(str(i), int(e)) for i, e in zip(rows.id, rows.epoch, strict=True)}


def test_timed_out_samples_are_listed_counted_and_left_out_of_the_accuracy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.tasks.ifeval import ifeval

    ids = [WORDY, PASSES, FAILS]
    prompts = {r["key"]: r["prompt"].strip() for r in records(ids)}
    judge = policy(
        {prompts[WORDY]: [BIG, GOOD], prompts[PASSES]: [SHORT] * 2, prompts[FAILS]: [SHORT] * 2}
    )
    log = run(ifeval(checker_runtime="local", checker_limits=TIGHT), judge, ids, 2, tmp_path)
    assert log.status == "success", log.error
    # the one (sample, epoch) that got the big response is the one unscored judgment
    [timed_out] = [(str(s.id), s.epoch) for s in log.samples if s.output.completion == BIG]
    assert timed_out[0] == str(WORDY)

    frame = unscored_df(log.location)
    assert list(frame.columns) == UNSCORED_COLUMNS
    assert listed(frame, "instruction_following") == {timed_out}
    assert listed(frame, "hybrid_reward") == {timed_out}  # its code score has no verdict either
    assert set(frame.scorer) == {"instruction_following", "hybrid_reward"}
    row = frame[frame.scorer == "instruction_following"].iloc[0]
    assert row.missing == "prompt_strict"
    assert "length_constraints:number_words" in row.reason and "timeout" in row.reason
    assert "CPU time" in row.reason
    reward_row = frame[frame.scorer == "hybrid_reward"].iloc[0]
    assert reward_row.missing == "reward" and "timeout" in reward_row.reason

    # the timed-out instruction reads as an error in the explanation, never as a verdict
    sample = next(s for s in log.samples if (str(s.id), s.epoch) == timed_out)
    score = sample.scores["instruction_following"]
    assert all(math.isnan(v) for v in score.value.values())
    assert "| length_constraints:number_words | **error** | **error** |" in score.explanation

    metrics = metrics_of(log)
    assert metrics["instruction_following/unscored"] == 1  # per (sample, epoch)
    assert metrics["hybrid_reward/reward_unscored"] == 1
    # each sample counts with the mean of its scored epochs: WORDY with its GOOD epoch alone (1),
    # PASSES (1) and FAILS (0); the unscored epoch is in no denominator (counted as a failure it
    # would give WORDY 0.5 and an accuracy of 0.5)
    assert metrics["instruction_following/samples_scored"] == 3
    verdicts = {
        (str(s.id), s.epoch): s.scores["instruction_following"].value["prompt_strict"]
        for s in log.samples
    }
    good = 3 - timed_out[1]  # the other epoch of WORDY
    assert verdicts[(str(WORDY), good)] == 1.0
    assert [verdicts[(str(PASSES), e)] for e in (1, 2)] == [1.0, 1.0]
    assert [verdicts[(str(FAILS), e)] for e in (1, 2)] == [0.0, 0.0]
    assert metrics["instruction_following/prompt_strict"] == pytest.approx(2 / 3)
    assert metrics["instruction_following/inst_strict"] == pytest.approx((3 + 1 + 0) / (3 + 1 + 1))

    assert main(["unscored", log.location]) == 0
    out = capsys.readouterr().out
    assert "instruction_following 1, hybrid_reward 1" in out
    lines = [line for line in out.splitlines() if line.startswith("  sample ")]
    assert len(lines) == 2
    for line in lines:
        assert line.startswith(f"  sample {WORDY}  epoch {timed_out[1]}  ")
        assert "timeout" in line


def test_a_clean_run_lists_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.tasks.ifeval import ifeval

    ids = [WORDY, PASSES]
    prompts = [r["prompt"].strip() for r in records(ids)]
    log = run(
        ifeval(checker_runtime="local"),
        policy(dict.fromkeys(prompts, [SHORT] * 2)),
        ids,
        2,
        tmp_path,
    )
    assert log.status == "success", log.error
    frame = unscored_df(log)  # an EvalLog works as well as a path
    assert frame.empty and list(frame.columns) == UNSCORED_COLUMNS
    metrics = metrics_of(log)
    assert metrics["instruction_following/unscored"] == 0
    assert metrics["instruction_following/samples_scored"] == 2
    assert main(["unscored", str(tmp_path)]) == 0  # a log directory
    assert capsys.readouterr().out.startswith("no unscored judgments")


def test_runtime_failures_and_sample_errors_are_listed_per_epoch(tmp_path: Path) -> None:
    """A runtime that fails leaves every (sample, epoch) unscored with its reason; a sample whose
    generation failed has no score at all and is listed too."""
    ids = [PASSES, FAILS, WORDY]
    recs = records(ids)
    task = Task(
        dataset=[
            Sample(
                id=r["key"], input=r["prompt"], metadata=spec_metadata(inf.native_spec(r, "ifeval"))
            )
            for r in recs
        ],
        solver=generate(),
        scorer=inf.instruction_following(checker_runtime=UnavailableRuntime("no engine here")),
    )
    broken = recs[2]["prompt"].strip()

    def script(prompt: str, n: int) -> str:
        if prompt.strip() == broken:
            raise RuntimeError("the policy model failed")
        return SHORT

    log = run(task, ScriptedJudge(script), ids, 2, tmp_path)
    frame = unscored_df(log.location)
    expected = {(str(i), e) for i in ids for e in (1, 2)}
    assert listed(frame, "instruction_following") == expected
    by_sample = frame.groupby("id")
    for i in (PASSES, FAILS):
        rows = by_sample.get_group(str(i))
        assert set(rows.missing) == {"prompt_strict"}
        assert all("checker runtime failed: no engine here" in r for r in rows.reason)
    errored = by_sample.get_group(str(WORDY))
    assert set(errored.missing) == {"*"}
    assert all("the policy model failed" in r for r in errored.reason)
    metrics = metrics_of(log)
    assert metrics["instruction_following/unscored"] == 4  # 2 scored-but-unscored samples x 2
    assert metrics["instruction_following/samples_scored"] == 0
    assert math.isnan(metrics["instruction_following/prompt_strict"])


def test_unscored_of_a_missing_log_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["unscored", "no/such/log.eval"]) == 1
    assert capsys.readouterr().err.strip() == (
        "error: no/such/log.eval: no such log file or directory"
    )
