from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_spec

from harness.cli import main
from harness.store import SpecStore


@pytest.fixture
def store(tmp_path: Path) -> SpecStore:
    s = SpecStore(tmp_path / "specs.jsonl", create=True)
    s.put_many(
        [
            make_spec(prompt_id="a"),
            make_spec(
                prompt_id="b", prompt="Explain tides.", criteria=[("m", "Mentions the moon.", 2.0)]
            ),
        ]
    )
    return s


def test_validate_and_show(store: SpecStore, capsys) -> None:
    assert main(["spec", "validate", str(store.path)]) == 0
    assert "2 spec version(s) for 2 prompt(s); 4 criteria and 0 checkers" in capsys.readouterr().out
    assert main(["spec", "show", "b", "--store", str(store.path)]) == 0
    out = capsys.readouterr().out
    assert "Explain tides." in out and "Mentions the moon." in out and "+2" in out
    assert main(["spec", "show", "zzz", "--store", str(store.path)]) == 1


def test_validate_reports_file_line_field(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.jsonl"
    data = make_spec().model_dump(mode="json", exclude={"version"})
    data["criteria"][0]["weight"] = 0
    bad.write_text(json.dumps(data) + "\n")
    assert main(["spec", "validate", str(bad)]) == 2
    assert f"{bad}:1: field 'criteria.0.weight'" in capsys.readouterr().err


def test_score_writes_results_and_reports_unscored(
    store: SpecStore, tmp_path: Path, capsys
) -> None:
    responses = tmp_path / "responses.jsonl"
    responses.write_text(
        json.dumps({"prompt_id": "a", "response": "waves"})
        + "\n"
        + json.dumps({"prompt_id": "b", "response": "moon"})
        + "\n"
    )
    out = tmp_path / "out" / "results.jsonl"
    code = main(
        [
            "score",
            str(responses),
            "--specs",
            str(store.path),
            "--out",
            str(out),
            "--grader",
            "mockllm/model",
        ]
    )
    assert code == 0
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["prompt_id"] for r in results] == ["a", "b"]
    assert all(r["reward"] is None and r["rubric"]["status"] == "unscored" for r in results)
    assert "malformed judge output" in results[0]["global"]["reason"]
    assert "reward: mean n/a over 0 scored, 2 unscored/absent" in capsys.readouterr().out


def test_score_unknown_prompt_is_an_error(store: SpecStore, tmp_path: Path, capsys) -> None:
    responses = tmp_path / "r.jsonl"
    responses.write_text(json.dumps({"prompt_id": "nope", "response": "x"}) + "\n")
    assert (
        main(
            [
                "score",
                str(responses),
                "--specs",
                str(store.path),
                "--out",
                str(tmp_path / "o.jsonl"),
            ]
        )
        == 2
    )
    assert "r.jsonl:1: no spec for prompt 'nope'" in capsys.readouterr().err


def test_score_runs_checkers_through_the_chosen_runtime(tmp_path: Path, capsys) -> None:
    store = SpecStore(tmp_path / "specs.jsonl", create=True)
    spec = make_spec(
        prompt_id="c",
        checkers=[("lower", "All lowercase.", "def check(r):\n    return r == r.lower()\n")],
    )
    store.put(spec)
    responses = tmp_path / "r.jsonl"
    responses.write_text(json.dumps({"prompt_id": "c", "response": "quiet sea"}) + "\n")
    out = tmp_path / "o.jsonl"
    assert (
        main(
            [
                "score",
                str(responses),
                "--specs",
                str(store.path),
                "--out",
                str(out),
                "--checker-runtime",
                "local-unsafe",
            ]
        )
        == 0
    )
    [result] = [json.loads(line) for line in out.read_text().splitlines()]
    assert result["code"]["value"] == 1.0 and result["code"]["checks"][0]["status"] == "pass"
    assert result["reward"] == 1.0  # no judge: code only, and said so
    assert "combined without unscored rubric, global" in result["reward_reason"]
    # the default local runtime refuses generated code, and the reason says how to get Docker
    assert (
        main(
            [
                "score",
                str(responses),
                "--specs",
                str(store.path),
                "--out",
                str(out),
                "--checker-runtime",
                "local",
            ]
        )
        == 0
    )
    [refused] = [json.loads(line) for line in out.read_text().splitlines()]
    assert (
        refused["code"]["status"] == "unscored" and "setup_docker.sh" in refused["code"]["reason"]
    )
