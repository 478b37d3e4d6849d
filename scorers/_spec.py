"""Where a sample's reward spec lives: sample metadata, and how benchmark tasks fill it."""

from __future__ import annotations

import functools
from typing import Any

from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageSystem, ChatMessageUser
from inspect_ai.solver import TaskState

from harness.data import DataError
from harness.spec import NATIVE_SPEC_KEY, SPEC_KEY, Prompt, RewardSpec
from harness.store_index import IndexedSpecStore


def chat_messages(prompt: Prompt) -> str | list[ChatMessage]:
    """A spec's prompt as Inspect sample input."""
    if isinstance(prompt, str):
        return prompt
    kinds = {
        "system": ChatMessageSystem,
        "user": ChatMessageUser,
        "assistant": ChatMessageAssistant,
    }
    return [kinds[m.role](content=m.content) for m in prompt]


@functools.lru_cache(maxsize=8)
def _store(path: str) -> IndexedSpecStore:
    return IndexedSpecStore(path)


def spec_metadata(native: RewardSpec, specs: str | None = None) -> dict[str, Any]:
    """Sample metadata of a benchmark task: its native spec, and the spec the hybrid reward uses —
    the native one, or the spec built for the same prompt in the store ``specs`` (so native and
    generated specs can be compared on the same responses)."""
    chosen = native
    if specs:
        chosen = _store(specs).get_by_prompt_hash(native.prompt_hash)
        if chosen is None:
            raise DataError(
                f"{specs} has no spec for prompt {native.prompt_id} (build one with `harness spec build`)"
            )
    return {
        SPEC_KEY: chosen.model_dump(mode="json"),
        NATIVE_SPEC_KEY: native.model_dump(mode="json"),
    }


def native_spec_of(state: TaskState) -> RewardSpec:
    """The benchmark's own spec of a sample (what official metrics use)."""
    data = (state.metadata or {}).get(NATIVE_SPEC_KEY)
    return spec_of(state) if data is None else RewardSpec.model_validate(data)


def spec_of(state: TaskState) -> RewardSpec:
    data = (state.metadata or {}).get(SPEC_KEY)
    if data is None:
        raise ValueError(f"sample {state.sample_id} has no '{SPEC_KEY}' in its metadata")
    return data if isinstance(data, RewardSpec) else RewardSpec.model_validate(data)
