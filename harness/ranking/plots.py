"""Ranking plots (PNG, matplotlib's non-interactive backend): accuracy per subset with
confidence intervals, the ablation bars, and the length-bias chart.

Each takes a table with ``accuracy``, ``ci_low`` and ``ci_high`` columns (fractions) and the
column(s) that name its bars, as ``harness.ranking.report`` builds them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def _pyplot():  # noqa: ANN202 - matplotlib.pyplot module
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: str | Path) -> Path:  # noqa: ANN001 - pyplot and its figure
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def grouped_bars(
    frame: pd.DataFrame,
    group: str,
    series: str,
    path: str | Path,
    title: str,
    ylabel: str = "accuracy",
    line: float | None = 0.5,
    ylim: tuple[float, float] | None = (0, 1),
) -> Path:
    """Bars of ``accuracy`` per ``group`` (x axis), one colour per ``series``, with the
    confidence interval as error bars; a dashed line at ``line`` (0.5: chance for a pair)."""
    plt = _pyplot()
    groups = list(dict.fromkeys(frame[group]))
    names = list(dict.fromkeys(frame[series]))
    width = 0.8 / max(1, len(names))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(groups) * max(1, len(names)) ** 0.5), 4.0))
    for i, name in enumerate(names):
        rows = frame[frame[series] == name].set_index(group).reindex(groups)
        x = [k + (i - (len(names) - 1) / 2) * width for k in range(len(groups))]
        low = (rows["accuracy"] - rows["ci_low"]).clip(lower=0).fillna(0)
        high = (rows["ci_high"] - rows["accuracy"]).clip(lower=0).fillna(0)
        ax.bar(x, rows["accuracy"], width, label=str(name), yerr=[low, high], capsize=3)
    if line is not None:
        ax.axhline(line, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([str(g) for g in groups], rotation=20, ha="right")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(names) > 1:
        ax.legend(fontsize=8, loc="lower right")
    return _save(plt, fig, path)


def scatter(frame: pd.DataFrame, x: str, y: str, series: str, path: str | Path, title: str) -> Path:
    """Points of ``y`` against ``x``, one colour per ``series`` (e.g. reward against response
    length per checkpoint: reward hacking shows as the reward following the length)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    for name, part in frame.groupby(series, sort=False):
        ax.scatter(part[x], part[y], s=8, alpha=0.5, label=str(name))
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(plt, fig, path)
