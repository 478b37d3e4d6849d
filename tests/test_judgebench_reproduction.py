"""JudgeBench's reward-model accuracies from its published per-pair outputs.

The reproduction target is what JudgeBench's own code (``run_judge.py`` main + ``utils/metrics.py``
``compute_final_metrics``, ScalerLab/JudgeBench e2c52c2) prints for the published
Skywork-Reward-Llama-3.1-8B file, ``%.2f`` per category and overall.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.data import DataError, resolve
from harness.ranking.judgebench import (
    SKYWORK_LLAMA_8B,
    load_published_scores,
    pair_outcome,
    published_accuracy,
    published_table,
)

# Skywork-Reward-Llama-3.1-8B on the 350 GPT-4o pairs: accuracy (%.2f), pairs, correct, ties.
SKYWORK_8B = {
    "knowledge": ("59.09", 154, 91, 0),
    "reasoning": ("64.29", 98, 63, 0),
    "math": ("76.79", 56, 43, 0),
    "coding": ("50.00", 42, 21, 1),
    "overall": ("62.29", 350, 218, 1),
}


def test_skywork_llama_8b_reproduces_judgebench() -> None:
    pairs = load_published_scores(resolve(SKYWORK_LLAMA_8B))
    assert len(pairs) == 350
    assert {p.judge_model for p in pairs} == {"Skywork/Skywork-Reward-Llama-3.1-8B"}
    table = published_table(pairs)
    assert list(table.index) == list(SKYWORK_8B)
    for category, (accuracy, n, correct, ties) in SKYWORK_8B.items():
        row = table.loc[category]
        assert f"{row['accuracy']:.2f}" == accuracy, category
        assert (row["pairs"], row["correct"], row["ties"]) == (n, correct, ties), category
    # overall is pooled over pairs (218/350), not the mean of the four categories (62.54)
    acc = published_accuracy(pairs)
    assert acc["overall"] == pytest.approx(100 * 218 / 350)
    assert sum(acc[c] for c in ("knowledge", "reasoning", "math", "coding")) / 4 != pytest.approx(
        acc["overall"], abs=0.05
    )


def test_coding_tie_counts_as_wrong_not_half() -> None:
    # The one tie: equal scores, so both orders decide 'B>A' (SkyworkReward's `>` rule), i.e. the
    # orders disagree. Half credit would give 21.5/42 = 51.19, not the published 50.00.
    pairs = load_published_scores(resolve(SKYWORK_LLAMA_8B))
    ties = [p for p in pairs if p.outcome == 0]
    assert len(ties) == 1 and ties[0].category == "coding"
    assert ties[0].decisions == ("B>A", "B>A")
    assert ties[0].scores[0] is not None and ties[0].scores[0][0] == ties[0].scores[0][1]


def _judgment(decision: Any, scores: list[float] | None = None) -> dict[str, Any]:
    inner: dict[str, Any] = {"judge_model": "toy/rm"}
    if scores is not None:
        inner["scores"] = scores
    return {"judgment": inner, "decision": decision}


def _pair(pid: str, source: str, label: str, *judgments: Any) -> dict[str, Any]:
    return {
        "pair_id": pid,
        "original_id": 1,
        "source": source,
        "question": "q",
        "response_model": "m",
        "response_A": "a",
        "response_B": "b",
        "label": label,
        "judge_name": "reward_model",
        "judgments": list(judgments),
    }


def _write(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_hand_checked_fixture_both_orders(tmp_path: Path) -> None:
    j = _judgment
    records = [
        # knowledge: correct both orders (+1); wrong both (-1); orders disagree (0)
        _pair("k1", "mmlu-pro-law", "A>B", j("A>B", [2, 1]), j("B>A", [1, 2])),
        _pair("k2", "mmlu-pro-math", "A>B", j("B>A", [1, 2]), j("A>B", [2, 1])),
        _pair("k3", "mmlu-pro-law", "B>A", j("B>A", [0, 3]), j("B>A", [3, 3])),
        # reasoning: a failed judgment (null) beside a right one (+1); 'A=B' beside a right one (+1)
        _pair("r1", "livebench-reasoning", "B>A", None, j("A>B")),
        _pair("r2", "livebench-reasoning", "A>B", j("A=B"), j("B>A")),
        # math: both null (0); coding: wrong first, 'A=B' second (-1)
        _pair("m1", "livebench-math", "A>B", None, None),
        _pair("c1", "livecodebench", "B>A", j("A>B"), j("A=B")),
        # a source outside the four categories counts in overall only (+1)
        _pair("x1", "other-set", "A>B", j("A>B"), j("B>A")),
    ]
    pairs = load_published_scores(_write(tmp_path / "toy.jsonl", records))
    assert [p.outcome for p in pairs] == [1, -1, 0, 1, 1, 0, -1, 1]
    assert [p.line for p in pairs] == list(range(1, 9))
    table = published_table(pairs)
    assert table.loc["knowledge", ["pairs", "correct", "incorrect", "ties"]].tolist() == [
        3,
        1,
        1,
        1,
    ]
    assert published_accuracy(pairs) == pytest.approx(
        {"knowledge": 100 / 3, "reasoning": 100.0, "math": 0.0, "coding": 0.0, "overall": 50.0}
    )
    assert pairs[0].scores == ((2.0, 1.0), (1.0, 2.0))
    assert pairs[3].decisions == (None, "A>B")


def test_single_game_file_and_missing_category(tmp_path: Path) -> None:
    records = [
        _pair("a", "livebench-math", "A>B", _judgment("A>B", [1.5, 1.0])),
        _pair("b", "livebench-math", "B>A", _judgment("A>B", [1.5, 1.0])),
        _pair("c", "livecodebench", "B>A", None),
    ]
    pairs = load_published_scores(_write(tmp_path / "single.jsonl", records))
    acc = published_accuracy(pairs)
    # no knowledge/reasoning pairs: those rows are absent (upstream would divide by zero)
    assert acc == pytest.approx({"math": 50.0, "coding": 0.0, "overall": 100 / 3})


def test_pair_outcome_rule() -> None:
    assert pair_outcome("A>B", ["A>B", "B>A"]) == 1  # swapped order flipped back: agrees
    assert pair_outcome("A>B", ["A>B", "A>B"]) == 0  # position-biased: one right, one wrong
    assert pair_outcome("B>A", ["B>A", None]) == 1
    assert pair_outcome("B>A", ["A>B", "B>A"]) == -1
    assert pair_outcome("A>B", ["A=B", "A=B"]) == 0
    assert pair_outcome("A>B", ["A>B"]) == 1 and pair_outcome("A>B", [None]) == -1
    with pytest.raises(ValueError):
        pair_outcome("A>B", [])


GOOD = _pair("g", "mmlu-pro-law", "A>B", _judgment("A>B", [2, 1]), _judgment("B>A", [1, 2]))
BAD = {**GOOD, "pair_id": "h"}  # base of the malformed second lines


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "invalid JSON"),
        ([1, 2], "expected a JSON object"),
        ({k: v for k, v in BAD.items() if k != "label"}, "missing field"),
        ({**BAD, "label": "A=B"}, "label must be 'A>B' or 'B>A'"),
        ({**BAD, "pair_id": 7}, "pair_id must be a non-empty string"),
        ({**BAD, "judgments": []}, "judgments must be a list of 1"),
        ({**BAD, "judgments": "A>B"}, "judgments must be a list of 1"),
        ({**BAD, "judgments": [GOOD["judgments"][0]]}, "a file is judged in one mode"),
        ({**BAD, "judgments": ["A>B", None]}, r"judgments\[0\] must be an object or null"),
        ({**BAD, "judgments": [{"judgment": {}}, None]}, r"judgments\[0\] has no 'decision'"),
        ({**BAD, "judgments": [_judgment(1), None]}, "decision must be a string or null"),
        ({**BAD, "judgments": [_judgment("A>B", [1, "x"]), None]}, "two finite numbers"),
        ({**BAD, "judgments": [_judgment("A>B", [1, 2]), None]}, "its scores"),
        ({**BAD, "judgments": [_judgment("A>B", [1, 1]), None]}, "its scores"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, bad: Any, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    second = bad if isinstance(bad, str) else json.dumps(bad)
    path.write_text(json.dumps(GOOD) + "\n\n" + second + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=message) as info:
        load_published_scores(path)
    assert f"{path}:3:" in str(info.value)


def test_duplicate_pair_and_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "dup.jsonl", [GOOD, GOOD])
    with pytest.raises(DataError, match=rf"{path}:2: pair_id 'g' repeats line 1"):
        load_published_scores(path)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match="no pairs"):
        load_published_scores(empty)
