"""Calling a judge model: bounded retries, failure classification, token accounting.

A judge reply that is empty, refused, truncated or malformed is retried (with a short
correction turn) up to ``max_attempts`` times; after that the caller gets a failure with
every attempt's reason, never a made-up verdict. Errors raised by the model API itself
(after Inspect's own retries) end the attempts at once and are reported the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageUser,
    GenerateConfig,
    Model,
    ModelOutput,
)
from pydantic import BaseModel

T = TypeVar("T")

DEFAULT_MAX_ATTEMPTS = 3


class JudgeReplyError(ValueError):
    """A judge reply that cannot be used (raised by parsers)."""


class TokenUsage(BaseModel):
    """Judge tokens spent for one component of one scored response."""

    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    cached: bool = False
    """True when the judgment came from the judgment cache (no tokens spent now)."""

    def add_output(self, output: ModelOutput) -> None:
        self.calls += 1
        if output.usage is not None:
            u = output.usage
            self.input_tokens += (
                u.input_tokens
                + (u.input_tokens_cache_read or 0)
                + (u.input_tokens_cache_write or 0)
            )
            self.output_tokens += u.output_tokens

    def add(self, other: TokenUsage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.calls += other.calls


@dataclass
class JudgeReply(Generic[T]):
    """The outcome of one judge request: a parsed value, or the reason there is none."""

    value: T | None
    usage: TokenUsage
    attempts: int
    raw: str
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def _problem(output: ModelOutput) -> str | None:
    if output.error:
        return f"judge error: {output.error}"
    if output.stop_reason == "content_filter":
        return "judge refused (content filter)"
    if not output.completion.strip():
        return f"empty judge output (stop_reason={output.stop_reason})"
    return None


def summarise(problems: list[str]) -> str:
    """One reason for a failed request: the problem once if every attempt hit the same one."""
    if len(set(problems)) == 1:
        return f"{problems[0]} ({len(problems)} attempt{'s' if len(problems) > 1 else ''})"
    return "; ".join(f"attempt {i}: {p}" for i, p in enumerate(problems, start=1))


async def ask_judge(
    model: Model,
    messages: list[ChatMessage],
    parse: Callable[[str], T],
    *,
    config: GenerateConfig | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> JudgeReply[T]:
    usage = TokenUsage()
    problems: list[str] = []
    conversation = list(messages)
    raw = ""
    for attempt in range(1, max_attempts + 1):
        try:
            output = await model.generate(conversation, config=config or GenerateConfig())
        except Exception as ex:  # the provider's own retries are exhausted
            problems.append(f"judge call failed: {type(ex).__name__}: {ex}")
            return JudgeReply(None, usage, attempt, raw, summarise(problems))
        usage.add_output(output)
        raw = output.completion
        problem = _problem(output)
        if problem is None:
            try:
                return JudgeReply(parse(raw), usage, attempt, raw)
            except JudgeReplyError as ex:
                truncated = output.stop_reason in ("max_tokens", "model_length")
                problem = f"{'truncated' if truncated else 'malformed'} judge output: {ex}"
        problems.append(problem)
        if attempt < max_attempts:
            # Correct in-conversation: a deterministic judge would repeat itself otherwise.
            conversation = [
                *messages,
                ChatMessageAssistant(content=raw or "(empty)"),
                ChatMessageUser(
                    content=f"That reply could not be used ({problem}). "
                    "Answer again, following the required output format exactly."
                ),
            ]
    return JudgeReply(None, usage, max_attempts, raw, summarise(problems))
