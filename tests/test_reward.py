from __future__ import annotations

import pytest
from pydantic import ValidationError

from harness.reward import Gate, GlobalSchedule, HybridConfig, combine, rubric_score
from harness.spec import Criterion


def crit(id: str, w: float) -> Criterion:
    return Criterion(id=id, text=id, weight=w)


def test_rubric_score_is_weighted_mean_with_partial_credit() -> None:
    criteria = [crit("a", 3), crit("b", 2), crit("c", 1)]
    clipped, raw = rubric_score(criteria, {"a": 1.0, "b": 0.5, "c": 0.0})
    assert clipped == raw == pytest.approx((3 * 1 + 2 * 0.5 + 0) / 6)


def test_pitfalls_subtract_and_denominator_is_positive_total() -> None:
    criteria = [crit("a", 5), crit("b", 5), crit("p", -4)]
    clipped, raw = rubric_score(criteria, {"a": 1.0, "b": 0.0, "p": 1.0})
    assert raw == pytest.approx((5 - 4) / 10)
    assert clipped == pytest.approx(0.1)
    clipped, raw = rubric_score(criteria, {"a": 0.0, "b": 0.0, "p": 1.0})
    assert raw == pytest.approx(-0.4)
    assert clipped == 0.0


def test_rubric_score_refuses_missing_values() -> None:
    with pytest.raises(ValueError, match=r"no value for criteria \['b'\]"):
        rubric_score([crit("a", 1), crit("b", 1)], {"a": 1.0})


def test_equal_weights_renormalised_over_present_components() -> None:
    cfg = HybridConfig()
    out = combine({"rubric": 0.8, "global": 0.5, "code": 1.0}, cfg)
    assert out.reward == pytest.approx((0.8 + 0.5 + 1.0) / 3)
    out = combine({"rubric": 0.8, "global": 0.5, "code": None}, cfg)
    assert out.reward == pytest.approx(0.65)
    assert out.weights == {"rubric": 0.5, "global": 0.5, "code": 0.0}
    assert "= 0.65" in out.formula


def test_custom_weights_and_zero_weight_component() -> None:
    cfg = HybridConfig(weights={"rubric": 2, "global": 1, "code": 0})
    out = combine({"rubric": 0.9, "global": 0.3, "code": 0.0}, cfg)
    assert out.reward == pytest.approx((2 * 0.9 + 0.3) / 3)
    assert out.weights["code"] == 0.0


def test_nothing_scored_gives_no_reward() -> None:
    out = combine({"rubric": None, "global": None, "code": None}, HybridConfig())
    assert out.reward is None
    assert out.reason == "no component was scored"


@pytest.mark.parametrize(
    "step, alpha", [(0, 1.0), (200, 0.75), (400, 0.5), (800, 0.0), (5000, 0.0)]
)
def test_global_schedule_decays_linearly(step: int, alpha: float) -> None:
    cfg = HybridConfig(schedule=GlobalSchedule(steps=800))
    s = {"rubric": 0.6, "global": 0.2, "code": 1.0}
    out = combine(s, cfg, step=step)
    fine = (0.6 + 1.0) / 2
    assert out.reward == pytest.approx(alpha * 0.2 + (1 - alpha) * fine)
    assert out.weights["global"] == pytest.approx(alpha)
    assert sum(out.weights.values()) == pytest.approx(1.0)


def test_schedule_with_missing_parts() -> None:
    cfg = HybridConfig(schedule=GlobalSchedule(steps=100))
    assert combine(
        {"rubric": 0.4, "global": None, "code": None}, cfg, step=10
    ).reward == pytest.approx(0.4)
    assert combine(
        {"rubric": None, "global": 0.9, "code": None}, cfg, step=10
    ).reward == pytest.approx(0.9)
    with pytest.raises(ValueError, match="needs the training step"):
        combine({"rubric": 0.4}, cfg)
    with pytest.raises(ValueError, match="step must be >= 0"):
        GlobalSchedule().alpha(-1)


def test_gate_multiplies_when_a_checker_did_not_pass() -> None:
    cfg = HybridConfig(gate=Gate(factor=0.5))
    s = {"rubric": 0.8, "global": 0.6, "code": 0.5}
    assert combine(s, cfg, all_checkers_passed=False).reward == pytest.approx(
        0.5 * (0.8 + 0.6 + 0.5) / 3
    )
    assert combine(s, cfg, all_checkers_passed=True).reward == pytest.approx((0.8 + 0.6 + 0.5) / 3)
    assert combine(s, cfg, all_checkers_passed=None).reward == pytest.approx((0.8 + 0.6 + 0.5) / 3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"weights": {"rubric": 1, "style": 1}}, "unknown components"),
        ({"weights": {"rubric": -1}}, ">= 0"),
        ({"checker_errors": "ignore"}, "checker_errors"),
        ({"gate": {"factor": 2}}, "less than or equal to 1"),
    ],
)
def test_invalid_hybrid_config(kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        HybridConfig(**kwargs)
