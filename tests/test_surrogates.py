"""Any Python str scores: lone surrogates (from model output and JSON) affect only their own item."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import make_spec, standard_judge

from harness.cache import JudgmentCache, judgment_key
from harness.checkers.runtime import LocalRuntime, verdict_key
from harness.scoring import RewardEngine, ScoreRequest, response_hash

# high, low, mixed, and a high and a low surrogate side by side as two code points (ASCII JSON
# escapes would turn those into one astral character on the wire)
BAD = [
    "\ud800",
    "\udfff",
    "a\ud83d😀b\udc00c",
    "😀\udc00\ud800x\udbff",
    "x\ud83d\ude00y",
    "\udbff\udfff",
]
HONEST = ["hello world", "plain ascii", "emoji 😀 fine"]
VERDICTS = {"c1": "yes", "c2": "no", "c3": "yes"}
LIMITS = {"checker_timeout_s": 2.0, "item_timeout_s": 5.0, "memory_mb": 256}


def requests() -> list[ScoreRequest]:
    """Each item's checker passes only on its exact response, and fails on any other."""
    out = []
    for n, response in enumerate(BAD + HONEST):
        spec = make_spec(
            prompt_id=f"p{n}",
            checkers=[
                (
                    "exact",
                    "is exactly the response",
                    f"def check(r):\n    return r == {response!r}\n",
                ),
                ("never", "is something else", "def check(r):\n    return r == 'x'\n"),
            ],
        )
        out.append(ScoreRequest(spec, response))
    return out


def score(engine: RewardEngine) -> list:
    return asyncio.run(engine.score_batch(requests()))


def assert_all_correct(results: list) -> None:
    assert len(results) == len(BAD) + len(HONEST)
    for result, response in zip(results, BAD + HONEST, strict=True):
        assert result.rubric.status == "scored", result.rubric.reason
        assert result.rubric.value == pytest.approx(4 / 6)
        assert result.global_.status == "scored" and result.global_.score == 7
        assert result.code.status == "scored", result.code.reason
        assert [c.status for c in result.code.checks] == ["pass", "fail"]
        assert result.code.value == 0.5
        assert result.response_hash == response_hash(response)


def test_hashes_accept_any_str_and_keep_utf8_values() -> None:
    import hashlib

    assert response_hash("héllo") == hashlib.sha256("héllo".encode()).hexdigest()
    hashes = {response_hash(r) for r in BAD}
    assert len(hashes) == len(BAD)
    assert len({judgment_key("rubric", "v", r, "m", "p", {}) for r in BAD}) == len(BAD)
    spec = make_spec(checkers=[("k", "c", "def check(r):\n    return True\n")])
    from harness.checkers import CheckItem

    assert len({verdict_key(CheckItem(spec, r)) for r in BAD}) == len(BAD)
    # two surrogate code points are not the astral character JSON escapes would make of them
    pair, astral = CheckItem(spec, "\udbff\udfff"), CheckItem(spec, "\U0010ffff")
    assert verdict_key(pair) != verdict_key(astral)


def test_batch_with_lone_surrogates_scores_every_item_locally(tmp_path: Path) -> None:
    judge = standard_judge(VERDICTS)
    pool = LocalRuntime(size=1, limits=LIMITS, allow_untrusted=True)
    try:
        engine = RewardEngine(
            rubric_judge=judge.model(),
            global_judge=judge.model(),
            checker_runtime=pool,
            cache=JudgmentCache(tmp_path / "judgments.sqlite"),
        )
        assert_all_correct(score(engine))
        calls = judge.calls
        assert calls == 2 * (len(BAD) + len(HONEST))
        # the memory cache answers the same batch: no judge call
        assert_all_correct(score(engine))
        assert judge.calls == calls
        # a new engine over the same SQLite file: every judgment round-trips from disk
        fresh = RewardEngine(
            rubric_judge=judge.model(),
            global_judge=judge.model(),
            checker_runtime=pool,
            cache=JudgmentCache(tmp_path / "judgments.sqlite"),
        )
        assert_all_correct(score(fresh))
        assert judge.calls == calls
        assert fresh.cache.hits == 2 * (len(BAD) + len(HONEST))
    finally:
        pool.close()


def test_judgment_cache_round_trips_surrogate_values(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    key = judgment_key("global", "v1", response_hash("\ud800"), "m\udc00", "p", {"x": "\udfff"})
    value = {"rationale": "quotes \ud800 and 😀\udc00", "score": 3}
    JudgmentCache(path).put(key, value)
    assert JudgmentCache(path).get(key) == value
    memory = JudgmentCache()
    memory.put(key, value)
    assert memory.get(key) == value


def test_batch_with_lone_surrogates_in_docker() -> None:
    from test_sandbox import require_docker

    from harness.checkers.docker_pool import DockerPool

    require_docker()
    judge = standard_judge(VERDICTS)
    with DockerPool(size=1, limits=LIMITS) as pool:
        engine = RewardEngine(
            rubric_judge=judge.model(), global_judge=judge.model(), checker_runtime=pool
        )
        assert_all_correct(score(engine))
        assert pool.restarts == 0
