"""Benchmark of the air_quality entry: model vs persistence vs monthly climatology.

On the committed (generated) sample and, when present, on the Airparif hourly files of
``../shared/realdata/air_quality/`` (NO2 and O3, daily maximum of hourly values, 75 %
completeness rule), test year 2019, no future information (``use_weather_forecast=False``)::

    .venv/bin/python benchmarks/air_quality_realdata.py [--quick]

Prints one line per station, pollutant and threshold: MAE and F1 of threshold days for the
model, persistence and climatology, the MAE gain over persistence and the number of
threshold days in the test year.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import models.air_quality as aq
from models.air_quality_io import read_air_quality

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata" / "air_quality"
CASES_SAMPLE = [
    (s, "PM10", 50.0) for s in ("Lille Fives", "Roubaix Serres", "Armentières", "Lille Leeds")
]
CASES_SAMPLE += [
    ("Armentières", "O3", 180.0),
    ("Armentières", "O3", 130.0),
    ("Lille Leeds", "NO2", 200.0),
    ("Lille Leeds", "NO2", 120.0),
]
NO2_STATIONS = ("AUT", "RN20", "A1", "BP_EST")
O3_STATIONS = ("RUR-NO", "CERGY", "LOGNES", "CHAMP")


def line(name: str, result: aq.Result) -> str:
    s = result.scores
    cells = [f"{name:8s} {result.station:15s} {result.target:8s} seuil {result.threshold:>5g}"]
    for key, label in (
        ("modele", "modèle"),
        ("persistance", "persist."),
        ("climatologie_mensuelle", "climato."),
    ):
        cells.append(f"{label} MAE {s[key]['mae']:6.2f} F1 {s[key]['f1']:.2f}")
    cells.append(f"gain MAE {aq.gain_over_persistence(result):+.1%}")
    cells.append(f"jours>seuil {s['modele']['threshold_days']}")
    return " | ".join(cells)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    start = time.perf_counter()
    sample = aq.load()
    for station, pollutant, thr in CASES_SAMPLE:
        print(
            line("sample", aq.run(sample, station, pollutant, threshold=thr, quick=quick)),
            flush=True,
        )
    if not REAL.is_dir():
        print(f"(fichiers Airparif absents : {REAL})")
        return 0
    for pollutant, stations, thresholds in (
        ("NO2", NO2_STATIONS, (200.0, 120.0)),
        ("O3", O3_STATIONS, (180.0, 130.0)),
    ):
        path = next(REAL.glob(f"*-{pollutant}_auto.csv"))
        daily = read_air_quality(path)
        for station in stations:
            for thr in thresholds:
                result = aq.run(daily, station, pollutant, threshold=thr, quick=quick)
                print(line("airparif", result), flush=True)
    print(f"durée : {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
