"""Reference forecasts the model is compared with (all computed on the canonical frame).

- ``agents_forecast``: the agents' own ``prevision`` column, when the file has it;
- ``same_weekday_mean``: mean of the last 8 observed same-weekday days dated at least
  ``gap_days`` (21, i.e. 3 weeks) before the day — the naive baseline;
- ``enrolment_ratio``: per-canteen attendance ratio (``reel / effectif``) of the same week of
  the year in the training period × the day's enrolment, when the file has ``effectif``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .features import asof, history_table, observed

NAIVE_GAP_DAYS = 21
AGENTS = "prevision_agents"
NAIVE = "moyenne_8_semaines"
ENROLMENT = "ratio_effectif"
"""Names of the baseline forecasts (columns of ``predictions.csv``, keys of the scores)."""


def agents_forecast(frame: pd.DataFrame) -> pd.Series | None:
    """The agents' forecast (``prevision``), or ``None`` when the file has no such column."""
    if "prevision" not in frame.columns or frame["prevision"].notna().sum() == 0:
        return None
    return frame["prevision"].astype(float)


def same_weekday_mean(frame: pd.DataFrame, gap_days: int = NAIVE_GAP_DAYS) -> pd.Series:
    """Same-weekday mean of the 8 last observed days ending ``gap_days`` before each day."""
    hist = history_table(frame)
    targets = frame[["series", "date"]].copy()
    targets["weekday"] = targets["date"].dt.day_of_week
    known = asof(targets, hist, gap_days, ["wd_mean8"], by=["series", "weekday"])
    return known["wd_mean8"].round()


def fit_enrolment_ratio(train: pd.DataFrame) -> dict[str, pd.Series | float] | None:
    """Attendance ratios learnt on ``train``: per (series, ISO week), per series, overall."""
    if "effectif" not in train.columns:
        return None
    obs = observed(train)
    obs = obs[obs["effectif"].notna() & (obs["effectif"] > 0)]
    if obs.empty:
        return None
    ratio = obs["reel"] / obs["effectif"]
    week = obs["date"].dt.isocalendar().week.astype(int)
    return {
        "by_week": ratio.groupby([obs["series"], week]).mean(),
        "by_series": ratio.groupby(obs["series"]).mean(),
        "overall": float(ratio.mean()),
    }


def enrolment_ratio(frame: pd.DataFrame, ratios: dict | None) -> pd.Series | None:
    """Forecast ``ratio(series, week of year) × effectif`` (falls back to the series' ratio)."""
    if ratios is None or "effectif" not in frame.columns:
        return None
    week = frame["date"].dt.isocalendar().week.astype(int)
    keys = pd.MultiIndex.from_arrays([frame["series"], week])
    by_week = ratios["by_week"].reindex(keys).to_numpy()
    by_series = ratios["by_series"].reindex(frame["series"]).to_numpy()
    ratio = np.where(np.isnan(by_week), by_series, by_week)
    ratio = np.where(np.isnan(ratio), ratios["overall"], ratio)
    return pd.Series(np.round(ratio * frame["effectif"].to_numpy()), index=frame.index)
