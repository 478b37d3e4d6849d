"""The reward service on a local Ray instance: the Ray Serve deployment, by handle and over HTTP."""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

import pytest
from conftest import make_spec

from harness.store import SpecStore

pytestmark = pytest.mark.skipif(
    find_spec("ray") is None and os.environ.get("CI") != "true", reason="the rl extra (ray)"
)

LOWER = ("lower", "All lowercase.", "def check(r):\n    return r == r.lower()\n")


@pytest.fixture(scope="module")
def ray_instance():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield
    from ray import serve

    serve.shutdown()
    ray.shutdown()


def test_the_serve_deployment_scores_by_handle_and_over_http(ray_instance, tmp_path: Path) -> None:
    import httpx
    from ray import serve

    from harness.serving.build import EngineSettings
    from harness.serving.ray_serve import RewardDeployment

    store = SpecStore(tmp_path / "specs.jsonl", create=True)
    store.put_many([make_spec(criteria=[], checkers=[LOWER])])
    app = RewardDeployment.options(num_replicas=1).bind(
        str(store.path), EngineSettings(checker_runtime="local-unsafe")
    )
    import socket

    with socket.socket() as sock:  # a free port: 8000 may be taken (e.g. by `harness serve`)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    url = f"http://127.0.0.1:{port}/reward"
    handle = serve.run(app, name="reward", route_prefix="/reward")
    payload = {
        "items": [{"response": "salt", "spec_id": "p1"}, {"response": "Salt", "spec_id": "p1"}]
    }
    rewards = handle.score.remote(payload).result()["rewards"]
    assert [r["reward"] for r in rewards] == [1.0, 0.0]
    assert rewards[0]["rubric"] is None  # no criteria: absent, null in JSON
    reply = httpx.post(url, json=payload, timeout=60)
    assert reply.status_code == 200 and [r["reward"] for r in reply.json()["rewards"]] == [1.0, 0.0]
    unknown = httpx.post(url, json={"items": [{"response": "x", "spec_id": "nope"}]})
    assert unknown.status_code == 404 and "no spec" in unknown.json()["detail"]
    bad = httpx.post(url, content=b"{oops")
    assert bad.status_code == 400
    # the same request schema as harness serve's /score: a missing response, an unknown field
    for body in ({"items": [{"spec_id": "p1"}]}, {"items": [], "stp": 3}):
        refused = httpx.post(url, json=body)
        assert refused.status_code == 400 and "bad request" in refused.json()["detail"]
    assert handle.metrics.remote().result()["items"] == 4  # the refused request is not counted


def test_a_rollout_dump_scored_with_ray_data(ray_instance, tmp_path: Path) -> None:
    import math

    import ray

    from harness.serving.build import EngineSettings
    from harness.serving.ray_data import score_dataset

    store = SpecStore(tmp_path / "specs.jsonl", create=True)
    store.put_many([make_spec(criteria=[], checkers=[LOWER])])
    rows = ray.data.from_items(
        [{"prompt_id": "p1", "response": t} for t in ("salt", "Salt", "sea", "SEA", "foam")]
    )
    scored = score_dataset(
        rows, str(store.path), EngineSettings(checker_runtime="local-unsafe"), batch_size=2
    ).take_all()
    by_response = {r["response"]: r for r in scored}
    assert {k: v["reward"] for k, v in by_response.items()} == {
        "salt": 1.0, "Salt": 0.0, "sea": 1.0, "SEA": 0.0, "foam": 1.0
    }  # fmt: skip
    assert all(math.isnan(r["rubric"]) and r["reason"] == "" for r in scored)
