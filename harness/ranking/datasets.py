"""Loaders of ranking benchmarks: each turns a benchmark's files into ``Comparison`` groups.

Every file has a canonical public download and is read from ``HARNESS_DATA_DIR`` when that is
set (``harness.data.resolve``); every record is validated, and a bad one is a ``DataError``
naming ``file:line`` (for JSON arrays, the line its object starts on; for Parquet, the record
index) and the problem.

- ``rmbench``: THU-KEG RM-Bench, one group per prompt with the 3 style variants of each side.
- ``judgebench``: ScalerLab JudgeBench (GPT-4o or Claude-3.5 response pairs).
- ``llmbar``: princeton-nlp LLMBar (Natural, Adversarial_*) and its human-judged sets.
- ``hh_harmless``: Anthropic HH-RLHF harmless-base test split, transcripts split into prompt
  and final assistant turn; pairs whose prefixes differ are skipped and counted.
- ``rewardbench2``: allenai RewardBench 2 (best-of-4, and Ties with several chosen).
"""

from __future__ import annotations

import gzip
import json
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.data import (
    DataError,
    DataFile,
    json_type,
    read_bytes,
    read_jsonl_lines,
    read_records,
    resolve,
    text_field,
)
from harness.ranking.groups import Comparison, comparison

__all__ = [
    "DATASETS",
    "HH_ASSISTANT",
    "HH_FILE",
    "JUDGEBENCH_CATEGORIES",
    "JUDGEBENCH_SETS",
    "LLMBAR_GROUPS",
    "LLMBAR_SETS",
    "RB2_FILE",
    "REASON_NO_ASSISTANT",
    "REASON_PREFIX_DIFFERS",
    "REASON_SAME_ANSWER",
    "RMBENCH_DOMAINS",
    "RMBENCH_STYLES",
    "HHSkipped",
    "HHSplit",
    "judgebench_category",
    "judgebench_file",
    "llmbar_file",
    "load",
    "load_hh_harmless",
    "load_judgebench",
    "load_llmbar",
    "load_rewardbench2",
    "load_rmbench",
    "read_hh_harmless",
    "rmbench_file",
    "rewardbench2_file",
    "split_hh_transcripts",
]


# -- shared validation -------------------------------------------------------------------------


def _text(record: dict[str, Any], field: str, where: str) -> str:
    if field not in record:
        raise DataError(f"{where}: missing field '{field}'")
    return str(text_field(record, field, where))


def _texts(record: dict[str, Any], field: str, where: str, n: int | None = None) -> list[str]:
    value = record.get(field)
    if field not in record:
        raise DataError(f"{where}: missing field '{field}'")
    if not isinstance(value, list):
        raise DataError(
            f"{where}: field '{field}' must be an array of strings, got {json_type(value)}"
        )
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise DataError(
                f"{where}: field '{field}'[{i}] must be a string, got {json_type(item)}"
            )
    if n is not None and len(value) != n:
        raise DataError(f"{where}: field '{field}' must hold {n} responses, got {len(value)}")
    return list(value)


def _int(record: dict[str, Any], field: str, where: str, optional: bool = False) -> int | None:
    value = record.get(field)
    if value is None and optional:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    got = "missing" if field not in record else json_type(value)
    raise DataError(f"{where}: field '{field}' must be an integer, got {got}")


def _check_unique(ids: Iterable[tuple[str, str]]) -> None:
    seen: dict[str, str] = {}
    for cid, where in ids:
        if cid in seen:
            raise DataError(f"{where}: id {cid!r} is already used at {seen[cid]}")
        seen[cid] = where


def _choose(
    names: str | Sequence[str], known: Sequence[str], groups: dict[str, tuple[str, ...]], what: str
) -> list[str]:
    wanted = [names] if isinstance(names, str) else list(names)
    chosen: list[str] = []
    for name in wanted:
        expanded = groups.get(name, (name,))
        for n in expanded:
            if n not in known:
                raise ValueError(
                    f"unknown {what} {n!r}; expected one of {list(known)} or {list(groups)}"
                )
            if n not in chosen:
                chosen.append(n)
    if not chosen:
        raise ValueError(f"no {what} selected")
    return chosen


# -- RM-Bench ----------------------------------------------------------------------------------

_RMBENCH_RAW = "https://raw.githubusercontent.com/THU-KEG/RM-Bench/main/data/{domain}_filtered.json"
RMBENCH_DOMAINS = ("chat", "code", "safety-refuse", "safety-response", "math")
"""The files of RM-Bench's data/ folder (``<domain>_filtered.json``)."""
_RMBENCH_DEFAULT = ("chat", "code", "safety-refuse", "safety-response")
RMBENCH_STYLES = ("concise", "detailed", "detailed_markdown")
"""The order of the 3 variants in ``chosen`` and ``rejected`` (the official 3x3 matrix rows and
columns: scripts/utils.py ``compute_accuracy`` compares chosen[i] with rejected[j])."""


def rmbench_file(domain: str) -> DataFile:
    if domain not in RMBENCH_DOMAINS:
        raise ValueError(f"unknown RM-Bench domain {domain!r}; expected one of {RMBENCH_DOMAINS}")
    return DataFile(
        f"RM-Bench {domain}", f"rm-bench/{domain}_filtered.json", _RMBENCH_RAW.format(domain=domain)
    )


def load_rmbench(domains: str | Sequence[str] = _RMBENCH_DEFAULT) -> list[Comparison]:
    """RM-Bench groups: one per prompt, ``chosen`` and ``rejected`` the 3 style variants in
    file order (concise, detailed, detailed+markdown). ``subset`` is the file's domain
    (chat, code, safety-refuse, safety-response, math); ``metadata["domain"]`` the official
    aggregation domain (THU-KEG/RM-Bench scripts/utils.py ``split_dataset_by_domain``:
    ``domain.startswith(d)`` for d in chat, math, code, safety, so both safety files are
    "safety"), ``metadata["source_subset"]`` the record's own ``subset`` (e.g. alpacaeval).
    Ids are ``<domain>-<record id>`` (record ids repeat across files; ``metadata["record_id"]``)."""
    result = []
    for domain in _choose(domains, RMBENCH_DOMAINS, {"all": RMBENCH_DOMAINS}, "RM-Bench domain"):
        path = resolve(rmbench_file(domain))
        ids = []
        for line, r in read_records(path):
            where = f"{path}:{line}"
            cid = str(text_field(r, "id", where, id_like=True))
            prompt = _text(r, "prompt", where)
            chosen = _texts(r, "chosen", where, 3)
            rejected = _texts(r, "rejected", where, 3)
            source = text_field(r, "subset", where, optional=True)
            ids.append((cid, where))
            result.append(
                comparison(
                    "rm-bench",
                    f"{domain}-{cid}",
                    prompt,
                    chosen,
                    rejected,
                    domain,
                    domain="safety" if domain.startswith("safety") else domain,
                    record_id=cid,
                    source_subset=source,
                    styles=RMBENCH_STYLES,
                )
            )
        _check_unique(ids)
    return result


# -- JudgeBench --------------------------------------------------------------------------------

_JUDGEBENCH_RAW = "https://raw.githubusercontent.com/ScalerLab/JudgeBench/main/data/{name}"
JUDGEBENCH_SETS = {
    "gpt-4o": "gpt-4o-2024-05-13",
    "claude": "claude-3-5-sonnet-20240620",
}
"""Response set name -> the response model of its file."""

# ScalerLab/JudgeBench run_judge.py ``main`` step 7 reports per category with
# ``x["source"].startswith(prefix)`` for prefixes "mmlu-pro", "livebench-reasoning",
# "livebench-math", "livecodebench"; the paper (arXiv 2410.12784, Table 1) names them Knowledge,
# Reasoning, Math and Coding.
JUDGEBENCH_CATEGORIES = {
    "mmlu-pro": "knowledge",
    "livebench-reasoning": "reasoning",
    "livebench-math": "math",
    "livecodebench": "coding",
}


def judgebench_category(source: str) -> str | None:
    """The JudgeBench category of a pair's ``source`` (None when no prefix matches)."""
    for prefix, category in JUDGEBENCH_CATEGORIES.items():
        if source.startswith(prefix):
            return category
    return None


def judgebench_file(responses: str = "gpt-4o") -> DataFile:
    model = JUDGEBENCH_SETS.get(responses, responses)
    if model not in JUDGEBENCH_SETS.values():
        raise ValueError(
            f"unknown JudgeBench response set {responses!r}; expected one of "
            f"{list(JUDGEBENCH_SETS)} (or {list(JUDGEBENCH_SETS.values())})"
        )
    upstream = f"dataset%3Djudgebench%2Cresponse_model%3D{model}.jsonl"
    return DataFile(
        f"JudgeBench ({model} responses)",
        f"judgebench/judgebench_{model}.jsonl",
        _JUDGEBENCH_RAW.format(name=upstream),
    )


def load_judgebench(responses: str = "gpt-4o") -> list[Comparison]:
    """JudgeBench pairs of one response set (``gpt-4o``: 350, ``claude``: 270).

    ``subset`` is the category (knowledge, reasoning, math, coding; see
    ``JUDGEBENCH_CATEGORIES``); metadata keeps ``pair_id``, ``source``, ``label`` and
    ``chosen_position`` ("A" or "B": where the better response stood, for pairwise judges)."""
    file = judgebench_file(responses)
    name = next(k for k, v in JUDGEBENCH_SETS.items() if responses in (k, v))
    path = resolve(file)
    result, ids = [], []
    for line, r in read_jsonl_lines(path):
        where = f"{path}:{line}"
        pair_id = str(text_field(r, "pair_id", where, id_like=True))
        source = _text(r, "source", where)
        question = _text(r, "question", where)
        a, b = _text(r, "response_A", where), _text(r, "response_B", where)
        label = r.get("label")
        if label not in ("A>B", "B>A"):
            raise DataError(f"{where}: field 'label' must be 'A>B' or 'B>A', got {label!r}")
        category = judgebench_category(source)
        if category is None:
            raise DataError(
                f"{where}: source {source!r} is not in a JudgeBench category "
                f"(prefixes {list(JUDGEBENCH_CATEGORIES)})"
            )
        chosen, rejected = (a, b) if label == "A>B" else (b, a)
        ids.append((pair_id, where))
        result.append(
            comparison(
                f"judgebench-{name}",
                pair_id,
                question,
                [chosen],
                [rejected],
                category,
                pair_id=pair_id,
                source=source,
                label=label,
                chosen_position=label[0],
                response_model=r.get("response_model"),
                original_id=r.get("original_id"),
            )
        )
    _check_unique(ids)
    return result


# -- LLMBar ------------------------------------------------------------------------------------

_LLMBAR_RAW = (
    "https://raw.githubusercontent.com/princeton-nlp/LLMBar/main/Dataset/{path}/dataset.json"
)
LLMBAR_SETS = {
    # set name -> (local file, path under the upstream Dataset/ folder)
    "Natural": ("llmbar/LLMBar_Natural.json", "LLMBar/Natural"),
    "Adversarial_Neighbor": (
        "llmbar/LLMBar_Adversarial_Neighbor.json",
        "LLMBar/Adversarial/Neighbor",
    ),
    "Adversarial_GPTInst": ("llmbar/LLMBar_Adversarial_GPTInst.json", "LLMBar/Adversarial/GPTInst"),
    "Adversarial_GPTOut": ("llmbar/LLMBar_Adversarial_GPTOut.json", "LLMBar/Adversarial/GPTOut"),
    "Adversarial_Manual": ("llmbar/LLMBar_Adversarial_Manual.json", "LLMBar/Adversarial/Manual"),
    "MT-Bench": ("llmbar/Processed_MT-Bench.json", "Processed/MT-Bench"),
    "FairEval": ("llmbar/Processed_FairEval.json", "Processed/FairEval"),
    "LLMEval_2": ("llmbar/Processed_LLMEval_2.json", "Processed/LLMEval%5E2"),
}
LLMBAR_GROUPS: dict[str, tuple[str, ...]] = {
    "llmbar": tuple(s for s in LLMBAR_SETS if s == "Natural" or s.startswith("Adversarial")),
    "adversarial": tuple(s for s in LLMBAR_SETS if s.startswith("Adversarial")),
    "processed": ("MT-Bench", "FairEval", "LLMEval_2"),
    "all": tuple(LLMBAR_SETS),
}
"""Names that stand for several sets: ``llmbar`` (Natural + the 4 adversarial sets, 419 pairs:
RewardBench's llmbar-* subsets), ``adversarial``, ``processed`` (the human-judged sets),
``all``."""


def llmbar_file(set_name: str) -> DataFile:
    if set_name not in LLMBAR_SETS:
        raise ValueError(f"unknown LLMBar set {set_name!r}; expected one of {list(LLMBAR_SETS)}")
    local, upstream = LLMBAR_SETS[set_name]
    return DataFile(f"LLMBar {set_name}", local, _LLMBAR_RAW.format(path=upstream))


def load_llmbar(sets: str | Sequence[str] = "llmbar") -> list[Comparison]:
    """LLMBar pairs of the chosen sets (set names or ``LLMBAR_GROUPS`` names).

    ``subset`` is the set name; ids are ``<set>-<index in file>``; metadata keeps ``label``
    (1 or 2: which output is better) and ``chosen_position`` (the same, for pairwise judges)."""
    result = []
    for set_name in _choose(sets, tuple(LLMBAR_SETS), LLMBAR_GROUPS, "LLMBar set"):
        path = resolve(llmbar_file(set_name))
        for index, (line, r) in enumerate(read_records(path)):
            where = f"{path}:{line}"
            prompt = _text(r, "input", where)
            out1, out2 = _text(r, "output_1", where), _text(r, "output_2", where)
            label = r.get("label")
            if isinstance(label, bool) or label not in (1, 2):
                raise DataError(f"{where}: field 'label' must be 1 or 2, got {label!r}")
            chosen, rejected = (out1, out2) if label == 1 else (out2, out1)
            result.append(
                comparison(
                    "llmbar",
                    f"{set_name}-{index}",
                    prompt,
                    [chosen],
                    [rejected],
                    set_name,
                    label=label,
                    chosen_position=label,
                    index=index,
                )
            )
    return result


# -- HH-RLHF harmless --------------------------------------------------------------------------

HH_FILE = DataFile(
    "Anthropic HH-RLHF harmless-base test",
    "hh-rlhf/harmless-base_test.jsonl.gz",
    "https://raw.githubusercontent.com/anthropics/hh-rlhf/master/harmless-base/test.jsonl.gz",
)
HH_ASSISTANT = "\n\nAssistant:"


@dataclass(frozen=True)
class HHSkipped:
    line: int
    reason: str


@dataclass(frozen=True)
class HHSplit:
    comparisons: list[Comparison]
    skipped: list[HHSkipped]
    """Pairs that are not a shared prompt with two final answers, with the reason."""

    def reasons(self) -> Counter[str]:
        return Counter(s.reason for s in self.skipped)


REASON_NO_ASSISTANT = "no '\\n\\nAssistant:' turn"
REASON_PREFIX_DIFFERS = "chosen and rejected conversations differ before the last assistant turn"
REASON_SAME_ANSWER = "chosen and rejected final answers are identical"


def split_hh_transcripts(chosen: str, rejected: str) -> tuple[str, str, str] | str:
    """(prompt, chosen answer, rejected answer) of an HH pair, or the reason it cannot be split.

    The prompt is the transcript up to and including the last ``"\\n\\nAssistant:"`` — the split
    of TRL's ``extract_anthropic_prompt`` (examples/scripts/dpo.py: ``rfind`` of that marker;
    the DPO reference code uses the same function) — and the answers are what follows it (its
    single leading space removed). allenai/reward-bench itself only loads the already split
    ``allenai/pref-test-sets`` (rewardbench/utils.py ``EXTRA_PREF_SETS``); the notebook that
    split them is not in that repository. A pair whose chosen and rejected transcripts differ
    before that marker (5 in harmless-base test: one transcript runs on past the other's last
    turn) has no shared prompt and is reported, not repaired."""
    ic, ir = chosen.rfind(HH_ASSISTANT), rejected.rfind(HH_ASSISTANT)
    if ic < 0 or ir < 0:
        return REASON_NO_ASSISTANT
    end = ic + len(HH_ASSISTANT)
    if chosen[:end] != rejected[: ir + len(HH_ASSISTANT)]:
        return REASON_PREFIX_DIFFERS
    a, b = chosen[end:].removeprefix(" "), rejected[end:].removeprefix(" ")
    if a == b:
        return REASON_SAME_ANSWER
    return chosen[:end], a, b


def _read_jsonl_gz(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = gzip.decompress(read_bytes(path))
    except (OSError, EOFError) as ex:
        raise DataError(f"{path}: not a readable gzip file ({ex})") from None
    records = []
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{path}:{lineno}: invalid UTF-8") from None
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as ex:
            raise DataError(
                f"{path}:{lineno}: invalid JSON: {ex.msg} (column {ex.colno})"
            ) from None
        if not isinstance(record, dict):
            raise DataError(f"{path}:{lineno}: expected a JSON object, got {json_type(record)}")
        records.append((lineno, record))
    return records


def read_hh_harmless(path: Path | None = None) -> HHSplit:
    """All HH harmless pairs split into groups, and the pairs that were skipped (with reasons).

    A record without string ``chosen`` and ``rejected`` is a DataError (file:line); a pair that
    does not split (``split_hh_transcripts``) is skipped and listed. ``path``: a local
    ``.jsonl.gz`` (or plain ``.jsonl``) file instead of the canonical one."""
    path = Path(path) if path is not None else resolve(HH_FILE)
    records = _read_jsonl_gz(path) if path.suffix == ".gz" else read_jsonl_lines(path)
    comparisons, skipped = [], []
    for line, r in records:
        where = f"{path}:{line}"
        split = split_hh_transcripts(_text(r, "chosen", where), _text(r, "rejected", where))
        if isinstance(split, str):
            skipped.append(HHSkipped(line, split))
            continue
        prompt, chosen, rejected = split
        comparisons.append(
            comparison(
                "hh-rlhf-harmless",
                f"harmless-base-test-{line}",
                prompt,
                [chosen],
                [rejected],
                "harmless-base",
                line=line,
                turns=prompt.count(HH_ASSISTANT),
            )
        )
    return HHSplit(comparisons, skipped)


def load_hh_harmless(strict: bool = False, path: Path | None = None) -> list[Comparison]:
    """HH-RLHF harmless-base test pairs (2312 in the file; those that do not split into a shared
    prompt and two answers are skipped with a warning giving the count per reason and the first
    lines; ``strict=True`` makes any such pair a DataError instead)."""
    split = read_hh_harmless(path)
    if split.skipped:
        where = path or HH_FILE.relative_path
        lines = ", ".join(str(s.line) for s in split.skipped[:10])
        message = (
            f"{where}: skipped {len(split.skipped)} of "
            f"{len(split.skipped) + len(split.comparisons)} HH pairs: "
            + "; ".join(f"{n} {reason}" for reason, n in split.reasons().most_common())
            + f" (lines {lines}{', ...' if len(split.skipped) > 10 else ''})"
        )
        if strict:
            raise DataError(message)
        warnings.warn(message, stacklevel=2)
    return split.comparisons


# -- RewardBench 2 -----------------------------------------------------------------------------

RB2_FILE = DataFile(
    "RewardBench 2 (allenai/reward-bench-2, split test)",
    "reward-bench-2/test.parquet",
    "https://huggingface.co/datasets/allenai/reward-bench-2/resolve/main/data/test-00000-of-00001.parquet",
)


def rewardbench2_file() -> DataFile:
    return RB2_FILE


def _read_parquet(path: Path) -> list[tuple[str, dict[str, Any]]]:
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(path).to_pylist()
    except Exception as ex:
        raise DataError(
            f"{path}: not a readable Parquet file ({type(ex).__name__}: {ex})"
        ) from None
    return [(f"{path}:record {i}", r) for i, r in enumerate(rows)]


def load_rewardbench2(path: Path | str | None = None) -> list[Comparison]:
    """RewardBench 2 groups in the dataset's own schema (allenai/reward-bench-2, split test):
    ``id, prompt, chosen: [str], rejected: [str], num_correct, num_incorrect?,
    total_completions?, models?, subset``.

    As in allenai/reward-bench rewardbench/utils.py ``load_bon_dataset_v2`` the completions are
    ``chosen + rejected`` and ``process_single_model`` counts the first ``num_correct`` as
    correct, so ``len(chosen)`` must equal ``num_correct`` (several for Ties, whose ids are
    ``ref:<n>`` / ``tied:<n>``), and ``total_completions`` (and ``num_incorrect``) must agree
    with the lists. ``path``: a ``.jsonl`` or ``.parquet`` file in that schema instead of the
    canonical one."""
    path = Path(path) if path is not None else resolve(RB2_FILE)
    if path.suffix == ".parquet":
        records = _read_parquet(path)
    else:
        records = [(f"{path}:{line}", r) for line, r in read_jsonl_lines(path)]
    result, ids = [], []
    for where, r in records:
        cid = str(text_field(r, "id", where, id_like=True))
        prompt = _text(r, "prompt", where)
        chosen = _texts(r, "chosen", where)
        rejected = _texts(r, "rejected", where)
        subset = _text(r, "subset", where)
        num_correct = _int(r, "num_correct", where)
        num_incorrect = _int(r, "num_incorrect", where, optional=True)
        total = _int(r, "total_completions", where, optional=True)
        if not chosen or not rejected:
            raise DataError(f"{where}: 'chosen' and 'rejected' must each hold a response")
        if num_correct != len(chosen):
            raise DataError(
                f"{where}: num_correct is {num_correct} but 'chosen' holds {len(chosen)} responses"
            )
        if num_incorrect is not None and num_incorrect != len(rejected):
            raise DataError(
                f"{where}: num_incorrect is {num_incorrect} but 'rejected' holds "
                f"{len(rejected)} responses"
            )
        if total is not None and total != len(chosen) + len(rejected):
            raise DataError(
                f"{where}: total_completions is {total} but chosen + rejected hold "
                f"{len(chosen) + len(rejected)} responses"
            )
        models = r.get("models")
        ids.append((cid, where))
        result.append(
            comparison(
                "rewardbench2",
                cid,
                prompt,
                chosen,
                rejected,
                subset,
                num_correct=num_correct,
                models=models if isinstance(models, list) else None,
            )
        )
    _check_unique(ids)
    return result


# -- registry ----------------------------------------------------------------------------------

DATASETS: dict[str, Callable[..., list[Comparison]]] = {
    "rmbench": load_rmbench,
    "judgebench": load_judgebench,
    "llmbar": load_llmbar,
    "hh_harmless": load_hh_harmless,
    "rewardbench2": load_rewardbench2,
}


def load(name: str, **kwargs: Any) -> list[Comparison]:
    """The groups of a registered dataset (``DATASETS``), its loader given ``kwargs``."""
    if name not in DATASETS:
        raise ValueError(f"unknown ranking dataset {name!r}; expected one of {list(DATASETS)}")
    return DATASETS[name](**kwargs)
