"""Baselines and evaluation of bike-counter anomaly detection against labels.

Labels are events (counter, start, end excluded, kind) at hour resolution. A counter-day is
*anomalous* when an event with missing values touches it, or when another event covers at least
``MIN_DAYTIME_HOURS`` hours of it between 06h and 22h. A day touched by an event less than that
(a few night hours at the edge of an event) is left out of the evaluation (``IGNORE``): it is
neither clearly normal nor clearly anomalous. Metrics per kind compare the units of that kind
with the normal units only ("one kind against normal"): every false alarm counts against every kind.

Baselines (per counter-day):

- ``zero_days_rule``: days without any count (zero or missing) in runs of ≥ 3 days (the rule
  Nantes applied in 2020);
- ``zero_missing_hours_rule``: days with at least 3 zero or missing hours between 07h and 20h
  (the crude rule of the daily feed); hourly data only;
- ``isolation_forest``: scikit-learn ``IsolationForest`` on raw features of each counter-day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest

from models.bike_counters_detect import KINDS, runs
from models.metrics import threshold_scores

MIN_DAYTIME_HOURS = 3
DAYTIME = (6, 22)
NORMAL = ""
IGNORE = "hors_evaluation"


def day_labels(days: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """Kind of anomaly of each counter-day of ``days`` ("" = normal), from the events."""
    out = pd.Series(NORMAL, index=days.index, dtype=object)
    if events is None or events.empty:
        return out
    pos = {(c, d): i for i, (c, d) in enumerate(zip(days["counter_id"], days["date"], strict=True))}
    index = days.index.to_numpy()
    for ev in events.itertuples(index=False):
        hours = pd.date_range(ev.start, ev.end - pd.Timedelta(hours=1), freq="h")
        if len(hours) == 0:
            continue
        frame = pd.DataFrame({"day": hours.normalize(), "hour": hours.hour})
        missing = str(getattr(ev, "injected", "")) == "manquante"
        for day, grp in frame.groupby("day"):
            daytime = ((grp["hour"] >= DAYTIME[0]) & (grp["hour"] < DAYTIME[1])).sum()
            i = pos.get((ev.counter_id, day))
            if i is None:
                continue
            if missing or daytime >= MIN_DAYTIME_HOURS:
                out.iloc[i] = ev.kind
            elif out.iloc[i] == NORMAL:
                out.iloc[i] = IGNORE
    out.index = index
    return out


def hour_labels(days: pd.DataFrame, events: pd.DataFrame) -> np.ndarray:
    """Kind of each counter-hour (``(n_days, 24)`` array, "" = normal)."""
    out = np.full((len(days), 24), NORMAL, dtype=object)
    if events is None or events.empty:
        return out
    pos = {(c, d): i for i, (c, d) in enumerate(zip(days["counter_id"], days["date"], strict=True))}
    for ev in events.itertuples(index=False):
        for ts in pd.date_range(ev.start, ev.end - pd.Timedelta(hours=1), freq="h"):
            i = pos.get((ev.counter_id, ts.normalize()))
            if i is not None:
                out[i, ts.hour] = ev.kind
    return out


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


# ---------------------------------------------------------------------------------------------
# Baselines


def zero_days_rule(days: pd.DataFrame, values: np.ndarray, min_days: int = 3) -> np.ndarray:
    """Days without any count (sum 0 or all missing) in runs of ≥ ``min_days`` days."""
    total = np.nansum(values, axis=1)
    empty = (total == 0) | np.isnan(values).all(axis=1)
    out = np.zeros(len(days), dtype=bool)
    for _, idx in days.groupby("counter_id", sort=False).indices.items():
        for a, b in runs(empty[idx]):
            if b - a >= min_days:
                out[idx[a:b]] = True
    return out


def zero_missing_hours_rule(values: np.ndarray, min_hours: int = 3) -> np.ndarray:
    """Days with ≥ ``min_hours`` zero or missing hours between 07h and 20h (hourly data)."""
    if values.shape[1] != 24:
        return np.isnan(values[:, 0]) | (values[:, 0] == 0)
    block = values[:, 7:21]
    return (np.isnan(block) | (block == 0)).sum(axis=1) >= min_hours


def raw_features(days: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """Raw features of each counter-day for the IsolationForest baseline."""
    total = np.nansum(values, axis=1)
    log_total = np.log1p(total)
    ids = days["counter_id"].to_numpy()
    centred = np.zeros(len(days))
    for c in pd.unique(ids):
        rows = ids == c
        med = np.median(log_total[rows])
        mad = np.median(np.abs(log_total[rows] - med)) * 1.4826 + 1e-3
        centred[rows] = (log_total[rows] - med) / mad
    dates = pd.DatetimeIndex(days["date"])
    cols = [centred, dates.day_of_week.to_numpy(), dates.month.to_numpy()]
    if values.shape[1] == 24:
        safe = np.nan_to_num(values)
        share = safe / np.maximum(safe.sum(axis=1, keepdims=True), 1)
        distinct = np.array([len(np.unique(v[np.isfinite(v)])) for v in values])
        cols += [
            np.isnan(values).sum(axis=1),
            (values[:, 7:21] == 0).sum(axis=1),
            share.max(axis=1),
            share[:, 8],
            share[:, 17:19].sum(axis=1),
            distinct,
        ]
    return np.column_stack(cols).astype(float)


def isolation_forest(
    days: pd.DataFrame, values: np.ndarray, contamination: float = 0.05, seed: int = 0
) -> np.ndarray:
    """IsolationForest flags on ``raw_features`` (``contamination`` of the counter-days)."""
    X = raw_features(days, values)
    model = IsolationForest(n_estimators=100, contamination=contamination, random_state=seed)
    return model.fit_predict(X) == -1


def baseline_flags(days: pd.DataFrame, values: np.ndarray) -> dict[str, np.ndarray]:
    """Day flags of every baseline that applies to the data's layout."""
    out = {"regle_3_jours_a_zero": zero_days_rule(days, values)}
    if values.shape[1] == 24:
        out["regle_heures_nulles_ou_manquantes"] = zero_missing_hours_rule(values)
    out["isolation_forest"] = isolation_forest(days, values)
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
