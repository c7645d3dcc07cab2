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
    median forecast to the forecast with its safety margin.
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
                        alpha=0.25, label="Bande médiane – marge de sécurité")  # fmt: skip
    ax.plot(upper.index, upper.to_numpy(), color="tab:blue", lw=1.2, label="Prévision (avec marge)")
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


def tradeoff(table: pd.DataFrame, agents: dict | None = None, days_per_month: float | None = None):
    """Over-production % against short days per month, one point per safety level.

    ``table``: ``evaluation.safety_tradeoff`` — the backtests of the training period (where
    the level is set) and, when present, the test period; the retained level is circled.
    ``agents``: scores of the agents' forecast on the test period (``coverage_pct``,
    ``over_production_pct``), drawn with ``days_per_month`` (the safety level's).
    """
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(table["manques_par_mois_essais"], table["surproduction_essais_pct"], marker="o",
            label="Essais sur l'apprentissage (choix)")  # fmt: skip
    for _, row in table.iterrows():
        ax.annotate(f"{row['jours_de_manque_par_mois']:g}", (row["manques_par_mois_essais"],
                    row["surproduction_essais_pct"]), textcoords="offset points", xytext=(4, 4),
                    fontsize=8)  # fmt: skip
    if "manques_par_mois_test" in table.columns:
        ax.plot(table["manques_par_mois_test"], table["surproduction_test_pct"], marker=".",
                ls="--", color="tab:green", label="Période de test (pour information)")  # fmt: skip
    chosen = table[table["retenu"]]
    if len(chosen):
        row = chosen.iloc[0]
        ax.scatter([row["manques_par_mois_essais"]], [row["surproduction_essais_pct"]], s=140,
                   facecolors="none", edgecolors="tab:blue", label="Niveau retenu")  # fmt: skip
    if agents is not None and days_per_month:
        short = (100 - agents["coverage_pct"]) / 100 * days_per_month
        ax.scatter([short], [agents["over_production_pct"]], color="tab:orange", marker="s",
                   label="Prévision des agents (test)")  # fmt: skip
    ax.set_xlabel("Jours de manque par mois (mesurés)")
    ax.set_ylabel("Surproduction (%)")
    ax.set_title("Surproduction et jours de manque selon le niveau de sécurité")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
