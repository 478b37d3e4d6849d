"""Calling a judge model: its settings, bounded retries, failure classification, token accounting.

Settings. A call passes the protocol's and the task's settings (ours default to temperature 0),
except where the role's own model sets a value — ``--model-role 'grader={model: ..., temperature:
0.6, max_tokens: 4096, reasoning_effort: low}'``: Inspect merges what a call passes over the
model's own config, so passing ours would silently override the user. A default the provider
refuses is never sent (Inspect's ``hf/`` provider rejects temperature 0 while sampling).

Replies. Every output ends as a parsed value or a failure with its reason: an error field, no
choices, a refusal, no answer text (reasoning only, tool calls, nothing), a truncated reply
(``stop_reason`` max_tokens / model_length, or — ``hf/`` reports no stop reason — as many output
tokens as the limit), a malformed one, or one that copies the prompt's template or example reply.
Those are retried with a short correction turn, up to ``max_attempts`` calls. An exception from
the model API ends the attempts at once when its provider retries it itself (rate limits, 5xx,
timeouts: Inspect's own retries are spent) or when the request is refused (HTTP 4xx); any other
exception (a response the provider could not read) counts as one failed attempt. Calls wait
for the model's requests/tokens-per-minute budget when one is set (``rate_limits``). Only the
sample's own limits (tokens, time) propagate: a judge reply never aborts an eval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageUser,
    ContentReasoning,
    ContentText,
    GenerateConfig,
    Model,
    ModelName,
    ModelOutput,
    ModelRefusalError,
)
from inspect_ai.util import LimitExceededError
from pydantic import BaseModel
from tenacity import RetryError

from harness.judges import rate_limits
from harness.judges.parsing import JudgeReplyError, ReplyTemplate, one_line

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "JudgeReply",
    "JudgeReplyError",
    "TokenUsage",
    "ask_judge",
    "judge_generate_config",
    "summarise",
]

T = TypeVar("T")

DEFAULT_MAX_ATTEMPTS = 3
TRUNCATED_STOP_REASONS = ("max_tokens", "model_length")

logger = logging.getLogger(__name__)


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


# -- settings -------------------------------------------------------------------------------

_warned: set[str] = set()


def provider_of(model: Model) -> str:
    """The model's provider as Inspect names it (``hf``, ``openai``, ``openai-api``, ...)."""
    return ModelName(model).api


def refused_settings(provider: str, config: GenerateConfig) -> list[str]:
    """The settings of ``config`` that ``provider`` rejects outright."""
    if provider == "hf" and config.temperature is not None and config.temperature <= 0:
        # transformers raises for temperature 0 while sampling (and ignores it otherwise);
        # greedy decoding is the model argument do_sample=false
        return ["temperature"]
    return []


def _refused_by_provider(model: Model, config: GenerateConfig) -> list[str]:
    refused = refused_settings(provider_of(model), config)
    if "temperature" in refused and getattr(model.api, "do_sample", False):
        if str(model) not in _warned:
            _warned.add(str(model))
            logger.warning(
                "judge %s samples (hf/ rejects temperature 0 while sampling): for greedy judging "
                "bind the role as '{model: %s, model_args: {do_sample: false}}'",
                model,
                model,
            )
    return refused


_PASSED: dict[
    tuple[int, int, int], tuple[Model, GenerateConfig, GenerateConfig, GenerateConfig]
] = {}


def judge_generate_config(model: Model, config: GenerateConfig | None = None) -> GenerateConfig:
    """What a judge call passes to ``model.generate``: ``config`` less what the role's model
    sets itself (so the user's per-role settings win) and less what its provider rejects.
    Worked out once per (model, its settings, config); the result is shared, read-only."""
    config = config or GenerateConfig()
    key = (id(model), id(model.config), id(config))
    known = _PASSED.get(key)  # holds its objects, so their ids stay theirs
    if known is not None:
        return known[3]
    # shallow: only top-level fields are cleared on the copy (a deep copy of a response schema
    # per call was most of the harness's CPU per judge call)
    passed = config.model_copy()
    own = [k for k, v in model.config if v is not None]
    for name in [*own, *_refused_by_provider(model, passed)]:
        setattr(passed, name, None)
    if len(_PASSED) >= 4096:
        _PASSED.clear()
    _PASSED[key] = (model, model.config, config, passed)
    return passed


def effective_config(model: Model, config: GenerateConfig | None = None) -> GenerateConfig:
    """The settings a judge call runs with: the role model's own, then what the call passes."""
    return model.config.merge(judge_generate_config(model, config))


class _Limit:
    """The output-token limit of a call, worked out only when a reply needs it (truncation)."""

    def __init__(self, model: Model, passed: GenerateConfig) -> None:
        self.model, self.passed = model, passed
        self.known = False
        self.value: int | None = None

    def __call__(self) -> int | None:
        if not self.known:
            self.value = _max_tokens(self.model, self.model.config.merge(self.passed))
            self.known = True
        return self.value


def _max_tokens(model: Model, config: GenerateConfig) -> int | None:
    """The output-token limit a call runs under (the provider's default when none is set)."""
    if config.max_tokens is not None:
        return config.max_tokens
    try:
        return model.api.max_tokens_for_config(config) or model.api.max_tokens()
    except Exception:  # a provider without a knowable default
        return None


# -- classifying outputs ----------------------------------------------------------------------


def _truncation(output: ModelOutput, limit: Callable[[], int | None]) -> str | None:
    """Why the reply looks cut off (None when it does not)."""
    stop = output.choices[0].stop_reason
    if stop in TRUNCATED_STOP_REASONS:
        return f"stop_reason={stop}"
    used = output.usage.output_tokens if output.usage is not None else None
    if stop == "unknown" and used is not None:
        cap = limit()
        if cap and used >= cap:
            return f"{used} output tokens, the max_tokens limit"  # hf/ reports no stop reason
    return None


def _output_problem(output: ModelOutput, limit: Callable[[], int | None]) -> str | None:
    """What makes an output unusable before its text is parsed (None when it has text)."""
    if output.error:
        return f"judge error: {one_line(output.error)[:300]}"
    if output.empty:
        return "empty judge output (no choices)"
    choice = output.choices[0]
    content = choice.message.content
    parts = content if isinstance(content, list) else []
    refusals = [p.text for p in parts if isinstance(p, ContentText) and p.refusal]
    if choice.stop_reason == "content_filter" or refusals:
        said = one_line(" ".join(refusals) or output.completion)[:120]
        return "judge refused" + (f": {said}" if said else " (content filter)")
    if output.completion.strip():
        return None
    truncated = _truncation(output, limit)
    if truncated:
        return f"truncated judge output: no answer text ({truncated})"
    if any(isinstance(p, ContentReasoning) for p in parts):
        return f"judge output has reasoning but no answer text (stop_reason={choice.stop_reason})"
    if choice.message.tool_calls:
        return "judge called tools instead of answering"
    return f"empty judge output (stop_reason={choice.stop_reason})"


def _reply_problem(
    output: ModelOutput,
    parse: Callable[[str], T],
    template: ReplyTemplate | None,
    limit: Callable[[], int | None],
) -> tuple[T | None, str | None]:
    """(parsed value, None), or (None, why the reply's text cannot be used)."""
    text = output.completion
    copied = template.copied(text) if template is not None else None
    if copied:
        return None, f"malformed judge output: {copied}"
    try:
        return parse(text), None
    except JudgeReplyError as ex:
        detail = str(ex)
    except Exception as ex:  # a parser meeting a shape it did not expect: still the reply's fault
        detail = f"{type(ex).__name__}: {ex}"
    truncated = _truncation(output, limit)
    if truncated:
        return None, f"truncated judge output ({truncated}): {detail}"
    return None, f"malformed judge output: {detail}"


def _call_failure(model: Model, ex: Exception) -> tuple[str, bool]:
    """(why a call raised, whether to stop trying: Inspect already retried it, or the request
    itself is refused — an HTTP 4xx other than a timeout or rate limit)."""
    if isinstance(ex, RetryError):  # Inspect's retries ran out
        cause: BaseException = ex.last_attempt.exception() or ex
        stop = True
    else:
        cause = ex
        try:
            stop = bool(model.api.should_retry(ex))
        except Exception:
            stop = False
    status = getattr(cause, "status_code", None)
    message = getattr(cause, "provider_message", None)  # Inspect's ModelGenerateError
    if isinstance(status, int) and 400 <= status < 500 and status not in (408, 409, 429):
        stop = True
    if isinstance(status, int) and message:
        detail = f"HTTP {status}: {one_line(message)}"
    else:
        detail = f"{type(cause).__name__}: {one_line(cause)}"
    return f"judge call failed: {detail[:300]}", stop


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
    template: ReplyTemplate | None = None,
) -> JudgeReply[T]:
    """Ask ``model`` until ``parse`` accepts a reply, at most ``max_attempts`` calls.

    ``template``: the placeholders and example replies the prompt shows; a reply that copies
    one is malformed. Never raises for anything the judge or its provider returns.
    """
    usage = TokenUsage()
    problems: list[str] = []
    conversation = list(messages)
    raw = ""
    passed = judge_generate_config(model, config)
    limit = _Limit(model, passed)
    for attempt in range(1, max_attempts + 1):
        taken = await rate_limits.before_call(model, conversation)
        try:
            output = await model.generate(conversation, config=passed)
        except LimitExceededError:
            raise  # the sample's own token/time limit: Inspect ends the sample
        except ModelRefusalError as ex:  # raised instead of returned under fail_on_refusal
            problems.append(f"judge refused: {one_line(ex)[:120]}")
            continue
        except Exception as ex:
            problem, stop = _call_failure(model, ex)
            problems.append(problem)
            if stop:
                return JudgeReply(None, usage, attempt, raw, summarise(problems))
            continue
        rate_limits.after_call(model, taken, output)
        usage.add_output(output)
        raw = output.completion
        problem = _output_problem(output, limit)
        if problem is None:
            value, problem = _reply_problem(output, parse, template, limit)
            if problem is None:
                return JudgeReply(value, usage, attempt, raw)
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
