"""Arena-Hard data: the question files, published model answers and the official baselines.

Files are ``data/arena-hard-<version>/question.jsonl`` and ``model_answer/<model>.jsonl`` of
github.com/lmarena/arena-hard-auto, read from ``HARNESS_DATA_DIR`` (``arena-hard/<version>/…``)
or downloaded once into the cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.data import DataError, DataFile, read_jsonl_lines, resolve
from harness.replay import response_of

VERSIONS = ("v2.0", "v0.1")
METADATA_KEY = "arena_hard"
"""Sample.metadata key of a question's inputs (version, category, baseline and its answer);
also the Score.metadata key of its judgment."""

_RAW = "https://raw.githubusercontent.com/lmarena/arena-hard-auto/main/data/arena-hard-{version}/{path}"

# utils/judge_utils.py JUDGE_SETTINGS (v2.0); v0.1 has one category and one baseline.
BASELINES: dict[str, dict[str, str]] = {
    "v2.0": {
        "hard_prompt": "o3-mini-2025-01-31",
        "coding": "o3-mini-2025-01-31",
        "math": "o3-mini-2025-01-31",
        "creative_writing": "gemini-2.0-flash-001",
    },
    "v0.1": {"arena-hard-v0.1": "gpt-4-0314"},
}


def check_version(version: str) -> str:
    """``version`` if it is a known Arena-Hard version, else a ValueError naming the known ones."""
    if version not in VERSIONS:
        raise ValueError(f"unknown Arena-Hard version {version!r}; expected one of {VERSIONS}")
    return version


def question_file(version: str = "v2.0") -> DataFile:
    check_version(version)
    return DataFile(
        f"Arena-Hard {version} questions",
        f"arena-hard/{version}/question.jsonl",
        _RAW.format(version=version, path="question.jsonl"),
    )


def answer_file(version: str, model: str) -> DataFile:
    check_version(version)
    if not model or "/" in model or model.startswith("."):
        raise ValueError(f"not a model answer name: {model!r}")
    return DataFile(
        f"Arena-Hard {version} answers of {model}",
        f"arena-hard/{version}/model_answer/{model}.jsonl",
        _RAW.format(version=version, path=f"model_answer/{model}.jsonl"),
    )


def baseline_model(version: str, category: str) -> str:
    """The official baseline of a category (``JUDGE_SETTINGS[category]["baseline"]``)."""
    baselines = BASELINES[check_version(version)]
    if category not in baselines:
        raise ValueError(
            f"Arena-Hard {version} has no baseline for category {category!r}; "
            f"known: {sorted(baselines)}"
        )
    return baselines[category]


@dataclass(frozen=True)
class Question:
    index: int
    """Position in the question file (the order battles are aggregated in)."""
    uid: str
    category: str
    subcategory: str
    prompt: str


@dataclass(frozen=True)
class Answer:
    uid: str
    model: str
    text: str
    metadata: dict[str, Any] | None = None
    """The style attributes (token_len, header/list/bold counts) when the file has them."""


def load_questions(
    version: str = "v2.0", categories: Sequence[str] | None = None
) -> list[Question]:
    """Questions in file order; ``categories`` keeps those whose category or subcategory matches.

    Both schemas are read: ``uid, category, prompt`` (current) and ``question_id, category,
    turns[0].content`` (the original v0.1 files).
    """
    path = resolve(question_file(version))
    questions = []
    for lineno, r in read_jsonl_lines(path):
        uid = r.get("uid", r.get("question_id"))
        prompt = r.get("prompt")
        if prompt is None and r.get("turns"):
            prompt = r["turns"][0].get("content") if isinstance(r["turns"][0], dict) else None
        if not isinstance(uid, str) or not isinstance(prompt, str) or "category" not in r:
            raise DataError(f"{path}:{lineno}: expected uid, category and prompt")
        questions.append(
            Question(
                index=len(questions),
                uid=uid,
                category=str(r["category"]),
                subcategory=str(r.get("subcategory") or r.get("cluster") or r["category"]),
                prompt=prompt,
            )
        )
    if categories:
        wanted = set(categories)
        known = {q.category for q in questions} | {q.subcategory for q in questions}
        unknown = sorted(wanted - known)
        if unknown:
            raise ValueError(
                f"Arena-Hard {version} has no category {unknown}; "
                f"categories: {sorted({q.category for q in questions})}"
            )
        questions = [q for q in questions if q.category in wanted or q.subcategory in wanted]
    return questions


def load_answers(version: str, model: str) -> dict[str, Answer]:
    """A model's published answers by question uid (either answer schema)."""
    path = resolve(answer_file(version, model))
    answers = {}
    for lineno, r in read_jsonl_lines(path):
        uid = r.get("uid", r.get("question_id"))
        text = response_of(r)
        if not isinstance(uid, str) or text is None:
            raise DataError(
                f"{path}:{lineno}: expected uid and messages[-1].content.answer "
                "(or question_id and choices[0].turns[0].content)"
            )
        metadata = r.get("metadata", r.get("conv_metadata"))
        answers[uid] = Answer(
            uid=uid,
            model=str(r.get("model", r.get("model_id", model))),
            text=text,
            metadata=metadata if isinstance(metadata, dict) else None,
        )
    return answers


def judged_questions(
    version: str, categories: Sequence[str] | None = None, replay: str | None = None
) -> list[tuple[Question, dict[str, Any]]]:
    """The questions to judge, each with its ``Sample.metadata[METADATA_KEY]`` (the inputs the
    judge and the official metric read: version, position, category, baseline and its answer).

    As ``gen_judgment.py`` does, a question whose baseline answer (or replayed model answer) is
    missing is skipped.
    """
    questions = load_questions(version, categories)
    baselines = {
        model: load_answers(version, model)
        for model in sorted({baseline_model(version, q.category) for q in questions})
    }
    replayed = load_answers(version, replay) if replay else None
    out = []
    for q in questions:
        baseline = baseline_model(version, q.category)
        answer = baselines[baseline].get(q.uid)
        if answer is None or (replayed is not None and q.uid not in replayed):
            continue
        info = {
            "version": version,
            "uid": q.uid,
            "question_index": q.index,
            "category": q.category,
            "question": q.prompt,
            "baseline": baseline,
            "baseline_answer": answer.text,
            "baseline_style": answer.metadata,
        }
        out.append((q, info))
    if not out:
        raise ValueError(f"no Arena-Hard {version} questions match category={categories}")
    return out
