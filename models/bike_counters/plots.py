"""Plots of the ``bike_counters`` entry (matplotlib, French labels)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .features import runs
from .model import KINDS

KIND_COLOURS = dict(
    zip(KINDS, ["#d62728", "#ff7f0e", "#9467bd", "#1f77b4", "#8c564b", "#e377c2"], strict=True)
)


def plot_series(detection, counter: str | None = None, ax=None):
    """Daily counts of one counter with the expected count; flagged days shaded by kind."""
    days = detection.days
    if counter is None:
        counter = days.groupby("counter_id")["flag"].sum().idxmax()
    d = days[(days["counter_id"] == counter) | (days["counter_name"] == counter)]
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 3.8))
    dates = pd.to_datetime(d["date"]).to_numpy()
    ax.plot(dates, d["count"], color="black", lw=0.8, label="comptage relevé")
    ax.plot(dates, d["expected"], color="tab:green", lw=0.8, alpha=0.8, label="comptage attendu")
    flags = d["flag"].to_numpy()
    kinds = d["kind"].to_numpy()
    seen = set()
    for a, b in runs(flags):
        kind = pd.Series(kinds[a:b]).mode().iloc[0]
        label = kind if kind not in seen else None
        seen.add(kind)
        ax.axvspan(
            dates[a],
            dates[b - 1] + np.timedelta64(1, "D"),
            color=KIND_COLOURS.get(kind, "grey"),
            alpha=0.3,
            label=label,
            lw=0,
        )
    name = d["counter_name"].iloc[0] if len(d) else counter
    ax.set_title(f"Boucle {d['counter_id'].iloc[0] if len(d) else counter} — {name}")
    ax.set_ylabel("passages par jour")
    ax.legend(loc="upper left", fontsize=8, ncol=4)
    return ax


def plot_heatmap(detection, ax=None):
    """Counter × day heat map of the anomaly kind (white = normal)."""
    days = detection.days
    code = {k: i + 1 for i, k in enumerate(KINDS)}
    table = (
        days.assign(code=days["kind"].map(code).fillna(0))
        .pivot_table(index="counter_id", columns="date", values="code", aggfunc="max")
        .fillna(0)
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 0.3 * len(table) + 1.5))
    colours = ["#ffffff", *[KIND_COLOURS[k] for k in KINDS]]
    cmap = plt.matplotlib.colors.ListedColormap(colours)
    ax.imshow(
        table.to_numpy(),
        aspect="auto",
        interpolation="nearest",
        cmap=cmap,
        vmin=-0.5,
        vmax=len(KINDS) + 0.5,
    )
    ax.set_yticks(range(len(table)), table.index)
    cols = pd.to_datetime(table.columns)
    step = max(1, len(cols) // 12)
    ax.set_xticks(
        range(0, len(cols), step),
        [c.strftime("%Y-%m") for c in cols[::step]],
        rotation=45,
        fontsize=8,
    )
    handles = [plt.matplotlib.patches.Patch(color=KIND_COLOURS[k], label=k) for k in KINDS]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=6, fontsize=8)
    ax.set_title("Jours signalés par compteur (couleur = type d'anomalie)")
    return ax


def plot_map(detection, locations: pd.DataFrame, ax=None):
    """Counters at their place (longitude, latitude), coloured by their share of flagged days."""
    share = detection.days.groupby("counter_id")["flag"].mean()
    places = locations.dropna(subset=["lat", "lon"]).drop_duplicates("counter_id")
    places = places[places["counter_id"].isin(share.index)]
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 5.5))
    if places.empty:
        ax.set_title("Aucun compteur du fichier n'a d'emplacement connu")
        return ax
    points = ax.scatter(
        places["lon"],
        places["lat"],
        c=100 * share.reindex(places["counter_id"]).to_numpy(),
        cmap="viridis_r",
        s=40,
        edgecolors="black",
        linewidths=0.3,
    )
    plt.colorbar(points, ax=ax, label="jours signalés (%)")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_aspect(1 / np.cos(np.radians(places["lat"].mean())))
    ax.set_title(f"Emplacements de {len(places)} compteurs")
    return ax
