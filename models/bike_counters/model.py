"""Model of ``bike_counters``: expected counts from a counter's peers, scores, chosen thresholds.

``fit`` learns, on a training period, what each counter should count; ``predict`` checks any
days (the training period or later ones) against it: every counter-day gets a score, a flag,
a kind and a corrected value; ``run`` does both.

**Expected daily counts.** Two predictions of ``log1p(count)`` are combined:

- the *peers*: for each counter, the ``PEERS`` counters whose ratio to it was the steadiest in
  training (median log ratio per day category — working day, Saturday, Sunday or public
  holiday, in or out of school vacation — then the robust spread of what is left once a
  4-week level is removed). The same day, each peer's count times its usual ratio is a
  prediction; weather, strikes, lockdowns and curfews move peers together;
- the *gradient-boosting* model of the calendar and weather (``ExpectedModel``, below), with
  the day's common mode (median residual across counters) added back.

They are averaged with weights ``1 / spread²`` after dropping those further than ``TRIM``
spreads from the weighted median (a peer that is itself broken that day). Then a causal
*level*: the median of the counter's last ``features.LEVEL_DAYS`` residuals, leaving out
days further than ``LEVEL_JUMP`` from it, follows slow drifts (a new cycle lane nearby)
without learning an anomaly of a few days. Hourly expectations spread the day over the
counter's profile for its day type, bent hour by hour like its peers' same day (a curfew
moves every evening peak).

**Scores** (``COMPONENTS``), per counter-day: the daily total above (``day_up``) or below
(``day_down``) its expectation, alone or in windows of 2, 3 and 7 days containing the day
when the day itself goes the same way (normal scores; negative binomial counts with the
counter's own spread); a window of a few hours above the rest of its own day
(``shape_up``); ``both_up``, the larger of ``day_up`` and the two pieces of evidence of a
spike of a few hours added up (Stouffer: day total and window, both above, summed and divided
by √2), which finds a spike that neither shows alone beyond its own threshold; the
improbability of a stuck value (``flat``) or of a run of zeros
(``zeros``). Spreads are measured on days the model had not seen: ``fit`` refits on
rolling origins inside the training period (``FOLDS``) and predicts the next weeks.

**Thresholds** are chosen on the same backtests: anomalies of every kind are injected into
the predicted weeks (``sample.inject_anomalies_into``) and, starting strict, the threshold
that buys the most recall of the key kinds (outages, spikes, scale-downs, stuck values) per
false alarm on the normal days is lowered, until each key kind reaches ``RECALL_GOAL`` or the
false alarms reach ``ALARM_CAP``. Nothing of the days checked by ``predict`` is used.

**Rules**: every missing unit is flagged (a whole day: outage ``panne``; some hours: partial
day ``journee_partielle``) except the hour that does not exist on the day clocks go forward
and the hours of the file's last day not yet published; a whole day of zeros is an outage.

Corrected values replace flagged and missing units by the expected count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from models.errors import DataReadError

from .data import KINDS, CountData, day_labels
from .features import (
    COMPONENTS,
    Evidence,
    Units,
    component_scores,
    day_features,
    equal_runs,
    evidence,
    lagged_level,
    nanmedian,
    peer_values,
    runs,
    scales_of,
    units_of,
    wide_table,
)

MIN_TRAIN_DAYS = 14
MIN_COUNTERS_COMMON = 5


@dataclass
class ExpectedModel:
    """A fitted expected-count model (plain values, saved with skops as a dict)."""

    regressor: HistGradientBoostingRegressor
    counters: list[str]
    feature_names: list[str]
    slopes: dict[str, float]
    t_centres: dict[str, float]
    origin: pd.Timestamp
    profiles: dict[str, np.ndarray] = field(default_factory=dict)
    common: pd.Series | None = None

    def log_expected(self, days: pd.DataFrame, weather: pd.DataFrame | None = None) -> np.ndarray:
        """``log1p`` of the expected daily count of each counter-day of ``days``.

        The same sum as the fit: daily model, counter trend and the common mode of the dates
        seen in the fit (0 elsewhere). NaN for a counter the model does not know.
        """
        out = np.full(len(days), np.nan)
        if not self.slopes:  # too few usable days: nothing was fitted
            return out
        X = day_features(days, self.counters, weather)
        t = ((pd.DatetimeIndex(days["date"]) - self.origin).days / 365.25).to_numpy()
        ids = days["counter_id"].to_numpy()
        trend = np.zeros(len(days))
        for c in self.counters:
            rows = ids == c
            trend[rows] = self.slopes[c] * (t[rows] - self.t_centres[c])
        base = self.regressor.predict(X) + trend
        cm = 0.0
        if self.common is not None:
            cm = self.common.reindex(pd.DatetimeIndex(days["date"])).fillna(0.0).to_numpy()
        known = days["counter_id"].isin(self.counters).to_numpy()
        out[known] = (base + cm)[known]
        return out

    def base_log_expected(
        self, days: pd.DataFrame, weather: pd.DataFrame | None = None
    ) -> np.ndarray:
        """``log1p`` expected daily count from the calendar, weather and trend only (no common
        mode: the checked days bring their own). NaN for a counter the model does not know."""
        out = np.full(len(days), np.nan)
        known = days["counter_id"].isin(self.slopes).to_numpy()
        if not known.any():
            return out
        sub = days[known]
        X = day_features(sub, self.counters, weather)
        t = ((pd.DatetimeIndex(sub["date"]) - self.origin).days / 365.25).to_numpy()
        ids = sub["counter_id"].to_numpy()
        slope = np.array([self.slopes[c] for c in ids])
        centre = np.array([self.t_centres[c] for c in ids])
        with threadpool_limits(limits=1):
            out[known] = self.regressor.predict(X[self.feature_names]) + slope * (t - centre)
        return out

    def to_state(self) -> dict[str, Any]:
        """Plain-type state for ``models.persist.save_model``."""
        return {
            "regressor": self.regressor,
            "counters": list(self.counters),
            "feature_names": list(self.feature_names),
            "slopes": [float(self.slopes[c]) for c in self.counters],
            "t_centres": [float(self.t_centres[c]) for c in self.counters],
            "origin": self.origin.strftime("%Y-%m-%d"),
            "profiles": np.stack([self.profiles[c] for c in self.counters])
            if self.profiles
            else np.empty((0, 3, 24)),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ExpectedModel:
        counters = list(state["counters"])
        profiles = np.asarray(state["profiles"])
        return cls(
            regressor=state["regressor"],
            counters=counters,
            feature_names=list(state["feature_names"]),
            slopes=dict(zip(counters, map(float, state["slopes"]), strict=True)),
            t_centres=dict(zip(counters, map(float, state["t_centres"]), strict=True)),
            origin=pd.Timestamp(state["origin"]),
            profiles={c: profiles[i] for i, c in enumerate(counters)} if len(profiles) else {},
        )


COUNTER_INTERACTIONS = ("counter", "weekday", "public_holiday", "school_vacation", "bridge_day")
"""Features the counter may interact with; the seasonal shape and the weather effect are
shared by every counter, so that a month-long anomaly of one counter cannot be learnt as its
own seasonality."""


def _constraints(feature_names: list[str]) -> list[list[int]]:
    idx = {name: i for i, name in enumerate(feature_names)}
    with_counter = [idx[n] for n in COUNTER_INTERACTIONS if n in idx]
    shared = [i for n, i in idx.items() if n != "counter"]
    return [with_counter, shared]


def _regressor(quick: bool, feature_names: list[str]) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(
        interaction_cst=_constraints(feature_names),
        max_iter=60 if quick else 150,
        learning_rate=0.15 if quick else 0.1,
        max_leaf_nodes=31,
        min_samples_leaf=20,
        l2_regularization=1.0,
        categorical_features=[0],
        random_state=0,
    )


def _robust_scale(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return 0.0, 1.0
    med = float(np.median(x))
    mad = float(np.median(np.abs(x - med))) * 1.4826
    return med, max(mad, 0.03)


def _trend(t: np.ndarray, r: np.ndarray) -> tuple[float, float]:
    """Slope (log units per year) of ``r`` on ``t`` with two rounds of 3-MAD trimming."""
    keep = np.isfinite(r)
    centre = float(np.mean(t[keep])) if keep.any() else 0.0
    slope = 0.0
    for _ in range(2):
        if keep.sum() < MIN_TRAIN_DAYS or np.ptp(t[keep]) < 0.25:
            return 0.0, centre
        centre = float(np.mean(t[keep]))
        slope, intercept = np.polyfit(t[keep] - centre, r[keep], 1)
        resid = r - intercept - slope * (t - centre)
        med, scale = _robust_scale(resid[keep])
        keep = keep & (np.abs(resid - med) < 3 * scale)
    return float(np.clip(slope, -1.0, 1.0)), centre


def common_mode(days: pd.DataFrame, resid: np.ndarray) -> pd.Series:
    """Median residual across counters per date (0 when fewer than 5 counters report)."""
    frame = pd.DataFrame({"date": days["date"].to_numpy(), "r": resid}).dropna()
    grouped = frame.groupby("date")["r"]
    med = grouped.median().where(grouped.count() >= MIN_COUNTERS_COMMON, 0.0)
    return med


def fit_expected(*args: Any, **kwargs: Any) -> tuple[ExpectedModel, np.ndarray]:
    """``_fit_expected`` on one thread.

    OpenMP threads of gradient boosting spin-wait; on a shared 2-core machine they made a fit
    40 times slower (43 s instead of 1 s, measured), so the model always runs single-threaded.
    """
    with threadpool_limits(limits=1):
        return _fit_expected(*args, **kwargs)


def _fit_expected(
    days: pd.DataFrame,
    totals: np.ndarray,
    usable: np.ndarray,
    weather: pd.DataFrame | None = None,
    *,
    quick: bool = False,
) -> tuple[ExpectedModel, np.ndarray]:
    """Fit the daily model; return it and ``log_expected`` for every row of ``days``.

    ``totals`` are the daily counts (complete days), ``usable`` marks the days the model may
    learn from. Counters with fewer than ``MIN_TRAIN_DAYS`` usable days get NaN.
    """
    counts_per = pd.Series(usable).groupby(days["counter_id"].to_numpy()).sum()
    counters = sorted(counts_per[counts_per >= MIN_TRAIN_DAYS].index.astype(str))
    known = days["counter_id"].isin(counters).to_numpy()
    X = day_features(days, counters, weather)
    origin = pd.Timestamp(days["date"].min())
    t = ((pd.DatetimeIndex(days["date"]) - origin).days / 365.25).to_numpy()
    y = np.log1p(totals.astype(float))
    train = usable & known & np.isfinite(y)
    out = np.full(len(days), np.nan)
    empty = ExpectedModel(
        _regressor(quick, list(X.columns)), counters, list(X.columns), {}, {}, origin
    )
    if train.sum() < MIN_TRAIN_DAYS:
        return empty, out

    reg = _regressor(quick, list(X.columns)).fit(X[train], y[train])
    resid = y - reg.predict(X)
    ids = days["counter_id"].to_numpy()
    slopes, centres = {}, {}
    trend = np.zeros(len(days))
    for c in counters:
        rows = ids == c
        slopes[c], centres[c] = _trend(t[rows & train], resid[rows & train])
        trend[rows] = slopes[c] * (t[rows] - centres[c])
    common = common_mode(days, np.where(train, resid - trend, np.nan))
    cm = common.reindex(pd.DatetimeIndex(days["date"])).fillna(0.0).to_numpy()
    resid2 = resid - trend - cm
    inlier = train.copy()
    for c in counters:
        rows = (ids == c) & train
        med, scale = _robust_scale(resid2[rows])
        inlier[rows] = np.abs(resid2[rows] - med) < 4 * scale
    reg = _regressor(quick, list(X.columns)).fit(X[inlier], (y - trend - cm)[inlier])
    base = reg.predict(X) + trend
    common = common_mode(days, np.where(inlier, y - base, np.nan))
    cm = common.reindex(pd.DatetimeIndex(days["date"])).fillna(0.0).to_numpy()
    out[known] = (base + cm)[known]
    model = ExpectedModel(reg, counters, list(X.columns), slopes, centres, origin, common=common)
    return model, out


def hourly_profiles(
    days: pd.DataFrame, values: np.ndarray, inlier: np.ndarray, dtype: np.ndarray
) -> dict[str, np.ndarray]:
    """Per counter, ``(3, 24)`` shares of the day by hour for each day type (rows sum to 1)."""
    profiles = {}
    ids = days["counter_id"].to_numpy()
    complete = np.isfinite(values).all(axis=1)
    overall = np.nansum(values[inlier & complete], axis=0) + 1e-9
    overall = overall / overall.sum()
    for c in pd.unique(ids):
        prof = np.zeros((3, 24))
        rows = (ids == c) & inlier & complete
        for k in range(3):
            sub = values[rows & (dtype == k)]
            sums = sub.sum(axis=0)
            prior = 5.0  # pseudo-days of the network profile, for sparse counters
            weight = sums.sum()
            mix = sums + prior * overall * max(weight / max(len(sub), 1), 1.0)
            prof[k] = mix / mix.sum()
        profiles[str(c)] = prof
    return profiles


# ---------------------------------------------------------------------------------------------
# Peers: what the counters that move like this one counted the same day


PEERS = 8
"""Peers per counter: the counters whose ratio to it was the steadiest in training."""
MIN_PEER_DAYS = 60
PEER_FLOOR = 0.02
MODEL_SPREAD = 0.15
"""Spread given to the gradient-boosting prediction when combined with the peers'."""
TRIM = 2.5
SHAPE_PEERS = 5
LEVEL_JUMP = 0.6
"""Days further than this (log) from the counter's recent level do not move the level."""


@dataclass
class PeerModel:
    """Per counter: its peers, the median log ratio to each per day category, their spread."""

    peers: dict[str, list[str]] = field(default_factory=dict)
    deltas: dict[str, np.ndarray] = field(default_factory=dict)  # (n_peers, 6)
    spreads: dict[str, np.ndarray] = field(default_factory=dict)  # (n_peers,)

    def to_state(self) -> dict[str, Any]:
        return {
            "peers": {c: list(p) for c, p in self.peers.items()},
            "deltas": {c: np.asarray(d, dtype=float) for c, d in self.deltas.items()},
            "spreads": {c: np.asarray(s, dtype=float) for c, s in self.spreads.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> PeerModel:
        return cls(
            {c: list(p) for c, p in state["peers"].items()},
            {c: np.asarray(d, dtype=float) for c, d in state["deltas"].items()},
            {c: np.asarray(s, dtype=float) for c, s in state["spreads"].items()},
        )


def fit_peers(
    days: pd.DataFrame, log_counts: np.ndarray, category: np.ndarray, counters: list[str]
) -> PeerModel:
    """The ``PEERS`` steadiest peers of each counter on the usable training days."""
    table = wide_table(days, log_counts).reindex(columns=counters)
    cats = pd.Series(category, index=days["date"].to_numpy()).groupby(level=0).first()
    cats = cats.reindex(table.index).to_numpy()
    values = table.to_numpy()
    min_days = min(MIN_PEER_DAYS, max(20, len(table) // 3))
    model = PeerModel()
    for j, c in enumerate(counters):
        diff = values[:, [j]] - values
        deltas = np.zeros((6, diff.shape[1]))
        resid = np.full_like(diff, np.nan)
        for t in range(3):
            same_type = cats % 3 == t
            base = nanmedian(diff[same_type], 0) if same_type.any() else 0.0
            for vacation in (0, 1):
                rows = cats == t + 3 * vacation
                seen = np.isfinite(diff[rows]).sum(axis=0)
                med = nanmedian(diff[rows], 0) if rows.any() else base
                deltas[t + 3 * vacation] = np.nan_to_num(np.where(seen >= 8, med, base))
                resid[rows] = diff[rows] - deltas[t + 3 * vacation]
        resid = (pd.DataFrame(resid) - lagged_level(pd.DataFrame(resid))).to_numpy()
        spread = 1.4826 * nanmedian(np.abs(resid - nanmedian(resid, 0)), 0)
        spread[j] = np.inf
        spread[np.isfinite(resid).sum(axis=0) < min_days] = np.inf
        spread = np.where(np.isfinite(spread), np.maximum(spread, PEER_FLOOR), np.inf)
        best = [int(b) for b in np.argsort(spread)[:PEERS] if np.isfinite(spread[b])]
        model.peers[c] = [counters[b] for b in best]
        model.deltas[c] = deltas[:, best].T.copy()
        model.spreads[c] = spread[best]
    return model


def _trimmed_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise weighted mean of the predictions within ``TRIM`` spreads of their weighted
    median (NaN when a row has no prediction)."""
    ok = np.isfinite(values)
    w = np.where(ok, weights, 0.0)
    order = np.argsort(np.where(ok, values, np.inf), axis=1)
    ranked = np.take_along_axis(np.where(ok, values, np.nan), order, axis=1)
    cum = np.cumsum(np.take_along_axis(w, order, axis=1), axis=1)
    total = cum[:, -1] if values.shape[1] else np.zeros(len(values))
    pick = (cum >= 0.5 * total[:, None]).argmax(axis=1) if values.shape[1] else total.astype(int)
    median = (
        ranked[np.arange(len(values)), pick] if values.shape[1] else np.full(len(values), np.nan)
    )
    keep = ok & (np.abs(values - median[:, None]) < TRIM / np.sqrt(np.maximum(w, 1e-12)))
    kw = np.where(keep, w, 0.0)
    mean = np.sum(np.where(keep, values, 0.0) * kw, axis=1) / np.maximum(kw.sum(axis=1), 1e-12)
    return np.where(total > 0, np.where(kw.sum(axis=1) > 0, mean, median), np.nan)


# ---------------------------------------------------------------------------------------------
# Expected counts of the days to check


@dataclass
class Detector:
    """A fitted detector: expected counts, peers, spreads and thresholds (see module doc)."""

    expected: ExpectedModel
    peers: PeerModel
    layout: str
    day_scales: dict[str, np.ndarray] = field(default_factory=dict)  # (len(DAY_WINDOWS), 2)
    shape_scales: dict[str, np.ndarray] = field(default_factory=dict)  # (windows, 1 + starts)
    thresholds: dict[str, float] = field(default_factory=dict)
    train_period: tuple[str, str] = ("", "")
    backtest: dict[str, Any] = field(default_factory=dict)

    @property
    def counters(self) -> list[str]:
        return list(self.expected.counters)

    def to_state(self) -> dict[str, Any]:
        """Plain-type state for ``models.persist.save_model``."""
        return {
            "expected": self.expected.to_state(),
            "peers": self.peers.to_state(),
            "layout": self.layout,
            "day_scales": {c: np.asarray(v) for c, v in self.day_scales.items()},
            "shape_scales": {c: np.asarray(v) for c, v in self.shape_scales.items()},
            "thresholds": {k: float(v) for k, v in self.thresholds.items()},
            "train_period": list(self.train_period),
            "backtest": self.backtest,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Detector:
        return cls(
            ExpectedModel.from_state(state["expected"]),
            PeerModel.from_state(state["peers"]),
            state["layout"],
            {c: np.asarray(v) for c, v in state["day_scales"].items()},
            {c: np.asarray(v) for c, v in state["shape_scales"].items()},
            {k: float(v) for k, v in state["thresholds"].items()},
            tuple(state["train_period"]),
            dict(state.get("backtest", {})),
        )


def _common_mode(units: Units, resid: np.ndarray) -> np.ndarray:
    """Per row, the median residual of the usable counters that date (0 under 5 counters)."""
    frame = pd.Series(np.where(units.usable, resid, np.nan)).groupby(units.days["date"].to_numpy())
    med = frame.median().where(frame.count() >= MIN_COUNTERS_COMMON, 0.0).fillna(0.0)
    return med.reindex(pd.DatetimeIndex(units.days["date"])).to_numpy()


def expected_daily(
    expected: ExpectedModel, peers: PeerModel, units: Units, weather: pd.DataFrame | None
) -> np.ndarray:
    """Expected daily count of every counter-day (NaN for a counter the model does not know)."""
    days = units.days
    log_count = np.where(units.usable, np.log1p(np.nan_to_num(units.total)), np.nan)
    base = expected.base_log_expected(days, weather)
    model_pred = base + _common_mode(units, log_count - base)
    prediction = model_pred.copy()
    for c, rows in units.positions.items():
        if c not in peers.peers or not len(peers.peers[c]):
            continue
        idx = rows.to_numpy()
        cat = units.category[idx]
        own = peer_values(units.positions, c, peers.peers[c], log_count)
        preds = own + peers.deltas[c][:, cat].T
        weights = np.broadcast_to(1.0 / peers.spreads[c] ** 2, preds.shape)
        preds = np.column_stack([preds, model_pred[idx]])
        weights = np.column_stack([weights, np.full(len(idx), 1.0 / MODEL_SPREAD**2)])
        combined = _trimmed_mean(preds, weights)
        prediction[idx] = np.where(np.isfinite(combined), combined, model_pred[idx])
    level = np.zeros(len(days))
    resid = log_count - prediction
    for rows in units.positions.values():
        idx = rows.to_numpy()
        series = pd.Series(resid[idx])
        first = lagged_level(series.to_frame())[0].fillna(0.0)
        steady = series.where((series - first).abs() < LEVEL_JUMP)
        level[idx] = lagged_level(steady.to_frame())[0].fillna(0.0).to_numpy()
    return np.maximum(np.expm1(prediction + level), 0.0)


def expected_shares(expected: ExpectedModel, peers: PeerModel, units: Units) -> np.ndarray:
    """Expected share of the day of every hour: the counter's profile for its day type, bent
    hour by hour by the median deviation of its peers' same day (at least 3 peers)."""
    profiles = expected.profiles
    flat = np.full((3, 24), 1 / 24)
    shares = (
        np.stack(
            [
                profiles.get(str(c), flat)[t]
                for c, t in zip(units.days["counter_id"], units.dtype, strict=True)
            ]
        )
        if len(units.days)
        else np.empty((0, 24))
    )
    total = units.values.sum(axis=1, keepdims=True)
    deviation = np.log((units.values + 1.0) / (total * shares + 1.0))
    deviation[~(units.usable & np.isfinite(total[:, 0]))] = np.nan
    bend = np.zeros_like(shares)
    for c, rows in units.positions.items():
        chosen = peers.peers.get(c, [])[:SHAPE_PEERS]
        if len(chosen) < 3:
            continue
        stack = peer_values(units.positions, c, chosen, deviation)
        n = np.isfinite(stack).sum(axis=1)
        med = nanmedian(stack, 1)
        bend[rows.to_numpy()] = np.where(n >= 3, med, 0.0)
    shares = shares * np.exp(np.nan_to_num(bend))
    return shares / shares.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------------------------
# Flags and kinds


KIND_LABELS = {
    "panne": "panne (zéros ou valeurs manquantes)",
    "journee_partielle": "journée partielle (heures manquantes)",
    "pic": "pic (comptage 2 à 4 fois trop élevé)",
    "sous_comptage": "sous-comptage (25 à 40 % du normal)",
    "valeur_bloquee": "valeur bloquée (constante)",
    "double_comptage": "double comptage (×2)",
}
KEY_KINDS = ("panne", "pic", "sous_comptage", "valeur_bloquee", "double_comptage")
"""Kinds whose recall the thresholds aim at (partial days are found by a rule)."""

DEFAULT_THRESHOLDS = {
    "day_up": 6.0,
    "day_down": 6.0,
    "shape_up": 6.0,
    "both_up": 6.0,
    "flat": 9.0,
    "zeros": 24.0,
}
"""Thresholds when the training period is too short for backtests (``MIN_BACKTEST_DAYS``)."""
LADDER = (40, 30, 25, 20, 16, 14, 12, 10, 9, 8, 7, 6.5, 6, 5.5, 5, 4.5, 4, 3.5, 3)
LADDER_UNIT = {
    "day_up": 1.0,
    "day_down": 1.0,
    "shape_up": 1.0,
    "both_up": 1.0,
    "flat": 1.5,
    "zeros": 4.0,
}
"""Candidate thresholds of each component (normal scores; ×1.5 and ×4 for the −log
probabilities of stuck values and zeros)."""
RECALL_GOAL = {"panne": 0.98}
"""Recall aimed at per key kind (0.9 for the kinds not listed): outages higher, since a run of
zeros of several daytime hours is the commonest real fault and rules alone found them all."""
DEFAULT_GOAL = 0.9
ALARM_CAP = 0.05
"""False alarms allowed on the normal days of the backtests. Real files count real faults
that the producer did not flag among their normal days (Nantes 2020: about 1 to 3 % of them,
e.g. a loop at a tenth of its traffic for two weeks), so a cap of 1 % would mean thresholds
no injected anomaly reaches."""
MIN_VALUE = 5.0
"""A move must buy at least this much recall (summed over the key kinds) per false alarm."""
FOLDS = (0.55, 0.70, 0.85)
"""Rolling origins of the backtests, as fractions of the training period."""
QUICK_FOLDS = (0.6, 0.8)
MIN_BACKTEST_DAYS = 120


def _day_rules(units: Units) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Missing units per day (those that count), whole days missing, whole days of zeros."""
    n_missing = units.missing_mask.sum(axis=1)
    whole_missing = n_missing >= units.per_day
    observed = np.isfinite(units.values)
    whole_zero = observed.all(axis=1) & (np.nan_to_num(units.values).sum(axis=1) == 0)
    return n_missing, whole_missing, whole_zero


def flag_days(
    scores: pd.DataFrame, units: Units, expected_day: np.ndarray, thresholds, sensitivity=1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``flag``, ``score`` (max over components of score / threshold; ≥ 1 when flagged),
    ``kind`` and the component that decided, for every counter-day."""
    ratios = np.column_stack(
        [scores[c].to_numpy() * sensitivity / thresholds[c] for c in COMPONENTS]
    )
    ratios = np.where(np.isfinite(ratios), ratios, 0.0)
    score = ratios.max(axis=1)
    # a run of zeros or a stuck value names the day whatever else it moves; then the largest
    signature = ratios[:, [COMPONENTS.index("zeros"), COMPONENTS.index("flat")]]
    top = np.where(
        signature.max(axis=1) > 1.0,
        np.where(
            signature[:, 0] >= signature[:, 1], COMPONENTS.index("zeros"), COMPONENTS.index("flat")
        ),
        ratios.argmax(axis=1),
    )
    n_missing, whole_missing, whole_zero = _day_rules(units)
    flag = (score > 1.0) | (n_missing > 0) | whole_zero
    score = np.where(flag, np.maximum(score, 1.0), score)
    decided = np.array(COMPONENTS, dtype=object)[top]
    observed = np.nansum(units.values, axis=1)
    ratio = (observed + 0.5) / (np.nan_to_num(expected_day) + 0.5)
    up_flag = (scores["day_up"].to_numpy() * sensitivity > thresholds["day_up"]) | (
        scores["both_up"].to_numpy() * sensitivity > thresholds["both_up"]
    )
    neighbour = np.zeros(len(up_flag), dtype=bool)
    for rows in units.positions.values():
        idx = rows.to_numpy()
        own = up_flag[idx]
        neighbour[idx] = np.r_[False, own[:-1]] | np.r_[own[1:], False]
    kind = np.full(len(flag), "", dtype=object)
    day_kind = np.where((ratio >= 1.65) & (ratio <= 2.35) & neighbour, "double_comptage", "pic")
    by_component = {
        "zeros": np.full(len(flag), "panne", dtype=object),
        "flat": np.full(len(flag), "valeur_bloquee", dtype=object),
        "day_down": np.where(ratio < 0.08, "panne", "sous_comptage").astype(object),
        "day_up": day_kind.astype(object),
        "shape_up": np.full(len(flag), "pic", dtype=object),
        "both_up": day_kind.astype(object),
    }
    for c in COMPONENTS:
        rows = flag & (decided == c)
        kind[rows] = by_component[c][rows]
    kind[whole_zero] = "panne"
    kind[(n_missing > 0) & ~whole_missing] = "journee_partielle"
    kind[whole_missing] = "panne"
    decided = np.where(n_missing > 0, "manquant", np.where(whole_zero, "zeros", decided))
    return flag, score, kind, np.where(flag, decided, "")


def _flag_hours(units: Units, scores: pd.DataFrame, flag, kind, decided) -> np.ndarray:
    """Which units of each flagged day are flagged (the hours the decision is about)."""
    per_day = units.per_day
    hours = np.zeros(units.values.shape, dtype=bool)
    hours |= units.missing_mask
    y = units.values
    # a combined score above the day's own is about the shape window's hours
    shaped = scores["both_up"].to_numpy() > scores["day_up"].to_numpy()
    for i in np.flatnonzero(flag):
        how = decided[i]
        if how == "both_up":
            how = "shape_up" if shaped[i] and kind[i] == "pic" else "day_up"
        if per_day == 1 or how in ("day_up", "day_down") or kind[i] == "panne":
            hours[i] = True if how != "manquant" else hours[i]
        elif how == "shape_up":
            a = int(scores["shape_start"].iloc[i])
            hours[i, a : a + int(scores["shape_length"].iloc[i])] = True
        elif how == "flat":
            for a, b in equal_runs(y[i]):
                if b - a >= 3 and y[i, a] > 0:
                    hours[i, a:b] = True
        elif how == "zeros":
            for a, b in runs(np.nan_to_num(y[i], nan=1.0) == 0):
                hours[i, a:b] = True
    return hours


# ---------------------------------------------------------------------------------------------
# Thresholds from backtests


FREE_MARGIN = 1.5
"""A threshold may go down for free as long as it stays this many times above every normal
backtest day's score of its component."""


def _free_descent(rung: dict[str, int], values: dict[str, np.ndarray], normal: np.ndarray):
    """Lower each threshold while no normal backtest day comes near it (``FREE_MARGIN``):
    recall for nothing (a stuck value never happens on a normal day)."""
    out = dict(rung)
    for c in COMPONENTS:
        seen = values[c][normal]
        seen = seen[np.isfinite(seen)]
        ceiling = FREE_MARGIN * max(float(seen.max()) if len(seen) else 0.0, 0.0)
        while out[c] + 1 < len(LADDER) and LADDER[out[c] + 1] * LADDER_UNIT[c] > ceiling:
            out[c] += 1
    return out


def choose_thresholds(
    scores: pd.DataFrame, ruled: np.ndarray, truth: np.ndarray, normal: np.ndarray
) -> tuple[dict[str, float], dict[str, Any]]:
    """Greedy descent of the ``LADDER``: from the strictest thresholds, repeatedly take the
    move (one component, any number of rungs down) with the most recall of ``KEY_KINDS``
    (each counted up to its ``RECALL_GOAL``) per added false alarm on ``normal`` days, while the
    false alarms stay within ``ALARM_CAP`` and a move buys at least ``MIN_VALUE``; then
    ``_free_descent``. Returns the thresholds and the backtest figures."""
    values = {c: scores[c].to_numpy() for c in COMPONENTS}
    kinds = [k for k in KEY_KINDS if (truth == k).any()]
    goal = np.array([RECALL_GOAL.get(k, DEFAULT_GOAL) for k in kinds])
    rung = dict.fromkeys(COMPONENTS, 0)

    def state(r: dict[str, int]):
        flag = ruled.copy()
        for c in COMPONENTS:
            flag |= values[c] > LADDER[r[c]] * LADDER_UNIT[c]
        alarms = float(flag[normal].mean()) if normal.any() else 0.0
        recall = np.array([flag[truth == k].mean() for k in kinds])
        return flag, alarms, recall

    flag, alarms, recall = state(rung)
    while kinds and (recall < goal).any():
        best = None
        for c in COMPONENTS:
            for step in range(rung[c] + 1, len(LADDER)):
                trial = dict(rung, **{c: step})
                _, trial_alarms, trial_recall = state(trial)
                if trial_alarms > ALARM_CAP:
                    break
                gain = np.minimum(trial_recall, goal).sum() - np.minimum(recall, goal).sum()
                if gain <= 0:
                    continue
                value = gain / max(trial_alarms - alarms, 1e-4)
                if value < MIN_VALUE:
                    continue
                if best is None or value > best[0]:
                    best = (value, trial, trial_alarms, trial_recall)
        if best is None:
            break
        _, rung, alarms, recall = best
    rung = _free_descent(rung, values, normal)
    flag, alarms, recall = state(rung)
    thresholds = {c: float(LADDER[rung[c]] * LADDER_UNIT[c]) for c in COMPONENTS}
    summary = {
        "false_alarm_rate": alarms,
        "normal_days": int(normal.sum()),
        "recall": {k: float(flag[truth == k].mean()) for k in KINDS if (truth == k).any()},
        "anomalous_days": {k: int((truth == k).sum()) for k in KINDS if (truth == k).any()},
    }
    return thresholds, summary


# ---------------------------------------------------------------------------------------------
# fit / predict


def evidence_of(
    expected: ExpectedModel,
    peers: PeerModel,
    data: CountData,
    weather: pd.DataFrame | None = None,
) -> Evidence:
    """Expected counts of ``data`` and the evidence the scores judge."""
    units = units_of(data)
    day = expected_daily(expected, peers, units, weather)
    if units.layout == "hourly":
        shares = expected_shares(expected, peers, units)
    else:
        shares = np.ones((len(day), 1))
    return evidence(units, day, shares)


@dataclass
class Detection:
    """Result of ``predict``: per counter-day table, per counter-hour table, fitted model."""

    days: pd.DataFrame
    hours: pd.DataFrame | None
    model: Detector
    layout: str

    def since(self, start: Any) -> Detection:
        """The same detection restricted to the days from ``start`` on."""
        start = pd.Timestamp(start)
        days = self.days[self.days["date"] >= start].reset_index(drop=True)
        hours = None
        if self.hours is not None:
            hours = self.hours[self.hours["date"] >= start].reset_index(drop=True)
        return Detection(days, hours, self.model, self.layout)


def fit_expected_part(
    data: CountData, weather: pd.DataFrame | None, quick: bool
) -> tuple[ExpectedModel, PeerModel]:
    """Gradient boosting, peers and hourly profiles learnt on ``data``."""
    units = units_of(data)
    model, log_exp = fit_expected(
        units.days, np.nan_to_num(units.total), units.usable, weather, quick=quick
    )
    log_count = np.where(units.usable, np.log1p(np.nan_to_num(units.total)), np.nan)
    peers = fit_peers(units.days, log_count, units.category, model.counters)
    if data.layout == "hourly":
        inlier = units.usable & (np.abs(log_count - log_exp) < 0.5)
        model.profiles = hourly_profiles(units.days, units.values, inlier, units.dtype)
    return model, peers


def judged_days(units: Units, start, end, counters) -> np.ndarray:
    dates = units.days["date"]
    inside = (dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))
    return (inside & units.days["counter_id"].isin(counters)).to_numpy()


def normal_days(units: Units, truth: np.ndarray, judged: np.ndarray) -> np.ndarray:
    """Judged days that are normal: no labelled or injected event, not flagged ``Forte`` by the
    producer, no missing hour that counts."""
    forte = (
        (units.days["source_flag"] == "Forte").to_numpy()
        if "source_flag" in units.days
        else np.zeros(len(judged), dtype=bool)
    )
    return judged & (truth == "") & ~forte & ~units.missing_mask.any(axis=1)


def backtests(
    train: CountData,
    weather: pd.DataFrame | None,
    *,
    quick: bool,
    seed: int,
    events: pd.DataFrame | None = None,
) -> list[tuple[Evidence, np.ndarray, np.ndarray]]:
    """Rolling-origin backtests inside ``train``: for each origin of ``FOLDS``, fit on the
    days before, inject anomalies into the next weeks and compute their evidence. Returns
    ``(evidence, truth, judged)`` per fold (``truth``: kind per counter-day, "" = normal)."""
    from .sample import inject_anomalies_into

    dates = pd.DatetimeIndex(train.days["date"])
    first, last = dates.min(), dates.max()
    span = (last - first).days + 1
    origins = [
        first + pd.Timedelta(days=round(f * span)) for f in (QUICK_FOLDS if quick else FOLDS)
    ]
    folds = []
    for k, origin in enumerate(origins):
        end = origins[k + 1] - pd.Timedelta(days=1) if k + 1 < len(origins) else last
        expected, peers = fit_expected_part(
            train.select(end=origin - pd.Timedelta(days=1)), weather, quick
        )
        if not expected.slopes:
            continue
        injected, injected_events = inject_anomalies_into(
            train.select(end=end), origin, end, seed=seed + k, avoid=events
        )
        ev = evidence_of(expected, peers, injected, weather)
        known = pd.concat([e for e in (events, injected_events) if e is not None and len(e)])
        truth = (
            day_labels(ev.units.days, known).to_numpy()
            if len(known)
            else np.full(len(ev.units.days), "")
        )
        folds.append((ev, truth, judged_days(ev.units, origin, end, expected.counters)))
    return folds


def fit(
    data: CountData | pd.DataFrame,
    weather: pd.DataFrame | None = None,
    *,
    quick: bool = False,
    train_end: Any = None,
    seed: int = 0,
    events: pd.DataFrame | None = None,
) -> Detector:
    """Fit the detector on the days of ``data`` up to ``train_end`` (all by default): expected
    counts, spreads and thresholds from rolling-origin backtests inside that period only.
    ``events`` (labelled anomalies, optional) are left out of the backtests' normal days."""
    counts = _count_data(data)
    train = counts.select(end=train_end) if train_end is not None else counts
    if train.days.empty:
        raise DataReadError(
            "Aucune journée de comptage avant la fin de la période d'apprentissage."
        )
    dates = pd.DatetimeIndex(train.days["date"])
    period = (dates.min().strftime("%Y-%m-%d"), dates.max().strftime("%Y-%m-%d"))
    expected, peers = fit_expected_part(train, weather, quick)
    detector = Detector(expected, peers, train.layout, train_period=period)
    folds = []
    if (dates.max() - dates.min()).days + 1 >= MIN_BACKTEST_DAYS:
        folds = backtests(train, weather, quick=quick, seed=seed, events=events)
    if folds:
        parts = []
        for ev, truth, judged in folds:
            normal = normal_days(ev.units, truth, judged)
            parts.append((ev, normal & ev.units.usable))
        detector.day_scales, detector.shape_scales = scales_of(parts, detector.counters)
        frames, ruled, truths, normals = [], [], [], []
        for ev, truth, judged in folds:
            scores = component_scores(ev, detector.day_scales, detector.shape_scales)
            n_missing, _, whole_zero = _day_rules(ev.units)
            frames.append(scores[judged])
            ruled.append(((n_missing > 0) | whole_zero)[judged])
            truths.append(truth[judged])
            normals.append(normal_days(ev.units, truth, judged)[judged])
        detector.thresholds, detector.backtest = choose_thresholds(
            pd.concat(frames, ignore_index=True),
            np.concatenate(ruled),
            np.concatenate(truths),
            np.concatenate(normals),
        )
        detector.backtest["folds"] = len(folds)
    else:
        ev = evidence_of(expected, peers, train, weather)
        detector.day_scales, detector.shape_scales = scales_of(
            [(ev, ev.units.usable)], detector.counters
        )
        detector.thresholds = dict(DEFAULT_THRESHOLDS)
        detector.backtest = {"folds": 0}
    return detector


def _check_sensitivity(sensitivity: float) -> float:
    if not 0.2 <= float(sensitivity) <= 5.0:
        raise DataReadError(
            f"La sensibilité doit être comprise entre 0,2 et 5 (valeur reçue : {sensitivity})."
        )
    return float(sensitivity)


def predict(
    detector: Detector,
    data: CountData | pd.DataFrame,
    weather: pd.DataFrame | None = None,
    *,
    sensitivity: float = 1.0,
) -> Detection:
    """Check every counter-day of ``data`` against ``detector`` (``sensitivity`` > 1 flags
    more, < 1 fewer): per counter-day and per counter-hour tables with ``expected``,
    ``score``, ``flag``, ``kind`` and ``corrected``."""
    sensitivity = _check_sensitivity(sensitivity)
    counts = _count_data(data)
    ev = evidence_of(detector.expected, detector.peers, counts, weather)
    units = ev.units
    scores = component_scores(ev, detector.day_scales, detector.shape_scales)
    flag, score, kind, decided = flag_days(
        scores, units, ev.expected_day, detector.thresholds, sensitivity
    )
    unit_flags = _flag_hours(units, scores, flag, kind, decided)
    observed = counts.values.astype(float)
    lam = np.where(np.isfinite(ev.lam), ev.lam, np.nan)
    corrected_units = np.where(unit_flags | np.isnan(observed), np.round(lam, 1), observed)
    table = units.days.copy()
    n_missing = np.isnan(observed).sum(axis=1)
    table["count"] = np.where(n_missing < counts.per_day, np.nansum(observed, axis=1), np.nan)
    if counts.layout == "hourly":
        table["missing_hours"] = n_missing
    table["expected"] = np.round(ev.expected_day, 1)
    table["score"] = np.round(score, 2)
    table["flag"] = flag
    table["kind"] = kind.astype(str)
    table["evidence"] = decided.astype(str)
    table["corrected"] = np.round(np.nansum(corrected_units, axis=1), 1)
    hours = None
    if counts.layout == "hourly":
        n = len(table)
        hour_kind = np.where(unit_flags, np.repeat(kind.astype(str), 24).reshape(n, 24), "")
        hour_kind = np.where(
            units.missing_mask & ~np.isnan(observed).all(axis=1, keepdims=True),
            "journee_partielle",
            hour_kind,
        )
        hours = pd.DataFrame(
            {
                "counter_id": np.repeat(table["counter_id"].to_numpy(), 24),
                "date": np.repeat(table["date"].to_numpy(), 24),
                "hour": np.tile(np.arange(24), n),
                "count": observed.reshape(-1),
                "expected": np.round(lam.reshape(-1), 2),
                "score": np.where(unit_flags, score[:, None], 0.0).reshape(-1).round(2),
                "flag": unit_flags.reshape(-1),
                "kind": hour_kind.reshape(-1),
                "corrected": corrected_units.reshape(-1),
            }
        )
    return Detection(table, hours, detector, counts.layout)


def run(
    data: CountData,
    weather: pd.DataFrame | None = None,
    *,
    sensitivity: float = 1.0,
    quick: bool = False,
    train_end: Any = None,
    seed: int = 0,
    events: pd.DataFrame | None = None,
) -> Detection:
    """``fit`` on the days up to ``train_end`` (all by default), then ``predict`` every day.
    ``events``: labelled anomalies of ``data``, left out of the backtests' normal days."""
    _check_sensitivity(sensitivity)
    detector = fit(data, weather, quick=quick, train_end=train_end, seed=seed, events=events)
    return predict(detector, data, weather, sensitivity=sensitivity)


detect = run


def _count_data(data: CountData | pd.DataFrame) -> CountData:
    if isinstance(data, CountData):
        return data
    from .data import from_tidy

    return from_tidy(data, data.attrs.get("layout", "hourly"))
