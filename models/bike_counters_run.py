"""The bike-counter detection pipeline: counts → expected counts → flags, kinds, corrections.

``CountData`` holds one row per counter-day (``days``) and the counts of each day (``values``:
24 columns for hourly data, 1 for daily data). ``detect`` fits the expected-count model on the
data, scores every unit, and returns per counter-day and per counter-hour tables with
``score``, ``flag``, ``kind`` and ``corrected`` values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.bike_counters_detect import day_kind, score_series
from models.bike_counters_expected import (
    ExpectedModel,
    day_type,
    fit_expected,
    hourly_profiles,
)
from models.bike_counters_io import complete_daily, to_hourly_matrix
from models.calendar import french_calendar


@dataclass
class CountData:
    """Counts of several counters: ``days`` (one row per counter-day) and ``values``."""

    days: pd.DataFrame
    values: np.ndarray
    layout: str  # "hourly" or "daily"

    @property
    def per_day(self) -> int:
        return self.values.shape[1]

    def select(self, counters: list[str] | None = None, start=None, end=None) -> CountData:
        """A subset by counter ids (or names) and period."""
        keep = np.ones(len(self.days), dtype=bool)
        if counters:
            wanted = {str(c) for c in counters}
            keep &= (
                self.days["counter_id"].isin(wanted) | self.days["counter_name"].isin(wanted)
            ).to_numpy()
        if start is not None:
            keep &= (self.days["date"] >= pd.Timestamp(start)).to_numpy()
        if end is not None:
            keep &= (self.days["date"] <= pd.Timestamp(end)).to_numpy()
        return CountData(self.days[keep].reset_index(drop=True), self.values[keep], self.layout)


def from_tidy(frame: pd.DataFrame, layout: str) -> CountData:
    """Build ``CountData`` from a tidy frame of ``models.bike_counters_io.read_counts``."""
    if layout == "hourly":
        days, values = to_hourly_matrix(frame)
        return CountData(days, values, "hourly")
    daily = complete_daily(frame)
    values = daily["count"].to_numpy(dtype=float)[:, None]
    return CountData(daily.drop(columns=["count"]), values, "daily")


@dataclass
class Detection:
    """Result of ``detect``: per counter-day table, per counter-hour table, fitted model."""

    days: pd.DataFrame
    hours: pd.DataFrame | None
    model: ExpectedModel
    layout: str


def _observed_totals(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n_missing = np.isnan(values).sum(axis=1)
    total = np.where(n_missing < values.shape[1], np.nansum(values, axis=1), np.nan)
    return total, n_missing


def detect(
    data: CountData,
    weather: pd.DataFrame | None = None,
    *,
    sensitivity: float = 1.0,
    quick: bool = False,
) -> Detection:
    """Fit the expected counts on ``data`` and flag its anomalies (see module docstrings)."""
    days = data.days.reset_index(drop=True)
    values = data.values.astype(float)
    total, n_missing = _observed_totals(values)
    complete = n_missing == 0
    holiday = (
        french_calendar(days["date"])
        .reindex(pd.DatetimeIndex(days["date"]).normalize())["is_public_holiday"]
        .to_numpy(dtype=bool)
    )
    dtype = day_type(days["date"], holiday)

    # first pass: learn from complete, non-zero days without long flat lines
    usable = complete & (np.nan_to_num(total) > 0)
    if data.layout == "hourly":
        flat = np.array([len(np.unique(v)) <= 3 for v in values]) & (np.nan_to_num(total) > 24)
        usable &= ~flat
    model, log_exp = fit_expected(days, np.nan_to_num(total), usable, weather, quick=quick)
    expected_day = np.expm1(log_exp)

    # hourly expectations from profiles learnt on the first-pass inliers
    if data.layout == "hourly":
        ratio = np.log1p(np.nan_to_num(total)) - log_exp
        inlier = usable & np.isfinite(ratio) & (np.abs(ratio - np.nanmedian(ratio)) < 0.5)
        model.profiles = hourly_profiles(days, values, inlier, dtype)
        shares = (
            np.stack(
                [
                    model.profiles.get(str(c), np.full((3, 24), 1 / 24))[t]
                    for c, t in zip(days["counter_id"], dtype, strict=True)
                ]
            )
            if len(days)
            else np.empty((0, 24))
        )
        lam = expected_day[:, None] * shares
    else:
        lam = expected_day[:, None]

    last_date = days["date"].max()
    score = np.zeros_like(values)
    flag = np.zeros(values.shape, dtype=bool)
    kinds = np.full(values.shape, "", dtype=object)
    z = np.zeros_like(values)
    for _cid, idx in days.groupby("counter_id", sort=False).indices.items():
        y = values[idx].reshape(-1)
        lm = lam[idx].reshape(-1)
        unit_day = np.repeat(np.arange(len(idx)), data.per_day)
        tail = data.per_day if days["date"].iloc[idx[-1]] == last_date else 0
        out = score_series(
            y,
            lm,
            layout=data.layout,
            unit_day=unit_day,
            sensitivity=sensitivity,
            protect_tail=tail,
        )
        shape = (len(idx), data.per_day)
        score[idx] = out["score"].reshape(shape)
        flag[idx] = out["flag"].reshape(shape)
        kinds[idx] = out["kind"].reshape(shape)
        z[idx] = out["z"].reshape(shape)

    corrected_units = np.where(flag | np.isnan(values), np.round(lam, 1), values)
    day_table = days.copy()
    day_table["count"] = total
    if data.layout == "hourly":
        day_table["missing_hours"] = n_missing
    day_table["expected"] = np.round(expected_day, 1)
    day_table["score"] = np.round(score.max(axis=1), 2)
    day_table["flag"] = flag.any(axis=1)
    day_table["kind"] = [day_kind(k) for k in kinds]
    day_table["corrected"] = np.round(np.sum(corrected_units, axis=1), 1)
    hours = None
    if data.layout == "hourly":
        n = len(days)
        hours = pd.DataFrame(
            {
                "counter_id": np.repeat(days["counter_id"].to_numpy(), 24),
                "date": np.repeat(days["date"].to_numpy(), 24),
                "hour": np.tile(np.arange(24), n),
                "count": values.reshape(-1),
                "expected": np.round(lam.reshape(-1), 2),
                "score": np.round(score.reshape(-1), 2),
                "flag": flag.reshape(-1),
                "kind": kinds.reshape(-1).astype(str),
                "corrected": corrected_units.reshape(-1),
            }
        )
    return Detection(day_table, hours, model, data.layout)
