"""Ranking dataset loaders: counts against the shared data files, the rules that turn records into
groups (variant order, label -> chosen, HH split), and file:line errors on bad records."""

from __future__ import annotations

import gzip
import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from harness.data import DataError
from harness.ranking import datasets as ds
from harness.ranking.groups import response_key

DATA = Path(os.environ["HARNESS_DATA_DIR"])


def _need(*relative: str) -> None:
    missing = [r for r in relative if not (DATA / r).is_file()]
    if missing:
        pytest.skip(f"shared data lacks {missing}")


# -- real files --------------------------------------------------------------------------------


def test_rmbench_counts_and_variant_order() -> None:
    _need(
        *(
            f"rm-bench/{d}_filtered.json"
            for d in ("chat", "code", "safety-refuse", "safety-response")
        )
    )
    groups = ds.load("rmbench")
    assert Counter(g.subset for g in groups) == {
        "chat": 129,
        "code": 228,
        "safety-refuse": 284,
        "safety-response": 157,
    }
    assert all(len(g.chosen) == 3 and len(g.rejected) == 3 for g in groups)
    assert len({g.id for g in groups}) == len(groups)
    raw = json.loads((DATA / "rm-bench/chat_filtered.json").read_text())[0]
    first = groups[0]
    assert first.id == f"chat-{raw['id']}" and first.prompt == raw["prompt"]
    assert [r.text for r in first.chosen] == raw["chosen"]  # concise, detailed, markdown
    assert [r.text for r in first.rejected] == raw["rejected"]
    assert first.chosen[1].key == response_key(raw["prompt"], raw["chosen"][1])
    assert first.metadata["source_subset"] == raw["subset"]
    domains = Counter(g.metadata["domain"] for g in groups)
    assert domains == {"chat": 129, "code": 228, "safety": 284 + 157}
    assert len(ds.load_rmbench("chat")) == 129


@pytest.mark.parametrize(
    ("responses", "total", "categories"),
    [
        ("gpt-4o", 350, {"knowledge": 154, "reasoning": 98, "math": 56, "coding": 42}),
        ("claude", 270, {"knowledge": 154, "reasoning": 51, "math": 34, "coding": 31}),
    ],
)
def test_judgebench_sets(responses: str, total: int, categories: dict[str, int]) -> None:
    file = ds.judgebench_file(responses)
    _need(file.relative_path)
    groups = ds.load("judgebench", responses=responses)
    assert len(groups) == total
    assert Counter(g.subset for g in groups) == categories
    assert {g.dataset for g in groups} == {f"judgebench-{responses}"}
    raw = [json.loads(line) for line in (DATA / file.relative_path).read_text().splitlines()]
    for g, r in zip(groups, raw, strict=True):
        better, worse = ("A", "B") if r["label"] == "A>B" else ("B", "A")
        assert g.id == g.metadata["pair_id"] == r["pair_id"]
        assert g.metadata["chosen_position"] == better
        assert g.chosen[0].text == r[f"response_{better}"]
        assert g.rejected[0].text == r[f"response_{worse}"]
    assert Counter(g.metadata["chosen_position"] for g in groups)["B"] > 0


def test_judgebench_category_mapping() -> None:
    assert ds.judgebench_category("mmlu-pro-computer science") == "knowledge"
    assert ds.judgebench_category("livebench-reasoning") == "reasoning"
    assert ds.judgebench_category("livebench-math") == "math"
    assert ds.judgebench_category("livecodebench") == "coding"
    assert ds.judgebench_category("gsm8k") is None
    assert ds.judgebench_file("claude-3-5-sonnet-20240620") == ds.judgebench_file("claude")
    with pytest.raises(ValueError, match="unknown JudgeBench response set"):
        ds.judgebench_file("gpt-5")


def test_llmbar_sets() -> None:
    _need(*(ds.LLMBAR_SETS[s][0] for s in ds.LLMBAR_SETS))
    main = ds.load("llmbar")
    counts = Counter(g.subset for g in main)
    assert counts["Natural"] == 100
    assert sum(n for s, n in counts.items() if s.startswith("Adversarial_")) == 319
    assert len(main) == 419
    human = ds.load_llmbar(sets="processed")
    assert Counter(g.subset for g in human) == {"MT-Bench": 200, "FairEval": 66, "LLMEval_2": 200}
    assert len(ds.load_llmbar(["Natural", "llmbar"])) == 419  # a set named twice is loaded once
    raw = json.loads((DATA / "llmbar/LLMBar_Natural.json").read_text())
    for g, r in zip(main[:100], raw, strict=True):
        assert g.prompt == r["input"] and g.metadata["label"] == r["label"]
        assert g.chosen[0].text == r[f"output_{r['label']}"]
        assert g.rejected[0].text == r[f"output_{3 - r['label']}"]
    with pytest.raises(ValueError, match="unknown LLMBar set 'Natrual'"):
        ds.load_llmbar("Natrual")


def test_hh_harmless_split_and_skipped_pairs() -> None:
    _need(ds.HH_FILE.relative_path)
    split = ds.read_hh_harmless()
    assert len(split.comparisons) + len(split.skipped) == 2312
    # the 5 pairs whose chosen and rejected conversations differ before the last answer
    assert split.reasons() == {ds.REASON_PREFIX_DIFFERS: 5}
    assert [s.line for s in split.skipped] == [1255, 1689, 1951, 1953, 2037]
    with pytest.warns(UserWarning, match=r"skipped 5 of 2312 HH pairs: 5 chosen and rejected"):
        groups = ds.load("hh_harmless")
    assert len(groups) == 2307
    with pytest.raises(DataError, match="skipped 5 of 2312"):
        ds.load_hh_harmless(strict=True)
    raw = [json.loads(x) for x in gzip.open(DATA / ds.HH_FILE.relative_path).read().splitlines()]
    g = groups[0]
    assert g.prompt.endswith("\n\nAssistant:") and g.prompt.startswith("\n\nHuman:")
    assert g.prompt + " " + g.chosen[0].text == raw[0]["chosen"]
    assert g.prompt + " " + g.rejected[0].text == raw[0]["rejected"]
    assert "\n\nAssistant:" not in g.chosen[0].text
    assert len({x.id for x in groups}) == len(groups)


def test_split_hh_transcripts_rules() -> None:
    h = "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: help?\n\nAssistant:"
    assert ds.split_hh_transcripts(h + " yes", h + " no") == (h, "yes", "no")
    assert ds.split_hh_transcripts("\n\nHuman: hi", h + " no") == ds.REASON_NO_ASSISTANT
    other = h.replace("help?", "help me?")
    assert ds.split_hh_transcripts(h + " yes", other + " no") == ds.REASON_PREFIX_DIFFERS
    assert ds.split_hh_transcripts(h + " same", h + " same") == ds.REASON_SAME_ANSWER


# -- RewardBench 2 (its data is not here: a fixture in the dataset's schema) ---------------------

RB2_ROWS = [
    {  # best-of-4 (one correct, three incorrect)
        "id": "0",
        "prompt": "What is the capital of France?",
        "chosen": ["Paris."],
        "rejected": ["Lyon.", "Marseille.", "Nice."],
        "num_correct": 1,
        "num_incorrect": 3,
        "total_completions": 4,
        "models": ["m1", "m2", "m3", "m4"],
        "subset": "Factuality",
        "additional_metadata": {"source": "fixture"},
    },
    {  # Ties: several correct answers
        "id": "tied:3",
        "prompt": "Name a prime number.",
        "chosen": ["2", "3", "5"],
        "rejected": ["4", "9"],
        "num_correct": 3,
        "num_incorrect": 2,
        "total_completions": 5,
        "models": None,
        "subset": "Ties",
        "additional_metadata": None,
    },
]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_rewardbench2_fixture(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "rb2.jsonl", RB2_ROWS)
    groups = ds.load("rewardbench2", path=path)
    assert [(g.id, g.subset, len(g.chosen), len(g.rejected)) for g in groups] == [
        ("0", "Factuality", 1, 3),
        ("tied:3", "Ties", 3, 2),
    ]
    assert [r.text for r in groups[1].chosen] == ["2", "3", "5"]
    assert groups[0].metadata["num_correct"] == 1
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = tmp_path / "rb2.parquet"
    pq.write_table(pa.Table.from_pylist(RB2_ROWS), parquet)
    assert [g.id for g in ds.load_rewardbench2(parquet)] == ["0", "tied:3"]
    bad = [RB2_ROWS[0], {**RB2_ROWS[1], "num_correct": 2}]
    pq.write_table(pa.Table.from_pylist(bad), parquet)
    with pytest.raises(DataError, match=r"rb2\.parquet:record 1: num_correct is 2 but 'chosen'"):
        ds.load_rewardbench2(parquet)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"num_correct": 2}, "num_correct is 2 but 'chosen' holds 3 responses"),
        ({"num_incorrect": 3}, "num_incorrect is 3 but 'rejected' holds 2 responses"),
        ({"total_completions": 4}, "total_completions is 4 but chosen \\+ rejected hold 5"),
        ({"chosen": "2"}, "field 'chosen' must be an array of strings, got string"),
        ({"chosen": ["2", 3]}, r"field 'chosen'\[1\] must be a string, got number"),
        ({"num_correct": "3"}, "field 'num_correct' must be an integer, got string"),
        ({"subset": None}, "field 'subset' must be a string, got null"),
        ({"id": "0"}, "id '0' is already used at .*rb2.jsonl:1"),
        ({"rejected": []}, "'chosen' and 'rejected' must each hold a response"),
    ],
)
def test_rewardbench2_bad_records(tmp_path: Path, change: dict, message: str) -> None:
    path = _write_jsonl(tmp_path / "rb2.jsonl", [RB2_ROWS[0], {**RB2_ROWS[1], **change}])
    with pytest.raises(DataError, match=re.escape(str(path)) + ":2: " + message):
        ds.load_rewardbench2(path)


# -- bad files under a local data folder ---------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HARNESS_DATA_DIR", str(tmp_path))
    return tmp_path


def _json_array(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=2))  # each object spans several lines
    return path


def _line_of(path: Path, index: int) -> int:
    """The line the index-th top-level object of a JSON array written by _json_array starts on."""
    starts = [i for i, line in enumerate(path.read_text().splitlines(), 1) if line == "  {"]
    return starts[index]


RM_ROW = {
    "id": 1,
    "subset": "x",
    "prompt": "p",
    "chosen": ["a", "b", "c"],
    "rejected": ["d", "e", "f"],
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chosen": ["a", "b"]}, "field 'chosen' must hold 3 responses, got 2"),
        ({"rejected": None}, "field 'rejected' must be an array of strings, got null"),
        ({"prompt": 5}, "field 'prompt' must be a string, got number"),
        ({"id": 1}, "id '1' is already used at"),
    ],
)
def test_rmbench_bad_record(data_dir: Path, change: dict, message: str) -> None:
    path = _json_array(
        data_dir / "rm-bench/chat_filtered.json", [RM_ROW, {**RM_ROW, "id": 2, **change}]
    )
    with pytest.raises(DataError, match=re.escape(f"{path}:{_line_of(path, 1)}: {message}")):
        ds.load_rmbench("chat")


def test_rmbench_missing_file_names_it(data_dir: Path) -> None:
    with pytest.raises(
        DataError, match=r"has no rm-bench/code_filtered\.json .*raw\.githubusercontent"
    ):
        ds.load_rmbench(["code"])
    with pytest.raises(ValueError, match="unknown RM-Bench domain 'maths'"):
        ds.load_rmbench("maths")


JB_ROW = {
    "pair_id": "p1",
    "source": "livebench-math",
    "question": "q",
    "response_A": "a",
    "response_B": "b",
    "label": "B>A",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"label": "A=B"}, "field 'label' must be 'A>B' or 'B>A', got 'A=B'"),
        ({"source": "gsm8k"}, "source 'gsm8k' is not in a JudgeBench category"),
        ({"response_B": None}, "field 'response_B' must be a string, got null"),
        ({"pair_id": "p1"}, "id 'p1' is already used at"),
    ],
)
def test_judgebench_bad_record(data_dir: Path, change: dict, message: str) -> None:
    path = data_dir / ds.judgebench_file("gpt-4o").relative_path
    path.parent.mkdir(parents=True)
    _write_jsonl(path, [JB_ROW, {**JB_ROW, "pair_id": "p2", **change}])
    with pytest.raises(DataError, match=re.escape(f"{path}:2: {message}")):
        ds.load_judgebench()


def test_judgebench_b_wins_is_position_b(data_dir: Path) -> None:
    path = data_dir / ds.judgebench_file("claude").relative_path
    path.parent.mkdir(parents=True)
    _write_jsonl(path, [JB_ROW])
    (g,) = ds.load_judgebench("claude")
    assert (g.chosen[0].text, g.rejected[0].text, g.metadata["chosen_position"]) == ("b", "a", "B")
    assert g.subset == "math"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"label": 3}, "field 'label' must be 1 or 2, got 3"),
        ({"label": True}, "field 'label' must be 1 or 2, got True"),
        ({"output_2": ["x"]}, "field 'output_2' must be a string, got array"),
        ({"input": None}, "field 'input' must be a string, got null"),
    ],
)
def test_llmbar_bad_record(data_dir: Path, change: dict, message: str) -> None:
    row = {"input": "i", "output_1": "a", "output_2": "b", "label": 2}
    path = _json_array(data_dir / "llmbar/Processed_FairEval.json", [row, {**row, **change}])
    with pytest.raises(DataError, match=re.escape(f"{path}:{_line_of(path, 1)}: {message}")):
        ds.load_llmbar("FairEval")


def test_llmbar_invalid_json_names_line(data_dir: Path) -> None:
    path = data_dir / "llmbar/LLMBar_Natural.json"
    path.parent.mkdir(parents=True)
    path.write_text(
        '[\n{"input": "i", "output_1": "a", "output_2": "b", "label": 1},\n{"input": }\n]'
    )
    with pytest.raises(DataError, match=re.escape(f"{path}:3: invalid JSON")):
        ds.load_llmbar("Natural")


def _write_gz(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    return path


HH_OK = {"chosen": "\n\nHuman: q\n\nAssistant: good", "rejected": "\n\nHuman: q\n\nAssistant: bad"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (json.dumps({"chosen": HH_OK["chosen"]}), "missing field 'rejected'"),
        (json.dumps({**HH_OK, "rejected": 1}), "field 'rejected' must be a string, got number"),
        ('{"chosen": ', "invalid JSON"),
        ("[1]", "expected a JSON object, got array"),
    ],
)
def test_hh_bad_record(data_dir: Path, line: str, message: str) -> None:
    path = _write_gz(data_dir / ds.HH_FILE.relative_path, [json.dumps(HH_OK), line])
    with pytest.raises(DataError, match=re.escape(f"{path}:2: {message}")):
        ds.load_hh_harmless()


def test_hh_counts_every_skipped_pair(data_dir: Path) -> None:
    rows = [
        HH_OK,
        {"chosen": "\n\nHuman: q\n\nAssistant: x", "rejected": "\n\nHuman: other\n\nAssistant: y"},
        {"chosen": "no turns", "rejected": "none"},
        {"chosen": HH_OK["chosen"], "rejected": HH_OK["chosen"]},
    ]
    _write_gz(data_dir / ds.HH_FILE.relative_path, [json.dumps(r) for r in rows])
    split = ds.read_hh_harmless()
    assert [(s.line, s.reason) for s in split.skipped] == [
        (2, ds.REASON_PREFIX_DIFFERS),
        (3, ds.REASON_NO_ASSISTANT),
        (4, ds.REASON_SAME_ANSWER),
    ]
    with pytest.warns(UserWarning, match=r"skipped 3 of 4 HH pairs: .* \(lines 2, 3, 4\)"):
        (g,) = ds.load_hh_harmless()
    assert (g.prompt, g.chosen[0].text, g.rejected[0].text) == (
        "\n\nHuman: q\n\nAssistant:",
        "good",
        "bad",
    )
    (data_dir / ds.HH_FILE.relative_path).write_bytes(b"not gzip")
    with pytest.raises(DataError, match="not a readable gzip file"):
        ds.load_hh_harmless()


def test_registry() -> None:
    assert set(ds.DATASETS) == {"rmbench", "judgebench", "llmbar", "hh_harmless", "rewardbench2"}
    with pytest.raises(ValueError, match="unknown ranking dataset 'rm-bench'"):
        ds.load("rm-bench")
