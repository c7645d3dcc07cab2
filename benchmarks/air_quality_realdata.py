"""Benchmark of the air_quality entry on the real Airparif files: every station, unseen year.

Reads the two Airparif hourly files shipped in ``datasets/air_quality/`` (NO2 and O3,
Île-de-France, 2017-03-01 → 2020-05-11; the same bytes as ``../shared/realdata``) and, for
each pollutant and target (daily maximum of hourly values, daily mean), scores **every
station measured on at least 75 % of the days** of the training period and of the test
period (``models.air_quality.evaluation.station_scores``): MAE of the model, persistence and
monthly climatology, the model / persistence ratio (goal ≤ 0.85), F1 of threshold days for
the model and persistence. No future information (no weather in these files); every choice
made by backtest on the training period::

    .venv/bin/python benchmarks/air_quality_realdata.py [--quick] [--test 2019-01-01 2019-12-31]

Takes about two minutes on two cores (``--quick``: about 30 s).
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from models.air_quality.evaluation import TARGET_GOAL, realdata_figures


def print_tables(rows: list[dict]) -> None:
    table = pd.DataFrame(rows)
    for (pollutant, target), part in table.groupby(["polluant", "cible"], sort=False):
        part = part.dropna(axis=1, how="all")
        f1 = [c for c in part.columns if c.startswith(("f1_", "jours_sup_"))]
        print(
            f"\n== {pollutant} — {target} ({part['mesure'].iloc[0]}), test {part['test'].iloc[0]},"
            f" réglage choisi : {part['reglage'].iloc[0]}"
        )
        shown = part[
            [
                "station",
                "jours",
                "mae_modele",
                "mae_persistance",
                "mae_climatologie",
                "ratio_persistance",
                *f1,
            ]
        ]
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        ratio = part["ratio_persistance"]
        worst = part.loc[ratio.idxmax(), "station"]
        print(
            f"-- {len(part)} stations : ratio moyen {ratio.mean():.3f}, médian "
            f"{ratio.median():.3f}, pire {ratio.max():.3f} ({worst}) ; ratio ≤ {TARGET_GOAL} "
            f"à {int((ratio <= TARGET_GOAL).sum())} stations sur {len(part)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="modèles rapides (sans sélection)")
    parser.add_argument("--test", nargs=2, metavar=("DEBUT", "FIN"), help="période de test")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = realdata_figures(test_period=args.test, quick=args.quick)
    print_tables(rows)
    print(f"\ndurée : {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
