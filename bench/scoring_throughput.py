"""Scoring-core throughput against the bound a judge's latency allows, side by side in one run.

A simulated judge (``simulated/``: sleeps L seconds, answers validly, no CPU) stands in for the
model, so what is measured is the harness itself. Each row runs, in the same process and run:

- **bare**: ``Model.generate`` with the same requests (prompts and structured-output schemas), C
  at a time (Inspect's own limit): the floor any caller of the model pays;
- **engine**: ``RewardEngine.score_batch`` on the same responses (rubric + global: 2 calls
  each), with a fresh in-memory cache (every judgment is a miss: nothing cached is measured).

Reported: calls/s, the fraction of the C/L bound, the ratio engine / bare, and CPU ms per call
(process time / calls) with the harness's own CPU above the bare loop. Then: identical requests
in one batch (calls made), and the SQLite cache against the in-memory one (same batch).

    python bench/scoring_throughput.py [--latency 0.1] [--concurrency 16 64] [--calls 1024] [--out results/scoring_throughput.md]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from inspect_ai.model import GenerateConfig, Model, get_model

from harness.cache import JudgmentCache
from harness.judges.holistic import GlobalJudge
from harness.judges.rubric import SingleCallRubric, with_schema
from harness.scoring import RewardEngine, ScoreRequest
from harness.spec import Criterion, Provenance, RewardSpec

PROMPT = "Write a short poem about the sea in lowercase, mentioning salt, in three lines."


def spec() -> RewardSpec:
    criteria = tuple(
        Criterion(id=f"c{i}", text=f"Criterion number {i} of the rubric is met.", weight=1 + i % 3)
        for i in range(1, 9)
    )
    return RewardSpec(
        prompt_id="bench",
        prompt=PROMPT,
        criteria=criteria,
        checkers=(),
        provenance=Provenance(builder="bench", created_at="2026-01-01T00:00:00+00:00"),
    )


def responses(n: int, tag: str) -> list[str]:
    return [
        f"salt on the wind {tag} {i}\nthe sea hums low\nwaves fold and unfold" for i in range(n)
    ]


def judge(latency: float, concurrency: int) -> Model:
    return get_model(
        # a name per concurrency: each simulated/<name> has its own connection limit
        f"simulated/bench-c{concurrency}",
        config=GenerateConfig(max_connections=concurrency),
        memoize=False,
        latency=latency,
    )


async def bare(model: Model, the_spec: RewardSpec, texts: list[str]) -> int:
    """The same requests (prompts and structured-output schemas), straight to Model.generate."""
    rubric, glob = SingleCallRubric(), GlobalJudge()
    rubric_config = with_schema(GenerateConfig(temperature=0), rubric.response_schema(the_spec))
    global_config = with_schema(GenerateConfig(temperature=0), glob.response_schema())
    calls = []
    for text in texts:
        calls.append(model.generate(rubric.messages(the_spec, text), config=rubric_config))
        calls.append(model.generate(glob.messages(the_spec, text), config=global_config))
    await asyncio.gather(*calls)
    return len(calls)


async def engine_run(engine: RewardEngine, the_spec: RewardSpec, texts: list[str]) -> int:
    results = await engine.score_batch([ScoreRequest(the_spec, t) for t in texts])
    failed = [r for r in results if r.reward is None]
    if failed:
        raise RuntimeError(f"{len(failed)} unscored: {failed[0].unscored()}")
    return sum(r.usage.calls for r in results)


def timed(coro: Coroutine[Any, Any, int]) -> tuple[int, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    calls = asyncio.run(coro)
    return calls, time.perf_counter() - wall, time.process_time() - cpu


_OPEN = """
import resource, sys, time
t = time.perf_counter()
if sys.argv[2] == "eager":
    from harness.store import SpecStore as Store
else:
    from harness.store_index import IndexedSpecStore as Store
store = Store(sys.argv[1])
spec = store.get(sys.argv[3])
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def store_rows(n: int) -> list[str]:
    """Opening a store of ``n`` specs and reading one: the whole store loaded (SpecStore)
    against the index (IndexedSpecStore, first open builds it), each in a fresh process."""
    import subprocess

    rows = ["", f"Spec store of {n} specs, open and read one (fresh process each):", ""]
    rows += ["| how | seconds | peak RSS MB |", "|---|---|---|"]
    base = spec()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "specs.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for i in range(n):
                edited = base.edit(prompt_id=f"p{i}", prompt=f"{PROMPT} (variant {i})")
                f.write(edited.model_dump_json() + "\n")
        for label, mode in (
            ("SpecStore (everything loaded)", "eager"),
            ("IndexedSpecStore, first open (builds the index)", "indexed"),
            ("IndexedSpecStore, later opens", "indexed"),
        ):
            done = subprocess.run(
                [sys.executable, "-c", _OPEN, str(path), mode, f"p{n - 1}"],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            seconds, rss = done.stdout.split()
            rows.append(f"| {label} | {float(seconds):.2f} | {rss} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--calls", type=int, default=1024, help="judge calls per measurement")
    parser.add_argument("--store-specs", type=int, default=20000, help="specs in the store row")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    the_spec = spec()
    n = args.calls // 2
    lines = [
        "# Scoring-core throughput",
        "",
        f"Command: `python bench/scoring_throughput.py --latency {args.latency} --concurrency "
        f"{' '.join(map(str, args.concurrency))} --calls {args.calls}"
        + (f" --out {args.out}`" if args.out else "`"),
        "",
        f"Simulated judge, latency L = {args.latency * 1000:g} ms; {args.calls} judge calls per"
        " row (rubric + global per response, all distinct: no cache hit). Measured side by side"
        " in one run.",
        "",
        "| C | bare calls/s | engine calls/s | C/L | engine / (C/L) | engine / bare |"
        " bare CPU ms/call | engine CPU ms/call | harness CPU ms/call |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in args.concurrency:
        model = judge(args.latency, c)
        asyncio.run(bare(model, the_spec, responses(8, "warm")))  # imports, first-call setup
        b_calls, b_wall, b_cpu = timed(bare(model, the_spec, responses(n, f"bare{c}")))
        engine = RewardEngine(rubric_judge=model, global_judge=model, cache=JudgmentCache())
        asyncio.run(engine_run(engine, the_spec, responses(8, f"warm{c}")))  # same for the engine
        e_calls, e_wall, e_cpu = timed(engine_run(engine, the_spec, responses(n, f"engine{c}")))
        bound = c / args.latency
        b_rate, e_rate = b_calls / b_wall, e_calls / e_wall
        lines.append(
            f"| {c} | {b_rate:.0f} | {e_rate:.0f} | {bound:.0f} | {e_rate / bound:.2f} |"
            f" {e_rate / b_rate:.2f} | {1000 * b_cpu / b_calls:.2f} | {1000 * e_cpu / e_calls:.2f}"
            f" | {1000 * (e_cpu / e_calls - b_cpu / b_calls):.2f} |"
        )
        print(lines[-1], flush=True)

    # identical requests in one batch (a GRPO group repeating a rollout)
    model = judge(args.latency, 64)
    engine = RewardEngine(rubric_judge=model, global_judge=model, cache=JudgmentCache())
    same = asyncio.run(engine_run(engine, the_spec, responses(1, "same") * 16))
    lines += [
        "",
        f"Identical (spec, response) × 16 in one batch: {same} judge calls (2 is one rubric and"
        " one global call).",
    ]

    # the SQLite cache against the in-memory one, first pass (all misses), same batch size
    rows = ["", "| cache | seconds | ratio to memory |", "|---|---|---|"]
    model = judge(args.latency, 64)
    with tempfile.TemporaryDirectory() as folder:
        timings = {}
        for name, cache in (
            ("memory", JudgmentCache()),
            ("sqlite", JudgmentCache(Path(folder) / "j.sqlite")),
        ):
            engine = RewardEngine(rubric_judge=model, global_judge=model, cache=cache)
            _, wall, _ = timed(engine_run(engine, the_spec, responses(n, f"cache-{name}")))
            cache.flush()
            timings[name] = wall
        for name, wall in timings.items():
            rows.append(f"| {name} | {wall:.2f} | {wall / timings['memory']:.2f} |")
    lines += rows
    lines += store_rows(args.store_specs)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
