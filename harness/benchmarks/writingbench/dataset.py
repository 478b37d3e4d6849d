"""WritingBench data: 1,000 writing prompts, each with its own 5-criterion checklist; the native spec.

Native spec: the 5 checklist items become 5 equally weighted criteria on the 1-10 scale, with
their band descriptions as anchors.
"""

from __future__ import annotations

from typing import Any

from harness.data import DataError, DataFile, read_jsonl, resolve
from harness.spec import Criterion, Provenance, RewardSpec

SOURCE = DataFile(
    dataset="WritingBench",
    relative_path="writingbench/benchmark_all.jsonl",
    url="https://raw.githubusercontent.com/X-PLUG/WritingBench/main/benchmark_query/benchmark_all.jsonl",
)
BANDS = ("1-2", "3-4", "5-6", "7-8", "9-10")
SPEC_TEMPLATE = "writingbench-checklist@1"


def load_records(
    domain1: list[str] | None = None, domain2: list[str] | None = None
) -> list[dict[str, Any]]:
    path = resolve(SOURCE)
    records = read_jsonl(path, required=("index", "domain1", "domain2", "query", "checklist"))
    for r in records:
        if not isinstance(r["checklist"], list) or not r["checklist"]:
            raise DataError(f"{path}: prompt {r['index']} has no checklist")
    if domain1:
        records = [r for r in records if r["domain1"] in domain1]
    if domain2:
        records = [r for r in records if r["domain2"] in domain2]
    return records


def native_spec(record: dict[str, Any]) -> RewardSpec:
    criteria = []
    for i, item in enumerate(record["checklist"], start=1):
        missing = [k for k in ("name", "criteria_description", *BANDS) if k not in item]
        if missing:
            raise DataError(f"WritingBench prompt {record['index']} criterion {i} lacks {missing}")
        criteria.append(
            Criterion(
                id=f"c{i}",
                text=item["criteria_description"],
                category=item["name"],
                anchors={band: item[band] for band in BANDS},
            )
        )
    return RewardSpec(
        prompt_id=f"writingbench-{record['index']}",
        prompt=record["query"],
        task_label="writing",
        verdict_scale="one_to_ten",
        criteria=tuple(criteria),
        provenance=Provenance(
            builder="writingbench-native", template_version=SPEC_TEMPLATE, source=SOURCE.url
        ),
    )
