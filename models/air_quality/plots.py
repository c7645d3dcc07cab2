"""Figures of the ``air_quality`` notebook (French labels): series with thresholds, forecast
against observed values, reliability of the threshold probabilities."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .evaluation import reliability
from .model import ALERT_THRESHOLDS

UNIT = "µg/m³"


def plot_series(daily: pd.DataFrame, station: str, column: str, threshold: float, pollutant: str):
    """Daily series of ``column`` at ``station`` with the information (and alert) thresholds."""
    rows = daily[daily["station"] == station].set_index("date")[column]
    fig, ax = plt.subplots(figsize=(11, 3.6))
    ax.plot(rows.index, rows.to_numpy(), lw=0.7, color="#3b6ea8", label=f"{column} ({UNIT})")
    ax.axhline(threshold, color="#d9822b", ls="--", lw=1.2, label=f"Seuil retenu : {threshold:g}")
    alert = ALERT_THRESHOLDS.get(pollutant)
    if alert and rows.max() > 0.6 * alert:
        ax.axhline(alert, color="#c0392b", ls=":", lw=1.2, label=f"Seuil d'alerte : {alert:g}")
    over = rows[rows > threshold]
    ax.scatter(
        over.index,
        over.to_numpy(),
        s=10,
        color="#c0392b",
        zorder=3,
        label=f"Jours au-dessus du seuil ({len(over)})",
    )
    ax.set_title(f"{column} à la station « {station} »")
    ax.set_ylabel(UNIT)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def plot_forecast(table: pd.DataFrame, threshold: float):
    """Observed values of D+1 against the model and persistence over the test period."""
    t = table.set_index("date_prevue")
    fig, ax = plt.subplots(figsize=(11, 3.6))
    ax.plot(t.index, t["observe"], color="black", lw=0.9, label="Observé")
    ax.plot(t.index, t["prevision"], color="#2e86c1", lw=0.9, label="Modèle (prévision la veille)")
    ax.plot(
        t.index,
        t["persistance"],
        color="#aaaaaa",
        lw=0.7,
        ls="--",
        label="Persistance (demain = aujourd'hui)",
    )
    ax.axhline(threshold, color="#d9822b", ls="--", lw=1.0, label=f"Seuil : {threshold:g}")
    alerts = t[t["alerte"].astype(bool)]
    ax.scatter(
        alerts.index,
        alerts["prevision"],
        marker="^",
        color="#c0392b",
        s=18,
        zorder=3,
        label=f"Alertes du modèle ({len(alerts)})",
    )
    ax.set_ylabel(UNIT)
    ax.set_title("Prévision du lendemain sur la période de test")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def plot_reliability(table: pd.DataFrame, bins: int = 5):
    """Reliability diagram: forecast probability of crossing the threshold vs frequency."""
    rel = reliability(table, bins=bins)
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.plot([0, 1], [0, 1], color="#aaaaaa", ls="--", lw=1, label="Fiabilité parfaite")
    ax.plot(
        rel["probabilite_moyenne"],
        rel["frequence_observee"],
        marker="o",
        color="#2e86c1",
        label="Modèle",
    )
    for _, row in rel.iterrows():
        if np.isfinite(row["probabilite_moyenne"]) and np.isfinite(row["frequence_observee"]):
            ax.annotate(
                f"{int(row['jours'])} j",
                (row["probabilite_moyenne"], row["frequence_observee"]),
                fontsize=7,
                xytext=(4, -10),
                textcoords="offset points",
            )
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("Probabilité prévue de dépasser le seuil")
    ax.set_ylabel("Fréquence observée des dépassements")
    ax.set_title("Fiabilité des probabilités")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig
