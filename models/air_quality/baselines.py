"""Baselines of ``air_quality``, the forecasts any model must beat (scored on the same days).

- ``persistence``: tomorrow = today (the value of the issue day D, ``obs_j0``);
- monthly climatology: the mean target of the training years for the month of D+1
  (``monthly_climatology``, then ``climatology_forecast``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def persistence(X: pd.DataFrame) -> pd.Series:
    """Persistence forecast of D+1: the value of D (features of ``features.make_features``)."""
    return X["obs_j0"]


def monthly_climatology(y_train: pd.Series) -> pd.Series:
    """Mean target per month of D+1 over the training rows (index: month 1..12)."""
    months = (y_train.index + pd.Timedelta(days=1)).month
    return y_train.groupby(months).mean()


def climatology_forecast(climatology: pd.Series, target_days: pd.DatetimeIndex) -> np.ndarray:
    """The climatology of the month of each target day, rounded to 0.1 µg/m³."""
    return np.round(climatology.reindex(target_days.month).to_numpy(), 1)
