"""IFEval / IFBench: official checker verdicts reproduced exactly; specs; tasks; replayed responses."""

from __future__ import annotations

import asyncio
import json
import math
from collections import Counter, defaultdict
from pathlib import Path
from statistics import mean

import pytest
from conftest import SHARED_DATA, ScriptedJudge, headline_of, make_spec, metrics_of
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.log import EvalLog, read_eval_log
from inspect_ai.solver import generate

from harness.benchmarks import instruction_following as inf
from harness.checkers import CheckItem, UnavailableRuntime
from harness.checkers.runtime import LocalRuntime, UntrustedCodeError
from harness.provenance import OFFICIAL_CHECKER_PACKAGES
from harness.replay import ReplayError, load_responses
from harness.report import short_answer
from harness.scorers import spec_metadata

IFBENCH = SHARED_DATA / "ifbench"


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def local() -> LocalRuntime:
    """Host runners: they accept the built-in (trusted) checkers and nothing else."""
    pool = LocalRuntime(size=1)
    yield pool
    pool.close()


def official_pairs() -> list[tuple[dict, dict, dict, dict]]:
    """(input record, sample output, official strict, official loose) matched by prompt."""
    inputs = {r["prompt"].strip(): r for r in inf.load_records("ifbench")}
    strict = {r["prompt"]: r for r in jsonl(IFBENCH / "eval_results_strict.jsonl")}
    loose = {r["prompt"]: r for r in jsonl(IFBENCH / "eval_results_loose.jsonl")}
    return [
        (inputs.get(o["prompt"].strip()), o, strict[o["prompt"]], loose[o["prompt"]])
        for o in jsonl(IFBENCH / "sample_output.jsonl")
    ]


def test_ifbench_reproduces_the_official_verdicts_exactly(local: LocalRuntime) -> None:
    pairs = official_pairs()
    assert len(pairs) == 294
    matched = [
        p
        for p in pairs
        if p[0] is not None and p[0]["instruction_id_list"] == p[2]["instruction_id_list"]
    ]
    # One upstream response was graded against another version of its prompt (see below).
    assert len(matched) == 293

    async def run() -> list[inf.Following]:
        return await asyncio.gather(
            *(
                inf.follow(local, inf.native_spec(record, "ifbench"), out["response"])
                for record, out, _, _ in matched
            )
        )

    results = asyncio.run(run())
    mismatches = []
    for (record, _, strict, loose), f in zip(matched, results, strict=True):
        assert not f.errors, f.errors
        if (
            f.strict != strict["follow_instruction_list"]
            or f.loose != loose["follow_instruction_list"]
        ):
            mismatches.append(record["key"])
    assert mismatches == []
    n_instructions = sum(len(f.strict) for f in results)
    assert n_instructions == 334
    prompt_strict = sum(all(f.strict) for f in results) / len(results)
    assert prompt_strict == pytest.approx(
        sum(s["follow_all_instructions"] for _, _, s, _ in matched) / 293
    )


def test_the_odd_upstream_item_also_matches_with_its_graded_instruction(
    local: LocalRuntime,
) -> None:
    """The NMDCAT response was graded officially against custom:csv_city (an older prompt version)."""
    [(record, out, strict, loose)] = [
        p
        for p in official_pairs()
        if p[0] is None or p[0]["instruction_id_list"] != p[2]["instruction_id_list"]
    ]
    graded = {
        "key": "official",
        "prompt": out["prompt"],
        "instruction_id_list": strict["instruction_id_list"],
        "kwargs": [{}],
    }
    f = asyncio.run(inf.follow(local, inf.native_spec(graded, "ifbench"), out["response"]))
    assert (
        f.strict == strict["follow_instruction_list"]
        and f.loose == loose["follow_instruction_list"]
    )


def test_loose_variants_are_the_official_eight() -> None:
    variants = inf.loose_variants("Title\n**bold** body\nend")
    assert variants == [
        "Title\n**bold** body\nend",
        "Title\nbold body\nend",
        "**bold** body\nend",
        "Title\n**bold** body",
        "**bold** body",
        "bold body\nend",
        "Title\nbold body",
        "bold body",
    ]


def test_spec_drops_none_kwargs_only() -> None:
    record = {
        "key": 9,
        "prompt": "p",
        "instruction_id_list": ["a:b", "c:d"],
        "kwargs": [{"n": 0, "s": "", "x": None}, {}],
    }
    spec = inf.native_spec(record, "ifbench")
    assert spec.checkers[0].kwargs == {
        "instruction_id": "a:b",
        "kwargs": {"n": 0, "s": ""},
        "prompt": "p",
    }
    assert [c.id for c in spec.checkers] == ["0:a:b", "1:c:d"]
    assert spec.checkers[0].source in inf.TRUSTED_SOURCES
    with pytest.raises(ValueError, match="unknown benchmark"):
        inf.load_records("ifeval2")


def test_ifeval_checkers_and_the_deterministic_letter_check(local: LocalRuntime) -> None:
    records = {r["key"]: r for r in inf.load_records("ifeval")}
    assert len(records) == 541
    record = records[1122]
    index = record["instruction_id_list"].index("keywords:letter_frequency")
    kwargs = record["kwargs"][index]
    assert kwargs["letter"] == "#"
    hash_letter = {
        "key": 1122,
        "prompt": record["prompt"],
        "instruction_id_list": ["keywords:letter_frequency"],
        "kwargs": [kwargs],
    }
    spec = inf.native_spec(hash_letter, "ifeval")
    needed, relation = kwargs["let_frequency"], kwargs["let_relation"]
    many, few = "#" * (needed + 1) + " text", "no hashes here"
    outcomes = [asyncio.run(inf.follow(local, spec, r)).strict[0] for r in (many, few, many, few)]
    assert outcomes[:2] == outcomes[2:]  # deterministic, unlike the reference's random letter
    assert outcomes[0] is (relation == "at least") and outcomes[1] is (relation != "at least")
    lower = inf.native_spec(
        {
            "key": 1,
            "prompt": "p",
            "instruction_id_list": ["change_case:english_lowercase", "punctuation:no_comma"],
            "kwargs": [{}, {}],
        },
        "ifeval",
    )
    f = asyncio.run(inf.follow(local, lower, "all lowercase, with a comma"))
    assert f.strict == [True, False]


def test_host_runners_accept_built_ins_but_refuse_generated_code(local: LocalRuntime) -> None:
    generated = make_spec(checkers=[("x", "anything", "def check(r):\n    return True\n")])
    with pytest.raises(UntrustedCodeError):
        asyncio.run(local.check([CheckItem(generated, "r")]))
    # a spec cannot borrow trust: the built-in source with other text is generated code
    record = {
        "key": 1,
        "prompt": "p",
        "instruction_id_list": ["punctuation:no_comma"],
        "kwargs": [{}],
    }
    tampered = inf.native_spec(record, "ifeval")
    tampered = tampered.edit(
        checkers=(
            tampered.checkers[0].model_copy(
                update={"source": tampered.checkers[0].source + "\nimport os\n"}
            ),
        )
    )
    with pytest.raises(UntrustedCodeError):
        asyncio.run(local.check([CheckItem(tampered, "r")]))


def test_replay_lookup(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(
        json.dumps({"id": "7", "prompt": "Hi there ", "response": "A"})
        + "\n"
        + json.dumps({"instruction": "Other", "output": "B"})
        + "\n"
    )
    by_id, by_prompt = load_responses(path)
    assert by_id == {"7": "A"} and by_prompt["Hi there"] == "A" and by_prompt["Other"] == "B"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    with pytest.raises(ReplayError, match=r"bad.jsonl:1: no response field"):
        load_responses(bad)
    with pytest.raises(ReplayError, match="does not exist"):
        load_responses(tmp_path / "none.jsonl")


def test_ifbench_task_with_replayed_official_outputs(tmp_path: Path) -> None:
    """`inspect eval harness/ifbench --model replay/...`: official metrics from stored responses."""
    from harness.tasks.ifbench import ifbench

    outputs = {o["prompt"].strip(): o for o in jsonl(IFBENCH / "sample_output.jsonl")}
    records = [r for r in inf.load_records("ifbench") if r["prompt"].strip() in outputs][:6]
    missing = next(r for r in inf.load_records("ifbench") if r["prompt"].strip() not in outputs)
    ids = [r["key"] for r in records] + [missing["key"]]
    [log] = eval(
        ifbench(checker_runtime="local"),
        model="replay/ifbench-sample",
        model_args={"responses": str(IFBENCH / "sample_output.jsonl")},
        sample_id=ids,
        log_dir=str(tmp_path),
        display="none",
        fail_on_error=False,
    )
    log = read_eval_log(log.location)
    strict = {r["prompt"].strip(): r for r in jsonl(IFBENCH / "eval_results_strict.jsonl")}
    by_id = {s.id: s for s in log.samples}
    assert "has no response for sample" in by_id[missing["key"]].error.message  # clear, not made up
    for record in records:
        sample = by_id[record["key"]]
        official = strict[record["prompt"].strip()]["follow_instruction_list"]
        score = sample.scores["instruction_following"]
        assert score.metadata["strict"] == official
        assert score.value["prompt_strict"] == float(all(official))
        assert score.value["inst_strict"] == pytest.approx(sum(official) / len(official))
        assert score.value["instructions"] == len(official)
        assert score.answer == short_answer(sample.output.completion)
        hybrid = sample.scores["hybrid_reward"].value
        assert hybrid["code"] == pytest.approx(sum(official) / len(official))
        assert math.isnan(hybrid["global"]) and hybrid["reward"] == pytest.approx(
            hybrid["code"]
        )  # no grader bound
    metrics = {name: m.value for s in log.results.scores for name, m in s.metrics.items()}
    expected = sum(
        all(strict[r["prompt"].strip()]["follow_instruction_list"]) for r in records
    ) / len(records)
    assert metrics["prompt_strict"] == pytest.approx(expected)


# -- epochs, headline, provenance ------------------------------------------------------------


def per_epoch_policy(responses: dict[str, list[str]]) -> ScriptedJudge:
    """A mockllm policy answering ``responses[prompt][i]`` the (i+1)-th time a prompt is asked:
    with ``epochs=2`` each epoch of a sample gets its own response."""
    asked: Counter[str] = Counter()

    def script(prompt: str, n: int) -> str:
        asked[prompt] += 1
        return responses[prompt.strip()][asked[prompt] - 1]

    return ScriptedJudge(script)


def eval_epochs(task: Task, policy: ScriptedJudge, ids: list, tmp_path: Path) -> EvalLog:
    [log] = eval(
        task,
        model=policy.model(),
        sample_id=ids,
        epochs=2,
        log_dir=str(tmp_path),
        display="none",
    )
    assert log.status == "success", log.error
    log = read_eval_log(log.location)
    assert Counter(s.epoch for s in log.samples) == {1: len(ids), 2: len(ids)}
    return log


def official_accuracies(verdicts: list[list[bool]]) -> tuple[float, float]:
    """(prompt-level, instruction-level) accuracy of one epoch, as ``evaluation_lib`` computes."""
    prompt = sum(all(v) for v in verdicts) / len(verdicts)
    inst = sum(sum(v) for v in verdicts) / sum(len(v) for v in verdicts)
    return prompt, inst


def expected_over_epochs(by_epoch: dict[int, dict[str, list[list[bool]]]]) -> dict[str, float]:
    """The mean over the epochs of each epoch's official accuracies."""
    out = {}
    for mode in ("strict", "loose"):
        per_epoch = [official_accuracies(by_epoch[e][mode]) for e in sorted(by_epoch)]
        assert per_epoch[0] != per_epoch[1]  # the epochs differ: epoch 1 alone would be wrong
        out[f"prompt_{mode}"] = mean(p for p, _ in per_epoch)
        out[f"inst_{mode}"] = mean(i for _, i in per_epoch)
    return out


def metrics_and_headline(log: EvalLog) -> tuple[dict[str, float], tuple]:
    return metrics_of(log), headline_of(log)


def test_ifbench_accuracies_over_epochs_and_headline(tmp_path: Path) -> None:
    """Epoch A answers the official sample output (official verdicts known), epoch B answers
    nothing (the official rule: an empty response follows no instruction)."""
    from harness.tasks.ifbench import ifbench

    outputs = {o["prompt"].strip(): o["response"] for o in jsonl(IFBENCH / "sample_output.jsonl")}
    strict = {r["prompt"].strip(): r for r in jsonl(IFBENCH / "eval_results_strict.jsonl")}
    loose = {r["prompt"].strip(): r for r in jsonl(IFBENCH / "eval_results_loose.jsonl")}
    records = [r for r in inf.load_records("ifbench") if r["prompt"].strip() in outputs][:8]
    policy = per_epoch_policy(
        {r["prompt"].strip(): [outputs[r["prompt"].strip()], ""] for r in records}
    )
    log = eval_epochs(
        ifbench(checker_runtime="local"), policy, [r["key"] for r in records], tmp_path
    )

    prompts = {r["key"]: r["prompt"].strip() for r in records}
    by_epoch: dict[int, dict[str, list[list[bool]]]] = defaultdict(lambda: defaultdict(list))
    for sample in log.samples:
        prompt = prompts[sample.id]
        for mode, official in (("strict", strict), ("loose", loose)):
            verdicts = official[prompt]["follow_instruction_list"]
            if sample.output.completion == "":
                verdicts = [False] * len(verdicts)
            else:
                assert sample.output.completion == outputs[prompt]
            by_epoch[sample.epoch][mode].append(verdicts)
    expected = expected_over_epochs(by_epoch)
    metrics, headline = metrics_and_headline(log)
    for name, value in expected.items():
        assert metrics[f"instruction_following/{name}"] == pytest.approx(value), name
    assert metrics["instruction_following/unscored"] == 0
    # IFBench reports prompt-level loose accuracy
    assert headline == ("instruction_following", "prompt_loose", expected["prompt_loose"])
    # the paper's number leads every listing of the metrics, not only the headline fields
    assert next(iter(log.results.scores[0].metrics)) == "prompt_loose"
    assert log.eval.task_version == 2
    meta = log.eval.metadata
    assert meta["protocols"]["official"] == "instruction_accuracy@2"
    assert set(meta["official_packages"]) == set(OFFICIAL_CHECKER_PACKAGES)
    assert meta["official_packages"]["if-verifiable"] == "0.1.2"
    assert meta["checker_image"].startswith("harness-checker:")


def test_ifeval_accuracies_over_epochs_and_headline(tmp_path: Path, local: LocalRuntime) -> None:
    """Two different responses per prompt; each epoch's accuracies computed directly from the
    official checks, then averaged."""
    from harness.tasks.ifeval import ifeval

    records = inf.load_records("ifeval")[:6]
    answers = [
        "a short reply in lowercase without any commas at all",
        'Title\n"A Reply, In Title Case, With Commas, Quoted."',
    ]
    policy = per_epoch_policy({r["prompt"].strip(): answers for r in records})
    log = eval_epochs(
        ifeval(checker_runtime="local"), policy, [r["key"] for r in records], tmp_path
    )

    specs = {r["key"]: inf.native_spec(r, "ifeval") for r in records}
    by_epoch: dict[int, dict[str, list[list[bool]]]] = defaultdict(lambda: defaultdict(list))
    for sample in log.samples:
        assert sample.output.completion in answers
        f = asyncio.run(inf.follow(local, specs[sample.id], sample.output.completion))
        assert not f.errors
        by_epoch[sample.epoch]["strict"].append(f.strict)
        by_epoch[sample.epoch]["loose"].append(f.loose)
    expected = expected_over_epochs(by_epoch)
    metrics, headline = metrics_and_headline(log)
    for name, value in expected.items():
        assert metrics[f"instruction_following/{name}"] == pytest.approx(value), name
    # IFEval's results table puts prompt-level strict accuracy first
    assert headline == ("instruction_following", "prompt_strict", expected["prompt_strict"])
    assert next(iter(log.results.scores[0].metrics)) == "prompt_strict"


def test_checker_failures_are_unscored_per_epoch_not_zero(tmp_path: Path) -> None:
    """A runtime that fails: every (sample, epoch) is unscored with the reason; no accuracy."""
    records = inf.load_records("ifeval")[:2]
    task = Task(
        dataset=[
            Sample(
                id=r["key"], input=r["prompt"], metadata=spec_metadata(inf.native_spec(r, "ifeval"))
            )
            for r in records
        ],
        solver=generate(),
        scorer=inf.instruction_following(checker_runtime=UnavailableRuntime("no engine here")),
    )
    policy = per_epoch_policy({r["prompt"].strip(): ["one", "two"] for r in records})
    log = eval_epochs(task, policy, [r["key"] for r in records], tmp_path)
    for sample in log.samples:
        score = sample.scores["instruction_following"]
        assert set(score.value) == set(inf.VALUE_KEYS)
        assert all(math.isnan(v) for v in score.value.values())
        assert "checker runtime failed: no engine here" in score.explanation
    metrics, _ = metrics_and_headline(log)
    assert metrics["instruction_following/unscored"] == 4  # 2 samples x 2 epochs
    assert math.isnan(metrics["instruction_following/prompt_strict"])
    assert math.isnan(metrics["instruction_following/inst_loose"])
