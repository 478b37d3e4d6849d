"""harness.analysis on real logs: eval() with a scripted judge (mockllm standing in for the LLM),
two epochs whose responses differ, an unscored global judgment, a checker that errors, and a
log re-scored with a second reward scorer."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import ScriptedJudge, is_global, make_spec
from inspect_ai import Task, eval, score
from inspect_ai.dataset import Sample
from inspect_ai.log import EvalLog, read_eval_log, write_eval_log
from inspect_ai.model import ModelOutput, ModelUsage
from inspect_ai.scorer import Score, Target, mean, scorer
from inspect_ai.solver import TaskState, generate

from harness.analysis import (
    CHECK_COLUMNS,
    COMPONENT_COLUMNS,
    CRITERION_COLUMNS,
    checks_df,
    components_df,
    criteria_df,
)
from harness.judges.rubric import criterion_ids_in
from harness.scorers import SPEC_KEY, hybrid_reward

SEA = make_spec(
    prompt_id="sea",
    prompt="Write about the sea.",
    criteria=[("c1", "Mentions salt.", 2.0), ("c2", "Is short.", 1.0), ("x1", "Shouts.", -1.0)],
    checkers=[
        (
            "lower",
            "All lowercase.",
            "def check(response):\n    return response == response.lower()\n",
        ),
        (
            "short",
            "At most 5 words.",
            "def check(response):\n    return len(response.split()) <= 5\n",
        ),
    ],
)
TIDES = make_spec(
    prompt_id="tides",
    prompt="Explain tides.",
    criteria=[("k1", "Mentions the moon.", 1.0)],
    checkers=[("boom", "Never runs.", "def check(response):\n    return 1 / 0\n")],
)
# Each prompt is answered differently the first and the second time it is asked (one per epoch).
RESPONSES = {
    "Write about the sea.": ["salt waves rise", "Salt Waves Rise And Fall Over Grey Rocks"],
    "Explain tides.": ["the moon pulls the sea", "Gravity."],
}
# (verdict, reason) per criterion and response
VERDICTS = {
    "salt waves rise": {"c1": "yes", "c2": "yes", "x1": "no"},
    "Salt Waves Rise And Fall Over Grey Rocks": {"c1": "yes", "c2": "partial", "x1": "yes"},
    "the moon pulls the sea": {"k1": "yes"},
    "Gravity.": {"k1": "no"},
}
VALUES = {"yes": 1.0, "partial": 0.5, "no": 0.0}
RUBRIC_USAGE = (100, 10)  # tokens in, out of each rubric call
GLOBAL_USAGE = (50, 5)


def policy() -> ScriptedJudge:
    asked: dict[str, int] = {}

    def script(prompt: str, n: int) -> str:
        asked[prompt] = asked.get(prompt, 0) + 1
        return RESPONSES[prompt][asked[prompt] - 1]

    return ScriptedJudge(script)


def reason(criterion: str, response: str) -> str:
    return f"{criterion} judged on '{response}'"


def judge() -> ScriptedJudge:
    """Answers our single-call and per-criterion rubric prompts from the response it sees; the
    global judgment of the tides prompt is always malformed."""

    def reply(content: str, usage: tuple[int, int]) -> ModelOutput:
        out = ModelOutput.from_content(model="mockllm/model", content=content)
        out.usage = ModelUsage(
            input_tokens=usage[0], output_tokens=usage[1], total_tokens=sum(usage)
        )
        return out

    def script(prompt: str, n: int) -> ModelOutput:
        response = re.search(r"<response>\n(.*?)\n</response>", prompt, re.DOTALL).group(1)
        if is_global(prompt):
            if "Explain tides." in prompt:
                return reply("I would rather not say.", GLOBAL_USAGE)
            return reply(json.dumps({"rationale": "vivid", "score": 8}), GLOBAL_USAGE)
        ids = criterion_ids_in(prompt)
        verdicts = [
            {"id": i, "verdict": VERDICTS[response][i], "reason": reason(i, response)} for i in ids
        ]
        if "Grade the response on the criterion by" in prompt:  # per-criterion mode
            [only] = verdicts
            return reply(
                json.dumps({"verdict": only["verdict"], "reason": only["reason"]}), RUBRIC_USAGE
            )
        return reply(json.dumps({"criteria": verdicts}), RUBRIC_USAGE)

    return ScriptedJudge(script)


def reward_task() -> Task:
    return Task(
        dataset=[
            Sample(
                id=spec.prompt_id,
                input=spec.prompt,
                metadata={SPEC_KEY: spec.model_dump(mode="json")},
            )
            for spec in (SEA, TIDES)
        ],
        solver=generate(),
        scorer=hybrid_reward(checker_runtime="local-unsafe"),
    )


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    [log] = eval(
        reward_task(),
        model=policy().model(),
        model_roles={"grader": judge().model()},
        epochs=2,
        log_dir=str(tmp_path_factory.mktemp("logs")),
        display="none",
    )
    assert log.status == "success", log.error
    return log.location


def responses_of(log: EvalLog) -> dict[tuple[str, int], str]:
    """(sample id, epoch) -> the response that epoch got."""
    out = {(str(s.id), s.epoch): s.output.completion for s in log.samples}
    for prompt_id, spec in (("sea", SEA), ("tides", TIDES)):
        assert sorted(out[prompt_id, e] for e in (1, 2)) == sorted(RESPONSES[spec.prompt])
    return out


def by_key(frame: pd.DataFrame, *keys: str) -> dict[tuple, dict]:
    rows = frame.to_dict("records")
    table = {tuple(r[k] for k in keys): r for r in rows}
    assert len(table) == len(rows), "duplicate keys"
    return table


def test_components_one_row_per_sample_epoch_component(log_path: str) -> None:
    log = read_eval_log(log_path)
    responses = responses_of(log)
    frame = components_df(log_path)
    assert list(frame.columns) == COMPONENT_COLUMNS
    assert len(frame) == 2 * 2 * 4
    assert set(frame["scorer"]) == {"hybrid_reward"} and set(frame["eval_id"]) == {log.eval.eval_id}
    assert set(frame["sample_id"]) == {s.uuid for s in log.samples}
    rows = by_key(frame, "id", "epoch", "component")

    for epoch in (1, 2):
        sea, tides = responses[("sea", epoch)], responses[("tides", epoch)]
        first = sea == "salt waves rise"
        rubric, code = (1.0, 1.0) if first else (0.5, 0.0)
        expected_sea = {
            "reward": ("scored", (rubric + 0.8 + code) / 3),
            "rubric": ("scored", rubric),
            "global": ("scored", 0.8),
            "code": ("scored", code),
        }
        for component, (status, value) in expected_sea.items():
            row = rows[("sea", epoch, component)]
            assert (row["status"], row["prompt_id"], row["spec_version"]) == (
                status,
                "sea",
                SEA.version,
            )
            assert row["value"] == pytest.approx(value)
        row = rows[("sea", epoch, "rubric")]
        assert (row["judge"], row["protocol"]) == ("mockllm/model", "rubric_single@2")
        # the weights the reward used: equal thirds here, renormalised over scored components
        assert row["weight"] == pytest.approx(1 / 3)
        assert (
            row["attempts"],
            row["calls"],
            row["input_tokens"],
            row["output_tokens"],
            row["cached"],
        ) == (1, 1, *RUBRIC_USAGE, False)
        row = rows[("sea", epoch, "global")]
        assert (row["calls"], row["input_tokens"], row["output_tokens"]) == (1, *GLOBAL_USAGE)
        row = rows[("sea", epoch, "reward")]
        assert (row["calls"], row["input_tokens"], row["output_tokens"]) == (
            2,
            RUBRIC_USAGE[0] + GLOBAL_USAGE[0],
            RUBRIC_USAGE[1] + GLOBAL_USAGE[1],
        )
        assert math.isnan(row["weight"]) and pd.isna(row["reason"])  # all components scored

        # tides: the global judge never answers in format, the checker errors
        k1 = VALUES[VERDICTS[tides]["k1"]]
        assert rows[("tides", epoch, "rubric")]["value"] == k1
        assert rows[("tides", epoch, "reward")]["value"] == k1  # renormalised over the rubric
        assert rows[("tides", epoch, "reward")]["status"] == "scored"
        assert "global" in rows[("tides", epoch, "reward")]["reason"]
        glob = rows[("tides", epoch, "global")]
        assert (glob["status"], glob["attempts"], glob["calls"]) == ("unscored", 3, 3)
        assert math.isnan(glob["value"])
        assert "malformed judge output" in glob["reason"]
        assert [rows[("tides", epoch, c)]["weight"] for c in ("rubric", "global", "code")] == [
            1.0,
            0.0,
            0.0,
        ]
        code_row = rows[("tides", epoch, "code")]
        assert code_row["status"] == "unscored" and math.isnan(code_row["value"])
        assert "boom" in code_row["reason"]


def test_criteria_one_row_per_sample_epoch_criterion(log_path: str) -> None:
    responses = responses_of(read_eval_log(log_path))
    frame = criteria_df(log_path)
    assert list(frame.columns) == CRITERION_COLUMNS
    expected = []
    for (sample_id, epoch), response in sorted(responses.items()):
        spec = SEA if sample_id == "sea" else TIDES
        for c in spec.criteria:
            verdict = VERDICTS[response][c.id]
            expected.append(
                {
                    "id": sample_id,
                    "epoch": epoch,
                    "scorer": "hybrid_reward",
                    "prompt_id": spec.prompt_id,
                    "spec_version": spec.version,
                    "criterion": c.id,
                    "text": c.text,
                    "weight": c.weight,
                    "verdict": verdict,
                    "value": VALUES[verdict],
                    "reason": reason(c.id, response),
                    "judge": "mockllm/model",
                    "protocol": "rubric_single@2",
                }
            )
    actual = frame.sort_values(["id", "epoch", "criterion"]).drop(
        columns=["eval_id", "log", "task", "model", "sample_id"]
    )
    expected_frame = pd.DataFrame(expected).sort_values(["id", "epoch", "criterion"])
    pd.testing.assert_frame_equal(
        actual.reset_index(drop=True), expected_frame.reset_index(drop=True), check_like=False
    )


def test_checks_one_row_per_sample_epoch_checker(log_path: str) -> None:
    responses = responses_of(read_eval_log(log_path))
    frame = checks_df(log_path)
    assert list(frame.columns) == CHECK_COLUMNS
    rows = by_key(frame, "id", "epoch", "checker")
    assert len(rows) == 2 * 2 + 2 * 1
    for epoch in (1, 2):
        ok = "pass" if responses[("sea", epoch)] == "salt waves rise" else "fail"
        for checker, constraint in (("lower", "All lowercase."), ("short", "At most 5 words.")):
            row = rows[("sea", epoch, checker)]
            assert (row["constraint"], row["status"]) == (constraint, ok)
            assert pd.isna(row["error_kind"]) and pd.isna(row["message"])
        boom = rows[("tides", epoch, "boom")]
        assert (boom["status"], boom["error_kind"]) == ("error", "exception")
        assert "ZeroDivisionError" in boom["message"]


def test_rescored_log_has_a_row_per_scorer_and_logs_combine(log_path: str, tmp_path: Path) -> None:
    """`inspect score --action append` with a second reward scorer (per-criterion rubric): both
    scorers' rows, told apart by ``scorer``; a list of logs gives the rows of each."""
    log = read_eval_log(log_path)
    rescored = score(
        log,
        hybrid_reward(rubric_mode="per_criterion", checker_runtime="local-unsafe"),
        model_roles={"grader": judge().model()},
        action="append",
        display="none",
    )
    path = tmp_path / "rescored.eval"
    write_eval_log(rescored, str(path))

    frame = criteria_df(str(path))
    assert sorted(set(frame["scorer"])) == ["hybrid_reward", "hybrid_reward1"]
    first = frame[frame["scorer"] == "hybrid_reward"].drop(columns=["scorer", "log", "protocol"])
    second = frame[frame["scorer"] == "hybrid_reward1"]
    assert set(second["protocol"]) == {"rubric_per_criterion@2"}
    pd.testing.assert_frame_equal(
        first.reset_index(drop=True),
        second.drop(columns=["scorer", "log", "protocol"]).reset_index(drop=True),
    )
    components = components_df(rescored)  # an EvalLog works as well as a path
    assert len(components) == 2 * len(components_df(log_path))
    calls = by_key(components, "id", "epoch", "scorer", "component")
    assert calls[("sea", 1, "hybrid_reward1", "rubric")]["calls"] == 3  # one per criterion

    # several logs: a second eval of one sample, one epoch
    [other] = eval(
        reward_task(),
        model=policy().model(),
        model_roles={"grader": judge().model()},
        sample_id="tides",
        log_dir=str(tmp_path / "other"),
        display="none",
    )
    both = checks_df([log_path, other.location])
    assert both.groupby("eval_id").size().to_dict() == {log.eval.eval_id: 6, other.eval.eval_id: 1}


@scorer(metrics=[mean()])
def plain() -> object:
    async def score_(state: TaskState, target: Target) -> Score:
        return Score(value=1.0, metadata={"reward_result": {"reward": "not a record"}})

    return score_


def test_logs_without_reward_records_and_bad_records(tmp_path: Path) -> None:
    task = Task(dataset=[Sample(id="a", input="hi")], solver=generate(), scorer=plain())
    [log] = eval(task, model="mockllm/model", log_dir=str(tmp_path), display="none")
    with pytest.raises(ValueError, match=r"sample a epoch 1, scorer plain: not a reward record"):
        components_df(log.location)
    log = read_eval_log(log.location)
    log.samples[0].scores["plain"].metadata = {}
    for frame, columns in (
        (components_df(log), COMPONENT_COLUMNS),
        (criteria_df(log), CRITERION_COLUMNS),
        (checks_df(log), CHECK_COLUMNS),
    ):
        assert frame.empty and list(frame.columns) == columns
