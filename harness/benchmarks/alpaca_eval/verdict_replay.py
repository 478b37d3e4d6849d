"""The published AlpacaEval verdicts as an Inspect model: ``alpaca_verdicts/<model>``.

``--model-role grader=alpaca_verdicts/alpaca-7b`` binds a judge that answers the official
annotator prompt (``judge.judge_messages``) with what the leaderboard annotator
(``weighted_alpaca_eval_gpt4_turbo``) published for that pair
(``results/<model>/weighted_alpaca_eval_gpt4_turbo/annotations.json``): one token with top
logprobs for ``m`` / ``M`` from which ``judge.parse_verdict`` (the port of
``alpaca_eval.completion_parsers.logprob_parser``) computes the published ``preference``:
exactly for about 95% of the pairs, one ulp (2.2e-16) away for the rest (below), which leaves the
win rate and standard error of alpaca-7b and alpaca-farm-ppo-human bit for bit those of
``get_winrate`` on the published preferences. The scorer runs unchanged: the seeded order switch, the parser and the un-switching
(``RandomSwitchTwoColumnsProcessor.postprocess``: ``3 - x``) are all exercised, so the task's
win rate is the leaderboard's when the policy replays the same model's published outputs.

A prompt is answered only when it is the official prompt for an annotated pair, the
instruction and both outputs exactly the annotation's (``output_1`` the baseline's,
``output_2`` the model's, shown in either order; the published preference is in that frame and
is converted to the prompt's order). Anything else (another instruction, other outputs, another
judge prompt such as the hybrid reward's) gets a reply that says why and that no judge parser
accepts, so the item is unscored with that reason: a verdict is never made up.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    Logprob,
    Logprobs,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    TopLogprob,
    modelapi,
)

from harness.benchmarks.alpaca_eval.dataset import load_annotations
from harness.benchmarks.alpaca_eval.judge import FIRST, SECOND, judge_messages, parse_verdict
from harness.data import DataError
from harness.replay import OfflineModelAPI

PROVIDER = "alpaca_verdicts"
ULP_TOLERANCE = 1
"""How far (in ulps of the preference) a replayed verdict may parse from the published one."""
REPLY_PREFIX = f"{PROVIDER}: "
"""Unanswerable prompts get a reply starting with this (not ``m`` / ``M``: unparseable)."""
_INSTRUCTION = re.compile(r'"instruction": """(.*?)""",\n}\n\n## Model Outputs', re.DOTALL)


@dataclass(frozen=True)
class _Entry:
    preference: float
    """The published preference (1 = output_1, the baseline, wins; 2 = output_2, the model)."""
    reversed: bool
    """True when the prompt shows the annotation's output_2 first (as ``m``)."""

    @property
    def prompt_order(self) -> float:
        """The preference in the prompt's order (1: ``m`` wins)."""
        return 3 - self.preference if self.reversed else self.preference


def _final_preference(lp_first: float | None, lp_second: float | None, reversed: bool) -> float:
    """What ``judge.parse_verdict`` and ``judge_pair`` make of these top logprobs (model frame).

    Mirrors ``parse_verdict``'s arithmetic (``logprob_parser``); ``verdict_output`` checks its
    result with the real parser."""
    lp1 = -math.inf if lp_first is None else lp_first
    lp2 = -math.inf if lp_second is None else lp_second
    top = max(lp1, lp2)
    denominator = top + math.log(math.exp(lp1 - top) + math.exp(lp2 - top))
    prompt_order = 2 - math.exp(lp1 - denominator)
    return 3 - prompt_order if reversed else prompt_order


def _output(content: str, top: dict[str, float] | None, stop: str) -> ModelOutput:
    logprobs = None
    if top:
        token = max(top, key=lambda t: top[t])
        logprobs = Logprobs(
            content=[
                Logprob(
                    token=token,
                    logprob=top[token],
                    top_logprobs=[
                        TopLogprob(token=t, logprob=lp)
                        for t, lp in sorted(top.items(), key=lambda kv: -kv[1])
                    ],
                )
            ]
        )
    output = ModelOutput(
        model=PROVIDER,
        choices=[
            ChatCompletionChoice(
                message=ChatMessageAssistant(content=content, model=PROVIDER),
                stop_reason=stop,  # type: ignore[arg-type]
                logprobs=logprobs,
            )
        ],
    )
    output.usage = ModelUsage(input_tokens=0, output_tokens=0, total_tokens=0)  # none generated
    return output


# Logprob levels of the likelier identifier to try, one per binade: the parser's sums round at
# the level's binade, so a result one level cannot reach another one may reach.
_LEVELS = (0.0, *(-(2.0**e) * 1.3 for e in range(-8, 6)))


def _exact_top(preference: float, p_first: float, reversed: bool) -> dict[str, float]:
    """Top logprobs of m and M that the parser turns into ``preference``: exactly when any do,
    else the closest (one ulp off: see ``verdict_output``)."""
    likelier, other = (FIRST, SECOND) if p_first >= 0.5 else (SECOND, FIRST)

    def final(level: float, lp_other: float) -> float:
        lps = {likelier: level, other: lp_other}
        return _final_preference(lps[FIRST], lps[SECOND], reversed)

    best: tuple[float, dict[str, float]] | None = None
    p_other = min(p_first, 1 - p_first)
    for level in _LEVELS:
        # the parser's result moves monotonically with the less likely identifier's logprob
        lo, hi = level - 745.0, level
        rising = final(level, hi) > final(level, lo)
        lp_other = level + math.log(p_other) - math.log1p(-p_other)
        for _ in range(2000):
            got = final(level, lp_other)
            if got == preference:
                return {likelier: level, other: lp_other}
            if (got < preference) == rising:
                lo = lp_other
            else:
                hi = lp_other
            mid = lo + (hi - lo) / 2
            if mid in (lo, hi):
                break
            lp_other = mid
        # the closest results straddle it: try the neighbouring sums 1 + exp(d) (half-ulp steps)
        step = 2.0**-53 / max(math.exp(lp_other - level), 2.0**-1000)
        for j in sorted(range(-16, 17), key=abs):
            candidate = min(lp_other + j * step, level)
            got = final(level, candidate)
            if got == preference:
                return {likelier: level, other: candidate}
            if best is None or abs(got - preference) < best[0]:
                best = (abs(got - preference), {likelier: level, other: candidate})
    assert best is not None
    return best[1]


def verdict_output(preference: float, reversed: bool = False) -> ModelOutput:
    """A one-token reply whose top logprobs make ``parse_verdict`` (un-switched by ``judge_pair``
    when ``reversed``) give exactly ``preference`` (model frame: 1 baseline wins, 2 model wins).

    P(m) is ``2 - x`` in prompt order (``x = 3 - preference`` when reversed); the less likely
    identifier's logprob is found by bisection (at several levels of the likelier one) so that
    the parser's floating-point arithmetic lands on the published value bit for bit. When ``m``
    is the likelier, the parser's sum ``1 + P(M)/P(m)`` lies on a 2^-52 grid and some values
    ``2 - P(m)`` in (1, 1.5) are out of its reach: then the reply parses to the nearest value,
    one ulp away (checked here: never further than ``ULP_TOLERANCE``); 32 of alpaca-7b's 802
    judged pairs, 41 of alpaca-farm-ppo-human's.
    """
    if not 1 <= preference <= 2:
        raise ValueError(f"an AlpacaEval preference is in [1, 2], got {preference!r}")
    p_first = (preference - 1) if reversed else (2 - preference)
    if p_first <= 0 or p_first >= 1:  # a certain verdict: only one identifier in the top logprobs
        top = {SECOND: 0.0} if p_first <= 0 else {FIRST: 0.0}
    else:
        top = _exact_top(preference, p_first, reversed)
    output = _output(max(top, key=lambda t: top[t]), top, "max_tokens")
    parsed = parse_verdict(output.completion, output).preference  # the real parser's reading
    got = 3 - parsed if reversed else parsed
    if abs(got - preference) > ULP_TOLERANCE * math.ulp(preference):
        raise AssertionError(f"verdict_output({preference!r}, {reversed}) parses as {got!r}")
    return output


def refusal_output(reason: str) -> ModelOutput:
    """A reply no judge parser accepts, saying why there is no published verdict."""
    return _output(REPLY_PREFIX + reason, None, "stop")


class AlpacaVerdictsAPI(OfflineModelAPI):
    """Answers the official annotator prompt with a published annotation (see the module doc)."""

    provider = PROVIDER

    def setup(self, **model_args: Any) -> None:
        super().setup(**model_args)
        model_name = self.model_name
        self.annotations = load_annotations(model_name)
        self.by_prompt: dict[tuple[str, str], _Entry] = {}
        self.instructions: set[str] = set()
        for i, item in enumerate(self.annotations):
            preference = item["preference"]
            if not isinstance(preference, (int, float)) or not 1 <= preference <= 2:
                raise DataError(
                    f"{PROVIDER}/{model_name}: annotation {i} has preference {preference!r}, "
                    "not a number in [1, 2]"
                )
            instruction = item["instruction"]
            self.instructions.add(instruction)
            for reversed, (out_1, out_2) in (
                (False, (item["output_1"], item["output_2"])),
                (True, (item["output_2"], item["output_1"])),
            ):
                key = _key(judge_messages(instruction, str(out_1), str(out_2)))
                before = self.by_prompt.get(key)
                entry = _Entry(float(preference), reversed)
                if before is not None:
                    if before.prompt_order == entry.prompt_order:
                        continue  # the same verdict (identical outputs: a draw either way)
                    raise DataError(
                        f"{PROVIDER}/{model_name}: annotation {i} repeats a pair with another "
                        "preference"
                    )
                self.by_prompt[key] = entry

    def answer(self, input: list[ChatMessage]) -> ModelOutput:
        """The published verdict for an annotator prompt, or a refusal saying why there is none."""
        system = next((m.text for m in input if m.role == "system"), "")
        user = next((m.text for m in input if m.role == "user"), "")
        entry = self.by_prompt.get((system, user))
        if entry is not None:
            return verdict_output(entry.preference, entry.reversed)
        found = _INSTRUCTION.search(user)
        if found is None:
            return refusal_output("not the AlpacaEval annotator prompt")
        if found.group(1) not in self.instructions:
            return refusal_output("no published verdict for this instruction")
        return refusal_output("outputs differ from the published annotation's")


def _key(messages: list[ChatMessage]) -> tuple[str, str]:
    system, user = messages
    return system.text, user.text


@modelapi(name=PROVIDER)
def alpaca_verdicts() -> type[ModelAPI]:
    """The ``alpaca_verdicts/<model>`` model provider (published AlpacaEval verdicts)."""
    return AlpacaVerdictsAPI
