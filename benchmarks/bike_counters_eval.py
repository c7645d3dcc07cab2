"""Figures of the bike_counters entry: scores by anomaly kind and agreement with Nantes's flag.

Usage: ``.venv/bin/python benchmarks/bike_counters_eval.py [--real PATH] [--sensitivity S]``.
Prints, for the generated sample (labels.csv), precision / recall / F1 per counter-day by
anomaly kind for the model and each baseline, the false-alarm rate on normal counter-days and
the share of counter-days flagged; then, on Nantes's real hourly file when present (default
``../shared/realdata/bike_counters/...2020_2021.csv``), the agreement of each detector with
the published ``Forte`` flag and the share of counter-days flagged.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from models import bike_counters as bc

REAL = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "realdata"
    / "bike_counters"
    / "Comptages_nantes_metropole_2020_2021.csv"
)


def _kind_rows(name: str, m: dict) -> list[dict]:
    rows = [
        {
            "détecteur": name,
            "type": "TOUS",
            "n": m["n_anomalous"],
            "précision": m["precision"],
            "rappel": m["recall"],
            "F1": m["f1"],
        }
    ]
    for kind, km in m["by_kind"].items():
        rows.append(
            {
                "détecteur": name,
                "type": kind,
                "n": km["n"],
                "précision": km["precision"],
                "rappel": km["recall"],
                "F1": km["f1"],
            }
        )
    return rows


def sample_figures(sensitivity: float) -> None:
    start = time.perf_counter()
    data = bc.prepare(bc.load())
    weather, events = bc.companions()
    detection = bc.run(data, weather, sensitivity=sensitivity)
    evaluation = bc.evaluate(data, detection, events)
    seconds = time.perf_counter() - start
    rows = _kind_rows("modele", evaluation["model"])
    for name, m in evaluation["baselines"].items():
        rows += _kind_rows(name, m)
    table = pd.DataFrame(rows).set_index(["détecteur", "type"]).round(3)
    print(f"== Échantillon généré ({len(data.days)} jours compteur, {seconds:.1f} s) ==")
    print(table.to_string())
    print()
    print(
        bc.summary_table(evaluation)[
            ["Fausses alertes (% jours normaux)", "Jours signalés (%)"]
        ].to_string()
    )
    print()
    print(bc.delay_table(evaluation).to_string())
    print(
        f"précision du type d'anomalie (détections justes) : "
        f"{evaluation['model']['kind_accuracy']:.3f}"
    )


def real_figures(path: Path, sensitivity: float) -> None:
    if not path.exists():
        print(f"\n(fichier réel absent : {path})")
        return
    start = time.perf_counter()
    data = bc.prepare(bc.load(path))
    detection = bc.run(data, None, sensitivity=sensitivity)
    evaluation = bc.evaluate(data, detection, None)
    seconds = time.perf_counter() - start
    days = detection.days
    values = data.values
    whole_zero = (np.nansum(values, axis=1) == 0) & np.isfinite(values).all(axis=1)
    print(f"\n== Fichier réel {path.name} ({len(days)} jours compteur, {seconds:.1f} s) ==")
    print(bc.agreement_table(evaluation).to_string())
    print(f"jours compteur signalés par le modèle : {100 * days['flag'].mean():.1f} %")
    for name, m in evaluation["baselines"].items():
        print(f"jours compteur signalés par {name} : {100 * m['flagged_share']:.1f} %")
    print(f"jours « Forte » publiés : {100 * (days['source_flag'] == 'Forte').mean():.1f} %")
    print(
        f"journées entières à zéro : {whole_zero.sum()}, trouvées : "
        f"{int((days['flag'].to_numpy() & whole_zero).sum())}"
    )
    print(days.loc[days["flag"], "kind"].value_counts().to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=REAL)
    parser.add_argument("--sensitivity", type=float, default=1.0)
    args = parser.parse_args()
    sample_figures(args.sensitivity)
    real_figures(args.real, args.sensitivity)


if __name__ == "__main__":
    main()
