"""Markdown report of one RewardResult, shown as the score explanation in `inspect view`.

Layout rules, from looking at the Scoring tab in a browser (scripts/viewer_screenshots.py):
the explanation column is ~650 px wide at a 1280 px window, its tables wrap any cell at any
character (``overflow-wrap: anywhere``) and raw HTML is shown as text. So tables hold only
short cells (ids, weights, verdicts), and long text (criteria, reasons, checker messages) goes
in lists below them, where it wraps at word boundaries.
"""

from __future__ import annotations

import math
import re

from harness.scoring import CheckRecord, ComponentResult, CriterionRecord, RewardResult

VERDICTS_HEADING = "Verdicts (**bold**: not met, or a pitfall met):"
CRITERIA_HEADING = "Criteria and the judge's reasons:"
CHECKS_HEADING = "Checks:"
# Tables have one cell per row item: cells have ~1 px of padding, so separate short columns
# would run together ("absent0.000").
COMPONENT_COLUMNS = "component · value · weight"
VERDICT_COLUMNS = "id · weight · verdict"


def _cell(text: object) -> str:
    """One line of text, safe in a table cell or a list item (a trailing backslash would
    otherwise escape what follows it)."""
    return " ".join(str(text).split()).replace("\\", "\\\\").replace("|", "\\|")


def _code(text: str, limit: int = 300) -> str:
    """A code span of the first ``limit`` characters (delimited by more backticks than it holds)."""
    body = " ".join(text.split())[:limit]
    longest = max((len(run) for run in re.findall("`+", body)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def _value(c: ComponentResult) -> str:
    if c.status == "scored" and c.value is not None:
        return f"{c.value:.3f}"
    return f"**{c.status}**"


def _heading_value(c: ComponentResult) -> str:
    return _value(c) + (f" — {_cell(c.reason)}" if c.status != "scored" and c.reason else "")


def _usage(c: ComponentResult) -> str:
    if c.usage.cached:
        return " (cached judgment)"
    if c.usage.calls:
        return f" ({c.usage.calls} call(s), {c.usage.input_tokens} in / {c.usage.output_tokens} out tokens)"
    return ""


def _provenance(c: ComponentResult) -> list[str]:
    named = (("judge", c.judge), ("protocol", c.protocol))
    parts = [f"{label} {_code(value)}" for label, value in named if value]
    return [" · ".join(parts)] if parts else []


def _weight(w: float) -> str:
    return f"{w:.3g}"


def _criterion_weight(cr: CriterionRecord) -> str:
    """The weight, or "audit" for a criterion a checker verifies (judged, not scored)."""
    return "audit" if cr.covered_by else _weight(cr.weight)


def _lost(cr: CriterionRecord) -> bool:
    """A positive criterion judged fully unmet, or a pitfall (negative weight) met at all."""
    return cr.value > 0 if cr.weight < 0 else cr.value <= 0


def _verdict(cr: CriterionRecord) -> str:
    text = _cell(cr.verdict)
    return f"**{text}**" if _lost(cr) else text


def _verdict_table(criteria: list[CriterionRecord]) -> list[str]:
    """ "id · weight · verdict" per criterion, in up to three side-by-side groups (read down, then
    across), so a 40-criterion rubric takes 14 short rows."""
    n = len(criteria)
    groups = 1 if n <= 10 else 2 if n <= 20 else 3
    rows = math.ceil(n / groups)
    columns = [criteria[g * rows : (g + 1) * rows] for g in range(groups)]

    def row(cells: list[str]) -> str:
        return "| " + " | ".join(("‖ " if g and c else "") + c for g, c in enumerate(cells)) + " |"

    lines = [row([VERDICT_COLUMNS] * groups), "|" + "---|" * groups]
    for i in range(rows):
        cells = [
            f"{_cell(c[i].id)} · {_criterion_weight(c[i])} · {_verdict(c[i])}" if i < len(c) else ""
            for c in columns
        ]
        lines.append(row(cells))
    return lines


def _criterion_item(cr: CriterionRecord) -> list[str]:
    lines = [f"- **{_cell(cr.id)}** · {_criterion_weight(cr)} · {_verdict(cr)} — {_cell(cr.text)}"]
    if cr.covered_by:
        lines[0] += f" (verified by checker {_code(cr.covered_by)}; judged for audit, not scored)"
    if cr.reason.strip():
        lines[0] += "\\"  # a hard line break: the reason starts a line of the same item
        lines.append(f"  _reason:_ {_cell(cr.reason)}")
    return lines


def _check_item(ch: CheckRecord) -> list[str]:
    result = ch.status if ch.status == "pass" else f"**{ch.status}**"
    if ch.status == "error" and ch.error_kind:
        result += f" ({_cell(ch.error_kind)})"
    lines = [f"- **{_cell(ch.id)}** · {result} — {_cell(ch.constraint)}"]
    if ch.status == "error" and ch.message:
        lines[0] += "\\"
        lines.append(f"  _error:_ {_cell(ch.message)}")
    return lines


def render_markdown(result: RewardResult) -> str:
    lines: list[str] = []
    reward = "**unscored**" if result.reward is None else f"**{result.reward:.4f}**"
    lines.append(f"### Reward {reward}")
    if result.reward_reason:
        lines.append(f"_{_cell(result.reward_reason)}_")
    lines.append("")
    lines.append(f"| {COMPONENT_COLUMNS} |")
    lines.append("|---|")
    for name in ("rubric", "global", "code"):
        c = result.component(name)
        lines.append(f"| {name} · {_value(c)} · {result.weights.get(name, 0):.3f} |")
    if result.formula:
        lines.append("")
        lines.append(f"Hybrid: `{result.formula}`")

    r = result.rubric
    lines.append("")
    lines.append(f"#### Rubric: {_heading_value(r)}{_usage(r)}")
    lines.extend(_provenance(r))
    if r.criteria:
        lines += ["", VERDICTS_HEADING, "", *_verdict_table(r.criteria)]
        if r.unclipped is not None and r.unclipped != r.value:
            lines.append("")
            lines.append(f"Unclipped rubric score {r.unclipped:.4f} (pitfalls), clipped to [0, 1].")
        lines += ["", CRITERIA_HEADING, ""]
        for cr in r.criteria:
            lines.extend(_criterion_item(cr))
    if r.notes:
        lines.append("")
        lines.extend(f"- note: {_cell(note)}" for note in r.notes)
    if r.status == "unscored" and r.raw_output:
        lines.append("")
        lines.append(f"Last judge reply: {_code(r.raw_output)}")

    g = result.global_
    lines.append("")
    lines.append(f"#### Global: {_heading_value(g)}{_usage(g)}")
    lines.extend(_provenance(g))
    if g.score is not None:
        lines.append("")
        lines.append(f"Judge score {g.score:g}/10 — {_cell(g.rationale or '')}")
    if g.status == "unscored" and g.raw_output:
        lines.append("")
        lines.append(f"Last judge reply: {_code(g.raw_output)}")

    c = result.code
    lines.append("")
    lines.append(f"#### Code checks: {_heading_value(c)}")
    if c.checks:
        lines += ["", CHECKS_HEADING, ""]
        for ch in c.checks:
            lines.extend(_check_item(ch))
    return "\n".join(lines)


ANSWER_CHARS = 300


def short_answer(response: str, limit: int = ANSWER_CHARS) -> str:
    """``Score.answer``: the head of the response (the whole one is the sample's output), so the
    Scoring tab is not one screen of text per sample."""
    text = " ".join(response.split())
    if len(text) <= limit:
        return text
    return f"{text[:limit].rstrip()}… ({len(response):,} characters)"
