"""End-to-end Inspect evals of each task on real samples, with scripted judges bound to roles."""

from __future__ import annotations

import ast
import json
import math
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from statistics import mean

import pytest
from conftest import (
    ScriptedJudge,
    headline_of,
    is_global,
    make_spec,
    metrics_of,
    run_eval,
    standard_judge,
)
from inspect_ai import eval
from inspect_ai.log import EvalLog, read_eval_log

from harness.benchmarks import healthbench as hb
from harness.benchmarks import writingbench as wb
from harness.provenance import judge_protocols
from harness.report import render_markdown
from harness.scoring import RewardResult
from harness.store import SpecStore

ROOT = Path(__file__).resolve().parents[1]
GLOBAL = 6


def epoch_policy() -> ScriptedJudge:
    """A mockllm policy that answers each prompt "answer 1" the first time it is asked and
    "answer 2" the second: with ``epochs=2`` each epoch of a sample gets its own response."""
    asked: Counter[str] = Counter()

    def script(prompt: str, n: int) -> str:
        asked[prompt] += 1
        return f"answer {asked[prompt]}"

    return ScriptedJudge(script)


def answer_number(response: str) -> int:
    return int(re.fullmatch(r"answer (\d)", response).group(1))


def run_epochs(task, tmp_path: Path, judge: ScriptedJudge, **kwargs) -> EvalLog:
    """``eval(..., epochs=2)`` with the per-epoch policy and ``judge`` as grader."""
    [log] = eval(
        task,
        model=epoch_policy().model(),
        model_roles={"grader": judge.model()},
        epochs=2,
        log_dir=str(tmp_path),
        display="none",
        **kwargs,
    )
    assert log.status == "success", log.error
    log = read_eval_log(log.location)
    assert Counter(s.epoch for s in log.samples) == {1: kwargs["limit"], 2: kwargs["limit"]}
    return log


# -- WritingBench ------------------------------------------------------------------------


def wb_score(name: str) -> int:
    return len(name) % 10 + 1


def writingbench_judge() -> ScriptedJudge:
    def script(prompt: str, n: int) -> str:
        if is_global(prompt):
            return json.dumps({"rationale": "fine", "score": GLOBAL})
        # the reference evaluator inserts the checklist item as its Python repr
        criteria = ast.literal_eval(
            re.search(r"\*\* Criteria \*\*\n```(.*?)```", prompt, re.DOTALL).group(1)
        )
        return f'```json\n{{"score": {wb_score(criteria["name"])}, "reason": "scored {criteria["name"]}"}}\n```'

    return ScriptedJudge(script)


def test_writingbench_official_score_and_hybrid(tmp_path: Path) -> None:
    from harness.tasks.writingbench import writingbench

    judge = writingbench_judge()
    log = run_eval(writingbench(domain1="Education"), tmp_path, {"grader": judge.model()}, limit=3)
    records = {r["index"]: r for r in wb.load_records(["Education"])}
    per_sample = []
    for sample in log.samples:
        record = records[sample.id]
        scores = [wb_score(c["name"]) for c in record["checklist"]]
        rubric = sum((s - 1) / 9 for s in scores) / 5
        score = sample.scores["hybrid_reward"]
        assert set(score.value) == {"reward", "rubric", "global", "code", wb.VALUE_KEY}
        assert score.value[wb.VALUE_KEY] == pytest.approx(sum(scores) / 5)  # official, 1-10
        assert score.value["rubric"] == pytest.approx(rubric)
        assert score.value["global"] == pytest.approx(GLOBAL / 10)
        assert math.isnan(score.value["code"])
        assert score.value["reward"] == pytest.approx((rubric + GLOBAL / 10) / 2)
        result = RewardResult.from_metadata(score.metadata)
        assert [int(c.verdict) for c in result.rubric.criteria] == scores
        assert result.rubric.protocol == "writingbench_official@1"
        # the saved explanation is the report of this result: criteria with the judge's reasons
        assert score.explanation == render_markdown(result)
        first = record["checklist"][0]
        assert " ".join(first["criteria_description"].split()) in score.explanation
        assert f"scored {first['name']}" in score.explanation
        per_sample.append(sum(scores) / 5)
    assert judge.calls == 3 * (5 + 1)
    m = metrics_of(log)
    assert m["hybrid_reward/writingbench"] == pytest.approx(sum(per_sample) / 3)
    assert m["hybrid_reward/writingbench_unscored"] == 0
    assert m["hybrid_reward/reward_unscored"] == 0
    assert m["hybrid_reward/reward_Education"] == pytest.approx(m["hybrid_reward/reward"])
    assert headline_of(log) == ("hybrid_reward", "writingbench", m["hybrid_reward/writingbench"])
    assert log.eval.task_version == 2
    meta = log.eval.metadata
    assert meta["benchmark"] == "writingbench"
    assert meta["protocols"] == {
        **judge_protocols("writingbench"),
        "official": "writingbench_score@2",
    }
    assert meta["protocols"]["rubric"] == "writingbench_official@1"
    assert "spec_store" not in meta and "checker_image" not in meta


def wb_epoch_score(name: str, response: str) -> int:
    """A criterion score that depends on the response, so that the two epochs differ."""
    return (len(name) + 3 * answer_number(response)) % 10 + 1


def test_writingbench_official_score_over_epochs(tmp_path: Path) -> None:
    """With 2 epochs the official score is the mean of the two epochs' official scores."""
    from harness.tasks.writingbench import writingbench

    def script(prompt: str, n: int) -> str:
        if is_global(prompt):
            return json.dumps({"rationale": "fine", "score": GLOBAL})
        criteria = ast.literal_eval(
            re.search(r"\*\* Criteria \*\*\n```(.*?)```", prompt, re.DOTALL).group(1)
        )
        response = re.search(r"\*\* Response \*\*\n```(.*?)```", prompt, re.DOTALL).group(1)
        score = wb_epoch_score(criteria["name"], response)
        return f'```json\n{{"score": {score}, "reason": "ok"}}\n```'

    log = run_epochs(writingbench(domain1="Education"), tmp_path, ScriptedJudge(script), limit=3)
    records = {r["index"]: r for r in wb.load_records(["Education"])}
    by_epoch: dict[int, list[float]] = defaultdict(list)
    for sample in log.samples:  # one entry per (sample, epoch), with that epoch's response
        checklist = records[sample.id]["checklist"]
        scores = [wb_epoch_score(c["name"], sample.output.completion) for c in checklist]
        by_epoch[sample.epoch].append(sum(scores) / len(scores))
    per_epoch = [mean(by_epoch[1]), mean(by_epoch[2])]
    assert per_epoch[0] != pytest.approx(per_epoch[1])  # epoch 1 alone would be wrong
    m = metrics_of(log)
    assert m["hybrid_reward/writingbench"] == pytest.approx(mean(per_epoch))
    assert m["hybrid_reward/writingbench_unscored"] == 0
    assert headline_of(log)[1:] == ("writingbench", m["hybrid_reward/writingbench"])


def test_writingbench_mock_grader_is_unscored_not_zero(tmp_path: Path) -> None:
    from harness.tasks.writingbench import writingbench

    log = run_eval(writingbench(), tmp_path, {"grader": "mockllm/model"}, limit=2)
    for sample in log.samples:
        score = sample.scores["hybrid_reward"]
        assert all(math.isnan(v) for v in score.value.values())
        result = RewardResult.from_metadata(score.metadata)
        for part in (result.rubric, result.global_):
            assert part.status == "unscored"
            assert "malformed judge output: no JSON object found" in part.reason
        assert "criteria c1, c2, c3, c4, c5: malformed" in score.explanation  # the reason shown
        assert math.isnan(score.value[wb.VALUE_KEY])  # no official score either, never 0
    m = metrics_of(log)
    assert m["hybrid_reward/rubric_unscored"] == 2 and m["hybrid_reward/global_unscored"] == 2
    assert (
        math.isnan(m["hybrid_reward/writingbench"])
        and m["hybrid_reward/writingbench_unscored"] == 2
    )
    assert headline_of(log)[:2] == ("hybrid_reward", "writingbench")  # NaN, not an unscored count


def test_unbound_grader_is_an_error_not_self_grading(tmp_path: Path) -> None:
    from harness.tasks.writingbench import writingbench

    [log] = eval(
        writingbench(), model="mockllm/model", limit=1, log_dir=str(tmp_path), display="none"
    )
    assert log.status == "error"
    assert "Model role 'grader' is required" in log.error.message


# -- HealthBench -------------------------------------------------------------------------


def hb_met(criterion: str) -> bool:
    return len(criterion) % 3 != 0


def healthbench_judge() -> ScriptedJudge:
    def script(prompt: str, n: int) -> str:
        if is_global(prompt):
            return json.dumps({"rationale": "fine", "score": GLOBAL})
        item = re.search(
            r"# Rubric item\n\[-?[\d.]+\] (.*?)\n\n# Instructions", prompt, re.DOTALL
        ).group(1)
        return f'```json\n{{"explanation": "checked", "criteria_met": {json.dumps(hb_met(item))}}}\n```'

    return ScriptedJudge(script)


def test_healthbench_official_score_and_hybrid(tmp_path: Path) -> None:
    from harness.tasks.healthbench import healthbench

    judge = healthbench_judge()
    log = run_eval(
        healthbench(subset="sample_500", theme="emergency_referrals"),
        tmp_path,
        {"grader": judge.model()},
        limit=4,
    )
    records = {r["prompt_id"]: r for r in hb.load_records("sample_500")}
    raw_scores = []
    for sample in log.samples:
        rubric = records[sample.id]["rubrics"]
        raw = hb.sample_score(
            [r["points"] for r in rubric], [hb_met(r["criterion"]) for r in rubric]
        )
        raw_scores.append(raw)
        score = sample.scores["hybrid_reward"]
        assert score.value[hb.VALUE_KEY] == pytest.approx(raw)  # official: unclipped
        assert score.value["rubric"] == pytest.approx(min(1, max(0, raw)))
        assert RewardResult.from_metadata(score.metadata).rubric.unclipped == pytest.approx(raw)
        assert sample.metadata["theme"] == "emergency_referrals"
        assert score.explanation == render_markdown(RewardResult.from_metadata(score.metadata))
        assert " ".join(rubric[0]["criterion"].split()) in score.explanation
    m = metrics_of(log)
    expected, std = hb.aggregate(raw_scores)
    assert m["hybrid_reward/healthbench"] == pytest.approx(expected)
    assert m["hybrid_reward/healthbench_bootstrap_std"] == pytest.approx(std)
    assert m["hybrid_reward/healthbench_unscored"] == 0
    assert m["hybrid_reward/reward_emergency_referrals"] == pytest.approx(m["hybrid_reward/reward"])
    assert headline_of(log) == ("hybrid_reward", "healthbench", m["hybrid_reward/healthbench"])
    assert log.eval.task_version == 2
    protocols = log.eval.metadata["protocols"]
    assert protocols == {**judge_protocols("healthbench"), "official": "healthbench_score@2"}
    assert protocols["rubric"] == "healthbench_official@1"


def hb_epoch_met(criterion: str, response: str) -> bool:
    """A verdict that depends on the response, so that the two epochs differ."""
    return (len(criterion) + answer_number(response)) % 3 != 0


def test_healthbench_official_score_over_epochs(tmp_path: Path) -> None:
    """With 2 epochs the official score is the mean of the two epochs' official scores."""
    from harness.tasks.healthbench import healthbench

    def script(prompt: str, n: int) -> str:
        if is_global(prompt):
            return json.dumps({"rationale": "fine", "score": GLOBAL})
        response = re.search(r"assistant: (answer \d)\n\n# Rubric item", prompt).group(1)
        item = re.search(
            r"# Rubric item\n\[-?[\d.]+\] (.*?)\n\n# Instructions", prompt, re.DOTALL
        ).group(1)
        met = json.dumps(hb_epoch_met(item, response))
        return f'```json\n{{"explanation": "checked", "criteria_met": {met}}}\n```'

    log = run_epochs(
        healthbench(subset="sample_500", theme="emergency_referrals"),
        tmp_path,
        ScriptedJudge(script),
        limit=4,
    )
    records = {r["prompt_id"]: r for r in hb.load_records("sample_500")}
    by_epoch: dict[int, list[float]] = defaultdict(list)
    by_sample: dict[str, list[float]] = defaultdict(list)
    for sample in log.samples:  # one entry per (sample, epoch), with that epoch's response
        rubric = records[sample.id]["rubrics"]
        met = [hb_epoch_met(r["criterion"], sample.output.completion) for r in rubric]
        raw = hb.sample_score([r["points"] for r in rubric], met)
        by_epoch[sample.epoch].append(raw)
        by_sample[sample.id].append(raw)
    per_epoch = [hb.aggregate(by_epoch[1])[0], hb.aggregate(by_epoch[2])[0]]
    # no clipping at the epoch level, so the mean of the epochs' scores is the official number
    assert all(0 < mean(by_epoch[e]) < 1 for e in (1, 2))
    assert per_epoch[0] != pytest.approx(per_epoch[1])  # epoch 1 alone would be wrong
    m = metrics_of(log)
    assert m["hybrid_reward/healthbench"] == pytest.approx(mean(per_epoch))
    # the bootstrap runs over conversations, each the mean of its epochs
    _, std = hb.aggregate([mean(v) for v in by_sample.values()])
    assert m["hybrid_reward/healthbench_bootstrap_std"] == pytest.approx(std)
    assert m["hybrid_reward/healthbench_unscored"] == 0
    assert headline_of(log)[1:] == ("healthbench", m["hybrid_reward/healthbench"])


def test_healthbench_single_call_mode(tmp_path: Path) -> None:
    from harness.tasks.healthbench import healthbench

    verdicts = {f"r{i}": "yes" for i in range(1, 60)}
    judge = standard_judge(verdicts, GLOBAL)
    log = run_eval(
        healthbench(subset="sample_500", rubric_mode="single"),
        tmp_path,
        {"grader": judge.model()},
        limit=2,
    )
    assert judge.calls == 4  # one rubric call and one global call per sample
    for sample in log.samples:
        result = RewardResult.from_metadata(sample.scores["hybrid_reward"].metadata)
        assert result.rubric.protocol == "rubric_single@2"
        assert all(c.verdict == "yes" for c in result.rubric.criteria)
        positive = sum(c.weight for c in result.rubric.criteria if c.weight > 0)
        assert result.rubric.unclipped == pytest.approx(
            sum(c.weight for c in result.rubric.criteria) / positive
        )


# -- prompts + spec store ----------------------------------------------------------------


def test_prompts_task_with_a_spec_store(tmp_path: Path) -> None:
    from harness.tasks.prompts import prompts

    a = make_spec(prompt_id="a", prompt="Write a haiku about the sea.", task_label="poetry")
    b = make_spec(
        prompt_id="b",
        prompt="Explain tides to a child.",
        task_label="explanation",
        criteria=[("k1", "Mentions the moon.", 1.0)],
    )
    store = SpecStore(tmp_path / "specs.jsonl", create=True)
    store.put_many([a, b])
    (tmp_path / "prompts.jsonl").write_text(
        json.dumps({"id": "a", "prompt": a.prompt})
        + "\n"
        + json.dumps({"id": "unknown-id", "prompt": b.prompt})
        + "\n"
    )
    judge = standard_judge({"c1": "yes", "c2": "no", "c3": "partial", "k1": "yes"}, 8)
    log = run_eval(
        prompts(str(tmp_path / "prompts.jsonl"), str(store.path)),
        tmp_path,
        {"grader": judge.model()},
    )
    by_id = {s.id: s.scores["hybrid_reward"].value for s in log.samples}
    assert by_id["a"]["rubric"] == pytest.approx((3 + 0 + 0.5) / 6)
    assert by_id["unknown-id"]["rubric"] == 1.0  # found by prompt hash
    m = metrics_of(log)
    assert m["hybrid_reward/reward_poetry"] == pytest.approx((3.5 / 6 + 0.8) / 2)
    assert m["hybrid_reward/reward_explanation"] == pytest.approx(0.9)
    assert m["hybrid_reward/reward"] == pytest.approx(((3.5 / 6 + 0.8) / 2 + 0.9) / 2)
    assert headline_of(log) == ("hybrid_reward", "reward", m["hybrid_reward/reward"])


def test_prompts_task_missing_spec_is_a_clear_error(tmp_path: Path) -> None:
    from harness.data import DataError
    from harness.tasks.prompts import prompts

    store = SpecStore(tmp_path / "specs.jsonl", create=True)
    store.put(make_spec(prompt_id="a"))
    (tmp_path / "p.jsonl").write_text(json.dumps({"id": "zzz", "prompt": "Something else"}) + "\n")
    with pytest.raises(DataError, match="has no spec for 1 prompt.*zzz"):
        prompts(str(tmp_path / "p.jsonl"), str(store.path))


# -- the command line: both ways of naming a task ----------------------------------------


@pytest.mark.parametrize("task", ["harness/writingbench", "tasks/writingbench.py"])
def test_inspect_cli(tmp_path: Path, task: str) -> None:
    cmd = [
        sys.executable,
        "-m",
        "inspect_ai",
        "eval",
        task,
        "--model",
        "mockllm/model",
        "--model-role",
        "grader=mockllm/model",
    ]
    cmd += ["--limit", "1", "--log-dir", str(tmp_path), "--display", "plain"]
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [path] = list(tmp_path.glob("*.eval"))
    log = read_eval_log(str(path))
    assert log.status == "success"
    result = RewardResult.from_metadata(log.samples[0].scores["hybrid_reward"].metadata)
    assert result.rubric.status == "unscored" and result.global_.status == "unscored"


# -- the thin component scorers ----------------------------------------------------------


def test_component_scorers_side_by_side(tmp_path: Path) -> None:
    from fake_runtime import InProcessRuntime
    from inspect_ai import Task
    from inspect_ai.dataset import Sample
    from inspect_ai.solver import generate

    from harness.scorers import SPEC_KEY, code, global_score, hybrid_reward, rubric

    spec = make_spec(
        checkers=[
            ("lower", "All lowercase.", "def check(r):\n    return r == r.lower()\n"),
            ("mock", "Mentions mockllm.", "def check(r):\n    return 'mockllm' in r\n"),
        ]
    )
    task = Task(
        dataset=[
            Sample(id="s1", input=spec.prompt, metadata={SPEC_KEY: spec.model_dump(mode="json")})
        ],
        solver=generate(),
        scorer=[
            rubric(),
            global_score(),
            code(checker_runtime=InProcessRuntime()),
            hybrid_reward(checker_runtime=InProcessRuntime()),
        ],
    )
    judge = standard_judge({"c1": "yes", "c2": "no", "c3": "no"}, 2)
    log = run_eval(task, tmp_path, {"grader": judge.model()})
    scores = log.samples[0].scores
    rubric_value = 3 / 6
    # the policy's reply is "Default output from mockllm/model": not lowercase, mentions mockllm
    assert scores["rubric"].value == pytest.approx(rubric_value)
    assert scores["global"].value == pytest.approx(0.2)
    assert scores["code"].value == pytest.approx(0.5)
    assert scores["hybrid_reward"].value["reward"] == pytest.approx((rubric_value + 0.2 + 0.5) / 3)
    checks = {
        c.id: c.status
        for c in RewardResult.from_metadata(scores["hybrid_reward"].metadata).code.checks
    }
    assert checks == {"lower": "fail", "mock": "pass"}
    for name in ("hybrid_reward", "code"):
        result = RewardResult.from_metadata(scores[name].metadata)
        assert scores[name].explanation == render_markdown(result)
        assert "All lowercase." in scores[name].explanation
    m = metrics_of(log)
    assert m["code/mean"] == pytest.approx(0.5)
    assert m["global/mean"] == pytest.approx(0.2)


def test_a_task_evaluated_again_with_another_judge_uses_that_judge(tmp_path: Path) -> None:
    """The scorer keeps its engine while the judges stay the same objects (every sample of an
    eval); a second eval of the same task object with another judge must not reuse it."""
    from fake_runtime import InProcessRuntime
    from inspect_ai import Task
    from inspect_ai.dataset import Sample
    from inspect_ai.model import get_model
    from inspect_ai.solver import generate

    from harness.scorers import SPEC_KEY, hybrid_reward

    spec = make_spec()
    task = Task(
        dataset=[
            Sample(id=f"s{i}", input=spec.prompt, metadata={SPEC_KEY: spec.model_dump(mode="json")})
            for i in range(3)
        ],
        solver=generate(),
        scorer=hybrid_reward(checker_runtime=InProcessRuntime()),
    )
    first = standard_judge({"c1": "yes", "c2": "yes", "c3": "yes"}, 10)
    second = standard_judge({"c1": "no", "c2": "no", "c3": "no"}, 0)
    rewards = []
    for judge, name in ((first, "mockllm/first"), (second, "mockllm/second")):
        model = get_model(name, custom_outputs=judge, memoize=False)
        log = run_eval(task, tmp_path / str(len(rewards)), {"grader": model})
        rewards.append({s.scores["hybrid_reward"].value["rubric"] for s in log.samples})
        # identical responses: one rubric and one global call for the three samples
        assert judge.calls == 2
    assert rewards == [{1.0}, {0.0}]
