"""Online RL reward serving against the bound a judge's latency allows, side by side in one run.

A GRPO step is 1,024 rollouts: P prompts x G completions (64 x 16), each prompt with its own spec
(8 rubric criteria and one checker, run in the checker sandbox). A simulated judge (sleeps L
seconds, answers validly, no CPU) with C concurrent calls stands in for the model, so each
rollout costs 2 judge calls (rubric + global) and the bound is C / L calls/s. Every step scores
new completions (all distinct: no cache hit, no deduplication). Per step, interleaved:

- **bare**: the same judge requests straight to ``Model.generate``, C at a time (the floor any
  caller pays on this machine; no checkers);
- **TRL adapter**: ``trl_reward_funcs(RewardService)`` called as ``GRPOTrainer`` calls it (the
  whole step's completions at once, ``trainer_state.global_step``, its log hooks);
- **HTTP, batch**: the TRL adapter over ``RemoteRewardService`` to a ``harness serve`` process
  (one ``/score`` request per step);
- **HTTP, per sample**: 1,024 concurrent ``/openrlhf`` requests of one rollout each, as
  OpenRLHF (and slime, on ``/slime``) send them.

Reported: responses/s and judge calls/s, the fraction of the C/L bound and of bare, step wall
time (p50 / max over steps), per-request latency p50 / p99 for the per-sample path, and RSS.
Then memory: the TRL adapter path over ``--memory-rollouts`` rollouts (RSS after each step).

    python bench/serving_throughput.py [--runs 64:1 128:2 128:1] [--steps 3]
        [--prompts 64] [--group 16] [--memory-rollouts 100000] [--out results/serving_throughput.md]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import httpx
from inspect_ai.model import GenerateConfig, Model, get_model

from harness.cache import JudgmentCache
from harness.checkers import resolve_runtime
from harness.judges.holistic import GlobalJudge
from harness.judges.rubric import SingleCallRubric, with_schema
from harness.scoring import RewardEngine
from harness.serving.adapters import trl_reward_funcs
from harness.serving.client import RemoteRewardService
from harness.serving.service import RewardService
from harness.spec import Checker, Criterion, Provenance, RewardSpec
from harness.store import SpecStore


def make_specs(prompts: int) -> list[RewardSpec]:
    criteria = tuple(
        Criterion(id=f"c{i}", text=f"Criterion number {i} of the rubric is met.", weight=1 + i % 3)
        for i in range(1, 9)
    )
    checker = Checker(
        id="lower",
        constraint="The whole response is in lowercase.",
        source="def check(response):\n    return response == response.lower()\n",
    )
    return [
        RewardSpec(
            prompt_id=f"p{i}",
            prompt=f"Write a short poem about the sea in lowercase, mentioning salt (#{i}).",
            criteria=criteria,
            checkers=(checker,),
            provenance=Provenance(builder="bench", created_at="2026-01-01T00:00:00+00:00"),
        )
        for i in range(prompts)
    ]


def rollouts(specs: list[RewardSpec], group: int, tag: str) -> tuple[list[str], list[str]]:
    """(spec ids, completions) of one step: ``group`` distinct completions per prompt."""
    ids, texts = [], []
    for spec in specs:
        for g in range(group):
            ids.append(spec.prompt_id)
            case = str.upper if g % 4 == 0 else str.lower  # some fail the checker
            texts.append(case(f"salt on the wind {tag} {g}\nthe sea hums low\nwaves fold"))
    return ids, texts


def judge(latency: float, concurrency: int, name: str) -> Model:
    return get_model(
        f"simulated/{name}",  # each name has its own connection limit
        config=GenerateConfig(max_connections=concurrency),
        memoize=False,
        latency=latency,
    )


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as f:
        line = next(line for line in f if line.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the paths ------------------------------------------------------------------------------


async def bare_step(model: Model, specs: dict[str, RewardSpec], ids: list[str], texts: list[str]):
    rubric, glob = SingleCallRubric(), GlobalJudge()
    global_config = with_schema(GenerateConfig(temperature=0), glob.response_schema())
    configs = {
        i: with_schema(GenerateConfig(temperature=0), rubric.response_schema(s))
        for i, s in specs.items()
    }
    calls = []
    for i, text in zip(ids, texts, strict=True):
        calls.append(model.generate(rubric.messages(specs[i], text), config=configs[i]))
        calls.append(model.generate(glob.messages(specs[i], text), config=global_config))
    await asyncio.gather(*calls)
    return len(calls), []


async def trl_step(reward_fn: Any, step: int, ids: list[str], texts: list[str]):
    """The TRL adapter as GRPOTrainer calls it: every completion of the step at once."""
    logged: dict[str, float] = {}
    rewards = await reward_fn(
        prompts=["(prompt)"] * len(texts),
        completions=texts,
        completion_ids=[[0]] * len(texts),
        trainer_state=SimpleNamespace(global_step=step),
        log_metric=logged.__setitem__,
        log_extra=lambda column, values: None,
        spec_id=ids,
    )
    unscored = sum(r is None for r in rewards)
    if unscored or logged["harness/unscored"]:
        raise RuntimeError(f"{unscored} rollouts unscored")
    return 2 * len(texts), []


async def openrlhf_step(url: str, specs: dict[str, RewardSpec], ids, texts):
    """One request per rollout, all at once, each in its own aiohttp session: OpenRLHF's
    remote reward client (openrlhf/utils/agent.py, ``_fetch_rewards_via_http``)."""
    latencies: list[float] = []

    async def one(spec_id: str, text: str) -> None:
        prompt = specs[spec_id].prompt
        body = {"query": [prompt + text], "prompts": [prompt], "labels": [spec_id]}
        started = time.perf_counter()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as session:
            async with session.post(f"{url}/openrlhf", json=body) as reply:
                reply.raise_for_status()
                data = json.loads(await reply.text())
        if data["extra_logs"]["unscored"] != [0.0]:
            raise RuntimeError(f"unscored: {data}")
        latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(one(i, t) for i, t in zip(ids, texts, strict=True)))
    return 2 * len(texts), latencies


class Server:
    """``harness serve`` in its own process, with the simulated judge at C connections."""

    def __init__(self, specs_path: Path, latency: float, concurrency: int, runtime: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        grader = f"{{model: simulated/serve-c{concurrency}, model_args: {{latency: {latency}}}}}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "harness.cli", "serve", "--specs", str(specs_path),
             "--grader", grader, "--max-connections", str(concurrency),
             "--checker-runtime", runtime, "--deadline", "0",
             "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"harness serve exited: {self.process.stderr.read()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError("harness serve did not start within 120 s")

    def metrics(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/metrics", timeout=10).json()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def service(specs: list[RewardSpec], model: Model, runtime: Any) -> RewardService:
    store = {s.prompt_id: s for s in specs}
    engine = RewardEngine(
        rubric_judge=model,
        global_judge=model,
        checker_runtime=runtime,
        cache=JudgmentCache(),
    )

    class Specs:  # the specs in memory (the store's file is what the server reads)
        def get(self, prompt_id: str, version: str | None = None) -> RewardSpec | None:
            return store.get(prompt_id)

        def get_by_prompt_hash(self, prompt_hash: str) -> RewardSpec | None:
            return None

    return RewardService(engine, Specs(), deadline_s=None)


# -- the sections ---------------------------------------------------------------------------


PATHS = ("bare", "TRL adapter", "HTTP, batch (/score)", "HTTP, per sample (/openrlhf)")


async def run_paths(
    args: argparse.Namespace,
    specs: list[RewardSpec],
    c: int,
    latency: float,
    server: Server,
    runtime: Any,
) -> dict[str, dict[str, list[float]]]:
    """``args.steps`` steps of every path, interleaved step by step."""
    by_id = {s.prompt_id: s for s in specs}
    model = judge(latency, c, f"trl-c{c}-l{latency:g}")
    [trl_fn] = trl_reward_funcs(service(specs, model, runtime))
    [remote_fn] = trl_reward_funcs(RemoteRewardService(server.url))
    bare_model = judge(latency, c, f"bare-c{c}-l{latency:g}")
    stats: dict[str, dict[str, list[float]]] = {
        p: {"wall": [], "calls": [], "lat": []} for p in PATHS
    }
    for step in range(-1, args.steps):  # step -1 warms up (judges, sandbox pool, server)
        for path in PATHS:
            tag = f"{PATHS.index(path)}-{c}-{latency:g}-{step}"  # distinct: no cache hit
            ids, texts = rollouts(specs[:1] if step < 0 else specs, args.group, tag)
            started = time.perf_counter()
            if path == "bare":
                calls, lat = await bare_step(bare_model, by_id, ids, texts)
            elif path == "TRL adapter":
                calls, lat = await trl_step(trl_fn, max(step, 0), ids, texts)
            elif path.startswith("HTTP, batch"):
                calls, lat = await trl_step(remote_fn, max(step, 0), ids, texts)
            else:
                calls, lat = await openrlhf_step(server.url, by_id, ids, texts)
            wall = time.perf_counter() - started
            if step >= 0:
                stats[path]["wall"].append(wall)
                stats[path]["calls"].append(calls)
                stats[path]["lat"] += lat
                print(f"C={c} L={latency:g} step {step} {path}: {wall:.1f} s", file=sys.stderr)
    return stats


def throughput_rows(
    args: argparse.Namespace, specs: list[RewardSpec], specs_path: Path, runtime: Any
) -> list[str]:
    n = args.prompts * args.group
    rows = [
        "Simulated judge of latency L with C concurrent calls; "
        f"{n:,} rollouts per step "
        f"({args.prompts} prompts x {args.group}), 2 judge calls each (rubric + global), "
        f"one checker each (sandbox: {args.checker_runtime}); {args.steps} steps per path, "
        "interleaved; every step new completions (no cache hit).",
        "",
        "| C | L s | path | responses/s | calls/s | C/L | / (C/L) | / bare | step s p50 | step s max "
        "| request p50 s | request p99 s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c, latency in args.runs:
        bound = c / latency
        server = Server(specs_path, latency, c, args.checker_runtime)
        try:
            stats = asyncio.run(run_paths(args, specs, c, latency, server, runtime))
            server_rss = rss_mb(server.process.pid)
        finally:
            server.stop()
        bare_rate = sum(stats["bare"]["calls"]) / sum(stats["bare"]["wall"])
        for path in PATHS:
            s = stats[path]
            calls_per_s = sum(s["calls"]) / sum(s["wall"])
            lat = s["lat"]
            MEASURED[(c, latency, path)] = calls_per_s / bound
            MEASURED[(c, latency, path, "bare")] = calls_per_s / bare_rate
            rows.append(
                f"| {c} | {latency:g} | {path} | {calls_per_s / 2:.1f} | {calls_per_s:.1f} | {bound:g} "
                f"| {calls_per_s / bound:.2f} | {calls_per_s / bare_rate:.2f} "
                f"| {statistics.median(s['wall']):.1f} | {max(s['wall']):.1f} "
                f"| {f'{pct(lat, 0.5):.1f}' if lat else '—'} "
                f"| {f'{pct(lat, 0.99):.1f}' if lat else '—'} |"
            )
        rows.append(
            f"| {c} | {latency:g} | (`harness serve` RSS after its steps: {server_rss:.0f} MB) |"
            + " |" * 9
        )
    return rows


def memory_rows(args: argparse.Namespace, specs: list[RewardSpec], runtime) -> list[str]:
    """The TRL adapter path over many rollouts: RSS of this process after each step."""
    n = args.prompts * args.group
    steps = -(-args.memory_rollouts // n)
    c = args.memory_concurrency
    model = judge(args.memory_latency, c, f"memory-c{c}")
    [reward_fn] = trl_reward_funcs(service(specs, model, runtime))
    samples: list[float] = []

    async def run() -> float:
        started = time.perf_counter()
        for step in range(steps):
            ids, texts = rollouts(specs, args.group, f"mem-{step}")
            await trl_step(reward_fn, step, ids, texts)
            samples.append(rss_mb())
            if step % 10 == 0:
                print(f"memory step {step}/{steps}: {samples[-1]:.0f} MB", file=sys.stderr)
        return time.perf_counter() - started

    gc.collect()
    before = rss_mb()
    seconds = asyncio.run(run())
    total = steps * n
    MEASURED["memory peak"] = max(samples)
    return [
        "",
        f"Memory: the TRL adapter path over {total:,} rollouts ({steps} steps of {n:,}; judge "
        f"L = {args.memory_latency:g} s, C = {c}; in-memory judgment cache at its default "
        "100,000 entries), RSS of the scoring process:",
        "",
        "| rollouts | seconds | responses/s | RSS before MB | after step 1 MB | peak MB "
        "| at the end MB |",
        "|---|---|---|---|---|---|---|",
        f"| {total:,} | {seconds:.0f} | {total / seconds:.0f} | {before:.0f} | {samples[0]:.0f} "
        f"| {max(samples):.0f} | {samples[-1]:.0f} |",
    ]


MEASURED: dict[Any, float] = {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs",
        type=lambda t: (int(t.split(":")[0]), float(t.split(":")[1])),
        nargs="+",
        default=[(64, 1.0), (128, 2.0), (128, 1.0)],
        help="C:L pairs: concurrent judge calls and judge latency in seconds",
    )
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--group", type=int, default=16)
    parser.add_argument("--checker-runtime", default="auto")
    parser.add_argument("--memory-rollouts", type=int, default=100_000)
    parser.add_argument("--memory-latency", type=float, default=0.05)
    parser.add_argument("--memory-concurrency", type=int, default=128)
    parser.add_argument("--sections", nargs="+", default=["throughput", "memory"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    specs = make_specs(args.prompts)
    runtime = resolve_runtime(args.checker_runtime)
    command = " ".join(["python bench/serving_throughput.py", *sys.argv[1:]])
    out = ["# Reward serving throughput", "", f"Command: `{command}`", ""]
    with tempfile.TemporaryDirectory() as folder:
        specs_path = Path(folder) / "specs.jsonl"
        SpecStore(specs_path, create=True).put_many(specs)
        if "throughput" in args.sections:
            out += throughput_rows(args, specs, specs_path, runtime)
        if "memory" in args.sections:
            out += memory_rows(args, specs, runtime)
    out += ["", "Targets:", ""]
    for key, value in MEASURED.items():
        if isinstance(key, tuple) and len(key) == 3 and key[2] != "bare":
            c, latency, path = key
            verdict = "met" if value >= 0.9 else "NOT met"
            out.append(
                f"- C = {c}, L = {latency:g} s, {path}: {value:.2f} of C/L (target >= 0.90): "
                f"{verdict}; {MEASURED[(*key, 'bare')]:.2f} of bare"
            )
    if "memory peak" in MEASURED:
        peak = MEASURED["memory peak"]
        out.append(
            f"- memory over {args.memory_rollouts:,} rollouts: peak {peak:.0f} MB "
            f"(target < 1024 MB): {'met' if peak < 1024 else 'NOT met'}"
        )
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
