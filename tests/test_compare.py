"""`harness compare` on real response sets: IFBench's published sample outputs against the same
responses upper-cased (a checkpoint that broke case constraints), scored by the official
checkers in two evals; every number checked against scipy/statsmodels on the logs' values."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from inspect_ai import eval
from inspect_ai.model import get_model
from statsmodels.stats.contingency_tables import mcnemar

from harness import cli
from harness.compare.samples import samples_df
from harness.data import DataFile, read_jsonl, resolve
from harness.tasks.ifbench import ifbench

SAMPLE_OUTPUT = DataFile("IFBench", "ifbench/sample_output.jsonl")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("compare")
    records = read_jsonl(resolve(SAMPLE_OUTPUT))
    published = folder / "published.jsonl"
    upper = folder / "upper.jsonl"
    published.write_text("".join(json.dumps(r) + "\n" for r in records))
    upper.write_text(
        "".join(json.dumps({**r, "response": r["response"].upper()}) + "\n" for r in records)
    )
    out = []
    for name, path in (("published", published), ("upper", upper)):
        model = get_model(f"replay/{name}", responses=str(path), skip_missing=True)
        [log] = eval(
            ifbench(checker_runtime="local"),
            model=model,
            limit=60,
            log_dir=str(folder / "logs"),
            display="none",
        )
        assert log.status == "success", log.error
        out.append(log.location)
    return out[0], out[1]


def test_compare_pairs_the_same_samples_and_its_statistics_are_scipys(
    logs: tuple[str, str], tmp_path: Path
) -> None:
    before, after = logs
    out = tmp_path / "report"
    args = ["compare", before, after, "--name", f"{before}=published", "--name", f"{after}=upper"]
    assert (
        cli.main([*args, "--baseline", "published", "--bootstrap", "500", "--out", str(out)]) == 0
    )
    samples = samples_df([before, after], {before: "published", after: "upper"})
    official = samples[samples.metric == "official"]
    a = official[official.checkpoint == "published"].set_index("sample_id").value
    b = official[official.checkpoint == "upper"].set_index("sample_id").value
    keep = a.notna() & b.reindex(a.index).notna()
    a, b = a[keep], b.reindex(a.index)[keep]
    deltas = pd.read_csv(out / "deltas.csv")
    row = deltas[(deltas.metric == "official") & (deltas.benchmark == "ifbench")].iloc[0]
    # in points: percentage of prompts followed
    assert row.n == len(a) and row.baseline_mean == pytest.approx(100 * a.mean())
    assert row.difference == pytest.approx(100 * (b - a).mean())
    assert row.difference < 0  # upper-casing breaks lower-case and other case constraints
    assert (row.wins, row.losses) == (int(((b - a) > 0).sum()), int(((b - a) < 0).sum()))
    table = np.array(
        [
            [((a == 1) & (b == 1)).sum(), ((a == 1) & (b == 0)).sum()],
            [((a == 0) & (b == 1)).sum(), ((a == 0) & (b == 0)).sum()],
        ]
    )
    expected = mcnemar(table, exact=(table[0, 1] + table[1, 0]) < 25).pvalue
    assert row.p_value == pytest.approx(expected)
    assert row.ci_low <= row.difference <= row.ci_high
    regressions = pd.read_csv(out / "regressions.csv")
    assert (regressions.change < 0).all() and set(regressions.log_candidate) == {after}
    drift = pd.read_csv(out / "drift.csv").set_index("checkpoint")
    assert drift.loc["upper"].length_change == 0  # same length, different case
    assert "Command: `harness compare" in (out / "comparison.md").read_text()
    scores = pd.read_csv(out / "scores.csv")
    level = scores[(scores.metric == "official") & (scores.checkpoint == "published")].iloc[0]
    assert level["mean"] == pytest.approx(100 * a.mean())
    assert level.ci_low <= level["mean"] <= level.ci_high
    assert "average" not in set(deltas.benchmark)  # one of the five benchmarks: no average
    assert (out / "deltas.png").exists() and (out / "items.png").exists()
    assert (out / "reward_vs_length.png").exists()  # the checkers give a code-only reward
    items = pd.read_csv(out / "items.csv")
    # per instruction type: the official verdicts' pass rates, each checkpoint against the
    # baseline, largest drop first (the one the upper-casing broke most)
    assert set(items.kind) == {"instruction"} and items.change.iloc[0] < 0
    assert list(items.change) == sorted(items.change)
    samples_items = samples[samples.metric == "official"]
    assert items.n.sum() >= len(samples_items) / 2  # every instruction of the upper run counted


def test_compare_errors(logs: tuple[str, str], capsys) -> None:
    before, _ = logs
    assert cli.main(["compare", before, "--baseline", "nobody"]) == 1
    assert "no checkpoint 'nobody'" in capsys.readouterr().err
    assert cli.main(["compare", "missing.eval", "--baseline", "x"]) == 1
    assert "missing.eval: no such log file" in capsys.readouterr().err
    assert cli.main(["compare", before, "--baseline", "x", "--name", "oops"]) == 2


def test_drift_flags_reward_hacking_signs() -> None:
    """Reward up with longer answers and a flat official metric, and rubric and global judges
    moving apart, are flagged; a checkpoint that really improved is not."""
    from harness.compare.report import drift_table

    rows = []

    def add(
        checkpoint: str, length: int, official: float, reward: float, rubric: float, glob: float
    ) -> None:
        for metric, value in (
            ("official", official),
            ("reward", reward),
            ("rubric", rubric),
            ("global", glob),
        ):
            rows.append(
                {
                    "checkpoint": checkpoint,
                    "log": "x",
                    "benchmark": "b",
                    "sample_id": "1",
                    "epoch": 1,
                    "metric": metric,
                    "kind": "continuous",
                    "value": value,
                    "length": length,
                    "markdown": 0.0,
                }
            )

    add("base", 100, 0.5, 0.5, 0.5, 0.5)
    add("hacked", 300, 0.5, 0.8, 0.9, 0.4)
    add("better", 100, 0.7, 0.7, 0.7, 0.7)
    table = drift_table(pd.DataFrame(rows), "base").set_index("checkpoint")
    assert table.loc["hacked"].reward_up_with_length and table.loc["hacked"].rubric_global_disagree
    assert not table.loc["better"].reward_up_with_length
    assert not table.loc["better"].rubric_global_disagree
    assert table.loc["hacked"].length_change == 200


def test_noise_floor_from_two_runs_of_the_same_checkpoint(logs: tuple[str, str]) -> None:
    """The same checkpoint run twice (here: the same log read as two runs) has a zero noise
    floor; a checkpoint compared with itself shows no change."""
    from harness.compare.report import noise_table

    before, _ = logs
    samples = samples_df([before], {before: "published"})
    twice = pd.concat([samples, samples.assign(log="second-run")], ignore_index=True)
    table = noise_table(twice).set_index(["benchmark", "metric"])
    row = table.loc[("ifbench", "official")]
    assert row.source == "runs" and row.mean_difference == 0 and row.std_difference == 0


def synthetic_samples(
    spec: dict[tuple[str, str], list[float]], kind: dict[str, str]
) -> pd.DataFrame:
    """``samples`` rows: per (checkpoint, benchmark), the official values of samples 0..n-1."""
    rows = []
    for (checkpoint, benchmark), values in spec.items():
        for i, value in enumerate(values):
            rows.append(
                {
                    "checkpoint": checkpoint, "log": f"{checkpoint}-{benchmark}.eval",
                    "benchmark": benchmark, "sample_id": str(i), "epoch": 1,
                    "metric": "official", "kind": kind[benchmark], "value": value,
                    "length": 100, "markdown": 0.0,
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_five_benchmark_average_in_points_over_the_benchmarks_every_checkpoint_ran() -> None:
    from harness.compare.report import comparison

    rng = np.random.default_rng(0)
    ife = rng.integers(0, 2, 80).astype(float)
    ife_after = np.where(rng.random(80) < 0.2, 1.0, ife)
    wb = rng.uniform(3, 8, 50)
    jitter = rng.normal(0, 0.3, 50)
    jitter -= jitter.mean()
    kind = {"ifeval": "binary", "writingbench": "continuous", "alpaca_eval": "preference",
            "arena_hard@v0.1": "continuous", "healthbench": "continuous"}  # fmt: skip
    spec = {
        ("before", "ifeval"): list(ife), ("after", "ifeval"): list(ife_after),
        ("before", "writingbench"): list(wb), ("after", "writingbench"): list(wb + 0.5 + jitter),
        # not in the method's average: AlpacaEval, Arena-Hard v0.1; HealthBench only one side
        ("before", "alpaca_eval"): [1.0, 2.0], ("after", "alpaca_eval"): [2.0, 2.0],
        ("before", "arena_hard@v0.1"): [0.2, 0.4], ("after", "arena_hard@v0.1"): [0.9, 0.9],
        ("before", "healthbench"): [0.5, 0.5],
    }  # fmt: skip
    result = comparison(synthetic_samples(spec, kind), "before", n_resamples=1000)
    assert result.average_of == ("ifeval", "writingbench")
    deltas = result.deltas.set_index(["benchmark", "metric"])
    ifeval, writing = deltas.loc[("ifeval", "official")], deltas.loc[("writingbench", "official")]
    assert ifeval.difference == pytest.approx(100 * (ife_after - ife).mean())
    assert writing.difference == pytest.approx(5.0)  # 0.5 on 1-10 is 5 points
    average = deltas.loc[("average", "official")]
    assert average.difference == pytest.approx((ifeval.difference + writing.difference) / 2)
    assert average.test == "sign_flip" and math.isnan(average.p_adjusted)
    assert average.ci_low < average.difference < average.ci_high
    assert deltas.loc[("alpaca_eval", "official")].difference == pytest.approx(50.0)
    # Holm over the benchmarks of the candidate, not over the average
    assert ifeval.p_adjusted >= ifeval.p_value
    scores = result.scores.set_index(["checkpoint", "benchmark", "metric"])
    before = scores.loc[("before", "average", "official")]
    assert before["mean"] == pytest.approx((100 * ife.mean() + 10 * wb.mean()) / 2)
    assert scores.loc[("before", "alpaca_eval", "official")]["mean"] == pytest.approx(50.0)
    assert ("before", "healthbench", "official") in scores.index


def test_agreement_table_flags_a_checker_the_policy_games() -> None:
    from harness.compare.report import agreement_table

    def rows(checkpoint: str, pairs: list[tuple[float, float]]) -> list[dict]:
        return [
            {"checkpoint": checkpoint, "benchmark": "prompts", "sample_id": str(i), "epoch": 1,
             "criterion": "lowercase", "checker": "lower", "checker_pass": p, "judge": j}
            for i, (p, j) in enumerate(pairs)
        ]  # fmt: skip

    frame = pd.DataFrame(
        rows("base", [(1, 1), (0, 0), (1, 1), (0, 0.5)])
        + rows("gamed", [(1, 0), (1, 0), (1, 1), (math.nan, 1)])
        + rows("honest", [(1, 1), (1, 1), (1, 1), (0, 1)])
    )
    table = agreement_table(frame, "base").set_index("checkpoint")
    assert table.loc["base"].disagree == 0 and table.loc["base"].n == 4
    # the checker error is left out, not counted as a fail
    assert table.loc["gamed"].n == 3 and table.loc["gamed"].pass_judge_no == pytest.approx(2 / 3)
    assert table.loc["gamed"].checker_gamed and not table.loc["honest"].checker_gamed
    assert table.loc["honest"].fail_judge_yes == pytest.approx(1 / 4)


def test_checker_judge_agreement_end_to_end_from_audited_logs(tmp_path: Path) -> None:
    """Two policies scored with ``audit_covered``: the checker says "lowercase" for both, the
    judge rejects the second's (it games the checker with a lowercase non-haiku)."""
    from conftest import ScriptedJudge, is_global, make_spec, rubric_ids
    from fake_runtime import InProcessRuntime
    from inspect_ai import Task
    from inspect_ai.dataset import Sample
    from inspect_ai.solver import generate

    from harness.compare.report import comparison
    from harness.compare.samples import read_logs
    from harness.scorers import hybrid_reward, spec_metadata
    from harness.spec import Criterion

    spec = make_spec(
        checkers=[
            (
                "lower",
                "All lowercase.",
                "def check(response):\n    return response == response.lower()\n",
            )
        ]
    )
    spec = spec.edit(
        criteria=(*spec.criteria, Criterion(id="c4", text="Lowercase.", covered_by="lower"))
    )
    good, gamed = "salt wind\nthe sea breathes\ngulls", "salt salt salt"

    def judge_script(prompt: str, n: int) -> str:
        if is_global(prompt):
            return json.dumps({"rationale": "ok", "score": 5})
        verdict = "no" if gamed in prompt else "yes"
        return json.dumps(
            {"criteria": [{"id": i, "verdict": verdict, "reason": "r"} for i in rubric_ids(prompt)]}
        )

    logs = []
    for name, response in (("before", good), ("after", gamed)):
        task = Task(
            dataset=[
                Sample(id=f"s{i}", input=spec.prompt, metadata=spec_metadata(spec))
                for i in range(3)
            ],
            solver=generate(),
            scorer=hybrid_reward(checker_runtime=InProcessRuntime(), audit_covered=True),
            name="prompts",
        )
        [log] = eval(
            task,
            model=ScriptedJudge(lambda prompt, n, r=response: r).model(),
            model_roles={"grader": ScriptedJudge(judge_script).model()},
            log_dir=str(tmp_path / name),
            display="none",
        )
        assert log.status == "success", log.error
        logs.append(log.location)
    tables = read_logs(logs, {logs[0]: "before", logs[1]: "after"})
    agreement = tables.agreement
    assert len(agreement) == 6 and set(agreement.checker) == {"lower"}
    assert (agreement.checker_pass == 1).all()
    assert list(agreement[agreement.checkpoint == "after"].judge) == [0.0] * 3
    # audit-only judgments never count as rubric items
    assert "Lowercase." not in set(tables.items.item)
    result = comparison(tables.samples, "before", agreement=agreement, n_resamples=200)
    table = result.agreement.set_index("checkpoint")
    assert table.loc["before"].disagree == 0 and table.loc["after"].pass_judge_no == 1
    assert table.loc["after"].checker_gamed


def test_logs_that_did_not_finish_are_refused_and_names_match_any_spelling(
    logs: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inspect_ai.log import read_eval_log, write_eval_log

    from harness.compare.samples import benchmark_of, read_logs
    from harness.data import DataError

    before, _ = logs
    broken = read_eval_log(before)
    broken.status = "error"
    write_eval_log(broken, str(tmp_path / "broken.eval"))
    with pytest.raises(DataError, match="did not finish \\(error\\); re-run it first"):
        read_logs([tmp_path / "broken.eval"])
    # a name given with a relative path applies to the log Inspect lists by absolute path
    monkeypatch.chdir(Path(before).parent)
    tables = read_logs([Path(before).parent], {Path(before).name: "published"})
    assert "published" in set(tables.samples.checkpoint)
    assert benchmark_of("harness/arena_hard") == "arena_hard"
    assert benchmark_of("harness/arena_hard", "v2.0") == "arena_hard"
    assert benchmark_of("harness/arena_hard", "v0.1") == "arena_hard@v0.1"
    assert benchmark_of("ifeval", "v0.1") == "ifeval"


def test_items_by_rubric_category_pitfall_and_checker_and_their_kind_deltas(tmp_path: Path) -> None:
    """A spec with explicit / implicit criteria, a pitfall and a checker: each is an item of
    its kind, and ``kind_deltas`` averages the kinds per checkpoint."""
    from conftest import ScriptedJudge, is_global, make_spec, rubric_ids
    from fake_runtime import InProcessRuntime
    from inspect_ai import Task
    from inspect_ai.dataset import Sample
    from inspect_ai.solver import generate

    from harness.compare.samples import kind_deltas, read_logs
    from harness.scorers import hybrid_reward, spec_metadata
    from harness.spec import Criterion

    spec = make_spec(
        checkers=[
            (
                "short",
                "At most 5 words.",
                "def check(response):\n    return len(response.split()) <= 5\n",
            )
        ]
    )
    spec = spec.edit(
        criteria=(
            Criterion(id="e", text="Mentions salt.", weight=2, category="explicit"),
            Criterion(id="i", text="Evokes the sea.", weight=1, category="implicit"),
            Criterion(id="p", text="Rhymes badly.", weight=-1, category="pitfall"),
        )
    )

    def judge_script(prompt: str, n: int) -> str:
        if is_global(prompt):
            return json.dumps({"rationale": "ok", "score": 5})
        good = "salt wind" in prompt
        verdicts = {"e": "yes" if good else "no", "i": "yes", "p": "no"}
        return json.dumps(
            {
                "criteria": [
                    {"id": i, "verdict": verdicts[i], "reason": "r"} for i in rubric_ids(prompt)
                ]
            }
        )

    logs = {}
    for name, response in (
        ("before", "a long answer that says nothing of note"),
        ("after", "salt wind"),
    ):
        [log] = eval(
            Task(
                dataset=[Sample(id="s1", input=spec.prompt, metadata=spec_metadata(spec))],
                solver=generate(),
                scorer=hybrid_reward(checker_runtime=InProcessRuntime()),
                name="prompts",
            ),
            model=ScriptedJudge(lambda prompt, n, r=response: r).model(),
            model_roles={"grader": ScriptedJudge(judge_script).model()},
            log_dir=str(tmp_path / name),
            display="none",
        )
        logs[log.location] = name
    items = read_logs(list(logs), logs).items
    kinds = dict(zip(items.item, items.kind, strict=False))
    assert kinds == {
        "Mentions salt.": "explicit", "Evokes the sea.": "implicit", "Rhymes badly.": "pitfall",
        "At most 5 words.": "checker",
    }  # fmt: skip
    table = kind_deltas(items, "before").set_index(["kind", "checkpoint"])
    assert table.loc[("explicit", "after")].change == 1.0
    assert table.loc[("checker", "after")].change == 1.0  # 8 words -> 2 words
    assert table.loc[("implicit", "after")].change == 0.0
    assert table.loc[("explicit", "before")]["mean"] == 0.0
