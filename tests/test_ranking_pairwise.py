"""The pairwise judge baseline (harness.ranking.pairwise) with scripted judges."""

from __future__ import annotations

import asyncio
import math
import re

import pytest
from conftest import ScriptedJudge

from harness.ranking.groups import comparison
from harness.ranking.metrics import accuracy_table, paired_comparison
from harness.ranking.pairwise import ARENA_HARD, PairwisePrompt, judge_pairs, verdict_of

N = 4
_A = re.compile(r"<\|The Start of Assistant A's Answer\|>\n(.*?)\n<\|The End of Assistant A's")
_B = re.compile(r"<\|The Start of Assistant B's Answer\|>\n(.*?)\n<\|The End of Assistant B's")


def pairs(n: int = N) -> list:
    return [
        comparison("toy", f"g{i}", f"question {i}?", [f"GOOD {i}"], [f"BAD {i}"], "s")
        for i in range(n)
    ]


def shown(prompt: str) -> tuple[str, str]:
    """(assistant A's answer, assistant B's answer) in a judge prompt (the first ones shown)."""
    return _A.search(prompt).group(1), _B.search(prompt).group(1)


def is_retry(prompt: str) -> bool:
    return "That reply could not be used" in prompt


def first_asks(judge: ScriptedJudge) -> list[str]:
    return [p for p in judge.prompts if not is_retry(p)]


def run(judge: ScriptedJudge, groups: list, **kwargs):
    return asyncio.run(judge_pairs(groups, judge.model(), **kwargs))


def oracle(prompt: str, n: int) -> str:
    a, _ = shown(prompt)
    return "A is right. My final verdict is: [[A>>B]]" if a.startswith("GOOD") else "[[B>A]]"


def test_judge_that_always_picks_position_a_is_inconsistent_and_never_right():
    judge = ScriptedJudge(lambda p, n: "Assistant A is better. My final verdict: [[A>B]]")
    result = run(judge, pairs())
    assert judge.calls == 2 * N
    assert all(v == ("chosen", "rejected") for v in result.verdicts.values())
    assert result.summary.n == N
    assert result.summary.consistency == 0.0
    assert result.summary.accuracy == 0.0  # net vote +1 - 1 = 0: not correct (JudgeBench)
    assert result.credits == {f"g{i}": 0 for i in range(N)}
    assert result.failures == []


def test_judge_that_always_picks_the_chosen_is_consistent_and_right():
    judge = ScriptedJudge(oracle)
    result = run(judge, pairs())
    assert judge.calls == 2 * N
    assert all(v == ("chosen", "chosen") for v in result.verdicts.values())
    assert result.summary.consistency == 1.0
    assert result.summary.accuracy == 1.0
    assert result.summary.consistent_accuracy == 1.0
    assert result.credits == {f"g{i}": 1 for i in range(N)}
    first, second = result.judgments["g0"]
    assert (first.label, second.label) == ("A>>B", "B>A")
    assert first.attempts == second.attempts == 1


def test_both_orders_show_the_responses_swapped():
    judge = ScriptedJudge(oracle)
    run(judge, pairs())
    seen = sorted(shown(p) for p in judge.prompts)
    expected = sorted(
        pair for i in range(N) for pair in ((f"GOOD {i}", f"BAD {i}"), (f"BAD {i}", f"GOOD {i}"))
    )
    assert seen == expected
    for i in range(N):  # each question is asked exactly twice, once per order
        assert sum(f"<|User Prompt|>\nquestion {i}?\n" in p for p in judge.prompts) == 2
    # JudgeBench's arena_hard system prompt, and its call settings
    assert all(p.startswith(ARENA_HARD.system) for p in judge.prompts)
    assert all(c.temperature == 0.0 and c.max_tokens == 4096 for c in judge.configs)


def test_malformed_replies_are_retried_with_a_correction_turn():
    def script(prompt: str, n: int) -> str:
        if not is_retry(prompt):
            return "Both answers are fine, I cannot decide."  # no label
        return oracle(prompt, n)

    judge = ScriptedJudge(script)
    result = run(judge, pairs())
    assert judge.calls == 2 * N + 2 * N  # every order needed one retry
    assert result.summary.accuracy == 1.0 and result.summary.unscored == 0
    assert all(j.attempts == 2 for pair in result.judgments.values() for j in pair)
    retry = next(p for p in judge.prompts if is_retry(p))
    assert "no final verdict label" in retry
    assert result.usage.calls == 4 * N


@pytest.mark.parametrize(
    "bad_reply, reason",
    [
        ("I think [[A>B]] but maybe [[B>A]].", "conflicting verdict labels"),
        ("My verdict: [[A>>>B]]", "unknown verdict label"),
        ("no label at all", "no final verdict label"),
        (
            "1. Assistant A is significantly better: [[A>>B]]\n"
            "2. Assistant A is slightly better: [[A>B]]",
            "copies the prompt's placeholder",
        ),
    ],
)
def test_a_malformed_order_is_unscored_with_its_reason_and_counted(bad_reply, reason):
    def script(prompt: str, n: int) -> str:
        a, b = shown(prompt)
        if a == "BAD 1":  # group g1, chosen-second order: always malformed
            return bad_reply
        return oracle(prompt, n)

    judge = ScriptedJudge(script)
    result = run(judge, pairs(), max_attempts=3)
    assert judge.calls == 2 * N + 2  # the failing order was asked 3 times
    assert result.verdicts["g1"] == ("chosen", None)
    assert result.credits["g1"] is None
    assert [(g, o) for g, o, _ in result.failures] == [("g1", "chosen_second")]
    assert reason in result.failures[0][2]
    assert result.judgments["g1"][1].attempts == 3
    assert result.summary.unscored == 1 and result.summary.n == N - 1
    assert result.summary.accuracy == 1.0
    frame = result.frame().set_index("id")
    assert not frame.loc["g1", "scored"] and math.isnan(frame.loc["g1", "credit"])
    assert reason in frame.loc["g1", "reason"]
    # JudgeBench counts a null decision as a 0 vote: the other order's +1 makes it correct
    abstain = run(ScriptedJudge(script), pairs(), max_attempts=3, missing="abstain")
    assert abstain.credits["g1"] == 1 and abstain.summary.unscored == 0


def test_net_vote_rule_with_ties_and_disagreement():
    # g0: chosen then tie -> +1 correct; g1: tie both -> 0 wrong; g2: rejected then chosen -> 0
    plan = {
        ("GOOD 0", "BAD 0"): "[[A>B]]",
        ("BAD 0", "GOOD 0"): "[[A=B]]",
        ("GOOD 1", "BAD 1"): "[[A=B]]",
        ("BAD 1", "GOOD 1"): "[[A=B]]",
        ("GOOD 2", "BAD 2"): "[[B>A]]",
        ("BAD 2", "GOOD 2"): "[[B>>A]]",
    }
    judge = ScriptedJudge(lambda p, n: plan[shown(p)])
    result = run(judge, pairs(3))
    assert result.verdicts == {
        "g0": ("chosen", "tie"),
        "g1": ("tie", "tie"),
        "g2": ("rejected", "chosen"),
    }
    assert result.credits == {"g0": 1, "g1": 0, "g2": 0}
    assert result.summary.consistency == pytest.approx(1 / 3)
    assert result.summary.accuracy == pytest.approx(1 / 3)


def test_credits_pair_with_a_pointwise_variant():
    result = run(ScriptedJudge(oracle), pairs())
    pointwise = {"g0": 1.0, "g1": 0.0, "g2": 0.0, "g3": None}
    paired = paired_comparison(result.credits, pointwise)
    assert (paired.n, paired.unscored, paired.a_only, paired.b_only) == (3, 1, 2, 0)
    assert paired.accuracy_a == 1.0 and paired.accuracy_b == pytest.approx(1 / 3)
    table = accuracy_table(result.frame())
    assert list(table["n"]) == [N] and list(table["accuracy"]) == [1.0]


def test_concurrency_limit_does_not_change_the_result():
    serial = run(ScriptedJudge(oracle), pairs(), max_concurrency=1)
    parallel = run(ScriptedJudge(oracle), pairs(), max_concurrency=8)
    assert serial.verdicts == parallel.verdicts and serial.credits == parallel.credits


def test_verdict_mapping():
    assert verdict_of("A>B", "chosen_first") == "chosen"
    assert verdict_of("A>>B", "chosen_second") == "rejected"
    assert verdict_of("B>A", "chosen_second") == "chosen"
    assert verdict_of("B>>A", "chosen_first") == "rejected"
    assert verdict_of("A=B", "chosen_second") == "tie"
    with pytest.raises(ValueError, match="unknown verdict label"):
        verdict_of("A<B", "chosen_first")


def test_bad_input_is_refused_before_any_call():
    judge = ScriptedJudge(oracle)
    best_of_3 = comparison("toy", "bo3", "q", ["good"], ["bad", "worse"], "s")
    with pytest.raises(ValueError, match="'bo3'.*1 chosen and 2 rejected"):
        run(judge, [best_of_3])
    with pytest.raises(ValueError, match="'g0'.*appears twice"):
        run(judge, pairs(1) + pairs(1))
    with pytest.raises(ValueError, match="max_attempts"):
        run(judge, pairs(1), max_attempts=0)
    with pytest.raises(ValueError, match="lacks"):
        PairwisePrompt("bad", "system", "{QUESTION} {ANSWER_A}")
    assert judge.calls == 0
