"""One scoring pass over comparison groups: each distinct response scored once, every ablation
variant recombined from stored components (no judge call), external scores as a variant."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from conftest import ScriptedJudge, is_global, make_spec, rubric_ids

from harness.data import DataError
from harness.ranking.groups import comparison
from harness.ranking.scoring import VARIANTS, external_scores, score_groups, unique_responses
from harness.reward import HybridConfig
from harness.scoring import RewardEngine
from harness.store import SpecStore

PROMPT = "Write a haiku about the sea, in lowercase, with the word 'salt'."


def judge() -> ScriptedJudge:
    """Global score = 2 x the number of times 'salt' appears in the response; every criterion
    'yes' when the response mentions 'sea', else 'no'."""

    def script(prompt: str, n: int) -> str:
        response = prompt.split("<response>")[-1] if "<response>" in prompt else prompt
        if is_global(prompt):
            return json.dumps({"rationale": "r", "score": min(10, 2 * response.count("salt"))})
        verdict = "yes" if re.search(r"\bsea\b", response) else "no"
        return json.dumps(
            {"criteria": [{"id": i, "verdict": verdict, "reason": "r"} for i in rubric_ids(prompt)]}
        )

    return ScriptedJudge(script)


def groups() -> list:
    # RM-Bench-like: the same three chosen variants appear in two groups
    chosen = ["salt sea salt", "the sea, salt", "salt salt salt sea"]
    return [
        comparison("toy", "g1", PROMPT, chosen, ["no water here", "sand", "salt"], "a"),
        comparison("toy", "g2", PROMPT, chosen, ["sea", "SEA SALT", "waves"], "b"),
        comparison("toy", "g3", "Another prompt.", ["salt"], ["pepper"], "b"),
    ]


def test_each_distinct_response_is_scored_once_and_every_variant_is_kept(tmp_path: Path) -> None:
    store = SpecStore(tmp_path / "specs.jsonl", create=True)
    store.put(make_spec(prompt=PROMPT))  # rubric for PROMPT; "Another prompt." is prompt-only
    script = judge()
    engine = RewardEngine(
        rubric_judge=script.model(), global_judge=script.model(), hybrid=HybridConfig()
    )
    scores = asyncio.run(score_groups(groups(), engine, specs=store, batch_size=4))
    unique = unique_responses(groups())
    assert len(unique) == 3 + 3 + 3 + 2  # shared chosen variants once
    # one global call per response, one rubric call per response of PROMPT
    assert script.calls == len(unique) + (len(unique) - 2)
    assert scores.variants == list(VARIANTS)
    key = groups()[0].chosen[0].key  # "salt sea salt": global 4/10, rubric all yes
    assert scores.of("global")[key] == pytest.approx(0.4)
    assert scores.of("rubric")[key] == pytest.approx(1.0)
    assert scores.of("code")[key] is None  # no checkers: absent
    assert scores.of("rubric+code")[key] == pytest.approx(1.0)
    assert scores.of("hybrid")[key] == pytest.approx(0.7)
    assert scores.of("hybrid@alpha_start")[key] == pytest.approx(0.4)  # α = 1: global only
    assert scores.of("hybrid@alpha_end")[key] == pytest.approx(1.0)  # α = 0: rubric only
    prompt_only = groups()[2].chosen[0].key
    assert scores.of("rubric")[prompt_only] is None
    assert scores.of("hybrid")[prompt_only] == pytest.approx(0.2)
    with pytest.raises(KeyError, match="no variant"):
        scores.of("nope")


def test_external_scores_join_as_a_variant_and_bad_files_say_where(tmp_path: Path) -> None:
    gs = groups()
    path = tmp_path / "rm.jsonl"
    rows = [
        {"id": g.id, "chosen": [1.0] * len(g.chosen), "rejected": [0.0] * len(g.rejected)}
        for g in gs
    ]
    rows[2]["rejected"] = [None]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    scores = external_scores(path, gs)
    assert scores[gs[0].chosen[0].key] == 1.0 and scores[gs[2].rejected[0].key] is None
    bad = {
        "not JSON": "{oops",
        "no group with id": json.dumps({"id": "zz", "chosen": [1], "rejected": [0]}),
        "must be a list of 3": json.dumps({"id": "g1", "chosen": [1], "rejected": [0, 0, 0]}),
        "not a finite number": json.dumps({"id": "g3", "chosen": ["x"], "rejected": [0]}),
    }
    for message, line in bad.items():
        path.write_text(json.dumps(rows[0]) + "\n" + line + "\n")
        with pytest.raises(DataError, match=rf"rm.jsonl:2: .*{message}"):
            external_scores(path, gs)
    path.write_text(json.dumps(rows[0]) + "\n")
    with pytest.raises(DataError, match="no scores for 2 groups"):
        external_scores(path, gs)
