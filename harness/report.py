"""Markdown report of one RewardResult, shown as the score explanation in `inspect view`."""

from __future__ import annotations

from harness.scoring import ComponentResult, RewardResult


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


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


def render_markdown(result: RewardResult) -> str:
    lines: list[str] = []
    reward = "**unscored**" if result.reward is None else f"**{result.reward:.4f}**"
    lines.append(f"### Reward {reward}")
    if result.reward_reason:
        lines.append(f"_{_cell(result.reward_reason)}_")
    lines.append("")
    lines.append("| component | value | weight |")
    lines.append("|---|---|---|")
    for name in ("rubric", "global", "code"):
        c = result.component(name)
        lines.append(f"| {name} | {_value(c)} | {result.weights.get(name, 0):.3f} |")
    if result.formula:
        lines.append("")
        lines.append(f"Hybrid: `{result.formula}`")

    r = result.rubric
    lines.append("")
    lines.append(f"#### Rubric: {_heading_value(r)}{_usage(r)}")
    if r.criteria:
        lines.append("")
        lines.append("| id | criterion | weight | verdict | reason |")
        lines.append("|---|---|---|---|---|")
        for cr in r.criteria:
            lines.append(
                f"| {cr.id} | {_cell(cr.text)} | {cr.weight:g} | {cr.verdict} | {_cell(cr.reason)} |"
            )
        if r.unclipped is not None and r.unclipped != r.value:
            lines.append("")
            lines.append(f"Unclipped rubric score {r.unclipped:.4f} (pitfalls), clipped to [0, 1].")
    for note in r.notes:
        lines.append(f"- note: {_cell(note)}")
    if r.status == "unscored" and r.raw_output:
        lines.append("")
        lines.append(f"Last judge reply: `{_cell(r.raw_output)[:300]}`")

    g = result.global_
    lines.append("")
    lines.append(f"#### Global: {_heading_value(g)}{_usage(g)}")
    if g.score is not None:
        lines.append(f"Judge score {g.score:g}/10 — {_cell(g.rationale or '')}")
    if g.status == "unscored" and g.raw_output:
        lines.append(f"Last judge reply: `{_cell(g.raw_output)[:300]}`")

    c = result.code
    lines.append("")
    lines.append(f"#### Code checks: {_heading_value(c)}")
    if c.checks:
        lines.append("")
        lines.append("| id | constraint | result | detail |")
        lines.append("|---|---|---|---|")
        for ch in c.checks:
            detail = f"{ch.error_kind}: {ch.message}" if ch.status == "error" else ""
            lines.append(f"| {ch.id} | {_cell(ch.constraint)} | {ch.status} | {_cell(detail)} |")
    return "\n".join(lines)


ANSWER_CHARS = 300


def short_answer(response: str, limit: int = ANSWER_CHARS) -> str:
    """``Score.answer``: the head of the response (the whole one is the sample's output), so the
    Scoring tab is not one screen of text per sample."""
    text = " ".join(response.split())
    if len(text) <= limit:
        return text
    return f"{text[:limit].rstrip()}… ({len(response):,} characters)"
