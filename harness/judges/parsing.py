"""Parsing judge replies: JSON extraction and verdict normalisation."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from harness.judges.calling import JudgeReplyError
from harness.spec import VerdictScale

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
