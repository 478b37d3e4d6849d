"""Stored responses as a model (`replay/`): strict reading with file:line errors, matching by
id and prompt, and the coverage check that runs before any sample."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from conftest import inspect_cli
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.log import read_eval_log
from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser, get_model
from inspect_ai.solver import generate, prompt_template

from harness.data import read_jsonl
from harness.replay import ReplayError, StoredResponse, StoredResponses, with_replay_coverage

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ["HARNESS_DATA_DIR"])


def write(path: Path, *records: dict | str) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ReplayError) as error:
        StoredResponses(path)
    return str(error.value)


# -- reading ------------------------------------------------------------------------------------


def test_records_keep_their_line_numbers(tmp_path: Path) -> None:
    p = write(
        tmp_path / "r.jsonl",
        {"id": 7, "prompt": "Hi there ", "response": "A"},
        "",
        {"instruction": "Other", "output": "B"},
    )
    stored = StoredResponses(p)
    assert stored.by_id == {"7": StoredResponse("A", 1, "Hi there ")}
    assert stored.by_prompt == {
        "Hi there": [StoredResponse("A", 1, "Hi there ")],
        "Other": [StoredResponse("B", 3, "Other")],
    }
    listed = tmp_path / "r.json"
    listed.write_text(
        '[\n  {"instruction": "Hi", "output": "A"},\n\n  {"key": 2, "completion": "B"}\n]'
    )
    assert StoredResponses(listed).by_id == {"2": StoredResponse("B", 4, None)}


@pytest.mark.parametrize(
    "record, message",
    [
        ({"id": 1, "response": None}, "field 'response' must be a string, got null"),
        ({"id": 1, "output": 12345}, "field 'output' must be a string, got number"),
        ({"id": 1, "response": ["the sea"]}, "field 'response' must be a string, got array"),
        ({"uid": "u", "messages": [{"role": "assistant", "content": {"answer": None}}]}, "field 'messages[-1].content.answer' must be a string, got null"),
        ({"question_id": "q", "choices": [{"turns": [{"content": 3}]}]}, "field 'choices[0].turns[0].content' must be a string, got number"),
        ({"id": 1, "text": "x"}, "no response field (response, output, completion or an Arena-Hard answer)"),
        ({"response": "x", "prompt": ["not", "text"]}, "no id (id, sample_id, key, uid, question_id, index) and no text prompt (prompt, instruction, input)"),
        ({"id": "0", "response": "other"}, "id '0' already has a different response (line 1)"),
    ],
)  # fmt: skip
def test_bad_records_are_located(tmp_path: Path, record: dict, message: str) -> None:
    p = write(tmp_path / "r.jsonl", {"id": 0, "response": "first"}, "", record)
    assert error_of(p) == f"replay: {p}:3: {message}"


def test_unreadable_files(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_bytes(b'{"id": 1, "response": "ok"}\n{"id": 2, "response": "\xff"}\n')
    assert (
        error_of(p)
        == f"replay: {p}:2: invalid UTF-8 (byte 0xff at column 24); save the file as UTF-8"
    )
    p.write_text('{"id": 1, "response": "ok"}\n{"id": 2, "response": }\n')
    assert error_of(p) == f"replay: {p}:2: invalid JSON: Expecting value (column 23)"
    p.write_text('[\n  {"id": 1, "response": "ok"},\n  {"id": 2, "response": null}\n]\n')
    assert error_of(p) == f"replay: {p}:3: field 'response' must be a string, got null"
    assert error_of(tmp_path / "none.jsonl") == f"replay: {tmp_path / 'none.jsonl'} does not exist"
    assert StoredResponses(write(p, {"id": 1, "response": "same"}, {"id": 1, "response": "same"}))


def test_every_published_responses_file_reads() -> None:
    """Strict reading accepts the real files: AlpacaEval outputs, Arena-Hard answers, IFBench."""
    files = [
        *sorted((DATA / "alpaca-eval" / "model_outputs").glob("*.json")),
        *sorted((DATA / "arena-hard").glob("*/model_answer/*.jsonl")),
        DATA / "ifbench" / "sample_output.jsonl",
    ]
    assert len(files) > 40
    for path in files:
        stored = StoredResponses(path)
        assert stored.by_id or stored.by_prompt, path


def test_matching_by_id_and_prompt(tmp_path: Path) -> None:
    p = write(
        tmp_path / "r.jsonl",
        {"id": "s1", "prompt": "Name a colour.", "response": "red"},
        {"id": "s2", "response": "blue"},
        {"prompt": "Twice asked.", "response": "one"},
        {"prompt": "Twice asked. ", "response": "two"},
        {"prompt": "Same twice.", "response": "same"},
        {"prompt": "Same twice.", "response": "same"},
    )
    stored = StoredResponses(p)
    assert stored.match("s1", " Name a colour.").response == "red"
    assert stored.match("s2", "anything").response == "blue"  # no prompt stored: the id decides
    assert stored.match("s1", "Name a shape.") == (
        "line 1 has its id but another prompt (-M key=id trusts ids, -M key=prompt matches "
        "prompts only)"
    )
    assert stored.match("s1", "Name a shape.", key="id").response == "red"
    assert stored.match("zz", "Name a colour.").response == "red"  # by prompt
    assert stored.match("s2", "Name a colour.", key="prompt").response == "red"
    assert stored.match(None, "Twice asked.") == "its prompt has different responses on lines 3, 4"
    assert stored.match(None, "Same twice.").response == "same"
    assert stored.match("zz", "Nothing.") == "no record with its id or prompt"
    assert stored.match("zz", "Name a colour.", key="id") == "no record with its id"


# -- the coverage check, in evals ---------------------------------------------------------------


@pytest.fixture(scope="module")
def ifeval_keys() -> list[str]:
    return [str(r["key"]) for r in read_jsonl(DATA / "ifeval" / "input_data.jsonl")]


def responses_without(path: Path, keys: list[str], left_out: set[str]) -> Path:
    return write(
        path, *({"key": k, "response": f"Response {k}."} for k in keys if k not in left_out)
    )


def test_ifeval_without_some_responses_fails_before_any_sample(
    tmp_path: Path, ifeval_keys: list[str]
) -> None:
    assert len(ifeval_keys) == 541
    left_out = [ifeval_keys[1], ifeval_keys[4], ifeval_keys[300]]
    responses = responses_without(tmp_path / "r.jsonl", ifeval_keys, set(left_out))
    with pytest.raises(ReplayError) as error:
        eval(
            "harness/ifeval",
            model="replay/partial",
            model_args={"responses": str(responses)},
            log_dir=str(tmp_path / "logs"),
            display="none",
        )
    assert str(error.value) == (
        f"replay: {responses} has no response for 3 of 541 samples: {', '.join(left_out)}. "
        "Add them, or pass -M skip_missing=true to evaluate the 538 it has (also for --limit / "
        "--sample-id with a partial file: Inspect applies them after this check)"
    )
    assert not (tmp_path / "logs").exists()  # stopped before the eval started

    wrong = write(
        tmp_path / "w.jsonl", {"id": "x1", "response": "a"}, {"id": "x2", "response": "b"}
    )
    with pytest.raises(ReplayError) as error:
        eval(
            "harness/ifeval", model="replay/w", model_args={"responses": str(wrong)}, display="none"
        )
    assert str(error.value) == (
        f"replay: {wrong} has a response for none of the 541 samples "
        f"({', '.join(ifeval_keys[:3])}, ...): is it this task's responses file? Records are "
        "matched by sample id (id, sample_id, key, uid, question_id, index), then by prompt "
        "(prompt, instruction, input: the sample's last user message)"
    )


def test_skip_missing_runs_the_rest_and_says_what_was_skipped(
    tmp_path: Path, ifeval_keys: list[str], caplog
) -> None:
    left_out = [ifeval_keys[1], ifeval_keys[4], ifeval_keys[300]]
    responses = responses_without(tmp_path / "r.jsonl", ifeval_keys, set(left_out))
    with caplog.at_level(logging.WARNING, logger="harness.replay"):
        [log] = eval(
            "harness/ifeval",
            task_args={"checker_runtime": "local"},
            model="replay/partial",
            model_args={"responses": str(responses), "skip_missing": True},
            limit=4,  # applied by Inspect after the check: the first 4 samples it kept
            log_dir=str(tmp_path / "logs"),
            display="none",
        )
    assert log.status == "success"
    log = read_eval_log(log.location)
    kept = [k for k in ifeval_keys if k not in left_out][:4]
    assert {str(s.id): s.output.completion for s in log.samples} == {
        k: f"Response {k}." for k in kept
    }
    assert log.eval.dataset.samples == 538
    warning = [r.getMessage() for r in caplog.records if r.name == "harness.replay"]
    assert warning == [
        f"replay: skipping 3 of 541 samples without a stored response in {responses}: "
        f"{', '.join(left_out)}"
    ]


def conversation(last: str) -> list:
    return [
        ChatMessageSystem(content="Be brief."),
        ChatMessageUser(content="Hello."),
        ChatMessageAssistant(content="Hi."),
        ChatMessageUser(content=last),
    ]


def test_multi_turn_samples_rewritten_prompts_and_metadata(tmp_path: Path) -> None:
    """A sample is matched on its dataset input (its last user turn), even after a solver
    rewrote the conversation; a skipped sample is recorded in the task's metadata."""
    responses = write(
        tmp_path / "r.jsonl",
        {"prompt": "What is the tide?", "response": "The moon's pull."},
        {"id": "by-id", "response": "Found by id."},
    )
    model = get_model("replay/rollouts", responses=str(responses), skip_missing=True)
    dataset = MemoryDataset(
        [
            Sample(id="turns", input=conversation("What is the tide?")),
            Sample(id="by-id", input="Anything at all."),
            Sample(id="[absent]", input=conversation("Never stored.")),
        ]
    )
    dataset, task_args = with_replay_coverage(dataset, {"model": model, "metadata": {"v": 2}})
    assert task_args["metadata"] == {
        "v": 2,
        "replay_skipped": {"[absent]": "no record with its id or prompt"},
    }
    task = Task(dataset=dataset, solver=[prompt_template("Q: {prompt}"), generate()], **task_args)
    [log] = eval(task, log_dir=str(tmp_path / "logs"), display="none")
    log = read_eval_log(log.location)
    assert {s.id: s.output.completion for s in log.samples} == {
        "turns": "The moon's pull.",
        "by-id": "Found by id.",
    }
    assert log.eval.metadata["replay_skipped"] == {"[absent]": "no record with its id or prompt"}


def test_an_id_whose_stored_prompt_differs_is_not_silently_used(tmp_path: Path) -> None:
    responses = write(
        tmp_path / "r.jsonl",
        {"id": "a", "prompt": "Name a colour.", "response": "red"},
        {"id": "b", "prompt": "Name a shape.", "response": "circle"},
    )
    dataset = MemoryDataset(
        [Sample(id="a", input="Name a colour."), Sample(id="b", input="Name an animal.")]
    )
    model = get_model("replay/mixed", responses=str(responses))
    with pytest.raises(ReplayError) as error:
        with_replay_coverage(dataset, {"model": model})
    assert str(error.value) == (
        f"replay: {responses} has no response for 1 of 2 samples: b (line 2 has its id but "
        "another prompt (-M key=id trusts ids, -M key=prompt matches prompts only)). Add them, "
        "or pass -M skip_missing=true to evaluate the 1 it has (also for --limit / --sample-id "
        "with a partial file: Inspect applies them after this check)"
    )
    trusting = get_model("replay/mixed", responses=str(responses), key="id")
    assert len(with_replay_coverage(dataset, {"model": trusting})[0]) == 2


def test_inspect_eval_prints_the_coverage_error_as_one_line(
    tmp_path: Path, ifeval_keys: list[str]
) -> None:
    left_out = [ifeval_keys[0], ifeval_keys[540]]
    responses = responses_without(tmp_path / "r.jsonl", ifeval_keys, set(left_out))
    status, lines = inspect_cli(
        "eval", "harness/ifeval", "--model", "replay/p", "-M", f"responses={responses}",
        "--log-dir", str(tmp_path / "logs"), columns=1000,
    )  # fmt: skip
    assert status == 1
    assert lines == [
        f"replay: {responses} has no response for 2 of 541 samples: {', '.join(left_out)}. "
        "Add them, or pass -M skip_missing=true to evaluate the 539 it has (also for --limit / "
        "--sample-id with a partial file: Inspect applies them after this check)"
    ]
