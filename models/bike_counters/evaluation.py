"""Evaluation of bike-counter anomaly detection against labels; ``metrics.json`` and outputs.

Labels are events (counter, start, end excluded, kind) at hour resolution. A counter-day is
*anomalous* when an event with missing values touches it, or when another event covers at least
``MIN_DAYTIME_HOURS`` hours of it between 06h and 22h. A day touched by an event less than that
(a few night hours at the edge of an event) is left out of the evaluation (``IGNORE``): it is
neither clearly normal nor clearly anomalous. Metrics per kind compare the units of that kind
with the normal units only ("one kind against normal"): every false alarm counts against every kind.

``evaluate`` scores the model and the baselines (``baselines``) per counter-day, the delays of
detection of the labelled events and the agreement with the published anomaly flag; the
French tables, the ``metrics.json`` document and the output tables follow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from models import contract
from models.errors import DataReadError
from models.metrics import threshold_scores

from . import baselines as bl
from .data import ENTRY_ID, IGNORE, NORMAL, CountData, day_labels
from .features import runs
from .model import KEY_KINDS, KIND_LABELS, KINDS, Detection

MODEL_NAME = "Comptages attendus (compteurs voisins + gradient boosting) + seuils rétro-testés"


def detection_scores(truth: pd.Series, flag: pd.Series) -> dict[str, object]:
    """Overall and per-kind precision, recall, F1; false-alarm rate on normal units."""
    truth = pd.Series(np.asarray(truth, dtype=object))
    flag = pd.Series(np.asarray(flag, dtype=bool))
    keep = truth != IGNORE
    truth, flag = truth[keep].reset_index(drop=True), flag[keep].reset_index(drop=True)
    anomalous = truth != NORMAL
    overall = threshold_scores(anomalous, flag)
    normal = ~anomalous
    result: dict[str, object] = {
        "precision": overall["precision"],
        "recall": overall["recall"],
        "f1": overall["f1"],
        "false_alarm_rate": float(flag[normal].mean()) if normal.any() else 0.0,
        "flagged_share": float(flag.mean()) if len(flag) else 0.0,
        "n_units": int(len(flag)),
        "n_anomalous": int(anomalous.sum()),
    }
    by_kind = {}
    for kind in KINDS:
        rows = (truth == kind) | normal
        if not (truth == kind).any():
            continue
        s = threshold_scores((truth == kind)[rows], flag[rows])
        by_kind[kind] = {
            "precision": s["precision"],
            "recall": s["recall"],
            "f1": s["f1"],
            "n": int((truth == kind).sum()),
        }
    result["by_kind"] = by_kind
    return result


def kind_accuracy(truth: pd.Series, flag: pd.Series, predicted_kind: pd.Series) -> float:
    """Share of detected anomalous units whose predicted kind equals the labelled kind."""
    truth = np.asarray(truth, dtype=object)
    hit = np.asarray(flag, dtype=bool) & (truth != NORMAL) & (truth != IGNORE)
    if not hit.any():
        return float("nan")
    return float(np.mean(np.asarray(predicted_kind, dtype=object)[hit] == truth[hit]))


def event_delays(events: pd.DataFrame, hours: pd.DataFrame) -> pd.DataFrame:
    """Per event: detected (any flagged hour inside it) and delay in hours to the first flag."""
    if events is None or events.empty or hours is None:
        return pd.DataFrame(columns=["counter_id", "kind", "detected", "delay_hours"])
    ts = pd.to_datetime(hours["date"]) + pd.to_timedelta(hours["hour"], unit="h")
    flagged = hours.assign(ts=ts.to_numpy())[hours["flag"].to_numpy()]
    by_counter = {c: g["ts"].sort_values().to_numpy() for c, g in flagged.groupby("counter_id")}
    rows = []
    for ev in events.itertuples(index=False):
        times = by_counter.get(ev.counter_id, np.array([], dtype="datetime64[ns]"))
        inside = times[(times >= np.datetime64(ev.start)) & (times < np.datetime64(ev.end))]
        delay = (
            (inside[0] - np.datetime64(ev.start)) / np.timedelta64(1, "h")
            if len(inside)
            else np.nan
        )
        rows.append(
            {
                "counter_id": ev.counter_id,
                "kind": ev.kind,
                "start": ev.start,
                "detected": bool(len(inside)),
                "delay_hours": delay,
            }
        )
    return pd.DataFrame(rows)


def delay_summary(delays: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Share of events detected and median delay (hours), per kind and overall."""
    out = {}
    if delays.empty:
        return out
    for kind, grp in [("toutes", delays), *delays.groupby("kind")]:
        out[str(kind)] = {
            "events": int(len(grp)),
            "detected_share": float(grp["detected"].mean()),
            "median_delay_hours": float(grp["delay_hours"].median())
            if grp["detected"].any()
            else float("nan"),
        }
    return out


def flag_agreement(flag: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Agreement between two boolean flag series: share equal, Cohen's kappa, P/R/F1."""
    a = np.asarray(flag, dtype=bool)
    b = np.asarray(reference, dtype=bool)
    if len(a) == 0:
        return {}
    po = float(np.mean(a == b))
    pa, pb = a.mean(), b.mean()
    pe = pa * pb + (1 - pa) * (1 - pb)
    s = threshold_scores(b, a)
    return {
        "agreement": po,
        "kappa": float((po - pe) / (1 - pe)) if pe < 1 else 1.0,
        "precision": s["precision"],
        "recall": s["recall"],
        "f1": s["f1"],
        "n": int(len(a)),
    }


def truth_of(data: CountData, events: pd.DataFrame | None) -> pd.Series | None:
    """Per counter-day truth: labelled events, else the file's ``Anomalie`` column, else None."""
    if events is not None and not events.empty:
        return day_labels(data.days, events)
    if "label" in data.days:
        return pd.Series(np.where(data.days["label"], "anomalie", NORMAL), dtype=object)
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
    baselines = bl.baseline_flags(data.days, data.values)
    if truth is not None:
        model = detection_scores(truth, flags)
        model["kind_accuracy"] = kind_accuracy(truth, flags, detection.days["kind"])
        result["model"] = model
        result["baselines"] = {name: detection_scores(truth, f) for name, f in baselines.items()}
        if events is not None and detection.hours is not None:
            delays = event_delays(events, detection.hours)
            result["delays"] = delays
            model["events"] = delay_summary(delays)
    else:
        result["baselines"] = {
            name: {"flagged_share": float(np.mean(f))} for name, f in baselines.items()
        }
    if "source_flag" in data.days and (data.days["source_flag"] != "").any():
        forte = (data.days["source_flag"] == "Forte").to_numpy()
        result["agreement"] = {
            "modele": flag_agreement(flags, forte),
            **{name: flag_agreement(f, forte) for name, f in baselines.items()},
        }
    return result


def judged_part(data: CountData, detection: Detection) -> tuple[CountData, Detection]:
    """The counts and the detection of the days after the detector's training period (the
    days it never saw; all days when it learnt on everything)."""
    end = pd.Timestamp(detection.model.train_period[1])
    if end >= pd.Timestamp(data.days["date"].max()):
        return data, detection
    start = end + pd.Timedelta(days=1)
    return data.select(start=start), detection.since(start)


def threshold_table(detector: Any) -> pd.DataFrame:
    """French table of the detector's scores: what each looks at and its chosen threshold."""
    labels = {
        "day_up": "total du jour (ou de 2, 3, 7 jours) au-dessus de l'attendu (score normal)",
        "day_down": "total du jour (ou de 2, 3, 7 jours) au-dessous de l'attendu (score normal)",
        "shape_up": "quelques heures au-dessus du reste de leur journée (score normal)",
        "both_up": "total du jour et quelques heures au-dessus ensemble (scores additionnés, "
        "÷ √2), ou le total seul s'il est plus fort",
        "flat": "valeur bloquée (−log probabilité de la répétition)",
        "zeros": "suite de zéros (−log probabilité)",
    }
    rows = {labels[c]: {"Seuil": v} for c, v in detector.thresholds.items()}
    table = pd.DataFrame.from_dict(rows, orient="index").round(2)
    table.index.name = "Score"
    return table


def backtest_table(detector: Any) -> pd.DataFrame:
    """French table of the backtests that chose the thresholds (training period only)."""
    back = detector.backtest
    rows = {
        KIND_LABELS.get(k, k): {"Jours injectés": back["anomalous_days"][k], "Rappel": r}
        for k, r in back.get("recall", {}).items()
    }
    if "false_alarm_rate" in back:
        rows["Fausses alertes (jours normaux)"] = {
            "Jours injectés": back["normal_days"],
            "Rappel": back["false_alarm_rate"],
        }
    table = pd.DataFrame.from_dict(rows, orient="index").round(3)
    table.index.name = "Rétro-tests (période d'apprentissage)"
    return table


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
    summary = delay_summary(evaluation["delays"]) if evaluation.get("delays") is not None else {}
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


def metrics_payload(
    data: CountData,
    detection: Detection,
    evaluation: dict[str, Any],
    quality_report: Any,
    parameters: dict[str, Any],
    protocol: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``metrics.json`` document (shape in ``docs/design.md``) of a run; ``protocol`` (the
    result of ``injection_protocol``) adds its recall per kind and false alarms."""
    days = detection.days
    model_metrics = _plain(evaluation.get("model")) or {}
    detector = detection.model
    model_metrics = {
        **model_metrics,
        "flagged_share": float(days["flag"].mean()) if len(days) else 0.0,
        "flagged_counter_days": int(days["flag"].sum()),
        "counter_days": int(len(days)),
        "flagged_by_kind": {k: int((days["kind"] == k).sum()) for k in KINDS},
        "layout": detection.layout,
        "train_period": list(detector.train_period),
        "thresholds": dict(detector.thresholds),
        "backtest": dict(detector.backtest),
    }
    if evaluation.get("agreement"):
        model_metrics["agreement_with_published_flag"] = evaluation["agreement"]
    if protocol is not None:
        model_metrics["injection_protocol"] = {
            key: protocol[key]
            for key in (
                "train_period",
                "judged_period",
                "recall",
                "false_alarm_rate",
                "false_alarm_rate_all",
                "false_alarm_episodes",
                "normal_days",
                "seed",
            )
        }
    baselines = {name: m for name, m in (evaluation.get("baselines") or {}).items()}
    return contract.metrics_payload(
        ENTRY_ID,
        quality=quality_report,
        test_period=(days["date"].min(), days["date"].max()) if len(days) else None,
        model_name=MODEL_NAME,
        model_metrics=model_metrics,
        baselines=baselines,
        parameters=parameters,
    )


def outputs(detection: Detection) -> dict[str, pd.DataFrame]:
    """Tables written beside ``metrics.json``: ``anomalies.csv`` (every counter-day,
    ``anomalies_table``) and ``anomalies_horaires.csv`` (flagged counter-hours)."""
    return {
        "anomalies.csv": anomalies_table(detection),
        "anomalies_horaires.csv": hourly_anomalies_table(detection),
    }


# ---------------------------------------------------------------------------------------------
# Injection protocol on real counts (time split, anomalies injected into unseen days)


JUDGED_DAYS = 150
"""Default judged period: the last 150 days of the file (Nantes 2020–2021: 2021-01-01 →
2021-05-30); the detector learns on every day before."""
JUDGED_SEED_OFFSET = 100
"""The judged period's injections use ``seed + 100``, never a seed of the backtests."""
MIN_TRAIN_SHARE = 0.6


def default_train_end(data: CountData, judged_end: Any = None) -> pd.Timestamp:
    """End of the training period: all but the last ``JUDGED_DAYS`` days, or the first
    ``MIN_TRAIN_SHARE`` of a file too short for that (less than twice as long)."""
    dates = pd.DatetimeIndex(data.days["date"])
    first = dates.min()
    last = dates.max() if judged_end is None else pd.Timestamp(judged_end)
    if (last - first).days + 1 >= 2 * JUDGED_DAYS:
        return last - pd.Timedelta(days=JUDGED_DAYS)
    return (first + (last - first) * MIN_TRAIN_SHARE).normalize()


def _event_found(events: pd.DataFrame, days: pd.DataFrame, truth: np.ndarray) -> np.ndarray:
    """Per event: ``True`` when one of its evaluated counter-days is flagged, ``False`` when
    none is, ``NaN`` when it has no evaluated day (a few night hours)."""
    flags = days["flag"].to_numpy()
    out = np.full(len(events), np.nan)
    by_counter = days.groupby("counter_id", sort=False).indices
    dates = pd.DatetimeIndex(days["date"])
    for i, ev in enumerate(events.itertuples(index=False)):
        rows = by_counter.get(ev.counter_id, np.array([], dtype=int))
        first = pd.Timestamp(ev.start).normalize()
        last = (pd.Timestamp(ev.end) - pd.Timedelta(hours=1)).normalize()
        inside = rows[(dates[rows] >= first) & (dates[rows] <= last)]
        inside = inside[truth[inside] == ev.kind]
        if len(inside):
            out[i] = float(flags[inside].any())
    return out


LONG_EPISODE = 5
"""Consecutive flagged days of one counter from which a flagged normal day is counted in a long
episode (weeks-long real faults that the producer did not flag look like this)."""


def flagged_runs(days: pd.DataFrame) -> np.ndarray:
    """Per counter-day, the length of the run of consecutive flagged days of its counter it
    belongs to (0 when not flagged); ``days`` has ``counter_id``, ``date`` and ``flag``."""
    out = np.zeros(len(days), dtype=int)
    flags = days["flag"].to_numpy()
    for idx in days.groupby("counter_id", sort=False).indices.values():
        idx = idx[np.argsort(days["date"].to_numpy()[idx], kind="stable")]
        for a, b in runs(flags[idx]):
            out[idx[a:b]] = b - a
    return out


def alarm_episodes(days: pd.DataFrame, normal: np.ndarray) -> dict[str, float]:
    """The flagged normal days split by the length of their run of flagged days: in runs of
    ``LONG_EPISODE`` days or more (``long``), of 3–4 (``medium``), of 1–2 (``short``), each
    as a share of the normal days (the three add up to the false-alarm rate). A description
    of where false alarms lie, not another definition of them."""
    length = flagged_runs(days)[normal]
    n = max(int(normal.sum()), 1)
    return {
        "long": float((length >= LONG_EPISODE).sum() / n),
        "medium": float(((length >= 3) & (length < LONG_EPISODE)).sum() / n),
        "short": float(((length >= 1) & (length < 3)).sum() / n),
    }


def injection_protocol(
    data: CountData,
    weather: pd.DataFrame | None = None,
    *,
    train_end: Any = None,
    judged_end: Any = None,
    seed: int = 0,
    quick: bool = False,
    sensitivity: float = 1.0,
    detector: Any = None,
    events: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Recall per injected kind and false alarms on normal days, on days the detector never saw.

    1. time split: the detector is fitted on the days up to ``train_end`` (default:
       ``default_train_end``), its spreads and thresholds chosen by backtests inside that
       period (``model.fit``; a ``detector`` already fitted on that period may be given);
       ``events`` (anomalies already labelled in ``data``, the sample's) are kept out of
       the injections, of the normal days and of the recall;
    2. labelled anomalies of every kind of the generator are injected into clean counter-days
       of the judged period ``(train_end, judged_end]`` with the fixed ``seed``
       (``sample.inject_anomalies_into``);
    3. the detector checks the judged period (``model.predict``). Recall of a kind: share of
       its counter-days flagged (and of its events with at least one flagged day); false
       alarms: share of *normal* counter-days flagged — judged days with no injected event,
       not flagged ``Forte`` by the producer and with every published hour present (a day
       with missing hours is a fault the rules report). The share over every day not
       ``Forte`` (missing hours included) is given too.

    Returns the figures (``recall``, ``false_alarm_rate``, ``false_alarm_rate_all``,
    ``false_alarm_episodes`` (see ``alarm_episodes``), ``normal_days``, periods, thresholds,
    backtest figures) with the ``detection``, the ``events`` and the ``detector``;
    ``protocol_table`` puts them in French.
    """
    from .features import units_of
    from .model import fit, judged_days, normal_days, predict
    from .sample import inject_anomalies_into

    dates = pd.DatetimeIndex(data.days["date"])
    last = dates.max() if judged_end is None else pd.Timestamp(judged_end)
    if train_end is None:
        train_end = default_train_end(data, last)
    first = pd.Timestamp(train_end) + pd.Timedelta(days=1)
    if detector is None:
        detector = fit(data, weather, quick=quick, train_end=train_end, seed=seed, events=events)
    elif pd.Timestamp(detector.train_period[1]) > pd.Timestamp(train_end):
        raise DataReadError(
            "Le détecteur fourni a appris sur des jours de la période jugée "
            f"(jusqu'au {detector.train_period[1]}, période jugée à partir du "
            f"{first:%Y-%m-%d})."
        )
    checked = data.select(end=last)
    known = events
    injected, events = inject_anomalies_into(
        checked, first, last, seed=seed + JUDGED_SEED_OFFSET, avoid=known
    )
    detection = predict(detector, injected, weather, sensitivity=sensitivity)
    units = units_of(injected)
    truth = day_labels(detection.days, events).to_numpy()
    if known is not None and len(known):
        labelled = day_labels(detection.days, known).to_numpy() != NORMAL
        truth = np.where(labelled & (truth == NORMAL), IGNORE, truth)
    judged = judged_days(units, first, last, detector.counters)
    normal = normal_days(units, truth, judged)
    forte = (
        (units.days["source_flag"] == "Forte").to_numpy()
        if "source_flag" in units.days
        else np.zeros(len(judged), dtype=bool)
    )
    not_forte = judged & (truth == NORMAL) & ~forte
    flags = detection.days["flag"].to_numpy()
    found = _event_found(events, detection.days, truth)
    recall = {}
    for kind in KINDS:
        rows = judged & (truth == kind)
        mine = (events["kind"] == kind).to_numpy() & np.isfinite(found)
        recall[kind] = {
            "recall": float(flags[rows].mean()) if rows.any() else float("nan"),
            "days": int(rows.sum()),
            "events": int(mine.sum()),
            "events_found": float(found[mine].mean()) if mine.any() else float("nan"),
        }
    return {
        "train_period": detector.train_period,
        "judged_period": (first.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d")),
        "counters": len(detector.counters),
        "recall": recall,
        "false_alarm_rate": float(flags[normal].mean()) if normal.any() else float("nan"),
        "normal_days": int(normal.sum()),
        "false_alarm_rate_all": float(flags[not_forte].mean()) if not_forte.any() else np.nan,
        "false_alarm_episodes": alarm_episodes(detection.days, normal),
        "sensitivity": float(sensitivity),
        "seed": int(seed),
        "thresholds": dict(detector.thresholds),
        "backtest": dict(detector.backtest),
        "detector": detector,
        "detection": detection,
        "events": events,
        "truth": truth,
        "data": injected,
        "judged": judged,
        "normal": normal,
    }


def protocol_comparison(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The model and each baseline on the counter-days of ``injection_protocol``'s result:
    recall per key kind (``recall_<kind>``), their mean (``recall``) and the false alarms on
    the same normal days (``false_alarm_rate``). Baselines see the same injected counts."""
    data, truth = result["data"], result["truth"]
    judged, normal = result["judged"], result["normal"]
    flags = {"model": result["detection"].days["flag"].to_numpy()}
    flags |= bl.baseline_flags(data.days, data.values)
    out = {}
    for name, flag in flags.items():
        row = {}
        for kind in KEY_KINDS:
            rows = judged & (truth == kind)
            row[f"recall_{kind}"] = float(flag[rows].mean()) if rows.any() else float("nan")
        row["recall"] = float(np.nanmean([row[f"recall_{k}"] for k in KEY_KINDS]))
        row["false_alarm_rate"] = float(flag[normal].mean()) if normal.any() else float("nan")
        out[name] = row
    return out


def protocol_table(result: dict[str, Any]) -> pd.DataFrame:
    """French table of ``injection_protocol``: per kind the injected events and counter-days,
    the recall on days and on events; last row, the false alarms on normal days."""
    rows = {}
    for kind, r in result["recall"].items():
        rows[KIND_LABELS.get(kind, kind)] = {
            "Événements injectés": r["events"],
            "Jours compteur": r["days"],
            "Rappel (jours)": r["recall"],
            "Événements retrouvés": r["events_found"],
        }
    rows["Fausses alertes (jours normaux)"] = {
        "Événements injectés": np.nan,
        "Jours compteur": result["normal_days"],
        "Rappel (jours)": result["false_alarm_rate"],
        "Événements retrouvés": np.nan,
    }
    table = pd.DataFrame.from_dict(rows, orient="index").round(3)
    table.index.name = "Type d'anomalie"
    return table


def realdata_protocol(
    data_path: Any = None,
    *,
    train_end: Any = None,
    judged_end: Any = None,
    seed: int = 0,
    sensitivity: float = 1.0,
) -> dict[str, Any]:
    """``injection_protocol`` on a real counts file (``None``: the shipped Nantes 2020–2021
    hourly file, trained on 2020, judged on 2021-01-01 → 2021-05-30), with its French
    ``table``. The entry point of ``benchmarks/realdata.py``."""
    from .data import load, prepare, real_data_path

    data = prepare(load(real_data_path() if data_path is None else data_path))
    result = injection_protocol(
        data, train_end=train_end, judged_end=judged_end, seed=seed, sensitivity=sensitivity
    )
    result["table"] = protocol_table(result)
    return result
