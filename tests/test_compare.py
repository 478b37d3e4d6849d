"""`harness compare` on real response sets: IFBench's published sample outputs against the same
responses upper-cased (a checkpoint that broke case constraints), scored by the official
checkers in two evals; every number checked against scipy/statsmodels on the logs' values."""

from __future__ import annotations

import json
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
    assert row.n == len(a) and row.baseline_mean == pytest.approx(a.mean())
    assert row.difference == pytest.approx((b - a).mean())
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
