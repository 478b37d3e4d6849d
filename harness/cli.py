"""The `harness` command: inspect spec stores and score responses without an Inspect eval."""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from pathlib import Path
from typing import Any

from harness.cache import JudgmentCache
from harness.checkers import resolve_runtime
from harness.data import DataError, read_jsonl
from harness.protocols import rubric_protocol_named
from harness.reward import COMPONENTS, HybridConfig
from harness.scoring import RewardEngine, RewardResult, ScoreRequest
from harness.spec import RewardSpec
from harness.store import SpecStore, SpecStoreError


def _show(spec: RewardSpec) -> str:
    lines = [
        f"{spec.prompt_id}  version {spec.version[:12]}  label {spec.task_label or '-'}  scale {spec.verdict_scale}",
        f"built by {spec.provenance.builder} at {spec.provenance.created_at}"
        + (
            f" (template {spec.provenance.template_version})"
            if spec.provenance.template_version
            else ""
        ),
        "",
        "Prompt:",
        *("  " + line for line in spec.prompt_text.splitlines()),
        "",
        f"Rubric ({len(spec.criteria)} criteria, positive weight {spec.criterion_weight_total:g}):",
    ]
    for c in spec.criteria:
        kind = f" [{c.category}]" if c.category else ""
        covered = f"  (verified by {c.covered_by})" if c.covered_by else ""
        lines.append(f"  {c.id:>6}  {c.weight:>+6g}{kind}  {c.text}{covered}")
    lines.append("")
    lines.append(f"Checkers ({len(spec.checkers)}):")
    for k in spec.checkers:
        probes = f"  ({len(k.probes)} probes)" if k.probes else ""
        lines.append(f"  {k.id:>6}  {k.constraint}{probes}")
    if spec.provenance.usage:
        lines.append("")
        lines.append(
            "Build tokens: " + ", ".join(f"{k} {v}" for k, v in spec.provenance.usage.items())
        )
    return "\n".join(lines)


def cmd_validate(args: argparse.Namespace) -> int:
    store = SpecStore(args.store)
    latest = store.latest()
    criteria = sum(len(s.criteria) for s in latest)
    checkers = sum(len(s.checkers) for s in latest)
    print(
        f"{args.store}: {len(store)} spec version(s) for {len(latest)} prompt(s); "
        f"{criteria} criteria and {checkers} checkers in the newest versions"
    )
    if not args.run_probes:
        return 0
    failures = asyncio.run(_rerun_probes(latest, resolve_runtime(args.checker_runtime)))
    for line in failures:
        print(line)
    verdict = (
        f"{len(failures)} failure(s)"
        if failures
        else "every checker still gives its recorded verdicts"
    )
    print(f"probes: {verdict}")
    return 1 if failures else 0


async def _rerun_probes(specs: list[RewardSpec], runtime: Any) -> list[str]:
    """Run every checker on its recorded probes again (in the checker runtime)."""
    from harness.checkers import CheckItem

    jobs = []
    for spec in specs:
        for checker in spec.checkers:
            one = spec.model_copy(update={"checkers": (checker,), "criteria": ()})
            jobs += [
                (spec, checker, probe, CheckItem(one, probe.response)) for probe in checker.probes
            ]
    if not jobs:
        return []
    verdicts = await runtime.check([job[3] for job in jobs])
    failures = []
    for (spec, checker, probe, _), [v] in zip(jobs, verdicts, strict=True):
        wrong = probe.expected is not None and (v.status == "pass") != probe.expected
        if v.status == "error" or wrong:
            expected = "pass" if probe.expected else "fail"
            detail = (
                f"{v.error_kind}: {v.message}"
                if v.status == "error"
                else f"{v.status}, expected {expected}"
            )
            failures.append(
                f"{spec.prompt_id} {checker.id}: probe {probe.response[:40]!r}: {detail}"
            )
    return failures


def cmd_show(args: argparse.Namespace) -> int:
    store = SpecStore(args.store)
    spec = store.get(args.prompt_id, version=args.version) or store.get_version(args.prompt_id)
    if spec is None:
        print(f"no spec for {args.prompt_id!r} in {args.store}", file=sys.stderr)
        return 1
    print(_show(spec))
    return 0


def _prompts_to_build(args: argparse.Namespace) -> list:
    from harness.spec import PromptMessage
    from harness.specbuild.pipeline import PromptToBuild

    if args.benchmark:
        return [PromptToBuild(pid, prompt) for pid, prompt in benchmark_prompts(args.benchmark)]
    items = []
    for i, record in enumerate(read_jsonl(Path(args.prompts), required=("id", "prompt")), start=1):
        raw = record["prompt"]
        if not isinstance(raw, str | list):
            raise DataError(f"{args.prompts}:{i}: 'prompt' must be text or a list of messages")
        prompt = (
            raw if isinstance(raw, str) else tuple(PromptMessage.model_validate(m) for m in raw)
        )
        items.append(PromptToBuild(str(record["id"]), prompt, record.get("label") or args.label))
    return items


def benchmark_prompts(name: str) -> list[tuple[str, Any]]:
    """(prompt id, prompt) of a benchmark's prompts, through its loader."""
    if name in ("ifeval", "ifbench"):
        from harness.benchmarks import instruction_following as inf

        return [(f"{name}-{r['key']}", r["prompt"]) for r in inf.load_records(name)]
    if name == "writingbench":
        from harness.benchmarks import writingbench as wb

        return [(f"writingbench-{r['index']}", r["query"]) for r in wb.load_records()]
    if name == "healthbench":
        from harness.benchmarks import healthbench as hb

        return [(r["prompt_id"], hb.native_spec(r).prompt) for r in hb.load_records("sample_500")]
    if name == "arena_hard":
        from harness.benchmarks import arena_hard as ah

        return [(f"arena_hard-{q.uid}", q.prompt) for q in ah.load_questions("v2.0")]
    if name == "alpaca_eval":
        from harness.benchmarks import alpaca_eval as ae

        return [(f"alpaca_eval-{r['index']}", r["instruction"]) for r in ae.load_records()]
    raise DataError(
        f"unknown benchmark {name!r}; expected ifeval, ifbench, writingbench, healthbench, arena_hard or alpaca_eval"
    )


def _roles(pairs: list[str]) -> dict[str, str]:
    roles = {}
    for pair in pairs:
        name, sep, model = pair.partition("=")
        if not sep or not name or not model:
            raise ValueError(f"--model-role expects name=model, got {pair!r}")
        roles[name] = model
    return roles


async def _build(args: argparse.Namespace) -> int:
    from harness.specbuild.pipeline import BuildSettings, build_all

    roles = _roles(args.model_role)
    if "spec_builder" not in roles:
        raise ValueError("bind the generator: --model-role spec_builder=<model>")
    out = Path(args.out)
    if out.exists() and not args.resume:
        raise ValueError(
            f"{out} exists: pass --resume to continue it (finished prompts are skipped)"
        )
    items = _prompts_to_build(args)[: args.limit]
    store = SpecStore(out, create=True)
    settings = BuildSettings(
        builder=_model(roles["spec_builder"]),
        classifier=_model(roles.get("classifier")),
        runtime=None if args.no_checkers else resolve_runtime(args.checker_runtime),
        max_criteria=args.max_criteria,
    )
    report = Path(args.report) if args.report else out.with_suffix(".report.jsonl")
    prices = tuple(args.price_per_million) if args.price_per_million else None
    summary = await build_all(
        items, store, settings, report, concurrency=args.concurrency, prices=prices
    )
    print(f"specs: {out}")
    print(f"validation report: {report}")
    return 0 if summary.failed == 0 else 1


def _model(name: str | None):
    if name is None:
        return None
    from inspect_ai.model import get_model

    return get_model(name)


async def _score(args: argparse.Namespace) -> int:
    store = SpecStore(args.specs)
    items = read_jsonl(Path(args.responses), required=("prompt_id", "response"))
    requests = []
    for i, item in enumerate(items, start=1):
        spec = store.get(str(item["prompt_id"]), version=item.get("spec_version"))
        if spec is None:
            raise DataError(
                f"{args.responses}:{i}: no spec for prompt {item['prompt_id']!r} in {args.specs}"
            )
        requests.append(ScoreRequest(spec, str(item["response"])))
    needs_checks = any(r.spec.checkers for r in requests)
    engine = RewardEngine(
        checker_runtime=resolve_runtime(args.checker_runtime) if needs_checks else None,
        rubric_judge=_model(args.rubric_grader or args.grader),
        global_judge=_model(args.global_grader or args.grader),
        rubric_protocol=rubric_protocol_named(args.rubric_mode),
        hybrid=HybridConfig(weights=dict(zip(COMPONENTS, args.weights, strict=True)))
        if args.weights
        else None,
        cache=JudgmentCache(args.cache),
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    results: list[RewardResult] = []
    with out.open("w", encoding="utf-8") as f:
        for start in range(0, len(requests), args.batch_size):
            batch = await engine.score_batch(requests[start : start + args.batch_size])
            for result in batch:
                f.write(result.model_dump_json(by_alias=True) + "\n")
            f.flush()
            results.extend(batch)
    print(f"scored {len(results)} response(s) -> {out}")
    for key in ("reward", *COMPONENTS):
        values = [r.values()[key] for r in results]
        scored = [v for v in values if not math.isnan(v)]
        mean = f"{sum(scored) / len(scored):.4f}" if scored else "n/a"
        print(
            f"  {key:>7}: mean {mean} over {len(scored)} scored, {len(values) - len(scored)} unscored/absent"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    spec = sub.add_parser("spec", help="inspect spec stores").add_subparsers(
        dest="spec_command", required=True
    )
    p = spec.add_parser("validate", help="parse a spec store and report what it holds")
    p.add_argument("store")
    p.add_argument(
        "--run-probes",
        action="store_true",
        help="re-run every checker on its recorded probes in the sandbox",
    )
    p.add_argument(
        "--checker-runtime",
        default="docker",
        help="where the probes run (docker | sandbox | local-unsafe)",
    )
    p.set_defaults(func=cmd_validate)
    p = spec.add_parser(
        "build",
        help="build specs from prompts (classify, rubric, checkers validated in the sandbox)",
    )
    p.add_argument(
        "prompts", nargs="?", help='JSONL of {"id": ..., "prompt": ..., "label": optional}'
    )
    p.add_argument(
        "--benchmark",
        help="build for a benchmark's prompts instead (ifeval, ifbench, writingbench, healthbench, alpaca_eval)",
    )
    p.add_argument("--out", required=True, help="spec store (JSONL) to write")
    p.add_argument(
        "--model-role",
        action="append",
        default=[],
        help="spec_builder=MODEL (required), classifier=MODEL (optional)",
    )
    p.add_argument("--label", help="task label for every prompt (skips classification)")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an existing store, skipping finished prompts",
    )
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--max-criteria", type=int, default=12)
    p.add_argument(
        "--checker-runtime",
        default="docker",
        help="where generated checkers are validated (docker | sandbox)",
    )
    p.add_argument("--no-checkers", action="store_true", help="rubrics only")
    p.add_argument("--report", help="validation report (default: OUT with .report.jsonl)")
    p.add_argument(
        "--price-per-million",
        type=float,
        nargs=2,
        metavar=("INPUT", "OUTPUT"),
        help="token prices, to total the cost",
    )
    p.set_defaults(func=lambda a: asyncio.run(_build(a)))
    p = spec.add_parser("show", help="print one prompt's spec")
    p.add_argument("prompt_id", help="prompt id (or a spec version)")
    p.add_argument("--store", required=True)
    p.add_argument("--version", default=None)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser(
        "score", help="score stored responses against a spec store (no Inspect eval)"
    )
    p.add_argument("responses", help='JSONL of {"prompt_id": ..., "response": ...}')
    p.add_argument("--specs", required=True, help="spec store (JSONL)")
    p.add_argument("--out", required=True, help="JSONL of reward results")
    p.add_argument("--grader", help="judge model, e.g. openai/gpt-4.1-mini or vllm/Qwen/Qwen3-32B")
    p.add_argument("--rubric-grader", help="judge model for the rubric (default: --grader)")
    p.add_argument("--global-grader", help="judge model for the global score (default: --grader)")
    p.add_argument(
        "--rubric-mode",
        default="single",
        help="single | per_criterion | writingbench | healthbench",
    )
    p.add_argument("--weights", type=float, nargs=3, metavar=("RUBRIC", "GLOBAL", "CODE"))
    p.add_argument(
        "--checker-runtime",
        default="auto",
        help="where checkers run: auto | docker | local | local-unsafe (see the README)",
    )
    p.add_argument("--cache", default=None, help="SQLite judgment cache file")
    p.add_argument("--batch-size", type=int, default=64)
    p.set_defaults(func=lambda a: asyncio.run(_score(a)))

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (SpecStoreError, DataError, FileNotFoundError, ValueError) as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
