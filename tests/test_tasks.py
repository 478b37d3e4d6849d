"""End-to-end Inspect evals of each task on real samples, with scripted judges bound to roles."""

from __future__ import annotations

import ast
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ScriptedJudge, is_global, make_spec, metrics_of, run_eval, standard_judge
from inspect_ai import eval
from inspect_ai.log import read_eval_log

from harness.benchmarks import healthbench as hb
from harness.benchmarks import writingbench as wb
from harness.scoring import RewardResult
from harness.store import SpecStore

ROOT = Path(__file__).resolve().parents[1]
GLOBAL = 6


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
        assert set(score.value) == {"reward", "rubric", "global", "code"}
        assert score.value["rubric"] == pytest.approx(rubric)
        assert score.value["global"] == pytest.approx(GLOBAL / 10)
        assert math.isnan(score.value["code"])
        assert score.value["reward"] == pytest.approx((rubric + GLOBAL / 10) / 2)
        result = RewardResult.from_metadata(score.metadata)
        assert [int(c.verdict) for c in result.rubric.criteria] == scores
        assert result.rubric.protocol == "writingbench_official@1"
        # the per-criterion table is in the saved log's explanation
        assert "| id | criterion | weight | verdict | reason |" in score.explanation
        first = record["checklist"][0]
        assert f"| c1 | {first['criteria_description'].strip()[:30]}" in score.explanation
        assert f"scored {first['name']}" in score.explanation
        per_sample.append(sum(scores) / 5)
    assert judge.calls == 3 * (5 + 1)
    m = metrics_of(log)
    assert m["hybrid_reward/writingbench"] == pytest.approx(sum(per_sample) / 3)
    assert m["hybrid_reward/writingbench_unscored"] == 0
    assert m["hybrid_reward/reward_unscored"] == 0
    assert m["rubric/grouped_Education"] == pytest.approx(m["rubric/mean"])


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
        assert (
            "#### Rubric: **unscored** — criteria c1, c2, c3, c4, c5: malformed"
            in score.explanation
        )
    m = metrics_of(log)
    assert m["hybrid_reward/rubric_unscored"] == 2 and m["hybrid_reward/global_unscored"] == 2
    assert (
        math.isnan(m["hybrid_reward/writingbench"])
        and m["hybrid_reward/writingbench_unscored"] == 2
    )


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
        assert score.value["rubric"] == pytest.approx(min(1, max(0, raw)))
        assert RewardResult.from_metadata(score.metadata).rubric.unclipped == pytest.approx(raw)
        assert sample.metadata["theme"] == "emergency_referrals"
        assert "| r1 |" in score.explanation
    m = metrics_of(log)
    expected, std = hb.aggregate(raw_scores)
    assert m["hybrid_reward/healthbench"] == pytest.approx(expected)
    assert m["hybrid_reward/healthbench_bootstrap_std"] == pytest.approx(std)
    assert m["reward/grouped_emergency_referrals"] == pytest.approx(m["reward/mean"])


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
        assert result.rubric.protocol == "rubric_single@1"
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
    assert "| lower | All lowercase. | fail |" in scores["hybrid_reward"].explanation
    assert "| mock | Mentions mockllm. | pass |" in scores["code"].explanation
    m = metrics_of(log)
    assert m["code/mean"] == pytest.approx(0.5)
    assert m["global/mean"] == pytest.approx(0.2)
