"""Creative Writing v3 data: prompts and seeds, the rubric files, published results, native spec.

The official files of EQ-bench/creative-writing-bench (``data/``): the prompts with their seed
modifiers, the 22 criteria, the 9 lower-is-better ones and the judging prompt; and a local file
derived from the published result pages (response, judge reply, item score per item), used to
check the port against the published numbers.

**Items.** Each prompt of ``creative_writing_prompts_v3.json`` is run for N iterations (3 in
the published runs); iteration ``i`` (1-based) uses the seed modifier
``seed_modifiers[(i - 1) % len(seed_modifiers)]``, substituted for ``<SEED>`` in the prompt.
Prompts without seed modifiers are skipped, as the official run skips them.

**Native spec**: the 22 criteria, equally weighted, ``category`` = the official name; the 9
lower-is-better ones carry the tag ``lower_is_better`` and read "Avoids: <name>" (so our own
protocols grade them the right way round). The spec's prompt is the seeded prompt; its
provenance notes record the seed, so the official protocol can show the judge the base prompt.
Its verdict scale is ``one_to_ten``, what our protocols use on it (there is no 0-20 scale; the
official protocol records the 0-20 score as the verdict and maps it to [0, 1] itself).
"""

from __future__ import annotations

import json
from typing import Any

from harness.data import DataError, DataFile, read_json, read_jsonl, read_text, resolve
from harness.spec import Criterion, Provenance, RewardSpec

_BASE = "https://raw.githubusercontent.com/EQ-bench/creative-writing-bench/main/data"
_DIR = "creative-writing-v3"
PROMPTS_FILE = DataFile(
    "Creative Writing v3 prompts",
    f"{_DIR}/creative_writing_prompts_v3.json",
    f"{_BASE}/creative_writing_prompts_v3.json",
)
CRITERIA_FILE = DataFile(
    "Creative Writing v3 criteria",
    f"{_DIR}/creative_writing_criteria.txt",
    f"{_BASE}/creative_writing_criteria.txt",
)
NEGATIVE_CRITERIA_FILE = DataFile(
    "Creative Writing v3 negative criteria",
    f"{_DIR}/negative_criteria.txt",
    f"{_BASE}/negative_criteria.txt",
)
JUDGE_PROMPT_FILE = DataFile(
    "Creative Writing v3 judging prompt",
    f"{_DIR}/creative_writing_judging_prompt.txt",
    f"{_BASE}/creative_writing_judging_prompt.txt",
)
# Derived from the published result pages (response, judge reply, item score per item); a
# local copy only, used to check this module against the published numbers.
PUBLISHED_RESULTS_FILE = DataFile(
    "Creative Writing v3 published results (derived)", f"{_DIR}/parsed_results.jsonl", None
)

SPEC_TEMPLATE = "creative-writing-v3-rubric@1"
LOWER_IS_BETTER = "lower_is_better"
"""Tag of the criteria the official score inverts (20 - score)."""
ITERATIONS = 3
"""Iterations (seeds) per prompt in the published runs."""


def _read_lines(file: DataFile) -> list[str]:
    """Non-empty stripped lines, as the official code reads the criteria files."""
    path = resolve(file)
    lines = [line.strip() for line in read_text(path).splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise DataError(f"{path}: no entries ({file.dataset})")
    return lines


def load_criteria() -> list[str]:
    return _read_lines(CRITERIA_FILE)


def load_negative_criteria() -> list[str]:
    negative = _read_lines(NEGATIVE_CRITERIA_FILE)
    criteria = load_criteria()
    unknown = [n for n in negative if n not in criteria]
    if unknown:
        raise DataError(
            f"{resolve(NEGATIVE_CRITERIA_FILE)}: {unknown} are not among the rubric criteria "
            f"of {resolve(CRITERIA_FILE)}"
        )
    return negative


def load_prompts() -> dict[str, dict[str, Any]]:
    path = resolve(PROMPTS_FILE)
    prompts = read_json(path)
    if not isinstance(prompts, dict) or not prompts:
        raise DataError(f"{path}: expected an object of prompts keyed by id")
    for key, p in prompts.items():
        missing = [
            k
            for k in ("category", "title", "writing_prompt")
            if not isinstance(p, dict) or k not in p
        ]
        if missing:
            raise DataError(f"{path}: prompt {key} lacks {missing}")
    return prompts


def load_records(
    prompt_ids: list[str] | None = None,
    categories: list[str] | None = None,
    iterations: int = ITERATIONS,
) -> list[dict[str, Any]]:
    """One record per (iteration, prompt), seeded as the official run seeds it."""
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    prompts = load_prompts()
    if prompt_ids:
        unknown = sorted(set(prompt_ids) - set(prompts))
        if unknown:
            raise ValueError(f"unknown Creative Writing v3 prompt ids {unknown}")
    records = []
    for i in range(1, iterations + 1):
        for pid, p in prompts.items():
            seeds = p.get("seed_modifiers") or []
            if not seeds:  # the official run skips these
                continue
            if prompt_ids and pid not in prompt_ids:
                continue
            if categories and p["category"] not in categories:
                continue
            seed = seeds[(i - 1) % len(seeds)]
            records.append(
                {
                    "id": f"{pid}-{i}",
                    "prompt_id": pid,
                    "iteration": i,
                    "category": p["category"],
                    "title": p["title"],
                    "base_prompt": p["writing_prompt"],
                    "seed_modifier": seed,
                    "prompt": p["writing_prompt"].replace("<SEED>", seed),
                }
            )
    return records


def load_published_results() -> list[dict[str, Any]]:
    """The derived published results: model, title, prompt, response, judge, judge_scores, item_score."""
    return read_jsonl(
        resolve(PUBLISHED_RESULTS_FILE),
        required=("model", "title", "response", "judge", "judge_scores", "item_score"),
    )


def native_spec(
    record: dict[str, Any], criteria: list[str], lower_is_better: list[str]
) -> RewardSpec:
    """The official rubric as a spec: equal weights, lower-is-better criteria tagged."""
    spec_criteria = []
    for i, name in enumerate(criteria, start=1):
        negative = name in lower_is_better
        spec_criteria.append(
            Criterion(
                id=f"c{i}",
                text=f"Avoids: {name}" if negative else name,
                category=name,
                tags=(LOWER_IS_BETTER,) if negative else (),
            )
        )
    prompt = record["prompt"]
    seed = record["seed_modifier"]
    # where the seed went, so the official protocol can show the judge the base prompt
    offset = record["base_prompt"].find("<SEED>")
    notes = {"seed_modifier": seed, "seed_offset": offset} if offset >= 0 else {}
    return RewardSpec(
        prompt_id=f"creative-writing-v3-{record['id']}",
        prompt=prompt,
        task_label="creative_writing",
        verdict_scale="one_to_ten",
        criteria=tuple(spec_criteria),
        provenance=Provenance(
            builder="creative-writing-v3-native",
            template_version=SPEC_TEMPLATE,
            source=PROMPTS_FILE.url,
            notes=json.dumps(notes, ensure_ascii=False) if notes else None,
        ),
    )
