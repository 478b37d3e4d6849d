"""Report files: pandas tables as markdown and CSV, one document per report (``harness rank``,
``harness compare``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd


def markdown_table(frame: pd.DataFrame) -> str:
    """A markdown table; floats to 4 significant digits, NaN as an em dash."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "—" if math.isnan(value) else f"{value:.4g}"
        return str(value)

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def write_tables(
    out: Path,
    document: str,
    *,
    title: str,
    command: str,
    note: str,
    tables: Sequence[tuple[str, pd.DataFrame]],
    plots: Sequence[Path] = (),
) -> list[Path]:
    """``out/<name>.csv`` per table and ``out/<document>`` (title, the command that made it, a
    note, every table, links to the plots). Returns the document, the CSVs and the plots."""
    out.mkdir(parents=True, exist_ok=True)
    csvs = []
    for name, frame in tables:
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False)
        csvs.append(path)
    lines = [f"# {title}", "", f"Command: `{command}`", "", note]
    for name, frame in tables:
        lines += ["", f"## {name}", "", markdown_table(frame) if not frame.empty else "(none)"]
    if plots:
        lines += ["", "Plots: " + ", ".join(f"[{p.name}]({p.name})" for p in plots)]
    path = out / document
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [path, *csvs, *plots]
