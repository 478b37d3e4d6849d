"""`harness rank` end to end: published JudgeBench scores reproduced, a scripted judge scoring a
real benchmark once (re-ranking costs no judge call), external scores, usage errors."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import ScriptedJudge, is_global

from harness import cli
from harness.data import DataFile, resolve
from harness.ranking.datasets import load

SKYWORK = DataFile(
    "JudgeBench", "judgebench/outputs_reward_models/Skywork_Skywork-Reward-Llama-3.1-8B.jsonl"
)


def test_published_judgebench_scores_reproduce_judgebench(tmp_path: Path, capsys) -> None:
    out = tmp_path / "pub"
    assert (
        cli.main(["rank", "judgebench", "--published", str(resolve(SKYWORK)), "--out", str(out)])
        == 0
    )
    table = pd.read_csv(out / "published.csv").set_index("category")
    got = {c: f"{a:.2f}" for c, a in table.accuracy.items()}
    assert got == {
        "knowledge": "59.09",
        "reasoning": "64.29",
        "math": "76.79",
        "coding": "50.00",
        "overall": "62.29",
    }
    assert "| overall |  | 350 | 218 | 131 | 1 | 62.29 |" in (out / "published.md").read_text()
    assert "62.29" in capsys.readouterr().out


def longer_is_better() -> ScriptedJudge:
    """A global judge that prefers longer answers (0-10 by length); counts its calls."""

    def script(prompt: str, n: int) -> str:
        assert is_global(prompt)
        return json.dumps({"rationale": "r", "score": min(10, len(prompt) // 400)})

    return ScriptedJudge(script)


def test_rank_with_a_judge_scores_each_response_once_and_reranks_for_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    judge = longer_is_better()
    from harness.serving import build

    # judges are loaded where every engine is built
    monkeypatch.setattr(build, "load_judge", lambda name, role, **_: judge.model())
    cache = tmp_path / "judgments.sqlite"
    args = ["rank", "llmbar", "--set", "Natural", "--limit", "12", "--grader", "scripted/judge"]
    args += ["--cache", str(cache), "--bootstrap", "200"]
    assert cli.main([*args, "--out", str(tmp_path / "a")]) == 0
    groups = load("llmbar", sets="Natural")[:12]
    unique = {r.key for g in groups for r in g.responses}
    assert judge.calls == len(unique)  # prompt-only specs: one global judgment per response
    ablation = pd.read_csv(tmp_path / "a" / "ablation.csv")
    assert list(ablation.variant) == [
        "global", "rubric", "code", "rubric+code", "hybrid", "hybrid@alpha_start", "hybrid@alpha_end"
    ]  # fmt: skip
    hybrid = ablation.set_index("variant").loc["hybrid"]
    assert hybrid.n == 12 and 0 <= hybrid.accuracy <= 1
    # rubric and code are absent without a spec: unscored, never a made-up accuracy
    assert ablation.set_index("variant").loc["rubric"].unscored == 12
    for name in ("report.md", "accuracy.csv", "significance.csv", "bias.csv", "accuracy.png"):
        assert (tmp_path / "a" / name).exists(), name
    # another tie policy and reference: the judgments come from the cache
    assert (
        cli.main([*args, "--ties", "half", "--reference", "global", "--out", str(tmp_path / "b")])
        == 0
    )
    assert judge.calls == len(unique)
    report = (tmp_path / "b" / "report.md").read_text()
    assert "ties: `half`" in report and "| global | hybrid |" in report


def test_rank_with_external_scores(tmp_path: Path) -> None:
    groups = load("judgebench")[:40]
    right, flat = tmp_path / "right.jsonl", tmp_path / "flat.jsonl"
    right.write_text(
        "".join(json.dumps({"id": g.id, "chosen": [1.0], "rejected": [0.0]}) + "\n" for g in groups)
    )
    flat.write_text(
        "".join(json.dumps({"id": g.id, "chosen": [0.5], "rejected": [0.5]}) + "\n" for g in groups)
    )
    out = tmp_path / "ext"
    base = ["rank", "judgebench", "--limit", "40", "--bootstrap", "200", "--out", str(out)]
    assert (
        cli.main(
            [
                *base,
                "--scores",
                f"right={right}",
                "--scores",
                f"flat={flat}",
                "--reference",
                "right",
            ]
        )
        == 0
    )
    ablation = pd.read_csv(out / "ablation.csv").set_index("variant")
    assert ablation.loc["right"].accuracy == 1.0 and ablation.loc["flat"].accuracy == 0.0  # strict
    significance = pd.read_csv(out / "significance.csv")
    assert significance.iloc[0].reference_only == 40 and significance.iloc[0].p_value < 1e-6
    assert cli.main([*base, "--scores", f"flat={flat}", "--ties", "half"]) == 0
    assert pd.read_csv(out / "ablation.csv").set_index("variant").loc["flat"].accuracy == 0.5


def test_rank_usage_errors(tmp_path: Path, capsys) -> None:
    assert cli.main(["rank", "llmbar"]) == 2
    assert "nothing to rank with" in capsys.readouterr().err
    assert cli.main(["rank", "llmbar", "--published", "x.jsonl"]) == 2
    assert "dataset judgebench" in capsys.readouterr().err
    assert cli.main(["rank", "llmbar", "--scores", "nofile"]) == 2
    assert "NAME=FILE" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    assert cli.main(["rank", "llmbar", "--scores", f"x={bad}"]) == 1
    assert f"{bad}:1: not JSON" in capsys.readouterr().err


def test_spec_build_takes_the_ranking_datasets_prompts() -> None:
    """`harness spec build --benchmark rmbench|judgebench|...` builds one spec per distinct
    prompt, which `harness rank --specs` finds again by prompt hash."""
    from harness.spec import prompt_hash

    for name in ("rmbench", "judgebench", "llmbar", "hh_harmless"):
        # HH pairs that cannot be split into prompt and answers are skipped, with a warning
        skipped = pytest.warns(UserWarning, match="skipped 5 of 2312")
        with skipped if name == "hh_harmless" else contextlib.nullcontext():
            prompts = cli.benchmark_prompts(name)
            groups = load(name)
        hashes = {prompt_hash(p) for _, p in prompts}
        assert len(hashes) == len(prompts) > 0
        assert {prompt_hash(g.prompt) for g in groups} == hashes
        assert len({i for i, _ in prompts}) == len(prompts)


def test_rank_rewardbench2_from_a_local_file(tmp_path: Path) -> None:
    """Best-of-N with the official 1/k tie rule, the Ties score and the plain mean overall."""
    from test_ranking_datasets import RB2_ROWS

    data = tmp_path / "rb2.jsonl"
    second = {**RB2_ROWS[0], "id": "1", "prompt": "What is 2 + 2?", "chosen": ["4"]}
    data.write_text("".join(json.dumps(r) + "\n" for r in [RB2_ROWS[0], second]))
    scores = tmp_path / "s.jsonl"
    rows = [  # first: chosen best; second: chosen tied with one rejected for the top -> 1/2
        {"id": "0", "chosen": [0.9], "rejected": [0.1, 0.2, 0.3]},
        {"id": "1", "chosen": [0.5], "rejected": [0.5, 0.1, 0.2]},
    ]
    scores.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "rb2"
    base = [
        "rank",
        "rewardbench2",
        "--set",
        str(data),
        "--scores",
        f"s={scores}",
        "--out",
        str(out),
    ]
    assert cli.main([*base, "--bootstrap", "200"]) == 0
    table = pd.read_csv(out / "accuracy.csv").set_index("subset")
    assert table.loc["Factuality"].accuracy == 0.75 and table.loc["overall"].accuracy == 0.75
    assert "ties: `1/k`" in (out / "report.md").read_text()
    assert cli.main([*base, "--bootstrap", "200", "--ties", "strict"]) == 0
    assert pd.read_csv(out / "accuracy.csv").set_index("subset").loc["overall"].accuracy == 0.5


def test_rank_with_a_pairwise_judge_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pairwise judge that always prefers position A: inconsistent, never right under the net
    vote; it is one more ablation row, tested against the hybrid, with its position table."""
    pointwise = longer_is_better()
    first = ScriptedJudge(lambda prompt, n: "My verdict: [[A>B]]")
    models = {"rubric_grader": pointwise, "global_grader": pointwise, "pairwise_judge": first}
    monkeypatch.setattr(
        cli, "_model", lambda name, role, *_: models[role].model() if name else None
    )
    out = tmp_path / "pw"
    args = ["rank", "llmbar", "--set", "Natural", "--limit", "6", "--grader", "scripted/judge"]
    assert (
        cli.main(
            [*args, "--pairwise-judge", "scripted/pairs", "--bootstrap", "200", "--out", str(out)]
        )
        == 0
    )
    assert first.calls == 12  # both orders of 6 pairs
    ablation = pd.read_csv(out / "ablation.csv").set_index("variant")
    assert ablation.loc["pairwise judge"].accuracy == 0.0 and ablation.loc["pairwise judge"].n == 6
    position = pd.read_csv(out / "position.csv")
    assert position.iloc[0].consistency == 0.0 and position.iloc[0].n == 6
    significance = pd.read_csv(out / "significance.csv").set_index("variant")
    assert "pairwise judge" in significance.index
    assert cli.main(["rank", "rmbench", "--grader", "x", "--pairwise-judge", "y"]) == 2
