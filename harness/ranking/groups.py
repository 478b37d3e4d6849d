"""Comparison groups: what a ranking benchmark asks a reward to order.

A group is one prompt with responses known to be better (``chosen``) and worse (``rejected``).
A pairwise benchmark has one of each; best-of-N (RewardBench 2) one chosen and several
rejected; RM-Bench three style variants of each (concise, detailed, detailed with markdown).
Responses are scored pointwise, once each (``Response.key`` identifies a response across
groups), and accuracies come from comparing the scores within each group.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Response:
    """One response of a group. ``key`` is the same for the same text to the same prompt, so a
    response that appears in several groups is scored once."""

    text: str
    key: str


def response_key(prompt: str, text: str) -> str:
    blob = f"{len(prompt)}:{prompt}{text}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(blob).hexdigest()[:24]


@dataclass(frozen=True)
class Comparison:
    """One comparison group of a ranking dataset."""

    id: str
    prompt: str
    chosen: tuple[Response, ...]
    rejected: tuple[Response, ...]
    subset: str
    """The dataset's own grouping (RM-Bench domain, JudgeBench source, LLMBar set, ...)."""
    dataset: str
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def responses(self) -> tuple[Response, ...]:
        return self.chosen + self.rejected


def comparison(
    dataset: str,
    id: str,
    prompt: str,
    chosen: list[str],
    rejected: list[str],
    subset: str,
    **metadata: Any,
) -> Comparison:
    """A group from texts (keys derived from prompt and text)."""

    def responses(texts: list[str]) -> tuple[Response, ...]:
        return tuple(Response(t, response_key(prompt, t)) for t in texts)

    return Comparison(
        id=id,
        prompt=prompt,
        chosen=responses(chosen),
        rejected=responses(rejected),
        subset=subset,
        dataset=dataset,
        metadata=metadata,
    )
