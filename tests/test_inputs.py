"""Bad input files stop `inspect eval` with one line (file:line: what is wrong) and exit 1,
before any sample runs: prompts files, spec stores, benchmark data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import inspect_cli, make_spec
from inspect_ai import eval
from inspect_ai._util.error import PrerequisiteError

from harness.data import DataError
from harness.store import SpecStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    store = SpecStore(tmp_path / "specs.jsonl", create=True)
    store.put(make_spec(prompt_id="a"))
    return store.path


def build_error(tmp_path: Path, task: str, **task_args: str) -> str:
    """The error that stops `eval(task)` while the task is built (nothing runs, no log)."""
    with pytest.raises(PrerequisiteError) as error:
        eval(
            task,
            task_args=task_args,
            model="mockllm/model",
            model_roles={"grader": "mockllm/model"},
            log_dir=str(tmp_path / "logs"),
            display="none",
        )
    assert isinstance(error.value, DataError)
    assert not (tmp_path / "logs").exists() or not list((tmp_path / "logs").iterdir())
    return str(error.value)


@pytest.mark.parametrize(
    "line, message",
    [
        ({"id": "a", "prompt": 12345}, "field 'prompt' must be text or a list of messages, got number"),
        ({"id": "a", "prompt": [{"role": "robot", "content": "x"}]}, "field 'prompt.0.role': Input should be 'system', 'user' or 'assistant'"),
        ({"id": "a", "prompt": "Write a limerick."}, "prompt 'a' differs from the prompt its spec in {specs} was built for"),
        ({"id": ["a"], "prompt": "x"}, "field 'id' must be a non-empty string or an integer, got array"),
    ],
)  # fmt: skip
def test_bad_prompts_file(tmp_path: Path, specs: Path, line: dict, message: str) -> None:
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("\n" + json.dumps(line) + "\n")
    got = build_error(tmp_path, "harness/prompts", prompts=str(prompts), specs=str(specs))
    assert got == f"{prompts}:2: {message.format(specs=specs)}"


def test_bad_spec_store_and_missing_files(tmp_path: Path, specs: Path) -> None:
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(json.dumps({"id": "a", "prompt": make_spec().prompt}) + "\n")
    missing = str(tmp_path / "none.jsonl")
    got = build_error(tmp_path, "harness/prompts", prompts=missing, specs=str(specs))
    assert got == f"{missing} does not exist"
    got = build_error(tmp_path, "harness/prompts", prompts=str(prompts), specs=missing)
    assert got == f"spec store {missing} does not exist"
    specs.write_bytes(specs.read_bytes().replace(b"haiku", b"hai\x80u"))
    got = build_error(tmp_path, "harness/prompts", prompts=str(prompts), specs=str(specs))
    assert got.startswith(f"{specs}:1: invalid UTF-8 (byte 0x80 at column ")


def test_benchmark_data_missing_from_the_data_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HARNESS_DATA_DIR", str(tmp_path))
    got = build_error(tmp_path, "harness/ifeval")
    assert got.startswith(
        f"HARNESS_DATA_DIR={tmp_path} has no ifeval/input_data.jsonl (IFEval); put the file "
        "there, or unset HARNESS_DATA_DIR to download it from https://"
    )


def test_inspect_eval_prints_one_line_with_brackets_literal(tmp_path: Path, specs: Path) -> None:
    """Inspect prints the message as rich markup: ours are escaped, so `[b]x[/b]` stays."""
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(json.dumps({"id": "[b]x[/b]", "prompt": "Something else"}) + "\n")
    status, lines = inspect_cli(
        "eval", "harness/prompts", "-T", f"prompts={prompts}", "-T", f"specs={specs}",
        "--model", "mockllm/model", "--model-role", "grader=mockllm/model",
        "--log-dir", str(tmp_path / "logs"), columns=1000,
    )  # fmt: skip
    assert status == 1
    assert lines == [f"{specs} has no spec for 1 prompt(s) of {prompts}: [b]x[/b]"]
