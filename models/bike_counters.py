"""Library entry ``bike_counters``: anomaly detection in bike-counter data (Nantes layout).

Entry contract (see ``docs/design.md``): ``load`` / ``validate_file`` read and check a counts
file (Nantes's hourly wide layout or the daily long layout), ``build_reference`` fits the
expected-count model on the committed sample and writes the artifact and the French model
card. The notebook calls ``prepare``, ``quality``, ``run``, ``evaluate``, ``anomalies_table``
and ``metrics`` plus the plots of ``models.bike_counters_plots``.

The pipeline itself lives in small modules: ``bike_counters_io`` (readers),
``bike_counters_expected`` (gradient-boosting expected counts), ``bike_counters_detect``
(rules and robust residual scores), ``bike_counters_run`` (orchestration) and
``bike_counters_eval`` (baselines and metrics).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models import bike_counters_eval as ev
from models.bike_counters_detect import KIND_LABELS, KINDS
from models.bike_counters_io import (
    ALIASES,
    default_paths,
    read_counts_table,
    read_labels,
    read_locations,
    read_weather,
    tidy_counts,
)
from models.bike_counters_run import CountData, Detection, detect, from_tidy
from models.contract import entry_paths, metrics_payload
from models.errors import DataReadError

ENTRY_ID = "bike_counters"
TITLE = "Détection d'anomalies dans les comptages vélo"
PATHS = entry_paths(ENTRY_ID)
SCHEMA = PATHS.schema
SCHEMA_DAILY = PATHS.dataset_dir / "schema_journalier.json"
COMPANIONS = default_paths(PATHS.dataset_dir)
MODEL_NAME = "Comptages attendus (gradient boosting) + règles + résidus robustes"
QUICK_DAYS = 365
QUICK_COUNTERS = 10

__all__ = ["ALIASES", "KINDS", "ENTRY_ID", "TITLE", "SCHEMA", "load", "validate_file"]


# ---------------------------------------------------------------------------------------------
# Reading and validation


def _read(data_path: Any = None, column_map: Mapping[str, str] | None = None):
    source = PATHS.sample if data_path is None else data_path
    return read_counts_table(source, column_map)


def _schema_for(layout: str) -> Path:
    return SCHEMA if layout == "hourly" else SCHEMA_DAILY


def validate_file(path: Any, column_map: Mapping[str, str] | None = None):
    """Validation report of a counts file against the schema of its layout (hourly or daily)."""
    from models.validation import load_schema, validate

    raw, layout = _read(path, column_map)
    return validate(raw, load_schema(_schema_for(layout)))


def load(data_path: Any = None, column_map: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read, validate and tidy a counts file (``None`` = the committed sample).

    Returns one row per counter-hour (hourly layout) or counter-day (daily layout) with the
    columns of ``models.bike_counters_io``; ``frame.attrs["layout"]`` says which. Raises
    ``DataReadError`` / ``DataValidationError`` (French messages) on unusable data.
    """
    return load_with_report(data_path, column_map)[0]


def load_with_report(data_path: Any = None, column_map: Mapping[str, str] | None = None):
    """``(frame, report)``: like ``load`` but also returns the validation report (read once)."""
    from models.validation import load_schema, validate

    raw, layout = _read(data_path, column_map)
    report = validate(raw, load_schema(_schema_for(layout)))
    report.raise_if_errors()
    frame = tidy_counts(raw, layout)
    if frame.empty:
        raise DataReadError("Le fichier ne contient aucune ligne de comptage datée utilisable.")
    frame.attrs = {"layout": layout, "rows_read": len(raw), "source": raw.attrs.get("source")}
    return frame, report


def companions(data_path: Any = None, weather_path: Any = None, labels_path: Any = None):
    """``(weather, events)`` for a run: the sample's files when ``data_path`` is ``None``,
    else the given paths (``None`` = none)."""
    sample = data_path is None
    weather = load_weather(weather_path) if (weather_path or sample) else None
    events = load_labels(labels_path) if (labels_path or sample) else None
    return weather, events


def load_weather(path: Any = None) -> pd.DataFrame | None:
    """Daily weather (``None`` = the sample's ``meteo.csv``; ``False`` = no weather)."""
    if path is False:
        return None
    return read_weather(COMPANIONS["weather"] if path is None else path)


def load_labels(path: Any = None) -> pd.DataFrame:
    """Labelled events (``None`` = the sample's ``labels.csv``)."""
    return read_labels(COMPANIONS["labels"] if path is None else path)


def load_locations(path: Any = None) -> pd.DataFrame:
    """Counter locations (``None`` = the sample's ``lieux.csv``)."""
    return read_locations(COMPANIONS["locations"] if path is None else path)


def prepare(
    frame: pd.DataFrame,
    counters: list[str] | None = None,
    *,
    quick: bool = False,
) -> CountData:
    """Counts ready for detection: one row per counter-day, optional subset of counters.

    ``counters``: ids or names to keep (empty or ``None`` = all). ``quick`` keeps the last
    ``QUICK_DAYS`` days and at most ``QUICK_COUNTERS`` counters.
    """
    data = from_tidy(frame, frame.attrs.get("layout", "hourly"))
    if counters:
        data = data.select(list(counters))
        if data.days.empty:
            raise DataReadError(
                "Aucun des compteurs demandés n'est dans le fichier : "
                + ", ".join(f"« {c} »" for c in counters)
                + "."
            )
    if quick:
        start = data.days["date"].max() - pd.Timedelta(days=QUICK_DAYS - 1)
        ids = sorted(data.days["counter_id"].unique())[:QUICK_COUNTERS]
        data = data.select(ids, start=start)
    return data


def quality(data: CountData):
    """Data-quality report (``models.quality``) of the daily totals per counter."""
    from models.quality import quality_report

    total = np.where(np.isnan(data.values).any(axis=1), np.nan, np.nansum(data.values, axis=1))
    frame = data.days[["counter_id", "date"]].assign(count=total)
    return quality_report(
        frame, date_column="date", value_columns=["count"], series_column="counter_id", freq="D"
    )


def run(
    data: CountData,
    weather: pd.DataFrame | None = None,
    *,
    sensitivity: float = 1.0,
    quick: bool = False,
) -> Detection:
    """Detect anomalies (``sensitivity`` > 1 flags more, < 1 flags less)."""
    if not 0.2 <= float(sensitivity) <= 5.0:
        raise DataReadError(
            f"La sensibilité doit être comprise entre 0,2 et 5 (valeur reçue : {sensitivity})."
        )
    return detect(data, weather, sensitivity=float(sensitivity), quick=quick)


# ---------------------------------------------------------------------------------------------
# Evaluation and outputs


def truth_of(data: CountData, events: pd.DataFrame | None) -> pd.Series | None:
    """Per counter-day truth: labelled events, else the file's ``Anomalie`` column, else None."""
    if events is not None and not events.empty:
        return ev.day_labels(data.days, events)
    if "label" in data.days:
        return pd.Series(np.where(data.days["label"], "anomalie", ev.NORMAL), dtype=object)
    return None


def evaluate(
    data: CountData, detection: Detection, events: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Model and baseline scores (per counter-day), event delays and agreement with the
    published flag when present. Returns ``{"model", "baselines", "delays", "agreement",
    "truth"}``; ``model``/``baselines`` are ``None`` without labels."""
    truth = truth_of(data, events)
    flags = detection.days["flag"].to_numpy()
    result: dict[str, Any] = {"truth": truth, "model": None, "baselines": {}, "delays": None}
    baselines = ev.baseline_flags(data.days, data.values)
    if truth is not None:
        model = ev.detection_scores(truth, flags)
        model["kind_accuracy"] = ev.kind_accuracy(truth, flags, detection.days["kind"])
        result["model"] = model
        result["baselines"] = {name: ev.detection_scores(truth, f) for name, f in baselines.items()}
        if events is not None and detection.hours is not None:
            delays = ev.event_delays(events, detection.hours)
            result["delays"] = delays
            model["events"] = ev.delay_summary(delays)
    else:
        result["baselines"] = {
            name: {"flagged_share": float(np.mean(f))} for name, f in baselines.items()
        }
    if "source_flag" in data.days and (data.days["source_flag"] != "").any():
        forte = (data.days["source_flag"] == "Forte").to_numpy()
        result["agreement"] = {
            "modele": ev.flag_agreement(flags, forte),
            **{name: ev.flag_agreement(f, forte) for name, f in baselines.items()},
        }
    return result


def summary_table(evaluation: dict[str, Any]) -> pd.DataFrame:
    """French comparison table: one row per detector, overall and per-kind F1."""
    rows = {}
    named = {"modele": evaluation.get("model"), **evaluation.get("baselines", {})}
    for name, m in named.items():
        if not m or "f1" not in m:
            continue
        row = {
            "Précision": m["precision"],
            "Rappel": m["recall"],
            "F1": m["f1"],
            "Fausses alertes (% jours normaux)": 100 * m["false_alarm_rate"],
            "Jours signalés (%)": 100 * m["flagged_share"],
        }
        for kind, km in m.get("by_kind", {}).items():
            row[f"F1 {kind}"] = km["f1"]
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index").round(3)
    table.index.name = "Détecteur"
    return table


def kind_table(evaluation: dict[str, Any]) -> pd.DataFrame:
    """French table of the model's precision, recall and F1 by kind (one kind vs normal)."""
    model = evaluation.get("model") or {}
    rows = {
        KIND_LABELS.get(k, k): {
            "Jours étiquetés": v["n"],
            "Précision": v["precision"],
            "Rappel": v["recall"],
            "F1": v["f1"],
        }
        for k, v in model.get("by_kind", {}).items()
    }
    table = pd.DataFrame.from_dict(rows, orient="index").round(3)
    table.index.name = "Type d'anomalie"
    return table


def delay_table(evaluation: dict[str, Any]) -> pd.DataFrame:
    """French table: share of labelled events detected and median delay, per kind."""
    summary = ev.delay_summary(evaluation["delays"]) if evaluation.get("delays") is not None else {}
    rows = {
        KIND_LABELS.get(k, k): {
            "Événements": v["events"],
            "Détectés (%)": 100 * v["detected_share"],
            "Délai médian (heures)": v["median_delay_hours"],
        }
        for k, v in summary.items()
    }
    table = pd.DataFrame.from_dict(rows, orient="index").round(1)
    table.index.name = "Type d'anomalie"
    return table


def agreement_table(evaluation: dict[str, Any]) -> pd.DataFrame:
    """French table: agreement of each detector with the published ``Forte`` flag."""
    rows = {
        name: {
            "Accord (%)": 100 * a["agreement"],
            "Kappa": a["kappa"],
            "Part des « Forte » retrouvés": a["recall"],
            "Part des signalements notés « Forte »": a["precision"],
        }
        for name, a in (evaluation.get("agreement") or {}).items()
    }
    table = pd.DataFrame.from_dict(rows, orient="index").round(3)
    table.index.name = "Détecteur"
    return table


def anomalies_table(detection: Detection) -> pd.DataFrame:
    """Per counter-day output in French: observed, expected, score, flag, kind, corrected."""
    d = detection.days
    out = pd.DataFrame(
        {
            "Numéro de boucle": d["counter_id"],
            "Libellé": d["counter_name"],
            "Jour": pd.to_datetime(d["date"]).dt.strftime("%Y-%m-%d"),
            "Comptage relevé": d["count"],
            "Heures manquantes": d["missing_hours"] if "missing_hours" in d else np.nan,
            "Comptage attendu": d["expected"],
            "Score d'anomalie": d["score"],
            "Anomalie": d["flag"].astype(int),
            "Type d'anomalie": d["kind"],
            "Valeur corrigée": d["corrected"],
        }
    )
    return out


def hourly_anomalies_table(detection: Detection) -> pd.DataFrame:
    """The flagged counter-hours (French columns), with their corrected values."""
    if detection.hours is None:
        return pd.DataFrame()
    h = detection.hours[detection.hours["flag"]]
    return pd.DataFrame(
        {
            "Numéro de boucle": h["counter_id"],
            "Jour": pd.to_datetime(h["date"]).dt.strftime("%Y-%m-%d"),
            "Heure": h["hour"],
            "Comptage relevé": h["count"],
            "Comptage attendu": h["expected"],
            "Score d'anomalie": h["score"],
            "Type d'anomalie": h["kind"],
            "Valeur corrigée": h["corrected"],
        }
    )


def _plain(m: dict[str, Any] | None) -> dict[str, Any]:
    if not m:
        return {}
    return {k: v for k, v in m.items() if k != "truth"}


def metrics(
    data: CountData,
    detection: Detection,
    evaluation: dict[str, Any],
    quality_report: Any,
    parameters: dict[str, Any],
) -> dict[str, Any]:
    """The ``metrics.json`` payload (shape in ``docs/design.md``)."""
    days = detection.days
    model_metrics = _plain(evaluation.get("model")) or {}
    model_metrics = {
        **model_metrics,
        "flagged_share": float(days["flag"].mean()) if len(days) else 0.0,
        "flagged_counter_days": int(days["flag"].sum()),
        "counter_days": int(len(days)),
        "flagged_by_kind": {k: int((days["kind"] == k).sum()) for k in KINDS},
        "layout": detection.layout,
    }
    if evaluation.get("agreement"):
        model_metrics["agreement_with_published_flag"] = evaluation["agreement"]
    baselines = {name: m for name, m in (evaluation.get("baselines") or {}).items()}
    return metrics_payload(
        ENTRY_ID,
        quality=quality_report,
        test_period=(days["date"].min(), days["date"].max()) if len(days) else None,
        model_name=MODEL_NAME,
        model_metrics=model_metrics,
        baselines=baselines,
        parameters=parameters,
    )


# ---------------------------------------------------------------------------------------------
# Reference model


def build_reference(
    quick: bool = False, *, artifact: Path | None = None, card: Path | None = None
) -> dict[str, Any]:
    """Fit on the sample, evaluate against its labels, write the skops artifact and the card.

    Returns ``{"artifact", "card", "metrics"}``.
    """
    from models.bike_counters_reference import build

    return build(quick=quick, artifact=artifact, card=card)


def load_reference(path: Path | None = None) -> dict[str, Any]:
    """Load the reference model state (skops, explicit trusted types)."""
    from models.bike_counters_reference import load_state

    return load_state(path)


def main(argv: list[str] | None = None) -> int:
    """``python -m models.bike_counters build [--quick]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "build":
        print("Usage : python -m models.bike_counters build [--quick]", file=sys.stderr)
        return 2
    result = build_reference(quick="--quick" in args)
    print(f"Modèle : {result['artifact']}\nFiche : {result['card']}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
