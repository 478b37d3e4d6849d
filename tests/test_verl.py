"""The verl adapters run by the installed verl: its reward-loop worker (composed from verl's own
Hydra config, loading our function by file path and by package path, sync and async) and its
batch reward manager."""

from __future__ import annotations

import math
import os
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
from conftest import make_spec
from test_serving import LOWER, RUBRIC, service_with

from harness.serving import adapters
from harness.store import SpecStore

pytestmark = pytest.mark.skipif(
    find_spec("verl") is None and os.environ.get("CI") != "true", reason="the rl extra (verl)"
)

SALT = (RUBRIC + 0.8 + 1.0) / 3  # lowercase: the checker passes
SALT_CAPS = (RUBRIC + 0.8 + 0.0) / 3
RESPONSES = ["salt", "Salt", "salt", "salt and pepper"]


@pytest.fixture(scope="module")
def tokenizer_dir() -> str:
    from harness.local_model import model_args

    return model_args()["tokenizer_path"]


@pytest.fixture
def service(tmp_path: Path):
    store = SpecStore(tmp_path / "specs.jsonl", create=True)
    store.put_many([make_spec(checkers=[LOWER])])
    service = service_with(store, batch_window_s=0.05)
    adapters.configure(service)
    yield service
    adapters.configure(None)


def rollouts(tokenizer_dir: str):
    """A verl batch as its rollout produces it: left-padded prompts, right-padded responses,
    the parquet columns data_source / reward_model.ground_truth / extra_info."""
    import torch
    from transformers import AutoTokenizer
    from verl import DataProto

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    prompt = tok("Name a seasoning.", add_special_tokens=False)["input_ids"]
    encoded = [
        tok(r, add_special_tokens=False)["input_ids"] + [tok.eos_token_id] for r in RESPONSES
    ]
    width = max(map(len, encoded)) + 2
    responses = torch.tensor([ids + [pad] * (width - len(ids)) for ids in encoded])
    prompts = torch.tensor([prompt] * len(RESPONSES))
    mask = torch.cat(
        [
            torch.ones_like(prompts),
            torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids in encoded]),
        ],
        dim=1,
    )
    n = len(RESPONSES)
    return DataProto.from_dict(
        tensors={
            "prompts": prompts,
            "responses": responses,
            "input_ids": torch.cat([prompts, responses], dim=1),
            "attention_mask": mask,
        },
        non_tensors={
            "data_source": np.array(["harness"] * n, dtype=object),
            # the spec id rides in ground_truth (or extra_info["spec_id"])
            "reward_model": np.array([{"style": "rule", "ground_truth": "p1"}] * n, dtype=object),
            "extra_info": np.array([{"index": i} for i in range(n)], dtype=object),
        },
    )


def reward_loop_worker(tokenizer_dir: str, path: str, name: str):
    import verl
    from hydra import compose, initialize_config_dir
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker

    config_dir = str(Path(verl.__file__).parent / "trainer" / "config")
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        config = compose(
            "ppo_trainer",
            overrides=[
                f"actor_rollout_ref.model.path={tokenizer_dir}",
                f"reward.custom_reward_function.path={path}",
                f"reward.custom_reward_function.name={name}",
            ],
        )
    return RewardLoopWorker(config)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (adapters.__file__, "compute_score"),  # loaded by file path: a second module copy
        ("pkg://harness.serving.adapters", "compute_score"),
        ("pkg://harness.serving.adapters", "compute_score_sync"),  # run in verl's thread pool
    ],
)
def test_verls_reward_loop_scores_a_batch_through_the_adapter(
    service, tokenizer_dir: str, path: str, name: str
) -> None:
    worker = reward_loop_worker(tokenizer_dir, path, name)
    data = rollouts(tokenizer_dir)
    outputs = worker.loop.run_until_complete(worker.compute_score_batch(data))

    scores = [o["reward_score"] for o in outputs]
    assert scores == pytest.approx([SALT, SALT_CAPS, SALT, SALT])
    info = outputs[1]["reward_extra_info"]
    assert info["code"] == 0.0 and info["unscored"] == 0.0 and info["reason"] == ""
    assert info["rubric"] == pytest.approx(RUBRIC) and info["global"] == pytest.approx(0.8)
    # verl stacks the extra info per key: every item carries the same keys
    assert len({tuple(sorted(o["reward_extra_info"])) for o in outputs}) == 1
    # verl's per-sample calls reached the service together: micro-batched, not one by one
    assert service.metrics.batches == 1 and service.metrics.items == len(RESPONSES)
    # and the score lands on each response's last token
    rm_scores = worker.reward_manager.assemble_rm_scores(data, scores)
    last = data.batch["attention_mask"][:, data.batch["prompts"].shape[1] :].sum(1) - 1
    assert rm_scores[range(len(scores)), last].tolist() == pytest.approx(scores)
    assert rm_scores.sum().item() == pytest.approx(sum(scores), rel=1e-6)


def test_verls_batch_reward_manager_scores_through_compute_score_batch(
    service, tokenizer_dir: str
) -> None:
    from transformers import AutoTokenizer
    from verl.workers.reward_manager.batch import BatchRewardManager

    manager = BatchRewardManager(
        AutoTokenizer.from_pretrained(tokenizer_dir),
        num_examine=0,
        compute_score=adapters.compute_score_batch,
    )
    out = manager(rollouts(tokenizer_dir), return_dict=True)
    totals = out["reward_tensor"].sum(dim=1).tolist()
    assert totals == pytest.approx([SALT, SALT_CAPS, SALT, SALT])
    assert out["reward_extra_info"]["code"] == [1.0, 0.0, 1.0, 1.0]
    assert service.metrics.requests == 1  # the whole batch in one request


def test_verl_gets_unscored_items_flagged_and_an_unknown_spec_as_an_error(
    tmp_path: Path, tokenizer_dir: str
) -> None:
    from inspect_ai.model import get_model

    from harness.scoring import RewardEngine
    from harness.serving.service import RewardService

    store = SpecStore(tmp_path / "specs.jsonl", create=True)
    store.put_many([make_spec(checkers=[LOWER])])
    failing = get_model("simulated/broken", latency=0.0, error_rate=1.0, memoize=False)
    engine = RewardEngine(rubric_judge=failing, global_judge=failing, max_attempts=1)
    adapters.configure(RewardService(engine, store))
    try:
        worker = reward_loop_worker(
            tokenizer_dir, "pkg://harness.serving.adapters", "compute_score"
        )
        data = rollouts(tokenizer_dir)
        outputs = worker.loop.run_until_complete(worker.compute_score_batch(data))
        assert [o["reward_score"] for o in outputs] == [adapters.UNSCORED_SCORE] * len(data)
        for o in outputs:  # never a silent 0: flagged, with the reason, components NaN
            info = o["reward_extra_info"]
            assert info["unscored"] == 1.0 and info["reason"]
            assert math.isnan(info["rubric"]) and math.isnan(info["global"])

        data.non_tensor_batch["reward_model"] = np.array(
            [{"ground_truth": "no-such-spec"}] * len(data), dtype=object
        )
        with pytest.raises(LookupError, match="no spec in the store for spec id 'no-such-spec'"):
            worker.loop.run_until_complete(worker.compute_score_batch(data))
    finally:
        adapters.configure(None)
