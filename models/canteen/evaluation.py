"""Scores of canteen forecasts: per canteen-day, for the whole network, and per canteen.

All forecasts are scored on the same rows: actual attendance present and above zero (closed
days are not attendance) and every compared forecast present. Definitions:

- ``over_production_pct``: meals cooked in excess (sum over canteen-days of
  ``max(forecast - actual, 0)``) / actual meals × 100 — an excess in one canteen cannot feed
  another one;
- ``short_days``: canteen-days with ``forecast < actual`` (children without a planned meal);
- ``*_network``: the same on the daily network totals (``short_days_network`` = days when the
  whole network was short);
- ``meals_saved_vs_agents``: meals ordered by the agents minus meals ordered by the forecast;
  ``waste_avoided_vs_agents``: agents' excess meals minus the forecast's excess meals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models import metrics as m


def common_mask(frame: pd.DataFrame, forecasts: dict[str, pd.Series]) -> pd.Series:
    """Rows where the actual value is above zero and every forecast is present."""
    mask = frame["reel"].notna() & (frame["reel"] > 0)
    for values in forecasts.values():
        mask &= pd.Series(values, index=frame.index).notna()
    return mask


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "mae": float(m.mae(y, p)),
        "mape": float(m.mape(y, p)),
        "over_production_pct": float(m.over_production_pct(y, p)),
        "short_days": int(m.short_days(y, p)),
    }


def score_forecasts(
    frame: pd.DataFrame, forecasts: dict[str, pd.Series], agents: str | None = None
) -> dict[str, dict[str, float]]:
    """Scores of each forecast (see the module docstring), on the common rows.

    ``agents`` names the agents' forecast in ``forecasts`` (for the meals-saved figures).
    """
    mask = common_mask(frame, forecasts)
    rows = frame[mask]
    y = rows["reel"].to_numpy(float)
    totals = rows.groupby("date")["reel"].sum()
    result: dict[str, dict[str, float]] = {}
    agents_values = None
    if agents is not None and agents in forecasts:
        agents_values = pd.Series(forecasts[agents], index=frame.index)[mask].to_numpy(float)
    for name, values in forecasts.items():
        p = pd.Series(values, index=frame.index)[mask].to_numpy(float)
        scores = _scores(y, p)
        net = pd.Series(p, index=rows.index).groupby(rows["date"]).sum()
        net_scores = _scores(totals.to_numpy(float), net.to_numpy(float))
        scores.update({f"{k}_network": v for k, v in net_scores.items()})
        scores["n_rows"] = int(len(y))
        scores["n_days"] = int(len(totals))
        scores["meals_actual"] = float(y.sum())
        scores["meals_ordered"] = float(p.sum())
        if agents_values is not None:
            excess = np.clip(p - y, 0, None).sum()
            agents_excess = np.clip(agents_values - y, 0, None).sum()
            scores["meals_saved_vs_agents"] = float(agents_values.sum() - p.sum())
            scores["waste_avoided_vs_agents"] = float(agents_excess - excess)
        result[name] = scores
    return result


def per_canteen(frame: pd.DataFrame, forecasts: dict[str, pd.Series]) -> pd.DataFrame:
    """One row per canteen and forecast: ``mae, mape, over_production_pct, short_days, n_days``.

    Same definitions as ``models.metrics`` (on the common rows every actual is above zero),
    computed with one grouped aggregation per forecast rather than a loop over canteens.
    """
    mask = common_mask(frame, forecasts)
    rows = frame[mask]
    y = rows["reel"].to_numpy(float)
    series = rows["series"].to_numpy()
    names = rows.drop_duplicates("series").set_index("series")["site_nom"]
    tables = []
    for position, (name, values) in enumerate(forecasts.items()):
        p = pd.Series(values, index=frame.index)[mask].to_numpy(float)
        parts = pd.DataFrame(
            {
                "series": series,
                "abs": np.abs(p - y),
                "rel": np.abs(p - y) / y,
                "excess": np.clip(p - y, 0, None),
                "y": y,
                "short": p < y,
            }
        )
        g = parts.groupby("series", sort=True).agg(
            mae=("abs", "mean"),
            rel=("rel", "mean"),
            excess=("excess", "sum"),
            y=("y", "sum"),
            short_days=("short", "sum"),
            n_days=("y", "size"),
        )
        table = pd.DataFrame(
            {
                "series": g.index,
                "site_nom": names.reindex(g.index).to_numpy(),
                "forecast": name,
                "mae": g["mae"].to_numpy(float),
                "mape": g["rel"].to_numpy(float) * 100,
                "over_production_pct": (g["excess"] / g["y"] * 100).to_numpy(float),
                "short_days": g["short_days"].to_numpy("int64"),
                "n_days": g["n_days"].to_numpy("int64"),
                "_order": position,
            }
        )
        tables.append(table)
    if not tables or not len(rows):
        columns = ["series", "site_nom", "forecast", "mae", "mape"]
        return pd.DataFrame(columns=[*columns, "over_production_pct", "short_days", "n_days"])
    out = pd.concat(tables, ignore_index=True)
    out = out.sort_values(["series", "_order"], kind="stable").drop(columns="_order")
    return out.reset_index(drop=True)


def per_canteen_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean over canteens of each per-canteen score, one row per forecast."""
    cols = ["mae", "mape", "over_production_pct", "short_days"]
    return table.groupby("forecast", sort=False)[cols].mean()


def errors_by_weekday(frame: pd.DataFrame, forecasts: dict[str, pd.Series]) -> pd.DataFrame:
    """Mean absolute error per weekday (rows) and forecast (columns), on the common rows."""
    mask = common_mask(frame, forecasts)
    rows = frame[mask]
    days = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
    weekday = rows["date"].dt.day_of_week.map(dict(enumerate(days)))
    table = pd.DataFrame(
        {
            name: (pd.Series(values, index=frame.index)[mask] - rows["reel"]).abs()
            for name, values in forecasts.items()
        }
    )
    out = table.groupby(weekday).mean()
    return out.reindex([d for d in days if d in out.index])
