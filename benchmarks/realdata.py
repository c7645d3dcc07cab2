"""Every entry on every real file, judged on a period its model never saw: one table, JSON too.

Usage::

    .venv/bin/python benchmarks/realdata.py [--json] [--only canteen_attendance ...]

Reads the real open data shipped in ``datasets/<entry_id>/`` (the same bytes as
``../shared/realdata``, see each datasheet) and prints, per entry:

- ``canteen_attendance``: trained before 2018-09-01 and before 2017-09-01, judged on the four
  following months, per canteen and for the city-wide series: MAE, over-production %, short
  days of the model and of each baseline, nominal and empirical coverage, and the figures the
  entry must reach;
- ``bike_counters``: trained on 2020, anomalies of each kind injected into real counter-days of
  2021-01-01 → 2021-05-30 (fixed seeds): recall per kind, false alarms on normal days (and how
  many of them lie in long runs of flagged days: weeks-long real faults nobody flagged), the
  spike recall by the counter's daily volume (counting noise), and the same detectors at
  other sensitivities (the recall / false-alarm trade-off);
- ``air_quality``: every Airparif station with enough data, test year never used for a choice:
  MAE of the model, persistence and climatology, the model/persistence ratio, F1.

Every choice of every model is made inside its training period (see each entry's model
module); nothing here tunes anything. Takes a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from models.contract import to_jsonable

CANTEEN_CUTOFFS = ("2018-09-01", "2017-09-01")
BIKE_SEEDS = (0, 1, 2)
VOLUME_BANDS = (0, 150, 300, 600, float("inf"))
"""Bands of a counter's median daily count for the spike recall by volume (counting noise)."""
BIKE_SENSITIVITIES = (0.25, 0.5, 0.75, 1.5)
"""Other sensitivities the same detectors are judged at (thresholds divided by them): the
recall / false-alarm trade-off, every threshold still chosen on 2020."""


def canteen() -> dict[str, Any]:
    import models.canteen_attendance.evaluation as ev

    return {"runs": [ev.realdata_figures(None, cutoff) for cutoff in CANTEEN_CUTOFFS]}


def spikes_by_volume(result: dict[str, Any]) -> dict[str, list[int]]:
    """Judged spike days found and injected, by the counter's median daily count."""
    days = result["detection"].days
    judged = result["judged"]
    volume = days[judged].groupby("counter_id")["count"].median()
    out = {}
    for low, high in zip(VOLUME_BANDS, VOLUME_BANDS[1:], strict=False):
        band = days["counter_id"].map(volume).between(low, high, inclusive="left").to_numpy()
        rows = judged & band & (result["truth"] == "pic")
        label = f"{low:g}+" if high == float("inf") else f"{low:g}-{high:g}"
        out[label] = [int(days["flag"].to_numpy()[rows].sum()), int(rows.sum())]
    return out


def bike() -> dict[str, Any]:
    from models.bike_counters.data import load, prepare, real_data_path
    from models.bike_counters.evaluation import injection_protocol

    data = prepare(load(real_data_path()))
    runs = []
    for seed in BIKE_SEEDS:
        result = injection_protocol(data, seed=seed)
        run = {
            "seed": seed,
            "recall": {k: v["recall"] for k, v in result["recall"].items()},
            "false_alarm_rate": result["false_alarm_rate"],
            "false_alarm_episodes": result["false_alarm_episodes"],
            "normal_days": result["normal_days"],
            "spikes_by_volume": spikes_by_volume(result),
            "sensitivities": {},
        }
        for sensitivity in BIKE_SENSITIVITIES:
            other = injection_protocol(
                data, seed=seed, detector=result["detector"], sensitivity=sensitivity
            )
            run["sensitivities"][sensitivity] = {
                "recall": {k: v["recall"] for k, v in other["recall"].items()},
                "false_alarm_rate": other["false_alarm_rate"],
            }
        runs.append(run)
    kinds = runs[0]["recall"]
    mean = {k: sum(r["recall"][k] for r in runs) / len(runs) for k in kinds}
    fa = sum(r["false_alarm_rate"] for r in runs) / len(runs)
    episodes = {
        k: sum(r["false_alarm_episodes"][k] for r in runs) / len(runs)
        for k in runs[0]["false_alarm_episodes"]
    }
    frontier = {
        s: {
            "recall": {
                k: sum(r["sensitivities"][s]["recall"][k] for r in runs) / len(runs) for k in kinds
            },
            "false_alarm_rate": sum(r["sensitivities"][s]["false_alarm_rate"] for r in runs)
            / len(runs),
        }
        for s in BIKE_SENSITIVITIES
    }
    by_volume = {
        band: [sum(r["spikes_by_volume"][band][i] for r in runs) for i in (0, 1)]
        for band in runs[0]["spikes_by_volume"]
    }
    return {
        "runs": runs,
        "spikes_by_volume": by_volume,
        "mean_recall": mean,
        "mean_false_alarm_rate": fa,
        "mean_false_alarm_episodes": episodes,
        "frontier": frontier,
    }


def air() -> dict[str, Any]:
    import models.air_quality.evaluation as ev

    return {"stations": ev.realdata_figures()}


ENTRIES = {"canteen_attendance": canteen, "bike_counters": bike, "air_quality": air}


def print_table(results: dict[str, Any]) -> None:
    if "canteen_attendance" in results:
        print("== canteen_attendance (jugé sur 4 mois jamais vus)")
        print(
            f"{'coupure':10s} {'vue':12s} {'prévision':22s} {'MAE':>8s} {'surprod %':>9s}"
            f" {'manques':>8s}"
        )
        for run in results["canteen_attendance"]["runs"]:
            for view in ("per_canteen", "network"):
                figures = run[view]
                for name, s in figures["forecasts"].items():
                    print(
                        f"{run['cutoff']:10s} {view:12s} {name:22s} {s['mae']:8.2f}"
                        f" {s['over_production_pct']:9.2f} {s['short_days']:8.0f}"
                    )
                print(
                    f"{'':23s} couverture visée {figures['nominal_coverage_pct']:.1f} %, mesurée "
                    f"{figures['empirical_coverage_pct']:.1f} % ; manques permis "
                    f"{figures.get('allowed_short_days', float('nan')):.1f} ; "
                    f"objectifs : {figures['checks']}"
                )
    if "bike_counters" in results:
        b = results["bike_counters"]
        print(
            "== bike_counters (entraîné sur 2020, anomalies injectées en 2021, "
            f"graines {list(BIKE_SEEDS)})"
        )
        for kind, recall in b["mean_recall"].items():
            print(f"  rappel {kind:14s} {recall:.3f}")
        print(f"  fausses alertes (jours normaux) {b['mean_false_alarm_rate']:.2%}")
        e = b["mean_false_alarm_episodes"]
        print(
            f"    dont {e['long']:.2%} dans des épisodes d'au moins 5 jours signalés d'affilée, "
            f"{e['medium']:.2%} de 3-4 jours, {e['short']:.2%} isolés (1-2 jours)"
        )
        print(
            "  rappel des pics selon le comptage journalier médian du compteur : "
            + ", ".join(
                f"{band} : {found / max(n, 1):.2f} ({n} jours)"
                for band, (found, n) in b["spikes_by_volume"].items()
            )
        )
        kinds = list(b["mean_recall"])
        print("  compromis selon la sensibilité (seuils choisis sur 2020, divisés par elle) :")
        print(
            "  "
            + f"{'sensibilité':>11s} "
            + " ".join(f"{k[:9]:>9s}" for k in kinds)
            + "  f. alertes"
        )
        rows = {1.0: {"recall": b["mean_recall"], "false_alarm_rate": b["mean_false_alarm_rate"]}}
        rows.update({float(s): v for s, v in b.get("frontier", {}).items()})
        for s in sorted(rows):
            r = rows[s]
            print(
                f"  {s:11.2f} "
                + " ".join(f"{r['recall'][k]:9.3f}" for k in kinds)
                + f"  {r['false_alarm_rate']:9.2%}"
            )
    if "air_quality" in results:
        print("== air_quality (Airparif, année de test jamais utilisée pour un choix)")
        for row in results["air_quality"]["stations"]:
            print("  " + "  ".join(f"{k}={v}" for k, v in row.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--only", action="append", choices=sorted(ENTRIES))
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    for entry_id in args.only or ENTRIES:
        start = time.perf_counter()
        results[entry_id] = ENTRIES[entry_id]()
        results[entry_id]["seconds"] = round(time.perf_counter() - start, 1)
    results = to_jsonable(results)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
