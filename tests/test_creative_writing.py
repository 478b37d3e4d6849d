"""Creative Writing v3: loader, native spec, the official protocol and scoring against the
published result pages, and an end-to-end eval with scripted models."""

from __future__ import annotations

import asyncio
import functools
import json
import math
import random
import re
import statistics
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ScriptedJudge, headline_of, is_global
from inspect_ai import Epochs, eval
from inspect_ai.log import EvalLog, read_eval_log

from harness.benchmarks import creative_writing as cw
from harness.benchmarks.creative_writing.published import published_judge_reply
from harness.data import DataError, resolve
from harness.judges.calling import JudgeReplyError
from harness.report import short_answer
from harness.scoring import RewardEngine, RewardResult

GLOBAL = 6


def criteria() -> list[str]:
    return cw.load_criteria()


def negative() -> list[str]:
    return cw.load_negative_criteria()


@functools.cache
def published() -> list[dict]:
    return cw.load_published_results()


@functools.cache
def published_parsed() -> list[tuple[dict, str, dict[str, float]]]:
    """(row, the published "Scores:" line, the official parse of the judge's raw reply)."""
    out = []
    for row in published():
        raw, scores_line = published_judge_reply(row)
        out.append((row, scores_line, cw.parse_judge_scores(raw)))
    return out


def spec_for(prompt_id: str, iteration: int = 1):
    [record] = [
        r for r in cw.load_records([prompt_id], iterations=iteration) if r["iteration"] == iteration
    ]
    return record, cw.native_spec(record, criteria(), negative())


def scores_block(scores: dict[str, float]) -> str:
    return "[Analysis]\n\nA careful piece.\n\n[Scores]\n\n" + "\n\n".join(
        f"{k}: {v:g}" for k, v in scores.items()
    )


# -- data, spec, official prompt ----------------------------------------------------------


def test_records_are_prompts_times_seeds_as_the_official_run() -> None:
    prompts = cw.load_prompts()
    records = cw.load_records()
    assert len(prompts) == 32 and len(records) == 96
    assert len({r["id"] for r in records}) == 96
    for r in records:
        seeds = prompts[r["prompt_id"]]["seed_modifiers"]
        assert r["seed_modifier"] == seeds[(r["iteration"] - 1) % len(seeds)]
        assert r["prompt"] == r["base_prompt"].replace("<SEED>", r["seed_modifier"])
        assert "<SEED>" not in r["prompt"]
    assert {r["iteration"] for r in records} == {1, 2, 3}
    only = cw.load_records(["25"], ["classic sci-fi"], iterations=2)
    assert [r["id"] for r in only] == ["25-1", "25-2"]
    with pytest.raises(ValueError, match="unknown Creative Writing v3 prompt ids \\['27'\\]"):
        cw.load_records(["27"])


def test_missing_data_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="creative-writing-v3/creative_writing_prompts_v3.json"):
        cw.load_records()
    with pytest.raises(DataError, match="creative-writing-v3/creative_writing_criteria.txt"):
        cw.load_criteria()
    from harness.tasks.creative_writing import creative_writing

    with pytest.raises(DataError, match="creative_writing_criteria.txt"):
        creative_writing()
    # the canonical sources are the official repository's data files
    for file in (
        cw.PROMPTS_FILE,
        cw.CRITERIA_FILE,
        cw.NEGATIVE_CRITERIA_FILE,
        cw.JUDGE_PROMPT_FILE,
    ):
        assert file.url.startswith(
            "https://raw.githubusercontent.com/EQ-bench/creative-writing-bench/"
        )
        assert file.url.endswith(Path(file.relative_path).name)


def test_native_spec_marks_lower_is_better_criteria() -> None:
    record, spec = spec_for("25")
    assert spec.prompt == record["prompt"] and spec.task_label == "creative_writing"
    assert [c.category for c in spec.criteria] == criteria()
    assert len(spec.criteria) == 22 and all(c.weight == 1 for c in spec.criteria)
    lower = [c for c in spec.criteria if cw.LOWER_IS_BETTER in c.tags]
    assert sorted(c.category for c in lower) == sorted(negative()) and len(lower) == 9
    assert all(c.text == f"Avoids: {c.category}" for c in lower)
    # every (prompt, seed) is its own spec version
    versions = {cw.native_spec(r, criteria(), negative()).version for r in cw.load_records()}
    assert len(versions) == 96


def test_official_prompt_and_lists_are_the_files_verbatim() -> None:
    assert resolve(cw.JUDGE_PROMPT_FILE).read_text(encoding="utf-8") == cw.JUDGE_PROMPT
    assert list(cw.OFFICIAL_NEGATIVE_ORDER) == negative()


def test_judge_messages_are_the_official_formatting() -> None:
    """Built here the way core/conversation.py builds it, from the raw files."""
    template = resolve(cw.JUDGE_PROMPT_FILE).read_text(encoding="utf-8")
    protocol = cw.CreativeWritingRubric()
    for prompt_id in ("1", "25", "33"):
        for iteration in (1, 3):
            record, spec = spec_for(prompt_id, iteration)
            response = "<think>plan</think>\n\n  The story.  \n"
            [message] = protocol.messages(spec, response)
            assert message.role == "user"
            assert message.text == template.format(
                writing_prompt=record["base_prompt"],  # the official code passes base_prompt
                test_model_response="The story.",
                creative_writing_criteria="\n".join("- " + c for c in criteria()),
                lower_is_better_criteria=", ".join(negative()),
            )
    for record in cw.load_records():
        spec = cw.native_spec(record, criteria(), negative())
        assert cw.judge_writing_prompt(spec) == record["base_prompt"]


# -- the official parser and scoring against the published pages ------------------------


def test_parser_reproduces_the_published_scores_of_every_item() -> None:
    rows = published_parsed()
    assert len(rows) == 480 and len({r["model"] for r, _, _ in rows}) == 5
    for row, scores_line, parsed in rows:
        # the page prints the official parse dict, in order, as "name: value" joined by ", "
        assert ", ".join(f"{k}: {v}" for k, v in parsed.items()) == scores_line, row["title"]
    # the derived per-criterion scores are the same dict, except in the 3 replies where the
    # derivation (splitting that line on ", ") mangled stray matches (names with ", " or empty)
    differ = [row for row, _, parsed in rows if parsed != row["judge_scores"]]
    assert len(differ) == 3
    for row in differ:
        parsed = cw.parse_judge_scores(published_judge_reply(row)[0])
        on_rubric = {k: v for k, v in parsed.items() if k in criteria()}
        assert on_rubric == {k: v for k, v in row["judge_scores"].items() if k in criteria()}


def official_parse(text: str) -> dict[str, float]:
    """core/scoring.py's parse_judge_scores_creative, literally."""
    scores = {}
    for pattern in cw.OFFICIAL_SCORE_PATTERNS:
        for name, score in re.findall(pattern, text):
            scores[name.strip()] = float(score)
    return scores


def test_parser_equals_the_official_regexes() -> None:
    rng = random.Random(7)
    tokens = ["Name", " x", ":", ": ", " ", "\n", "\n\n", "1", "14", "2.5", "-3", ".", "[", "]"]
    tokens += ["Score ", "Score", "\t", "09:42:03", "a: b", ":[7]", ": [12]", "N/A"]
    for _ in range(4000):
        text = "".join(rng.choice(tokens) for _ in range(rng.randint(0, 30)))
        assert cw.parse_judge_scores(text) == official_parse(text), repr(text)
    for row, _, parsed in published_parsed()[::40]:
        assert parsed == official_parse(published_judge_reply(row)[0])


def test_item_scores_reproduce_every_published_item_score() -> None:
    neg = negative()
    matched = 0
    for row, _, parsed in published_parsed():
        assert cw.published_item_score(parsed, neg) == row["item_score"], row["title"]
        # core/scoring.py matches the negative names exactly, the page case-insensitively
        assert cw.item_score(parsed, neg) == cw.item_score(parsed, neg, casefold=True)
        matched += 1
    assert matched == 480
    # The derived judge_scores (split from the page's "Scores:" line) lose the stray matches
    # whose names contain ", " or are empty; with them the published score is still exact.
    lossy = [
        (row, parsed)
        for row, _, parsed in published_parsed()
        if cw.published_item_score(row["judge_scores"], neg) != row["item_score"]
    ]
    assert len(lossy) == 2
    for row, parsed in lossy:
        assert parsed != row["judge_scores"] and "" in parsed


def test_stray_matches_and_left_out_criteria_count_as_officially() -> None:
    rows = published()
    [row] = [
        r
        for r in rows
        if r["model"] == "ifable__gemma-2-Ifable-9B"
        and r["title"].endswith("Breaking Formation")
        and r["item_score"] == 80.6
    ]
    parsed = cw.parse_judge_scores(published_judge_reply(row)[0])
    stray = {k: v for k, v in parsed.items() if k not in criteria()}
    assert list(stray.values()) == [42.0, 3.0, 28.0]  # "09:42:03 to 09:28" in the analysis
    assert "Weak Dialogue" not in parsed  # left out by the judge: not in the mean
    assert cw.item_score(parsed, negative()) == pytest.approx(387 / 24)
    # Tell-Don't Show (misspelt by the judge) is not inverted by the official code either
    misspelt = [r for r in rows if "Tell-Don't Show" in r["judge_scores"]]
    assert len(misspelt) == 6
    for r in misspelt:
        assert cw.published_item_score(r["judge_scores"], negative()) == r["item_score"]


def test_overall_score_aggregates_items_as_the_official_code() -> None:
    """mean of item scores (0-20), ×5, rounded to 2 places (compute_single_benchmark_score_creative).

    The data has no published overall score per model; these are the five models' official
    scores computed from their 96 published judge replies.
    """
    by_model: dict[str, list[float]] = {}
    for row, _, parsed in published_parsed():
        by_model.setdefault(row["model"], []).append(cw.item_score(parsed, negative()))
    overall = {m: cw.benchmark_score(v) for m, v in by_model.items()}
    assert {m: o["eqbench_creative_score"] for m, o in overall.items()} == {
        "claude-3-5-sonnet-20241022": 78.08,
        "google__gemma-2-9b-it": 55.86,
        "ifable__gemma-2-Ifable-9B": 76.4,
        "meta-llama__llama-3.1-8b-instruct": 52.81,
        "sam-paech__Darkest-muse-v1": 80.22,
    }
    assert overall["sam-paech__Darkest-muse-v1"]["overall_score"] == 16.04
    assert all(len(v) == 96 for v in by_model.values())
    assert math.isnan(cw.benchmark_score([])["eqbench_creative_score"])


# -- the protocol's parse -----------------------------------------------------------------


def test_protocol_parse_values_inversion_and_left_out_criteria() -> None:
    _, spec = spec_for("1")
    protocol = cw.CreativeWritingRubric()
    scores = {name: 10.0 for name in criteria()}
    scores["Coherent"] = 16.0
    scores["Meandering"] = 4.0  # lower is better: counts as 16
    del scores["Weak Dialogue"]
    grades = protocol.parse("<think>hmm: 3</think>" + scores_block(scores), spec)
    by_name = {c.category: j for c, j in zip(spec.criteria, grades.judgments, strict=True)}
    assert by_name["Coherent"].value == pytest.approx(0.8) and by_name["Coherent"].verdict == "16"
    assert by_name["Meandering"].value == pytest.approx(0.8)
    assert by_name["Meandering"].reason == "4/20, lower is better: counts as 16/20"
    assert by_name["Overwrought"].value == pytest.approx(0.5)
    official = (10 * 19 + 16 + 16) / 21
    assert by_name["Weak Dialogue"].verdict == "excluded"
    assert by_name["Weak Dialogue"].value == pytest.approx(official / 20)
    mean = sum(j.value for j in grades.judgments) / 22
    assert mean == pytest.approx(official / 20)  # the rubric value is the official mean / 20
    assert cw.official_parse(grades.notes) == (scores, list(cw.OFFICIAL_NEGATIVE_ORDER))
    assert grades.notes[0].startswith("official item score 52.9/100 (mean of 21 parsed")


@pytest.mark.parametrize(
    "reply, problem",
    [
        ("I would rather not score this.", "no score for any of the 22 criteria"),
        ("Overall it is fine: 7 out of 10 stars", "no score for any of the 22 criteria"),
        (scores_block({"Coherent": 25.0}), "score for 'Coherent' is 25, outside 0-20"),
        (scores_block({"Meandering": -1.0}), "score for 'Meandering' is -1, outside 0-20"),
    ],
)
def test_protocol_parse_malformed(reply: str, problem: str) -> None:
    _, spec = spec_for("1")
    with pytest.raises(JudgeReplyError, match=re.escape(problem)):
        cw.CreativeWritingRubric().parse(reply, spec)


def score_rubric(judge: ScriptedJudge, spec) -> RewardResult:
    engine = RewardEngine(
        rubric_judge=judge.model(),
        rubric_protocol=cw.CreativeWritingRubric(),
        components=("rubric",),
    )
    return asyncio.run(engine.score(spec, None, "A story."))


def test_malformed_reply_is_retried_then_unscored_never_zero() -> None:
    _, spec = spec_for("5")
    good = scores_block(dict.fromkeys(criteria(), 12.0))

    flaky = ScriptedJudge(lambda prompt, n: "Scores withheld." if n == 1 else good)
    result = score_rubric(flaky, spec)
    assert result.rubric.status == "scored" and result.rubric.attempts == 2
    assert result.rubric.value == pytest.approx((12 * 13 + 8 * 9) / 22 / 20)
    assert flaky.calls == 2 and "could not be used (malformed judge output" in flaky.prompts[1]

    broken = ScriptedJudge(lambda prompt, n: "Scores withheld.")
    result = score_rubric(broken, spec)
    assert broken.calls == 3
    assert result.rubric.status == "unscored" and result.rubric.value is None
    assert result.rubric.reason == (
        "malformed judge output: no score for any of the 22 criteria "
        "(expected lines like 'Adherence to Instructions: 14') (3 attempts)"
    )
    assert result.reward is None
    assert cw.sample_item_score(result) is None


# -- end to end ---------------------------------------------------------------------------

# Two real prompts; the policy answers each with a published response and the judge with the
# published judge reply to that response. 14: a reply whose analysis has "09:42:03" (stray
# matches the official score counts) and no Weak Dialogue score; 30: Weak Dialogue left out.
E2E = {
    "14": ("ifable__gemma-2-Ifable-9B", "Breaking Formation", 80.6),
    "30": ("google__gemma-2-9b-it", "Útiseta", 55.5),
}


def e2e_rows() -> dict[str, dict]:
    rows = {}
    for prompt_id, (model, title, item) in E2E.items():
        [row] = [
            r
            for r in published()
            if r["model"] == model and r["title"].endswith(title) and r["item_score"] == item
        ]
        rows[prompt_id] = row
    return rows


def test_eval_end_to_end_on_published_items(tmp_path: Path) -> None:
    from harness.tasks.creative_writing import creative_writing

    rows = e2e_rows()
    records = {r["prompt_id"]: r for r in cw.load_records(list(E2E), iterations=1)}
    responses = {records[pid]["prompt"]: rows[pid]["response"] for pid in E2E}
    replies = {rows[pid]["response"].strip(): published_judge_reply(rows[pid])[0] for pid in E2E}
    template = resolve(cw.JUDGE_PROMPT_FILE).read_text(encoding="utf-8")

    policy = ScriptedJudge(lambda prompt, n: responses[prompt])

    def judge_script(prompt: str, n: int) -> str:
        if is_global(prompt):
            return json.dumps({"rationale": "fine", "score": GLOBAL})
        response = re.search(
            r"\[TEST MODEL RESPONSE\]\n\n(.*)\n\n\[TEST MODEL RESPONSE END\]", prompt, re.DOTALL
        ).group(1)
        return replies[response]

    judge = ScriptedJudge(judge_script)
    [log] = eval(
        creative_writing(prompt_id=list(E2E), iterations=1),
        model=policy.model(),
        model_roles={"grader": judge.model()},
        log_dir=str(tmp_path),
        display="none",
    )
    assert log.status == "success", log.error
    log = read_eval_log(log.location)
    assert judge.calls == 4 and policy.calls == 2
    # the judge got the official prompt, built as the official code builds it
    rubric_prompts = [p for p in judge.prompts if not is_global(p)]
    for pid in E2E:
        expected = template.format(
            writing_prompt=records[pid]["base_prompt"],
            test_model_response=rows[pid]["response"].strip(),
            creative_writing_criteria="\n".join("- " + c for c in criteria()),
            lower_is_better_criteria=", ".join(negative()),
        )
        assert expected in rubric_prompts

    neg = negative()
    items = []
    for sample in log.samples:
        pid = sample.metadata["prompt_id"]
        row = rows[pid]
        assert sample.id == f"{pid}-1" and sample.metadata["iteration"] == 1
        score = sample.scores["hybrid_reward"]
        result = RewardResult.from_metadata(score.metadata)
        assert result.rubric.protocol == "creative_writing_official@1"
        # rubric: the official mean over the rubric's criteria (published scores), / 20
        on_rubric = {k: v for k, v in row["judge_scores"].items() if k in criteria()}
        rubric = sum(20 - v if k in neg else v for k, v in on_rubric.items()) / len(on_rubric) / 20
        assert score.value["rubric"] == pytest.approx(rubric, abs=1e-12)
        assert score.value["global"] == pytest.approx(GLOBAL / 10)
        assert math.isnan(score.value["code"])
        assert score.value["reward"] == pytest.approx((rubric + GLOBAL / 10) / 2, abs=1e-12)
        weak = next(c for c in result.rubric.criteria if c.text == "Avoids: Weak Dialogue")
        assert weak.verdict == "excluded"
        # the official item score, stray matches included, is the published one; it travels
        # in Score.value, where the official metric reads it
        item = cw.sample_item_score(result)
        assert round(round(item, 2) * 5, 1) == E2E[pid][2]
        assert score.value["item_score"] == item
        assert score.answer == short_answer(row["response"])
        assert f"official item score {E2E[pid][2]:g}/100" in score.explanation
        items.append((sample.id, item, score.value["rubric"]))
    # 14: 21 criteria summing to 314 (negatives inverted) + stray 42, 3, 28; 30: 21 criteria, 233
    assert sorted(items) == [
        ("14-1", pytest.approx(387 / 24), pytest.approx(314 / 21 / 20)),
        ("30-1", pytest.approx(233 / 21), pytest.approx(233 / 21 / 20)),
    ]

    metrics = {f"{s.name}/{k}": m.value for s in log.results.scores for k, m in s.metrics.items()}
    assert metrics["hybrid_reward/creative_writing"] == 68.05  # round((387/24 + 233/21) / 2 × 5, 2)
    assert metrics["hybrid_reward/creative_writing_0_20"] == 13.61
    assert metrics["hybrid_reward/creative_writing_unscored"] == 0
    assert metrics["hybrid_reward/reward_unscored"] == 0
    assert metrics["hybrid_reward/rubric"] == pytest.approx((314 / 21 + 233 / 21) / 40)
    # the official score is the headline and the first metric; unscored counts come last
    assert headline_of(log)[1:] == ("creative_writing", 68.05)
    names = [k for s in log.results.scores for k in s.metrics]
    assert names[:3] == ["creative_writing", "creative_writing_0_20", "creative_writing_stderr"]
    assert names[-1] == "creative_writing_unscored"
    # what produced the number
    assert log.eval.task_version == 2
    assert log.eval.metadata["protocols"] == {
        "rubric": "creative_writing_official@1",
        "global": "global@1",
    }
    assert log.eval.metadata["spec_template"] == cw.SPEC_TEMPLATE


def test_eval_with_a_non_judge_is_unscored_not_zero(tmp_path: Path) -> None:
    from harness.tasks.creative_writing import creative_writing

    [log] = eval(
        creative_writing(prompt_id="1", iterations=1),
        model="mockllm/model",
        model_roles={"grader": "mockllm/model"},
        log_dir=str(tmp_path),
        display="none",
        epochs=2,
    )
    assert log.status == "success", log.error
    samples = read_eval_log(log.location).samples
    assert len(samples) == 2
    for sample in samples:
        score = sample.scores["hybrid_reward"]
        result = RewardResult.from_metadata(score.metadata)
        assert result.rubric.status == "unscored"
        assert "no score for any of the 22 criteria" in result.rubric.reason
        assert math.isnan(score.value["item_score"])
    metrics = {k: m.value for s in log.results.scores for k, m in s.metrics.items()}
    assert math.isnan(metrics["creative_writing"])
    # counted per (sample, epoch) judgment, never a 0 in the score
    assert metrics["creative_writing_unscored"] == 2 and metrics["rubric_unscored"] == 2


def test_our_single_call_protocol_on_the_native_spec(tmp_path: Path) -> None:
    from conftest import standard_judge

    from harness.tasks.creative_writing import creative_writing

    judge = standard_judge({f"c{i}": 1 + i % 10 for i in range(1, 23)}, GLOBAL)
    [log] = eval(
        creative_writing(prompt_id="7", iterations=1, rubric_mode="single"),
        model="mockllm/model",
        model_roles={"grader": judge.model()},
        log_dir=str(tmp_path),
        display="none",
    )
    assert log.status == "success", log.error
    [sample] = read_eval_log(log.location).samples
    result = RewardResult.from_metadata(sample.scores["hybrid_reward"].metadata)
    assert result.rubric.protocol == "rubric_single@2"
    assert "\nc10: Avoids: Meandering" in judge.prompts[0] + judge.prompts[1]
    rubric = sum(i % 10 / 9 for i in range(1, 23)) / 22
    assert result.rubric.value == pytest.approx(rubric)
    metrics = {k: m.value for s in log.results.scores for k, m in s.metrics.items()}
    assert metrics["creative_writing"] == round(20 * rubric * 5, 2)


# Two prompts, two takes each: the policy answers differently in each epoch and the judge
# scores each take differently (a left-out criterion, an inverted one). Item scores (0-20):
TAKES = {
    ("1", 1): {"Coherent": 12.0, "Meandering": 8.0},  # (12 + (20 - 8)) / 2 = 12
    ("1", 2): {"Coherent": 16.0},  # 16
    ("25", 1): {"Coherent": 8.0},  # 8
    ("25", 2): {"Coherent": 14.0, "Meandering": 4.0},  # (14 + 16) / 2 = 15
}
TAKE_ITEM = {("1", 1): 12.0, ("1", 2): 16.0, ("25", 1): 8.0, ("25", 2): 15.0}


def run_two_takes(tmp_path: Path, reducer: str) -> tuple[EvalLog, dict[str, tuple[str, int]]]:
    from harness.tasks.creative_writing import creative_writing

    records = {r["prompt"]: r["prompt_id"] for r in cw.load_records(["1", "25"], iterations=1)}
    seen: dict[str, int] = {}
    responses: dict[str, tuple[str, int]] = {}

    def policy_script(prompt: str, n: int) -> str:
        pid = records[prompt]
        seen[pid] = seen.get(pid, 0) + 1
        response = f"Story for prompt {pid}, take {seen[pid]}."
        responses[response] = (pid, seen[pid])
        return response

    def judge_script(prompt: str, n: int) -> str:
        if is_global(prompt):
            return json.dumps({"rationale": "fine", "score": GLOBAL})
        response = re.search(
            r"\[TEST MODEL RESPONSE\]\n\n(.*)\n\n\[TEST MODEL RESPONSE END\]", prompt, re.DOTALL
        ).group(1)
        return scores_block(TAKES[responses[response]])

    [log] = eval(
        creative_writing(prompt_id=["1", "25"], iterations=1),
        model=ScriptedJudge(policy_script).model(),
        model_roles={"grader": ScriptedJudge(judge_script).model()},
        log_dir=str(tmp_path),
        display="none",
        epochs=Epochs(2, reducer),
    )
    assert log.status == "success", log.error
    return read_eval_log(log.location), responses


def test_epochs_official_score_is_the_mean_of_the_per_epoch_scores(tmp_path: Path) -> None:
    log, responses = run_two_takes(tmp_path, "mean")
    assert len(log.samples) == 4
    per_epoch: dict[int, list[float]] = {}
    for sample in log.samples:
        take = responses[sample.output.completion]
        assert sample.scores["hybrid_reward"].value["item_score"] == TAKE_ITEM[take]
        per_epoch.setdefault(sample.epoch, []).append(TAKE_ITEM[take])
    # each sample's two epochs got its two takes, in whichever order they ran
    assert sorted(responses.values()) == sorted(TAKES)
    official = [cw.benchmark_score(items) for items in per_epoch.values()]
    assert len(official) == 2
    metrics = {k: m.value for s in log.results.scores for k, m in s.metrics.items()}
    for key, name in (
        ("eqbench_creative_score", "creative_writing"),
        ("overall_score", "creative_writing_0_20"),
    ):
        assert metrics[name] == pytest.approx(statistics.mean(o[key] for o in official)), name
    assert metrics["creative_writing"] == 63.75  # the four takes' mean, 12.75, × 5
    assert metrics["creative_writing_unscored"] == 0
    assert headline_of(log)[1:] == ("creative_writing", 63.75)


def test_epochs_official_score_follows_the_reducer(tmp_path: Path) -> None:
    log, _ = run_two_takes(tmp_path, "max")
    metrics = {k: m.value for s in log.results.scores for k, m in s.metrics.items()}
    # each prompt's better take: 16 and 15
    assert metrics["creative_writing"] == cw.benchmark_score([16.0, 15.0])["eqbench_creative_score"]
    assert metrics["creative_writing"] == 77.5


def test_official_values_only_for_the_native_spec() -> None:
    record, spec = spec_for("5")
    good = scores_block(dict.fromkeys(criteria(), 12.0))
    result = score_rubric(ScriptedJudge(lambda prompt, n: good), spec)
    native = SimpleNamespace(metadata={"native_spec": spec.model_dump(mode="json")})
    assert cw.official_values(result, native) == {
        "item_score": pytest.approx((12 * 13 + 8 * 9) / 22)
    }
    _, other = spec_for("5", iteration=2)  # another spec (as from a `specs=` store)
    elsewhere = SimpleNamespace(metadata={"native_spec": other.model_dump(mode="json")})
    assert math.isnan(cw.official_values(result, elsewhere)["item_score"])
    unscored = score_rubric(ScriptedJudge(lambda prompt, n: "Scores withheld."), spec)
    assert math.isnan(cw.official_values(unscored, native)["item_score"])
