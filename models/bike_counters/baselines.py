"""Baselines of ``bike_counters``: the rules and the generic detector the model must beat.

Per counter-day:

- ``zero_days_rule``: days without any count (zero or missing) in runs of ≥ 3 days (the rule
  Nantes applied in 2020);
- ``zero_missing_hours_rule``: days with at least 3 zero or missing hours between 07h and 20h
  (the crude rule of the daily feed); hourly data only;
- ``isolation_forest``: scikit-learn ``IsolationForest`` on raw features of each counter-day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest

from .features import runs


def zero_days_rule(days: pd.DataFrame, values: np.ndarray, min_days: int = 3) -> np.ndarray:
    """Days without any count (sum 0 or all missing) in runs of ≥ ``min_days`` days."""
    total = np.nansum(values, axis=1)
    empty = (total == 0) | np.isnan(values).all(axis=1)
    out = np.zeros(len(days), dtype=bool)
    for _, idx in days.groupby("counter_id", sort=False).indices.items():
        for a, b in runs(empty[idx]):
            if b - a >= min_days:
                out[idx[a:b]] = True
    return out


def zero_missing_hours_rule(values: np.ndarray, min_hours: int = 3) -> np.ndarray:
    """Days with ≥ ``min_hours`` zero or missing hours between 07h and 20h (hourly data)."""
    if values.shape[1] != 24:
        return np.isnan(values[:, 0]) | (values[:, 0] == 0)
    block = values[:, 7:21]
    return (np.isnan(block) | (block == 0)).sum(axis=1) >= min_hours


def raw_features(days: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """Raw features of each counter-day for the IsolationForest baseline."""
    total = np.nansum(values, axis=1)
    log_total = np.log1p(total)
    ids = days["counter_id"].to_numpy()
    centred = np.zeros(len(days))
    for c in pd.unique(ids):
        rows = ids == c
        med = np.median(log_total[rows])
        mad = np.median(np.abs(log_total[rows] - med)) * 1.4826 + 1e-3
        centred[rows] = (log_total[rows] - med) / mad
    dates = pd.DatetimeIndex(days["date"])
    cols = [centred, dates.day_of_week.to_numpy(), dates.month.to_numpy()]
    if values.shape[1] == 24:
        safe = np.nan_to_num(values)
        share = safe / np.maximum(safe.sum(axis=1, keepdims=True), 1)
        distinct = np.array([len(np.unique(v[np.isfinite(v)])) for v in values])
        cols += [
            np.isnan(values).sum(axis=1),
            (values[:, 7:21] == 0).sum(axis=1),
            share.max(axis=1),
            share[:, 8],
            share[:, 17:19].sum(axis=1),
            distinct,
        ]
    return np.column_stack(cols).astype(float)


def isolation_forest(
    days: pd.DataFrame, values: np.ndarray, contamination: float = 0.05, seed: int = 0
) -> np.ndarray:
    """IsolationForest flags on ``raw_features`` (``contamination`` of the counter-days)."""
    X = raw_features(days, values)
    model = IsolationForest(n_estimators=100, contamination=contamination, random_state=seed)
    return model.fit_predict(X) == -1


def baseline_flags(days: pd.DataFrame, values: np.ndarray) -> dict[str, np.ndarray]:
    """Day flags of every baseline that applies to the data's layout."""
    out = {"regle_3_jours_a_zero": zero_days_rule(days, values)}
    if values.shape[1] == 24:
        out["regle_heures_nulles_ou_manquantes"] = zero_missing_hours_rule(values)
    out["isolation_forest"] = isolation_forest(days, values)
    return out
