"""The `harness` command: build, inspect and validate spec stores, score stored responses
against them without an Inspect eval, and list the judgments an eval left unscored.

Heavy modules (Inspect, the scoring core, checker runtimes) are imported by the sub-command
that needs them, so `harness --help` answers at once.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import re
import sys
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.data import DataError, iter_jsonl_lines, read_prompts, text_field

if TYPE_CHECKING:
    from inspect_ai.model import Model

    from harness.spec import RewardSpec
    from harness.store import SpecStore

DISTRIBUTION = "reward-harness"

EXAMPLES = """\
examples:
  harness spec build prompts.jsonl --out specs.jsonl --model-role spec_builder=openai/gpt-5
  harness spec build --benchmark ifbench --out ifbench-specs.jsonl \\
      --model-role spec_builder=vllm/Qwen/Qwen3-32B
  harness spec validate specs.jsonl --run-probes
  harness spec show p1 --store specs.jsonl
  harness score responses.jsonl --specs specs.jsonl --out rewards.jsonl \\
      --grader openai/gpt-4.1-mini
  harness score responses.jsonl --specs specs.jsonl --out rewards.jsonl --no-judge
  harness unscored logs/
  harness rank llmbar --grader openai/gpt-4.1-mini

exit status: 0 done; 1 an error in the inputs, the models or the results (one line on
stderr: file:line: what is wrong); 2 a command-line usage error (bare `harness` included)."""


class UsageError(Exception):
    """A command-line mistake: one line on stderr, exit status 2."""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults in the help (those worth showing), examples kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, [], argparse.SUPPRESS):
            return action.help
        return super()._get_help_string(action)


class _Progress:
    """A rich progress bar on stderr, as Inspect draws them, while a long job runs.

    Lines logged through it print above the bar; when stderr is not a terminal there is no
    bar and they print as plain lines."""

    def __init__(self, description: str, total: int | None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(stderr=True)
        self.enabled = self.console.is_terminal
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            disable=not self.enabled,
        )
        self.task = self.progress.add_task(description, total=total)

    def __enter__(self) -> _Progress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def advance(self, n: int = 1) -> None:
        self.progress.advance(self.task, n)

    def update(self, completed: int | None = None, total: int | None = None) -> None:
        self.progress.update(self.task, completed=completed, total=total)

    def log(self, line: str) -> None:
        if self.enabled:
            self.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            print(line, file=sys.stderr, flush=True)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


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


def _store(path: str) -> SpecStore:
    from harness.store import SpecStore

    return SpecStore(path)


def cmd_validate(args: argparse.Namespace) -> int:
    store = _store(args.store)
    latest = store.latest()
    criteria = sum(len(s.criteria) for s in latest)
    checkers = sum(len(s.checkers) for s in latest)
    print(
        f"{args.store}: {len(store)} spec version(s) for {len(latest)} prompt(s); "
        f"{criteria} criteria and {checkers} checkers in the newest versions"
    )
    if not args.run_probes:
        return 0
    from harness.checkers import resolve_runtime

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


PROBE_CHUNK = 64
"""Probes sent to the checker runtime per request: big enough to batch, small enough that the
progress bar moves."""


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
    verdicts = []
    with _Progress("probes", len(jobs)) as bar:
        for start in range(0, len(jobs), PROBE_CHUNK):
            chunk = jobs[start : start + PROBE_CHUNK]
            verdicts += await runtime.check([job[3] for job in chunk])
            bar.advance(len(chunk))
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
    store = _store(args.store)
    spec = store.get(args.prompt_id, version=args.version) or store.get_version(args.prompt_id)
    if spec is None:
        print(f"error: no spec for {args.prompt_id!r} in {args.store}", file=sys.stderr)
        return 1
    print(_show(spec))
    return 0


def _prompts_to_build(args: argparse.Namespace) -> list:
    from harness.specbuild.pipeline import PromptToBuild

    if args.benchmark:
        return [PromptToBuild(pid, prompt) for pid, prompt in benchmark_prompts(args.benchmark)]
    return [
        PromptToBuild(r.id, r.prompt, r.label or args.label)
        for r in read_prompts(Path(args.prompts))
    ]


RANKING_DATASETS = ("rmbench", "judgebench", "llmbar", "hh_harmless", "rewardbench2")
BENCHMARKS = (
    "ifeval", "ifbench", "writingbench", "healthbench", "arena_hard", "alpaca_eval",
    *RANKING_DATASETS,
)  # fmt: skip


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
    if name in RANKING_DATASETS:  # the prompts of a ranking benchmark's comparison groups
        from harness.ranking.datasets import load
        from harness.spec import prompt_hash

        seen: dict[str, tuple[str, Any]] = {}
        for group in load(name):
            seen.setdefault(prompt_hash(group.prompt), (f"{name}-{group.id}", group.prompt))
        return list(seen.values())
    raise UsageError(f"unknown benchmark {name!r}; expected one of {', '.join(BENCHMARKS)}")


def _roles(pairs: list[str]) -> dict[str, str]:
    roles = {}
    for pair in pairs:
        name, sep, model = pair.partition("=")
        if not sep or not name or not model:
            raise UsageError(f"--model-role expects name=model, got {pair!r}")
        roles[name] = model
    return roles


async def _build(args: argparse.Namespace) -> int:
    from harness.specbuild.pipeline import BuildSettings, build_all
    from harness.store import SpecStore

    if bool(args.prompts) == bool(args.benchmark):
        raise UsageError("give a prompts file or --benchmark NAME (one of them)")
    roles = _roles(args.model_role)
    if "spec_builder" not in roles:
        raise UsageError("bind the generator: --model-role spec_builder=<model>")
    out = Path(args.out)
    if out.exists() and not args.resume:
        raise UsageError(
            f"{out} exists: pass --resume to continue it (finished prompts are skipped)"
        )
    items = _prompts_to_build(args)[: args.limit]
    store = SpecStore(out, create=True)
    settings = BuildSettings(
        builder=_model(roles["spec_builder"], "spec_builder"),
        classifier=_model(roles.get("classifier"), "classifier"),
        runtime=None if args.no_checkers else _runtime(args.checker_runtime),
        max_criteria=args.max_criteria,
    )
    report = Path(args.report) if args.report else out.with_suffix(".report.jsonl")
    prices = tuple(args.price_per_million) if args.price_per_million else None
    with _Progress("specs", len(items)) as bar:

        def progress(line: str) -> None:
            # the pipeline's lines: "N prompts: S already built, T to build", then "[i/T] id: ..."
            if m := re.match(r"\d+ prompts: \d+ already built, (\d+) to build", line):
                bar.update(completed=0, total=int(m[1]))
            elif m := re.match(r"\[(\d+)/(\d+)\]", line):
                bar.update(completed=int(m[1]), total=int(m[2]))
            bar.log(line)

        summary = await build_all(
            items,
            store,
            settings,
            report,
            concurrency=args.concurrency,
            prices=prices,
            progress=progress,
        )
    print(f"specs: {out}")
    print(f"validation report: {report}")
    return 0 if summary.failed == 0 else 1


def _runtime(kind: str) -> Any:
    from harness.checkers import RUNTIME_KINDS, resolve_runtime

    if kind not in RUNTIME_KINDS:
        raise UsageError(
            f"--checker-runtime must be one of {', '.join(RUNTIME_KINDS)}, got {kind!r}"
        )
    return resolve_runtime(kind)


def _model(name: str | None, role: str, max_connections: int | None = None) -> Model | None:
    """A model for a role (a name, or inline YAML/JSON as for Inspect's --model-role); a
    missing API key or an unknown provider stops here, in one line, before any work."""
    if name is None:
        return None
    from harness.judges.roles import load_judge

    return load_judge(name, role, max_connections=max_connections)


def _score_requests(args: argparse.Namespace, store: Any) -> Iterator[Any]:
    """One request per line of the responses file, read as it is needed, every field checked
    (file:line: field)."""
    from harness.scoring import ScoreRequest

    for lineno, item in iter_jsonl_lines(Path(args.responses), required=("prompt_id", "response")):
        where = f"{args.responses}:{lineno}"
        prompt_id = text_field(item, "prompt_id", where, id_like=True)
        version = text_field(item, "spec_version", where, optional=True)
        response = text_field(item, "response", where)
        spec = store.get(prompt_id, version=version)
        if spec is None:
            wanted = f"prompt {prompt_id!r}" + (f" version {version!r}" if version else "")
            raise DataError(f"{where}: no spec for {wanted} in {args.specs}")
        yield ScoreRequest(spec, response)


def _scored_before(out: Path) -> Counter[tuple[str, str, str]]:
    """(prompt id, spec version, response hash) of every result already in ``out``: a rerun
    skips them (a response repeated in the input is skipped as often as it was scored)."""
    done: Counter[tuple[str, str, str]] = Counter()
    if not out.exists():
        return done
    for _, record in iter_jsonl_lines(out, required=("prompt_id", "spec_version", "response_hash")):
        done[(record["prompt_id"], record["spec_version"], record["response_hash"])] += 1
    return done


def _judges(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(rubric judge, global judge) model names; an unbound judge is an error unless
    --no-judge says to score with the checkers only."""
    graders = {"--grader": args.grader, "--rubric-grader": args.rubric_grader}
    graders["--global-grader"] = args.global_grader
    if args.no_judge:
        given = [flag for flag, model in graders.items() if model]
        if given:
            raise UsageError(f"--no-judge conflicts with {', '.join(given)}")
        return None, None
    rubric, glob = args.rubric_grader or args.grader, args.global_grader or args.grader
    missing = [name for name, model in (("rubric", rubric), ("global", glob)) if model is None]
    if missing:
        raise UsageError(
            f"no judge bound for the {' and '.join(missing)} component(s): pass --grader MODEL "
            "(or --rubric-grader / --global-grader), or --no-judge to score with checkers only"
        )
    return rubric, glob


def _engine(
    args: argparse.Namespace, rubric_judge: str | None, global_judge: str | None, checks: bool
) -> Any:
    """The scoring engine the judge, rubric-mode, weights, checker-runtime and cache options
    describe (a checker runtime only when some spec has checkers)."""
    from harness.serving.build import build_engine

    in_flight = getattr(args, "max_in_flight", None)
    try:
        return build_engine(
            _engine_settings(args, rubric_judge, global_judge, in_flight), checks=checks
        )
    except ValueError as ex:
        raise UsageError(str(ex)) from None


def _engine_settings(
    args: argparse.Namespace,
    rubric_judge: str | None,
    global_judge: str | None,
    in_flight: int | None = None,
) -> Any:
    from harness.serving.build import EngineSettings

    return EngineSettings(
        rubric_grader=rubric_judge,
        global_grader=global_judge,
        rubric_mode=args.rubric_mode,
        weights=args.weights,
        global_decay_steps=getattr(args, "global_decay_steps", None),
        checker_runtime=args.checker_runtime,
        cache_path=args.cache,
        max_connections=getattr(args, "max_connections", None),
        requests_per_minute=getattr(args, "requests_per_minute", None),
        tokens_per_minute=getattr(args, "tokens_per_minute", None),
        # streamed scoring keeps only recent judgments in memory (all are in --cache's file)
        memory_entries=max(4096, 4 * in_flight) if in_flight else None,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    """The reward service over HTTP until interrupted."""
    import uvicorn

    from harness.serving.server import create_app
    from harness.serving.service import RewardService
    from harness.store_index import IndexedSpecStore

    rubric_judge, global_judge = _judges(args)
    store = IndexedSpecStore(args.specs)
    engine = _engine(args, rubric_judge, global_judge, checks=True)
    service = RewardService(
        engine,
        store,
        deadline_s=args.deadline if args.deadline > 0 else None,
        max_pending=args.max_pending,
    )
    app = create_app(service, max_body_bytes=int(args.max_body_mb * 1024 * 1024))
    print(
        f"serving rewards for {args.specs} on http://{args.host}:{args.port} "
        "(POST /score, /openrlhf, /slime; GET /health, /metrics)",
        file=sys.stderr,
    )
    gc.freeze()  # what is loaded lives to the end: keep it out of the collector's scans
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


async def _score(args: argparse.Namespace) -> int:
    """Responses streamed in and results streamed out: at most ``--max-in-flight`` responses
    are held at once, whatever the size of the input; a rerun skips what ``--out`` has."""
    from harness.reward import COMPONENTS
    from harness.scoring import response_hash
    from harness.store_index import IndexedSpecStore

    rubric_judge, global_judge = _judges(args)
    store = IndexedSpecStore(args.specs)  # specs are read (and verified) as responses need them
    # a first pass checks every line (an error stops before any judge is paid) and counts
    total, needs_checks = 0, False
    for request in _score_requests(args, store):
        total += 1
        needs_checks = needs_checks or bool(request.spec.checkers)
    if args.no_judge and not needs_checks:
        raise DataError(
            f"--no-judge, and no spec in {args.specs} for these responses has checkers: nothing to score"
        )
    engine = _engine(args, rubric_judge, global_judge, needs_checks)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = Counter() if args.overwrite else _scored_before(out)
    skipped = sum(done.values())
    total -= skipped
    sums = dict.fromkeys(("reward", *COMPONENTS), 0.0)
    counts = dict.fromkeys(sums, 0)
    scored = 0

    def todo() -> Iterator[Any]:
        for request in _score_requests(args, store):
            key = (request.spec.prompt_id, request.spec.version, response_hash(request.response))
            if done[key]:
                done[key] -= 1
                continue
            yield request

    def batches() -> Iterator[list[Any]]:
        batch: list[Any] = []
        for request in todo():
            batch.append(request)
            if len(batch) == args.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    window = max(1, args.max_in_flight // args.batch_size)
    # Everything loaded so far (Inspect, the judges, the store index) lives to the end: keep it
    # out of the cyclic collector's scans, which were the largest part of the CPU per judge call.
    gc.freeze()
    if skipped:
        print(f"resuming: {skipped} response(s) already scored in {out}", file=sys.stderr)
    with (
        out.open("w" if args.overwrite else "a", encoding="utf-8") as f,
        _Progress("responses", total) as bar,
    ):
        pending: deque[asyncio.Task[Any]] = deque()

        async def write_oldest() -> None:
            nonlocal scored
            for result in await pending.popleft():
                f.write(result.model_dump_json(by_alias=True) + "\n")
                for key, value in result.values().items():
                    if not math.isnan(value):
                        sums[key] += value
                        counts[key] += 1
                scored += 1
                bar.advance(1)
            f.flush()

        try:
            for batch in batches():
                pending.append(asyncio.ensure_future(engine.score_batch(batch)))
                if len(pending) >= window:  # bounded: results go out in input order
                    await write_oldest()
            while pending:
                await write_oldest()
        finally:
            for task in pending:
                task.cancel()
    engine.cache.flush()
    print(
        f"scored {scored} response(s) -> {out}" + (f" ({skipped} from before)" if skipped else "")
    )
    for key in sums:
        mean = f"{sums[key] / counts[key]:.4f}" if counts[key] else "n/a"
        print(
            f"  {key:>7}: mean {mean} over {counts[key]} scored, "
            f"{scored - counts[key]} unscored/absent (this run)"
        )
    if args.no_judge:
        print(
            "  the reward is code-only: --no-judge left the rubric and global components unscored"
        )
    return 0


def _ranking_groups(args: argparse.Namespace) -> list:
    from harness.ranking.datasets import load

    kwargs: dict[str, Any] = {}
    if args.set:
        key = {
            "judgebench": "responses",
            "llmbar": "sets",
            "rmbench": "domains",
            "rewardbench2": "path",
            "hh_harmless": "path",
        }[args.dataset]
        value: Any = args.set
        if key in ("sets", "domains") and "," in value:
            value = [v.strip() for v in value.split(",") if v.strip()]
        kwargs[key] = Path(value) if key == "path" else value
    groups = load(args.dataset, **kwargs)
    return groups[: args.limit] if args.limit else groups


def _published(args: argparse.Namespace, out: Path, command: str) -> int:
    """JudgeBench's published reward-model outputs, scored with JudgeBench's own rule."""
    from harness.ranking.judgebench import load_published_scores, published_table
    from harness.tables import markdown_table

    if args.dataset != "judgebench":
        raise UsageError(
            "--published reads JudgeBench's reward-model output files: dataset judgebench"
        )
    pairs = load_published_scores(args.published)
    table = published_table(pairs).reset_index(names="category")
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "published.csv", index=False)
    model = pairs[0].judge_model if pairs else "?"
    shown = table.assign(accuracy=table.accuracy.map(lambda a: f"{a:.2f}"))
    text = "\n".join(
        [
            f"# JudgeBench: {model} (published per-pair scores)",
            "",
            f"Command: `{command}`",
            "",
            "JudgeBench's own rule (ScalerLab/JudgeBench utils/metrics.py compute_final_metrics):",
            "both orderings are judged, a pair counts when their net vote favours the correct",
            "response (a tie counts as wrong), and overall is over all pairs.",
            "",
            markdown_table(shown),
        ]
    )
    (out / "published.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"\nwritten to {out}/published.md and published.csv")
    return 0


def _rank_logs(args: argparse.Namespace, out: Path, command: str) -> int:
    """The report of ranking-task logs (inspect eval harness/rank_*): no judge call."""
    from inspect_ai.log import read_eval_log

    from harness.ranking.report import ranking_report, write_report
    from harness.ranking.task import groups_from_log
    from harness.tables import markdown_table

    groups, variants = [], {}
    for path in args.logs:
        if not Path(path).exists():
            raise DataError(f"{path}: no such log file")
        log_groups, log_variants = groups_from_log(read_eval_log(path))
        if not log_groups:
            raise DataError(f"{path}: not a ranking task's log (no per-response variant scores)")
        groups += log_groups
        for name, scores in log_variants.items():
            variants.setdefault(name, {}).update(scores)
    report = ranking_report(
        groups, variants, tie_policy=args.ties, reference=args.reference, n_resamples=args.bootstrap
    )
    files = write_report(report, out, title=f"Ranking: {args.dataset}", command=command)
    print(markdown_table(report.ablation))
    print(f"\n{len(groups)} groups from {len(args.logs)} log(s); report in {files[0]}")
    return 0


async def _rank(args: argparse.Namespace) -> int:
    import shlex

    from harness.ranking.report import ranking_report, write_report
    from harness.ranking.scoring import external_scores, score_groups

    command = shlex.join(["harness", *args.argv])
    out = Path(args.out or f"results/rank-{args.dataset}")
    if args.published:
        return _published(args, out, command)
    graders = args.grader or args.rubric_grader or args.global_grader
    if args.logs:
        if graders or args.scores or args.pairwise_judge:
            raise UsageError("--logs re-ranks what the logs hold: no judges or --scores with it")
        return _rank_logs(args, out, command)
    if not graders and not args.scores:
        raise UsageError(
            "nothing to rank with: pass --grader MODEL (the hybrid reward and its ablations), "
            "--scores NAME=FILE (an external reward model's scores), or --published FILE"
        )
    if args.pairwise_judge and args.dataset in ("rmbench", "rewardbench2"):
        raise UsageError("--pairwise-judge judges pairs: one chosen and one rejected response")
    groups = _ranking_groups(args)
    variants: dict[str, dict[str, float | None]] = {}
    if graders:
        rubric_judge, global_judge = _judges(args)
        store = _store(args.specs) if args.specs else None
        checks = store is not None and any(spec.checkers for spec in store.latest())
        engine = _engine(args, rubric_judge, global_judge, checks)
        responses = len({r.key for g in groups for r in g.responses})
        with _Progress("responses", responses) as bar:
            done = [0]

            def progress(n: int, total: int) -> None:
                bar.advance(n - done[0])
                done[0] = n

            scored = await score_groups(groups, engine, specs=store, progress=progress)
        variants.update(scored.scores)
    for pair in args.scores:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise UsageError(f"--scores expects NAME=FILE, got {pair!r}")
        variants[name] = external_scores(path, groups)
    pairwise = None
    if args.pairwise_judge:
        from harness.ranking.pairwise import judge_pairs

        pairwise = await judge_pairs(groups, _model(args.pairwise_judge, "pairwise_judge"))
    report = ranking_report(
        groups,
        variants,
        tie_policy=args.ties,
        reference=args.reference,
        n_resamples=args.bootstrap,
        pairwise=pairwise,
    )
    files = write_report(report, out, title=f"Ranking: {args.dataset}", command=command)
    from harness.tables import markdown_table

    print(markdown_table(report.ablation))
    print(f"\n{len(groups)} groups; report and tables in {files[0]} ({len(files)} files)")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Checkpoints' logs paired on the same samples: deltas with intervals and paired tests,
    noise floor, drift, largest regressions."""
    import shlex

    from harness.compare.report import comparison, write_comparison
    from harness.compare.samples import item_deltas, kind_deltas, read_logs
    from harness.tables import markdown_table

    names = {}
    for pair in args.name:
        log, sep, name = pair.rpartition("=")
        if not sep or not log or not name:
            raise UsageError(f"--name expects LOG=NAME, got {pair!r}")
        names[log] = name
    tables = read_logs(args.logs, names, progress=True)
    samples = tables.samples
    if samples.empty:
        raise DataError("no samples with a benchmark's official value or a reward in these logs")
    result = comparison(
        samples, args.baseline, agreement=tables.agreement, n_resamples=args.bootstrap
    )
    items = item_deltas(tables.items, args.baseline)
    out = Path(args.out or "results/compare")
    command = shlex.join(["harness", *args.argv])
    kinds = kind_deltas(tables.items, args.baseline)
    files = write_comparison(
        result, out, command=command, items=items, kinds=kinds, samples=samples
    )
    deltas = result.deltas
    shown = deltas[deltas.metric.isin(["official", "reward"])][
        ["benchmark", "metric", "candidate", "baseline_mean", "candidate_mean", "difference",
         "ci_low", "ci_high", "p_adjusted"]
    ] if not deltas.empty else deltas  # fmt: skip
    print(markdown_table(shown))
    print(f"\nreport and tables in {files[0]} ({len(files)} files)")
    return 0


def cmd_unscored(args: argparse.Namespace) -> int:
    """Every (sample, epoch, scorer) judgment without a score in the logs, with the reason."""
    for path in args.logs:
        if not Path(path).exists():
            raise DataError(f"{path}: no such log file or directory")
    from harness.analysis import unscored_df

    frame = unscored_df(args.logs)
    if frame.empty:
        print("no unscored judgments: every (sample, epoch) of every scorer has a score")
        return 0
    for (log, task, model), rows in frame.groupby(["log", "task", "model"], sort=False):
        counts = rows.groupby("scorer", sort=False, dropna=False).size()
        print(f"{log}  {task}  {model}")
        print(
            "  unscored (sample, epoch) judgments, in no accuracy's denominator: "
            + ", ".join(f"{scorer} {n}" for scorer, n in counts.items())
        )
        for r in rows.itertuples():
            print(f"  sample {r.id}  epoch {r.epoch}  {r.scorer}  [{r.missing}]  {r.reason}")
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown (not installed)"


def _reward_arguments(p: argparse.ArgumentParser) -> None:
    """The judges, rubric mode, weights, checker runtime and cache of the hybrid reward
    (``_engine`` reads them)."""
    p.add_argument("--grader", help="judge model, e.g. openai/gpt-4.1-mini or vllm/Qwen/Qwen3-32B")
    p.add_argument("--rubric-grader", help="judge model for the rubric (default: --grader)")
    p.add_argument("--global-grader", help="judge model for the global score (default: --grader)")
    p.add_argument(
        "--rubric-mode",
        default="single",
        help="single | per_criterion | writingbench | healthbench",
    )
    p.add_argument(
        "--weights",
        type=float,
        nargs=3,
        metavar=("RUBRIC", "GLOBAL", "CODE"),
        help="hybrid component weights (default: equal)",
    )
    p.add_argument(
        "--checker-runtime",
        default="auto",
        help="where checkers run: auto | docker | local | local-unsafe (see the README)",
    )
    p.add_argument("--cache", help="SQLite judgment cache file")


def _judging_arguments(p: argparse.ArgumentParser) -> None:
    """Whether judges are bound, and how many calls each may have at once (score, serve)."""
    p.add_argument(
        "--no-judge",
        action="store_true",
        help="no judges: rubric and global unscored, the reward comes from the checkers only",
    )
    p.add_argument(
        "--max-connections",
        type=_positive,
        default=None,
        help="concurrent calls to each judge (default: the provider's)",
    )
    p.add_argument(
        "--requests-per-minute",
        type=_positive_float,
        default=None,
        metavar="N",
        help="each judge model's request budget (roles on one model share it; default: none)",
    )
    p.add_argument(
        "--tokens-per-minute",
        type=_positive_float,
        default=None,
        metavar="N",
        help="each judge model's token budget, input + output (default: none)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description=__doc__.split("\n\n")[0],
        epilog=EXAMPLES,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()} ({DISTRIBUTION})"
    )
    parser.set_defaults(help_of=parser)
    sub = parser.add_subparsers(dest="command", metavar="{spec,score,unscored,rank,compare}")

    spec_parser = sub.add_parser(
        "spec", help="build, validate and show spec stores", formatter_class=_HelpFormatter
    )
    spec_parser.set_defaults(help_of=spec_parser)
    spec = spec_parser.add_subparsers(dest="spec_command", metavar="{build,validate,show}")

    p = spec.add_parser(
        "validate",
        help="parse a spec store and report what it holds",
        description="Parse a spec store; a malformed line fails with file:line: field.",
        formatter_class=_HelpFormatter,
    )
    p.add_argument("store", help="spec store (JSONL)")
    p.add_argument(
        "--run-probes",
        action="store_true",
        help="re-run every checker on its recorded probes in the sandbox",
    )
    p.add_argument(
        "--checker-runtime",
        default="docker",
        help="where the probes run: docker | sandbox | local-unsafe",
    )
    p.set_defaults(func=cmd_validate)

    p = spec.add_parser(
        "build",
        help="build specs from prompts (classify, rubric, checkers validated in the sandbox)",
        description="Build a spec per prompt; specs are appended to --out as they finish.",
        formatter_class=_HelpFormatter,
    )
    p.add_argument(
        "prompts",
        nargs="?",
        help='JSONL of {"id": ..., "prompt": text or messages, "label": optional}',
    )
    p.add_argument(
        "--benchmark", choices=BENCHMARKS, help="build for a benchmark's prompts instead"
    )
    p.add_argument("--out", required=True, help="spec store (JSONL) to write")
    p.add_argument(
        "--model-role",
        action="append",
        default=[],
        metavar="ROLE=MODEL",
        help="spec_builder=MODEL (required), classifier=MODEL (optional); repeatable",
    )
    p.add_argument("--label", help="task label for every prompt (skips classification)")
    p.add_argument("--limit", type=_positive, help="build only the first N prompts")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an existing store, skipping finished prompts",
    )
    p.add_argument("--concurrency", type=_positive, default=4, help="prompts built at once")
    p.add_argument("--max-criteria", type=_positive, default=12, help="criteria kept per rubric")
    p.add_argument(
        "--checker-runtime",
        default="docker",
        help="where generated checkers are validated: docker | sandbox",
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

    p = spec.add_parser("show", help="print one prompt's spec", formatter_class=_HelpFormatter)
    p.add_argument("prompt_id", help="prompt id (or a spec version)")
    p.add_argument("--store", required=True, help="spec store (JSONL)")
    p.add_argument("--version", help="a spec version (default: the newest)")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser(
        "score",
        help="score stored responses against a spec store (no Inspect eval)",
        description=(
            "Score each response against its prompt's spec: rubric and global judges plus the\n"
            "spec's checkers. Every judge must be bound (--grader), or --no-judge must say to\n"
            "score with the checkers only."
        ),
        epilog=(
            "examples:\n"
            "  harness score responses.jsonl --specs specs.jsonl --out rewards.jsonl \\\n"
            "      --grader openai/gpt-4.1-mini --cache judgments.sqlite\n"
            "  harness score responses.jsonl --specs specs.jsonl --out rewards.jsonl \\\n"
            "      --rubric-grader vllm/Qwen/Qwen3-32B --global-grader openai/gpt-4.1\n"
            "  harness score responses.jsonl --specs specs.jsonl --out rewards.jsonl --no-judge"
        ),
        formatter_class=_HelpFormatter,
    )
    p.add_argument(
        "responses",
        help='JSONL of {"prompt_id": ..., "response": "text", "spec_version": optional}',
    )
    p.add_argument("--specs", required=True, help="spec store (JSONL)")
    p.add_argument("--out", required=True, help="JSONL of reward results")
    _reward_arguments(p)
    _judging_arguments(p)
    p.add_argument("--batch-size", type=_positive, default=64, help="responses per checker request")
    p.add_argument(
        "--max-in-flight",
        type=_positive,
        default=512,
        help="responses being scored at once (memory stays bounded by this, not by the input)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="start --out afresh (default: keep it and score only what it lacks)",
    )
    p.set_defaults(func=lambda a: asyncio.run(_score(a)))

    p = sub.add_parser(
        "serve",
        help="serve rewards over HTTP for RL trainers (TRL, verl, OpenRLHF, slime)",
        description=(
            "An HTTP reward service over one scoring engine (warm checker pool, judgment cache,\n"
            "spec store opened once): POST /score, /openrlhf (OpenRLHF's remote reward), /slime\n"
            "(slime's remote reward); GET /health, /metrics. An item not scored within\n"
            "--deadline comes back unscored with the reason: a slow judge never hangs a step."
        ),
        epilog=(
            "examples:\n"
            "  harness serve --specs specs.jsonl --grader openai/gpt-4.1-mini --port 8000\n"
            "  harness serve --specs specs.jsonl --grader vllm/Qwen/Qwen3-32B \\\n"
            "      --global-decay-steps 800 --max-connections 64 --cache judgments.sqlite\n"
            "  harness serve --specs specs.jsonl --no-judge   # checkers only"
        ),
        formatter_class=_HelpFormatter,
    )
    p.add_argument("--specs", required=True, help="spec store (JSONL)")
    _reward_arguments(p)
    _judging_arguments(p)
    p.add_argument(
        "--global-decay-steps",
        type=_positive,
        default=None,
        help="the global share decays 1 -> 0 over this many training steps (requests pass step)",
    )
    p.add_argument(
        "--deadline",
        type=float,
        default=120.0,
        help="seconds an item may take before it is returned unscored (0: no deadline)",
    )
    p.add_argument(
        "--max-pending", type=_positive, default=16384, help="items accepted at once (backpressure)"
    )
    p.add_argument("--max-body-mb", type=float, default=64.0, help="largest request body")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "unscored",
        help="list the judgments an eval left unscored, with the reasons",
        description=(
            "List every (sample, epoch, scorer) judgment of an Inspect log that has no score\n"
            "(a checker error or timeout, a judge failure, a sample error): the judgments the\n"
            "unscored metrics count and the accuracies leave out."
        ),
        epilog="examples:\n  harness unscored logs/\n  harness unscored logs/2026-01-01_ifeval_x.eval",
        formatter_class=_HelpFormatter,
    )
    p.add_argument("logs", nargs="+", help="Inspect log files or log directories")
    p.set_defaults(func=cmd_unscored)

    p = sub.add_parser(
        "compare",
        help="compare checkpoints' eval logs: paired deltas, noise floor, drift, regressions",
        description=(
            "Pair every checkpoint with the baseline on the same (benchmark, sample, epoch) and\n"
            "report per benchmark and for the five-benchmark average (official metrics in\n"
            "points): each checkpoint's score with its interval; the paired difference with a\n"
            "bootstrap interval, the paired test (McNemar / paired t, Wilcoxon beside it),\n"
            "win/tie/loss, Holm-adjusted p-values; the noise floor of repeated runs; length and\n"
            "markdown drift next to the reward change; checker-judge agreement; changes per\n"
            "instruction type, checker and rubric criterion; the largest per-sample regressions\n"
            "(log and sample id for inspect view). Writes comparison.md, CSVs and plots."
        ),
        epilog=(
            "examples:\n"
            "  harness compare logs/ --baseline vllm/sft-step0\n"
            "  harness compare before.eval after.eval --name before.eval=sft "
            "--name after.eval=rl --baseline sft"
        ),
        formatter_class=_HelpFormatter,
    )
    p.add_argument("logs", nargs="+", help="Inspect logs or log directories of the checkpoints")
    p.add_argument("--baseline", required=True, help="the checkpoint the others are compared with")
    p.add_argument(
        "--name",
        action="append",
        default=[],
        metavar="LOG=NAME",
        help="a checkpoint name for a log (default: the log's model); repeatable",
    )
    p.add_argument("--bootstrap", type=_positive, default=2000, help="bootstrap resamples")
    p.add_argument("--out", help="output folder (default: results/compare)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser(
        "rank",
        help="how well a reward ranks responses on a preference benchmark",
        description=(
            "Score every response of a ranking benchmark once (the hybrid reward, and every\n"
            "ablation from the same judgments) or read external scores, then write accuracy per\n"
            "subset with bootstrap intervals, the ablation table, paired significance against\n"
            "the hybrid and bias probes (markdown, CSV, PNG) into --out."
        ),
        epilog=(
            "examples:\n"
            "  harness rank llmbar --grader openai/gpt-4.1-mini --cache judgments.sqlite\n"
            "  harness rank rmbench --specs rmbench-specs.jsonl --grader vllm/Qwen/Qwen3-32B\n"
            "  harness rank judgebench --scores my_rm=scores.jsonl\n"
            "  harness rank judgebench --published outputs/skywork-8b.jsonl"
        ),
        formatter_class=_HelpFormatter,
    )
    p.add_argument("dataset", choices=RANKING_DATASETS, help="the ranking benchmark")
    p.add_argument(
        "--set",
        help="judgebench: gpt-4o | claude; llmbar: llmbar | adversarial | processed | all | a "
        "set; rmbench: domains, comma-separated; rewardbench2 / hh_harmless: a local file",
    )
    p.add_argument("--limit", type=_positive, help="only the first N comparison groups")
    p.add_argument("--specs", help="spec store for the prompts (else prompt-only specs)")
    _reward_arguments(p)
    p.add_argument(
        "--scores",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help='an external reward model\'s scores, JSONL of {"id", "chosen": [...], '
        '"rejected": [...]}; repeatable',
    )
    p.add_argument(
        "--logs",
        nargs="+",
        metavar="LOG",
        help="re-rank the logs of a ranking task (inspect eval harness/rank_DATASET): no judge call",
    )
    p.add_argument(
        "--pairwise-judge",
        metavar="MODEL",
        help="also a pairwise judge shown both responses, both orders (JudgeBench's "
        "Arena-Hard prompt): the baseline, with its position consistency",
    )
    p.add_argument(
        "--published",
        metavar="FILE",
        help="JudgeBench's published reward-model output file, scored with JudgeBench's rule",
    )
    p.add_argument(
        "--ties",
        choices=("strict", "half", "1/k"),
        help="tie policy (default: the dataset's official rule: 1/k for rewardbench2, else strict)",
    )
    p.add_argument("--reference", default="hybrid", help="variant the others are tested against")
    p.add_argument("--bootstrap", type=_positive, default=2000, help="bootstrap resamples")
    p.add_argument("--out", help="output folder (default: results/rank-DATASET)")
    p.set_defaults(func=lambda a: asyncio.run(_rank(a)), no_judge=False)
    return parser


def _prerequisite(ex: BaseException) -> bool:
    errors = sys.modules.get("inspect_ai._util.error")  # not imported: cannot be one of these
    return errors is not None and isinstance(ex, errors.PrerequisiteError)


def _one_line(ex: BaseException) -> str | None:
    """The message of an error the user can fix, on one line; None for anything else (a bug:
    its traceback is worth seeing)."""
    if isinstance(ex, DataError | ValueError | OSError):
        return " ".join(line.strip() for line in str(ex).splitlines())
    if _prerequisite(ex):
        from harness.judges.roles import plain_message

        return plain_message(ex)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if getattr(args, "func", None) is None:  # `harness` or `harness spec` alone
        args.help_of.print_help()
        return 2
    try:
        return args.func(args)
    except UsageError as ex:
        print(f"{parser.prog}: error: {ex}", file=sys.stderr)
        return 2
    except Exception as ex:
        message = _one_line(ex)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
