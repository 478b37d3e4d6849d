"""Building specs from prompts with a scripted generator: rubric, checkers, validation, resume."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import scripted_builder as sb
from conftest import SHARED_DATA, ScriptedJudge, standard_judge
from test_sandbox import require_docker

from harness.checkers.runtime import LocalRuntime
from harness.scoring import RewardEngine
from harness.specbuild import rubric as rubric_gen
from harness.specbuild.pipeline import (
    BUILD_VERSION,
    BuildSettings,
    PromptToBuild,
    build_all,
    build_spec,
)
from harness.store import SpecStore

ROOT = Path(__file__).resolve().parents[1]
PROMPT = PromptToBuild("p1", "Describe the sea in at least five words.")


@pytest.fixture(autouse=True)
def scenario():
    sb.SCENARIO.update(checkers="good", rubric="good")
    sb.CALLS.clear()
    yield


@pytest.fixture(scope="module")
def pool():
    require_docker()
    from harness.checkers.docker_pool import DockerPool

    p = DockerPool(size=1, limits={"checker_timeout_s": 1.0, "item_timeout_s": 3.0})
    yield p
    p.close()


def builder() -> ScriptedJudge:
    return ScriptedJudge(sb.script)


def test_rubric_postprocessing_dedupes_bounds_and_normalises() -> None:
    draft = rubric_gen.postprocess(
        rubric_gen.parse(json.dumps({"criteria": sb.RUBRIC})), maximum=12
    )
    assert [c.text for c in draft.criteria] == [
        "Has at least five words, as asked.",
        "Answers the question the prompt asks.",
        "Uses concrete, specific details.",
        "Pads the answer with filler.",
    ]
    assert draft.dropped == [
        {
            "text": "answers the question the prompt asks",
            "reason": "near-duplicate of: Answers the question the prompt asks.",
        }
    ]
    assert [c.weight for c in draft.criteria] == [0.3, 0.5, 0.2, -0.2]
    bounded = rubric_gen.postprocess(
        rubric_gen.parse(json.dumps({"criteria": sb.RUBRIC})), maximum=2
    )
    assert [c.text for c in bounded.criteria] == [
        "Has at least five words, as asked.",
        "Answers the question the prompt asks.",
    ]
    assert "over the limit of 2 criteria" in bounded.dropped[-1]["reason"]


@pytest.mark.parametrize(
    "criteria, message",
    [
        ([{"text": "x", "weight": 0, "category": "explicit"}], "not 0"),
        ([{"text": "x", "weight": 3, "category": "pitfall"}], "pitfalls, and only pitfalls"),
        (
            [{"text": "x", "weight": -3, "category": "pitfall"}],
            "at least one criterion with positive weight",
        ),
        ([{"text": "", "weight": 3, "category": "explicit"}], "has no text"),
        ([{"text": "x", "weight": 3, "category": "style"}], "category"),
    ],
)
def test_malformed_rubrics_are_rejected(criteria: list, message: str) -> None:
    with pytest.raises(Exception, match=message):
        rubric_gen.parse(json.dumps({"criteria": criteria}))


def test_malformed_generation_fails_the_prompt_and_stores_nothing(tmp_path: Path) -> None:
    sb.SCENARIO["rubric"] = "malformed"
    store = SpecStore(tmp_path / "s.jsonl", create=True)
    summary = asyncio.run(
        build_all(
            [PROMPT],
            store,
            BuildSettings(builder=builder().model()),
            tmp_path / "r.jsonl",
            progress=lambda _: None,
        )
    )
    assert (summary.built, summary.failed) == (0, 1) and len(store) == 0
    [report] = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert (
        report["status"] == "failed"
        and "rubric generation failed" in report["error"]
        and "(3 attempts)" in report["error"]
    )


def test_generated_checkers_are_never_run_on_the_host(tmp_path: Path) -> None:
    host = LocalRuntime(size=1)  # what a machine without Docker has
    try:
        spec, report = asyncio.run(
            build_spec(PROMPT, BuildSettings(builder=builder().model(), runtime=host))
        )
    finally:
        host.close()
    assert spec is None
    assert "refusing to run generated checker code outside a sandbox" in report["error"]


def test_tokens_and_cost_are_totalled(tmp_path: Path) -> None:
    store = SpecStore(tmp_path / "s.jsonl", create=True)
    lines: list[str] = []
    summary = asyncio.run(
        build_all(
            [PROMPT],
            store,
            BuildSettings(builder=builder().model()),
            tmp_path / "r.jsonl",
            progress=lines.append,
            prices=(2.0, 8.0),
        )
    )
    [spec] = list(store)
    assert (summary.input_tokens, summary.output_tokens) == (
        spec.provenance.usage["input_tokens"],
        spec.provenance.usage["output_tokens"],
    )
    assert summary.cost == pytest.approx(
        (summary.input_tokens * 2 + summary.output_tokens * 8) / 1e6
    )
    assert lines[0] == f"1 prompts: 0 already built, 1 to build ({BUILD_VERSION})"
    assert lines[1].startswith("[1/1] p1: 4 criteria, 0 checkers") and "cost" in lines[-1]


def test_rubric_only_build(tmp_path: Path) -> None:
    spec, report = asyncio.run(build_spec(PROMPT, BuildSettings(builder=builder().model())))
    assert spec is not None and not spec.checkers and len(spec.criteria) == 4
    assert (
        spec.task_label == "instruction_following"
        and spec.provenance.template_version == BUILD_VERSION
    )
    assert report["criteria"]["kept"] == 4 and report["checkers"] == {"kept": [], "dropped": []}


@pytest.mark.docker
def test_exact_spec_written_with_validated_checker(pool, tmp_path: Path) -> None:
    judge = builder()
    store = SpecStore(tmp_path / "s.jsonl", create=True)
    asyncio.run(
        build_all(
            [PROMPT],
            store,
            BuildSettings(builder=judge.model(), runtime=pool),
            tmp_path / "r.jsonl",
            progress=lambda _: None,
        )
    )
    [spec] = list(SpecStore(tmp_path / "s.jsonl"))
    assert [(c.id, c.weight, c.category, c.covered_by) for c in spec.criteria] == [
        ("c1", 0.3, "explicit", "k1"),
        ("c2", 0.5, "explicit", None),
        ("c3", 0.2, "implicit", None),
        ("c4", -0.2, "pitfall", None),
    ]
    [checker] = spec.checkers
    assert (checker.id, checker.constraint, checker.source) == ("k1", "At least 5 words.", sb.WORDS)
    assert [(p.response[:20], p.expected) for p in checker.probes[:4]] == [
        ("one two three four f", True),
        ("a b c d e f", True),
        ("too short", False),
        ("", False),
    ]
    assert [p.expected for p in checker.probes[4:]] == [None, None, None]
    assert (
        spec.provenance.builder == "spec_builder:mockllm/model"
        and spec.provenance.usage["calls"] == 3
    )
    assert [kind for kind, _ in sb.CALLS] == ["classify", "rubric", "checkers"]


@pytest.mark.docker
def test_bad_and_malicious_checkers_are_dropped_with_reasons(pool) -> None:
    sb.SCENARIO["checkers"] = "broken"
    spec, report = asyncio.run(
        build_spec(PROMPT, BuildSettings(builder=builder().model(), runtime=pool))
    )
    assert [k.constraint for k in spec.checkers] == ["At least 5 words."]
    reasons = {
        d["constraint"]: d["reason"] for d in report["checkers"]["dropped"] if d["round"] == 1
    }
    assert reasons["Does not compile."].startswith("does not compile")
    assert (
        reasons["Crashes."].startswith("exception on probe") and "IndexError" in reasons["Crashes."]
    )
    assert (
        reasons["Passes everything."].startswith("passes its violating probe")
        or "does not discriminate" in reasons["Passes everything."]
    )
    assert reasons["Wrong verdicts."].startswith("fails its satisfying probe")
    assert "PermissionError" in reasons["Reads a host secret."]
    assert reasons["Fork bomb."].startswith("exception on probe")
    assert reasons["Sleeps forever."].startswith("timeout on probe")
    assert reasons["No probes."] == "needs at least one satisfying and one violating probe"
    rounds = {d["round"] for d in report["checkers"]["dropped"]}
    assert rounds == {1, 2}  # the failed ones were asked for again, and failed again
    assert pool.restarts == 0  # the sandbox took all of it


@pytest.mark.docker
def test_a_failed_checker_is_regenerated(pool) -> None:
    sb.SCENARIO["checkers"] = "retry"
    spec, report = asyncio.run(
        build_spec(PROMPT, BuildSettings(builder=builder().model(), runtime=pool))
    )
    assert [k.source for k in spec.checkers] == [sb.WORDS]
    [dropped] = report["checkers"]["dropped"]
    assert dropped["round"] == 1 and dropped["reason"].startswith("fails its satisfying probe")


def _cli(args: list[str], crash_after: int | None = None) -> subprocess.CompletedProcess:
    code = "import sys; sys.path.insert(0, 'tests'); import scripted_builder; from harness.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "HARNESS_DATA_DIR": str(SHARED_DATA)}
    env.pop("CRASH_AFTER", None)
    if crash_after is not None:
        env["CRASH_AFTER"] = str(crash_after)
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.docker
def test_cli_build_on_ifbench_is_resumable_and_its_specs_score_real_responses(
    pool, tmp_path: Path
) -> None:
    out = tmp_path / "specs.jsonl"
    args = [
        "spec",
        "build",
        "--benchmark",
        "ifbench",
        "--limit",
        "5",
        "--out",
        str(out),
        "--model-role",
        "spec_builder=scripted/builder",
        "--concurrency",
        "1",
    ]
    first = _cli(args, crash_after=2)
    assert first.returncode == 9, first.stderr  # killed while building the third prompt
    assert len(SpecStore(out)) == 2
    refused = _cli(args)
    assert refused.returncode == 2 and "pass --resume" in refused.stderr
    second = _cli([*args, "--resume"])
    assert second.returncode == 0, second.stderr
    assert "5 prompts: 2 already built, 3 to build" in second.stderr
    store = SpecStore(out)
    assert len(store) == 5 and len({s.prompt_id for s in store}) == 5
    report = [
        json.loads(line) for line in out.with_suffix(".report.jsonl").read_text().splitlines()
    ]
    assert [r["status"] for r in report] == ["built"] * 5
    third = _cli([*args, "--resume"])
    assert "5 prompts: 5 already built, 0 to build" in third.stderr

    # the built specs score real IFBench responses: code from the generated checker, rubric by a judge
    outputs = {
        json.loads(line)["prompt"].strip(): json.loads(line)["response"]
        for line in (SHARED_DATA / "ifbench" / "sample_output.jsonl").read_text().splitlines()
    }
    judge = standard_judge({"c2": "yes", "c3": "partial", "c4": "no"}, global_score=5)
    engine = RewardEngine(
        rubric_judge=judge.model(), global_judge=judge.model(), checker_runtime=pool
    )
    for spec in store:
        response = outputs.get(spec.prompt_text.strip())
        if response is None:
            continue
        result = asyncio.run(engine.score(spec, None, response))
        words_ok = len(response.split()) >= 5
        assert result.code.value == (1.0 if words_ok else 0.0)
        assert result.rubric.value == pytest.approx(
            (0.5 + 0.5 * 0.2) / 0.7
        )  # c1 is left to the checker
        assert result.reward == pytest.approx((result.rubric.value + 0.5 + result.code.value) / 3)


def test_benchmark_task_with_a_built_spec_store(tmp_path: Path) -> None:
    """Native vs generated: the hybrid reward uses the built spec; official metrics stay native."""
    from conftest import metrics_of, run_eval

    from harness.benchmarks import writingbench as wb
    from harness.tasks.writingbench import writingbench

    every = wb.load_records(["Education"])
    store = SpecStore(tmp_path / "built.jsonl", create=True)
    items = [PromptToBuild(f"wb-{r['index']}", r["query"]) for r in every]
    settings = BuildSettings(builder=builder().model())
    asyncio.run(
        build_all(
            items, store, settings, tmp_path / "r.jsonl", concurrency=8, progress=lambda _: None
        )
    )
    assert len(store) == len(every) == 111
    records = every[:2]
    judge = standard_judge({"c1": "yes", "c2": "yes", "c3": "no", "c4": "no"}, global_score=8)
    log = run_eval(
        writingbench(domain1="Education", specs=str(store.path), rubric_mode="single"),
        tmp_path,
        {"grader": judge.model()},
        sample_id=[r["index"] for r in records],
    )
    for sample in log.samples:
        value = sample.scores["hybrid_reward"].value
        assert value["rubric"] == pytest.approx(
            (0.3 + 0.5) / 1.0
        )  # the generated rubric, graded in one call
        assert value["reward"] == pytest.approx((0.8 + 0.8) / 2)
    metrics = metrics_of(log)
    assert (
        metrics["hybrid_reward/writingbench_unscored"] == 2
    )  # no native judgments: no official score
    with pytest.raises(Exception, match="has no spec for prompt"):
        writingbench(domain1="Finance & Business", specs=str(store.path))


@pytest.mark.docker
def test_validate_reruns_recorded_probes_in_the_sandbox(pool, tmp_path: Path, capsys) -> None:
    from harness.cli import main

    store = SpecStore(tmp_path / "s.jsonl", create=True)
    settings = BuildSettings(builder=builder().model(), runtime=pool)
    asyncio.run(build_all([PROMPT], store, settings, tmp_path / "r.jsonl", progress=lambda _: None))
    assert main(["spec", "validate", str(store.path), "--run-probes"]) == 0
    assert "every checker still gives its recorded verdicts" in capsys.readouterr().out
    [spec] = list(store)
    [checker] = spec.checkers
    flipped = [
        p.model_copy(update={"expected": not p.expected}) if p.expected is not None else p
        for p in checker.probes
    ]
    store.append(spec.edit(checkers=(checker.model_copy(update={"probes": tuple(flipped)}),)))
    assert main(["spec", "validate", str(store.path), "--run-probes"]) == 1
    out = capsys.readouterr().out
    assert (
        "p1 k1: probe 'one two three four five': pass, expected fail" in out
        and "4 failure(s)" in out
    )
    assert main(["spec", "show", "p1", "--store", str(store.path)]) == 0
    shown = capsys.readouterr().out
    assert (
        "(verified by k1)" in shown
        and "(7 probes)" in shown
        and "Build tokens: input_tokens" in shown
    )
