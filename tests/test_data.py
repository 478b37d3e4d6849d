"""Dataset loading: the local override, the download cache, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.benchmarks import healthbench as hb
from harness.benchmarks import writingbench as wb
from harness.data import DataError, DataFile, read_jsonl, resolve


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
