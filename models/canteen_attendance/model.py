"""Model of ``canteen_attendance``: a median forecast raised by a calibrated safety margin.

The central kitchen orders meals two weeks ahead and children must eat. The kitchen states
its **safety level** in its own words: *at most N short days per month* (per canteen, or for
the whole city when the file has no canteen column). The model turns it into a forecast in
three steps, all inside the training period:

1. **Median model.** A ``HistGradientBoostingRegressor`` (quantile loss at 0.5) learns the
   ratio ``reel / base`` from the features of ``features.make_features``; the median
   forecast is ``ratio × base``.
2. **Rolling-origin backtests.** The training period is cut into ``BACKTEST_FOLDS`` blocks of
   ``FOLD_MONTHS`` months before its end. For each block, median models are fitted on what
   precedes the block only and forecast it (14 days ahead, like in production). This gives
   out-of-sample log-residuals ``log(actual / median forecast)`` and chooses the only
   hyperparameter (``min_samples_leaf`` in ``LEAF_GRID``: lowest mean absolute residual on
   the ``SELECTION_FOLDS`` most recent blocks). Quick mode: ``QUICK_BACKTEST_FOLDS`` blocks,
   lighter trees, one leaf size.
3. **Conformal margin.** Residuals are divided by their canteen's spread (median absolute
   deviation on the backtests, shrunk towards the pooled one: small canteens vary more in
   relative terms), then the margin is the conformal quantile of these scores at a level
   ``tau`` (split conformal, finite-sample rank ``ceil((n + 1) tau)``). The forecast is
   ``median × exp(margin × spread of the canteen)``. The safety level fixes the miss rate
   ``alpha = N / service days per month`` (median number of service days of a month in the
   training data) and ``tau`` is the lowest level, **never below** ``1 - alpha``, whose
   margins, learnt on the earlier blocks only, keep the short-day rate of each later block at
   most ``alpha`` on average (``choose_level``): if attendance drifts from one block to the
   next, the level rises until the backtests meet the promise.

Nothing in this module ever sees the period the model is judged on: ``fit`` receives the
training rows only (a unit test changes the test period and checks that the level and the
margins do not move). The agents' forecast of the day is a feature when the file has it
(``use_agents``; see ``features``): on the Nantes file it is what lets the city-wide forecast
beat the agents' own waste at the same safety; without it the per-canteen figures still do.

Why not MAPIE's ``SplitConformalRegressor``: it calibrates one fitted model on one held-out
set, while here the residuals come from one model per backtest origin (each a true
two-weeks-ahead forecast of a period it never saw), and the level is chosen by nested
backtests. The conformal step itself is the same formula (rank ``ceil((n + 1) tau)`` of the
calibration scores), in ``conformal_quantile``; normalised scores are the "locally weighted"
split conformal method.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from models.errors import BiblioError, DataValidationError

from .data import NETWORK_SERIES
from .features import AGENTS_FEATURE, DEFAULT_HORIZON, feature_columns, make_features, observed

if TYPE_CHECKING:  # scikit-learn is imported when a model is fitted (the runner's checks and
    # ``biblio validate`` import this package without needing it)
    from sklearn.ensemble import HistGradientBoostingRegressor


MODEL_NAME = "modele_quantile"

DEFAULT_SHORT_DAYS_PER_MONTH = 2.5
"""Safety level of a file per canteen: at most 2.5 short days per month and canteen (about
what the agents' forecasts gave in Nantes, 2011–2018: one canteen-day in five)."""

DEFAULT_NETWORK_SHORT_DAYS_PER_MONTH = 0.5
"""Safety level of a city-wide file (no canteen column): at most one short day every two
months for the whole city (Nantes's agents: one to six a year)."""

SHORT_DAYS_BOUNDS = (0.1, 6.0)
"""Accepted safety levels (short days per month)."""

MAX_MISS_RATE = 0.5
"""A safety level may not allow more than one short day in two."""

BACKTEST_FOLDS = 6
QUICK_BACKTEST_FOLDS = 3
FOLD_MONTHS = 4
"""Backtests: six blocks of four months (two school years) before the end of training; quick
mode three (one year: every season once)."""

LEAF_GRID = (40, 10)
QUICK_LEAF_GRID = (40,)
"""``min_samples_leaf`` candidates (ties go to the first: the more regular model)."""
SELECTION_FOLDS = 2
"""The candidates are compared on the most recent backtest folds only (cost); the other
folds run with the chosen one."""

MIN_FIT_ROWS = 50
MIN_CALIBRATION_ROWS = 30
SCALE_SHRINK_ROWS = 20
"""A canteen's spread counts like this many residuals of the pooled spread (shrinkage)."""
MIN_SCALE = 0.005
LEVEL_STEP = 0.0025
MAX_LEVEL = 0.995
MARGIN_LEVELS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99)
"""Levels whose margins are kept, for ``predict(..., quantile=level)``."""
CURVE_SHORT_DAYS = (0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)
"""Safety levels of the trade-off curve (``tradeoff_curve``)."""

OPENMP_THREADS = 1
"""Threads of the gradient boosting. One: on a small shared machine OpenMP threads fighting
for busy cores made fits ~10x slower (measured), and one thread is fast enough here."""

FIT_THREADS = 2
"""Independent fits (backtest folds, candidates) run side by side on up to this many Python
threads (never more than the cores this process may use). The boosting's loops release the
GIL: two fits take 1.6x less time than one after the other on two idle cores (measured);
a thread waits, it does not spin, so a busy machine loses nothing. Results do not depend on
it (each fit has its own seed and data)."""

PARALLEL_MAX_ROWS = 250_000
"""Above this many training rows the fits run one after the other: every fit keeps the
``MAX_TRAIN_ROWS`` most recent rows, so on a large file they are a small part of the run while
two at a time raised its peak memory (measured on 1.2 M rows: 133 s → 132 s, 4.0 → 5.1 GB;
on 150,000 rows: fit cell 16.2 s → 10.8 s, 399 → 480 MB)."""

MAX_TRAIN_ROWS = 60_000
"""Full mode trains on the most recent rows only, at most this many (cost grows with rows)."""

QUICK_HISTORY_DAYS = 550

MAX_ITER = 120
LEARNING_RATE = 0.1
QUICK_MAX_ITER = 40
QUICK_LEARNING_RATE = 0.15
"""Every backtest model uses the same settings as the final one, so that its residuals are
those of the final model."""


class SafetyLevelError(BiblioError, ValueError):
    """A safety level outside ``SHORT_DAYS_BOUNDS`` (French message)."""


@dataclass(frozen=True)
class SafetyLevel:
    """The kitchen's promise: at most ``short_days_per_month`` short days per month.

    ``scope`` is ``"cantine"`` (per canteen) or ``"reseau"`` (the whole city);
    ``days_per_month`` the median number of service days in a month of the training data.
    """

    short_days_per_month: float
    days_per_month: float
    scope: str

    @property
    def miss_rate(self) -> float:
        return self.short_days_per_month / self.days_per_month

    @property
    def nominal_coverage(self) -> float:
        return 1 - self.miss_rate

    def text(self) -> str:
        """The level in the kitchen's words (French)."""
        from models.quality import fmt_fr

        n = self.short_days_per_month
        unit = "jour" if n <= 1 else "jours"
        where = "et par cantine" if self.scope == "cantine" else "pour l'ensemble de la ville"
        rows = "des cantine-jours" if self.scope == "cantine" else "des jours"
        return (
            f"au plus {fmt_fr(n, 2 if n < 0.5 else 1)} {unit} de manque par mois {where} "
            f"(un mois compte {fmt_fr(self.days_per_month, 0)} jours de service), soit une "
            f"couverture visée de {fmt_fr(self.nominal_coverage * 100, 1)} % {rows}"
        )

    def to_dict(self) -> dict:
        return {
            "short_days_per_month": self.short_days_per_month,
            "days_per_month": self.days_per_month,
            "scope": self.scope,
            "miss_rate": self.miss_rate,
            "nominal_coverage": self.nominal_coverage,
        }


@dataclass
class CanteenForecaster:
    """Fitted model: the median regressor and the calibrated safety margin.

    A forecast is ``median × exp(margin × scales[series])`` (``default_scale`` for a canteen
    never seen in the backtests). ``level`` is the conformal level chosen for ``safety``;
    ``margins`` the margin of other levels (``MARGIN_LEVELS``); ``backtest`` describes the
    backtests and ``curve`` the trade-off they measured (``tradeoff_curve``).
    """

    median: HistGradientBoostingRegressor
    features: list[str]
    horizon_days: int
    safety: SafetyLevel
    level: float
    margin: float
    scales: dict[str, float]
    default_scale: float
    margins: dict[float, float] = field(default_factory=dict)
    backtest: dict = field(default_factory=dict)
    curve: list[dict] = field(default_factory=list)
    trained_until: str = ""
    metadata: dict = field(default_factory=dict)

    @property
    def quantile(self) -> float:
        """The conformal level of the forecast (kept under the name of the old parameter)."""
        return self.level


# ------------------------------------------------------------------------------- safety


def check_short_days(value: float, name: str = "jours_de_manque_par_mois") -> float:
    """``value`` as a float inside ``SHORT_DAYS_BOUNDS``, else a French ``SafetyLevelError``."""
    low, high = SHORT_DAYS_BOUNDS
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not low <= number <= high:
        raise SafetyLevelError(
            f"Niveau de sécurité invalide : {name} = {value!r}. Indiquez un nombre de jours de "
            f"manque par mois entre {low:g} et {high:g} (par exemple 2.5)."
        )
    return number


def is_network(frame: pd.DataFrame) -> bool:
    """True when the frame is one city-wide series (a file without canteen column)."""
    return bool(len(frame)) and bool((frame["series"] == NETWORK_SERIES).all())


def days_per_month(frame: pd.DataFrame) -> float:
    """Median number of service days (dates with attendance) in a month that has service."""
    dates = pd.DatetimeIndex(observed(frame)["date"].unique())
    if not len(dates):
        return 16.0
    counts = pd.Series(1, index=dates).groupby([dates.year, dates.month]).size()
    return float(counts.median())


def safety_level(
    train: pd.DataFrame,
    short_days_per_month: float = DEFAULT_SHORT_DAYS_PER_MONTH,
    network_short_days_per_month: float = DEFAULT_NETWORK_SHORT_DAYS_PER_MONTH,
) -> SafetyLevel:
    """The level that applies to ``train``: per canteen, or for the city (one series)."""
    network = is_network(train)
    if network:
        n = check_short_days(network_short_days_per_month, "jours_de_manque_par_mois_reseau")
    else:
        n = check_short_days(short_days_per_month)
    level = SafetyLevel(n, days_per_month(train), "reseau" if network else "cantine")
    if level.miss_rate > MAX_MISS_RATE:
        raise SafetyLevelError(
            f"Niveau de sécurité trop bas : {n:g} jours de manque par mois pour "
            f"{level.days_per_month:g} jours de service, soit plus d'un jour sur deux."
        )
    return level


# ----------------------------------------------------------------------------- training


def training_rows(
    frame: pd.DataFrame, horizon_days: int, feats: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    """Features and actual ratio (``reel / base``) of the rows usable for training.

    ``feats``: features of a frame holding every row of ``frame`` (``features``), else computed.
    """
    if feats is None:
        feats = make_features(frame, horizon_days)
    else:
        known = feats.attrs.get("horizon_days", horizon_days)
        if known != horizon_days:
            raise ValueError(f"feats were built for horizon_days={known}, not {horizon_days}")
        feats = feats.loc[frame.index]
    keep = frame.index.isin(observed(frame).index) & feats["base"].notna().to_numpy()
    feats = feats[keep]
    return feats, frame.loc[feats.index, "reel"] / feats["base"]


def recent_rows(dates: pd.Series, quick: bool) -> np.ndarray:
    """Training rows kept: quick mode the last ``QUICK_HISTORY_DAYS`` days, full mode the most
    recent ``MAX_TRAIN_ROWS`` rows (older years add cost more than skill)."""
    if quick:
        return (dates >= dates.max() - pd.Timedelta(days=QUICK_HISTORY_DAYS)).to_numpy()
    keep = np.ones(len(dates), dtype=bool)
    if len(dates) > MAX_TRAIN_ROWS:
        order = np.argsort(dates.to_numpy(), kind="stable")
        keep[order[: len(dates) - MAX_TRAIN_ROWS]] = False
    return keep


def _regressor(leaf: int, quick: bool, seed: int) -> HistGradientBoostingRegressor:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        loss="quantile",
        quantile=0.5,
        max_iter=QUICK_MAX_ITER if quick else MAX_ITER,
        learning_rate=QUICK_LEARNING_RATE if quick else LEARNING_RATE,
        max_leaf_nodes=31,
        min_samples_leaf=int(leaf),
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )


def _fit_median(X, ratio, dates, leaf, quick, seed):
    """Median regressor on the most recent rows (``recent_rows``), without the features that
    are empty there (a backtest fold may start before a year of history: no last-year day)."""
    keep = recent_rows(dates, quick)
    X, ratio = X[keep], ratio[keep]  # the recent rows only: no copy of a large file's history
    X = X.loc[:, X.notna().any().to_numpy()]
    # Build the regressor first: this imports scikit-learn and loads its OpenMP runtime,
    # which ``threadpool_limits`` can only limit once loaded (else 2 threads, ~10x slower
    # on a busy machine: measured).
    estimator = _regressor(leaf, quick, seed)
    with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
        estimator.fit(X, ratio.clip(0, 3))
    return estimator


def _predict_ratio(estimator, X: pd.DataFrame) -> np.ndarray:
    X = X.reindex(columns=list(estimator.feature_names_in_))
    with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
        return np.clip(estimator.predict(X), 1e-6, None)


def in_parallel(call, argument_lists: list[tuple], threads: int = FIT_THREADS) -> list:
    """``[call(*args) for args in argument_lists]``, on ``threads`` threads at most."""
    from concurrent.futures import ThreadPoolExecutor

    workers = min(threads, len(os.sched_getaffinity(0)), len(argument_lists))
    if workers <= 1:
        return [call(*args) for args in argument_lists]
    with ThreadPoolExecutor(workers, thread_name_prefix="ajustement") as pool:
        return list(pool.map(lambda args: call(*args), argument_lists))


def fold_origins(dates: pd.Series, n_folds: int) -> list[pd.Timestamp]:
    """Start of each backtest fold, oldest first: every ``FOLD_MONTHS`` months back from the
    day after the last training date."""
    end = dates.max() + pd.Timedelta(days=1)
    return [end - pd.DateOffset(months=FOLD_MONTHS * k) for k in range(n_folds, 0, -1)]


def backtest_residuals(
    X: pd.DataFrame,
    ratio: pd.Series,
    dates: pd.Series,
    series: pd.Series,
    *,
    leaves=LEAF_GRID,
    n_folds: int = BACKTEST_FOLDS,
    quick: bool = False,
    seed: int = 0,
) -> tuple[pd.DataFrame, int, dict[int, float]]:
    """Out-of-sample residuals of rolling-origin backtests, and the ``min_samples_leaf``.

    Fold ``k`` covers ``FOLD_MONTHS`` months; its models are fitted on the rows dated before
    it. The candidate leaves are compared on the ``SELECTION_FOLDS`` most recent folds
    (``choose_leaf``), then every other fold is forecast with the chosen one. Returns the
    residual table (one row per forecast row: ``fold, date, series, actual`` ratio to
    ``base`` and ``residual = log(actual / median forecast)``), the leaf and the errors.
    """
    usable = []
    for number, origin in enumerate(fold_origins(dates, n_folds)):
        before = (dates < origin).to_numpy()
        stop = origin + pd.DateOffset(months=FOLD_MONTHS)
        inside = ((dates >= origin) & (dates < stop)).to_numpy()
        if before.sum() >= MIN_FIT_ROWS and inside.any():
            usable.append((number, before, inside))

    def forecast(fold, leaf):
        number, before, inside = fold
        rows = np.flatnonzero(before)
        rows = rows[recent_rows(dates.iloc[rows], quick)]  # what the fit keeps, copied alone
        estimator = _fit_median(X.iloc[rows], ratio.iloc[rows], dates.iloc[rows], leaf, quick, seed)
        actual = ratio[inside].to_numpy(float)
        return pd.DataFrame(
            {
                "fold": number,
                "date": dates[inside].to_numpy(),
                "series": series[inside].to_numpy(),
                "actual": actual,
                "residual": np.log(actual / _predict_ratio(estimator, X[inside])),
            }
        )

    if not usable:
        return pd.DataFrame(columns=["fold", "date", "series", "actual", "residual"]), 0, {}
    recent = usable[-SELECTION_FOLDS:]
    threads = FIT_THREADS if len(X) <= PARALLEL_MAX_ROWS else 1
    candidates = [(fold, leaf) for leaf in leaves for fold in recent]
    forecasts = iter(in_parallel(forecast, candidates, threads))
    tried = {leaf: [next(forecasts) for _ in recent] for leaf in leaves}
    leaf, errors = choose_leaf({k: pd.concat(v) for k, v in tried.items()})
    parts = in_parallel(forecast, [(fold, leaf) for fold in usable[: -len(recent)]], threads)
    return pd.concat([*parts, *tried[leaf]], ignore_index=True), leaf, errors


def choose_leaf(residuals: dict[int, pd.DataFrame]) -> tuple[int, dict[int, float]]:
    """The ``min_samples_leaf`` with the lowest mean absolute backtest residual (clipped at
    ±0.5 so that a strike day does not decide); ties go to the first of the grid."""
    errors = {
        leaf: float(r["residual"].clip(-0.5, 0.5).abs().mean()) for leaf, r in residuals.items()
    }
    return min(errors, key=errors.get), errors


def series_scales(residuals: pd.DataFrame) -> tuple[dict[str, float], float]:
    """Spread of each series' residuals (median absolute deviation), shrunk towards the
    pooled spread with the weight of ``SCALE_SHRINK_ROWS`` residuals; and the pooled one."""
    r = residuals["residual"].clip(-0.5, 0.5)
    pooled = max(float((r - r.median()).abs().median()), MIN_SCALE)
    groups = r.groupby(residuals["series"])
    mad = (r - groups.transform("median")).abs().groupby(residuals["series"]).median()
    n = groups.size()
    shrunk = (mad * n + pooled * SCALE_SHRINK_ROWS) / (n + SCALE_SHRINK_ROWS)
    return {str(k): max(float(v), MIN_SCALE) for k, v in shrunk.items()}, pooled


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """Split-conformal quantile: the ``ceil((n + 1) level)``-th smallest score (the largest
    one when the rank exceeds ``n``: too few scores for the level, flagged by ``fit``)."""
    values = np.sort(np.asarray(scores, dtype=float))
    return _rank_value(values[np.isfinite(values)], level)


def _rank_value(ordered: np.ndarray, level: float) -> float:
    if not ordered.size:
        return math.nan
    rank = math.ceil(round((ordered.size + 1) * level, 9))
    return float(ordered[min(rank, ordered.size) - 1])


def _levels_from(nominal: float) -> np.ndarray:
    grid = np.round(np.arange(LEVEL_STEP, MAX_LEVEL + LEVEL_STEP / 2, LEVEL_STEP), 6)
    return np.concatenate([[nominal], grid[grid > nominal]])


@dataclass(frozen=True)
class NestedFolds:
    """Backtest scores split for nested checks: for each fold after the first, the sorted
    scores of the earlier folds (where a margin is learnt) and those of the fold itself."""

    folds: tuple[int, ...]
    earlier: tuple[np.ndarray, ...]
    current: tuple[np.ndarray, ...]

    @classmethod
    def split(cls, scores: pd.Series, folds: pd.Series) -> NestedFolds:
        keys = sorted(folds.unique())[1:]
        values, by = scores.to_numpy(float), folds.to_numpy()
        return cls(
            tuple(int(k) for k in keys),
            tuple(np.sort(values[by < k]) for k in keys),
            tuple(np.sort(values[by == k]) for k in keys),
        )

    def margins(self, level: float) -> list[float]:
        """The margin each fold gets from the earlier folds at ``level``."""
        return [_rank_value(earlier, level) for earlier in self.earlier]

    def miss_rate(self, level: float) -> float:
        """Mean over the folds of the share of scores above their margin (NaN: no fold)."""
        rates = [
            1 - np.searchsorted(current, margin, side="right") / current.size
            for current, margin in zip(self.current, self.margins(level), strict=True)
        ]
        return float(np.mean(rates)) if rates else math.nan


def choose_level(nested: NestedFolds, miss_rate: float) -> tuple[float, bool]:
    """Lowest level ``>= 1 - miss_rate`` whose nested backtests miss at most ``miss_rate`` on
    average; ``(level, met)``, ``met`` False when no level up to ``MAX_LEVEL`` meets it
    (then ``MAX_LEVEL``). Without a second fold: ``1 - miss_rate`` (plain split conformal)."""
    nominal = 1 - miss_rate
    if not nested.folds:
        return nominal, True
    for level in _levels_from(nominal):
        if nested.miss_rate(level) <= miss_rate + 1e-12:
            return float(level), True
    return MAX_LEVEL, False


def tradeoff_curve(
    residuals: pd.DataFrame,
    scales: pd.Series,
    days: float,
    nested: NestedFolds,
    short_days=CURVE_SHORT_DAYS,
) -> list[dict]:
    """Over-production and short days that each safety level gave on the nested backtests
    (each fold with the margin learnt on the earlier folds only), and the level it selects.

    ``scales``: the spread of each row's series (aligned on ``residuals``).
    """
    rows = []
    for n in short_days:
        alpha = n / days
        if alpha > MAX_MISS_RATE:
            continue
        level, met = choose_level(nested, alpha)
        over = short = actual = count = 0.0
        for fold, margin in zip(nested.folds, nested.margins(level), strict=True):
            part = (residuals["fold"] == fold).to_numpy()
            ratio = np.exp(margin * scales[part] - residuals["residual"][part])
            y = residuals["actual"][part]
            over += float((y * np.clip(ratio - 1, 0, None)).sum())
            actual += float(y.sum())
            short += float((ratio < 1).sum())
            count += float(part.sum())
        rows.append(
            {
                "short_days_per_month": float(n),
                "nominal_coverage": 1 - alpha,
                "level": level,
                "met": met,
                "backtest_over_production_pct": over / actual * 100 if actual else math.nan,
                "backtest_short_days_per_month": short / count * days if count else math.nan,
            }
        )
    return rows


def fit(
    train: pd.DataFrame,
    *,
    horizon_days: int = DEFAULT_HORIZON,
    short_days_per_month: float = DEFAULT_SHORT_DAYS_PER_MONTH,
    network_short_days_per_month: float = DEFAULT_NETWORK_SHORT_DAYS_PER_MONTH,
    use_agents: bool = True,
    quick: bool = False,
    seed: int = 0,
    feats: pd.DataFrame | None = None,
) -> CanteenForecaster:
    """Fit the median model and calibrate its safety margin on ``train`` only.

    ``short_days_per_month`` is the safety level of a file per canteen,
    ``network_short_days_per_month`` that of a city-wide file (``safety_level``).
    ``use_agents``: use the agents' forecast of the day as a feature when the file has one.
    ``feats``: precomputed ``features(data, horizon_days)`` of a frame containing ``train``
    (only the rows of ``train`` are read).
    """
    safety = safety_level(train, short_days_per_month, network_short_days_per_month)
    X, ratio = training_rows(train, horizon_days, feats)
    if len(X) < MIN_FIT_ROWS:
        raise DataValidationError(
            None,
            "Pas assez d'historique pour entraîner le modèle : il faut au moins 50 jours "
            f"observés précédés de {horizon_days} jours d'historique (trouvés : {len(X)}).",
        )
    dates, series = train.loc[X.index, "date"], train.loc[X.index, "series"].astype(str)
    # a feature never known in training (e.g. last year's level with under a year of history)
    # is left out: scikit-learn cannot bin an all-empty column
    columns = [c for c in feature_columns(X) if X[c].notna().any()]
    if not use_agents:
        columns = [c for c in columns if c != AGENTS_FEATURE]
    X = X[columns]
    chosen, leaf, leaf_errors = backtest_residuals(
        X,
        ratio,
        dates,
        series,
        leaves=QUICK_LEAF_GRID if quick else LEAF_GRID,
        n_folds=QUICK_BACKTEST_FOLDS if quick else BACKTEST_FOLDS,
        quick=quick,
        seed=seed,
    )
    if len(chosen) < MIN_CALIBRATION_ROWS:
        raise DataValidationError(
            None,
            "Historique trop court pour calibrer la marge de sécurité : il faut des "
            f"prévisions passées ({FOLD_MONTHS} mois au moins, précédés de 50 jours "
            "observés) pour mesurer les erreurs du modèle avant la période de test.",
        )
    scales, pooled = series_scales(chosen)
    per_row = chosen["series"].map(scales).astype(float)
    scores = chosen["residual"] / per_row
    nested = NestedFolds.split(scores, chosen["fold"])
    level, met = choose_level(nested, safety.miss_rate)
    median = _fit_median(X, ratio, dates, leaf, quick, seed)
    grid = sorted({*CURVE_SHORT_DAYS, safety.short_days_per_month})
    curve = tradeoff_curve(chosen, per_row.to_numpy(), safety.days_per_month, nested, grid)
    levels = {*MARGIN_LEVELS, *(row["level"] for row in curve)}
    margins = {float(q): conformal_quantile(scores.to_numpy(), q) for q in sorted(levels)}
    backtest = {
        "folds": int(chosen["fold"].nunique()),
        "fold_months": FOLD_MONTHS,
        "start": str(pd.Timestamp(chosen["date"].min()).date()),
        "end": str(pd.Timestamp(chosen["date"].max()).date()),
        "rows": int(len(chosen)),
        "min_samples_leaf": int(leaf),
        "leaf_errors": {int(k): v for k, v in leaf_errors.items()},
        "level_met": bool(met),
        "enough_rows": bool((len(chosen) + 1) * level <= len(chosen)),
        "nested_miss_rate": nested.miss_rate(level),
        "uses_agents": AGENTS_FEATURE in columns,
    }
    return CanteenForecaster(
        median=median,
        features=[str(c) for c in median.feature_names_in_],
        horizon_days=int(horizon_days),
        safety=safety,
        level=float(level),
        margin=conformal_quantile(scores.to_numpy(), level),
        scales=scales,
        default_scale=pooled,
        margins=margins,
        backtest=backtest,
        curve=curve,
        trained_until=str(train["date"].max().date()),
        metadata={"training_rows": int(recent_rows(dates, quick).sum())},
    )


# ---------------------------------------------------------------------------- forecasts


def _margin(model: CanteenForecaster, quantile: float | None) -> float:
    if quantile is None:
        return model.margin
    q = float(quantile)
    if q == 0.5:
        return 0.0
    if q == model.level:
        return model.margin
    if q in model.margins:
        return model.margins[q]
    levels = ", ".join(f"{v:g}" for v in sorted({0.5, model.level, *model.margins}))
    raise ValueError(f"no margin for quantile {q:g} (known: {levels})")


def predict(
    model: CanteenForecaster,
    frame: pd.DataFrame,
    quantile: float | None = None,
    *,
    feats: pd.DataFrame | None = None,
    index: pd.Index | None = None,
) -> pd.Series:
    """Meals to order for every row of ``frame`` (its history gives the lagged features).

    ``quantile`` None: the calibrated level of the safety level; 0.5: the median forecast;
    a level of ``MARGIN_LEVELS``: the median raised by that level's margin. Rows of a series
    without ``horizon_days`` of history get NaN. ``feats`` (``features(frame,
    model.horizon_days)``) avoids computing the features again; ``index`` limits the forecast
    to those rows (e.g. the test period: much cheaper).
    """
    return predict_levels(model, frame, [quantile], feats=feats, index=index)[quantile]


def predict_levels(
    model: CanteenForecaster,
    frame: pd.DataFrame,
    levels,
    *,
    feats: pd.DataFrame | None = None,
    index: pd.Index | None = None,
) -> dict:
    """``predict`` at several ``levels`` (``None``, 0.5 or known levels), the median model
    run once: ``{level: forecast}``."""
    margins = {level: _margin(model, level) for level in levels}
    if feats is None:
        feats = _cached_features(model, frame)
    rows = feats if index is None else feats.loc[index]
    median = _predict_ratio(model.median, rows.reindex(columns=model.features))
    median = median * rows["base"].to_numpy()
    scale = frame.loc[rows.index, "series"].astype(str).map(model.scales)
    scale = scale.fillna(model.default_scale).to_numpy(float)
    out = {}
    for level, margin in margins.items():
        name = "q0.5" if level == 0.5 else f"q{model.level if level is None else level:g}"
        values = np.round(median * np.exp(margin * scale))
        out[level] = pd.Series(values, index=rows.index, name=name)
    return out


def _cached_features(model: CanteenForecaster, frame: pd.DataFrame) -> pd.DataFrame:
    """Features of ``frame``, kept on the model for the last frame seen (same object, shape,
    last date and actual total): the notebook predicts several levels on the same data."""
    key = (id(frame), frame.shape, frame["date"].max(), float(frame["reel"].sum()))
    cached = model.metadata.get("_features")
    if cached is None or cached[0] != key:
        cached = (key, make_features(frame, model.horizon_days))
        model.metadata["_features"] = cached
    return cached[1]


def calibration_text(model: CanteenForecaster) -> str:
    """French sentences: the safety level, and where and how its margin was learnt."""
    from models.quality import fmt_fr

    info = model.backtest
    start, end = (pd.Timestamp(info[k]).strftime("%d/%m/%Y") for k in ("start", "end"))
    scope = "cantine-jours" if model.safety.scope == "cantine" else "jours"
    text = (
        f"Niveau de sécurité : {model.safety.text()}. Marge apprise sur {info['rows']} "
        f"{scope} prévus à {model.horizon_days} jours du {start} au {end} ({info['folds']} "
        f"blocs de {info['fold_months']} mois, chacun par un modèle entraîné sur ce qui le "
        f"précède) : niveau conforme retenu {fmt_fr(model.level * 100, 2)} %, marge moyenne "
        f"{fmt_fr(np.expm1(model.margin * model.default_scale) * 100, 1)} % au-dessus de la "
        "prévision médiane."
    )
    if not info.get("level_met", True):
        text += (
            " Attention : même au niveau le plus haut, les essais passés n'ont pas tenu ce niveau."
        )
    return text
