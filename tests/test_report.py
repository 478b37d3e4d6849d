"""The markdown report (Score.explanation) and its look in a real browser.

Layout rules it must keep (the viewer wraps table cells at any character): tables hold only
short cells; criteria, reasons and checker messages are list items below them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.report import COMPONENT_COLUMNS, VERDICT_COLUMNS, render_markdown, short_answer
from harness.scoring import (
    CheckRecord,
    CodeResult,
    CriterionRecord,
    GlobalResult,
    RewardResult,
    RubricResult,
)

ROOT = Path(__file__).resolve().parents[1]
VALUES = {"yes": 1.0, "partial": 0.5, "no": 0.0}


def criterion(i: int, verdict: str, weight: float = 1.0) -> CriterionRecord:
    return CriterionRecord(
        id=f"r{i}",
        text=f"Criterion {i}: the response explains point {i} in full, with the reasons why "
        "it matters to the user and what to do next.",
        weight=weight,
        verdict=verdict,
        value=VALUES[verdict],
        reason=f"Reason {i}: the response says so in its third paragraph, clearly and early.",
    )


def result(
    criteria: list[CriterionRecord],
    checks: list[CheckRecord] | None = None,
    rubric: RubricResult | None = None,
    glob: GlobalResult | None = None,
) -> RewardResult:
    checks = checks or []
    passed = sum(c.status == "pass" for c in checks)
    return RewardResult(
        prompt_id="p1",
        spec_version="v1",
        response_hash="h",
        reward=0.6,
        rubric=rubric
        or RubricResult(
            status="scored",
            value=0.5,
            criteria=criteria,
            judge="mockllm/model",
            protocol="rubric_single@2",
        ),
        global_=glob
        or GlobalResult(status="scored", value=0.7, score=7, rationale="Solid | clear.", judge="g"),
        code=CodeResult(status="scored", value=passed / len(checks), checks=checks)
        if checks
        else CodeResult(status="absent", reason="spec has no checkers"),
        weights={"rubric": 0.5, "global": 0.5, "code": 0.0},
        formula="(1·0.5[rubric] + 1·0.7[global]) / 2 = 0.6",
    )


def table_lines(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|")]


def cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]


def test_forty_criteria_compact_verdict_table_then_the_full_text() -> None:
    verdicts = ["yes", "no", "partial", "yes"] * 10
    weights = [-5.0 if i % 7 == 0 else float(i % 9 + 1) for i in range(1, 41)]
    crits = [
        criterion(i, v, w) for i, (v, w) in enumerate(zip(verdicts, weights, strict=True), start=1)
    ]
    md = render_markdown(result(crits))

    for heading in ("### Reward **0.6000**", "#### Rubric: 0.500", "#### Global: 0.700"):
        assert heading in md
    assert "#### Code checks: **absent** — spec has no checkers" in md
    assert "judge `mockllm/model` · protocol `rubric_single@2`" in md
    assert "Hybrid: `(1·0.5[rubric] + 1·0.7[global]) / 2 = 0.6`" in md
    assert "Judge score 7/10 — Solid \\| clear." in md

    # three groups of 14, read down then across; one short cell per criterion
    start = md.index(f"| {VERDICT_COLUMNS} |")
    verdict_rows = table_lines(md[start:])
    assert cells(verdict_rows[0]) == [
        VERDICT_COLUMNS,
        f"‖ {VERDICT_COLUMNS}",
        f"‖ {VERDICT_COLUMNS}",
    ]
    assert len(verdict_rows) == 2 + 14
    assert cells(verdict_rows[2]) == ["r1 · 2 · yes", "‖ r15 · 7 · partial", "‖ r29 · 3 · yes"]
    assert cells(verdict_rows[3]) == ["r2 · 3 · **no**", "‖ r16 · 8 · yes", "‖ r30 · 4 · **no**"]
    assert cells(verdict_rows[-1]) == ["r14 · -5 · no", "‖ r28 · -5 · **yes**", ""]
    # no table cell holds long text: criteria and reasons are list items
    assert max(len(c) for line in table_lines(md) for c in cells(line)) == len(COMPONENT_COLUMNS)
    for c in crits:
        lost = (c.value > 0) if c.weight < 0 else (c.value == 0)
        verdict = f"**{c.verdict}**" if lost else c.verdict
        item = f"- **{c.id}** · {c.weight:g} · {verdict} — {c.text}\\\n  _reason:_ {c.reason}\n"
        assert md.count(item) == 1, item
        assert f" {c.id} · {c.weight:g} · {verdict} " in md.replace("|", " ")


def test_bold_marks_what_lost_points() -> None:
    crits = [
        criterion(1, "no", 3),  # unmet: lost
        criterion(2, "partial", 3),  # partly met: not bold
        criterion(3, "yes", -2),  # pitfall met: lost
        criterion(4, "partial", -2),  # pitfall partly met: lost
        criterion(5, "no", -2),  # pitfall avoided
    ]
    rows = [cells(line)[0] for line in table_lines(render_markdown(result(crits)))[-5:]]
    assert rows == [
        "r1 · 3 · **no**",
        "r2 · 3 · partial",
        "r3 · -2 · **yes**",
        "r4 · -2 · **partial**",
        "r5 · -2 · no",
    ]


def test_small_rubric_is_one_group_and_weights_are_short() -> None:
    crits = [criterion(1, "yes", 1 / 3), criterion(2, "no", 2 / 3)]
    md = render_markdown(result(crits))
    assert f"| {VERDICT_COLUMNS} |\n|---|\n| r1 · 0.333 · yes |\n| r2 · 0.667 · **no** |" in md
    assert "‖" not in md


def test_component_table_and_unclipped_pitfall_score() -> None:
    rubric = RubricResult(
        status="scored",
        value=0.0,
        unclipped=-0.25,
        criteria=[criterion(1, "no", 4), criterion(2, "yes", -1)],
        notes=["official item score 12/100 (mean of 2 parsed score(s))"],
    )
    md = render_markdown(result([], rubric=rubric))
    assert (
        f"| {COMPONENT_COLUMNS} |\n|---|\n| rubric · 0.000 · 0.500 |\n"
        "| global · 0.700 · 0.500 |\n| code · **absent** · 0.000 |"
    ) in md
    assert "Unclipped rubric score -0.2500 (pitfalls), clipped to [0, 1]." in md
    assert "- note: official item score 12/100 (mean of 2 parsed score(s))" in md


def test_checks_are_a_list_with_errors_and_their_messages() -> None:
    checks = [
        CheckRecord(id="lower", constraint="All lowercase.", status="pass"),
        CheckRecord(id="words", constraint="At most 50 words.", status="fail"),
        CheckRecord(
            id="json",
            constraint="Valid | JSON.",
            status="error",
            error_kind="timeout",
            message="ran past 2 s\nkilled",
        ),
    ]
    md = render_markdown(result([criterion(1, "yes")], checks=checks))
    assert "#### Code checks: 0.333" in md
    assert (
        "- **lower** · pass — All lowercase.\n"
        "- **words** · **fail** — At most 50 words.\n"
        "- **json** · **error** (timeout) — Valid \\| JSON.\\\n"
        "  _error:_ ran past 2 s killed"
    ) in md


def test_unscored_components_say_why_and_show_the_last_reply() -> None:
    rubric = RubricResult(
        status="unscored",
        reason="malformed judge output: no JSON object found",
        raw_output="I think ``it`` is\nfine",
    )
    glob = GlobalResult(status="unscored", reason="empty judge reply", raw_output="`")
    md = render_markdown(result([], rubric=rubric, glob=glob))
    assert "#### Rubric: **unscored** — malformed judge output: no JSON object found" in md
    assert "Last judge reply: ```I think ``it`` is fine```" in md
    assert "#### Global: **unscored** — empty judge reply" in md
    assert "Last judge reply: `` ` ``" in md
    assert "Verdicts" not in md


def test_text_is_one_line_and_cannot_break_the_markdown() -> None:
    bad = CriterionRecord(
        id="c|1",
        text="Uses a table:\n| a | b |\nand ends with a backslash \\",
        weight=1,
        verdict="yes",
        value=1,
        reason="line one\n\nline two",
    )
    md = render_markdown(result([bad]))
    assert "| c\\|1 · 1 · yes |" in md
    assert (
        "- **c\\|1** · 1 · yes — Uses a table: \\| a \\| b \\| and ends with a backslash \\\\\\\n"
        "  _reason:_ line one line two\n"
    ) in md


def test_short_answer() -> None:
    assert short_answer("  a\n b ") == "a b"
    long = "word " * 200
    assert short_answer(long) == f"{('word ' * 60).strip()}… (1,000 characters)"


# -- in a real browser ---------------------------------------------------------------------


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


@pytest.mark.skipif(
    importlib.util.find_spec("playwright") is None or _chromium() is None,
    reason="needs playwright (pip install playwright) and a Chromium (apt-get install chromium)",
)
def test_scoring_tab_of_a_40_criterion_healthbench_sample_in_chromium(tmp_path: Path) -> None:
    """scripts/viewer_screenshots.py --demo: a real HealthBench log, opened by `inspect view`,
    read by Chromium at 1280 and 1440 px: no table cell wraps, all 40 verdicts in 14 rows."""
    if not (Path(os.environ["HARNESS_DATA_DIR"]) / "healthbench/healthbench_500.jsonl").exists():
        pytest.skip("needs the HealthBench 500-sample in HARNESS_DATA_DIR")
    out = tmp_path / "shots"
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts/viewer_screenshots.py"), "--demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert [v["window"] for v in summary["views"]] == [[1280, 800], [1440, 900]]
    for view in summary["views"]:
        [explanation] = view["explanations"]
        assert explanation["wrapped_cells"] == []
        components, verdicts = explanation["tables"]
        assert components["rows"] == 4
        assert verdicts["rows"] == 1 + 14 and len(verdicts["column_widths"]) == 3
        assert min(verdicts["column_widths"]) >= 100
        assert explanation["width"] >= 500
        # the window grew to the whole Scoring tab: the screenshot is the full page
        assert view["page_height"] > explanation["height"]
        assert Path(view["screenshot"]).stat().st_size > 50_000
