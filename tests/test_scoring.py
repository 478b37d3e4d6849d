"""The scoring core end to end with scripted judges: arithmetic, retries, unscored, cache, tokens."""

from __future__ import annotations

import asyncio
import json
import math

import pytest
from conftest import ScriptedJudge, is_global, make_spec, rubric_ids, standard_judge, words
from fake_runtime import InProcessRuntime
from inspect_ai import Task, eval, task
from inspect_ai.dataset import Sample
from inspect_ai.model import GenerateConfig, Model, ModelOutput, get_model
from inspect_ai.solver import generate

from harness.cache import JudgmentCache
from harness.judges.calling import judge_generate_config, refused_settings
from harness.judges.roles import JudgeSetupError
from harness.judges.rubric import PerCriterionRubric
from harness.reward import Gate, GlobalSchedule, HybridConfig
from harness.scorers import global_score, rubric, spec_metadata
from harness.scoring import RewardEngine, ScoreRequest, score
from harness.spec import RewardSpec

RESPONSE = "salt wind on the waves\nthe grey sea breathes in and out\ngulls stitch the cold light"

LOWERCASE = "def check(response):\n    return response == response.lower()\n"
HAS_SALT = "def check(response):\n    return 'salt' in response\n"
THREE_LINES = "def check(response):\n    return len(response.strip().splitlines()) == 3\n"
CRASHES = "def check(response):\n    return response.split()[99]\n"
NOT_BOOL = "def check(response):\n    return 1\n"


def run(coro):
    return asyncio.run(coro)


def engine_for(judge: ScriptedJudge, **kwargs) -> RewardEngine:
    model = judge.model()
    return RewardEngine(rubric_judge=model, global_judge=model, **kwargs)


def test_hybrid_reward_is_exact_on_scripted_judgments(spec: RewardSpec) -> None:
    judge = standard_judge({"c1": "yes", "c2": "partial", "c3": "no"}, global_score=6)
    result = run(engine_for(judge).score(spec, spec.prompt, RESPONSE))
    rubric = (3 * 1 + 2 * 0.5 + 1 * 0) / 6
    assert result.rubric.value == pytest.approx(rubric)
    assert result.global_.value == pytest.approx(0.6)
    assert result.global_.score == 6
    assert result.code.status == "absent"
    assert result.reward == pytest.approx((rubric + 0.6) / 2)
    assert result.reward_reason is None
    assert [c.verdict for c in result.rubric.criteria] == ["yes", "partial", "no"]
    assert judge.calls == 2  # one rubric call (all criteria) + one global call
    assert result.values() == {
        "reward": result.reward,
        "rubric": result.rubric.value,
        "global": 0.6,
        "code": result.values()["code"],
    }
    assert math.isnan(result.values()["code"])


def test_code_component_and_gate() -> None:
    spec = make_spec(
        checkers=[
            ("lower", "All lowercase.", LOWERCASE),
            ("salt", "Contains 'salt'.", HAS_SALT),
            ("lines", "Three lines.", THREE_LINES),
        ]
    )
    judge = standard_judge({"c1": "yes", "c2": "yes", "c3": "yes"}, global_score=10)
    runtime = InProcessRuntime()
    engine = engine_for(judge, checker_runtime=runtime, hybrid=HybridConfig(gate=Gate(factor=0.25)))
    good, bad = run(
        engine.score_batch([ScoreRequest(spec, RESPONSE), ScoreRequest(spec, "Salt. Sea.")])
    )
    assert runtime.batches == [2]  # the whole batch in one runtime request
    assert good.code.value == 1.0 and good.reward == pytest.approx(1.0)
    assert [c.status for c in bad.code.checks] == ["fail", "fail", "fail"]
    assert bad.code.value == 0.0
    assert bad.reward == pytest.approx(0.25 * (1 + 1 + 0) / 3)
    assert "gate" in bad.formula


def test_checker_errors_are_unscored_by_default_or_failures_on_request() -> None:
    spec = make_spec(
        checkers=[
            ("salt", "Contains 'salt'.", HAS_SALT),
            ("crash", "Word 100.", CRASHES),
            ("int", "Returns int.", NOT_BOOL),
        ]
    )
    judge = standard_judge({"c1": "yes", "c2": "yes", "c3": "yes"}, global_score=5)
    result = run(engine_for(judge, checker_runtime=InProcessRuntime()).score(spec, None, RESPONSE))
    assert result.code.status == "unscored" and result.code.value is None
    assert "2 checker(s) errored" in result.code.reason
    assert (
        "crash (exception: IndexError" in result.code.reason
        and "int (bad_return" in result.code.reason
    )
    assert result.reward == pytest.approx((1.0 + 0.5) / 2)
    assert result.reward_reason == "combined without unscored code"

    strict = engine_for(
        standard_judge({"c1": "yes", "c2": "yes", "c3": "yes"}, 5),
        checker_runtime=InProcessRuntime(),
        hybrid=HybridConfig(checker_errors="fail"),
    )
    result = run(strict.score(spec, None, RESPONSE))
    assert result.code.value == pytest.approx(1 / 3)


def test_checkers_without_runtime_are_unscored_not_zero() -> None:
    spec = make_spec(checkers=[("salt", "Contains 'salt'.", HAS_SALT)])
    result = run(
        engine_for(standard_judge({"c1": "no", "c2": "no", "c3": "no"}, 0)).score(
            spec, None, RESPONSE
        )
    )
    assert result.code.status == "unscored"
    assert "no checker runtime" in result.code.reason
    assert result.reward == 0.0  # the judged parts really are 0 here; code is not counted


class BrokenRuntime:
    async def check(self, items):
        return [[]]


def test_runtime_returning_wrong_shape_is_unscored() -> None:
    spec = make_spec(checkers=[("salt", "Contains 'salt'.", HAS_SALT)])
    result = run(
        engine_for(
            standard_judge({"c1": "no", "c2": "no", "c3": "no"}, 0), checker_runtime=BrokenRuntime()
        ).score(spec, None, RESPONSE)
    )
    assert result.code.status == "unscored"
    assert "runtime returned verdicts for [], expected ['salt']" in result.code.reason


def test_malformed_then_good_is_retried() -> None:
    spec = make_spec()
    good = standard_judge({"c1": "yes", "c2": "yes", "c3": "no"}, 8)

    def script(prompt: str, n: int) -> str:
        if not is_global(prompt) and "That reply could not be used" not in prompt:
            return "The response is lovely."
        return good.script(prompt, n)

    judge = ScriptedJudge(script)
    result = run(engine_for(judge).score(spec, None, RESPONSE))
    assert result.rubric.status == "scored"
    assert result.rubric.attempts == 2
    assert result.rubric.usage.calls == 2
    assert "no JSON object found" in judge.prompts[-1] or "no JSON object found" in "".join(
        judge.prompts
    )


@pytest.mark.parametrize(
    "reply, reason",
    [
        ("not json at all", "malformed judge output: no JSON object found"),
        (ModelOutput.from_content("m", "", stop_reason="stop"), "empty judge output"),
        (
            ModelOutput.from_content("m", "I can't help with that.", stop_reason="content_filter"),
            "judge refused",
        ),
        (
            ModelOutput.from_content(
                "m", '{"criteria": [{"id": "c1", "verdi', stop_reason="max_tokens"
            ),
            "truncated judge output",
        ),
        (
            json.dumps({"criteria": [{"id": "c1", "verdict": "yes"}]}),
            r"no verdict for criteria ['c2', 'c3']",
        ),
    ],
)
def test_bad_judge_output_retried_then_unscored(reply, reason: str) -> None:
    spec = make_spec()
    good = standard_judge({}, 9)
    judge = ScriptedJudge(
        lambda p, n: (
            good.script(p, n)
            if is_global(p)
            else reply.model_copy(deep=True)
            if isinstance(reply, ModelOutput)
            else reply
        )
    )
    result = run(engine_for(judge, max_attempts=3).score(spec, None, RESPONSE))
    assert result.rubric.status == "unscored"
    assert result.rubric.value is None
    assert reason in result.rubric.reason
    assert "(3 attempts)" in result.rubric.reason
    assert result.rubric.usage.calls == 3
    assert result.reward == pytest.approx(0.9)  # global only, and said so
    assert result.reward_reason == "combined without unscored rubric"
    assert result.values()["rubric"] != result.values()["rubric"]  # NaN, never 0


def test_model_exception_is_retried_then_unscored() -> None:
    def script(prompt: str, n: int) -> str:
        raise ConnectionError("judge endpoint down")

    judge = ScriptedJudge(script)
    result = run(engine_for(judge).score(make_spec(), None, RESPONSE))
    assert result.reward is None
    assert (
        "judge call failed: ConnectionError: judge endpoint down (3 attempts)"
        == result.global_.reason
    )
    # the reward's reason says why each component is missing
    assert result.reward_reason.startswith("no component was scored (rubric: judge call failed")
    assert f"global: {result.global_.reason}" in result.reward_reason
    assert judge.calls == 6


def test_exception_the_provider_retries_itself_ends_the_attempts() -> None:
    def script(prompt: str, n: int) -> str:
        raise ConnectionError("judge endpoint down")

    judge = ScriptedJudge(script)
    # no backoff retries in the test; the provider classifies the error as retryable, as
    # providers do for 5xx and rate limits
    model = get_model(
        "mockllm/model", custom_outputs=judge, config=GenerateConfig(max_retries=0), memoize=False
    )
    model.api.should_retry = lambda ex: True
    engine = RewardEngine(rubric_judge=model, global_judge=model)
    result = run(engine.score(make_spec(), None, RESPONSE))
    assert (
        result.global_.reason
        == "judge call failed: ConnectionError: judge endpoint down (1 attempt)"
    )
    assert judge.calls == 2  # Inspect's own backoff retries are spent: no second round


def test_unbound_judges_are_unscored() -> None:
    result = run(RewardEngine().score(make_spec(), None, RESPONSE))
    assert result.rubric.status == "unscored" and "no rubric judge" in result.rubric.reason
    assert result.global_.status == "unscored"
    assert result.reward is None


def test_cache_makes_rescoring_free_and_edits_invalidate(spec: RewardSpec) -> None:
    judge = standard_judge({"c1": "yes", "c2": "no", "c3": "yes", "c4": "yes"}, 4)
    engine = engine_for(judge)
    first = run(engine.score(spec, None, RESPONSE))
    assert judge.calls == 2
    second = run(engine.score(spec, None, RESPONSE))
    assert judge.calls == 2  # zero judge calls
    assert second.rubric.usage.cached and second.global_.usage.cached
    assert second.rubric.usage.input_tokens == 0
    assert second.reward == first.reward
    run(engine.score(spec, None, RESPONSE + "!"))
    assert judge.calls == 4  # a different response is judged
    edited = spec.edit(
        criteria=(
            *spec.criteria,
            spec.criteria[0].model_copy(update={"id": "c4", "text": "Mentions salt."}),
        )
    )
    run(engine.score(edited, None, RESPONSE))
    assert judge.calls == 6  # an edited rubric invalidates both judgments of the old version


def test_persistent_cache_survives_engines(tmp_path, spec: RewardSpec) -> None:
    judge = standard_judge({"c1": "yes", "c2": "no", "c3": "yes"}, 4)
    first = JudgmentCache(tmp_path / "j.sqlite")
    run(engine_for(judge, cache=first).score(spec, None, RESPONSE))
    first.flush()  # writes are committed in batches off the event loop; flush waits for them
    again = run(
        engine_for(judge, cache=JudgmentCache(tmp_path / "j.sqlite")).score(spec, None, RESPONSE)
    )
    assert judge.calls == 2
    assert again.rubric.usage.cached


def test_failures_are_not_cached(spec: RewardSpec) -> None:
    judge = ScriptedJudge(lambda p, n: "nope")
    engine = engine_for(judge, max_attempts=1)
    run(engine.score(spec, None, RESPONSE))
    run(engine.score(spec, None, RESPONSE))
    assert judge.calls == 4


def test_token_accounting_per_component(spec: RewardSpec) -> None:
    judge = standard_judge({"c1": "yes", "c2": "yes", "c3": "yes"}, 7)
    result = run(engine_for(judge).score(spec, None, RESPONSE))
    rubric_prompt = next(p for p in judge.prompts if not is_global(p))
    global_prompt = next(p for p in judge.prompts if is_global(p))
    assert result.rubric.usage.input_tokens == words(rubric_prompt)
    assert result.global_.usage.input_tokens == words(global_prompt)
    assert result.usage.input_tokens == words(rubric_prompt) + words(global_prompt)
    assert result.rubric.usage.output_tokens > 0


def test_per_criterion_mode_agrees_and_costs_more_calls(spec: RewardSpec) -> None:
    verdicts = {"c1": "yes", "c2": "partial", "c3": "no"}
    single = run(engine_for(standard_judge(verdicts, 5)).score(spec, None, RESPONSE))
    judge = standard_judge(verdicts, 5)
    per = run(engine_for(judge, rubric_protocol=PerCriterionRubric()).score(spec, None, RESPONSE))
    assert per.rubric.value == pytest.approx(single.rubric.value)
    assert per.rubric.protocol == "rubric_per_criterion@2"
    assert per.rubric.usage.calls == 3
    assert judge.calls == 4


def test_per_criterion_failure_names_the_criteria(spec: RewardSpec) -> None:
    good = standard_judge({"c1": "yes", "c2": "yes", "c3": "yes"}, 5)
    judge = ScriptedJudge(lambda p, n: "??" if rubric_ids(p)[:1] == ["c2"] else good.script(p, n))
    result = run(
        engine_for(judge, rubric_protocol=PerCriterionRubric(), max_attempts=2).score(
            spec, None, RESPONSE
        )
    )
    assert result.rubric.status == "unscored"
    assert result.rubric.reason.startswith("criteria c2: malformed judge output")


def test_pitfall_weights_in_the_reward() -> None:
    spec = make_spec(criteria=[("a", "Answers.", 4), ("b", "Cites.", 4), ("p", "Rude.", -6)])
    result = run(
        engine_for(standard_judge({"a": "yes", "b": "no", "p": "yes"}, 5)).score(
            spec, None, RESPONSE
        )
    )
    assert result.rubric.unclipped == pytest.approx((4 - 6) / 8)
    assert result.rubric.value == 0.0
    assert result.reward == pytest.approx(0.25)


def test_schedule_needs_step_and_shifts_weight() -> None:
    spec = make_spec()
    engine = engine_for(
        standard_judge({"c1": "yes", "c2": "yes", "c3": "yes"}, 0),
        hybrid=HybridConfig(schedule=GlobalSchedule(steps=800)),
    )
    with pytest.raises(ValueError, match="pass step="):
        run(engine.score(spec, None, RESPONSE))
    assert run(engine.score(spec, None, RESPONSE, step=0)).reward == pytest.approx(0.0)
    assert run(engine.score(spec, None, RESPONSE, step=400)).reward == pytest.approx(0.5)
    assert run(engine.score(spec, None, RESPONSE, step=800)).reward == pytest.approx(1.0)


def test_prompt_mismatch_is_an_error(spec: RewardSpec) -> None:
    with pytest.raises(ValueError, match="built for a different prompt"):
        run(engine_for(standard_judge({}, 1)).score(spec, "Write a limerick.", RESPONSE))


def test_one_shot_score_function(spec: RewardSpec) -> None:
    judge = standard_judge({"c1": "no", "c2": "no", "c3": "yes"}, 3)
    result = run(score(spec, spec.prompt, RESPONSE, grader=judge.model()))
    assert result.reward == pytest.approx((1 / 6 + 0.3) / 2)
    assert result.model_dump(by_alias=True)["global"]["score"] == 3


def test_structured_output_schemas(spec: RewardSpec) -> None:
    judge = standard_judge({"c1": "yes", "c2": "yes", "c3": "yes"}, 5)
    run(engine_for(judge).score(spec, None, RESPONSE))
    schemas = {
        ("global" if is_global(p) else "rubric"): c.response_schema
        for p, c in zip(judge.prompts, judge.configs, strict=True)
    }
    rubric = schemas["rubric"].json_schema
    entry = rubric.properties["criteria"].items
    assert entry.properties["id"].enum == ["c1", "c2", "c3"]
    assert entry.properties["verdict"].enum == ["yes", "partial", "no"]
    assert schemas["global"].json_schema.required == ["rationale", "score"]
    assert all(c.temperature == 0.0 for c in judge.configs)

    plain = standard_judge({"c1": "yes", "c2": "yes", "c3": "yes"}, 5)
    run(engine_for(plain, structured_output=False).score(spec, None, RESPONSE))
    assert all(c.response_schema is None for c in plain.configs)


def test_official_protocols_use_free_text_json() -> None:
    from harness.benchmarks.healthbench import HealthBenchRubric
    from harness.benchmarks.writingbench import WritingBenchRubric

    spec = make_spec()
    assert HealthBenchRubric().response_schema(spec) is None
    assert WritingBenchRubric().response_schema(spec) is None
    assert (
        PerCriterionRubric()
        .response_schema(make_spec(verdict_scale="one_to_ten"))
        .json_schema.properties["verdict"]
        .type
        == "integer"
    )


# -- judge settings: the role's own win, our defaults fill the gaps ---------------------------


def role_judge(judge: ScriptedJudge, **config) -> Model:
    """A judge bound with its own settings, as --model-role 'grader={model: ..., ...}' does."""
    return get_model(
        "mockllm/model", custom_outputs=judge, config=GenerateConfig(**config), memoize=False
    )


def test_role_settings_win_and_defaults_fill_the_gaps(spec: RewardSpec) -> None:
    rubric_judge = standard_judge({"c1": "yes", "c2": "yes", "c3": "yes"}, 5)
    global_judge = standard_judge({}, 5)
    engine = RewardEngine(
        rubric_judge=role_judge(
            rubric_judge, temperature=0.6, max_tokens=77, reasoning_effort="low"
        ),
        global_judge=global_judge.model(),
        judge_config=GenerateConfig(max_tokens=500),  # the task's setting
    )
    result = run(engine.score(spec, None, RESPONSE))
    assert result.rubric.status == result.global_.status == "scored"
    [sent] = rubric_judge.configs
    assert (sent.temperature, sent.max_tokens, sent.reasoning_effort) == (0.6, 77, "low")
    assert sent.response_schema is not None  # the protocol's own part is kept
    [sent] = global_judge.configs
    assert (sent.temperature, sent.max_tokens, sent.reasoning_effort) == (0.0, 500, None)


def test_judge_settings_are_part_of_the_cache_key(spec: RewardSpec) -> None:
    cache = JudgmentCache()
    first = standard_judge({"c1": "yes", "c2": "yes", "c3": "yes"}, 5)
    run(
        RewardEngine(rubric_judge=role_judge(first, temperature=0.7), cache=cache).score(
            spec, None, RESPONSE
        )
    )
    again = standard_judge({"c1": "yes", "c2": "yes", "c3": "yes"}, 5)
    run(
        RewardEngine(rubric_judge=role_judge(again, temperature=0.7), cache=cache).score(
            spec, None, RESPONSE
        )
    )
    assert again.calls == 0  # same settings: the cached judgment
    other = standard_judge({"c1": "yes", "c2": "yes", "c3": "yes"}, 5)
    run(
        RewardEngine(rubric_judge=role_judge(other, temperature=0.2), cache=cache).score(
            spec, None, RESPONSE
        )
    )
    assert other.calls == 1  # other settings: judged again
    retries = standard_judge({"c1": "yes", "c2": "yes", "c3": "yes"}, 5)
    run(
        RewardEngine(
            rubric_judge=role_judge(retries, temperature=0.7, max_retries=2, timeout=30),
            cache=cache,
        ).score(spec, None, RESPONSE)
    )
    assert retries.calls == 0  # how a call is made is not what it answers


def test_settings_the_provider_rejects_are_never_sent_as_defaults() -> None:
    assert refused_settings("hf", GenerateConfig(temperature=0.0)) == ["temperature"]
    assert refused_settings("hf", GenerateConfig(temperature=0.7, max_tokens=5)) == []
    assert refused_settings("openai", GenerateConfig(temperature=0.0)) == []
    model = role_judge(standard_judge({}), temperature=0.4)
    passed = judge_generate_config(model, GenerateConfig(temperature=0.0, max_tokens=9))
    assert (passed.temperature, passed.max_tokens) == (None, 9)  # Inspect fills in the role's 0.4


def test_the_passed_config_is_worked_out_per_model_even_for_a_shared_config() -> None:
    """judge_generate_config is remembered per (model, its settings, config): one config object
    passed to two judges must still leave each judge's own settings to that judge."""
    shared = GenerateConfig(temperature=0.0, max_tokens=9)
    warm = role_judge(standard_judge({}), temperature=0.4)
    plain = role_judge(standard_judge({}))
    for _ in range(2):  # the second round is served from what the first worked out
        assert judge_generate_config(warm, shared).temperature is None
        assert judge_generate_config(plain, shared).temperature == 0.0
        assert judge_generate_config(plain, shared) is judge_generate_config(plain, shared)
    assert shared.temperature == 0.0  # the caller's config is never changed


@task
def component_scorers_task(which: str = "rubric") -> Task:
    spec = make_spec()
    scorer = {"rubric": rubric, "global": global_score}[which]()
    return Task(
        dataset=[Sample(input=spec.prompt, metadata=spec_metadata(spec))],
        solver=generate(),
        scorer=scorer,
    )


@pytest.mark.parametrize("which, role", [("rubric", "rubric_grader"), ("global", "global_grader")])
def test_component_scorers_stop_before_generation_without_a_judge(
    tmp_path, which: str, role: str
) -> None:
    with pytest.raises(
        JudgeSetupError, match=f"No judge bound for {role}: pass --model-role grader"
    ):
        eval(
            component_scorers_task,  # built by Inspect, as `inspect eval` builds tasks
            task_args={"which": which},
            model="mockllm/model",
            log_dir=str(tmp_path),
            display="none",
        )
    assert not list(tmp_path.glob("*.eval"))


def covered_spec(*, only_covered: bool = False) -> RewardSpec:
    """The haiku spec plus "all lowercase", which the checker ``lower`` verifies."""
    from harness.spec import Criterion

    spec = make_spec(checkers=[("lower", "All lowercase.", LOWERCASE)])
    covered = Criterion(id="c4", text="Is written in lowercase.", weight=2.0, covered_by="lower")
    criteria = (covered,) if only_covered else (*spec.criteria, covered)
    return spec.edit(criteria=criteria)


def test_audit_covered_grades_checker_criteria_apart_from_the_score() -> None:
    spec = covered_spec()
    verdicts = {"c1": "yes", "c2": "partial", "c3": "no", "c4": "no"}
    cache = JudgmentCache()
    plain_judge, audit_judge = standard_judge(verdicts), standard_judge(verdicts)
    plain = run(
        engine_for(plain_judge, checker_runtime=InProcessRuntime(), cache=cache).score(
            spec, spec.prompt, RESPONSE
        )
    )
    audit = run(
        engine_for(
            audit_judge, checker_runtime=InProcessRuntime(), cache=cache, audit_covered=True
        ).score(spec, spec.prompt, RESPONSE)
    )
    rubric_prompts = [p for p in plain_judge.prompts if not is_global(p)]
    assert rubric_ids(rubric_prompts[0]) == ["c1", "c2", "c3"]  # covered: not sent
    # the audited call is its own judgment (not the plain one from the shared cache)
    [audit_prompt] = [p for p in audit_judge.prompts if not is_global(p)]
    assert rubric_ids(audit_prompt) == ["c1", "c2", "c3", "c4"]
    expected = (3 * 1 + 2 * 0.5 + 0) / 6  # c4 not in the score
    assert plain.rubric.value == pytest.approx(expected) == audit.rubric.value
    assert plain.reward == audit.reward
    [c4] = [c for c in audit.rubric.criteria if c.id == "c4"]
    assert (c4.covered_by, c4.verdict, c4.value) == ("lower", "no", 0.0)
    assert all(c.covered_by is None for c in audit.rubric.criteria if c.id != "c4")
    assert "c4" not in {c.id for c in plain.rubric.criteria}
    assert audit.code.checks[0].status == "pass"  # the checker and the judge disagree here
    assert any("judged for audit only" in n for n in audit.rubric.notes)


def test_audit_of_a_rubric_that_checkers_verify_entirely_is_not_a_score() -> None:
    spec = covered_spec(only_covered=True)
    judge = standard_judge({"c4": "yes"})
    result = run(
        engine_for(judge, checker_runtime=InProcessRuntime(), audit_covered=True).score(
            spec, spec.prompt, RESPONSE
        )
    )
    assert result.rubric.status == "absent" and result.rubric.value is None
    assert [c.id for c in result.rubric.criteria] == ["c4"]
    assert result.reward == pytest.approx((0.7 + 1.0) / 2)  # global and code only


def test_identical_requests_in_flight_are_judged_once(spec: RewardSpec) -> None:
    """A GRPO group repeats rollouts: 16 identical (spec, response) pairs in one batch cost one
    rubric and one global call; the 15 others share the reply (marked cached, no tokens)."""
    judge = standard_judge({"c1": "yes", "c2": "partial", "c3": "no"}, global_score=6)
    engine = engine_for(judge)
    results = run(
        engine.score_batch([ScoreRequest(spec, RESPONSE)] * 16 + [ScoreRequest(spec, "other")])
    )
    assert judge.calls == 4  # (rubric + global) × 2 distinct responses
    assert len({r.reward for r in results[:16]}) == 1
    paid = [r for r in results[:16] if not r.rubric.usage.cached]
    assert len(paid) == 1 and paid[0].rubric.usage.calls == 1
    assert all(r.rubric.usage.calls == 0 for r in results[:16] if r.rubric.usage.cached)


def test_a_failed_judgment_in_flight_is_shared_not_cached(spec: RewardSpec) -> None:
    judge = ScriptedJudge(lambda p, n: "nope")
    engine = engine_for(judge, max_attempts=1)
    results = run(engine.score_batch([ScoreRequest(spec, RESPONSE)] * 8))
    assert judge.calls == 2  # one failed rubric call, one failed global call
    assert all(r.rubric.status == "unscored" and r.reward is None for r in results)
    run(engine.score(spec, None, RESPONSE))
    assert judge.calls == 4  # failures are not cached: asked again


def test_a_cancelled_first_caller_hands_the_judgment_to_the_next(spec: RewardSpec) -> None:
    import asyncio as aio

    judge = standard_judge({"c1": "yes", "c2": "yes", "c3": "yes"})
    engine = engine_for(judge)

    async def main():
        first = aio.ensure_future(engine.score(spec, None, RESPONSE))
        await aio.sleep(0)  # the first caller claims the judgments
        second = aio.ensure_future(engine.score(spec, None, RESPONSE))
        await aio.sleep(0)
        first.cancel()
        return await second

    result = run(main())
    assert result.rubric.status == "scored" and result.reward is not None


def test_sqlite_cache_commits_in_batches_and_a_killed_writer_leaves_it_whole(tmp_path) -> None:
    """Judgments put in a child process that is killed mid-run: every row a flush committed
    is there and intact, the file opens, and nothing is half-written."""
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "j.sqlite"
    script = textwrap.dedent(
        f"""
        import sys, time
        from harness.cache import JudgmentCache
        cache = JudgmentCache({str(path)!r})
        for i in range(2000):
            cache.put(f"k{{i}}", {{"i": i, "text": "x" * 200}})
        cache.flush()
        print("flushed", flush=True)
        i = 2000
        while True:  # keep writing until killed
            cache.put(f"k{{i}}", {{"i": i, "text": "x" * 200}})
            i += 1
            if i % 100 == 0:
                time.sleep(0.001)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "flushed"
    import time as _time

    _time.sleep(0.3)
    child.kill()
    child.wait()
    cache = JudgmentCache(path)
    for i in range(2000):
        assert cache.get(f"k{i}") == {"i": i, "text": "x" * 200}
    import sqlite3

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = db.execute("SELECT key, value FROM judgments").fetchall()
    assert len(rows) >= 2000
    for key, value in rows:
        assert json.loads(value)["i"] == int(key[1:])


def test_caches_on_one_file_share_rows_at_once_and_memory_is_bounded(tmp_path) -> None:
    path = tmp_path / "j.sqlite"
    one, two = JudgmentCache(path), JudgmentCache(path, memory_entries=2)
    one.put("a", {"v": 1})
    assert two.get("a") == {"v": 1}  # not committed yet: seen through the shared file's queue
    for key in "bcd":
        two.put(key, {"v": key})
    assert len(two) == 2  # the oldest left memory ...
    assert two.get("a") == {"v": 1} and two.get("b") == {"v": "b"}  # ... not the file
    memory_only = JudgmentCache(memory_entries=2)
    for key in "abc":
        memory_only.put(key, {"v": key})
    assert memory_only.get("a") is None and memory_only.get("c") == {"v": "c"}
    two.flush()
    import sqlite3

    rows = sqlite3.connect(path).execute("SELECT count(*) FROM judgments").fetchone()[0]
    assert rows == 4
    with pytest.raises(ValueError, match="memory_entries"):
        JudgmentCache(memory_entries=0)
