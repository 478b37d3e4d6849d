"""AlpacaEval 2: the official metric against the published leaderboard, the official judge
protocol against the published annotations, scripted pairwise judges, and end-to-end evals."""

from __future__ import annotations

import ast
import asyncio
import hashlib
import json
import math
import os
import re
import statistics
from pathlib import Path

import pytest
from conftest import ScriptedJudge, headline_of, inspect_cli, is_global, metrics_of, run_eval
from inspect_ai.log import EvalLog
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessageAssistant,
    Logprob,
    Logprobs,
    ModelOutput,
    TopLogprob,
)

from harness.benchmarks import alpaca_eval as ae
from harness.data import DataError
from harness.report import short_answer
from harness.scoring import RewardResult

# every model with published weighted_alpaca_eval_gpt4_turbo annotations in the data folder
ANNOTATED = ("alpaca-7b", "alpaca-farm-ppo-human", "alpaca-farm-ppo-sim-gpt4-20k", "phi-2-sft")
# the leaderboard CSV prints floats with 16-17 significant digits
PRINTED = {"rel": 1e-14, "abs": 0}
GLOBAL = 6
POLICY_OUTPUT = "Default output from mockllm/model"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return ae.load_records()


@pytest.fixture(scope="module")
def leaderboard():
    return ae.load_leaderboard()


# -- data ---------------------------------------------------------------------------------


def test_records_are_the_805_instructions_with_the_baseline_outputs(records) -> None:
    assert len(records) == 805
    assert [r["index"] for r in records] == list(range(805))
    assert records[0]["instruction"] == (
        "What are the names of some famous actors that started their careers on Broadway?"
    )
    assert records[0]["baseline_output"].startswith("Several famous actors started their careers")
    assert {r["dataset"] for r in records} == {
        "helpful_base",
        "koala",
        "oasst",
        "selfinstruct",
        "vicuna",
    }
    assert ae.model_outputs_file(ae.BASELINE).url == (
        "https://raw.githubusercontent.com/tatsu-lab/alpaca_eval/main/results/"
        "gpt4_1106_preview/model_outputs.json"
    )


def test_missing_or_malformed_files_are_clear_errors(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HARNESS_DATA_DIR", str(tmp_path))
    with pytest.raises(
        DataError, match=r"has no alpaca-eval/model_outputs/gpt4_1106_preview\.json"
    ):
        ae.load_records()
    with pytest.raises(DataError, match="results/alpaca-7b/weighted_alpaca_eval_gpt4_turbo"):
        ae.load_annotations("alpaca-7b")
    folder = tmp_path / "alpaca-eval" / "model_outputs"
    folder.mkdir(parents=True)
    (folder / "gpt4_1106_preview.json").write_text("[{")
    with pytest.raises(DataError, match="invalid JSON"):
        ae.load_records()
    (folder / "gpt4_1106_preview.json").write_text(json.dumps([{"instruction": "x"}]))
    with pytest.raises(DataError, match=r"item 0 lacks field\(s\) \['output'\]"):
        ae.load_records()
    (folder / "gpt4_1106_preview.json").write_text(
        json.dumps([{"instruction": "x", "output": "y"}])
    )
    with pytest.raises(DataError, match="expected 805 items, found 1"):
        ae.load_records()
    (folder / "gpt4_1106_preview.json").write_bytes(b'[{"instruction": "\xff"}]')
    with pytest.raises(DataError, match=r"gpt4_1106_preview\.json:1: invalid UTF-8"):
        ae.load_records()


# -- the official metric against the published leaderboard --------------------------------


def test_every_annotated_model_is_checked() -> None:
    folder = (
        Path(os.environ["HARNESS_DATA_DIR"]) / "alpaca-eval" / "annotations_weighted_gpt4_turbo"
    )
    assert sorted(p.stem for p in folder.glob("*.json")) == sorted(ANNOTATED)


@pytest.mark.parametrize("model", ANNOTATED)
def test_winrate_reproduces_the_leaderboard(model: str, leaderboard) -> None:
    row = leaderboard.loc[model]
    got = ae.get_winrate([a["preference"] for a in ae.load_annotations(model)])
    assert got["win_rate"] == pytest.approx(row["win_rate"], **PRINTED)
    assert got["standard_error"] == pytest.approx(row["standard_error"], **PRINTED)
    assert got["discrete_win_rate"] == pytest.approx(row["discrete_win_rate"], **PRINTED)
    for key in ("n_wins", "n_wins_base", "n_draws", "n_total"):
        assert got[key] == row[key], key


def test_published_values(leaderboard) -> None:
    """The numbers the leaderboard prints, as a plain record of what is reproduced."""
    expected = {  # model: (win_rate, standard_error) as printed in the CSV
        "alpaca-7b": (2.591450540223603, 0.4870855382635108),
        "alpaca-farm-ppo-human": (4.100426814981367, 0.6304721406855217),
        "alpaca-farm-ppo-sim-gpt4-20k": (3.450341987080745, 0.5834901037598084),
        "phi-2-sft": (3.977567775217392, 0.6098271417287373),
    }
    for model, (win_rate, se) in expected.items():
        assert leaderboard.loc[model, "win_rate"] == win_rate
        got = ae.get_winrate([a["preference"] for a in ae.load_annotations(model)])
        assert (got["win_rate"], got["standard_error"]) == pytest.approx((win_rate, se), **PRINTED)


def test_baseline_against_itself_is_the_leaderboard_row(leaderboard, records) -> None:
    row = leaderboard.loc[ae.BASELINE]
    got = ae.get_winrate([1.5] * len(records))  # identical outputs: all draws
    assert (got["win_rate"], got["standard_error"]) == (row["win_rate"], row["standard_error"])
    assert (got["n_draws"], got["n_total"], got["n_wins"]) == (805, 805, 0)
    assert got["discrete_win_rate"] == row["discrete_win_rate"] == 50.0


@pytest.mark.parametrize(
    "model",
    sorted(
        p.stem
        for p in (Path(os.environ["HARNESS_DATA_DIR"]) / "alpaca-eval" / "model_outputs").glob(
            "*.json"
        )
    ),
)
def test_avg_length_reproduces_the_leaderboard(model: str, leaderboard, records) -> None:
    assert ae.avg_length(ae.aligned_outputs(model, records)) == leaderboard.loc[model, "avg_length"]


def test_winrate_edge_cases() -> None:
    got = ae.get_winrate([1.0, 2.0, 1.5, None, math.nan, 0, 1.75])
    # None / NaN are dropped (the official validation), 0 is the old encoding of a draw
    assert got["n_total"] == 5 and got["n_draws"] == 2
    assert got["win_rate"] == pytest.approx((0 + 1 + 0.5 + 0.5 + 0.75) / 5 * 100)
    assert got["standard_error"] == pytest.approx(
        statistics.stdev([0, 1, 0.5, 0.5, 0.75]) / math.sqrt(5) * 100
    )
    assert (got["n_wins"], got["n_wins_base"]) == (2, 1)
    assert got["discrete_win_rate"] == pytest.approx((0 + 1 + 0.5 + 0.5 + 1) / 5 * 100)


def test_discrete_preference_is_the_zero_one_rule() -> None:
    # 1.5 is a draw; the rest rounds (half to even) to 1 or 2; 0 is the old encoding of a draw
    cases = {1.0: 1.0, 1.4999: 1.0, 1.5: 1.5, 1.5001: 2.0, 2.0: 2.0, 0: 1.5, -0.4: 1.5, 2.5: 2.0}
    for preference, discrete in cases.items():
        assert ae.discrete_preference(preference) == discrete, preference
    assert math.isnan(ae.discrete_preference(None))
    assert math.isnan(ae.discrete_preference(math.nan))
    value = ae.preference_values(1.7, "four")
    assert value == {"preference": 1.7, "discrete_preference": 2.0, "length": 4.0}
    unscored = ae.preference_values(None, "")
    assert set(unscored) == set(ae.VALUE_KEYS) and unscored["length"] == 0.0
    assert math.isnan(unscored["preference"]) and math.isnan(unscored["discrete_preference"])


# -- the official judge protocol ------------------------------------------------------------


def test_judge_template_is_the_official_file_verbatim() -> None:
    # sha256 of alpaca_eval 0.6.6 evaluators_configs/alpaca_eval_clf_gpt4_turbo/alpaca_eval_clf.txt
    assert (
        hashlib.sha256(ae.JUDGE_TEMPLATE.encode()).hexdigest()
        == "784227e6dc2832fc08c43d2c8ea3a308e7523780187a1aaad2f85e30bac85f62"
    )
    system, user = ae.judge_messages("INSTR {output_1}", "first", "second")
    assert system.role == "system" and user.role == "user"
    assert system.content.startswith("You are a highly efficient assistant, who evaluates")
    assert system.content.endswith("human-preferred answers.")
    # placeholders are replaced once each, in turn, as alpaca_eval.utils.make_prompts does
    assert '"instruction": """INSTR first""",' in user.content
    assert '"output": """{output_1}"""' in user.content
    assert '"output": """second"""' in user.content
    assert user.content.endswith("## Best Model Identifier")


def _published_output(raw_completion: str | dict) -> ModelOutput:
    """A published raw completion (the OpenAI response, or its Python repr) as a ModelOutput."""
    completion = (
        ast.literal_eval(raw_completion) if isinstance(raw_completion, str) else raw_completion
    )
    content = [
        Logprob(
            token=c["token"],
            logprob=c["logprob"],
            top_logprobs=[
                TopLogprob(token=t["token"], logprob=t["logprob"]) for t in c["top_logprobs"]
            ],
        )
        for c in completion["logprobs"]["content"]
    ]
    return ModelOutput(
        model="gpt-4-1106-preview",
        choices=[
            ChatCompletionChoice(
                message=ChatMessageAssistant(content=completion["message"]["content"]),
                stop_reason="max_tokens",
                logprobs=Logprobs(content=content),
            )
        ],
    )


INSTRUCTION = re.compile(r'"instruction": """(.*?)""",\n}\n\n## Model Outputs', re.DOTALL)


@pytest.mark.parametrize("model", ANNOTATED)
def test_protocol_reproduces_the_published_annotations(model: str, records) -> None:
    """Replaying the published judge replies through judge_pair gives the published preferences.

    This checks the prompt order (the seeded switch), the logprob parser and the un-switching.
    """
    annotations = ae.load_annotations(model)
    outputs = ae.aligned_outputs(model, records)
    replies = {
        a["instruction"]: _published_output(a["raw_completion"])
        for a in annotations
        if a.get("raw_completion")
    }
    judge = ScriptedJudge(lambda prompt, n: replies[INSTRUCTION.search(prompt).group(1)])
    model_judge = judge.model()

    async def run() -> list[ae.PairwiseJudgment]:
        return await asyncio.gather(
            *(
                ae.judge_pair(model_judge, r["instruction"], out, r["baseline_output"])
                for r, out in zip(records, outputs, strict=True)
            )
        )

    judgments = asyncio.run(run())
    assert judge.calls == len(replies)  # identical outputs are draws without a call
    for a, j in zip(annotations, judgments, strict=True):
        assert j.status == "scored"
        assert j.preference == pytest.approx(a["preference"], abs=1e-9)  # published: 10 decimals
        assert j.source == ("logprobs" if a.get("raw_completion") else "identical_outputs")
    got = ae.get_winrate([j.preference for j in judgments])
    row = ae.load_leaderboard().loc[model]
    assert got["win_rate"] == pytest.approx(row["win_rate"], abs=1e-6)
    assert (got["n_wins"], got["n_wins_base"], got["n_draws"]) == (
        row["n_wins"],
        row["n_wins_base"],
        row["n_draws"],
    )


# -- scripted pairwise judges ---------------------------------------------------------------


def logprob_output(top: dict[str, float]) -> ModelOutput:
    token = max(top, key=top.get)
    return ModelOutput(
        model="mockllm/model",
        choices=[
            ChatCompletionChoice(
                message=ChatMessageAssistant(content=token),
                stop_reason="max_tokens",
                logprobs=Logprobs(
                    content=[
                        Logprob(
                            token=token,
                            logprob=top[token],
                            top_logprobs=[TopLogprob(token=t, logprob=lp) for t, lp in top.items()],
                        )
                    ]
                ),
            )
        ],
    )


def model_identifier_in(prompt: str, output: str) -> str:
    """Which identifier the judge prompt gives the output (m or M)."""
    [ident] = re.findall(
        r'"model_identifier": "(m|M)",\n        "output": """' + re.escape(output) + '"""', prompt
    )
    return ident


MODEL_OUT, BASE_OUT = "the model's answer", "the baseline's answer"


@pytest.fixture(scope="module")
def both_orders(records) -> dict[bool, str]:
    """An instruction the official annotator switches, and one it does not."""
    out: dict[bool, str] = {}
    for r in records:
        out.setdefault(ae.is_switched(r["instruction"]), r["instruction"])
    return out


def judge(script, instruction: str, output: str = MODEL_OUT, **kwargs) -> ae.PairwiseJudgment:
    return asyncio.run(ae.judge_pair(script.model(), instruction, output, BASE_OUT, **kwargs))


@pytest.mark.parametrize("switched", [False, True])
def test_text_verdict_in_both_orders(switched: bool, both_orders) -> None:
    instruction = both_orders[switched]
    # a judge that prefers the model's output, wherever it is shown
    prefers_model = ScriptedJudge(lambda p, n: model_identifier_in(p, MODEL_OUT))
    j = judge(prefers_model, instruction)
    assert model_identifier_in(prefers_model.prompts[0], MODEL_OUT) == ("m" if switched else "M")
    assert model_identifier_in(prefers_model.prompts[0], BASE_OUT) == ("M" if switched else "m")
    assert (j.preference, j.status, j.source, j.switched) == (2.0, "scored", "text", switched)
    assert j.model_identifier == ("m" if switched else "M")
    assert j.raw == j.token and j.attempts == 1 and j.usage.calls == 1
    # a judge that always answers "m" (the first output)
    j = judge(ScriptedJudge(lambda p, n: "m"), instruction)
    assert j.preference == (2.0 if switched else 1.0)


@pytest.mark.parametrize("switched", [False, True])
def test_weighted_verdict_from_logprobs_in_both_orders(switched: bool, both_orders) -> None:
    top = {"m": math.log(0.7), "M": math.log(0.25), "Both": math.log(0.05)}
    j = judge(ScriptedJudge(lambda p, n: logprob_output(top)), both_orders[switched])
    # prompt order: 2 - P(m) / (P(m) + P(M)); model order: 3 - that when switched
    p_first = 0.7 / 0.95
    assert j.p_first == pytest.approx(p_first)
    assert j.preference == pytest.approx(1 + p_first if switched else 2 - p_first)
    assert (j.source, j.token) == ("logprobs", "m")
    assert json.loads(j.model_dump_json())["model_identifier"] == ("m" if switched else "M")


def test_malformed_output_is_unscored_with_reason(both_orders) -> None:
    script = ScriptedJudge(lambda p, n: "Output M is clearly better.")
    j = judge(script, both_orders[False])
    assert j.status == "unscored" and j.preference is None and math.isnan(j.value)
    assert j.reason == (
        "malformed judge output: expected only the model identifier m or M, got "
        "'Output M is clearly better.' (3 attempts)"
    )
    assert script.calls == 3 and j.attempts == 3 and j.usage.calls == 3
    assert j.raw == "Output M is clearly better."
    assert "That reply could not be used" in script.prompts[1]  # a correction turn


def test_logprobs_without_an_identifier_and_bad_text_are_unscored(both_orders) -> None:
    j = judge(
        ScriptedJudge(lambda p, n: logprob_output({"The": -0.1, "Both": -2.5})), both_orders[True]
    )
    assert j.status == "unscored"
    assert "got 'The' (and no logprobs for m / M) (3 attempts)" in j.reason


def test_empty_output_is_unscored_and_a_retry_can_recover(both_orders) -> None:
    j = judge(ScriptedJudge(lambda p, n: ""), both_orders[False])
    assert j.status == "unscored" and "empty judge output" in j.reason
    recovering = ScriptedJudge(lambda p, n: "M is better" if n == 1 else "M")
    j = judge(recovering, both_orders[False])
    assert (j.status, j.preference, j.attempts) == ("scored", 2.0, 2)


def test_identical_outputs_are_a_draw_without_a_call(both_orders) -> None:
    script = ScriptedJudge(lambda p, n: "m")
    j = judge(script, both_orders[True], output=BASE_OUT)
    assert (j.preference, j.source, script.calls) == (1.5, "identical_outputs", 0)


def test_judge_config_is_the_official_one(both_orders) -> None:
    script = ScriptedJudge(lambda p, n: "M")
    judge(script, both_orders[False])
    [config] = script.configs
    assert (config.max_tokens, config.logprobs, config.top_logprobs) == (1, True, 5)


def test_the_logprob_recorder_stands_for_its_model() -> None:
    """ask_judge reads the judge's name, config and API (per-role settings, provider quirks)."""
    from harness.benchmarks.alpaca_eval.judge import _Recorder

    model = ScriptedJudge(lambda p, n: "M").model()
    recorder = _Recorder(model)
    assert str(recorder) == str(model) == "mockllm/model"
    assert recorder.config is model.config and recorder.api is model.api


# -- end to end ----------------------------------------------------------------------------


def unscored_samples(log: EvalLog) -> int:
    """Samples Inspect itself left out of the pairwise metrics (a bare NaN value): none, since
    an unscored preference is explicit in Score.value and counted by the scorer."""
    scores = [s for s in log.results.scores if s.name == "alpaca_eval_pairwise"]
    assert len(scores) == 2  # the reduced metrics, then the unreduced count
    return sum(s.unscored_samples for s in scores)


def pairwise_script(records: list[dict], preference_of) -> ScriptedJudge:
    """A grader: the global judgment, and a weighted pairwise verdict whose P(model's output is
    best) is ``preference_of(index, nth call for this instruction)``."""
    by_instruction = {r["instruction"]: r["index"] for r in records}
    seen: dict[int, int] = {}

    def script(prompt: str, n: int):
        if is_global(prompt):
            return json.dumps({"rationale": "fine", "score": GLOBAL})
        index = by_instruction[INSTRUCTION.search(prompt).group(1)]
        seen[index] = seen.get(index, 0) + 1
        model_id = model_identifier_in(prompt, POLICY_OUTPUT)
        base_id = "m" if model_id == "M" else "M"
        p = preference_of(index, seen[index])
        return logprob_output({model_id: math.log(p), base_id: math.log(1 - p)})

    return ScriptedJudge(script)


P_MODEL = {0: 0.9, 3: 0.2, 6: 0.6}  # the scripted judge's P(model's output is best), by item


def test_task_end_to_end_with_a_weighted_judge(tmp_path: Path, records) -> None:
    from harness.tasks.alpaca_eval import alpaca_eval

    grader = pairwise_script(records, lambda index, nth: P_MODEL[index])
    log = run_eval(alpaca_eval(), tmp_path, {"grader": grader.model()}, sample_id=list(P_MODEL))
    assert grader.calls == 6  # one pairwise and one global judgment per sample
    assert {ae.is_switched(records[i]["instruction"]) for i in P_MODEL} == {False, True}
    for sample in log.samples:
        instruction = records[sample.id]["instruction"]
        assert sample.input == instruction
        pairwise = sample.scores["alpaca_eval_pairwise"]
        assert pairwise.value == {
            "preference": pytest.approx(1 + P_MODEL[sample.id]),
            "discrete_preference": 2.0 if P_MODEL[sample.id] > 0.5 else 1.0,
            "length": len(POLICY_OUTPUT),
        }
        assert pairwise.answer == short_answer(POLICY_OUTPUT) and pairwise.reason is None
        j = ae.judgment_of(pairwise)
        assert j.switched == ae.is_switched(instruction)
        model_id, base_id = ("m", "M") if j.switched else ("M", "m")
        assert j.source == "logprobs" and j.judge == "mockllm/model"
        assert j.raw == j.token == (model_id if P_MODEL[sample.id] > 0.5 else base_id)
        assert "### AlpacaEval preference" in pairwise.explanation
        # the prompt-only spec: the reward is the global component alone
        hybrid = sample.scores["hybrid_reward"]
        assert hybrid.value["reward"] == pytest.approx(GLOBAL / 10)
        assert hybrid.value["global"] == pytest.approx(GLOBAL / 10)
        assert math.isnan(hybrid.value["rubric"]) and math.isnan(hybrid.value["code"])
        result = RewardResult.from_metadata(hybrid.metadata)
        assert result.rubric.status == "absent" and result.code.status == "absent"
    m = metrics_of(log)
    wins = [P_MODEL[i] for i in P_MODEL]
    assert m["alpaca_eval_pairwise/win_rate"] == pytest.approx(100 * sum(wins) / 3)
    assert m["alpaca_eval_pairwise/standard_error"] == pytest.approx(
        100 * statistics.stdev(wins) / math.sqrt(3)
    )
    assert m["alpaca_eval_pairwise/discrete_win_rate"] == pytest.approx(200 / 3)
    assert m["alpaca_eval_pairwise/n_wins"] == 2 and m["alpaca_eval_pairwise/n_wins_base"] == 1
    assert m["alpaca_eval_pairwise/n_total"] == 3 and m["alpaca_eval_pairwise/unscored"] == 0
    assert m["alpaca_eval_pairwise/avg_length"] == len(POLICY_OUTPUT)
    assert m["hybrid_reward/reward"] == pytest.approx(GLOBAL / 10)
    # the headline is the official win rate: the first metric of the first scorer
    assert headline_of(log)[1:] == ("win_rate", pytest.approx(100 * sum(wins) / 3))
    [first, *_] = log.results.scores
    assert (first.name, next(iter(first.metrics))) == ("alpaca_eval_pairwise", "win_rate")
    # what produced the number
    assert log.eval.task_version == 2
    protocols = log.eval.metadata["protocols"]
    assert protocols["pairwise"] == "weighted_alpaca_eval_gpt4_turbo@1" == ae.PROTOCOL
    assert set(protocols) == {"pairwise", "rubric", "global"}
    assert log.eval.metadata["baseline"] == "gpt4_1106_preview"


P_EPOCHS = {0: (0.9, 0.3), 3: (0.2, 0.45), 6: (0.6, 0.8)}  # P(model best) in the 1st, 2nd call


def test_epochs_official_metrics_are_the_means_of_the_per_epoch_ones(
    tmp_path: Path, records
) -> None:
    from harness.tasks.alpaca_eval import alpaca_eval

    grader = pairwise_script(records, lambda index, nth: P_EPOCHS[index][nth - 1])
    log = run_eval(
        alpaca_eval(), tmp_path, {"grader": grader.model()}, sample_id=list(P_EPOCHS), epochs=2
    )
    assert len(log.samples) == 6
    # each epoch got one of the two verdicts (which one is up to the scheduling)
    per_epoch: dict[int, list[float]] = {}
    for sample in log.samples:
        value = sample.scores["alpaca_eval_pairwise"].value
        per_epoch.setdefault(sample.epoch, []).append(value["preference"])
    for index, ps in P_EPOCHS.items():
        got = sorted(
            s.scores["alpaca_eval_pairwise"].value["preference"]
            for s in log.samples
            if s.id == index
        )
        assert got == pytest.approx(sorted(1 + p for p in ps))
    epoch_metrics = [ae.get_winrate(prefs) for prefs in per_epoch.values()]
    assert len(epoch_metrics) == 2
    m = metrics_of(log)
    for key in ("win_rate", "discrete_win_rate"):
        expected = statistics.mean(e[key] for e in epoch_metrics)
        assert m[f"alpaca_eval_pairwise/{key}"] == pytest.approx(expected), key
    # the same numbers straight from the script, whatever epoch got which verdict
    all_p = [p for ps in P_EPOCHS.values() for p in ps]
    assert m["alpaca_eval_pairwise/win_rate"] == pytest.approx(100 * statistics.mean(all_p))
    assert m["alpaca_eval_pairwise/discrete_win_rate"] == pytest.approx(
        100 * statistics.mean(p > 0.5 for p in all_p)
    )
    assert m["alpaca_eval_pairwise/avg_length"] == len(POLICY_OUTPUT)
    assert m["alpaca_eval_pairwise/n_total"] == 3 and m["alpaca_eval_pairwise/unscored"] == 0
    assert headline_of(log)[1:] == ("win_rate", pytest.approx(100 * statistics.mean(all_p)))


def test_task_replaying_published_outputs(tmp_path: Path, records) -> None:
    """alpaca-7b's outputs: items 199 and 370 equal the baseline's (draws, no judge call); the
    judge's reply for item 5 is malformed (unscored: left out of the win rate, counted); item 6
    is won by the model."""
    from harness.tasks.alpaca_eval import alpaca_eval

    outputs = ae.aligned_outputs("alpaca-7b", records)
    by_instruction = {r["instruction"]: r["index"] for r in records}

    def script(prompt: str, n: int) -> str:
        if is_global(prompt):
            return json.dumps({"rationale": "fine", "score": GLOBAL})
        index = by_instruction[INSTRUCTION.search(prompt).group(1)]
        return "either" if index == 5 else model_identifier_in(prompt, outputs[index])

    grader = ScriptedJudge(script)
    ids = [5, 6, 199, 370]
    log = run_eval(
        alpaca_eval(replay="alpaca-7b"), tmp_path, {"grader": grader.model()}, sample_id=ids
    )
    assert grader.calls == 4 + 3 + 1  # global ×4, item 5 ×3 attempts, item 6 ×1
    scores = {s.id: s.scores["alpaca_eval_pairwise"] for s in log.samples}
    preferences = {i: score.value["preference"] for i, score in scores.items()}
    assert preferences[6] == 2.0 and preferences[199] == preferences[370] == 1.5
    assert math.isnan(preferences[5]) and math.isnan(scores[5].value["discrete_preference"])
    assert scores[5].reason == "grader_failed"
    unscored = ae.judgment_of(scores[5])
    assert unscored.status == "unscored" and unscored.reason.startswith("malformed judge output")
    assert "unscored" in scores[5].explanation
    assert all(s.output.completion == outputs[s.id] for s in log.samples)
    for i, score in scores.items():
        assert score.value["length"] == len(outputs[i])
        assert score.answer == short_answer(outputs[i])
    m = metrics_of(log)
    assert m["alpaca_eval_pairwise/win_rate"] == pytest.approx(100 * (1 + 0.5 + 0.5) / 3)
    assert m["alpaca_eval_pairwise/standard_error"] == pytest.approx(
        100 * statistics.stdev([1, 0.5, 0.5]) / math.sqrt(3)
    )
    assert (m["alpaca_eval_pairwise/n_total"], m["alpaca_eval_pairwise/n_draws"]) == (3, 2)
    assert m["alpaca_eval_pairwise/unscored"] == 1 and unscored_samples(log) == 0
    # as the leaderboard: the length of every output, judged or not
    assert m["alpaca_eval_pairwise/avg_length"] == int(sum(len(outputs[i]) for i in ids) / 4)


def test_task_without_a_grader_is_unscored_not_zero(tmp_path: Path) -> None:
    from harness.tasks.alpaca_eval import alpaca_eval

    log = run_eval(alpaca_eval(require_grader=False), tmp_path, {}, limit=1)
    score = log.samples[0].scores["alpaca_eval_pairwise"]
    assert math.isnan(score.value["preference"]) and score.reason == "scoring_failed"
    assert ae.judgment_of(score).reason == "no grader model bound (grader role)"
    m = metrics_of(log)
    assert m["alpaca_eval_pairwise/unscored"] == 1 and unscored_samples(log) == 0
    assert m["alpaca_eval_pairwise/n_total"] == 0 and math.isnan(m["alpaca_eval_pairwise/win_rate"])
    assert headline_of(log)[1] == "win_rate"


def test_inspect_eval_without_a_grader_stops_before_generating(tmp_path: Path) -> None:
    status, output = inspect_cli(
        "eval", "harness/alpaca_eval", "--model", "mockllm/model", "--limit", "1",
        "--log-dir", str(tmp_path), "--display", "plain",
    )  # fmt: skip
    assert status != 0
    assert len(output) == 1, output
    assert output[0].startswith("No judge bound for grader: pass --model-role grader=<model>")
    assert not list(tmp_path.glob("*.eval"))  # no eval started, nothing generated
