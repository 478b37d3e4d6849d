"""Requests/tokens-per-minute budgets on judge calls: calls wait (never fail) for the budget, no
60-second window goes over it, output tokens are charged after the call, and every role on one
model draws from one budget. Bounds are lower bounds on waiting, which load only lengthens."""

from __future__ import annotations

import asyncio
import time

import pytest
from inspect_ai.model import ChatMessageUser, get_model

from harness.cli import main
from harness.judges import rate_limits
from harness.judges.calling import ask_judge
from harness.judges.rate_limits import RateLimit, set_rate_limit
from harness.judges.roles import load_judge


async def _timed_calls(models, n: int, text: str = "Grade this.") -> list[float]:
    start = time.monotonic()
    stamps: list[float] = []

    async def one(i: int) -> None:
        reply = await ask_judge(
            models[i % len(models)], [ChatMessageUser(content=text)], str, max_attempts=1
        )
        assert reply.value is not None, reply.failure
        stamps.append(time.monotonic() - start)

    await asyncio.gather(*(one(i) for i in range(n)))
    return sorted(stamps)


def test_calls_wait_for_the_request_budget_and_no_minute_goes_over_it() -> None:
    model = get_model("simulated/rpm", latency=0.0, memoize=False)
    set_rate_limit(model, RateLimit(requests_per_minute=120))
    try:
        stamps = asyncio.run(_timed_calls([model], 25))
    finally:
        set_rate_limit(model, None)
    burst, per_second = 20, 100 / 60  # a sixth at once, then five sixths per minute
    assert stamps[burst - 1] < 2.0  # the burst is not held back (generous for a loaded box)
    for k in range(burst, 25):  # every call past the burst waited its turn
        assert stamps[k] >= (k - burst + 1) / per_second - 0.05
    # a 60 s window at this pace holds at most burst + 5/6 of the budget = the budget


def test_output_tokens_are_charged_to_later_calls() -> None:
    model = get_model("simulated/tpm", latency=0.0, memoize=False)
    text = " ".join(["a"] * 60)  # 119 characters: 30 tokens up front
    set_rate_limit(model, RateLimit(tokens_per_minute=1200))  # burst 200, then 1000/min

    async def five_in_a_row() -> tuple[float, int]:
        start = time.monotonic()
        for _ in range(5):
            reply = await ask_judge(model, [ChatMessageUser(content=text)], str, max_attempts=1)
        return time.monotonic() - start, reply.usage.input_tokens + reply.usage.output_tokens

    try:
        elapsed, used = asyncio.run(five_in_a_row())
    finally:
        set_rate_limit(model, None)
    # the simulated judge counts words: 60 in, 2 out; each call's 32 beyond its estimate is
    # charged after it, in the background: by the 5th call's start at least 5 x 30 + 2 x 32 =
    # 214 were taken, 14 over the burst, which takes 14 / (1000/60) s to drain. Estimates
    # alone (5 x 30 = 150) would not wait at all.
    assert used == 62
    assert elapsed >= 14 / (1000 / 60) - 0.05


def test_roles_on_one_model_share_its_budget() -> None:
    limit = RateLimit(requests_per_minute=60)  # burst 10, then 50/min
    rubric = load_judge("simulated/shared", "rubric_grader", rate_limit=limit)
    global_ = load_judge("simulated/shared", "global_grader", rate_limit=limit)
    assert rubric is not global_
    try:
        stamps = asyncio.run(_timed_calls([rubric, global_], 12))
    finally:
        set_rate_limit(rubric, None)
    # 12 calls over two instances: 2 past one shared burst of 10 (two budgets would not wait)
    assert stamps[-1] >= 2 / (50 / 60) - 0.05


def test_a_call_without_a_budget_does_not_wait() -> None:
    model = get_model("simulated/free", latency=0.0, memoize=False)
    assert asyncio.run(rate_limits.before_call(model, [ChatMessageUser(content="x")])) == 0
    stamps = asyncio.run(_timed_calls([model], 50))
    assert stamps[-1] < 5.0


@pytest.mark.parametrize("limit", [{"requests_per_minute": 0}, {"tokens_per_minute": -5}])
def test_a_budget_must_be_positive(limit: dict) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        RateLimit(**limit)


@pytest.mark.parametrize("value", ["0", "-1", "inf", "many"])
def test_the_cli_refuses_a_budget_that_is_not_a_positive_number(value: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--specs", "x.jsonl", "--requests-per-minute", value])
    assert exit_.value.code == 2
    assert f"expected a positive number, got '{value}'" in capsys.readouterr().err


def test_a_served_item_past_its_deadline_while_waiting_for_budget_is_unscored_and_counted(
    tmp_path,
) -> None:
    from conftest import make_spec

    from harness.serving.build import EngineSettings, build_service
    from harness.serving.service import RewardItem
    from harness.store import SpecStore

    store = SpecStore(tmp_path / "specs.jsonl", create=True)
    store.put_many(
        [make_spec(prompt_id=f"p{i}", prompt=f"Prompt {i}.", checkers=[]) for i in range(3)]
    )
    settings = EngineSettings(
        grader="{model: simulated/budget, model_args: {latency: 0}}",
        requests_per_minute=6,  # one call at once, then one per 12 s
        checker_runtime="local",
    )
    service = build_service(str(tmp_path / "specs.jsonl"), settings, deadline_s=1.0)
    try:
        items = [RewardItem("an answer", spec_id=f"p{i}") for i in range(3)]
        rewards = asyncio.run(service.score(items))
    finally:
        set_rate_limit("simulated/budget", None)
    # 3 responses x (rubric + global) = 6 calls; the budget allows 1 before the deadline
    assert all(r.reward is None for r in rewards)
    assert all(r.reason.startswith("deadline exceeded") for r in rewards)
    assert service.snapshot()["unscored"] == {"deadline exceeded": 3}
