"""IFEval (Google, 541 prompts) and IFBench (AllenAI, 300 prompts): the prompt files and the
built-in spec of a prompt (one official checker per instruction)."""

from __future__ import annotations

import json
from typing import Any

from harness.benchmarks.instruction_following.checkers import checker_source
from harness.data import DataError, DataFile, read_jsonl, resolve
from harness.spec import Checker, Provenance, RewardSpec

SOURCES = {
    "ifeval": DataFile(
        "IFEval",
        "ifeval/input_data.jsonl",
        "https://raw.githubusercontent.com/google-research/google-research/master/instruction_following_eval/data/input_data.jsonl",
    ),
    "ifbench": DataFile(
        "IFBench",
        "ifbench/IFBench_test.jsonl",
        "https://raw.githubusercontent.com/allenai/IFBench/main/data/IFBench_test.jsonl",
    ),
}
SPEC_TEMPLATE = "instruction-following-official@1"


def load_records(benchmark: str) -> list[dict[str, Any]]:
    if benchmark not in SOURCES:
        raise ValueError(f"unknown benchmark {benchmark!r}; expected one of {sorted(SOURCES)}")
    path = resolve(SOURCES[benchmark])
    records = read_jsonl(path, required=("key", "prompt", "instruction_id_list", "kwargs"))
    for r in records:
        if not r["instruction_id_list"]:
            raise DataError(f"{path}: prompt {r['key']} has no instructions")
        if len(r["kwargs"]) != len(r["instruction_id_list"]):
            raise DataError(
                f"{path}: prompt {r['key']} has {len(r['instruction_id_list'])} instructions but {len(r['kwargs'])} kwargs"
            )
    return records


def native_spec(record: dict[str, Any], benchmark: str) -> RewardSpec:
    """The prompt's instructions as checkers. ``None`` kwargs are dropped (the official IFBench
    code does the same); falsy values are kept; nothing missing is randomised."""
    source = checker_source(benchmark)
    checkers = []
    for index, (instruction_id, kwargs) in enumerate(
        zip(record["instruction_id_list"], record["kwargs"], strict=True)
    ):
        kept = {k: v for k, v in (kwargs or {}).items() if v is not None}
        described = (
            f"{instruction_id} {json.dumps(kept, ensure_ascii=False)}" if kept else instruction_id
        )
        checkers.append(
            Checker(
                id=f"{index}:{instruction_id}",
                constraint=described,
                source=source,
                kwargs={
                    "instruction_id": instruction_id,
                    "kwargs": kept,
                    "prompt": record["prompt"],
                },
            )
        )
    return RewardSpec(
        prompt_id=f"{benchmark}-{record['key']}",
        prompt=record["prompt"],
        task_label="instruction_following",
        checkers=tuple(checkers),
        provenance=Provenance(
            builder=f"{benchmark}-native",
            template_version=SPEC_TEMPLATE,
            source=SOURCES[benchmark].url,
        ),
    )
