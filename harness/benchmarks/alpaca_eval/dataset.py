"""AlpacaEval 2 data: the instructions, published model outputs, annotations and leaderboard.

All files are the ``tatsu-lab/alpaca_eval`` repository's (``results/<model>/...``; outputs are
CC-BY-NC-4.0, research use): the instructions and the official baseline outputs come from
``gpt4_1106_preview``'s ``model_outputs.json``; any published model's outputs can be replayed
the same way; the published per-item verdicts of the leaderboard annotator and the published
leaderboard table are read to check the port against the published numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.data import DataError, DataFile, read_json, resolve

REPO_RAW = "https://raw.githubusercontent.com/tatsu-lab/alpaca_eval/main"
BASELINE = "gpt4_1106_preview"
ANNOTATOR = "weighted_alpaca_eval_gpt4_turbo"
"""The AlpacaEval 2 leaderboard annotator (its published files are read; ``judge`` ports it)."""
N_INSTRUCTIONS = 805

LEADERBOARD = DataFile(
    dataset="AlpacaEval",
    relative_path="alpaca-eval/leaderboards/alpaca_eval_2_weighted_gpt4_turbo_leaderboard.csv",
    url=f"{REPO_RAW}/src/alpaca_eval/leaderboards/data_AlpacaEval_2/"
    "weighted_alpaca_eval_gpt4_turbo_leaderboard.csv",
)


if TYPE_CHECKING:  # pandas loads on use: loading every task stays fast
    import pandas as pd


def model_outputs_file(model: str) -> DataFile:
    """A published model's 805 outputs (``results/<model>/model_outputs.json``)."""
    return DataFile(
        dataset="AlpacaEval",
        relative_path=f"alpaca-eval/model_outputs/{model}.json",
        url=f"{REPO_RAW}/results/{model}/model_outputs.json",
    )


def annotations_file(model: str) -> DataFile:
    """The leaderboard annotator's published per-item verdicts for a model."""
    return DataFile(
        dataset="AlpacaEval",
        relative_path=f"alpaca-eval/annotations_weighted_gpt4_turbo/{model}.json",
        url=f"{REPO_RAW}/results/{model}/{ANNOTATOR}/annotations.json",
    )


def _read_json_items(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    data = read_json(path)  # invalid UTF-8 or JSON: an error naming the file and line
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of items")
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise DataError(f"{path}: item {i} is not a JSON object")
        missing = [k for k in required if k not in item]
        if missing:
            raise DataError(f"{path}: item {i} lacks field(s) {missing}")
    return data


def load_model_outputs(model: str) -> list[dict[str, Any]]:
    """A published model's outputs, in the benchmark's order (805 items: instruction, output, ...)."""
    path = resolve(model_outputs_file(model))
    items = _read_json_items(path, required=("instruction", "output"))
    if len(items) != N_INSTRUCTIONS:
        raise DataError(f"{path}: expected {N_INSTRUCTIONS} items, found {len(items)}")
    return items


def load_records() -> list[dict[str, Any]]:
    """The 805 AlpacaEval instructions with the official baseline's (gpt4_1106_preview) outputs.

    Each record: ``index`` (0-804, the benchmark's order), ``instruction``, ``dataset`` (the
    source set: helpful_base, koala, oasst, selfinstruct, vicuna) and ``baseline_output``.
    """
    return [
        {
            "index": i,
            "instruction": item["instruction"],
            "dataset": item.get("dataset", ""),
            "baseline_output": item["output"],
        }
        for i, item in enumerate(load_model_outputs(BASELINE))
    ]


def aligned_outputs(model: str, records: list[dict[str, Any]] | None = None) -> list[str]:
    """A published model's outputs by benchmark index, checked against the instructions."""
    records = records if records is not None else load_records()
    items = load_model_outputs(model)
    for record in records:
        item = items[record["index"]]
        if item["instruction"] != record["instruction"]:
            raise DataError(
                f"AlpacaEval outputs of {model}: item {record['index']} answers a different "
                "instruction than the benchmark's"
            )
    return [item["output"] if item["output"] is not None else "" for item in items]


def load_annotations(model: str) -> list[dict[str, Any]]:
    """The published ``weighted_alpaca_eval_gpt4_turbo`` verdicts for a model (805 items)."""
    path = resolve(annotations_file(model))
    items = _read_json_items(path, required=("instruction", "output_1", "output_2", "preference"))
    if len(items) != N_INSTRUCTIONS:
        raise DataError(f"{path}: expected {N_INSTRUCTIONS} items, found {len(items)}")
    return items


def load_leaderboard() -> pd.DataFrame:
    """The published AlpacaEval 2 leaderboard (weighted GPT-4-turbo annotator), indexed by model."""
    path = resolve(LEADERBOARD)
    import pandas as pd

    table = pd.read_csv(path, index_col=0)
    missing = [c for c in ("win_rate", "standard_error", "n_total") if c not in table.columns]
    if missing:
        raise DataError(f"{path}: leaderboard lacks column(s) {missing}")
    return table
