"""The simulated judge (``simulated/``): valid replies to every judge protocol, deterministic
verdicts, and the failure rates it is asked for — as the scoring engine sees them."""

from __future__ import annotations

import asyncio

import pytest
from conftest import make_spec
from inspect_ai.model import ChatMessageUser, get_model

from harness.judges.rubric import PerCriterionRubric
from harness.scoring import RewardEngine, ScoreRequest


def engine(structured: bool = True, **model_args) -> RewardEngine:
    judge = get_model("simulated/test", memoize=False, latency=0.0, **model_args)
    return RewardEngine(
        rubric_judge=judge, global_judge=judge, structured_output=structured, max_attempts=1
    )


@pytest.mark.parametrize("structured", [True, False])
@pytest.mark.parametrize("scale", ["yes_partial_no", "yes_no", "one_to_ten"])
def test_every_protocol_and_scale_gets_a_valid_reply(structured: bool, scale: str) -> None:
    spec = make_spec(verdict_scale=scale)
    for protocol in (None, PerCriterionRubric()):
        e = engine(structured)
        if protocol is not None:
            e.rubric_protocol = protocol
        result = asyncio.run(e.score(spec, spec.prompt, "a short answer"))
        assert result.rubric.status == "scored", result.rubric.reason
        assert result.global_.status == "scored", result.global_.reason
        assert len(result.rubric.criteria) == 3


def test_verdicts_are_deterministic_per_prompt_and_differ_across_responses() -> None:
    spec = make_spec()
    texts = [f"answer number {i}" for i in range(12)]
    first = asyncio.run(engine().score_batch([ScoreRequest(spec, t) for t in texts]))
    again = asyncio.run(engine().score_batch([ScoreRequest(spec, t) for t in texts]))
    assert [r.reward for r in first] == [r.reward for r in again]
    assert len({r.reward for r in first}) > 1


def test_failure_rates_become_unscored_judgments_with_reasons() -> None:
    spec = make_spec()
    broken = asyncio.run(engine(error_rate=1.0).score(spec, spec.prompt, "x"))
    assert broken.reward is None and "simulated provider error" in broken.rubric.reason
    garbled = asyncio.run(engine(malformed_rate=1.0).score(spec, spec.prompt, "x"))
    assert garbled.rubric.status == "unscored" and "malformed judge output" in garbled.rubric.reason


def test_settings_are_checked() -> None:
    with pytest.raises(Exception, match="unknown model argument"):
        get_model("simulated/x", memoize=False, speed=3)
    with pytest.raises(Exception, match="error_rate must be in"):
        get_model("simulated/x", memoize=False, error_rate=2)
    with pytest.raises(Exception, match="jitter"):
        get_model("simulated/x", memoize=False, latency=0.1, jitter=0.5)
    reply = asyncio.run(
        get_model("simulated/x", memoize=False, latency=0).generate([ChatMessageUser(content="hi")])
    )
    assert reply.completion == "simulated reply"
