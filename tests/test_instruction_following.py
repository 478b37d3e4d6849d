"""IFEval / IFBench: official checker verdicts reproduced exactly; specs; tasks; replayed responses."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path

import pytest
from conftest import SHARED_DATA, make_spec
from inspect_ai import eval
from inspect_ai.log import read_eval_log

from harness.benchmarks import instruction_following as inf
from harness.checkers import CheckItem
from harness.checkers.runtime import LocalRuntime, UntrustedCodeError
from harness.replay import ReplayError, load_responses

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
    with pytest.raises(ReplayError, match="record 1 has no response field"):
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
        assert sample.scores["instruction_following"].metadata["strict"] == official
        assert sample.scores["instruction_following"].value["prompt_strict"] == float(all(official))
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
