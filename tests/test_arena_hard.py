"""Arena-Hard: data, the pairwise judge protocol, the official aggregation, and the task end to end."""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import ScriptedJudge, headline_of, inspect_cli, is_global, metrics_of, run_eval
from inspect_ai import eval
from inspect_ai.solver._task_state import sample_state

from harness.benchmarks import arena_hard as ah
from harness.data import DataError
from harness.judges.calling import JudgeReplyError
from harness.report import short_answer
from harness.scoring import RewardResult

MOCK_OUTPUT = "Default output from mockllm/model"
GLOBAL = 6

# -- data ---------------------------------------------------------------------------------------


def test_v2_questions_and_baselines() -> None:
    questions = ah.load_questions("v2.0")
    assert len(questions) == 750
    assert sum(q.category == "hard_prompt" for q in questions) == 500
    assert sum(q.category == "creative_writing" for q in questions) == 250
    assert {q.subcategory for q in questions} == {"coding", "math", "creative_writing"}
    assert [q.index for q in questions] == list(range(750))
    answers = {
        m: ah.load_answers("v2.0", m) for m in ("o3-mini-2025-01-31", "gemini-2.0-flash-001")
    }
    for model, by_uid in answers.items():
        assert all(a.model == model and a.text for a in by_uid.values())
    # every question has its own category's baseline answer, with its style attributes
    for q in questions:
        answer = answers[ah.baseline_model("v2.0", q.category)].get(q.uid)
        assert answer is not None and set(ah.STYLE_KEYS) <= set(answer.metadata)
    math_only = ah.load_questions("v2.0", ["math"])
    assert len(math_only) == 247 and {q.category for q in math_only} == {"hard_prompt"}


def test_v01_questions_and_both_answer_schemas() -> None:
    questions = ah.load_questions("v0.1")
    assert len(questions) == 500 and {q.category for q in questions} == {"arena-hard-v0.1"}
    assert ah.baseline_model("v0.1", "arena-hard-v0.1") == "gpt-4-0314"
    baseline = ah.load_answers("v0.1", "gpt-4-0314")  # messages[-1].content.answer
    old = ah.load_answers("v0.1", "mistral-7b-instruct")  # choices[0].turns[0].content
    assert set(baseline) == set(old) == {q.uid for q in questions}
    first = questions[0].uid
    assert old[first].model == "mistral-7b-instruct" and old[first].text.strip()
    assert old[first].metadata["token_len"] > 0


def test_missing_file_is_a_clear_data_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HARNESS_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=r"no arena-hard/v2\.0/question\.jsonl.*lmarena"):
        ah.load_questions("v2.0")
    with pytest.raises(DataError, match=r"arena-hard/v0\.1/model_answer/nobody\.jsonl"):
        ah.load_answers("v0.1", "nobody")
    assert ah.question_file("v0.1").url == (
        "https://raw.githubusercontent.com/lmarena/arena-hard-auto/main/data/arena-hard-v0.1/"
        "question.jsonl"
    )


def test_malformed_answer_file_names_the_line(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "arena-hard" / "v2.0" / "model_answer"
    folder.mkdir(parents=True)
    (folder / "broken.jsonl").write_text(
        json.dumps({"uid": "a", "messages": [{"content": {"answer": "ok"}}]})
        + "\n"
        + json.dumps({"uid": "b", "messages": []})
        + "\n"
    )
    monkeypatch.setenv("HARNESS_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=r"broken\.jsonl:2: expected uid and messages"):
        ah.load_answers("v2.0", "broken")


def test_unknown_version_and_category() -> None:
    with pytest.raises(ValueError, match="unknown Arena-Hard version 'v3'"):
        ah.load_questions("v3")
    with pytest.raises(ValueError, match=r"no category \['poetry'\]"):
        ah.load_questions("v2.0", ["poetry"])


# -- the official aggregation -------------------------------------------------------------------

# A small hand-checkable fixture: (uid, category, game 1 verdict (baseline is A), game 2 verdict
# (the model is A)). None is a game whose judgment had no usable label.
FIXTURE = [
    ("q01", "hard_prompt", "B>A", "A>B"),
    ("q02", "hard_prompt", "A>>B", "B>>A"),
    ("q03", "hard_prompt", "A=B", "A>B"),
    ("q04", "hard_prompt", None, "A>>B"),
    ("q05", "hard_prompt", "B>>A", "A>>B"),
    ("q06", "hard_prompt", "A>B", "A>B"),
    ("q07", "creative_writing", "B>A", "A=B"),
    ("q08", "creative_writing", "A>B", "B>A"),
    ("q09", "creative_writing", "B>>A", "A>B"),
    ("q10", "creative_writing", "A=B", "A=B"),
    ("q11", "creative_writing", "A>>B", "B>A"),
    ("q12", "creative_writing", "B>A", None),
]

# The model's battle scores (1 win, 0.5 tie, 0 loss), worked out by hand from the official
# tables: v2.0 lists game 2's battles then game 1's complemented and drops a question with a
# missing verdict; v0.1 lists game 1 then game 2 and drops only the missing game.
V2_BATTLES = {
    "q01": [1, 1],
    "q02": [0] * 6,
    "q03": [1, 0.5],
    "q04": None,
    "q05": [1] * 6,
    "q06": [1, 0],
    "q07": [0.5, 1],
    "q08": [0, 0],
    "q09": [1, 1, 1, 1],
    "q10": [0.5, 0.5],
    "q11": [0, 0, 0, 0],
    "q12": None,
}
V01_BATTLES = {
    **V2_BATTLES,
    "q03": [0.5, 1],
    "q04": [1, 1, 1],
    "q06": [0, 1],
    "q07": [1, 0.5],
    "q12": [1],
}

# Outputs of the official code on FIXTURE (run outside this project, with pandas / sklearn /
# torch, on the judgments {"uid", "category", "model", "games": [{"score": g1}, {"score": g2}]}):
# v2.0: show_result.py @ 0489bf3 load_judgments + print_leaderboard after np.random.seed(seed),
# one call per category (and one on all battles) -> (Scores, lower, upper) in %.
OFFICIAL_V2 = {
    42: {
        "arena_hard": (53.25, 40.625, 65.625),
        "hard_prompt": (58.33333333333333, 41.66666666666667, 77.77777777777779),
        "creative_writing": (45.82142857142858, 25.0, 64.28571428571429),
    },
    2024: {
        "arena_hard": (52.65625000000001, 39.0625, 65.625),
        "hard_prompt": (59.277777777777764, 38.88888888888889, 77.77777777777779),
        "creative_writing": (46.28571428571429, 28.392857142857142, 67.85714285714286),
    },
}
# v0.1: utils_math.py @ 561534a compute_mle_elo + get_bootstrap_result (np.random.seed(seed),
# 100 rounds) + get_win_rate_column (unrounded) on get_battles_from_row's battles.
OFFICIAL_V01 = {
    42: (58.333333333305085, 43.71405363626488, 70.17823951968707),
    2024: (58.333333333305085, 45.83333354954554, 73.61111123914289),
}


def judgments(rows, version: str = "v2.0", styles=None) -> list[ah.PairJudgment]:
    out = []
    for i, (uid, category, g1, g2) in enumerate(rows):
        baseline = "gpt-4-0314" if version == "v0.1" else ah.baseline_model(version, category)
        out.append(
            ah.PairJudgment(
                version=version,
                uid=uid,
                question_index=i,
                category=category,
                baseline=baseline,
                games=[
                    ah.Game(order="baseline_first", verdict=g1),
                    ah.Game(order="model_first", verdict=g2),
                ],
                model_style=styles(uid, "model") if styles else None,
                baseline_style=styles(uid, "baseline") if styles else None,
            )
        )
    return out


def test_battles_from_the_two_games_by_hand() -> None:
    for uid, _, g1, g2 in FIXTURE:
        assert ah.battle_scores("v2.0", [g1, g2]) == V2_BATTLES[uid], uid
        assert ah.battle_scores("v0.1", [g1, g2]) == V01_BATTLES[uid], uid
    # a strong verdict is 3 battles, a slight one 1
    assert ah.battle_scores("v2.0", ["B>>A", "A>B"]) == [1, 1, 1, 1]
    assert ah.battle_scores("v0.1", ["B>>A", "A>B"]) == [1, 1, 1, 1]
    # v2.0 also knows the reversed spellings; v0.1 drops them
    assert ah.battle_scores("v2.0", ["A<B", "B<<A"]) == [1, 1, 1, 1]
    assert ah.battle_scores("v0.1", ["A<B", "B<<A"]) is None


@pytest.mark.parametrize("seed", [42, 2024])
def test_v2_aggregation_reproduces_the_official_code(seed: int) -> None:
    out = ah.summarise(judgments(FIXTURE), rounds=100, seed=seed)
    for name, expected in OFFICIAL_V2[seed].items():
        got = (out[name], out[f"{name}_lower"], out[f"{name}_upper"])
        assert got == pytest.approx(expected, abs=1e-9), name
    assert out["arena_hard_questions"] == 10 and out["arena_hard_unscored"] == 2
    assert out["arena_hard_battles"] == 32
    # the full-data means, by hand: 10.5/18, 6.5/14, 17/32 lie inside the intervals
    for name, mean in (("hard_prompt", 10.5 / 18), ("creative_writing", 6.5 / 14)):
        assert out[f"{name}_lower"] <= 100 * mean <= out[f"{name}_upper"]
    assert (
        ah.bootstrap_mean([s for b in V2_BATTLES.values() if b for s in b], seed=seed).score
        == out["arena_hard"]
    )


@pytest.mark.parametrize("seed", [42, 2024])
def test_v01_bradley_terry_reproduces_the_official_code(seed: int) -> None:
    v01 = [(uid, "arena-hard-v0.1", g1, g2) for uid, _, g1, g2 in FIXTURE]
    out = ah.summarise(judgments(v01, "v0.1"), rounds=100, seed=seed)
    got = (out["arena_hard"], out["arena_hard_lower"], out["arena_hard_upper"])
    assert got == pytest.approx(OFFICIAL_V01[seed], abs=1e-6)  # sklearn stops at tol=1e-8
    # the Bradley-Terry MLE against one baseline is the mean battle score: 21 of 36
    battles = [s for b in V01_BATTLES.values() if b for s in b]
    assert sum(battles) == 21 and len(battles) == 36
    assert out["arena_hard"] == pytest.approx(100 * 21 / 36, abs=1e-9)
    assert out["arena_hard_questions"] == 12 and out["arena_hard_unscored"] == 0
    assert "hard_prompt" not in out and "arena_hard_sc" not in out  # one category, no style


# Style control: 60 questions where the judge tends to prefer the model when its answer is much
# longer; style attributes are made up per question.
_LABELS = ["A>>B", "A>B", "A=B", "B>A", "B>>A"]


def _base_len(i: int) -> int:
    return 250 + (i * 31) % 300


def _model_len(i: int) -> int:
    return _base_len(i) + 150 - (i * 37) % 200


def style_fixture() -> list[tuple[str, str, str, str]]:
    rows = []
    for i in range(1, 61):
        longer = _model_len(i) - _base_len(i) > 40
        if i % 5 == 0:
            longer = not longer
        g1 = "B>A" if longer else _LABELS[(i * 7) % 3]
        g2 = ("A>>B" if i % 3 == 0 else "A>B") if longer else _LABELS[2 + (i * 3) % 3]
        rows.append((f"s{i:02d}", "hard_prompt", g1, g2))
    return rows


def styles(uid: str, who: str) -> dict:
    i = int(uid[1:])
    zero = {"h1": 0, "h2": 0, "h3": 0, "h4": 0, "h5": 0, "h6": 0}
    if who == "model":
        return {
            "token_len": _model_len(i),
            "header_count": {**zero, "h2": (i * 5) % 4},
            "list_count": {"ordered": (i * 3) % 7, "unordered": (i * 11) % 5},
            "bold_count": {"**": (i * 13) % 6, "__": 0},
        }
    return {
        "token_len": _base_len(i),
        "header_count": {**zero, "h1": (i * 2) % 3},
        "list_count": {"ordered": (i * 5) % 6, "unordered": (i * 7) % 3},
        "bold_count": {"**": (i * 17) % 4, "__": 0},
    }


# show_result.py @ 0489bf3 print_leaderboard_with_style_features (control features markdown and
# length; math_utils.py @ a9e743c, torch float32 L-BFGS) after np.random.seed(42), and
# print_leaderboard on the same battles.
OFFICIAL_STYLE = (67.45973527431488, 62.425177097320564, 73.47344070672989)
OFFICIAL_PLAIN = (64.36562500000001, 59.65625, 69.40624999999999)


def test_v2_style_control_reproduces_the_official_code() -> None:
    out = ah.summarise(judgments(style_fixture(), styles=styles), rounds=100, seed=42)
    got = (out["arena_hard_sc"], out["arena_hard_sc_lower"], out["arena_hard_sc_upper"])
    # float64 Newton here, float32 L-BFGS (50 iterations) there: within 0.005 percentage points
    assert got == pytest.approx(OFFICIAL_STYLE, abs=5e-3)
    plain = (out["arena_hard"], out["arena_hard_lower"], out["arena_hard_upper"])
    assert plain == pytest.approx(OFFICIAL_PLAIN, abs=1e-9)


def test_style_features_follow_add_markdown_info() -> None:
    text = (
        "# Title\n## Part\n1. one\n2. two\n- a\n* b\n**bold** and __under__\n"
        "```python\n# not a header\n- not a list\n```\n"
    )
    f = ah.style_features(text)
    assert f["header_count"] == {"h1": 1, "h2": 1, "h3": 0, "h4": 0, "h5": 0, "h6": 0}
    assert f["list_count"] == {"ordered": 2, "unordered": 2}
    assert f["bold_count"] == {"**": 1, "__": 1}
    assert f["token_len"] > 10
    assert ah.style_vector(f)[1:] == [2.0, 4.0, 2.0]


def mirrored(label: str | None) -> str | None:
    """The verdict with the two assistants' roles exchanged."""
    if label is None:
        return None
    return {"A>>B": "B>>A", "A>B": "B>A", "A=B": "A=B", "B>A": "A>B", "B>>A": "A>>B"}[label]


def test_properties_the_official_code_guarantees() -> None:
    uids = [f"p{i}" for i in range(8)]
    for version in ("v2.0", "v0.1"):
        cat = "hard_prompt" if version == "v2.0" else "arena-hard-v0.1"

        def score(rows, version=version):
            return ah.summarise(judgments(rows, version), rounds=100, seed=42)

        # ties everywhere (the baseline against itself) score exactly 50, interval included
        out = score([(u, cat, "A=B", "A=B") for u in uids])
        assert (out["arena_hard"], out["arena_hard_lower"], out["arena_hard_upper"]) == (50, 50, 50)
        # a judge that always prefers assistant A (pure position bias) cancels out: the battles
        # average exactly 50 (the Bradley-Terry estimate); v2.0 reports the mean of bootstrap
        # means, 50 up to resampling noise
        for label in ("A>B", "A>>B"):
            out = score([(u, cat, label, label) for u in uids])
            if version == "v0.1":
                assert out["arena_hard"] == pytest.approx(50, abs=1e-9)
            else:
                assert out["arena_hard"] == pytest.approx(50, abs=1)
            assert out["arena_hard_lower"] < 50 < out["arena_hard_upper"]
        # winning every battle > losing every battle (the limits, as there is no finite MLE)
        wins = score([(u, cat, "B>>A", "A>>B") for u in uids])
        losses = score([(u, cat, "A>B", "B>A") for u in uids])
        assert (wins["arena_hard"], wins["arena_hard_lower"], wins["arena_hard_upper"]) == (
            100,
            100,
            100,
        )
        assert (losses["arena_hard"], losses["arena_hard_lower"], losses["arena_hard_upper"]) == (
            0,
            0,
            0,
        )
        # exchanging the roles of the model and the baseline mirrors the score and its interval
        rows = [(u, cat, g1, g2) for u, _, g1, g2 in FIXTURE]
        swapped = [(u, c, mirrored(g1), mirrored(g2)) for u, c, g1, g2 in rows]
        a, b = score(rows), score(swapped)
        assert b["arena_hard"] == pytest.approx(100 - a["arena_hard"], abs=1e-6)
        assert b["arena_hard_lower"] == pytest.approx(100 - a["arena_hard_upper"], abs=1e-6)
        assert b["arena_hard_upper"] == pytest.approx(100 - a["arena_hard_lower"], abs=1e-6)
        # one more strong win moves the score up
        better = score([*rows, ("extra", cat, "B>>A", "A>>B")])
        assert better["arena_hard"] > a["arena_hard"]


def test_bradley_terry_win_rate_is_the_mean_battle_score() -> None:
    rng = random.Random(0)
    for _ in range(5):
        battles = [rng.choice([0, 0.5, 1]) for _ in range(rng.randint(5, 40))]
        if len(set(battles)) == 1:
            continue
        elo = ah.bradley_terry_elo([("base", "m", 1 - s) for s in battles], "base")
        assert elo["base"] == 1000
        assert ah.win_rate(elo["m"]) == pytest.approx(float(np.mean(battles)), abs=1e-9)
    # several models, each against the baseline only: each one's own mean
    battles = [("b", "x", 0.0)] * 3 + [("b", "x", 1.0)] + [("b", "y", 0.5), ("b", "y", 0.0)]
    elo = ah.bradley_terry_elo(battles, "b")
    assert ah.win_rate(elo["x"]) == pytest.approx(0.75) and ah.win_rate(elo["y"]) == (
        pytest.approx(0.75)
    )


def sample_scores(js: list[ah.PairJudgment]) -> list:
    """What the metric receives: Score.value and the sample's metadata (no Score.metadata)."""
    from inspect_ai.scorer import SampleScore, Score

    return [
        SampleScore(
            score=Score(value=j.score_value()),
            sample_id=j.uid,
            sample_metadata={ah.METADATA_KEY: j.info()},
        )
        for j in js
    ]


def test_metric_reads_score_values_only() -> None:
    from inspect_ai.scorer import SampleScore, Score

    scores = sample_scores(judgments(FIXTURE))
    out = ah.arena_hard_score()(scores)
    assert (out["arena_hard"], out["arena_hard_lower"], out["arena_hard_upper"]) == (
        pytest.approx(OFFICIAL_V2[42]["arena_hard"], abs=1e-9)
    )
    assert out["hard_prompt"] == pytest.approx(OFFICIAL_V2[42]["hard_prompt"][0], abs=1e-9)
    assert out["arena_hard_questions"] == 10 and out["arena_hard_battles"] == 32
    assert list(out)[0] == "arena_hard"  # the headline comes first
    # the order the samples finish in does not matter
    assert ah.arena_hard_score()(list(reversed(scores))) == out
    # unscored judgments are counted by their own metric, over every (sample, epoch)
    assert ah.arena_hard_unscored()(scores) == {"arena_hard_unscored": 2}
    # the same key set on every sample, NaN where unscored
    assert all(set(s.score.value) == set(ah.VALUE_KEYS) for s in scores)
    q04 = next(s for s in scores if s.sample_id == "q04").score.value
    assert all(math.isnan(q04[k]) for k in ah.GAME_KEYS)  # v2.0: both games of the question
    # a sample without its question's inputs is an error, not a silent 0
    with pytest.raises(ValueError, match="sample x has no 'arena_hard' in its metadata"):
        ah.arena_hard_score()([*scores, SampleScore(score=Score(value={}), sample_id="x")])


def test_values_carry_each_game_and_the_style() -> None:
    value = ah.score_value("v2.0", ["B>A", "A>>B"], styles("s07", "model"))
    assert value == {
        "battle_mean": 1.0,
        "game1_battles": 1.0,
        "game1_points": 1.0,  # the baseline (A) lost: the model's win
        "game2_battles": 3.0,
        "game2_points": 3.0,
        "model_token_len": float(_model_len(7)),
        "model_header_count": 3.0,
        "model_list_count": 2.0,  # 0 ordered + 2 unordered
        "model_bold_count": 1.0,
    }
    # v0.1 keeps a usable game when the other is not; no style: NaN, never 0
    value = ah.score_value("v0.1", [None, "A=B"], None)
    assert value["game2_battles"] == 1 and value["game2_points"] == 0.5
    assert math.isnan(value["game1_battles"]) and math.isnan(value["model_token_len"])


# -- the judge protocol -------------------------------------------------------------------------


def verdict_text(label: str) -> str:
    return f"My answer would be...\n\nBoth are fine, but one is better.\n\nMy final verdict is: [[{label}]]"


@pytest.mark.parametrize("version", ["v2.0", "v0.1"])
@pytest.mark.parametrize("label", ["A>>B", "A>B", "A=B", "B>A", "B>>A"])
def test_each_verdict_label_is_read(version: str, label: str) -> None:
    judge = ScriptedJudge(lambda prompt, n: verdict_text(label))
    messages = ah.judge_messages(version, "hard_prompt", "Q?", "answer one", "answer two")
    game = asyncio.run(ah.judge_game(judge.model(), messages, version, "baseline_first"))
    assert (game.verdict, game.failure, game.attempts) == (label, None, 1)
    assert game.usage.calls == 1 and game.usage.output_tokens == len(verdict_text(label).split())


def test_judge_prompts_are_the_official_ones() -> None:
    [system, user] = ah.judge_messages("v2.0", "creative_writing", "Q?", "AAA", "BBB")
    assert system.text == ah.CREATIVE_WRITING_PROMPT
    assert "generating your own answer" not in system.text
    assert user.text == (
        "<|User Prompt|>\nQ?\n\n<|The Start of Assistant A's Answer|>\nAAA\n"
        "<|The End of Assistant A's Answer|>\n\n<|The Start of Assistant B's Answer|>\nBBB\n"
        "<|The End of Assistant B's Answer|>"
    )
    for version, category in (("v2.0", "hard_prompt"), ("v0.1", "arena-hard-v0.1")):
        system = ah.judge_messages(version, category, "Q", "a", "b")[0].text
        assert system == ah.OG_ARENA_HARD_PROMPT
        assert system.startswith("Please act as an impartial judge")
        assert "Begin your evaluation by generating your own answer to the prompt." in system
        assert system.endswith('Example output: "My final verdict is tie: [[A=B]]".')
    # braces in answers are not format fields
    assert "{x}" in ah.judge_messages("v2.0", "hard_prompt", "Q", "{x}", "b")[1].text


def test_verdict_regex_edge_cases() -> None:
    # v2.0: upper-cased, the last match of the first pattern that matches, single-bracket fallback
    assert ah.parse_verdict("[[a>b]]", "v2.0") == "A>B"
    assert ah.parse_verdict("first [[A>B]] then [[B>>A]]", "v2.0") == "B>>A"
    assert ah.parse_verdict("verdict: [B>A]", "v2.0") == "B>A"
    assert ah.parse_verdict("[[A=B]] and [B>A]", "v2.0") == "A=B"
    assert ah.parse_verdict("[[B<<A]]", "v2.0") == "B<<A"
    # v0.1: case-sensitive, one distinct label
    assert ah.parse_verdict("[[A>B]] ... so [[A>B]]", "v0.1") == "A>B"
    with pytest.raises(JudgeReplyError, match="conflicting verdict labels"):
        ah.parse_verdict("[[A>B]] or [[B>A]]", "v0.1")
    with pytest.raises(JudgeReplyError, match="no final verdict label"):
        ah.parse_verdict("[[a>b]]", "v0.1")
    with pytest.raises(JudgeReplyError, match="no final verdict label"):
        ah.parse_verdict("Assistant A is better.", "v2.0")
    # a label the score tables do not know is not a verdict
    with pytest.raises(JudgeReplyError, match=r"unknown verdict label \[\[AB\]\]"):
        ah.parse_verdict("[[AB]]", "v2.0")
    with pytest.raises(JudgeReplyError, match=r"unknown verdict label \[\[A\]\]"):
        ah.parse_verdict("Assistant [A] is better", "v2.0")


def test_malformed_judgment_is_retried_then_unscored_with_reason() -> None:
    judge = ScriptedJudge(lambda prompt, n: "Both answers have merits; hard to say.")
    messages = ah.judge_messages("v2.0", "hard_prompt", "Q?", "a", "b")
    game = asyncio.run(ah.judge_game(judge.model(), messages, "v2.0", "model_first"))
    assert game.verdict is None and game.attempts == 3 and judge.calls == 3
    assert game.failure.startswith("malformed judge output: no final verdict label")
    assert "(3 attempts)" in game.failure
    assert "finish by outputting a final verdict label" in judge.prompts[1]  # the correction turn
    pair = ah.PairJudgment(
        version="v2.0",
        uid="u",
        question_index=0,
        category="hard_prompt",
        baseline="o3-mini-2025-01-31",
        games=[ah.Game(order="baseline_first", verdict="B>A"), game],
    )
    assert pair.status == "unscored" and math.isnan(pair.value)
    assert pair.reason.startswith("game 2 (model_first): malformed judge output")
    # v0.1 keeps the usable game
    pair = pair.model_copy(update={"version": "v0.1"})
    assert pair.status == "scored" and pair.value == 1.0 and pair.battles == [1.0]


def test_malformed_once_then_recovered() -> None:
    judge = ScriptedJudge(lambda prompt, n: "no label" if n == 1 else verdict_text("A>>B"))
    messages = ah.judge_messages("v0.1", "arena-hard-v0.1", "Q?", "a", "b")
    game = asyncio.run(ah.judge_game(judge.model(), messages, "v0.1", "baseline_first"))
    assert (game.verdict, game.attempts, game.failure) == ("A>>B", 2, None)


# -- the task, end to end -----------------------------------------------------------------------

GAME_RE = re.compile(
    r"<\|User Prompt\|>\n(.*)\n\n<\|The Start of Assistant A's Answer\|>\n(.*)\n"
    r"<\|The End of Assistant A's Answer\|>\n\n<\|The Start of Assistant B's Answer\|>\n(.*)\n"
    r"<\|The End of Assistant B's Answer\|>",
    re.DOTALL,
)


def arena_judge(verdicts: dict, policy_answer: str | list[str] = MOCK_OUTPUT):
    """Answers the global prompt with GLOBAL and each game with the scripted verdict:
    ``verdicts[uid]`` is (game 1, game 2), or {epoch: (game 1, game 2)}; None is a judgment
    without a verdict label."""
    uid_of = {q.prompt: q.uid for v in ("v2.0", "v0.1") for q in ah.load_questions(v)}
    seen: list[tuple[str, int, str]] = []
    policy = [policy_answer] if isinstance(policy_answer, str) else policy_answer

    def script(prompt: str, n: int) -> str:
        if is_global(prompt):
            return json.dumps({"rationale": "fine", "score": GLOBAL})
        question, answer_a, answer_b = GAME_RE.search(prompt).groups()
        uid = uid_of[question]
        game = 2 if answer_a in policy else 1
        assert (answer_b if game == 2 else answer_a) not in policy
        seen.append((uid, game, answer_b if game == 2 else answer_a))
        scripted = verdicts[uid]
        if isinstance(scripted, dict):  # a different verdict in each epoch
            scripted = scripted[sample_state().epoch]
        label = scripted[game - 1]
        return "Both answers have merits." if label is None else verdict_text(label)

    judge = ScriptedJudge(script)
    judge.seen = seen  # type: ignore[attr-defined]
    return judge


# two hard prompts and one creative-writing prompt of v2.0
E2E = {
    "2edbb5f36f5b42be": ("B>A", "A>>B"),  # model wins both games, once strongly
    "ec71c09662a64365": ("A>B", "B>A"),  # baseline wins both
    "d657b1fb82b141da": ("A=B", "A>B"),  # creative writing: a tie, then a model win
}
E2E_BATTLES = {
    "2edbb5f36f5b42be": [1, 1, 1, 1],
    "ec71c09662a64365": [0, 0],
    "d657b1fb82b141da": [1, 0.5],
}


def test_arena_hard_v2_end_to_end(tmp_path: Path) -> None:
    from harness.tasks.arena_hard import arena_hard

    judge = arena_judge(E2E)
    log = run_eval(arena_hard(), tmp_path, {"grader": judge.model()}, sample_id=list(E2E))
    assert len(log.samples) == 3
    baselines = {
        m: ah.load_answers("v2.0", m) for m in ("o3-mini-2025-01-31", "gemini-2.0-flash-001")
    }
    for sample in log.samples:
        score = sample.scores["arena_hard_judge"]
        j = ah.PairJudgment.model_validate(score.metadata["arena_hard"])
        assert [g.verdict for g in j.games] == list(E2E[sample.id])
        assert [g.order for g in j.games] == ["baseline_first", "model_first"]
        assert all(g.attempts == 1 and g.failure is None for g in j.games)
        assert j.battles == E2E_BATTLES[sample.id]
        assert score.value["battle_mean"] == pytest.approx(np.mean(E2E_BATTLES[sample.id]))
        assert set(score.value) == set(ah.VALUE_KEYS)
        assert score.answer == short_answer(MOCK_OUTPUT)
        baseline = (
            "gemini-2.0-flash-001" if sample.id == "d657b1fb82b141da" else "o3-mini-2025-01-31"
        )
        assert j.baseline == baseline and j.category == sample.metadata["category"]
        assert j.model_style["token_len"] == 7  # "Default output from mockllm/model"
        assert j.baseline_style == baselines[baseline][sample.id].metadata
        # the judge saw the category's baseline answer opposite the policy's, in both orders
        seen = sorted(g for uid, g, answer in judge.seen if uid == sample.id)
        assert seen == [1, 2]
        assert {a for uid, _, a in judge.seen if uid == sample.id} == {
            baselines[baseline][sample.id].text
        }
        assert "| 1 | baseline | model | `[[" in score.explanation
        # the hybrid reward of a prompt-only spec is the global component
        hybrid = sample.scores["hybrid_reward"]
        assert hybrid.value["reward"] == pytest.approx(GLOBAL / 10)
        assert math.isnan(hybrid.value["rubric"]) and math.isnan(hybrid.value["code"])
        assert RewardResult.from_metadata(hybrid.metadata).rubric.status == "absent"
    # the creative-writing games had their own system prompt; the hard prompts the original one
    pairwise = [p for p in judge.prompts if not is_global(p)]
    assert len(pairwise) == 6 and len(judge.prompts) == 9
    assert sum(p.startswith(ah.CREATIVE_WRITING_PROMPT) for p in pairwise) == 2
    assert sum(p.startswith(ah.OG_ARENA_HARD_PROMPT) for p in pairwise) == 4
    configs = [c for c, p in zip(judge.configs, judge.prompts, strict=True) if not is_global(p)]
    assert all(c.temperature == 0 and c.max_tokens == 16000 for c in configs)
    # the official metric over the samples' verdicts
    m = metrics_of(log)
    ordered = [E2E_BATTLES[u] for u in ("2edbb5f36f5b42be", "ec71c09662a64365", "d657b1fb82b141da")]
    overall = ah.bootstrap_mean([s for b in ordered for s in b])
    assert m["arena_hard_judge/arena_hard"] == pytest.approx(overall.score)
    assert m["arena_hard_judge/arena_hard_lower"] == pytest.approx(overall.lower)
    assert m["arena_hard_judge/arena_hard_upper"] == pytest.approx(overall.upper)
    assert m["arena_hard_judge/hard_prompt"] == pytest.approx(
        ah.bootstrap_mean([1, 1, 1, 1, 0, 0]).score
    )
    assert m["arena_hard_judge/creative_writing"] == pytest.approx(
        ah.bootstrap_mean([1, 0.5]).score
    )
    assert m["arena_hard_judge/arena_hard_questions"] == 3
    assert m["arena_hard_judge/arena_hard_battles"] == 8
    assert m["arena_hard_judge/arena_hard_unscored"] == 0
    # the hybrid reward keeps its own metrics next to the official score
    assert m["hybrid_reward/reward"] == pytest.approx(GLOBAL / 10)
    assert m["hybrid_reward/reward_stderr"] == 0 and m["hybrid_reward/reward_unscored"] == 0
    # the official score is the log's first metric and its headline; counts come after it
    first = log.results.scores[0]
    assert (first.name, next(iter(first.metrics))) == ("arena_hard_judge", "arena_hard")
    names = [f"{s.name}/{k}" for s in log.results.scores for k in s.metrics]
    assert names.index("arena_hard_judge/arena_hard_unscored") > 0
    assert headline_of(log) == ("arena_hard_judge", "arena_hard", pytest.approx(overall.score))
    # provenance: the task version, the judge protocols and the pairwise judge settings
    assert log.eval.task_version == 2
    meta = log.eval.metadata
    assert meta["benchmark"] == "arena_hard"
    assert meta["protocols"]["arena_hard"] == f"arena-hard-v2.0-pairwise@{ah.PROTOCOL_VERSION}"
    assert set(meta["protocols"]) == {"arena_hard", "rubric", "global"}
    assert meta["arena_hard"]["judge_settings"] == {
        "temperature": 0.0,
        "max_tokens": 16000,
        "max_attempts": 3,
    }
    assert meta["arena_hard"]["baselines"] == ["gemini-2.0-flash-001", "o3-mini-2025-01-31"]


def test_arena_hard_mock_grader_is_unscored_not_zero(tmp_path: Path) -> None:
    from harness.tasks.arena_hard import arena_hard

    log = run_eval(
        arena_hard(category="creative_writing"), tmp_path, {"grader": "mockllm/model"}, limit=2
    )
    for sample in log.samples:
        score = sample.scores["arena_hard_judge"]
        assert math.isnan(score.value["battle_mean"])
        j = ah.PairJudgment.model_validate(score.metadata["arena_hard"])
        assert [g.verdict for g in j.games] == [None, None]
        assert all(g.attempts == 3 for g in j.games)
        assert "malformed judge output: no final verdict label" in j.reason
        assert score.explanation.startswith("### Arena-Hard: **unscored**")
    m = metrics_of(log)
    assert math.isnan(m["arena_hard_judge/arena_hard"])
    assert m["arena_hard_judge/arena_hard_unscored"] == 2
    assert m["arena_hard_judge/arena_hard_questions"] == 0


def test_arena_hard_v01_replays_published_answers(tmp_path: Path) -> None:
    from harness.tasks.arena_hard import arena_hard

    question = ah.load_questions("v0.1")[0]
    replayed = ah.load_answers("v0.1", "mistral-7b-instruct")[question.uid]
    baseline = ah.load_answers("v0.1", "gpt-4-0314")[question.uid]
    judge = arena_judge({question.uid: ("B>A", "A>B")}, policy_answer=replayed.text)
    log = run_eval(
        arena_hard(version="v0.1", replay="mistral-7b-instruct"),
        tmp_path,
        {"grader": judge.model()},
        sample_id=[question.uid],
    )
    [sample] = log.samples
    assert sample.output.completion == replayed.text
    # the Scoring tab shows the head of the answer; the whole one is the sample's output
    answer = sample.scores["arena_hard_judge"].answer
    assert answer == short_answer(replayed.text) and len(answer) < len(replayed.text)
    j = ah.PairJudgment.model_validate(sample.scores["arena_hard_judge"].metadata["arena_hard"])
    assert (j.version, j.baseline, [g.verdict for g in j.games]) == (
        "v0.1",
        "gpt-4-0314",
        ["B>A", "A>B"],
    )
    assert j.battles == [1, 1]
    assert {answer for _, _, answer in judge.seen} == {baseline.text}
    pairwise = [c for c, p in zip(judge.configs, judge.prompts, strict=True) if not is_global(p)]
    assert [c.max_tokens for c in pairwise] == [4096, 4096]
    m = metrics_of(log)
    assert m["arena_hard_judge/arena_hard"] == pytest.approx(100.0)
    assert "arena_hard_judge/arena_hard_sc" not in m


# -- epochs: the official metric reads reduced Score.values -------------------------------------

# The same three questions judged twice; every game keeps its verdict strength (battle count)
# across epochs, while the outcomes change.
SAME_STRENGTH = {
    "2edbb5f36f5b42be": {1: ("B>A", "A>>B"), 2: ("A>B", "B>>A")},
    "ec71c09662a64365": {1: ("A>B", "B>A"), 2: ("A=B", "A=B")},
    "d657b1fb82b141da": {1: ("A=B", "A>B"), 2: ("B>A", "B>A")},
}
# The model's battles in each epoch, by hand (v2.0: game 2's, then game 1's complemented)
SAME_STRENGTH_BATTLES = {
    1: {
        "2edbb5f36f5b42be": [1, 1, 1, 1],
        "ec71c09662a64365": [0, 0],
        "d657b1fb82b141da": [1, 0.5],
    },
    2: {
        "2edbb5f36f5b42be": [0, 0, 0, 0],
        "ec71c09662a64365": [0.5, 0.5],
        "d657b1fb82b141da": [0, 1],
    },
}
HARD = ("2edbb5f36f5b42be", "ec71c09662a64365")  # question order; then the creative one
ORDER = (*HARD, "d657b1fb82b141da")


def test_v2_epochs_mean_of_per_epoch_scores(tmp_path: Path) -> None:
    from harness.tasks.arena_hard import arena_hard

    judge = arena_judge(SAME_STRENGTH)
    log = run_eval(
        arena_hard(), tmp_path, {"grader": judge.model()}, sample_id=list(ORDER), epochs=2
    )
    # two games per sample and epoch, and one global score per sample: both epochs answer the
    # same, and an identical (spec, response) is judged once (in flight or from the cache)
    assert len(judge.prompts) == 2 * 3 * 2 + 3
    m = metrics_of(log)

    def per_epoch(uids: tuple[str, ...]) -> float:
        scores = [
            ah.bootstrap_mean([s for u in uids for s in SAME_STRENGTH_BATTLES[e][u]]).score
            for e in (1, 2)
        ]
        return float(np.mean(scores))

    # the bootstrap mean is linear in the battle scores for fixed draws: the score of the
    # mean-reduced values is the mean of the two epochs' official scores
    assert m["arena_hard_judge/arena_hard"] == pytest.approx(per_epoch(ORDER), abs=1e-9)
    assert m["arena_hard_judge/hard_prompt"] == pytest.approx(per_epoch(HARD), abs=1e-9)
    assert m["arena_hard_judge/creative_writing"] == pytest.approx(per_epoch(ORDER[2:]), abs=1e-9)
    # ... and not the first epoch's (what reading Score.metadata would give)
    first = ah.bootstrap_mean([s for u in ORDER for s in SAME_STRENGTH_BATTLES[1][u]]).score
    assert abs(m["arena_hard_judge/arena_hard"] - first) > 10
    assert m["arena_hard_judge/arena_hard_questions"] == 3
    assert m["arena_hard_judge/arena_hard_battles"] == 8
    assert m["arena_hard_judge/arena_hard_unscored"] == 0
    assert m["hybrid_reward/reward"] == pytest.approx(GLOBAL / 10)
    assert headline_of(log)[2] == pytest.approx(per_epoch(ORDER), abs=1e-9)


# Verdict strengths that change between epochs, and an epoch without a usable verdict.
MIXED = {
    "2edbb5f36f5b42be": {1: ("B>>A", "A>>B"), 2: ("A>B", "B>A")},
    "ec71c09662a64365": {1: (None, "B>A"), 2: ("A>B", "B>A")},  # epoch 1: game 1 unusable
    "d657b1fb82b141da": {1: ("A=B", "A>B"), 2: ("A=B", "A>B")},
}


def test_v2_epochs_pool_battles_when_strengths_differ(tmp_path: Path) -> None:
    from harness.tasks.arena_hard import arena_hard

    judge = arena_judge(MIXED)
    log = run_eval(
        arena_hard(), tmp_path, {"grader": judge.model()}, sample_id=list(ORDER), epochs=2
    )
    m = metrics_of(log)
    # by hand, from the verdicts. Question 1, each game: 3 battles won, then 1 lost -> a mean
    # of 2 battles per epoch at the pooled score 3/4. Question 2: only epoch 2 is usable (v2.0
    # drops a question with an unusable game) -> its 2 lost battles. Question 3: the same in
    # both epochs.
    rows = [0.75, 0.75, 0.75, 0.75, 0, 0, 1, 0.5]
    expected = ah.bootstrap_mean(rows)
    assert m["arena_hard_judge/arena_hard"] == pytest.approx(expected.score, abs=1e-9)
    assert m["arena_hard_judge/arena_hard_lower"] == pytest.approx(expected.lower, abs=1e-9)
    assert m["arena_hard_judge/arena_hard_upper"] == pytest.approx(expected.upper, abs=1e-9)
    # questions 1 and 3, usable in both epochs, weigh in as their battles pooled: 9 of 12;
    # question 2 as its one usable epoch
    assert np.mean(rows[:4] + rows[6:]) == (6 + 3) / (8 + 4)
    # which is not the mean of the per-epoch scores when battle counts differ across epochs
    epoch1 = ah.bootstrap_mean([1] * 6 + [1, 0.5]).score  # question 2 left out
    epoch2 = ah.bootstrap_mean([0, 0, 0, 0, 1, 0.5]).score
    assert abs(m["arena_hard_judge/arena_hard"] - (epoch1 + epoch2) / 2) > 1
    assert m["arena_hard_judge/arena_hard_questions"] == 3
    assert m["arena_hard_judge/arena_hard_battles"] == 8
    # the unusable judgment is counted once: (sample, epoch) judgments, over every epoch
    assert m["arena_hard_judge/arena_hard_unscored"] == 1
    reduced = {
        s.sample_id: s.value
        for r in log.reductions
        if r.scorer == "arena_hard_judge"
        for s in r.samples
    }
    assert reduced["2edbb5f36f5b42be"]["game1_battles"] == 2
    assert reduced["2edbb5f36f5b42be"]["game1_points"] == 1.5
    assert reduced["ec71c09662a64365"]["game1_points"] == 0  # epoch 2's alone


# v0.1, replayed answers: (game 1, game 2) per epoch, and the model's battles by hand
# (game 1 complemented, then game 2).
V01_EPOCHS = {1: ("B>A", "A>B"), 2: ("A>>B", "A>B")}
V01_EPOCHS_2 = {1: ("A=B", "B>>A"), 2: ("A=B", "B>>A")}
V01_POOLED = [1, 1] + [0, 0, 0, 1] + [0.5, 0, 0, 0] * 2  # both epochs' battles


def test_v01_epochs_bradley_terry_on_pooled_battles(tmp_path: Path) -> None:
    from harness.tasks.arena_hard import arena_hard

    q1, q2 = ah.load_questions("v0.1")[:2]
    replayed = ah.load_answers("v0.1", "mistral-7b-instruct")
    judge = arena_judge(
        {q1.uid: V01_EPOCHS, q2.uid: V01_EPOCHS_2}, [replayed[q.uid].text for q in (q1, q2)]
    )
    log = run_eval(
        arena_hard(version="v0.1", replay="mistral-7b-instruct"),
        tmp_path,
        {"grader": judge.model()},
        sample_id=[q1.uid, q2.uid],
        epochs=2,
    )
    m = metrics_of(log)
    # the Bradley-Terry fit on the mean-reduced (soft) outcomes is the fit on the battles of
    # both epochs pooled: the likelihood is linear in the outcome
    pooled = ah.bradley_terry_elo([("base", "m", 1 - s) for s in V01_POOLED], "base")
    assert m["arena_hard_judge/arena_hard"] == pytest.approx(100 * ah.win_rate(pooled["m"]))
    assert m["arena_hard_judge/arena_hard"] == pytest.approx(100 * 4 / 14)
    # the interval: the bootstrap of an average epoch's battles, by hand: q1 game 1 stands for
    # 2 battles at 1/4, game 2 for 1 won; q2 for a tie and 3 lost
    rows = [0.25, 0.25, 1, 0.5, 0, 0, 0]
    expected = ah.bradley_terry_win_rate(rows)
    assert m["arena_hard_judge/arena_hard_lower"] == pytest.approx(expected.lower, abs=1e-6)
    assert m["arena_hard_judge/arena_hard_upper"] == pytest.approx(expected.upper, abs=1e-6)
    assert m["arena_hard_judge/arena_hard_battles"] == 7
    assert m["arena_hard_judge/arena_hard_unscored"] == 0


def test_style_control_on_reduced_values_is_the_pooled_fit() -> None:
    """Bradley-Terry with style features on mean-reduced outcomes = on the pooled battles."""
    from inspect_ai.scorer import Score, mean_score

    epoch1 = style_fixture()
    epoch2 = [
        (u, c, _LABELS[i % 5], _LABELS[(i * 3 + 1) % 5]) for i, (u, c, _, _) in enumerate(epoch1)
    ]
    js = [judgments(rows, styles=styles) for rows in (epoch1, epoch2)]
    # the pooled battles of both epochs, each with its question's (unchanged) style
    scores, model, base = [], [], []
    for epoch in js:
        for j in epoch:
            for s in j.battles:
                scores.append(s)
                model.append(ah.style_vector(j.model_style))
                base.append(ah.style_vector(j.baseline_style))
    X, y, _ = ah.style_design(scores, model, base)
    pooled = ah.fit_logistic(X, y)
    # Inspect's mean reducer over the two epochs' Score.values, then the metric's reading
    questions = [
        ah.question_battles(
            a.info(),
            mean_score()([Score(value=a.score_value()), Score(value=b.score_value())]).value,
        )
        for a, b in zip(*js, strict=True)
    ]
    games = [(q, w, s) for q in questions for w, s in q.games]
    assert any(w == 2 for _, w, _ in games)  # some games changed strength
    X, y, _ = ah.style_design(
        [s for _, _, s in games],
        [q.model_style for q, _, _ in games],
        [q.baseline_style for q, _, _ in games],
        weights=[w for _, w, _ in games],
    )
    reduced = ah.fit_logistic(X, y)
    assert y.size * 2 == len(scores)  # an average epoch's battles, half the pool
    sigmoid = 1 / (1 + math.exp(-reduced[0]))
    assert sigmoid == pytest.approx(1 / (1 + math.exp(-pooled[0])), abs=1e-9)
    # the style coefficients agree up to the features' scale (std over twice the rows)
    assert np.sign(reduced[1:]).tolist() == np.sign(pooled[1:]).tolist()
    # the reported score is the bootstrap median of such fits
    out = ah.aggregate_questions(questions)
    assert 0 < out["arena_hard_sc_lower"] < out["arena_hard_sc"] < out["arena_hard_sc_upper"] < 100


def test_fractional_battle_counts_keep_their_share() -> None:
    # three epochs of a game judged strong, slight, slight: 5/3 battles on average
    weights = [5 / 3, 1.0, 3.0]
    scores = [0.2, 1.0, 0.0]
    agg = ah.bootstrap_mean(scores, weights=weights)
    full = ah.bootstrap_mean([0.2] * 5 + [1.0] * 3 + [0.0] * 9, rounds=2000, seed=1)
    assert agg.battles == pytest.approx(17 / 3)
    # rows in the exact proportions 5 : 3 : 9; a round draws an average epoch's 6 battles
    exact = (0.2 * 5 + 1.0 * 3) / 17
    assert abs(agg.score - 100 * exact) < 10 and abs(full.score - 100 * exact) < 1
    with pytest.raises(ValueError, match="non-negative ratios of small integers"):
        ah.bootstrap_mean(scores, weights=[math.pi, 1, 1])
    with pytest.raises(ValueError, match="2 weights for 3 battle scores"):
        ah.bootstrap_mean(scores, weights=[1, 1])


def test_without_grader_the_judgments_are_unscored_with_reason(tmp_path: Path) -> None:
    from harness.tasks.arena_hard import arena_hard

    log = run_eval(arena_hard(require_grader=False), tmp_path, {}, limit=1)
    [sample] = log.samples
    score = sample.scores["arena_hard_judge"]
    assert all(math.isnan(v) for k, v in score.value.items() if not k.startswith("model_"))
    assert ah.judgment_of(score).reason == "no grader model bound (grader role)"
    m = metrics_of(log)
    assert math.isnan(m["arena_hard_judge/arena_hard"])
    assert m["arena_hard_judge/arena_hard_unscored"] == 1


def test_unbound_grader_is_an_error(tmp_path: Path) -> None:
    from harness.tasks.arena_hard import arena_hard

    [log] = eval(
        arena_hard(), model="mockllm/model", limit=1, log_dir=str(tmp_path), display="none"
    )
    assert log.status == "error"
    assert "Model role 'grader' is required" in log.error.message


def test_unbound_grader_stops_inspect_eval_before_generation(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    status, lines = inspect_cli(
        "eval", "harness/arena_hard", "--model", "mockllm/model", "--limit", "1",
        "--log-dir", str(logs), columns=200,
    )  # fmt: skip
    assert status != 0
    assert len(lines) == 1, lines
    assert lines[0].startswith("No judge bound for grader: pass --model-role grader=<model>")
    # the task stopped while being built: no eval started, so no log and no generation
    assert not logs.exists() or not any(logs.iterdir())
