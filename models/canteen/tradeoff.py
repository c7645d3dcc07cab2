"""Over-production / short-days trade-off from one median model and calibrated margins.

Fitting one gradient-boosting model per quantile to draw the trade-off curve cost most of a
full run (8 fits). Instead (split-conformal style):

1. the median model is fitted on the training period **minus its last service days** (the
   calibration slice, ``calibration_mask``);
2. its forecasts of that slice are compared with what was served: the log-ratios
   ``log(actual / median forecast)`` are out-of-sample residuals;
3. the forecast at level ``tau`` is ``median forecast × exp(q_tau)`` where ``q_tau`` is the
   ``tau`` quantile of those residuals (``log_offsets``): a margin learnt before the test
   period, never on it.

The curve is then scored on the test period like every other forecast. It shows what a
uniform safety margin does; the reference model itself stays the quantile model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TRADEOFF_GRID = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
CALIBRATION_DATES = 40
"""Service days in the calibration slice (about ten school weeks at four days a week)."""
CALIBRATION_MIN_ROWS = 300
CALIBRATION_MAX_SHARE = 0.3
"""At most this share of the training rows goes to calibration (the median model keeps the
rest)."""


def calibration_mask(
    dates: pd.Series,
    *,
    n_dates: int = CALIBRATION_DATES,
    min_rows: int = CALIBRATION_MIN_ROWS,
    max_share: float = CALIBRATION_MAX_SHARE,
) -> np.ndarray:
    """Rows of the last ``n_dates`` distinct dates (more dates if fewer than ``min_rows`` rows,
    but never more than ``max_share`` of the rows). ``dates``: one per training row."""
    values = pd.DatetimeIndex(dates).normalize()
    per_date = pd.Series(1, index=values).groupby(level=0).size().sort_index(ascending=False)
    rows_from_end = per_date.cumsum()
    limit = int(len(values) * max_share)
    wanted = max(int(min(n_dates, len(per_date))), int((rows_from_end < min_rows).sum()) + 1)
    wanted = min(wanted, int((rows_from_end <= limit).sum()))
    if wanted < 1:
        return np.zeros(len(values), dtype=bool)
    first = per_date.index[wanted - 1]
    return np.asarray(values >= first)


def log_offsets(
    actual: np.ndarray, predicted: np.ndarray, quantiles=TRADEOFF_GRID
) -> dict[float, float]:
    """``tau`` quantile of ``log(actual / predicted)`` for each ``tau`` (rows > 0 only)."""
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    ok = np.isfinite(actual) & np.isfinite(predicted) & (actual > 0) & (predicted > 0)
    residuals = np.log(actual[ok] / predicted[ok])
    if residuals.size == 0:
        return {}
    return {float(q): float(np.quantile(residuals, q)) for q in quantiles}


def with_margin(median: pd.Series, offset: float) -> pd.Series:
    """Median forecast raised (or lowered) by the multiplicative margin ``exp(offset)``."""
    return np.round(median * float(np.exp(offset)))
