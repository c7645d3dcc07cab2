"""Evaluation metrics shared by the entries: errors, over-production, short days, alert scores.

All functions take array-likes, ignore pairs where the actual or the prediction is missing,
and return plain floats/ints (``nan`` when nothing is left to score). Functions that accept
``groups`` return one value per group (a ``pandas.Series``) — e.g. per canteen — while
``network_totals`` sums actuals and predictions per key (e.g. per day) for network-level scores.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from models.french import METRIC_LABELS


def _pairs(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(pd.to_numeric(pd.Series(np.asarray(y_true).ravel()), errors="coerce"), float)
    p = np.asarray(pd.to_numeric(pd.Series(np.asarray(y_pred).ravel()), errors="coerce"), float)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.shape[0]} != {p.shape[0]}")
    keep = np.isfinite(t) & np.isfinite(p)
    return t[keep], p[keep]


def _by_group(fn: Callable[[Any, Any], float], y_true: Any, y_pred: Any, groups: Any) -> pd.Series:
    frame = pd.DataFrame(
        {
            "t": np.asarray(y_true).ravel(),
            "p": np.asarray(y_pred).ravel(),
            "g": np.asarray(groups).ravel(),
        }
    )
    out = {key: fn(part["t"], part["p"]) for key, part in frame.groupby("g", sort=True)}
    return pd.Series(out, dtype="float64", name=getattr(fn, "__name__", None))


def mae(y_true: Any, y_pred: Any, *, groups: Any = None) -> float | pd.Series:
    """Mean absolute error."""
    if groups is not None:
        return _by_group(mae, y_true, y_pred, groups)
    t, p = _pairs(y_true, y_pred)
    return float(np.mean(np.abs(p - t))) if t.size else float("nan")


def rmse(y_true: Any, y_pred: Any, *, groups: Any = None) -> float | pd.Series:
    """Root mean squared error."""
    if groups is not None:
        return _by_group(rmse, y_true, y_pred, groups)
    t, p = _pairs(y_true, y_pred)
    return float(np.sqrt(np.mean((p - t) ** 2))) if t.size else float("nan")


def mape(y_true: Any, y_pred: Any, *, groups: Any = None) -> float | pd.Series:
    """Mean absolute percentage error in %, over rows whose actual is not zero.

    Rows with a zero actual are ignored (a percentage of zero is undefined);
    ``zero_actuals`` counts them so that reports can say so.
    """
    if groups is not None:
        return _by_group(mape, y_true, y_pred, groups)
    t, p = _pairs(y_true, y_pred)
    keep = t != 0
    if not keep.any():
        return float("nan")
    return float(np.mean(np.abs(p[keep] - t[keep]) / np.abs(t[keep])) * 100)


def zero_actuals(y_true: Any, y_pred: Any) -> int:
    """Number of scored rows whose actual is zero (ignored by ``mape``)."""
    t, _ = _pairs(y_true, y_pred)
    return int(np.sum(t == 0))


def over_production_pct(y_true: Any, y_pred: Any, *, groups: Any = None) -> float | pd.Series:
    """Excess produced over actual, in % of actual: sum(max(pred - actual, 0)) / sum(actual)."""
    if groups is not None:
        return _by_group(over_production_pct, y_true, y_pred, groups)
    t, p = _pairs(y_true, y_pred)
    total = t.sum()
    if t.size == 0 or total == 0:
        return float("nan")
    return float(np.clip(p - t, 0, None).sum() / total * 100)


def short_days(y_true: Any, y_pred: Any, *, groups: Any = None) -> int | pd.Series:
    """Number of rows where the prediction is below the actual (not enough produced)."""
    if groups is not None:
        return _by_group(short_days, y_true, y_pred, groups).astype("int64")
    t, p = _pairs(y_true, y_pred)
    return int(np.sum(p < t))


def network_totals(y_true: Any, y_pred: Any, by: Any) -> pd.DataFrame:
    """Sum actuals and predictions per key ``by`` (e.g. the date): columns ``y_true, y_pred``.

    Rows with a missing actual or prediction are left out of both sums, so the network total
    compares like with like.
    """
    frame = pd.DataFrame(
        {
            "y_true": pd.to_numeric(pd.Series(np.asarray(y_true).ravel()), errors="coerce"),
            "y_pred": pd.to_numeric(pd.Series(np.asarray(y_pred).ravel()), errors="coerce"),
            "key": np.asarray(by).ravel(),
        }
    ).dropna(subset=["y_true", "y_pred"])
    return frame.groupby("key", sort=True)[["y_true", "y_pred"]].sum()


def point_metrics(y_true: Any, y_pred: Any, *, groups: Any = None) -> dict[str, Any] | pd.DataFrame:
    """All point-forecast metrics at once: mae, rmse, mape, mape_ignored_zeros,
    over_production_pct, short_days, n (one row per group when ``groups`` is given)."""
    if groups is not None:
        frame = pd.DataFrame(
            {
                "t": np.asarray(y_true).ravel(),
                "p": np.asarray(y_pred).ravel(),
                "g": np.asarray(groups).ravel(),
            }
        )
        rows = {key: point_metrics(part["t"], part["p"]) for key, part in frame.groupby("g")}
        return pd.DataFrame.from_dict(rows, orient="index")
    t, p = _pairs(y_true, y_pred)
    return {
        "mae": mae(t, p),
        "rmse": rmse(t, p),
        "mape": mape(t, p),
        "mape_ignored_zeros": zero_actuals(t, p),
        "over_production_pct": over_production_pct(t, p),
        "short_days": short_days(t, p),
        "n": int(t.size),
    }


def _ratio(num: float, den: float, zero_division: float) -> float:
    return float(num / den) if den else float(zero_division)


def threshold_scores(
    y_true_bool: Any, y_pred_bool: Any, *, zero_division: float = 0.0
) -> dict[str, float | int]:
    """Scores of an alert (exceedance or anomaly) against what happened.

    ``precision`` TP/(TP+FP), ``recall`` TP/(TP+FN), ``f1``, ``csi`` (critical success index)
    TP/(TP+FP+FN), ``far`` (false alarm ratio) FP/(TP+FP), plus the counts ``tp fp fn tn``.
    A ratio whose denominator is zero is ``zero_division`` (``far`` is then 0: no alarm, no
    false alarm). Missing values are dropped.
    """
    t = pd.Series(np.asarray(y_true_bool, dtype=object).ravel())
    p = pd.Series(np.asarray(y_pred_bool, dtype=object).ravel())
    if len(t) != len(p):
        raise ValueError(f"y_true and y_pred differ in length: {len(t)} != {len(p)}")
    keep = t.notna() & p.notna()
    tv, pv = t[keep].astype(bool).to_numpy(), p[keep].astype(bool).to_numpy()
    tp, fp = int(np.sum(tv & pv)), int(np.sum(~tv & pv))
    fn, tn = int(np.sum(tv & ~pv)), int(np.sum(~tv & ~pv))
    precision = _ratio(tp, tp + fp, zero_division)
    recall = _ratio(tp, tp + fn, zero_division)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn, zero_division)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "csi": _ratio(tp, tp + fp + fn, zero_division),
        "far": _ratio(fp, tp + fp, 0.0),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def comparison_table(
    results: Mapping[str, Mapping[str, Any]],
    *,
    columns: list[str] | None = None,
    french_labels: bool = True,
    decimals: int | None = 2,
) -> pd.DataFrame:
    """One row per model/baseline (``{name: metrics_dict}``), one column per metric.

    ``columns`` picks and orders metric keys (default: every key, in first-seen order);
    ``french_labels`` renames them with ``METRIC_LABELS``; ``decimals`` rounds floats.
    Values that are dicts (``{"metrics": {...}}``) are unwrapped.
    """
    rows: dict[str, dict[str, Any]] = {}
    keys: list[str] = []
    for name, metrics in results.items():
        if set(metrics) == {"metrics"}:
            metrics = metrics["metrics"]
        rows[str(name)] = {k: v for k, v in metrics.items() if not isinstance(v, dict | list)}
        keys += [k for k in rows[str(name)] if k not in keys]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns or keys)
    table.index.name = "Modèle" if french_labels else "model"
    if decimals is not None:
        table = table.round(decimals)
    if french_labels:
        table = table.rename(columns=METRIC_LABELS)
    return table
