"""Parsing judge replies: JSON extraction, verdict normalisation, replies that copy the prompt."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from harness.spec import VerdictScale


class JudgeReplyError(ValueError):
    """A judge reply that cannot be used (raised by parsers)."""


_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


def extract_json(text: str) -> Any:
    """The JSON value in a reply: bare, inside a ``` fence, or the outermost {...} span."""
    candidates = [text.strip()]
    candidates += [m.group(1).strip() for m in _FENCE.finditer(text)]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    snippet = text.strip().replace("\n", " ")
    raise JudgeReplyError(f"no JSON object found in: {snippet[:160]!r}")


_YES = {"yes", "y", "true", "met", "pass", "fully met"}
_NO = {"no", "n", "false", "not met", "unmet", "fail"}
_PARTIAL = {"partial", "partially", "partly", "partially met", "somewhat"}


def normalise_verdict(raw: Any, scale: VerdictScale) -> tuple[str, float]:
    """(canonical verdict, value in [0, 1]) for a judge's verdict on a given scale."""
    if scale == "one_to_ten":
        score = parse_number(raw, "score")
        if score != int(score) or not 1 <= score <= 10:
            raise JudgeReplyError(f"score must be an integer from 1 to 10, got {raw!r}")
        return str(int(score)), (score - 1) / 9
    if isinstance(raw, bool):
        word = "yes" if raw else "no"
    elif isinstance(raw, str):
        word = raw.strip().lower()
    else:
        raise JudgeReplyError(f"verdict must be a string, got {raw!r}")
    if word in _YES:
        return "yes", 1.0
    if word in _NO:
        return "no", 0.0
    if word in _PARTIAL and scale == "yes_partial_no":
        return "partial", 0.5
    allowed = "yes/partial/no" if scale == "yes_partial_no" else "yes/no"
    raise JudgeReplyError(f"verdict must be {allowed}, got {raw!r}")


def parse_number(raw: Any, name: str) -> float:
    if isinstance(raw, bool):
        raise JudgeReplyError(f"{name} must be a number, got {raw!r}")
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            raise JudgeReplyError(f"{name} must be a number, got {raw!r}") from None
    else:
        raise JudgeReplyError(f"{name} must be a number, got {raw!r}")
    if not math.isfinite(value):
        raise JudgeReplyError(f"{name} must be finite, got {raw!r}")
    return value


def one_line(text: Any) -> str:
    return " ".join(str(text or "").split())


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _quoted_in(needle: str, material: list[str]) -> bool:
    return any(needle in m for m in material)


def _canonical(value: Any) -> Any:
    """A JSON value with its strings normalised (case, whitespace), to compare replies."""
    if isinstance(value, str):
        return _norm(value)
    if isinstance(value, dict):
        return {_norm(str(k)): _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


@dataclass(frozen=True)
class ReplyTemplate:
    """What a judge prompt shows as the form of a reply: a real judgment never copies it.

    ``placeholders``: text that stands for the judge's own words in the prompt's output format
    (``"<one line>"``, an example's reason); a reply containing one copied the prompt instead
    of judging. ``examples``: whole example replies the prompt shows (JSON values, or text); a
    reply equal to one is the example, not a judgment. Compared ignoring case and whitespace.
    """

    placeholders: tuple[str, ...] = ()
    examples: tuple[Any, ...] = ()

    def without(self, *texts: str) -> ReplyTemplate:
        """This template less what ``texts`` (the conversation, the judged response) contain:
        a judge may quote the material it judges."""
        material = [_norm(t) for t in texts]
        return ReplyTemplate(
            placeholders=tuple(p for p in self.placeholders if not _quoted_in(_norm(p), material)),
            examples=tuple(
                e
                for e in self.examples
                if not (isinstance(e, str) and any(_norm(e) in m for m in material))
            ),
        )

    def copied(self, reply: str) -> str | None:
        """Why ``reply`` is a copy of the prompt's template or example (None when it is not)."""
        text = _norm(reply)
        for placeholder in self.placeholders:
            if _norm(placeholder) in text:
                return f"the reply copies the prompt's placeholder {placeholder!r}"
        if not self.examples:
            return None
        try:
            data = _canonical(extract_json(reply))
        except JudgeReplyError:
            data = None
        for example in self.examples:
            if isinstance(example, str) and _norm(example) == text:
                return "the reply is the prompt's example reply"
            if not isinstance(example, str) and data is not None and data == _canonical(example):
                return "the reply is the prompt's example reply"
        return None
