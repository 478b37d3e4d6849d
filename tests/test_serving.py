"""The reward service, its HTTP server and the trainer adapters: spec lookup, micro-batching,
deadlines, backpressure, bad requests, and each trainer's request and reply shapes."""

from __future__ import annotations

import asyncio
import json
import math
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import make_spec, standard_judge
from fake_runtime import InProcessRuntime
from fastapi.testclient import TestClient
from inspect_ai.model import get_model

from harness.cache import JudgmentCache
from harness.reward import GlobalSchedule, HybridConfig
from harness.scoring import RewardEngine
from harness.serving import adapters
from harness.serving.server import create_app
from harness.serving.service import RewardItem, RewardService, UnknownSpecError
from harness.spec import prompt_hash
from harness.store import SpecStore

LOWER = ("lower", "All lowercase.", "def check(r):\n    return r == r.lower()\n")
VERDICTS = {"c1": "yes", "c2": "yes", "c3": "no"}
RUBRIC = 5 / 6  # c1 (3) and c2 (2) of 6


@pytest.fixture
def store(tmp_path: Path) -> SpecStore:
    store = SpecStore(tmp_path / "specs.jsonl", create=True)
    store.put_many(
        [
            make_spec(checkers=[LOWER]),
            make_spec(prompt_id="chat", prompt="Name a colour.", checkers=[]),
        ]
    )
    return store


def service_with(store: SpecStore, judge=None, **kwargs) -> RewardService:
    judge = judge or standard_judge(VERDICTS, 8)
    model = judge.model()
    engine = RewardEngine(
        rubric_judge=model,
        global_judge=model,
        checker_runtime=InProcessRuntime(),
        cache=JudgmentCache(),
        hybrid=kwargs.pop("hybrid", None),
    )
    return RewardService(engine, store, **kwargs)


def test_specs_are_found_by_id_hash_or_prompt_and_an_unknown_one_is_an_error(
    store: SpecStore,
) -> None:
    service = service_with(store)
    spec = store.get("p1")
    assert service.spec_for(RewardItem("x", spec_id="p1")) == spec
    assert service.spec_for(RewardItem("x", prompt_hash=spec.prompt_hash)) == spec
    assert service.spec_for(RewardItem("x", prompt=spec.prompt)) == spec
    # a trainer's chat-format prompt with one user turn finds the plain-text spec
    chat = [{"role": "user", "content": "Name a colour."}]
    assert service.spec_for(RewardItem("x", prompt=chat)).prompt_id == "chat"
    with pytest.raises(UnknownSpecError, match="no spec in the store for spec id 'nope'"):
        service.spec_for(RewardItem("x", spec_id="nope"))
    with pytest.raises(UnknownSpecError, match="needs spec_id, prompt_hash or prompt"):
        service.spec_for(RewardItem("x"))


def test_concurrent_requests_share_one_batch_and_identical_completions_one_judgment(
    store: SpecStore,
) -> None:
    judge = standard_judge(VERDICTS, 8)
    service = service_with(store, judge, batch_window_s=0.05)

    async def run() -> list[list]:
        group = [RewardItem("salt waves fold", spec_id="p1")] * 8  # a GRPO group, all the same
        other = [RewardItem("Salt Waves", spec_id="p1")]
        return await asyncio.gather(service.score(group), service.score(other))

    same, other = asyncio.run(run())
    assert service.metrics.batches == 1
    assert judge.calls == 4  # rubric + global for each of the two distinct responses
    assert [r.reward for r in same] == [pytest.approx((RUBRIC + 0.8 + 1.0) / 3)] * 8
    assert other[0].components["code"] == 0.0  # not lowercase
    snapshot = service.snapshot()
    assert snapshot["items"] == 9 and snapshot["scored"] == 9 and snapshot["queue_depth"] == 0


def test_a_hanging_judge_never_holds_a_step_past_the_deadline(store: SpecStore) -> None:
    slow = get_model("simulated/hang", latency=30.0, memoize=False)
    engine = RewardEngine(rubric_judge=slow, global_judge=slow, checker_runtime=InProcessRuntime())
    service = RewardService(engine, store, deadline_s=0.5)

    async def run() -> list:
        return await service.score([RewardItem("salt", spec_id="p1")] * 3)

    started = time.perf_counter()
    rewards = asyncio.run(run())
    assert time.perf_counter() - started < 5
    assert [r.reward for r in rewards] == [None] * 3
    assert all(r.reason.startswith("deadline exceeded: not scored within 0.5 s") for r in rewards)
    assert service.snapshot()["unscored"] == {"deadline exceeded": 3}


def test_a_judge_that_errors_leaves_items_unscored_with_the_reason_counted(
    store: SpecStore,
) -> None:
    failing = get_model("simulated/broken", latency=0.0, error_rate=1.0, memoize=False)
    engine = RewardEngine(
        rubric_judge=failing, global_judge=failing, checker_runtime=InProcessRuntime(),
        max_attempts=1,
    )  # fmt: skip
    service = RewardService(engine, store)
    [reward] = asyncio.run(service.score([RewardItem("Not lower", spec_id="p1")]))
    # the checker still scores: the reward is the code component alone, judged parts unscored
    assert reward.reward == 0.0 and reward.components["code"] == 0.0
    assert math.isnan(reward.components["rubric"]) and math.isnan(reward.components["global"])
    [rubric_reason] = {reward.result.rubric.reason}
    assert "SimulatedJudgeError" in rubric_reason
    # a spec without checkers: nothing at all can be scored
    [none] = asyncio.run(service.score([RewardItem("red", spec_id="chat")]))
    assert none.reward is None and none.reason
    assert service.snapshot()["unscored"]


def test_backpressure_admits_at_most_max_pending_items(store: SpecStore) -> None:
    slow = get_model("simulated/slow", latency=0.4, memoize=False)
    engine = RewardEngine(rubric_judge=slow, global_judge=slow, checker_runtime=InProcessRuntime())
    service = RewardService(engine, store, max_pending=2, deadline_s=0.9, batch_window_s=0.01)

    async def run() -> list:
        return await service.score([RewardItem(f"salt {i}", spec_id="p1") for i in range(6)])

    rewards = asyncio.run(run())
    scored = [r for r in rewards if r.reward is not None]
    # two at a time, 0.4 s each, 0.9 s deadline: the first four fit, the last two wait too long
    assert 2 <= len(scored) <= 4
    assert all(r.reason.startswith("deadline exceeded") for r in rewards if r.reward is None)


def test_a_schedule_needs_the_step(store: SpecStore) -> None:
    service = service_with(store, hybrid=HybridConfig(schedule=GlobalSchedule(steps=10)))
    with pytest.raises(ValueError, match="pass the training step"):
        asyncio.run(service.score([RewardItem("salt", spec_id="p1")]))
    [early] = asyncio.run(service.score([RewardItem("salt", spec_id="p1")], step=0))
    [late] = asyncio.run(service.score([RewardItem("salt", spec_id="p1")], step=10))
    assert early.result.weights["global"] > late.result.weights["global"]


# -- HTTP ------------------------------------------------------------------------------------


@pytest.fixture
def client(store: SpecStore) -> TestClient:
    return TestClient(create_app(service_with(store), max_body_bytes=10_000))


def test_score_endpoint(client: TestClient) -> None:
    reply = client.post("/score", json={"items": [{"response": "salt", "spec_id": "p1"}]})
    assert reply.status_code == 200
    [reward] = reply.json()["rewards"]
    assert reward["reward"] == pytest.approx((RUBRIC + 0.8 + 1.0) / 3)
    assert "result" not in reward
    detailed = client.post(
        "/score", json={"items": [{"response": "salt", "spec_id": "chat"}], "detail": True}
    ).json()["rewards"][0]
    assert detailed["code"] is None  # absent: null, not NaN, in JSON
    assert detailed["result"]["code"]["status"] == "absent"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 422, "JSON decode error"),
        (
            json.dumps({"items": [{"spec_id": "p1"}]}).encode(),
            422,
            "items.0.response: Field required",
        ),
        (json.dumps({"items": [{"response": "x", "spec_id": "nope"}]}).encode(), 404, "no spec"),
        (json.dumps({"items": [{"response": "x"}]}).encode(), 404, "needs spec_id"),
        (json.dumps({"items": [], "step": -1}).encode(), 422, "step"),
        (
            json.dumps({"items": [{"response": "x" * 20_000, "spec_id": "p1"}]}).encode(),
            413,
            "limit",
        ),
    ],
)
def test_bad_requests_get_a_4xx_with_one_clear_message(
    client: TestClient, body: bytes, status: int, message: str
) -> None:
    reply = client.post("/score", content=body, headers={"content-type": "application/json"})
    assert reply.status_code == status, reply.text
    assert message in reply.json()["detail"]
    # and the server still serves
    assert client.get("/health").json()["status"] == "ok"


def test_openrlhf_protocol(client: TestClient, store: SpecStore) -> None:
    template = "<|im_start|>user\nWrite a haiku<|im_end|>\n<|im_start|>assistant\n"
    body = {
        "query": [template + "salt waves fold<|im_end|>", template + "Salt Waves<|im_end|>"],
        "prompts": [template, template],
        "labels": ["p1", "p1"],
    }
    reply = client.post("/openrlhf", json=body)
    assert reply.status_code == 200
    data = json.loads(reply.text)  # NaN as Python's json reads it (OpenRLHF makes tensors)
    assert data["rewards"] == data["scores"]
    assert data["extra_logs"]["code"] == [1.0, 0.0]  # the marker was stripped: lowercase passes
    assert data["extra_logs"]["unscored"] == [0.0, 0.0]
    # the other servers of a multi-server setup get empty lists
    assert client.post("/openrlhf", json={"query": [], "prompts": [], "labels": []}).json() == {
        "rewards": [],
        "scores": [],
        "extra_logs": {"rubric": [], "global": [], "code": [], "unscored": []},
    }
    bad = client.post("/openrlhf", json={"query": ["a"], "prompts": ["zzz"], "labels": ["p1"]})
    assert bad.status_code == 400 and "does not contain its prompt" in bad.json()["detail"]


def test_slime_protocol(client: TestClient) -> None:
    reply = client.post("/slime", json={"prompt": "ignored", "response": "salt", "label": "p1"})
    assert reply.status_code == 200
    data = reply.json()
    assert data["score"] == pytest.approx((RUBRIC + 0.8 + 1.0) / 3)
    assert data["unscored"] == 0.0 and data["code"] == 1.0
    by_prompt = client.post(
        "/slime",
        json={"prompt": [{"role": "user", "content": "Name a colour."}], "response": "red"},
    ).json()
    assert by_prompt["code"] is None and by_prompt["unscored"] == 0.0


def test_metrics_endpoint_counts_unscored_by_reason(store: SpecStore) -> None:
    failing = get_model("simulated/broken2", latency=0.0, error_rate=1.0, memoize=False)
    engine = RewardEngine(rubric_judge=failing, global_judge=failing, max_attempts=1)
    client = TestClient(create_app(RewardService(engine, store)))
    client.post("/score", json={"items": [{"response": "red", "spec_id": "chat"}] * 2})
    metrics = client.get("/metrics").json()
    assert metrics["items"] == 2 and metrics["scored"] == 0
    assert sum(metrics["unscored"].values()) == 2
    assert metrics["latency_s"]["count"] == 1 and metrics["latency_s"]["p50"] > 0


# -- adapters --------------------------------------------------------------------------------


def test_trl_reward_functions(store: SpecStore) -> None:
    service = service_with(store)
    [hybrid] = adapters.trl_reward_funcs(service)
    rubric, global_, code = adapters.trl_reward_funcs(service, components=True)
    assert hybrid.__name__ == "harness_reward" and code.__name__ == "harness_code"
    assert asyncio.iscoroutinefunction(hybrid)  # TRL runs it on its async loop
    logged: dict[str, float] = {}
    extra: dict[str, list] = {}
    kwargs = {
        "prompts": [[{"role": "user", "content": "Name a colour."}]] * 2
        + ["Write a haiku about the sea, in lowercase, with the word 'salt'."],
        "completions": [
            [{"role": "assistant", "content": "red"}],
            [{"role": "assistant", "content": "red"}],
            [{"role": "assistant", "content": "salt"}],
        ],
        "completion_ids": [[1], [1], [2]],
        "trainer_state": SimpleNamespace(global_step=3),
        "log_metric": lambda name, value: logged.__setitem__(name, value),
        "log_extra": lambda column, values: extra.__setitem__(column, values),
        "task": ["a", "a", "b"],  # another dataset column: ignored
    }

    async def run() -> tuple:
        return await asyncio.gather(
            hybrid(**kwargs), rubric(**kwargs), global_(**kwargs), code(**kwargs)
        )

    rewards, rubrics, globals_, codes = asyncio.run(run())
    assert rewards[0] == pytest.approx((RUBRIC + 0.8) / 2)  # no checkers for this prompt
    assert rewards[2] == pytest.approx((RUBRIC + 0.8 + 1.0) / 3)
    assert rubrics == [pytest.approx(RUBRIC)] * 3 and globals_ == [pytest.approx(0.8)] * 3
    assert codes == [None, None, 1.0]  # None: nothing to check (TRL leaves it out)
    assert logged["harness/unscored"] == 0.0 and logged["harness/code"] == 1.0
    assert extra["harness_reason"] == ["", "", ""]
    # a spec id column wins over the prompt
    [by_id] = asyncio.run(hybrid(prompts=["?"], completions=["salt"], spec_id=["p1"]))
    assert by_id == pytest.approx((RUBRIC + 0.8 + 1.0) / 3)


def test_verl_compute_score(store: SpecStore) -> None:
    adapters.configure(service_with(store))
    try:
        out = asyncio.run(adapters.compute_score("harness", "salt", "p1", {"index": 0}))
        assert out["score"] == pytest.approx((RUBRIC + 0.8 + 1.0) / 3)
        assert out["unscored"] == 0.0 and out["code"] == 1.0 and out["reason"] == ""
        [a, b] = adapters.compute_score_batch(
            ["harness"] * 2,
            ["red", "salt"],
            [None, None],
            [{"spec_id": "chat"}, {"prompt_hash": prompt_hash(store.get("p1").prompt)}],
        )
        assert math.isnan(a["code"]) and b["code"] == 1.0
        assert adapters.compute_score_sync("h", "salt", "p1")["score"] == out["score"]
    finally:
        adapters.configure(None)


def test_unscored_items_are_flagged_for_trainers_that_need_a_number(store: SpecStore) -> None:
    failing = get_model("simulated/broken3", latency=0.0, error_rate=1.0, memoize=False)
    adapters.configure(
        RewardService(
            RewardEngine(rubric_judge=failing, global_judge=failing, max_attempts=1), store
        )
    )
    try:
        out = asyncio.run(adapters.compute_score("h", "red", "chat"))
        assert out["score"] == adapters.UNSCORED_SCORE and out["unscored"] == 1.0
        assert out["reason"]  # never a silent 0
    finally:
        adapters.configure(None)


def test_openrlhf_reward_file_loaded_by_path_and_called_from_threads(store: SpecStore) -> None:
    """OpenRLHF loads the file by path (a second module copy) and calls ``reward_func`` one
    sample at a time from ``asyncio.to_thread``: the configured service holds for the copy and
    the concurrent calls micro-batch on one loop."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("reward_func", adapters.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    service = service_with(store, batch_window_s=0.05)
    adapters.configure(service)
    template = "<|im_start|>user\nWrite a haiku<|im_end|>\n<|im_start|>assistant\n"
    responses = ["salt waves fold", "Salt Waves", "salt", "sea"] * 2

    async def rollout_step() -> list[dict]:
        return await asyncio.gather(
            *(
                asyncio.to_thread(
                    module.reward_func, [template + r + "<|im_end|>"], [template], ["p1"]
                )
                for r in responses
            )
        )

    try:
        outputs = asyncio.run(rollout_step())
    finally:
        adapters.configure(None)
    codes = [o["extra_logs"]["code"].item() for o in outputs]
    assert codes == [1.0, 0.0, 1.0, 1.0] * 2
    assert all(o["rewards"].shape == (1,) and o["scores"].dtype.is_floating_point for o in outputs)
    # micro-batched (the thread pool may hold some calls back for a second batch), never 1 by 1
    assert service.metrics.requests == len(responses) and service.metrics.batches <= 2


@pytest.mark.parametrize(
    ("query", "prompt", "response"),
    [
        ("<s>[INST] hi [/INST] hello</s>", "<s>[INST] hi [/INST]", " hello"),
        ("P: hi\nA: hello <|im_end|><|endoftext|>", "P: hi\nA:", " hello"),
        ("<bos>P hi<eos>", "P hi", ""),
        ("junk then P hi answer", "P hi", " answer"),
    ],
)
def test_openrlhf_queries_are_stripped_to_the_response(
    query: str, prompt: str, response: str
) -> None:
    # what follows the prompt, as generated (leading space kept), less end-of-turn markers
    assert adapters.strip_query(query, prompt) == response


def test_environment_without_a_service_says_how_to_configure_one(monkeypatch) -> None:
    monkeypatch.delenv("HARNESS_REWARD_URL", raising=False)
    monkeypatch.delenv("HARNESS_SPECS", raising=False)
    adapters.configure(None)
    with pytest.raises(RuntimeError, match="HARNESS_REWARD_URL"):
        adapters.configured_scorer()


def test_a_remote_service_that_cannot_be_reached_leaves_items_unscored_with_the_reason() -> None:
    import socket

    from harness.serving.client import RemoteRewardService

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    remote = RemoteRewardService(f"http://127.0.0.1:{port}", timeout_s=5)
    rewards = asyncio.run(remote.score([RewardItem("salt", spec_id="p1")] * 2))
    assert [r.reward for r in rewards] == [None, None]
    assert all(r.reason.startswith("reward service unreachable: ConnectError") for r in rewards)
    assert rewards[0] is not rewards[1]
