"""Parsing of judge output: good, fenced, reordered, partial, extra, malformed."""

from __future__ import annotations

import json

import pytest
from conftest import make_spec

from harness.judges.calling import JudgeReplyError
from harness.judges.holistic import GlobalJudge
from harness.judges.parsing import extract_json, normalise_verdict
from harness.judges.rubric import PerCriterionRubric, SingleCallRubric
from harness.spec import RewardSpec


def single(entries: list[dict]) -> str:
    return json.dumps({"criteria": entries})


def test_good_output(spec: RewardSpec) -> None:
    grades = SingleCallRubric().parse(
        single(
            [
                {"id": "c1", "verdict": "yes", "reason": "5-7-5"},
                {"id": "c2", "verdict": "partial", "reason": "mostly\nsea"},
                {"id": "c3", "verdict": "no", "reason": "flat"},
            ]
        ),
        spec,
    )
    assert [(j.id, j.verdict, j.value) for j in grades.judgments] == [
        ("c1", "yes", 1.0),
        ("c2", "partial", 0.5),
        ("c3", "no", 0.0),
    ]
    assert grades.judgments[1].reason == "mostly sea"  # one line
    assert grades.notes == []


def test_reordered_fenced_and_chatty_output(spec: RewardSpec) -> None:
    text = (
        "Here is my grading:\n```json\n"
        + single(
            [
                {"id": "c3", "verdict": "No"},
                {"id": "[c1]", "verdict": "YES"},
                {"id": "c2", "verdict": "partially"},
            ]
        )
        + "\n```\nHope this helps."
    )
    grades = SingleCallRubric().parse(text, spec)
    assert [j.id for j in grades.judgments] == ["c1", "c2", "c3"]  # rubric order
    assert [j.verdict for j in grades.judgments] == ["yes", "partial", "no"]


def test_mapping_form_is_accepted(spec: RewardSpec) -> None:
    text = json.dumps(
        {"criteria": {"c1": "yes", "c2": {"verdict": "no", "reason": "r"}, "c3": "partial"}}
    )
    assert [j.value for j in SingleCallRubric().parse(text, spec).judgments] == [1.0, 0.0, 0.5]


def test_extra_criteria_are_ignored_and_noted(spec: RewardSpec) -> None:
    entries = [{"id": c, "verdict": "yes"} for c in ("c1", "c2", "c3", "c9")]
    grades = SingleCallRubric().parse(single(entries), spec)
    assert len(grades.judgments) == 3
    assert grades.notes == ["ignored verdicts for unknown criteria ['c9']"]


@pytest.mark.parametrize(
    "text, message",
    [
        (
            single([{"id": "c1", "verdict": "yes"}, {"id": "c2", "verdict": "no"}]),
            r"no verdict for criteria \['c3'\]",
        ),
        ("I think it is good.", "no JSON object found"),
        (
            single(
                [
                    {"id": "c1", "verdict": "maybe"},
                    {"id": "c2", "verdict": "no"},
                    {"id": "c3", "verdict": "no"},
                ]
            ),
            "verdict must be yes/partial/no",
        ),
        (single([{"verdict": "yes"}]), "criterion entry without an id"),
        (json.dumps({"criteria": "all good"}), "one entry per criterion"),
        (
            single(
                [
                    {"id": "c1", "verdict": "yes"},
                    {"id": "c1", "verdict": "no"},
                    {"id": "c2", "verdict": "no"},
                    {"id": "c3", "verdict": "no"},
                ]
            ),
            "conflicting verdicts for criterion c1",
        ),
        ('{"criteria": [{"id": "c1", "verdict": "yes"}, ', "no JSON object found"),  # truncated
    ],
)
def test_malformed_single_call_output(spec: RewardSpec, text: str, message: str) -> None:
    with pytest.raises(JudgeReplyError, match=message):
        SingleCallRubric().parse(text, spec)


def test_yes_no_scale_refuses_partial() -> None:
    assert normalise_verdict(True, "yes_no") == ("yes", 1.0)
    with pytest.raises(JudgeReplyError, match="verdict must be yes/no"):
        normalise_verdict("partial", "yes_no")


@pytest.mark.parametrize("raw, expected", [(1, ("1", 0.0)), ("10", ("10", 1.0)), (7, ("7", 6 / 9))])
def test_one_to_ten_scale(raw: object, expected: tuple) -> None:
    verdict, value = normalise_verdict(raw, "one_to_ten")
    assert verdict == expected[0]
    assert value == pytest.approx(expected[1])


@pytest.mark.parametrize("raw", [0, 11, 7.5, "high", None, True])
def test_one_to_ten_scale_rejects(raw: object) -> None:
    with pytest.raises(JudgeReplyError):
        normalise_verdict(raw, "one_to_ten")


def test_per_criterion_parse(spec: RewardSpec) -> None:
    j = PerCriterionRubric().parse(
        '{"verdict": "partial", "reason": "half"}', spec, spec.criteria[1]
    )
    assert (j.id, j.verdict, j.value) == ("c2", "partial", 0.5)


@pytest.mark.parametrize(
    "text, score",
    [
        ('{"rationale": "ok", "score": 7}', 7.0),
        ('```json\n{"score": "8.5", "rationale": "good"}\n```', 8.5),
        ('{"score": 0}', 0.0),
    ],
)
def test_global_parse(text: str, score: float) -> None:
    assert GlobalJudge().parse(text).score == score


@pytest.mark.parametrize(
    "text",
    ['{"score": 11}', '{"score": -1}', '{"rationale": "no score"}', '{"score": "NaN"}', "seven"],
)
def test_global_parse_rejects(text: str) -> None:
    with pytest.raises(JudgeReplyError):
        GlobalJudge().parse(text)


def test_single_call_prompt_puts_shared_part_first_and_response_last(spec: RewardSpec) -> None:
    a = SingleCallRubric().messages(spec, "response A")
    b = SingleCallRubric().messages(spec, "a different response B")
    assert a[0].text == b[0].text
    ua, ub = a[1].text, b[1].text
    shared = ua[: ua.index("response A")]
    assert ub.startswith(shared)  # rollouts of one prompt share the whole prefix
    assert ua.endswith("response A\n</response>")
    for c in spec.criteria:
        assert f"[{c.id}] (weight {c.weight:g})" in shared


def test_global_prompt_never_sees_the_rubric(spec: RewardSpec) -> None:
    text = "\n".join(m.text for m in GlobalJudge().messages(spec, "resp"))
    for c in spec.criteria:
        assert c.text not in text
    assert spec.prompt in text


def test_pitfalls_are_marked_in_the_rubric_prompt() -> None:
    s = make_spec(criteria=[("good", "Is kind.", 2), ("bad", "Insults the user.", -3)])
    text = SingleCallRubric().messages(s, "r")[1].text
    assert "[bad] (weight -3 PITFALL) Insults the user." in text


def test_extract_json_prefers_whole_text() -> None:
    assert extract_json('{"a": {"b": 1}}') == {"a": {"b": 1}}
