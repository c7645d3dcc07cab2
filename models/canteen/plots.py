"""Figures of the ``canteen_attendance`` notebook (matplotlib, French labels)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd


def history_and_band(
    data: pd.DataFrame,
    test: pd.DataFrame,
    high: pd.Series,
    median: pd.Series | None = None,
    agents: pd.Series | None = None,
    *,
    series: str | None = None,
    history_days: int = 120,
):
    """Actual meals before and during the test period with the forecast band.

    ``series`` picks one canteen; ``None`` plots the network total. The band runs from the
    median forecast to the high quantile forecast.
    """
    if series is not None:
        data, test = data[data["series"] == series], test[test["series"] == series]
    start = test["date"].min() - pd.Timedelta(days=history_days)
    past = data[(data["date"] >= start) & (data["date"] < test["date"].min())]
    actual_past = past.groupby("date")["reel"].sum(min_count=1)
    actual = test.groupby("date")["reel"].sum(min_count=1)

    def total(values: pd.Series) -> pd.Series:
        return pd.Series(values, index=test.index).loc[test.index].groupby(test["date"]).sum()

    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(actual_past.index, actual_past.to_numpy(), color="0.5", lw=1, label="Historique")
    ax.plot(actual.index, actual.to_numpy(), color="black", lw=1.2, label="Réel (test)")
    upper = total(high)
    if median is not None:
        lower = total(median)
        ax.fill_between(upper.index, lower.to_numpy(), upper.to_numpy(), color="tab:blue",
                        alpha=0.25, label="Bande médiane – quantile haut")  # fmt: skip
    ax.plot(upper.index, upper.to_numpy(), color="tab:blue", lw=1.2, label="Prévision (quantile)")
    if agents is not None:
        ax.plot(upper.index, total(agents).to_numpy(), color="tab:orange", lw=1, ls="--",
                label="Prévision des agents")  # fmt: skip
    ax.set_title("Repas servis : " + ("ensemble du réseau" if series is None else series))
    ax.set_ylabel("Repas par jour")
    ax.legend(loc="lower left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def errors_by_weekday(table: pd.DataFrame, labels: dict[str, str] | None = None):
    """Bar chart of the mean absolute error per weekday and forecast."""
    shown = table.rename(columns=labels or {})
    fig, ax = plt.subplots(figsize=(8, 3.5))
    shown.plot.bar(ax=ax, rot=0)
    ax.set_ylabel("Erreur absolue moyenne (repas)")
    ax.set_xlabel("")
    ax.set_title("Erreurs par jour de la semaine")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def tradeoff(
    table: pd.DataFrame,
    agents: dict | None = None,
    chosen: float | None = None,
    model: dict | None = None,
):
    """Over-production % against short days as the level moves.

    ``table``: ``quantile_tradeoff`` (median forecast + calibrated margin per level);
    ``chosen`` circles the chosen level; ``model`` and ``agents``: scores of the quantile
    model itself and of the agents' forecast, drawn as single points.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    margins = "marge_pct" in table.columns and table["marge_pct"].notna().any()
    label = "Médiane + marge calibrée" if margins else "Modèles quantiles"
    ax.plot(table["short_days"], table["over_production_pct"], marker="o", label=label)
    for _, row in table.iterrows():
        ax.annotate(f"q={row['quantile']:g}", (row["short_days"], row["over_production_pct"]),
                    textcoords="offset points", xytext=(4, 4), fontsize=8)  # fmt: skip
    if chosen is not None and (table["quantile"] == chosen).any():
        row = table[table["quantile"] == chosen].iloc[0]
        ax.scatter([row["short_days"]], [row["over_production_pct"]], s=120, facecolors="none",
                   edgecolors="tab:blue", label="Niveau retenu")  # fmt: skip
    if model is not None:
        ax.scatter([model["short_days"]], [model["over_production_pct"]], color="tab:green",
                   marker="D", s=50, label="Modèle quantile retenu")  # fmt: skip
    if agents is not None:
        ax.scatter([agents["short_days"]], [agents["over_production_pct"]], color="tab:orange",
                   marker="s", label="Prévision des agents")  # fmt: skip
    ax.set_xlabel("Jours de manque (cantine-jours)")
    ax.set_ylabel("Surproduction (%)")
    ax.set_title("Surproduction et jours de manque selon le quantile")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
