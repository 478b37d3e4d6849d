"""Scoring-core throughput against the bound a judge's latency allows, side by side in one run.

A simulated judge (``simulated/``: sleeps L seconds, answers validly, no CPU) stands in for the
model, so what is measured is the harness itself. Each row runs, in the same process and run:

- **bare**: ``Model.generate`` with the same requests (prompts and structured-output schemas), C
  at a time (Inspect's own limit): the floor any caller of the model pays;
- **engine**: ``RewardEngine.score_batch`` on the same responses (rubric + global: 2 calls
  each), with a fresh in-memory cache (every judgment is a miss: nothing cached is measured).

Reported: calls/s, the fraction of the C/L bound, the ratio engine / bare, and CPU ms per call
(process time / calls) with the harness's own CPU above the bare loop (median of interleaved
rounds). Then: identical requests in one batch (calls made); the SQLite cache against the
in-memory one (same batch); ``inspect eval harness/prompts`` with the hybrid reward against a
minimal scorer sending the same judge requests; ``harness score`` on 10k and 100k responses (peak
RSS of a fresh process); opening spec stores of 20k and 100k specs; start-up times; and a table
of the targets against this run. ``--sections`` runs a subset.

    python bench/scoring_throughput.py [--latency 0.1] [--concurrency 16 64] [--calls 1024]
        [--rounds 5] [--eval-samples 512] [--score-sizes 10000 100000]
        [--store-specs 20000 100000] [--sections ...] [--out results/scoring_throughput.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
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
from harness.spec import Checker, Criterion, Provenance, RewardSpec
from harness.store import SpecStore

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


# Peak RSS of the child itself: VmHWM (ru_maxrss survives exec, so it would report the
# parent's peak whenever that is higher).
_PEAK = (
    "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) // 1024"
)

_OPEN = f"""
import sys, time
t = time.perf_counter()
if sys.argv[2] == "eager":
    from harness.store import SpecStore as Store
else:
    from harness.store_index import IndexedSpecStore as Store
store = Store(sys.argv[1])
spec = store.get(sys.argv[3])
print(time.perf_counter() - t, {_PEAK})
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
            MEASURED[f"store {n} {label}"] = (float(seconds), float(rss))
    return rows


_SCORE = f"""
import sys, time
from harness.cli import main
t = time.perf_counter()
rc = main(sys.argv[1:])
print(time.perf_counter() - t, {_PEAK})
sys.exit(rc)
"""


def score_rows(sizes: list[int], concurrency: int) -> list[str]:
    """``harness score`` on a rollout dump of each size, in a fresh process: judged by the
    simulated judge (latency 0: the harness is what is measured), and checkers only."""
    import subprocess

    rows = ["", "`harness score`, fresh process per row (peak RSS of that process):", ""]
    rows += [
        "| responses | judges | seconds | responses/s | peak RSS MB |",
        "|---|---|---|---|---|",
    ]
    judged = spec()
    checked = judged.edit(
        prompt_id="checked",
        checkers=(
            Checker(
                id="k1",
                constraint="mentions salt",
                source="def check(response):\n    return 'salt' in response\n",
            ),
        ),
    )
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        store = root / "specs.jsonl"
        SpecStore(store, create=True).put_many([judged, checked])
        for n in sizes:
            for label, prompt_id, flags in (
                (
                    f"rubric + global (simulated, C = {concurrency})",
                    "bench",
                    ["--grader", "{model: simulated/score, model_args: {latency: 0}}",
                     "--max-connections", str(concurrency)],
                ),
                ("none: checkers only (Docker)", "checked", ["--no-judge"]),
            ):  # fmt: skip
                dump = root / f"responses-{prompt_id}-{n}.jsonl"
                with dump.open("w", encoding="utf-8") as f:
                    for text in responses(n, prompt_id):
                        f.write(json.dumps({"prompt_id": prompt_id, "response": text}) + "\n")
                out = root / f"out-{prompt_id}-{n}.jsonl"
                done = subprocess.run(
                    [sys.executable, "-c", _SCORE, "score", str(dump), "--specs", str(store),
                     "--out", str(out), "--overwrite", *flags],
                    capture_output=True, text=True,
                )  # fmt: skip
                if done.returncode != 0:
                    raise RuntimeError(done.stderr[-2000:])
                seconds, rss = done.stdout.split()[-2:]
                scored = sum(1 for _ in out.open(encoding="utf-8"))
                if scored != n:
                    raise RuntimeError(f"{scored} of {n} responses scored")
                rows.append(
                    f"| {n:,} | {label} | {float(seconds):.0f} | {n / float(seconds):.0f} | {rss} |"
                )
                print(rows[-1], flush=True)
                MEASURED[f"score {n} {prompt_id}"] = (float(seconds), float(rss))
                dump.unlink()
                out.unlink()
    return rows


def eval_rows(latency: float, concurrency: list[int], samples: int) -> list[str]:
    """``inspect eval harness/prompts`` with the hybrid reward against the same eval with a
    minimal scorer sending the same two judge requests (bench/scorer_cpu.py), same run."""
    sys.path.insert(0, str(Path(__file__).parent))
    from inspect_ai import eval as inspect_eval
    from inspect_ai import task_with
    from inspect_ai.scorer import mean
    from scorer_cpu import two_calls

    from harness.tasks.prompts import prompts

    rows = [
        "",
        f"`inspect eval harness/prompts`, {samples} samples, 2 judge calls each, judge latency"
        f" L = {latency * 1000:g} ms, C judge connections (max samples = C):",
        "",
        "| C | C/L | minimal scorer calls/s | hybrid_reward calls/s | hybrid / (C/L) |"
        " hybrid / minimal |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        specs = [spec().edit(prompt_id=f"p{i}", prompt=f"{PROMPT} ({i})") for i in range(samples)]
        SpecStore(root / "specs.jsonl", create=True).put_many(specs)
        with (root / "prompts.jsonl").open("w", encoding="utf-8") as f:
            for s in specs:
                f.write(json.dumps({"id": s.prompt_id, "prompt": s.prompt}) + "\n")

        def hybrid():
            return prompts(prompts=str(root / "prompts.jsonl"), specs=str(root / "specs.jsonl"))

        def minimal():
            return task_with(hybrid(), scorer=two_calls(), metrics=[mean()])

        def rate(make, c: int) -> float:
            grader = get_model(
                f"simulated/eval-c{c}",
                config=GenerateConfig(max_connections=c),
                memoize=False,
                latency=latency,
            )
            start = time.perf_counter()
            [log] = inspect_eval(
                make(),
                model=get_model("simulated/policy", latency=0.0),
                model_roles={"grader": grader},
                max_samples=c,
                log_dir=str(root / "logs"),
                display="none",
            )
            if log.status != "success":
                raise RuntimeError(log.error)
            return 2 * samples / (time.perf_counter() - start)

        rate(minimal, 4)  # warm: imports, first-use set-up
        for c in concurrency:
            bound = c / latency
            low, high = rate(minimal, c), rate(hybrid, c)
            MEASURED[f"eval {c}"] = (high / bound, high / low)
            rows.append(
                f"| {c} | {bound:.0f} | {low:.0f} | {high:.0f} | {high / bound:.2f} |"
                f" {high / low:.2f} |"
            )
            print(rows[-1], flush=True)
    return rows


def startup_rows() -> list[str]:
    """Wall and CPU time of a fresh process: ``harness --help``, and importing the task registry
    (what ``inspect eval harness/<task>`` loads) against importing Inspect alone."""
    import subprocess

    probes = {
        "`harness --help`": [sys.executable, "-m", "harness.cli", "--help"],
        "`import inspect_ai` (baseline)": [sys.executable, "-c", "import inspect_ai"],
        "`import harness._registry` (what `inspect eval harness/…` loads)": [
            sys.executable, "-c", "import inspect_ai, harness._registry",
        ],
    }  # fmt: skip
    rows = ["", "Start-up, fresh process (median of 5):", ""]
    rows += ["| command | wall s | CPU s |", "|---|---|---|"]
    for label, command in probes.items():
        walls, cpus = [], []
        for _ in range(5):
            before = os.times()
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True)
            walls.append(time.perf_counter() - start)
            after = os.times()
            cpus.append(
                after.children_user + after.children_system
                - before.children_user - before.children_system
            )  # fmt: skip
        rows.append(f"| {label} | {statistics.median(walls):.2f} | {statistics.median(cpus):.2f} |")
        MEASURED[f"startup {label}"] = (statistics.median(walls), statistics.median(cpus))
    return rows


MEASURED: dict[str, tuple[float, ...]] = {}
"""What each section measured, for the targets table."""


def target_rows(args: argparse.Namespace) -> list[str]:
    """The issue's targets against what this run measured (rows of sections that ran)."""
    rows = ["", "## Against the targets", "", "| measured | target | this run | met |"]
    rows.append("|---|---|---|---|")

    def row(what: str, target: str, value: str, met: bool) -> None:
        rows.append(f"| {what} | {target} | {value} | {'yes' if met else '**no**'} |")

    for c in args.concurrency:
        if f"engine {c}" not in MEASURED:
            continue
        of_bound, of_bare, harness_ms, bare_of_bound = MEASURED[f"engine {c}"]
        if c / args.latency <= 200:
            row(
                f"`score_batch`, C = {c} (C/L = {c / args.latency:.0f} calls/s)",
                "≥ 0.90 of C/L",
                f"{of_bound:.2f} (bare `Model.generate`: {bare_of_bound:.2f})",
                of_bound >= 0.9,
            )
        else:
            row(
                f"`score_batch`, C = {c} (C/L = {c / args.latency:.0f} calls/s)",
                "≥ 0.90 of a bare `Model.generate` loop",
                f"{of_bare:.2f}",
                of_bare >= 0.9,
            )
        row(f"harness CPU per judge call above bare, C = {c}", "≤ 0.5 ms", f"{harness_ms:.2f} ms",
            harness_ms <= 0.5)  # fmt: skip
    for c in args.concurrency:
        if f"eval {c}" in MEASURED:
            of_bound, of_minimal = MEASURED[f"eval {c}"]
            row(
                f"`inspect eval harness/prompts`, C = {c}: judge calls/s, hybrid / minimal scorer",
                "≥ 1 / 1.2 = 0.83 (≤ 20% more CPU per sample)",
                f"{of_minimal:.2f} ({of_bound:.2f} of C/L)",
                of_minimal >= 1 / 1.2,
            )
    if "dedup" in MEASURED:
        (same,) = MEASURED["dedup"]
        row(
            "identical (spec, response) × 16 in one batch",
            "2 judge calls",
            f"{same:.0f}",
            same == 2,
        )
    if "sqlite" in MEASURED:
        (ratio,) = MEASURED["sqlite"]
        row("SQLite judgment cache, first pass", "≤ 1.10× in-memory", f"{ratio:.2f}×", ratio <= 1.1)
    sizes = sorted(args.score_sizes)
    for kind, label in (("bench", "judged"), ("checked", "checkers only")):
        known = [MEASURED.get(f"score {n} {kind}") for n in sizes]
        if all(known) and len(sizes) > 1:
            small, large = known[0][1], known[-1][1]
            row(
                f"`harness score` peak RSS, {label}, {sizes[0]:,} → {sizes[-1]:,} responses",
                "< 300 MB, flat in N",
                f"{small:.0f} → {large:.0f} MB",
                large < 300 and large - small < 0.1 * small,
            )
    stores = sorted(args.store_specs)
    later = [MEASURED.get(f"store {n} IndexedSpecStore, later opens") for n in stores]
    if all(later) and len(stores) > 1:
        row(
            f"spec store open + read one, {stores[0]:,} → {stores[-1]:,} specs (indexed, later opens)",
            "< 1 s, memory independent of store size",
            f"{later[0][0]:.2f} → {later[-1][0]:.2f} s; {later[0][1]:.0f} → {later[-1][1]:.0f} MB",
            later[-1][0] < 1 and later[-1][1] - later[0][1] < 10,
        )
    help_ = MEASURED.get("startup `harness --help`")
    if help_:
        row("`harness --help`", "< 0.3 s", f"{help_[0]:.2f} s", help_[0] < 0.3)
    bare_bound = [MEASURED[k][3] for k in MEASURED if k.startswith("engine ")]
    if bare_bound:
        rows += [
            "",
            f"The C/L bound: a bare `Model.generate` loop reaches {max(bare_bound):.2f} of it at"
            " best in this run. Inspect holds a connection slot for its own CPU work around each"
            " call (about 2 ms here: config merges, transcript events, ids, pydantic), and one event"
            " loop serialises that work, so no caller of `Model.generate` reaches C/L on this"
            " machine; what the harness adds is the engine / bare ratio and its CPU per call.",
        ]
    if any(k.startswith("eval ") for k in MEASURED):
        rows += [
            "",
            "The eval rows are bound by Inspect's CPU per sample (about 35 ms with the minimal"
            " scorer here: `results/scorer_cpu.md`), not by the judge: an eval runs near 30 samples/s"
            " on this 2-core machine whatever C is. What the harness adds is hybrid / minimal.",
        ]
    return rows


SECTIONS = ("engine", "dedup", "cache", "eval", "score", "store", "startup")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--calls", type=int, default=1024, help="judge calls per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved engine rounds")
    parser.add_argument("--eval-samples", type=int, default=512, help="samples per eval row")
    parser.add_argument(
        "--score-sizes", type=int, nargs="+", default=[10000, 100000],
        help="responses per `harness score` row",
    )  # fmt: skip
    parser.add_argument(
        "--store-specs", type=int, nargs="+", default=[20000, 100000],
        help="specs in the store rows",
    )  # fmt: skip
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    the_spec = spec()
    n = args.calls // 2
    command = (
        f"python bench/scoring_throughput.py --latency {args.latency} --concurrency "
        f"{' '.join(map(str, args.concurrency))} --calls {args.calls} --rounds {args.rounds} --eval-samples "
        f"{args.eval_samples} --score-sizes {' '.join(map(str, args.score_sizes))} "
        f"--store-specs {' '.join(map(str, args.store_specs))} --sections {' '.join(args.sections)}"
    )
    lines = [
        "# Scoring-core throughput",
        "",
        f"Command: `{command}" + (f" --out {args.out}`" if args.out else "`"),
        "",
        "Each section is measured side by side with its baseline in one run.",
    ]
    if "engine" in args.sections:
        lines += [
            "",
            f"Simulated judge, latency L = {args.latency * 1000:g} ms; {args.calls} judge calls"
            " per row (rubric + global per response, all distinct: no cache hit).",
            "",
            "| C | bare calls/s | engine calls/s | C/L | engine / (C/L) | engine / bare |"
            " bare CPU ms/call | engine CPU ms/call | harness CPU ms/call | per round |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for c in args.concurrency:
            model = judge(args.latency, c)
            asyncio.run(bare(model, the_spec, responses(8, "warm")))  # imports, first-call setup
            engine = RewardEngine(rubric_judge=model, global_judge=model, cache=JudgmentCache())
            asyncio.run(engine_run(engine, the_spec, responses(8, f"warm{c}")))
            runs = []  # rounds interleave bare and engine: load drifts alike for both
            for r in range(args.rounds):
                b_calls, b_wall, b_cpu = timed(bare(model, the_spec, responses(n, f"b{c}-{r}")))
                engine = RewardEngine(rubric_judge=model, global_judge=model, cache=JudgmentCache())
                e_calls, e_wall, e_cpu = timed(
                    engine_run(engine, the_spec, responses(n, f"e{c}-{r}"))
                )
                runs.append(
                    (
                        b_calls / b_wall,
                        e_calls / e_wall,
                        1000 * b_cpu / b_calls,
                        1000 * e_cpu / e_calls,
                    )
                )
            b_rate, e_rate, b_ms, e_ms = (statistics.median(x) for x in zip(*runs, strict=True))
            harness_ms = statistics.median(e - b for _, _, b, e in runs)
            bound = c / args.latency
            MEASURED[f"engine {c}"] = (e_rate / bound, e_rate / b_rate, harness_ms, b_rate / bound)
            lines.append(
                f"| {c} | {b_rate:.0f} | {e_rate:.0f} | {bound:.0f} | {e_rate / bound:.2f} |"
                f" {e_rate / b_rate:.2f} | {b_ms:.2f} | {e_ms:.2f} | {harness_ms:.2f} |"
                f" {', '.join(f'{e - b:.2f}' for _, _, b, e in runs)} |"
            )
            print(lines[-1], flush=True)

    if (
        "dedup" in args.sections
    ):  # identical requests in one batch (a GRPO group repeating a rollout)
        model = judge(args.latency, 64)
        engine = RewardEngine(rubric_judge=model, global_judge=model, cache=JudgmentCache())
        same = asyncio.run(engine_run(engine, the_spec, responses(1, "same") * 16))
        MEASURED["dedup"] = (same,)
        lines += [
            "",
            f"Identical (spec, response) × 16 in one batch: {same} judge calls (2 is one rubric"
            " and one global call).",
        ]

    if "cache" in args.sections:  # SQLite against memory, first pass (all misses), same batch
        lines += ["", "| judgment cache | seconds | ratio to memory |", "|---|---|---|"]
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
                lines.append(f"| {name} | {wall:.2f} | {wall / timings['memory']:.2f} |")
            MEASURED["sqlite"] = (timings["sqlite"] / timings["memory"],)

    if "eval" in args.sections:
        lines += eval_rows(args.latency, args.concurrency, args.eval_samples)
    if "score" in args.sections:
        lines += score_rows(args.score_sizes, max(args.concurrency))
    if "store" in args.sections:
        for size in args.store_specs:
            lines += store_rows(size)
    if "startup" in args.sections:
        lines += startup_rows()
    lines += target_rows(args)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
