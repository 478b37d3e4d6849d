"""Screenshots of a sample's Scoring tab in `inspect view`, taken by a real (headless) Chromium.

    python scripts/viewer_screenshots.py --log-dir logs [--log FILE] [--sample ID] [--epoch N]
    python scripts/viewer_screenshots.py --demo

`--demo` first writes a real HealthBench log with a 40-criterion rubric to <out>/demo-logs: the
healthbench task on its 500-conversation sample (HARNESS_DATA_DIR) through a spec store in which
the conversation with the most rubric items is topped up to 40 criteria with the items of the
next conversations; the policy replies with the conversation's ideal completion and a scripted
judge (mockllm, standing in for an LLM) answers in the reference grader's format.

The viewer scrolls inside its own panels, so the window is made as tall as the Scoring tab before
each full-page screenshot. Writes scoring_<width>x<height>.png per window size and summary.json
(page height, explanation width, table column widths, table cells that wrap) to --out (default
screenshots/, git-ignored), and prints the summary.

Needs `pip install playwright` and a Chromium: Debian's `apt-get install chromium`
(/usr/bin/chromium, used when present) or `playwright install chromium`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

SIZES = ((1280, 800), (1440, 900))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DEMO_CRITERIA = 40

# Measured in the page: every explanation that has a rubric (one per reward scorer).
MEASURE_JS = """() => {
  const pane = document.querySelector('.tab-pane.active') || document;
  const explanations = [...pane.querySelectorAll('.markdown-content')]
    .filter(e => e.innerText.includes('Rubric:'));
  return explanations.map(e => {
    const cells = [...e.querySelectorAll('td, th')];
    const wrapped = cells.filter(c => {
      const line = parseFloat(getComputedStyle(c).lineHeight) || 20;
      return c.getBoundingClientRect().height > 1.6 * line;
    });
    return {
      width: Math.round(e.getBoundingClientRect().width),
      height: Math.round(e.getBoundingClientRect().height),
      tables: [...e.querySelectorAll('table')].map(t => ({
        rows: t.rows.length,
        column_widths: [...t.rows[t.rows.length > 1 ? 1 : 0].cells]
          .map(c => Math.round(c.getBoundingClientRect().width)),
      })),
      wrapped_cells: wrapped.map(c => c.innerText.trim()),
    };
  });
}"""

# How far the viewer's inner scroll panels still scroll.
OVERFLOW_JS = """() => Math.max(0, ...[...document.querySelectorAll('*')]
  .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowY))
  .map(e => e.scrollHeight - e.clientHeight))"""


def find_chromium(explicit: str | None = None) -> str | None:
    """A Chromium executable: the given one, else $CHROMIUM or the system's; None means
    playwright's own browser."""
    if explicit:
        path = shutil.which(explicit)
        if path is None:
            raise FileNotFoundError(f"no Chromium executable at {explicit}")
        return path
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and (path := shutil.which(candidate)):
            return path
    return None


def build_demo_log(log_dir: Path) -> Path:
    """A HealthBench log whose one sample has a 40-criterion rubric (see the module docstring)."""
    from inspect_ai import eval
    from inspect_ai.model import ChatMessage, GenerateConfig, ModelOutput, ModelUsage, get_model

    from harness.benchmarks import healthbench as hb
    from harness.spec import Criterion
    from harness.store import SpecStore
    from harness.tasks.healthbench import healthbench

    records = sorted(hb.load_records("sample_500"), key=lambda r: -len(r["rubrics"]))
    main = records[0]
    spec = hb.native_spec(main)
    extra = [item for r in records[1:] for item in r["rubrics"]]
    top_up = [
        Criterion(id=f"r{i}", text=item["criterion"], weight=float(item["points"]))
        for i, item in enumerate(extra, start=len(spec.criteria) + 1)
    ][: max(0, DEMO_CRITERIA - len(spec.criteria))]
    spec = spec.edit(criteria=spec.criteria + tuple(top_up))
    log_dir.mkdir(parents=True, exist_ok=True)
    store_path = log_dir / "demo-specs.jsonl"
    store_path.unlink(missing_ok=True)
    SpecStore(store_path, create=True).put_many([spec, *(hb.native_spec(r) for r in records[1:])])

    def output(text: str, prompt: str) -> ModelOutput:
        out = ModelOutput.from_content(model="mockllm/model", content=text)
        n_in, n_out = len(prompt.split()), len(text.split())
        out.usage = ModelUsage(input_tokens=n_in, output_tokens=n_out, total_tokens=n_in + n_out)
        return out

    def judge(
        input: list[ChatMessage], tools: Any, tool_choice: Any, config: GenerateConfig
    ) -> ModelOutput:
        prompt = "\n".join(m.text for m in input)
        if "on a 0-10 scale" in prompt:  # the global judgment
            rationale = (
                "Accurate, well organised first-aid advice with clear warning signs; it could "
                "be more direct about when to use an epinephrine auto-injector."
            )
            return output(json.dumps({"rationale": rationale, "score": 7}), prompt)
        found = re.search(r"# Rubric item\n\[-?[\d.]+\] (.*?)\n\n# Instructions", prompt, re.S)
        if found is None:
            raise ValueError("the demo judge got a prompt it does not know")
        item = found.group(1)
        met = len(item) % 3 != 0  # a fixed, arbitrary mix of verdicts
        claim = item.split(". ")[0].rstrip(".")
        reason = (
            f"The response does this: {claim[0].lower()}{claim[1:]}, stated plainly in its advice."
            if met
            else f"Not found in the response, which never covers this point ({claim[:120]})."
        )
        return output(json.dumps({"explanation": reason, "criteria_met": met}), prompt)

    ideal = (main.get("ideal_completions_data") or {}).get("ideal_completion")
    answer = ideal or "A long answer to the conversation. " * 40
    policy = get_model("mockllm/model", custom_outputs=[output(answer, "")], memoize=False)
    [log] = eval(
        healthbench(subset="sample_500", specs=str(store_path)),
        model=policy,
        model_roles={"grader": get_model("mockllm/model", custom_outputs=judge, memoize=False)},
        sample_id=[main["prompt_id"]],
        log_dir=str(log_dir),
        display="none",
    )
    if log.status != "success":
        raise RuntimeError(f"the demo eval failed: {log.error}")
    return Path(log.location)


def _pick_sample(log_path: Path) -> tuple[str, int]:
    """The sample whose explanations are longest (the biggest rubric), epoch 1."""
    from inspect_ai.log import read_eval_log

    log = read_eval_log(str(log_path))
    if not log.samples:
        raise ValueError(f"{log_path} has no samples")
    best = max(
        log.samples,
        key=lambda s: sum(len(score.explanation or "") for score in (s.scores or {}).values()),
    )
    return str(best.id), best.epoch


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"inspect view exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"inspect view did not answer at {url} within {timeout:.0f} s")


def screenshots(
    log_dir: Path,
    out: Path,
    log: Path | None = None,
    sample: str | None = None,
    epoch: int | None = None,
    chromium: str | None = None,
    sizes: tuple[tuple[int, int], ...] = SIZES,
) -> dict[str, Any]:
    """Open the Scoring tab of one sample at each window size, save full-page PNGs to ``out``
    and return what was measured."""
    from playwright.sync_api import sync_playwright

    log_dir = log_dir.resolve()
    if log is None:
        logs = sorted(log_dir.rglob("*.eval"), key=lambda p: p.stat().st_mtime)
        if not logs:
            raise FileNotFoundError(f"no .eval log in {log_dir}")
        log = logs[-1]
    log = log.resolve()
    if sample is None:
        sample, first_epoch = _pick_sample(log)
        epoch = epoch or first_epoch
    epoch = epoch or 1
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "inspect_ai", "view", "--log-dir", str(log_dir)]
        + ["--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    relative = log.relative_to(log_dir).as_posix()
    url = f"{base}/#/logs/{quote(relative)}/samples/sample/{quote(sample, safe='')}/{epoch}/scoring"
    summary: dict[str, Any] = {"log": str(log), "sample": sample, "epoch": epoch, "views": []}
    try:
        _wait_for(base + "/", server)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=find_chromium(chromium), args=CHROMIUM_ARGS
            )
            try:
                for width, height in sizes:
                    page = browser.new_page(viewport={"width": width, "height": height})
                    page.goto(url)
                    page.wait_for_selector(".tab-pane.active .markdown-content", timeout=60_000)
                    page.wait_for_timeout(1000)  # late layout (fonts, code highlighting)
                    tall = height
                    for _ in range(5):  # grow the window until no inner panel scrolls
                        extra = int(page.evaluate(OVERFLOW_JS))
                        if extra <= 1:
                            break
                        tall += extra
                        page.set_viewport_size({"width": width, "height": tall})
                        page.wait_for_timeout(500)
                    path = out / f"scoring_{width}x{height}.png"
                    page.screenshot(path=str(path), full_page=True)
                    summary["views"].append(
                        {
                            "window": [width, height],
                            "page_height": tall,
                            "screenshot": str(path),
                            "explanations": page.evaluate(MEASURE_JS),
                        }
                    )
                    page.close()
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log-dir", type=Path, help="the viewer's log directory")
    parser.add_argument("--log", type=Path, help="a log in it (default: the newest)")
    parser.add_argument(
        "--sample", help="sample id (default: the one with the longest explanation)"
    )
    parser.add_argument("--epoch", type=int, help="epoch (default 1)")
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="output folder")
    parser.add_argument("--chromium", help="Chromium executable (default: the system's)")
    parser.add_argument("--demo", action="store_true", help="first build the 40-criterion demo log")
    args = parser.parse_args(argv)
    if not args.demo and args.log_dir is None:
        parser.error("give --log-dir (or --demo)")
    try:
        if args.demo:
            args.log_dir = args.log_dir or args.out / "demo-logs"
            args.log = build_demo_log(args.log_dir)
        summary = screenshots(
            args.log_dir, args.out, args.log, args.sample, args.epoch, args.chromium
        )
    except ModuleNotFoundError as ex:
        print(f"error: {ex} (pip install playwright)", file=sys.stderr)
        return 1
    except (OSError, ValueError, RuntimeError) as ex:  # DataError is a ValueError
        print(f"error: {ex}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
