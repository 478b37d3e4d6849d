"""Dataset loading: the local override, the download cache, and clear errors."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from harness.benchmarks import healthbench as hb
from harness.benchmarks import writingbench as wb
from harness.data import (
    DataError,
    DataFile,
    MissingFileError,
    read_json,
    read_jsonl,
    read_jsonl_lines,
    read_prompts,
    read_records,
    read_text,
    resolve,
    text_field,
)
from harness.spec import PromptMessage


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_writingbench_native_specs_from_real_data() -> None:
    records = wb.load_records()
    assert len(records) == 1000
    specs = [wb.native_spec(r) for r in records]
    assert all(len(s.criteria) == 5 and s.verdict_scale == "one_to_ten" for s in specs)
    assert len({s.version for s in specs}) == 1000
    first = records[0]["checklist"][0]
    c1 = specs[0].criteria[0]
    assert (c1.category, c1.text, c1.anchors["9-10"]) == (
        first["name"],
        first["criteria_description"],
        first["9-10"],
    )
    assert wb.checklist_item(c1) == first  # the judge sees the item exactly as published
    assert len(wb.load_records(domain1=["Education"])) == 111
    assert {r["domain2"] for r in wb.load_records(domain2=["Paper Outline"])} == {"Paper Outline"}


def test_healthbench_native_specs_from_real_data() -> None:
    records = hb.load_records("sample_500")
    assert len(records) == 500
    specs = [hb.native_spec(r) for r in records]
    assert sum(len(s.criteria) for s in specs) == sum(len(r["rubrics"]) for r in records)
    pitfalls = [c for s in specs for c in s.criteria if c.weight < 0]
    assert pitfalls, "HealthBench has negative-point criteria"
    assert all(s.verdict_scale == "yes_no" for s in specs)
    assert specs[0].prompt[0].content == records[0]["prompt"][0]["content"]
    assert {hb.theme_of(r) for r in hb.load_records("sample_500", themes=["hedging"])} == {
        "hedging"
    }


def test_healthbench_official_arithmetic() -> None:
    assert hb.sample_score([5, 3, -4], [True, False, True]) == pytest.approx(1 / 8)
    assert hb.sample_score([-2], [True]) is None
    score, std = hb.aggregate([1.0, 1.0, 1.0])
    assert (score, std) == (1.0, 0.0)
    score, _ = hb.aggregate([-0.5, 0.1])
    assert score == 0.0  # clip of the mean, not mean of clips
    score, _ = hb.aggregate([1.5, 0.3])
    assert score == pytest.approx(0.9)


def test_override_missing_file_says_how_to_fix(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HARNESS_DATA_DIR", str(tmp_path))
    with pytest.raises(
        DataError,
        match=r"has no writingbench/benchmark_all.jsonl .*unset HARNESS_DATA_DIR to download it from https://",
    ):
        wb.load_records()


def test_local_only_subset_without_override(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    with pytest.raises(DataError, match="has no public download; set HARNESS_DATA_DIR"):
        hb.load_records("sample_500")
    with pytest.raises(ValueError, match="unknown HealthBench subset"):
        hb.load_records("tiny")


def test_download_goes_to_cache_once(tmp_path: Path, monkeypatch) -> None:
    source = tmp_path / "upstream.jsonl"
    source.write_text('{"a": 1}\n')
    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    file = DataFile("demo", "demo/data.jsonl", source.as_uri())
    path = resolve(file)
    assert path == tmp_path / "cache" / "demo" / "data.jsonl"
    assert read_jsonl(path) == [{"a": 1}]
    source.unlink()
    assert resolve(file) == path  # cached: no second download


def test_failed_download_names_the_source_and_the_fix(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    file = DataFile("demo", "demo/data.jsonl", (tmp_path / "missing.jsonl").as_uri())
    with pytest.raises(
        DataError, match=r"could not download demo from file://.*download it to .*demo/data.jsonl"
    ):
        resolve(file)
    assert not list((tmp_path / "demo").iterdir())  # no partial file left behind


def test_malformed_lines_are_located(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_text('{"index": 1}\n[1, 2]\n')
    with pytest.raises(DataError, match=r"x.jsonl:2: expected a JSON object"):
        read_jsonl(p)
    p.write_text('{"index": 1}\n{"index": 2,\n')
    with pytest.raises(DataError, match=r"x.jsonl:2: invalid JSON"):
        read_jsonl(p)
    p.write_text('{"index": 1}\n')
    with pytest.raises(DataError, match=r"x.jsonl:1: missing field\(s\) \['query'\]"):
        read_jsonl(p, required=("index", "query"))


def test_writingbench_judge_prompt_matches_the_reference_evaluator() -> None:
    record = wb.load_records()[0]
    spec = wb.native_spec(record)
    system, user = wb.WritingBenchRubric().messages(
        spec, spec.criteria[0], "<think>plan</think>\n\nThe outline."
    )
    assert system.text == wb.EVALUATE_SYSTEM
    item = str(record["checklist"][0])
    assert user.text.count(f"```{item}```") == 2  # criteria, then restated after the response
    assert f"** Query **\n```{record['query']}```" in user.text
    assert "** Response **\n```The outline.```" in user.text  # thinking stripped
    assert wb.strip_thinking("no thinking here") == "no thinking here"


# -- the readers every input goes through: file:line on every error --------------------------


def test_jsonl_line_numbers_survive_blank_lines_crlf_and_a_bom(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_bytes(b'\xef\xbb\xbf{"a": 1}\r\n\r\n\n{"a": "x\xe2\x80\xa8y"}\r\n')  # U+2028 inside
    assert read_jsonl_lines(p) == [(1, {"a": 1}), (4, {"a": "x\u2028y"})]


def test_invalid_utf8_names_line_and_column(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_bytes(b'{"a": 1}\n\n{"a": "\xc3("}\n')
    with pytest.raises(DataError) as error:
        read_jsonl(p)
    assert str(error.value) == (
        f"{p}:3: invalid UTF-8 (byte 0xc3 at column 8); save the file as UTF-8"
    )
    p.write_bytes(b'[\n  {"a": 1},\n  {"a": "\xff"}\n]\n')
    for read in (read_json, read_records, read_text):
        with pytest.raises(DataError) as error:
            read(p)
        assert str(error.value) == (
            f"{p}:3: invalid UTF-8 (byte 0xff at column 10); save the file as UTF-8"
        )


def test_a_missing_input_file(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError) as error:
        read_jsonl(tmp_path / "none.jsonl")
    assert str(error.value) == f"{tmp_path / 'none.jsonl'} does not exist"
    (tmp_path / "folder").mkdir()
    with pytest.raises(DataError) as error:
        read_text(tmp_path / "folder")
    assert str(error.value) == f"{tmp_path / 'folder'}: cannot read (Is a directory)"


def test_json_list_records_are_located_by_line(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    p.write_text('[\n  {"a": 1},\n\n  {"a": 2,\n   "b": [1, 2]}, {"a": 3}\n]\n')
    assert read_records(p) == [(2, {"a": 1}), (4, {"a": 2, "b": [1, 2]}), (5, {"a": 3})]
    assert read_records(write(p, "[]")) == []
    assert read_records(write(p, '{"a": 1}\n\n{"a": 2}\n')) == [(1, {"a": 1}), (3, {"a": 2})]
    cases = {
        '[\n  {"a": 1},\n  "text"\n]': "3: expected a JSON object, got string",
        '[\n  {"a": 1}\n  {"a": 2}\n]': "3: invalid JSON: Expecting ',' delimiter (column 3)",
        '[\n  {"a": 1},\n  {"a": }\n]': "3: invalid JSON: Expecting value (column 9)",
        '[{"a": 1}]\n[]': "2: invalid JSON: Extra data (column 1)",
        '[{"a": 1}': "1: invalid JSON: Expecting ',' delimiter (column 10)",
    }
    for text, message in cases.items():
        with pytest.raises(DataError) as error:
            read_records(write(p, text))
        assert str(error.value) == f"{p}:{message}", text


def test_read_json_locates_syntax_errors(tmp_path: Path) -> None:
    p = write(tmp_path / "x.json", '{\n  "a": 1,\n  "b": \n}\n')
    with pytest.raises(DataError) as error:
        read_json(p)
    assert str(error.value) == f"{p}:4: invalid JSON: Expecting value (column 1)"


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        (None, {}, "field 'f' must be a string, got null"),
        (12345, {}, "field 'f' must be a string, got number"),
        (["the sea"], {}, "field 'f' must be a string, got array"),
        (True, {"id_like": True}, "field 'f' must be a non-empty string or an integer, got boolean"),
        ("", {"id_like": True}, "field 'f' must be a non-empty string or an integer, got an empty string"),
        (1.5, {"id_like": True}, "field 'f' must be a non-empty string or an integer, got number"),
    ],
)  # fmt: skip
def test_text_fields_are_never_stringified(value: object, kwargs: dict, message: str) -> None:
    with pytest.raises(DataError) as error:
        text_field({"f": value}, "f", "r.jsonl:7", **kwargs)
    assert str(error.value) == f"r.jsonl:7: {message}"


def test_text_fields_that_are_fine() -> None:
    assert text_field({"f": ""}, "f", "w") == ""
    assert text_field({"f": 7}, "f", "w", id_like=True) == "7"
    assert text_field({}, "f", "w", optional=True) is None


def test_prompts_files(tmp_path: Path) -> None:
    p = write(
        tmp_path / "p.jsonl",
        '{"id": 7, "prompt": "Hi"}\n\n'
        '{"id": "m", "prompt": [{"role": "system", "content": "Be brief."},'
        ' {"role": "user", "content": "Hello"}], "label": "advice", "metadata": {"k": 1}}\n',
    )
    first, second = read_prompts(p)
    assert (first.line, first.id, first.prompt, first.label) == (1, "7", "Hi", None)
    assert second.line == 3 and second.label == "advice" and second.metadata == {"k": 1}
    assert second.prompt == (
        PromptMessage(role="system", content="Be brief."),
        PromptMessage(role="user", content="Hello"),
    )


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"id": "a", "prompt": 12345}', "field 'prompt' must be text or a list of messages, got number"),
        ('{"id": "a", "prompt": null}', "field 'prompt' must be text or a list of messages, got null"),
        ('{"id": "a", "prompt": "  "}', "field 'prompt': the prompt is empty"),
        ('{"id": "a", "prompt": []}', "field 'prompt': the list of messages is empty"),
        ('{"id": "a", "prompt": [{"role": "robot", "content": "x"}]}', "field 'prompt.0.role': Input should be 'system', 'user' or 'assistant'"),
        ('{"id": "a", "prompt": [{"role": "user", "content": 5}]}', "field 'prompt.0.content': Input should be a valid string"),
        ('{"id": "a", "prompt": [{"role": "user"}]}', "field 'prompt.0.content': Field required"),
        ('{"id": "a", "prompt": ["hello"]}', "field 'prompt.0': Input should be a valid dictionary or instance of PromptMessage"),
        ('{"id": null, "prompt": "x"}', "field 'id' must be a non-empty string or an integer, got null"),
        ('{"id": "a", "prompt": "x", "label": 3}', "field 'label' must be a string, got number"),
        ('{"id": "a", "prompt": "x", "metadata": [1]}', "field 'metadata' must be an object, got array"),
        ('{"id": "z", "prompt": "x"}', "id 'z' is already used on line 1"),
        ('{"prompt": "x"}', "missing field(s) ['id']"),
    ],
)  # fmt: skip
def test_bad_prompts_are_located(tmp_path: Path, line: str, message: str) -> None:
    p = write(tmp_path / "p.jsonl", '{"id": "z", "prompt": "first"}\n\n' + line + "\n")
    with pytest.raises(DataError) as error:
        read_prompts(p)
    assert str(error.value) == f"{p}:3: {message}"


def test_under_inspect_a_data_error_is_a_one_line_prerequisite_error() -> None:
    """`inspect eval` prints a PrerequisiteError raised while a task is built as its message
    alone; a DataError is one once Inspect is loaded, with rich markup escaped."""
    from inspect_ai._util.error import PrerequisiteError

    from harness.store import SpecStoreError

    for kind in (DataError, MissingFileError, SpecStoreError):
        error = kind("p.jsonl:3: id '[bold]x[/bold]' is already used")
        assert isinstance(error, kind) and isinstance(error, PrerequisiteError)
        assert str(error) == "p.jsonl:3: id '[bold]x[/bold]' is already used"
        assert error.message == r"p.jsonl:3: id '\[bold]x\[/bold]' is already used"
        restored = pickle.loads(pickle.dumps(error))  # e.g. from a worker process
        assert isinstance(restored, kind) and restored.args == error.args
        assert type(error).__name__ == kind.__name__
