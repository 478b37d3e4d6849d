"""JudgeBench's published judge outputs: per-pair decisions, and the accuracies JudgeBench reports.

JudgeBench (ScalerLab/JudgeBench, commit e2c52c2) publishes, for every judge it evaluated, one
JSONL file under ``outputs/``: each line is a response pair of the dataset (``pair_id``,
``source``, ``question``, ``response_A``, ``response_B``, ``label`` = ``"A>B"`` or ``"B>A"``)
plus the judge's ``judgments``: a list holding the judgment of the original order (A, B) and,
when the pair was judged twice, of the swapped order (B, A); each judgment is ``null`` (the
judge failed) or ``{"judgment": {...}, "decision": "A>B" | "B>A" | ...}``. A reward model's
judgment also carries ``judgment.scores`` = [score of the first shown response, score of the
second], and its decision is ``"A>B"`` if the first score is strictly greater, else ``"B>A"``
(``SkyworkReward.get_judgment`` and the other reward-model judges in ``utils/judges.py``).

The accuracy rule is ``compute_final_metrics`` in ``utils/metrics.py``; ``run_judge.py`` (main,
lines 94-96) applies it per source prefix and prints each value with ``%.2f``:

- one judgment per pair (``--single_game``): a pair is correct iff its decision equals the label;
- two judgments: the second decision is flipped back to the original order (``flip_judgment``);
  each decision equal to the label counts +1, each equal to the flipped label -1, anything else
  (``None``, ``"A=B"``, ...) 0; the pair is correct iff the sum is > 0. A tie (sum 0: the two
  orders disagree, or neither decided) counts as *not* correct — there is no half credit;
- accuracy = 100 * correct / pairs, over the pairs whose ``source`` starts with the prefix;
  ``Overall`` is the prefix ``""``: all pairs pooled (a micro-average, not the mean of the four
  categories).

The categories of the paper (knowledge, reasoning, math, coding) are the prefixes ``mmlu-pro``,
``livebench-reasoning``, ``livebench-math`` and ``livecodebench`` (``run_judge.py`` line 94). A
source with none of these prefixes counts in ``overall`` only, as upstream.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harness.data import DataError, DataFile, json_type, read_jsonl_lines

_UPSTREAM = (
    "https://raw.githubusercontent.com/ScalerLab/JudgeBench/"
    "e2c52c284e735e139b3daa61c206ee208f36c461/outputs/"
)

SKYWORK_LLAMA_8B = DataFile(
    dataset="judgebench",
    relative_path="judgebench/outputs_reward_models/Skywork_Skywork-Reward-Llama-3.1-8B.jsonl",
    url=_UPSTREAM + "dataset=judgebench,response_model=gpt-4o-2024-05-13,judge_name=reward_model,"
    "judge_model=Skywork_Skywork-Reward-Llama-3.1-8B.jsonl",
)
"""Skywork-Reward-Llama-3.1-8B's published judgments of the 350 GPT-4o response pairs
(byte-identical to the upstream file at the pinned commit)."""

CATEGORIES: dict[str, str] = {
    "knowledge": "mmlu-pro",
    "reasoning": "livebench-reasoning",
    "math": "livebench-math",
    "coding": "livecodebench",
}
"""Category -> source prefix, as ``run_judge.py`` (main, line 94) selects them."""

LABELS = ("A>B", "B>A")


def flip_judgment(decision: str | None) -> str | None:
    """The decision seen from the other order (``flip_judgment`` in ``utils/metrics.py``):
    A>B <-> B>A; anything else unchanged."""
    if decision == "A>B":
        return "B>A"
    if decision == "B>A":
        return "A>B"
    return decision


def category_of(source: str) -> str | None:
    """The JudgeBench category of a ``source`` (None: counted in ``overall`` only)."""
    for category, prefix in CATEGORIES.items():
        if source.startswith(prefix):
            return category
    return None


@dataclass(frozen=True)
class PublishedPair:
    """One line of a published JudgeBench output file."""

    pair_id: str
    source: str
    label: str
    """``"A>B"`` or ``"B>A"``: which response is objectively correct."""
    decisions: tuple[str | None, ...]
    """The judge's decision per ordering, as stored: (original order,) or (original, swapped);
    None where the judgment is null or its decision is null."""
    scores: tuple[tuple[float, float] | None, ...]
    """Per ordering, the reward model's (first shown, second shown) scores; None where the file
    has none."""
    judge_model: str | None
    line: int
    """Line of the file the pair was read from (for messages)."""

    @property
    def category(self) -> str | None:
        return category_of(self.source)

    @property
    def outcome(self) -> int:
        """+1 correct, -1 incorrect, 0 tie, under JudgeBench's rule (module docstring)."""
        return pair_outcome(self.label, self.decisions)


def pair_outcome(label: str, decisions: Sequence[str | None]) -> int:
    """+1 (correct), -1 (incorrect) or 0 (tie) for one pair, following ``compute_final_metrics``
    (``utils/metrics.py``): with one decision, +1 iff it equals the label, else -1; with two, the
    second is flipped back to the original order, each decision equal to the label counts +1 and
    each equal to the flipped label -1; the sign of the sum is the outcome."""
    if len(decisions) == 1:
        return 1 if decisions[0] == label else -1
    if len(decisions) != 2:
        raise ValueError(f"expected 1 or 2 decisions, got {len(decisions)}")
    counter = 0
    for decision in (decisions[0], flip_judgment(decisions[1])):
        if decision == label:
            counter += 1
        elif decision == flip_judgment(label):
            counter -= 1
    return (counter > 0) - (counter < 0)


def _judgment(where: str, index: int, value: Any) -> tuple[str | None, tuple[float, float] | None]:
    """(decision, scores) of one judgment, validated."""
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise DataError(
            f"{where}: judgments[{index}] must be an object or null, got {json_type(value)}"
        )
    if "decision" not in value:
        raise DataError(f"{where}: judgments[{index}] has no 'decision'")
    decision = value["decision"]
    if decision is not None and not isinstance(decision, str):
        raise DataError(
            f"{where}: judgments[{index}].decision must be a string or null, "
            f"got {json_type(decision)}"
        )
    inner = value.get("judgment")
    if inner is not None and not isinstance(inner, dict):
        raise DataError(
            f"{where}: judgments[{index}].judgment must be an object, got {json_type(inner)}"
        )
    raw = inner.get("scores") if inner else None
    if raw is None:
        return decision, None
    if (
        not isinstance(raw, list)
        or len(raw) != 2
        or not all(isinstance(s, int | float) and not isinstance(s, bool) for s in raw)
        or not all(math.isfinite(s) for s in raw)
    ):
        raise DataError(
            f"{where}: judgments[{index}].judgment.scores must be two finite numbers, got {raw!r}"
        )
    scores = (float(raw[0]), float(raw[1]))
    # Reward-model judges decide 'A>B' if score1 > score2 else 'B>A' (SkyworkReward.get_judgment,
    # utils/judges.py); a file whose decision contradicts its own scores is corrupt.
    implied = "A>B" if scores[0] > scores[1] else "B>A"
    if decision != implied:
        raise DataError(
            f"{where}: judgments[{index}].decision is {decision!r} but its scores {raw!r} give "
            f"{implied!r} (a reward model decides 'A>B' iff the first score is greater)"
        )
    return decision, scores


def load_published_scores(path: str | Path) -> list[PublishedPair]:
    """The pairs of a JudgeBench output file (``outputs/*.jsonl`` format, module docstring).

    Every line must be a JSON object with a string ``pair_id`` and ``source``, a ``label`` of
    ``"A>B"``/``"B>A"`` and ``judgments``: a list of one or two judgments (the same number on
    every line: upstream scores a whole file in one mode). Errors name the file and line."""
    path = Path(path)
    pairs: list[PublishedPair] = []
    seen: dict[str, int] = {}
    for lineno, record in read_jsonl_lines(path, ("pair_id", "source", "label", "judgments")):
        where = f"{path}:{lineno}"
        for key in ("pair_id", "source"):
            if not isinstance(record[key], str) or not record[key]:
                raise DataError(f"{where}: {key} must be a non-empty string, got {record[key]!r}")
        pair_id, source, label = record["pair_id"], record["source"], record["label"]
        if label not in LABELS:
            raise DataError(f"{where}: label must be 'A>B' or 'B>A', got {label!r}")
        if pair_id in seen:
            raise DataError(f"{where}: pair_id {pair_id!r} repeats line {seen[pair_id]}")
        seen[pair_id] = lineno
        judgments = record["judgments"]
        if not isinstance(judgments, list) or len(judgments) not in (1, 2):
            got = f"{len(judgments)} items" if isinstance(judgments, list) else json_type(judgments)
            raise DataError(
                f"{where}: judgments must be a list of 1 (original order) or 2 (both orders) "
                f"judgments, got {got}"
            )
        if pairs and len(judgments) != len(pairs[0].decisions):
            raise DataError(
                f"{where}: {len(judgments)} judgment(s), but line {pairs[0].line} has "
                f"{len(pairs[0].decisions)}: a file is judged in one mode (single or both orders)"
            )
        parsed = [_judgment(where, i, j) for i, j in enumerate(judgments)]
        models = {
            j["judgment"].get("judge_model")
            for j in judgments
            if isinstance(j, dict) and isinstance(j.get("judgment"), dict)
        }
        models.discard(None)
        pairs.append(
            PublishedPair(
                pair_id=pair_id,
                source=source,
                label=label,
                decisions=tuple(d for d, _ in parsed),
                scores=tuple(s for _, s in parsed),
                judge_model=next(iter(models)) if len(models) == 1 else None,
                line=lineno,
            )
        )
    if not pairs:
        raise DataError(f"{path}: no pairs (an empty JudgeBench output file)")
    return pairs


def published_table(pairs: Iterable[PublishedPair]) -> pd.DataFrame:
    """Per category and overall: pairs, correct, incorrect, ties and accuracy (percent, unrounded;
    JudgeBench prints it with two decimals). Rows: the categories that have pairs, then
    ``overall`` (all pairs pooled, as ``run_judge.py``'s empty prefix)."""
    pairs = list(pairs)
    if not pairs:
        raise ValueError("no pairs")
    groups: list[tuple[str, str, list[PublishedPair]]] = [
        (c, prefix, [p for p in pairs if p.source.startswith(prefix)])
        for c, prefix in CATEGORIES.items()
    ]
    groups.append(("overall", "", pairs))
    rows = []
    for category, prefix, members in groups:
        if not members:
            continue
        outcomes = [p.outcome for p in members]
        correct = outcomes.count(1)
        rows.append(
            {
                "category": category,
                "source_prefix": prefix,
                "pairs": len(members),
                "correct": correct,
                "incorrect": outcomes.count(-1),
                "ties": outcomes.count(0),
                "accuracy": 100 * correct / len(members),
            }
        )
    return pd.DataFrame(rows).set_index("category")


def published_accuracy(pairs: Iterable[PublishedPair]) -> dict[str, float]:
    """Accuracy (percent, unrounded) per category that has pairs, and ``overall``."""
    return published_table(pairs)["accuracy"].to_dict()
