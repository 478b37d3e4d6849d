"""Published Creative Writing v3 results as a policy (``-T replay=``) and a judge
(``creative_writing_judge/``): the scorer reproduces the published item scores, and `harness
compare` the published change between gemma-2-9b-it and a fine-tune of it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from inspect_ai import eval
from inspect_ai.log import read_eval_log
from inspect_ai.model import ChatMessageUser, get_model

from harness import cli
from harness.benchmarks.creative_writing.published import (
    PROVIDER,
    published_judge_reply,
    published_rows,
)
from harness.data import DataError
from harness.tasks.creative_writing import creative_writing

BEFORE, AFTER = "google__gemma-2-9b-it", "ifable__gemma-2-Ifable-9B"
PROMPTS = ["14", "30"]


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("cw-published")
    out = {}
    for model in (BEFORE, AFTER):
        [log] = eval(
            creative_writing(prompt_id=PROMPTS, replay=model),
            model_roles={"grader": get_model(f"{PROVIDER}/{model}")},
            log_dir=str(folder / model),
            display="none",
        )
        assert log.status == "success", log.error
        out[model] = log.location
    return out


def test_replayed_policy_and_judge_give_the_published_item_scores(logs: dict[str, str]) -> None:
    for model, location in logs.items():
        published = {r["id"]: r for r in published_rows(model) if r["prompt_id"] in PROMPTS}
        log = read_eval_log(location)
        assert len(log.samples) == len(published) == 6
        for sample in log.samples:
            row = published[sample.id]
            assert sample.output.completion == row["response"]
            value = sample.scores["hybrid_reward"].value
            # the page shows the item score rounded to one decimal (0-100 scale)
            assert round(round(value["item_score"], 2) * 5, 1) == row["item_score"]
            # the hybrid reward's global judge gets no made-up verdict: unscored, with the reason
            assert value["global"] != value["global"]  # NaN
            glob = sample.scores["hybrid_reward"].metadata["reward_result"]["global"]
            assert glob["status"] == "unscored"
            assert f"{PROVIDER}: not the Creative Writing v3 judging prompt" in glob["reason"]


def test_compare_gives_the_published_change(logs: dict[str, str], tmp_path: Path) -> None:
    names = [f"--name={logs[m]}={m}" for m in (BEFORE, AFTER)]
    out = tmp_path / "report"
    args = ["compare", *logs.values(), *names, "--baseline", BEFORE, "--out", str(out)]
    assert cli.main([*args, "--bootstrap", "300"]) == 0
    deltas = pd.read_csv(out / "deltas.csv").set_index(["benchmark", "metric"])
    row = deltas.loc[("creative_writing", "official")]
    mean = {
        m: sum(r["item_score"] for r in published_rows(m) if r["prompt_id"] in PROMPTS) / 6
        for m in (BEFORE, AFTER)
    }
    # published item scores are rounded to 0.1: the means agree to that
    assert row.baseline_mean == pytest.approx(mean[BEFORE], abs=0.05)
    assert row.difference == pytest.approx(mean[AFTER] - mean[BEFORE], abs=0.1)
    assert row.n == 6 and row.ci_low <= row.difference <= row.ci_high


def test_the_judge_answers_only_the_official_prompt_for_published_responses() -> None:
    import asyncio

    judge = get_model(f"{PROVIDER}/{BEFORE}")
    row = published_rows(BEFORE)[0]

    def ask(text: str) -> str:
        return asyncio.run(judge.generate([ChatMessageUser(content=text)])).completion

    official = f"[TEST MODEL RESPONSE]\n\n{row['response'].strip()}\n\n[TEST MODEL RESPONSE END]"
    assert ask(f"Judge this.\n{official}\nScores:") == published_judge_reply(row)[0]
    assert ask("[TEST MODEL RESPONSE]\n\nsomething else\n\n[TEST MODEL RESPONSE END]").startswith(
        f"{PROVIDER}: no published judge reply"
    )
    assert ask("Rate this response on a 0-10 scale").startswith(f"{PROVIDER}: not the")
    with pytest.raises(DataError, match="no published Creative Writing v3 results for 'nobody'"):
        published_rows("nobody")
