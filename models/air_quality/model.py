"""Model of the ``air_quality`` entry: next-day forecaster, exceedance probability, alert.

``fit`` trains it for a station and a pollutant on the days before the test period
(``forecast_setup``); ``predict`` forecasts every day of a daily table.

The forecaster is a ``HistGradientBoostingRegressor`` that learns the change of
``log(1 + value)`` from today's level (``log_anchor``: pollution is skewed, in log space
errors are about proportional, and anchoring on today keeps unusual levels reachable), with
the **absolute error** loss (a median forecast: the metric is the MAE, and peaks do not drag
the fit). It is trained on **every station** measuring the same quantity (``POOL``: one
model learns what the network's days have in common; the station's own levels, its gap to
the region and its weekly profile are features), over the training period only.

**Every choice on the training period only, by rolling-origin backtesting**
(``backtest_folds``: expanding windows over the second half of the training days, each fold
trained on the days before it and scored on the days after, never the test period):

1. the setting (``SETTINGS``: feature groups and number of trees) is the one whose
   out-of-fold forecasts have the lowest MAE relative to persistence, over all pooled
   stations (``select_setting``); one more candidate, ``ENSEMBLE``, averages the log
   forecasts of every setting (the mean of their out-of-fold forecasts is scored the same
   way, at no extra backtest cost): when it wins, every setting is refitted and the
   forecaster averages them (``Forecaster.members``);
2. raw probability: P(y > s) is the share of out-of-fold log residuals r of that setting
   with prediction + r > log(1 + s);
3. isotonic calibration of that raw probability against the observed threshold days
   (``calibration``: knots interpolated linearly; kept only with ``MIN_EVENTS_FOR_CALIBRATION``
   days or more, else the raw probability is used);
4. the alert rule is the one with the best F1 on those out-of-fold days among: the calibrated
   probability reaching a cut-off (``CUTOFF_GRID``), today's value above the threshold
   (persistence), or either of the two (``ALERT_RULES``). Persistence is a hard baseline for
   threshold days: when it ranks peaks better than the model on the training years, the
   alert uses it. With fewer than ``MIN_EVENTS_FOR_CUTOFF`` out-of-fold threshold days the
   rule is « probability ≥ 0.5 or today above the threshold ».

Steps 2-4 depend on the threshold only: ``Forecaster.for_threshold`` redoes them for another
threshold from the same out-of-fold forecasts, without refitting.

Also here: the regulatory thresholds and the ATMO index classes the forecasts are read with.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.isotonic import IsotonicRegression
from threadpoolctl import threadpool_limits

from models import metrics as mt
from models.errors import BiblioError

from .data import DEFAULT_POLLUTANT, MAX_COLUMNS, choose_station, default_pollutant, stations
from .features import DEFAULT_GROUPS, FEATURE_GROUPS, Panel, make_features

INFORMATION_THRESHOLDS = {"PM10": 50.0, "NO2": 200.0, "O3": 180.0}
"""Regulatory information thresholds (µg/m³): PM10 daily mean, NO2 and O3 hourly values."""

ALERT_THRESHOLDS = {"PM10": 80.0, "NO2": 400.0, "O3": 240.0}

ATMO_BREAKPOINTS = {
    "PM10": (20, 40, 50, 100, 150),
    "PM25": (10, 20, 25, 50, 75),
    "NO2": (40, 90, 120, 230, 340),
    "O3": (50, 100, 130, 240, 380),
}
"""ATMO index breakpoints (µg/m³) between the six classes below."""

ATMO_CLASSES = ("bon", "moyen", "dégradé", "mauvais", "très mauvais", "extrêmement mauvais")

MIN_EVENTS_FOR_CUTOFF = 3
MIN_EVENTS_FOR_CALIBRATION = 5
CUTOFF_GRID = tuple(np.round(np.arange(0.05, 0.91, 0.05), 2))
LOSS = "absolute_error"
ALERT_RULES = ("probabilite", "persistance", "probabilite_ou_persistance")
"""Alert rules (see the module docstring); ties favour the earlier rule."""

OPENMP_THREADS = 1
"""Threads of the gradient boosting. One thread on purpose: on a shared 2-core machine
OpenMP's busy-waiting threads make a fit 10-25x slower than a single thread."""


@dataclass(frozen=True)
class Setting:
    """A candidate of the backtest: feature groups and number of trees."""

    name: str
    groups: tuple[str, ...]
    max_iter: int


SETTINGS = (
    Setting("standard_300", DEFAULT_GROUPS, 300),
    Setting("standard_150", DEFAULT_GROUPS, 150),
    Setting("etendu_300", FEATURE_GROUPS, 300),
    Setting("etendu_150", FEATURE_GROUPS, 150),
)
"""Candidates compared by rolling-origin backtest on the training period (full runs)."""
ENSEMBLE = "ensemble"
"""Name of the candidate averaging the log forecasts of every setting (full runs)."""
QUICK_SETTING = Setting("rapide", DEFAULT_GROUPS, 80)
"""The only setting of quick runs (no selection)."""
BACKTEST_FOLDS, QUICK_BACKTEST_FOLDS = 3, 2


def default_threshold(pollutant: str) -> float:
    """Information threshold of ``pollutant``; for PM2.5 (none in France) the ATMO « mauvais »
    breakpoint (25 µg/m³)."""
    if pollutant in INFORMATION_THRESHOLDS:
        return INFORMATION_THRESHOLDS[pollutant]
    return float(ATMO_BREAKPOINTS[pollutant][2])


def usual_thresholds(pollutant: str, target: str) -> tuple[float, ...]:
    """Thresholds alerts are usually scored at: for PM and hourly maxima, the information
    threshold and the ATMO « mauvais » boundary; for daily means of NO2 / O3 (the information
    threshold is hourly), the ATMO « moyen » and « dégradé » boundaries."""
    breaks = ATMO_BREAKPOINTS[pollutant]
    if pollutant in MAX_COLUMNS and target == pollutant:
        return (float(breaks[1]), float(breaks[0]))
    return tuple(sorted({default_threshold(pollutant), float(breaks[2])}, reverse=True))


def atmo_class(values, pollutant: str) -> pd.Series:
    """ATMO class index (0 = bon … 5 = extrêmement mauvais) of each value; NaN stays NaN."""
    v = pd.Series(np.asarray(values, dtype=float))
    classes = np.searchsorted(np.asarray(ATMO_BREAKPOINTS[pollutant], float), v, side="right")
    return pd.Series(np.where(v.isna(), np.nan, classes), index=v.index)


@dataclass
class Backtest:
    """Out-of-fold forecasts of the chosen setting on the training period (not saved)."""

    log_pred: np.ndarray
    log_obs: np.ndarray
    today: np.ndarray


@dataclass
class Forecaster:
    """A fitted forecaster for one station and pollutant (see the module docstring)."""

    regressor: HistGradientBoostingRegressor
    feature_names: list[str]
    residuals: np.ndarray
    threshold: float
    cutoff: float
    station: str
    pollutant: str
    target: str
    use_weather_forecast: bool | None = None
    calibration: tuple[list[float], list[float]] | None = None
    alert_rule: str = "probabilite"
    setting: str = ""
    weather: str = "aucune"
    zone: str | None = None
    info: dict = field(default_factory=dict)
    backtest: Backtest | None = field(default=None, repr=False)
    members: tuple[tuple[HistGradientBoostingRegressor, list[str]], ...] = field(
        default=(), repr=False
    )
    """Other regressors (and their features) averaged with ``regressor`` (``ENSEMBLE``)."""

    def log_predict(self, X: pd.DataFrame) -> np.ndarray:
        """log(1 + forecast): the anchor plus the mean change forecast of the regressors."""
        regressors = ((self.regressor, self.feature_names), *self.members)
        with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
            changes = [reg.predict(X.reindex(columns=names)) for reg, names in regressors]
        return log_anchor(X) + np.mean(changes, axis=0)

    def predict(self, X: pd.DataFrame) -> pd.Series:
        log_pred = self.log_predict(X)
        return pd.Series(np.expm1(log_pred).clip(0, None), index=X.index, name="prevision")

    def probability(self, X: pd.DataFrame) -> pd.Series:
        """Calibrated probability of crossing the threshold on D+1."""
        raw = exceedance_probability(self.log_predict(X), self.residuals, self.threshold)
        return pd.Series(
            calibrate(raw, self.calibration), index=X.index, name="probabilite_depassement"
        )

    def alert(self, X: pd.DataFrame) -> pd.Series:
        """Alert of D+1 (True/False) by ``alert_rule`` (see the module docstring)."""
        prob = self.probability(X).to_numpy() >= self.cutoff
        today = X["obs_j0"].to_numpy(float) > self.threshold if "obs_j0" in X else prob & False
        flags = apply_alert_rule(self.alert_rule, prob, today)
        return pd.Series(flags, index=X.index, name="alerte")

    def for_threshold(self, threshold: float) -> Forecaster:
        """The same forecaster with probability, calibration and alert rule redone for
        ``threshold`` from the out-of-fold forecasts of the training period."""
        if self.backtest is None:
            raise BiblioError("Ce modèle n'a plus ses prévisions hors échantillon.")
        calibration, rule, cutoff = alert_from_backtest(self.backtest, self.residuals, threshold)
        return replace(
            self,
            threshold=float(threshold),
            calibration=calibration,
            alert_rule=rule,
            cutoff=cutoff,
        )


ANCHOR_COLUMNS = ("obs_j0", "obs_j1", "moy_3j", "moy_7j", "region_j0")


def log_anchor(X: pd.DataFrame) -> np.ndarray:
    """log(1 + today's value), falling back on yesterday, the 3- and 7-day means, then the
    regional level (all known on the evening of D). The regressor learns the change from it,
    so that levels outside the training range (a heat wave) are not flattened."""
    anchor = pd.Series(np.nan, index=X.index)
    for col in ANCHOR_COLUMNS:
        if col in X:
            anchor = anchor.fillna(X[col])
    fallback = float(np.nanmedian(anchor)) if anchor.notna().any() else 0.0
    return np.log1p(anchor.fillna(fallback).clip(lower=0).to_numpy(float))


def exceedance_probability(log_pred, residuals, threshold: float) -> np.ndarray:
    """P(value > threshold) for each log forecast, from the empirical log residuals."""
    res = np.sort(np.asarray(residuals, dtype=float))
    if res.size == 0:
        return np.where(np.expm1(np.asarray(log_pred)) > threshold, 1.0, 0.0)
    need = np.log1p(threshold) - np.asarray(log_pred, dtype=float)
    # share of residuals strictly above the gap to the threshold
    return 1.0 - np.searchsorted(res, need, side="right") / res.size


def fit_calibration(prob: np.ndarray, truth: np.ndarray) -> tuple[list[float], list[float]] | None:
    """Isotonic map raw → calibrated probability (knots), or None with too few events."""
    truth = np.asarray(truth, bool)
    if truth.sum() < MIN_EVENTS_FOR_CALIBRATION or truth.all():
        return None
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(prob, truth)
    return [float(v) for v in iso.X_thresholds_], [float(v) for v in iso.y_thresholds_]


def calibrate(prob, calibration: tuple[list[float], list[float]] | None) -> np.ndarray:
    """Apply the isotonic knots of ``fit_calibration`` (identity when None)."""
    prob = np.asarray(prob, dtype=float)
    if calibration is None:
        return prob
    knots_x, knots_y = calibration
    return np.interp(prob, knots_x, knots_y)


def _regressor(setting: Setting, seed: int) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(
        loss=LOSS,
        learning_rate=0.05,
        max_iter=setting.max_iter,
        max_leaf_nodes=15,
        min_samples_leaf=50,
        max_features=0.5,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )


def backtest_folds(
    issue_days: pd.DatetimeIndex, n_folds: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Rolling-origin folds over time-ordered rows (several stations may share a day).

    The second half of the distinct issue days is cut into ``n_folds`` consecutive blocks;
    each fold trains on the rows of the days before its block and scores the block's rows.
    A day is never split between training and scoring."""
    days = np.asarray(issue_days.values)
    unique = np.unique(days)
    edges = np.linspace(len(unique) // 2, len(unique), n_folds + 1).astype(int)
    folds = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if b <= a:
            continue
        start = unique[a]
        stop = unique[b] if b < len(unique) else None
        scored = (days >= start) & (days < stop if stop is not None else True)
        folds.append((np.flatnonzero(days < start), np.flatnonzero(scored)))
    return folds


def setting_features(groups: dict[str, str], columns, setting: Setting) -> list[str]:
    """Columns of ``setting``: the ``base`` features and those of its groups."""
    allowed = {"base", *setting.groups}
    return [c for c in columns if groups.get(c, "base") in allowed]


def out_of_fold(
    X: pd.DataFrame,
    log_change: pd.Series,
    anchor: np.ndarray,
    features: list[str],
    setting: Setting,
    folds,
    seed: int,
) -> np.ndarray:
    """Out-of-fold log forecasts of ``setting`` (NaN on rows no fold scores)."""
    oof = np.full(len(X), np.nan)
    for train_idx, test_idx in folds:
        if len(train_idx) == 0:
            continue
        reg = _regressor(setting, seed).fit(X.iloc[train_idx][features], log_change.iloc[train_idx])
        oof[test_idx] = anchor[test_idx] + reg.predict(X.iloc[test_idx][features])
    return oof


def relative_mae(log_pred: np.ndarray, log_obs: np.ndarray, today: np.ndarray) -> float:
    """MAE of the forecasts / MAE of persistence, on rows where both are known."""
    keep = np.isfinite(log_pred) & np.isfinite(today)
    obs = np.expm1(log_obs[keep])
    persistence = np.abs(obs - today[keep]).sum()
    if not persistence:
        return float("inf")
    return float(np.abs(obs - np.expm1(log_pred[keep])).sum() / persistence)


def select_setting(
    X: pd.DataFrame,
    y: pd.Series,
    groups: dict[str, str],
    settings: tuple[Setting, ...],
    *,
    n_folds: int,
    seed: int = 0,
) -> tuple[str, list[tuple[Setting, list[str]]], np.ndarray, dict[str, float]]:
    """The candidate with the lowest backtest MAE relative to persistence: one of
    ``settings`` or, with several settings, ``ENSEMBLE`` (the mean of their log forecasts).

    ``X``, ``y``: training rows with a known target, sorted by issue day. Returns the name
    of the candidate, its members (setting and features), its out-of-fold log forecasts and
    every candidate's score."""
    log_y = np.log1p(y.clip(lower=0).to_numpy(float))
    anchor = log_anchor(X)
    log_change = pd.Series(log_y - anchor, index=X.index)
    folds = backtest_folds(X.index, n_folds)
    today = X["obs_j0"].to_numpy(float)
    usable = [c for c in X.columns if X[c].notna().any()]
    candidates, scores = {}, {}
    for setting in settings:
        features = setting_features(groups, usable, setting)
        oof = out_of_fold(X, log_change, anchor, features, setting, folds, seed)
        candidates[setting.name] = ([(setting, features)], oof)
    if len(settings) > 1:
        members = [m for ms, _ in candidates.values() for m in ms]
        oofs = np.mean([oof for _, oof in candidates.values()], axis=0)
        candidates[ENSEMBLE] = (members, oofs)
    for name, (_, oof) in candidates.items():
        scores[name] = round(relative_mae(oof, log_y, today), 4)
    best = min(scores, key=scores.get)  # ties: the earlier candidate
    return best, candidates[best][0], candidates[best][1], scores


def alert_from_backtest(backtest: Backtest, residuals: np.ndarray, threshold: float):
    """``(calibration, rule, cut-off)`` for ``threshold`` from out-of-fold forecasts."""
    raw = exceedance_probability(backtest.log_pred, residuals, threshold)
    truth = np.expm1(backtest.log_obs) > threshold
    calibration = fit_calibration(raw, truth)
    today_above = backtest.today > threshold
    rule, cutoff = best_alert_rule(calibrate(raw, calibration), today_above, truth)
    return calibration, rule, cutoff


def apply_alert_rule(rule: str, prob_alert: np.ndarray, today_above: np.ndarray) -> np.ndarray:
    """Combine the probability alert and « today above the threshold » by ``rule``."""
    if rule == "persistance":
        return np.asarray(today_above, bool)
    if rule == "probabilite_ou_persistance":
        return np.asarray(prob_alert, bool) | np.asarray(today_above, bool)
    return np.asarray(prob_alert, bool)


def best_alert_rule(
    prob: np.ndarray, today_above: np.ndarray, truth: np.ndarray
) -> tuple[str, float]:
    """``(rule, cut-off)`` with the best F1 on (out-of-fold) days; see the module docstring."""
    truth = np.asarray(truth, bool)
    if truth.sum() < MIN_EVENTS_FOR_CUTOFF:
        return "probabilite_ou_persistance", 0.5
    best, best_f1 = ("probabilite", 0.5), -1.0
    for rule in ALERT_RULES:
        cutoffs = (0.5,) if rule == "persistance" else CUTOFF_GRID
        for c in cutoffs:
            f1 = mt.threshold_scores(truth, apply_alert_rule(rule, prob >= c, today_above))["f1"]
            if f1 > best_f1 + 1e-12:
                best, best_f1 = (rule, float(c)), f1
    return best


def fit_forecaster(
    X: pd.DataFrame,
    y: pd.Series,
    *,
    threshold: float,
    quick: bool = False,
    seed: int = 0,
    use_weather_forecast: bool | None = None,
    groups: dict[str, str] | None = None,
    settings: tuple[Setting, ...] | None = None,
) -> Forecaster:
    """Fit on the rows with a known target (sorted by issue day): setting (or ``ENSEMBLE``)
    chosen by backtest (``select_setting``), residuals, calibration and alert rule from its
    out-of-fold forecasts, then the chosen setting(s) refitted on every training row.

    ``groups`` maps each feature to its group (``X.attrs["groups"]`` by default)."""
    keep = y.notna().to_numpy()
    Xt, yt = X[keep], y[keep]
    groups = groups if groups is not None else X.attrs.get("groups", {})
    if settings is None:
        settings = (QUICK_SETTING,) if quick else SETTINGS
    with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
        chosen, members, oof, scores = select_setting(
            Xt,
            yt,
            groups,
            settings,
            n_folds=QUICK_BACKTEST_FOLDS if quick else BACKTEST_FOLDS,
            seed=seed,
        )
        log_y = np.log1p(yt.clip(lower=0).to_numpy(float))
        anchor = log_anchor(Xt)
        fitted = [
            (_regressor(setting, seed).fit(Xt[features], log_y - anchor), features)
            for setting, features in members
        ]
    scored = ~np.isnan(oof)
    backtest = Backtest(
        log_pred=oof[scored],
        log_obs=log_y[scored],
        today=Xt["obs_j0"].to_numpy(float)[scored],
    )
    residuals = np.round(backtest.log_obs - backtest.log_pred, 5)
    calibration, rule, cutoff = alert_from_backtest(backtest, residuals, threshold)
    return Forecaster(
        regressor=fitted[0][0],
        feature_names=fitted[0][1],
        residuals=residuals,
        threshold=float(threshold),
        cutoff=cutoff,
        station=str(X.attrs.get("station", "")),
        pollutant=str(X.attrs.get("pollutant", "")),
        target=str(X.attrs.get("target", "")),
        use_weather_forecast=use_weather_forecast,
        calibration=calibration,
        alert_rule=rule,
        setting=chosen,
        weather=str(X.attrs.get("weather", "aucune")),
        info={
            "train_rows": int(len(Xt)),
            "train_events": int((yt > threshold).sum()),
            "oof_events": int((np.expm1(backtest.log_obs) > threshold).sum()),
            "backtest_relative_mae": scores,
        },
        backtest=backtest,
        members=tuple(fitted[1:]),
    )


POOL: int | None = None
"""Other stations whose training days join the training rows (None: all of them)."""
QUICK_POOL = 2


def test_year(target_days: pd.DatetimeIndex, observed: pd.Series) -> int:
    """The last calendar year fully covered by the data, with at least one earlier year.

    Raises ``BiblioError`` (French) when the data does not cover a full year after a first
    year of training.
    """
    days = target_days[observed.notna().to_numpy()]
    if len(days) == 0:
        raise BiblioError("Aucune valeur mesurée pour la cible choisie.")
    first, last = days.min(), days.max()
    for year in range(last.year, first.year, -1):
        start, end = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
        if last >= end - pd.Timedelta(days=7) and first <= start - pd.Timedelta(days=300):
            return year
    raise BiblioError(
        f"Les données couvrent du {first:%d/%m/%Y} au {last:%d/%m/%Y} : il faut au moins une "
        "année complète de test précédée d'environ un an d'apprentissage."
    )


def check_test_period(period, target_days: pd.DatetimeIndex, observed: pd.Series):
    """``(start, end)`` of the test period: ``period`` checked, or the last full year
    (``test_year``). The model learns on the target days before ``start`` only."""
    if period is None:
        year = test_year(target_days, observed)
        return pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    try:
        start, end = (pd.Timestamp(p) for p in period)
    except (TypeError, ValueError) as exc:
        raise BiblioError(
            "Période de test illisible : donnez deux dates, par exemple "
            '("2019-01-01", "2019-12-31").'
        ) from exc
    days = target_days[observed.notna().to_numpy()]
    if end < start or len(days) == 0 or (days < start).sum() < 300:
        raise BiblioError(
            f"Période de test du {start:%d/%m/%Y} au {end:%d/%m/%Y} : il faut au moins 300 jours "
            "mesurés avant elle pour l'apprentissage."
        )
    if not ((days >= start) & (days <= end)).any():
        raise BiblioError(f"Aucune valeur mesurée entre le {start:%d/%m/%Y} et le {end:%d/%m/%Y}.")
    return start, end


@dataclass
class ForecastSetup:
    """What a fit and its evaluation work on: the station, pollutant, threshold, the features
    ``X`` and targets ``y`` of every issue day of the station, and the test period."""

    station: str
    pollutant: str
    threshold: float
    use_weather_forecast: bool | None
    X: pd.DataFrame
    y: pd.Series
    test_start: pd.Timestamp
    test_end: pd.Timestamp
    target: str | None = None
    zone: str | None = None
    panel: Panel | None = field(default=None, repr=False)

    @property
    def year(self) -> int:
        return self.test_start.year

    @property
    def target_days(self) -> pd.DatetimeIndex:
        return self.X.index + pd.Timedelta(days=1)

    @property
    def train(self) -> np.ndarray:
        """Issue days whose target day is before the test period."""
        return np.asarray(self.target_days < self.test_start)

    @property
    def test(self) -> np.ndarray:
        """Issue days whose target day is in the test period."""
        days = self.target_days
        return np.asarray((days >= self.test_start) & (days <= self.test_end))


def normalise_pollutant(pollutant: str | None, daily: pd.DataFrame) -> str:
    """``pollutant`` in canonical spelling; None: ``data.default_pollutant``."""
    if pollutant:
        return str(pollutant).upper().replace(".", "").replace(",", "")
    return default_pollutant(daily)


def forecast_setup(
    daily: pd.DataFrame,
    station: str | None = None,
    pollutant: str | None = DEFAULT_POLLUTANT,
    *,
    threshold: float | None = None,
    use_weather_forecast: bool | None = None,
    test_period=None,
    target: str | None = None,
    zone: str | None = None,
) -> ForecastSetup:
    """Station (checked, or the default one), threshold (the information threshold by
    default), features and test period (``check_test_period``) of ``pollutant``."""
    pollutant = normalise_pollutant(pollutant, daily)
    station = choose_station(daily, pollutant, station)
    thr = float(default_threshold(pollutant) if threshold is None else threshold)
    panel = Panel(daily)
    X, y = make_features(
        daily,
        station,
        pollutant,
        use_weather_forecast=use_weather_forecast,
        target=target,
        zone=zone,
        panel=panel,
    )
    start, end = check_test_period(test_period, X.index + pd.Timedelta(days=1), y)
    return ForecastSetup(
        station, pollutant, thr, use_weather_forecast, X, y, start, end, target, zone, panel
    )


def station_features(
    daily: pd.DataFrame, setup: ForecastSetup, names
) -> dict[str, tuple[pd.DataFrame, pd.Series]]:
    """Features of the stations ``names`` measuring the setup's target column (setup's
    options), the setup's station included as it is."""
    out = {setup.station: (setup.X, setup.y)}
    target_col = setup.X.attrs["target"]
    for name in names:
        if name in out:
            continue
        X, y = make_features(
            daily,
            name,
            setup.pollutant,
            use_weather_forecast=setup.use_weather_forecast,
            target=setup.target,
            zone=setup.zone,
            panel=setup.panel,
        )
        if X.attrs["target"] == target_col:
            out[name] = (X, y)
    return out


def pooled_training_rows(
    features: dict[str, tuple[pd.DataFrame, pd.Series]], setup: ForecastSetup
) -> tuple[pd.DataFrame, pd.Series]:
    """Training rows (target day before the test period) of every station of ``features``,
    sorted by issue day (time-ordered folds)."""
    columns = list(dict.fromkeys(c for X, _ in features.values() for c in X.columns))
    Xp = pd.concat([X for X, _ in features.values()]).reindex(columns=columns)
    yp = pd.concat([y for _, y in features.values()])
    keep = np.asarray(Xp.index + pd.Timedelta(days=1) < setup.test_start)
    Xp, yp = Xp[keep], yp[keep]
    order = np.argsort(Xp.index.to_numpy(), kind="stable")
    Xp, yp = Xp.iloc[order], yp.iloc[order]
    groups = {}
    for X, _ in features.values():
        groups.update(X.attrs.get("groups", {}))
    Xp.attrs.update(setup.X.attrs)
    Xp.attrs["groups"] = groups
    Xp.attrs["pooled_stations"] = len(features) - 1
    return Xp, yp


def pool_names(daily: pd.DataFrame, setup: ForecastSetup, n_pool: int | None) -> list[str]:
    """The setup's station and up to ``n_pool`` others (None: all) measuring its pollutant."""
    others = [s for s in stations(daily, setup.pollutant).index if s != setup.station]
    return [setup.station, *(others if n_pool is None else others[:n_pool])]


def fit_setup(
    daily: pd.DataFrame,
    setup: ForecastSetup,
    *,
    quick: bool = False,
    seed: int = 0,
    pool_stations: int | None = None,
    features: dict[str, tuple[pd.DataFrame, pd.Series]] | None = None,
) -> Forecaster:
    """The forecaster of ``setup`` trained on the days before its test period, on the station
    and the others (``POOL``: all; ``QUICK_POOL`` in quick mode; or ``pool_stations``).

    ``features`` (from ``station_features``) avoids recomputing them."""
    if features is None:
        n_pool = (QUICK_POOL if quick else POOL) if pool_stations is None else pool_stations
        features = station_features(daily, setup, pool_names(daily, setup, n_pool))
    X_train, y_train = pooled_training_rows(features, setup)
    model = fit_forecaster(
        X_train,
        y_train,
        threshold=setup.threshold,
        quick=quick,
        seed=seed,
        use_weather_forecast=setup.use_weather_forecast,
    )
    model.station, model.zone = setup.station, setup.zone
    model.info["pooled_stations"] = X_train.attrs["pooled_stations"]
    return model


def fit(
    daily: pd.DataFrame,
    station: str | None = None,
    pollutant: str | None = DEFAULT_POLLUTANT,
    *,
    threshold: float | None = None,
    use_weather_forecast: bool | None = None,
    quick: bool = False,
    seed: int = 0,
    pool_stations: int | None = None,
    test_period=None,
    target: str | None = None,
    zone: str | None = None,
) -> Forecaster:
    """The forecaster of ``station`` and ``pollutant``, trained on the days before the test
    period of ``daily`` (``forecast_setup``, then ``fit_setup``)."""
    setup = forecast_setup(
        daily,
        station,
        pollutant,
        threshold=threshold,
        use_weather_forecast=use_weather_forecast,
        test_period=test_period,
        target=target,
        zone=zone,
    )
    return fit_setup(daily, setup, quick=quick, seed=seed, pool_stations=pool_stations)


def target_kind(pollutant: str, target_col: str) -> str | None:
    """``"max"`` / ``"moyenne"`` for a NO2 / O3 target column, None for the others."""
    if pollutant not in MAX_COLUMNS:
        return None
    return "max" if target_col == MAX_COLUMNS[pollutant] else "moyenne"


def predict(model: Forecaster, daily: pd.DataFrame) -> pd.DataFrame:
    """Forecast of D+1 for every issue day D of the model's station in ``daily``.

    Columns: ``date_emission``, ``date_prevue``, ``prevision`` (µg/m³), the calibrated
    ``probabilite_depassement`` of the model's threshold and ``alerte``.
    """
    X, _ = make_features(
        daily,
        model.station,
        model.pollutant,
        use_weather_forecast=model.use_weather_forecast,
        target=target_kind(model.pollutant, model.target),
        zone=model.zone,
    )
    return pd.DataFrame(
        {
            "date_emission": X.index,
            "date_prevue": X.index + pd.Timedelta(days=1),
            "prevision": model.predict(X).round(1).to_numpy(),
            "probabilite_depassement": model.probability(X).round(3).to_numpy(),
            "alerte": model.alert(X).to_numpy(),
        }
    )
