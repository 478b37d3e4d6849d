"""HealthBench data: the conversation files (full, hard, consensus, a 500 sample) and the native spec.

Native spec: each rubric item becomes a criterion whose weight is its points (negative points are
pitfalls), on the yes/no scale, with its ``axis:`` tag as the category.
"""

from __future__ import annotations

from typing import Any

from harness.data import DataError, DataFile, read_jsonl, resolve
from harness.spec import Criterion, PromptMessage, Provenance, RewardSpec

_BASE = "https://openaipublic.blob.core.windows.net/simple-evals/healthbench"
SUBSETS = {
    "full": DataFile(
        "HealthBench",
        "healthbench/2025-05-07-06-14-12_oss_eval.jsonl",
        f"{_BASE}/2025-05-07-06-14-12_oss_eval.jsonl",
    ),
    "hard": DataFile(
        "HealthBench hard",
        "healthbench/hard_2025-05-08-21-00-10.jsonl",
        f"{_BASE}/hard_2025-05-08-21-00-10.jsonl",
    ),
    "consensus": DataFile(
        "HealthBench consensus",
        "healthbench/consensus_2025-05-09-20-00-46.jsonl",
        f"{_BASE}/consensus_2025-05-09-20-00-46.jsonl",
    ),
    # A 500-conversation sample of the full set, available only as a local copy.
    "sample_500": DataFile("HealthBench 500-sample", "healthbench/healthbench_500.jsonl", None),
}
SPEC_TEMPLATE = "healthbench-rubric@1"


def theme_of(record: dict[str, Any]) -> str:
    themes = [
        t.removeprefix("theme:") for t in record.get("example_tags", []) if t.startswith("theme:")
    ]
    return themes[0] if themes else "none"


def load_records(subset: str = "full", themes: list[str] | None = None) -> list[dict[str, Any]]:
    if subset not in SUBSETS:
        raise ValueError(
            f"unknown HealthBench subset {subset!r}; expected one of {sorted(SUBSETS)}"
        )
    path = resolve(SUBSETS[subset])
    records = read_jsonl(path, required=("prompt_id", "prompt", "rubrics"))
    for r in records:
        if not r["rubrics"]:
            raise DataError(f"{path}: conversation {r['prompt_id']} has no rubric")
    if themes:
        records = [r for r in records if theme_of(r) in themes]
    return records


def native_spec(record: dict[str, Any]) -> RewardSpec:
    criteria = []
    for i, item in enumerate(record["rubrics"], start=1):
        tags = tuple(item.get("tags", []))
        axis = next((t.removeprefix("axis:") for t in tags if t.startswith("axis:")), None)
        criteria.append(
            Criterion(
                id=f"r{i}",
                text=item["criterion"],
                weight=float(item["points"]),
                category=axis,
                tags=tags,
            )
        )
    return RewardSpec(
        prompt_id=record["prompt_id"],
        prompt=tuple(PromptMessage(role=m["role"], content=m["content"]) for m in record["prompt"]),
        task_label="health",
        verdict_scale="yes_no",
        criteria=tuple(criteria),
        provenance=Provenance(
            builder="healthbench-native", template_version=SPEC_TEMPLATE, source=_BASE
        ),
    )
