"""Forecaster, baselines and scores of the ``air_quality`` entry.

The forecaster is a ``HistGradientBoostingRegressor`` that learns the change of
``log(1 + value)`` from today's level (``log_anchor``: pollution is skewed, in log space
errors are about proportional, and anchoring on today keeps unusual levels reachable), with
the **absolute error** loss (a median forecast: the metric is the MAE, and peaks do not drag
the fit). It is trained on the chosen station and a few others measuring the same quantity
(the entry module pools them).

Probability and alert, all from **out-of-fold** predictions of the training years only
(expanding time-ordered folds over their second half, never the test year):

1. raw probability: P(y > s) is the share of out-of-fold log residuals r with
   prediction + r > log(1 + s);
2. isotonic calibration of that raw probability against the observed threshold days
   (``calibration``: knots interpolated linearly; kept only with ``MIN_EVENTS_FOR_CALIBRATION``
   days or more, else the raw probability is used);
3. the alert rule is the one with the best F1 on those out-of-fold days among: the calibrated
   probability reaching a cut-off (``CUTOFF_GRID``), today's value above the threshold
   (persistence), or either of the two (``ALERT_RULES``). Persistence is a hard baseline for
   threshold days: when it ranks peaks better than the model on the training years, the
   alert uses it. With fewer than ``MIN_EVENTS_FOR_CUTOFF`` out-of-fold threshold days the
   rule is « probability ≥ 0.5 or today above the threshold ».

Baselines: **persistence** (tomorrow = today) and **monthly climatology** (mean of the
training years for the month of D+1). Scores: MAE, RMSE, threshold precision / recall / F1 /
CSI / FAR, Brier score, ATMO index class accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.isotonic import IsotonicRegression
from threadpoolctl import threadpool_limits

from models import metrics as mt

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


def default_threshold(pollutant: str) -> float:
    """Information threshold of ``pollutant``; for PM2.5 (none in France) the ATMO « mauvais »
    breakpoint (25 µg/m³)."""
    if pollutant in INFORMATION_THRESHOLDS:
        return INFORMATION_THRESHOLDS[pollutant]
    return float(ATMO_BREAKPOINTS[pollutant][2])


def atmo_class(values, pollutant: str) -> pd.Series:
    """ATMO class index (0 = bon … 5 = extrêmement mauvais) of each value; NaN stays NaN."""
    v = pd.Series(np.asarray(values, dtype=float))
    classes = np.searchsorted(np.asarray(ATMO_BREAKPOINTS[pollutant], float), v, side="right")
    return pd.Series(np.where(v.isna(), np.nan, classes), index=v.index)


def atmo_accuracy(y_true, y_pred, pollutant: str) -> float:
    """Share of days whose forecast falls in the observed ATMO class."""
    t, p = atmo_class(y_true, pollutant), atmo_class(y_pred, pollutant)
    keep = t.notna() & p.notna()
    return float((t[keep] == p[keep]).mean()) if keep.any() else float("nan")


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
    use_weather_forecast: bool = False
    calibration: tuple[list[float], list[float]] | None = None
    alert_rule: str = "probabilite"
    info: dict = field(default_factory=dict)

    def log_predict(self, X: pd.DataFrame) -> np.ndarray:
        with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
            change = self.regressor.predict(X.reindex(columns=self.feature_names))
        return log_anchor(X) + change

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


def _regressor(quick: bool, seed: int) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(
        loss=LOSS,
        learning_rate=0.05,
        max_iter=80 if quick else 300,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )


def _time_folds(n: int, n_folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window folds over ``n`` time-ordered rows (the first half is never scored)."""
    start = n // 2
    edges = np.linspace(start, n, n_folds + 1).astype(int)
    return [
        (np.arange(0, a), np.arange(a, b))
        for a, b in zip(edges[:-1], edges[1:], strict=True)
        if b > a
    ]


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


def best_cutoff(prob: np.ndarray, truth: np.ndarray) -> float:
    """Probability cut-off maximising F1 on (out-of-fold) predictions; 0.5 without events."""
    truth = np.asarray(truth, bool)
    if truth.sum() < MIN_EVENTS_FOR_CUTOFF:
        return 0.5
    best, best_f1 = 0.5, -1.0
    for c in CUTOFF_GRID:
        f1 = mt.threshold_scores(truth, prob >= c)["f1"]
        if f1 > best_f1 + 1e-12:
            best, best_f1 = float(c), f1
    return best


def fit(
    X: pd.DataFrame,
    y: pd.Series,
    *,
    threshold: float,
    quick: bool = False,
    seed: int = 0,
    use_weather_forecast: bool = False,
) -> Forecaster:
    """Fit on the rows with a known target; residuals and cut-off from out-of-fold folds."""
    keep = y.notna().to_numpy()
    Xt = X[keep]
    log_y = np.log1p(y[keep].clip(lower=0).to_numpy(float))
    anchor = log_anchor(Xt)
    yt = pd.Series(log_y - anchor, index=Xt.index)
    features = [c for c in X.columns if Xt[c].notna().any()]
    oof = np.full(len(Xt), np.nan)
    with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
        for train_idx, test_idx in _time_folds(len(Xt), 2 if quick else 3):
            reg = _regressor(quick, seed).fit(Xt.iloc[train_idx][features], yt.iloc[train_idx])
            oof[test_idx] = anchor[test_idx] + reg.predict(Xt.iloc[test_idx][features])
        regressor = _regressor(quick, seed).fit(Xt[features], yt)
    scored = ~np.isnan(oof)
    residuals = (log_y - oof)[scored]
    raw = exceedance_probability(oof[scored], residuals, threshold)
    truth = np.expm1(log_y[scored]) > threshold
    calibration = fit_calibration(raw, truth)
    today_above = Xt["obs_j0"].to_numpy(float)[scored] > threshold
    rule, cutoff = best_alert_rule(calibrate(raw, calibration), today_above, truth)
    return Forecaster(
        regressor=regressor,
        feature_names=features,
        residuals=np.round(residuals, 5),
        threshold=float(threshold),
        cutoff=cutoff,
        station=str(X.attrs.get("station", "")),
        pollutant=str(X.attrs.get("pollutant", "")),
        target=str(X.attrs.get("target", "")),
        use_weather_forecast=use_weather_forecast,
        calibration=calibration,
        alert_rule=rule,
        info={
            "train_rows": int(len(Xt)),
            "train_events": int((y[keep] > threshold).sum()),
            "oof_events": int(truth.sum()),
        },
    )


def monthly_climatology(y_train: pd.Series) -> pd.Series:
    """Mean target per month of D+1 over the training rows (index: month 1..12)."""
    months = (y_train.index + pd.Timedelta(days=1)).month
    return y_train.groupby(months).mean()


def forecast_table(
    model: Forecaster, X: pd.DataFrame, y: pd.Series, climatology: pd.Series
) -> pd.DataFrame:
    """One row per issue day: observed D+1, model, probability, alert, baselines."""
    target_day = X.index + pd.Timedelta(days=1)
    pred = model.predict(X)
    prob = model.probability(X)
    table = pd.DataFrame(
        {
            "date_emission": X.index,
            "date_prevue": target_day,
            "station": model.station,
            "polluant": model.pollutant,
            "mesure": model.target,
            "observe": y.to_numpy(),
            "prevision": pred.round(1).to_numpy(),
            "probabilite_depassement": prob.round(3).to_numpy(),
            "alerte": model.alert(X).to_numpy(),
            "persistance": X["obs_j0"].to_numpy(),
            "climatologie": np.round(climatology.reindex(target_day.month).to_numpy(), 1),
        }
    )
    table["seuil"] = model.threshold
    table["depassement_observe"] = (table["observe"] > model.threshold).where(
        table["observe"].notna()
    )
    return table.reset_index(drop=True)


def score(table: pd.DataFrame, pollutant: str, threshold: float) -> dict[str, dict[str, float]]:
    """Scores of the model and the baselines on the same rows (observed and persistence known).

    Returns ``{"modele": {...}, "persistance": {...}, "climatologie_mensuelle": {...}}``.
    """
    rows = table[table["observe"].notna() & table["persistance"].notna()]
    truth = rows["observe"] > threshold
    out = {}
    for name, col, alert in (
        ("modele", "prevision", rows["alerte"].astype(bool)),
        ("persistance", "persistance", rows["persistance"] > threshold),
        ("climatologie_mensuelle", "climatologie", rows["climatologie"] > threshold),
    ):
        s = {
            "mae": mt.mae(rows["observe"], rows[col]),
            "rmse": mt.rmse(rows["observe"], rows[col]),
            **mt.threshold_scores(truth, alert),
            "atmo_accuracy": atmo_accuracy(rows["observe"], rows[col], pollutant),
            "n": int(len(rows)),
            "threshold_days": int(truth.sum()),
        }
        if name == "modele":
            p = rows["probabilite_depassement"].to_numpy(float)
            s["brier"] = float(np.mean((p - truth.to_numpy(float)) ** 2)) if len(p) else np.nan
        out[name] = s
    return out


def reliability(table: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """Mean forecast probability vs observed frequency of threshold days, per probability bin."""
    rows = table[table["observe"].notna()]
    edges = np.linspace(0, 1, bins + 1)
    cut = pd.cut(rows["probabilite_depassement"], edges, include_lowest=True)
    grouped = rows.groupby(cut, observed=True)
    return pd.DataFrame(
        {
            "probabilite_moyenne": grouped["probabilite_depassement"].mean(),
            "frequence_observee": grouped["depassement_observe"].mean(),
            "jours": grouped.size(),
        }
    ).reset_index(names="classe_probabilite")
