"""The official Arena-Hard aggregation: battles, bootstrap mean, Bradley-Terry, style control.

Battles. Each game becomes battles scored from the model's side (1 win, 0.5 tie, 0 loss), a
strong verdict (``>>``) counting as 3 battles. v2.0 (``show_result.py`` ``load_judgments``):
game 2's battles then game 1's complemented, and a question with an unusable verdict in either
game is left out. v0.1 (``get_battles_from_row``): game 1's then game 2's, an unusable game
dropped on its own. Battles are ordered by question.

Scores. v2.0 (``print_leaderboard``): the mean over 100 bootstrap resamples of the battles'
mean, with the 5%/95% quantiles as its interval. With ``--control-features markdown length``
(the configuration of the published hard-prompt leaderboard) a Bradley-Terry model with four
style covariates is fitted instead (``*_sc`` here). v0.1: a Bradley-Terry model (logistic
regression on the battles, ties as one win each way) gives Elo ratings anchored at the
baseline = 1000, converted to the win rate against the baseline, with a 95% interval from 100
bootstrap refits (``np.random.seed(42)``). When every battle is against the same baseline the
Bradley-Terry win rate equals the mean battle score, so both versions agree on the point
estimate. v2.0 publishes each category on its own; the overall ``arena_hard`` here pools the
battles of the categories, each game against its own category's baseline.

Official code followed (github.com/lmarena/arena-hard-auto): v2.0 ``show_result.py`` @ 0489bf3
(``load_judgments``, ``print_leaderboard``, ``print_leaderboard_with_style_features``),
``utils/math_utils.py`` @ a9e743c (the Bradley-Terry fit and win-rate conversion),
``utils/add_markdown_info.py`` @ 3bab294 (style features); v0.1 ``utils_math.py`` @ 561534a
(``compute_mle_elo``, ``get_bootstrap_result``, ``predict_win_rate``, ``get_win_rate_column``)
with the v0.1 ``show_result.py`` (``get_battles_from_row``).

Where this differs from the official code, and why:

- Battles are ordered by question and both bootstraps take a seed (v2.0's is unseeded there),
  so the interval is reproducible; with the same order and seed the draws are the official ones.
- A model that wins (or loses) every battle has no finite Bradley-Terry estimate: this reports
  the limit, 100 (or 0); the official optimiser stops at its iteration limit just below it.
- Style control leaves out a style feature that is constant over the battles (the official
  normalisation divides by its zero spread and yields NaN).

Epochs (see ``arena_hard_score``): the metric reads only ``Score.value`` — reduced over epochs
by Inspect before metrics run — never ``Score.metadata`` (the first epoch's only).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
from inspect_ai.scorer import Metric, SampleScore, Value, metric

from harness.benchmarks import official_unscored
from harness.benchmarks.arena_hard.dataset import METADATA_KEY, check_version

if TYPE_CHECKING:
    from harness.benchmarks.arena_hard.judge import PairJudgment

WEIGHT = 3
"""Battles per strong verdict (``>>``), the official ``weight`` / ``--weight`` default."""

# show_result.py load_judgments (v2.0): the A-side score of each label, as battles.
V2_LABEL_TO_SCORE: dict[str, list[float]] = {
    "A>B": [1.0],
    "A>>B": [1.0] * WEIGHT,
    "A=B": [0.5],
    "A<<B": [0.0] * WEIGHT,
    "A<B": [0.0],
    "B>A": [0.0],
    "B>>A": [0.0] * WEIGHT,
    "B=A": [0.5],
    "B<<A": [1.0] * WEIGHT,
    "B<A": [1.0],
}
# get_battles_from_row (v0.1): (A-side score, weight); any other label drops the game.
V01_LABELS: dict[str, tuple[float, int]] = {
    "A=B": (0.5, 1),
    "A>B": (1.0, 1),
    "A>>B": (1.0, WEIGHT),
    "B>A": (0.0, 1),
    "B>>A": (0.0, WEIGHT),
}

_BATTLE_ORDER = {"v2.0": (1, 0), "v0.1": (0, 1)}
"""The order each version lists a question's games in (indices into (game 1, game 2))."""


def game_battles(
    version: str, verdicts: Sequence[str | None]
) -> tuple[list[float] | None, list[float] | None]:
    """Each game's battle scores from the model's side (game 1: the baseline is assistant A;
    game 2: the model is A); None for an unusable game — under v2.0 both, when either is."""
    game1, game2 = verdicts
    if check_version(version) == "v2.0":
        if game1 not in V2_LABEL_TO_SCORE or game2 not in V2_LABEL_TO_SCORE:
            return None, None
        return [1 - s for s in V2_LABEL_TO_SCORE[game1]], list(V2_LABEL_TO_SCORE[game2])

    def model_side(verdict: str | None, model_is_a: bool) -> list[float] | None:
        if verdict not in V01_LABELS:
            return None
        a_score, weight = V01_LABELS[verdict]
        return [a_score if model_is_a else 1 - a_score] * weight

    return model_side(game1, False), model_side(game2, True)


def battle_scores(version: str, verdicts: Sequence[str | None]) -> list[float] | None:
    """The model's battle scores (1 win, 0.5 tie, 0 loss) from a question's two verdicts.

    ``verdicts`` are game 1 (baseline as A) then game 2 (model as A). v2.0 (``load_judgments``):
    game 2's scores then game 1's complemented, and None when either game has no verdict. v0.1
    (``get_battles_from_row``): game 1's battles then game 2's, an unusable game dropped alone,
    None when neither is usable.
    """
    games = game_battles(version, verdicts)
    scores = [s for i in _BATTLE_ORDER[version] for s in games[i] or []]
    return scores or None


# -- style features (add_markdown_info.py) -----------------------------------------------------

STYLE_KEYS = ("token_len", "header_count", "list_count", "bold_count")
_CODE_BLOCK = re.compile("```([^`]*)```")


def style_features(text: str) -> dict[str, Any]:
    """``add_markdown_info.py``: token length (gpt-4o encoding) and markdown element counts.

    Code blocks are removed first, as the official ``remove_pattern`` does (it removes the text
    between the fences, leaving the fences).
    """
    import tiktoken

    encoder = tiktoken.encoding_for_model("gpt-4o")
    stripped = text
    for block in _CODE_BLOCK.findall(text):
        stripped = stripped.replace(block, "")
    return {
        "token_len": len(encoder.encode(text, disallowed_special=())),
        "header_count": {
            f"h{i}": len(re.findall(rf"^#{{{i}}}\s", stripped, re.MULTILINE)) for i in range(1, 7)
        },
        "list_count": {
            "ordered": len(re.findall(r"^\s*\d+\.\s", stripped, re.MULTILINE)),
            "unordered": len(re.findall(r"^\s*[-*+]\s", stripped, re.MULTILINE)),
        },
        "bold_count": {
            "**": len(re.findall(r"\*\*[^*\n]+\*\*", stripped)),
            "__": len(re.findall(r"__[^_\n]+__", stripped)),
        },
    }


def _has_style(metadata: Mapping[str, Any] | None) -> bool:
    return isinstance(metadata, Mapping) and all(k in metadata for k in STYLE_KEYS)


def style_vector(metadata: Mapping[str, Any]) -> list[float]:
    """[token_len, headers, lists, bold]: nested counts summed, as the official code does."""
    out = []
    for key in STYLE_KEYS:
        v = metadata[key]
        out.append(float(v if isinstance(v, int | float) else sum(v.values())))
    return out


# -- Score.value: what the metric reads ----------------------------------------------------------

GAME_KEYS = ("game1_battles", "game1_points", "game2_battles", "game2_points")
"""Per game: how many battles its verdict counts for (1, or 3 if strong) and the model's
points in them (the sum of its battle scores); NaN for an unusable game."""
STYLE_VALUE_KEYS = tuple(f"model_{k}" for k in STYLE_KEYS)
"""The model answer's style vector (``style_vector``); NaN when it could not be computed."""
VALUE_KEYS = ("battle_mean", *GAME_KEYS, *STYLE_VALUE_KEYS)
"""The keys of the judge scorer's Score.value, the same on every sample."""


def score_value(
    version: str, verdicts: Sequence[str | None], model_style: Mapping[str, Any] | None
) -> dict[str, float]:
    """A judgment's Score.value: ``battle_mean`` (the sample's mean battle score, for display),
    the games' battles and points, the model answer's style vector (keys ``VALUE_KEYS``)."""
    battles = battle_scores(version, verdicts)
    value = {"battle_mean": math.nan if battles is None else float(np.mean(battles))}
    for i, game in enumerate(game_battles(version, verdicts), 1):
        value[f"game{i}_battles"] = math.nan if game is None else float(len(game))
        value[f"game{i}_points"] = math.nan if game is None else float(sum(game))
    style = style_vector(model_style) if _has_style(model_style) else [math.nan] * 4
    return value | dict(zip(STYLE_VALUE_KEYS, style, strict=True))


@dataclass(frozen=True)
class QuestionBattles:
    """A question's usable games as the aggregation reads them, in the official battle order:
    (battles, score) with score the model's mean battle score — 1, 0.5, 0 with one epoch; a
    battle-weighted mean over epochs after the mean reducer."""

    version: str
    category: str
    baseline: str
    question_index: int
    games: tuple[tuple[float, float], ...]
    model_style: tuple[float, ...] | None
    baseline_style: tuple[float, ...] | None


def _number(value: Mapping[str, Any], key: str) -> float:
    raw = value.get(key)
    return float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else math.nan


def question_battles(info: Mapping[str, Any], value: Mapping[str, Any]) -> QuestionBattles:
    """A question from its sample's ``metadata[METADATA_KEY]`` and its (reduced) Score.value."""
    version = check_version(info["version"])
    games = []
    for i in _BATTLE_ORDER[version]:
        battles = _number(value, f"game{i + 1}_battles")
        points = _number(value, f"game{i + 1}_points")
        if math.isnan(battles) or math.isnan(points) or battles <= 0:
            continue  # unusable in every epoch
        # other reducers than the mean reduce points and battles apart: keep the ratio a score
        games.append((battles, min(max(points / battles, 0.0), 1.0)))
    style = tuple(_number(value, k) for k in STYLE_VALUE_KEYS)
    baseline_style = info.get("baseline_style")
    return QuestionBattles(
        version=version,
        category=str(info["category"]),
        baseline=str(info["baseline"]),
        question_index=int(info["question_index"]),
        games=tuple(games),
        model_style=None if any(math.isnan(s) for s in style) else style,
        baseline_style=tuple(style_vector(baseline_style)) if _has_style(baseline_style) else None,
    )


# -- the official aggregation ----------------------------------------------------------------


@dataclass(frozen=True)
class Aggregate:
    """A score against the baseline in percent, with its bootstrap interval."""

    score: float
    lower: float
    upper: float
    battles: float


NAN_AGGREGATE = Aggregate(math.nan, math.nan, math.nan, 0)


def _rows(size: int, weights: Sequence[float] | None) -> tuple[np.ndarray, int]:
    """Battle rows of ``size`` weighted units (row -> unit), and the rows a bootstrap round draws.

    A unit of weight w stands for w battles of the same score. Integer weights (always so with
    one epoch) give w rows each, and a round draws as many rows as there are: exactly the
    official resampling of the battles. Fractional weights (the mean over 3 or more epochs of
    strong and slight verdicts) are first scaled by their least common denominator, so each unit
    keeps its exact share, while a round still draws Σw rows (an average epoch's battles).
    """
    if weights is None:
        return np.arange(size), size
    if len(weights) != size:
        raise ValueError(f"{len(weights)} weights for {size} battle scores")
    shares = [Fraction(w).limit_denominator(1000) for w in weights]
    if any(s < 0 or abs(float(s) - w) > 1e-9 for s, w in zip(shares, weights, strict=True)):
        raise ValueError(f"battle weights must be non-negative ratios of small integers: {weights}")
    scale = math.lcm(*(s.denominator for s in shares)) if shares else 1
    index = np.repeat(np.arange(size), [int(s * scale) for s in shares])
    return index, max(1, round(float(sum(weights)))) if index.size else 0


def bootstrap_mean(
    scores: Sequence[float],
    rounds: int = 100,
    seed: int = 42,
    weights: Sequence[float] | None = None,
) -> Aggregate:
    """v2.0 ``print_leaderboard``: mean of per-round means of resampled battles; 5%/95% quantiles.

    The rounds draw as ``groupby("model").sample(frac=1.0, replace=True)`` does under
    ``np.random.seed(seed)`` (one model, so one ``choice`` per round). ``weights``: battles
    per score (see ``_rows``); None is one each.
    """
    index, draws = _rows(len(scores), weights)
    x = np.asarray(scores, dtype=float)[index]
    if x.size == 0:
        return NAN_AGGREGATE
    rs = np.random.RandomState(seed)
    means = np.array([x[rs.choice(x.size, size=draws, replace=True)].mean() for _ in range(rounds)])
    return Aggregate(
        score=100 * float(means.mean()),
        lower=100 * float(np.quantile(means, 0.05)),
        upper=100 * float(np.quantile(means, 0.95)),
        battles=float(np.sum(weights)) if weights is not None else float(x.size),
    )


def fit_logistic(
    X: np.ndarray, y: np.ndarray, max_iter: int = 100, tol: float = 1e-10
) -> np.ndarray:
    """Unpenalised logistic regression without intercept (soft labels allowed), by Newton's method.

    Maximises Σ y·log σ(Xw) + (1 − y)·log(1 − σ(Xw)) with step halving; on separable data
    the estimate grows until ``max_iter`` (the likelihood has no finite maximum). The
    log-likelihood is linear in y, so a soft label equals its battles counted apart.
    """

    def loglik(w: np.ndarray) -> float:
        z = X @ w
        return float(-(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)).sum())

    w = np.zeros(X.shape[1])
    current = loglik(w)
    for _ in range(max_iter):
        p = 0.5 * (1 + np.tanh(0.5 * (X @ w)))  # σ(Xw), without overflow
        gradient = X.T @ (y - p)
        hessian = (X * (p * (1 - p))[:, None]).T @ X
        step = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        t = 1.0
        while t > 1e-8:
            candidate = w + t * step
            value = loglik(candidate)
            if value >= current - 1e-12:
                break
            t /= 2
        else:
            break
        w, improvement, current = candidate, value - current, value
        if np.max(np.abs(t * step)) < tol or improvement < tol * max(1.0, abs(current)) * 1e-3:
            break
    return w


def bradley_terry_elo(
    battles: Sequence[tuple[str, str, float]],
    baseline: str,
    scale: float = 400,
    base: float = 10,
    init_rating: float = 1000,
) -> dict[str, float]:
    """v0.1 ``compute_mle_elo``: Elo ratings from (model_a, model_b, score of model_a) battles.

    Logistic regression on X[a] = +ln(base), X[b] = −ln(base), no intercept, no penalty, every
    battle twice, a tie as one win for each side; the ratings are anchored at the baseline =
    1000. (A tie counted once each way is the 0.5 soft label the fit below uses.)
    """
    models = sorted({a for a, _, _ in battles} | {b for _, b, _ in battles} | {baseline})
    free = [m for m in models if m != baseline]
    column = {m: i for i, m in enumerate(free)}
    X = np.zeros((len(battles), len(free)))
    y = np.empty(len(battles))
    for row, (a, b, score) in enumerate(battles):
        if a in column:
            X[row, column[a]] += math.log(base)
        if b in column:
            X[row, column[b]] -= math.log(base)
        y[row] = score
    coef = fit_logistic(X, y)
    ratings = {m: init_rating + scale * float(coef[column[m]]) for m in free}
    ratings[baseline] = init_rating  # anchor: elo += 1000 - elo[baseline]
    return {m: r + 1000 - ratings[baseline] for m, r in ratings.items()}


def win_rate(
    rating: float, baseline_rating: float = 1000, scale: float = 400, base: float = 10
) -> float:
    """``predict_win_rate``: the expected score of a rating against the baseline's."""
    exponent = (baseline_rating - rating) / scale
    return 0.0 if exponent > 300 else 1 / (1 + base**exponent)


_UNBOUNDED = 1e6
"""The rating offset standing for an infinite estimate (its win rate is 0 or 1 in floats)."""


def bradley_terry_win_rate(
    scores: Sequence[float],
    rounds: int = 100,
    seed: int = 42,
    weights: Sequence[float] | None = None,
) -> Aggregate:
    """v0.1: the Bradley-Terry win rate against the baseline with its 95% bootstrap interval.

    Battles are (baseline, model) with the baseline's score ``1 − s``, as
    ``get_battles_from_row`` builds them; ``get_bootstrap_result`` refits on
    ``battles.sample(frac=1.0, replace=True)`` under ``np.random.seed(seed)``; the interval is
    the 2.5/97.5 percentiles of the bootstrap ratings, converted to win rates. ``weights``:
    battles per score (see ``_rows``).
    """
    index, draws = _rows(len(scores), weights)
    x = np.asarray(scores, dtype=float)[index]
    if x.size == 0:
        return NAN_AGGREGATE
    model, baseline = "model", "baseline"

    def rating(sample: np.ndarray) -> float:
        if np.all(sample == 1) or np.all(sample == 0):  # no finite MLE: the limit
            return _UNBOUNDED if sample[0] == 1 else -_UNBOUNDED
        return bradley_terry_elo([(baseline, model, 1 - s) for s in sample], baseline)[model]

    rs = np.random.RandomState(seed)
    boot = np.array([rating(x[rs.choice(x.size, size=draws, replace=True)]) for _ in range(rounds)])
    lower, upper = float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))
    return Aggregate(
        score=100 * win_rate(rating(x)),
        lower=100 * win_rate(lower),
        upper=100 * win_rate(upper),
        battles=float(np.sum(weights)) if weights is not None else float(x.size),
    )


def style_design(
    scores: Sequence[float],
    model_style: Sequence[Sequence[float]],
    baseline_style: Sequence[Sequence[float]],
    weights: Sequence[float] | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """The style-controlled Bradley-Terry rows (X, y) and the rows a bootstrap round draws.

    Per battle: the length difference ratio (m − b)/(m + b) and, for headers, lists and bold,
    the density difference (m_d − b_d)/(m_d + b_d + 1) with density = count / length; each
    standardised over the battles. X's first column (+1: the model against the baseline) is
    β_model − β_baseline, the others the style features; y is the battle score.
    """
    index, draws = _rows(len(scores), weights)
    y = np.asarray(scores, dtype=float)[index]
    m = np.asarray(model_style, dtype=float).reshape(-1, 4)[index]
    b = np.asarray(baseline_style, dtype=float).reshape(-1, 4)[index]
    with np.errstate(divide="ignore", invalid="ignore"):
        final = np.zeros_like(m)
        final[:, 0] = np.nan_to_num((m[:, 0] - b[:, 0]) / (m[:, 0] + b[:, 0]))
        m_density = np.nan_to_num(m[:, 1:] / m[:, :1])
        b_density = np.nan_to_num(b[:, 1:] / b[:, :1])
        final[:, 1:] = (m_density - b_density) / (m_density + b_density + 1)
    std = final.std(axis=0, ddof=1) if y.size > 1 else np.zeros(4)
    keep = std > 0  # a constant feature carries nothing (and would divide by zero)
    features = (final[:, keep] - final[:, keep].mean(axis=0)) / std[keep]
    return np.column_stack([np.ones(y.size), features]), y, draws


def style_controlled_win_rate(
    scores: Sequence[float],
    model_style: Sequence[Sequence[float]],
    baseline_style: Sequence[Sequence[float]],
    rounds: int = 100,
    seed: int = 42,
    weights: Sequence[float] | None = None,
) -> Aggregate:
    """v2.0 ``print_leaderboard_with_style_features`` with ``--control-features markdown length``.

    The model of ``style_design`` is refitted on ``np.random.randint(0, n, (rounds, n))``
    resamples of the battles; the score is the median win rate σ(β_model − β_baseline), the
    interval the 5%/95% quantiles.
    """
    X, y, draws = style_design(scores, model_style, baseline_style, weights)
    if y.size < 2:
        return NAN_AGGREGATE
    rs = np.random.RandomState(seed)
    idx = rs.randint(low=0, high=y.size, size=(rounds, draws))
    rates = np.array([1 / (1 + math.exp(-fit_logistic(X[i], y[i])[0])) for i in idx])
    return Aggregate(
        score=100 * float(np.quantile(rates, 0.5)),
        lower=100 * float(np.quantile(rates, 0.05)),
        upper=100 * float(np.quantile(rates, 0.95)),
        battles=float(np.sum(weights)) if weights is not None else float(y.size),
    )


def aggregate(
    version: str,
    scores: Sequence[float],
    rounds: int = 100,
    seed: int = 42,
    weights: Sequence[float] | None = None,
) -> Aggregate:
    """The version's official score of a list of battle scores (see the module docstring)."""
    if check_version(version) == "v2.0":
        return bootstrap_mean(scores, rounds, seed, weights)
    return bradley_terry_win_rate(scores, rounds, seed, weights)


def _key(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]+", "_", name)


def aggregate_questions(
    questions: Sequence[QuestionBattles], rounds: int = 100, seed: int = 42
) -> dict[str, float]:
    """The official scores of a set of questions: overall, per category, style-controlled (v2.0),
    then ``arena_hard_questions`` (with a usable game) and ``arena_hard_battles`` (their sum)."""
    versions = {q.version for q in questions}
    if len(versions) > 1:
        raise ValueError(f"judgments of several Arena-Hard versions: {sorted(versions)}")
    version = versions.pop() if versions else "v2.0"
    scored = sorted((q for q in questions if q.games), key=lambda q: q.question_index)
    categories = sorted({q.category for q in scored})
    groups = [("arena_hard", scored)]
    if len(categories) > 1:
        groups += [(_key(c), [q for q in scored if q.category == c]) for c in categories]
    out: dict[str, float] = {}  # "arena_hard" first: the headline
    for name, group in groups:
        weights = [w for q in group for w, _ in q.games]
        scores = [s for q in group for _, s in q.games]
        agg = aggregate(version, scores, rounds, seed, weights)
        out |= {name: agg.score, f"{name}_lower": agg.lower, f"{name}_upper": agg.upper}
        if version == "v2.0":
            out |= _style_controlled(name, group, rounds, seed)
    return out | {
        "arena_hard_questions": float(len(scored)),
        "arena_hard_battles": float(sum(w for q in scored for w, _ in q.games)),
    }


def _style_controlled(
    name: str, group: Sequence[QuestionBattles], rounds: int, seed: int
) -> dict[str, float]:
    keys = (f"{name}_sc", f"{name}_sc_lower", f"{name}_sc_upper")
    styled = all(q.model_style and q.baseline_style for q in group)
    if not group or not styled or len({q.baseline for q in group}) > 1:
        return dict.fromkeys(keys, math.nan)  # no style attributes, or several baselines
    games = [(q, w, s) for q in group for w, s in q.games]
    agg = style_controlled_win_rate(
        [s for _, _, s in games],
        [q.model_style for q, _, _ in games],  # type: ignore[misc]
        [q.baseline_style for q, _, _ in games],  # type: ignore[misc]
        rounds,
        seed,
        weights=[w for _, w, _ in games],
    )
    return dict(zip(keys, (agg.score, agg.lower, agg.upper), strict=True))


def summarise(
    judgments: Sequence[PairJudgment], rounds: int = 100, seed: int = 42
) -> dict[str, float]:
    """The official scores of a set of judgments (one epoch), through the same path as the
    metric, plus ``arena_hard_unscored``: judgments with no usable battle."""
    questions = [question_battles(j.info(), j.score_value()) for j in judgments]
    out = aggregate_questions(questions, rounds, seed)
    return out | {"arena_hard_unscored": float(sum(not q.games for q in questions))}


@metric
def arena_hard_score(bootstrap_rounds: int = 100, seed: int = 42) -> Metric:
    """The official Arena-Hard score (% against the baseline) with its bootstrap interval.

    Keys: ``arena_hard`` (+ ``_lower``/``_upper``), per category when there are several
    (``hard_prompt``, ``creative_writing``), the style-controlled ``*_sc`` (v2.0; NaN without
    style attributes), ``arena_hard_questions`` and ``arena_hard_battles`` (what went in).
    Samples without a usable judgment are left out (and counted by ``arena_hard_unscored``),
    never scored 0 or 1.

    Epochs: read from the reduced Score.value only (``VALUE_KEYS``), so right for any
    ``--epochs`` and reducer. Inspect reduces each key on its own, skipping NaN (a game without
    a usable verdict in that epoch; under v2.0 both games of the question). Each game is then
    ``gameN_battles`` battles of score ``gameN_points / gameN_battles`` (clipped to [0, 1]):
    with one epoch exactly the official battles. Under the mean reducer, a game is its average
    usable epoch: the mean battle count, at the battle-weighted mean outcome. Hence:

    - Bradley-Terry fits. The log-likelihood is linear in the outcome, so the fit on these soft
      outcomes equals the fit on the battles of all epochs pooled, when every game has the
      same number of usable epochs and the same features in each. v0.1's score (and the full
      battle mean of v2.0) is then the pooled one exactly. Style control (v2.0 ``*_sc``) uses
      the mean of the answers' style counts over epochs: exactly pooled when the answer's style
      is the same in every epoch (replayed answers), an approximation otherwise.
    - v2.0's score, the mean of bootstrap means, is linear in the battle scores for fixed
      draws. When each game has the same verdict strength (1 or 3 battles) in every epoch and
      every epoch scored every question, it equals the mean over epochs of the per-epoch
      scores. When strengths differ it estimates the pooled battle mean instead (each epoch's
      verdict weighted by its battles), not the mean of per-epoch ratios; a question usable
      in fewer epochs counts as the average of those.
    - The intervals are the bootstrap quantiles of an average epoch's (soft) battles, not
      means of per-epoch intervals. With 3 or more epochs a mean battle count can be
      fractional (see ``_rows``).

    Other reducers (median, max, mode, …) reduce battles and points each on their own.
    """

    def compute(scores: list[SampleScore]) -> Value:
        questions = []
        for s in scores:
            info = (s.sample_metadata or {}).get(METADATA_KEY)
            if not isinstance(info, Mapping):
                raise ValueError(f"sample {s.sample_id} has no '{METADATA_KEY}' in its metadata")
            value = s.score.value if isinstance(s.score.value, Mapping) else {}
            questions.append(question_battles(info, value))
        return aggregate_questions(questions, bootstrap_rounds, seed)

    return compute


def arena_hard_unscored() -> Metric:
    """``arena_hard_unscored``: (sample, epoch) judgments without a usable battle (v2.0: either
    game's verdict unusable; v0.1: both), counted over every epoch."""
    return official_unscored("battle_mean", "arena_hard_unscored")
