"""The published AlpacaEval verdicts as a judge (``alpaca_verdicts/<model>``): the real
``harness/alpaca_eval`` task, the published outputs replayed as the policy and the published
verdicts as the grader, reproduces the leaderboard's win rates and their change."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import headline_of, run_eval
from inspect_ai.model import ChatMessageUser, get_model

from harness.benchmarks import alpaca_eval as ae
from harness.benchmarks.alpaca_eval import verdict_replay as vr
from harness.benchmarks.alpaca_eval.judge import parse_verdict
from harness.tasks.alpaca_eval import alpaca_eval

BEFORE, AFTER = "alpaca-7b", "alpaca-farm-ppo-human"
# the leaderboard CSV (results/official_reproduction.md prints them to 4 decimals)
PUBLISHED = {
    BEFORE: (2.591450540223603, 0.4870855382635108),
    AFTER: (4.100426814981367, 0.6304721406855217),
}
PRINTED = {"rel": 1e-14, "abs": 0}  # the CSV prints 16 significant digits


def _parsed(output, reversed: bool) -> float:
    got = parse_verdict(output.completion, output).preference
    return 3 - got if reversed else got


@pytest.mark.parametrize("model", [BEFORE, AFTER])
def test_every_published_verdict_parses_to_its_preference(model: str) -> None:
    exact = 0
    for a in ae.load_annotations(model):
        for reversed in (False, True):
            got = _parsed(vr.verdict_output(a["preference"], reversed), reversed)
            assert got == pytest.approx(a["preference"], rel=0, abs=math.ulp(a["preference"]))
            exact += got == a["preference"]
    # the parser's sum 1 + P(M)/P(m) lies on a 2^-52 grid, so a few values in (1, 1.5) seen
    # with m likelier are out of its reach: those are the nearest value, one ulp away
    assert exact >= 0.95 * 2 * ae.N_INSTRUCTIONS


def test_verdict_output_edge_cases() -> None:
    for preference in (1.0, 1.5, 2.0, 1.25, 1.000000399, 1.9999999999):
        for reversed in (False, True):
            output = vr.verdict_output(preference, reversed)
            assert _parsed(output, reversed) == pytest.approx(preference, rel=0, abs=2.3e-16)
            assert output.completion in ("m", "M") and len(output.choices) == 1
    assert vr.verdict_output(2.0).completion == "M"  # prompt order: M is the model
    assert vr.verdict_output(2.0, reversed=True).completion == "m"
    with pytest.raises(ValueError, match=r"in \[1, 2\]"):
        vr.verdict_output(2.5)


def test_unmatched_prompts_get_no_verdict() -> None:
    api = get_model(f"alpaca_verdicts/{BEFORE}").api
    assert isinstance(api, vr.AlpacaVerdictsAPI)
    a = ae.load_annotations(BEFORE)[3]
    # the published pair, in either order, is answered
    for reversed, pair in (
        (False, (a["output_1"], a["output_2"])),
        (True, (a["output_2"], a["output_1"])),
    ):
        output = api.answer(ae.judge_messages(a["instruction"], *pair))
        assert _parsed(output, reversed) == pytest.approx(a["preference"], rel=0, abs=2.3e-16)
    cases = {
        "outputs differ from the published annotation's": ae.judge_messages(
            a["instruction"], a["output_1"], a["output_2"] + " extra"
        ),
        "no published verdict for this instruction": ae.judge_messages(
            "Not an AlpacaEval instruction", a["output_1"], a["output_2"]
        ),
        "not the AlpacaEval annotator prompt": [ChatMessageUser(content="Rate this 1-10")],
    }
    for reason, messages in cases.items():
        output = api.answer(messages)
        assert output.completion == vr.REPLY_PREFIX + reason
        assert output.choices[0].logprobs is None
        with pytest.raises(ae.judge.JudgeReplyError):
            parse_verdict(output.completion, output)


def test_unknown_model_args_and_annotations_are_errors() -> None:
    with pytest.raises(Exception, match="unknown model argument"):
        get_model(f"alpaca_verdicts/{BEFORE}", responses="x")
    with pytest.raises(Exception, match="no-such-model"):
        get_model("alpaca_verdicts/no-such-model")


def _winrate_log(model: str, tmp_path):
    return run_eval(
        alpaca_eval(replay=model),
        tmp_path / model,
        {"grader": get_model(f"alpaca_verdicts/{model}")},
    )


def test_task_reproduces_the_published_win_rate_change(tmp_path) -> None:
    """Both published models through the real task (all 805 items, about a minute each): the
    logs' headline win rates and standard errors are the leaderboard's, so their change is the
    published one."""
    got, logs = {}, {}
    for model in (BEFORE, AFTER):
        log = _winrate_log(model, tmp_path)
        logs[model] = log.location
        metrics = {
            k: m.value
            for s in log.results.scores
            if s.name == "alpaca_eval_pairwise"
            for k, m in s.metrics.items()
        }
        scorer, metric, value = headline_of(log)
        assert (scorer, metric) == ("alpaca_eval_pairwise", "win_rate")
        assert value == metrics["win_rate"]
        # what our official get_winrate makes of the published verdicts, bit for bit ...
        official = ae.get_winrate([a["preference"] for a in ae.load_annotations(model)])
        assert metrics["win_rate"] == official["win_rate"]
        assert metrics["standard_error"] == official["standard_error"]
        # ... which is the leaderboard's row as printed
        win_rate, se = PUBLISHED[model]
        assert metrics["win_rate"] == pytest.approx(win_rate, **PRINTED)
        assert metrics["standard_error"] == pytest.approx(se, **PRINTED)
        row = ae.load_leaderboard().loc[model]
        for key in ("n_wins", "n_wins_base", "n_draws", "n_total", "avg_length"):
            assert metrics[key] == row[key], key
        assert metrics["unscored"] == 0
        got[model] = metrics["win_rate"]
    # +1.5090 (4.1004 - 2.5915 = +1.5089 from the rounded values)
    assert round(got[AFTER] - got[BEFORE], 4) == 1.5090
    assert got[AFTER] - got[BEFORE] == pytest.approx(
        PUBLISHED[AFTER][0] - PUBLISHED[BEFORE][0], **PRINTED
    )
    # `harness compare` on the two logs: the same change, paired over the 805 instructions
    from harness import cli

    out = tmp_path / "compare"
    names = ["--name", f"{logs[BEFORE]}={BEFORE}", "--name", f"{logs[AFTER]}={AFTER}"]
    args = ["compare", logs[BEFORE], logs[AFTER], *names, "--baseline", BEFORE]
    assert cli.main([*args, "--bootstrap", "500", "--out", str(out)]) == 0
    deltas = pd.read_csv(out / "deltas.csv").set_index(["benchmark", "metric"])
    row = deltas.loc[("alpaca_eval", "official")]
    assert row.baseline_mean == pytest.approx(got[BEFORE], rel=1e-12)
    assert row.candidate_mean == pytest.approx(got[AFTER], rel=1e-12)
    assert round(row.difference, 4) == 1.5090 and row.ci_low < row.difference < row.ci_high
    assert row.n == 805 and row.wins + row.ties + row.losses == 805
    assert (out / "comparison.md").exists() and (out / "deltas.png").exists()


def test_another_models_verdicts_leave_items_unscored_with_the_reason(tmp_path) -> None:
    """The grader replays alpaca-7b's verdicts while the policy replays ppo-human's outputs:
    only pairs whose outputs are the same in both are scored; the rest say why."""
    log = run_eval(
        alpaca_eval(replay=AFTER),
        tmp_path,
        {"grader": get_model(f"alpaca_verdicts/{BEFORE}")},
        limit=20,
    )
    same = [
        a["output_2"] == b["output_2"]
        for a, b in zip(ae.load_annotations(BEFORE), ae.load_annotations(AFTER), strict=True)
    ][:20]
    unscored = 0
    for sample in log.samples:
        score = sample.scores["alpaca_eval_pairwise"]
        if math.isnan(score.value["preference"]):
            unscored += 1
            assert score.reason == "grader_failed"
            assert "outputs differ from the published annotation" in score.explanation
    assert unscored == 20 - sum(same) > 0
