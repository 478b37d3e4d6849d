"""Trainer adapters: each turns its trainer's reward interface into ``RewardItem``s for a
``RewardService`` (in process) or a ``harness serve`` URL, and the rewards back into the shape the
trainer wants. No scoring logic lives here.

- TRL ``GRPOTrainer``: ``trl_reward_funcs(service)`` — async reward functions with TRL's signature
  (the hybrid reward, or one function per component for ``multi_objective_aggregation=
  "normalize_then_sum"``); None where nothing could be scored (TRL leaves it out).
- verl: ``compute_score`` (async) / ``compute_score_sync`` (``reward.custom_reward_function.path=
  pkg://harness.serving.adapters``) and ``compute_score_batch`` (the legacy batch reward manager),
  returning ``{"score", "rubric", "global", "code", "unscored": 0|1, "reason"}``.
- OpenRLHF: ``reward_func(queries, prompts, labels)`` (``--reward.remote_url path/to/file.py``) and
  the ``/openrlhf`` endpoint of ``harness serve`` (``--reward.remote_url http://host:port/openrlhf``).
- slime: ``custom_rm(args, sample)`` (``--custom-rm-path harness.serving.adapters.custom_rm``) and
  the ``/slime`` endpoint (``--rm-type remote_rm --rm-url http://host:port/slime --reward-key score``).

The module-level functions (verl, OpenRLHF, slime load a function by name) use the service that
``configure(service)`` set (``harness.serving.configured``: it holds for copies of this file a
trainer loads by path), else one built from the environment: ``HARNESS_REWARD_URL`` (a running
``harness serve``), else ``HARNESS_SPECS`` with ``HARNESS_GRADER`` (a judge model, or inline YAML;
unset: checkers only) and ``HARNESS_CHECKER_RUNTIME``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from harness.serving.configured import (  # noqa: F401 (configure: adapters.configure(service))
    Scorer,
    configure,
    configured_scorer,
    run_sync,
)
from harness.serving.service import ItemReward, RewardItem

COMPONENT_NAMES = ("rubric", "global", "code")
UNSCORED_SCORE = 0.0
"""What trainers without a 'no reward' value (verl, OpenRLHF, slime) get for an unscored item;
the item is flagged (``unscored`` = 1, with the reason) so it is counted, never silent."""

# end-of-turn markers a decoded query may end with (OpenRLHF keeps special tokens)
_END_MARKERS = (
    "<|im_end|>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<|end_of_text|>",
    "<|end|>",
    "<end_of_turn>",
    "<eos>",
    "</s>",
)


# -- TRL ------------------------------------------------------------------------------------


def completion_text(completion: Any) -> str:
    """A TRL completion as text: a string, or chat messages (the last assistant turn)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion:
        last = completion[-1]
        content = last.get("content") if isinstance(last, Mapping) else None
        if isinstance(content, str):
            return content
        if isinstance(content, list):  # content parts
            return "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
    raise ValueError(f"cannot read a completion of type {type(completion).__name__}")


def _trl_items(
    prompts: Sequence[Any], completions: Sequence[Any], columns: Mapping[str, Any], spec_column: str
) -> list[RewardItem]:
    ids = columns.get(spec_column)
    hashes = columns.get("prompt_hash")
    return [
        RewardItem(
            response=completion_text(completion),
            spec_id=None if ids is None else ids[i],
            prompt_hash=None if hashes is None else hashes[i],
            prompt=prompt,
        )
        for i, (prompt, completion) in enumerate(zip(prompts, completions, strict=True))
    ]


class _StepScores:
    """Rewards of the latest TRL batch, shared by the component functions TRL awaits together
    (one scoring per batch, not one per function)."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer
        self._key: tuple | None = None
        self._task: asyncio.Future[list[ItemReward]] | None = None

    async def get(self, items: list[RewardItem], step: int | None) -> list[ItemReward]:
        key = (step, tuple(items))
        if self._key != key or self._task is None:
            self._key = key
            self._task = asyncio.ensure_future(self.scorer.score(items, step=step))
        return await asyncio.shield(self._task)


def _log(
    rewards: list[ItemReward], log_metric: Callable | None, log_extra: Callable | None
) -> None:
    if log_metric is not None:
        for name in ("reward", *COMPONENT_NAMES):
            values = [
                v
                for r in rewards
                for v in [r.reward if name == "reward" else r.components[name]]
                if v is not None and not math.isnan(v)
            ]
            # every process logs every key (TRL averages them across processes)
            log_metric(f"harness/{name}", sum(values) / len(values) if values else math.nan)
        log_metric("harness/unscored", float(sum(r.reward is None for r in rewards)))
    if log_extra is not None:
        log_extra("harness_reason", [r.reason or "" for r in rewards])


def trl_reward_funcs(
    scorer: Scorer, *, components: bool = False, spec_column: str = "spec_id"
) -> list[Callable[..., Awaitable[list[float | None]]]]:
    """Async reward functions for ``GRPOTrainer(reward_funcs=...)``.

    The spec of each completion is found by the dataset column ``spec_column`` (a spec id), else
    a ``prompt_hash`` column, else the prompt. The global-weight schedule follows
    ``trainer_state.global_step``. ``components=False``: one function, the hybrid reward;
    ``components=True``: ``harness_rubric``, ``harness_global``, ``harness_code``, for
    ``multi_objective_aggregation="normalize_then_sum"`` (weights via ``reward_weights``).
    None = nothing to score for that completion (TRL leaves it out of the mean). Component
    means and unscored counts go to TRL's ``log_metric``; reasons to ``log_extra``.
    """
    shared = _StepScores(scorer)

    def make(name: str) -> Callable[..., Awaitable[list[float | None]]]:
        async def reward(
            prompts: Sequence[Any],
            completions: Sequence[Any],
            completion_ids: Any = None,
            trainer_state: Any = None,
            log_metric: Callable | None = None,
            log_extra: Callable | None = None,
            **columns: Any,
        ) -> list[float | None]:
            step = getattr(trainer_state, "global_step", None)
            rewards = await shared.get(_trl_items(prompts, completions, columns, spec_column), step)
            if name == "reward":
                _log(rewards, log_metric, log_extra)
                return [r.reward for r in rewards]
            if name == COMPONENT_NAMES[0]:  # one of the component functions logs for all
                _log(rewards, log_metric, log_extra)
            return [None if math.isnan(r.components[name]) else r.components[name] for r in rewards]

        reward.__name__ = reward.__qualname__ = f"harness_{name}"
        return reward

    return [make(n) for n in COMPONENT_NAMES] if components else [make("reward")]


def flat(reward: ItemReward) -> dict[str, float | str]:
    """A reward as the flat numbers verl and slime log: ``score`` (UNSCORED_SCORE when
    unscored), the components (NaN when unscored or absent), ``unscored`` 0/1 and ``reason``."""
    return {
        "score": UNSCORED_SCORE if reward.reward is None else reward.reward,
        **reward.components,
        "unscored": float(reward.reward is None),
        "reason": reward.reason or "",
    }


# -- verl -----------------------------------------------------------------------------------


def _verl_item(
    solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None
) -> RewardItem:
    extra = extra_info or {}
    spec_id = extra.get("spec_id")
    if spec_id is None and isinstance(ground_truth, str) and not extra.get("prompt_hash"):
        spec_id = ground_truth  # the dataset's reward_model.ground_truth names the spec
    return RewardItem(
        response=solution_str,
        spec_id=spec_id,
        prompt_hash=extra.get("prompt_hash"),
        prompt=extra.get("prompt"),
    )


async def compute_score(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, float | str]:
    """verl's custom reward function (``reward.custom_reward_function.path=<this file>``,
    ``.name=compute_score``). The spec: ``extra_info["spec_id"]`` / ``["prompt_hash"]`` /
    ``["prompt"]``, else ``ground_truth`` as the spec id. ``extra_info["step"]`` drives the
    global-weight schedule when the reward has one."""
    step = (extra_info or {}).get("step")
    [reward] = await configured_scorer().score(
        [_verl_item(solution_str, ground_truth, extra_info)], step=step
    )
    return flat(reward)


def compute_score_sync(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, float | str]:
    """``compute_score`` for callers without an event loop."""
    return run_sync(compute_score(data_source, solution_str, ground_truth, extra_info, **kwargs))


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[Mapping[str, Any] | None],
    **kwargs: Any,
) -> list[dict[str, float | str]]:
    """verl's batch form (``BatchRewardManager``): one request for the whole batch."""
    items = [
        _verl_item(s, g, e)
        for s, g, e in zip(solution_strs, ground_truths, extra_infos, strict=True)
    ]
    steps = {(e or {}).get("step") for e in extra_infos}
    step = steps.pop() if len(steps) == 1 else None
    return [flat(r) for r in run_sync(configured_scorer().score(items, step=step))]


# -- OpenRLHF -------------------------------------------------------------------------------


def strip_query(query: str, prompt: str) -> str:
    """The response in an OpenRLHF ``query`` (the chat-templated prompt + the response, special
    tokens kept): what follows the prompt, less trailing end-of-turn markers."""
    if query.startswith(prompt):
        response = query[len(prompt) :]
    elif prompt and prompt in query:
        response = query[query.index(prompt) + len(prompt) :]
    else:
        raise ValueError("the query does not contain its prompt: cannot find the response")
    response = response.rstrip()
    stripped = True
    while stripped:
        stripped = False
        for marker in _END_MARKERS:
            if response.endswith(marker):
                response = response[: -len(marker)].rstrip()
                stripped = True
    return response


def openrlhf_items(
    queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any] | None
) -> list[RewardItem]:
    """Items of an OpenRLHF request: the label names the spec (``--data.label_key`` a spec-id
    column); without labels the prompt text finds it."""
    if len(queries) != len(prompts) or (
        labels is not None and len(labels) not in (0, len(queries))
    ):
        raise ValueError(
            f"query, prompts and labels differ in length ({len(queries)}, {len(prompts)}, "
            f"{len(labels or [])})"
        )
    return [
        RewardItem(
            response=strip_query(q, p),
            spec_id=labels[i] if labels else None,
            prompt=None if labels else p,
        )
        for i, (q, p) in enumerate(zip(queries, prompts, strict=True))
    ]


def openrlhf_reply(rewards: Sequence[ItemReward]) -> dict[str, Any]:
    """OpenRLHF's reply: ``rewards`` (the advantage's input), ``scores`` (dynamic filtering),
    ``extra_logs`` (component values, NaN when unscored; ``unscored`` 0/1)."""
    values = [flat(r) for r in rewards]
    logs = {k: [v[k] for v in values] for k in (*COMPONENT_NAMES, "unscored")}
    scores = [v["score"] for v in values]
    return {"rewards": scores, "scores": scores, "extra_logs": logs}


def reward_func(queries: list[str], prompts: list[str], labels: list[Any], **kwargs: Any) -> dict:
    """OpenRLHF's Python reward function (``--reward.remote_url /path/to/adapters.py``)."""
    import torch

    reply = openrlhf_reply(
        run_sync(configured_scorer().score(openrlhf_items(queries, prompts, labels)))
    )
    return {
        "rewards": torch.tensor(reply["rewards"], dtype=torch.float32),
        "scores": torch.tensor(reply["scores"], dtype=torch.float32),
        "extra_logs": {
            k: torch.tensor(v, dtype=torch.float32) for k, v in reply["extra_logs"].items()
        },
    }


# -- slime ----------------------------------------------------------------------------------


def slime_item(prompt: Any, response: str, label: Any) -> RewardItem:
    """An item of a slime sample: the label names the spec, else the prompt finds it."""
    if label:
        return RewardItem(response=response, spec_id=str(label))
    return RewardItem(response=response, prompt=prompt)


async def custom_rm(args: Any, sample: Any, **kwargs: Any) -> dict[str, float | str]:
    """slime's custom reward (``--custom-rm-path harness.serving.adapters.custom_rm
    --reward-key score``): the spec from ``sample.label``, else ``sample.prompt``."""
    item = slime_item(sample.prompt, sample.response, getattr(sample, "label", None))
    [reward] = await configured_scorer().score([item])
    return flat(reward)
