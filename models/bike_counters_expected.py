"""Expected bike counts: a gradient-boosting model of daily counts and hourly profiles.

The daily model predicts ``log1p(count)`` of each counter-day from the counter (categorical),
the calendar (weekday, public holidays, school vacations of zone B, bridge days, season) and
the weather when given (rain, temperature). It is fitted on the data it scores, robustly:

1. fit on the usable days (complete, not all zeros);
2. estimate each counter's linear trend (per year, on the log scale) from the residuals of the
   inliers, and the *common mode* of each day (median residual across counters, when at least
   ``MIN_COUNTERS_COMMON`` counters report): what every counter shares that day — a lockdown,
   a strike, a storm — is not a sensor anomaly;
3. refit on the detrended, common-mode-free target without the outlying days.

Hourly expectations spread the daily expectation over the counter's hourly profile (one for
working days, one for Saturdays, one for Sundays and public holidays) estimated on inlier days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from models.calendar import french_calendar

MIN_TRAIN_DAYS = 14
MIN_COUNTERS_COMMON = 5
WEATHER_COLUMNS = ("rain_mm", "temperature_c")


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


def day_type(dates: pd.Series | pd.DatetimeIndex, holiday: np.ndarray) -> np.ndarray:
    """0 = working day, 1 = Saturday, 2 = Sunday or public holiday."""
    weekday = pd.DatetimeIndex(dates).day_of_week.to_numpy()
    return np.where(holiday | (weekday == 6), 2, np.where(weekday == 5, 1, 0))


def day_features(
    days: pd.DataFrame, counters: list[str], weather: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Features of each counter-day (``days`` has ``counter_id`` and ``date``)."""
    dates = pd.DatetimeIndex(days["date"])
    cal = french_calendar(dates).reindex(dates.normalize())
    code = {c: i for i, c in enumerate(counters)}
    doy = dates.day_of_year.to_numpy()
    feats = pd.DataFrame(
        {
            "counter": days["counter_id"].map(code).to_numpy(dtype=float),
            "weekday": dates.day_of_week.to_numpy(),
            "public_holiday": cal["is_public_holiday"].to_numpy(dtype=float),
            "school_vacation": cal["is_school_vacation"].to_numpy(dtype=float),
            "bridge_day": cal["is_bridge_day"].to_numpy(dtype=float),
            "days_to_vacation": np.minimum(cal["days_to_next_vacation"].to_numpy(float), 30),
            "season_sin": np.sin(2 * np.pi * doy / 365.25),
            "season_cos": np.cos(2 * np.pi * doy / 365.25),
            "month": dates.month.to_numpy(),
        }
    )
    if weather is not None and len(weather):
        table = weather.set_index("date")
        for col in WEATHER_COLUMNS:
            if col in table:
                feats[col] = table[col].reindex(dates.normalize()).to_numpy(dtype=float)
    return feats


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
        max_iter=120 if quick else 300,
        learning_rate=0.1 if quick else 0.06,
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
