"""Evaluation of ``air_quality``: a test period never seen, scores, ``metrics.json``.

``run`` is the whole protocol the notebook shows: features, time split (by default the last
calendar year fully covered is the test period), fit on the days before it
(``model.fit_setup``: every choice by backtest on those days), the next-day forecasts of the
test period beside the baselines (``forecast_table``) and their scores (``score``: MAE,
RMSE, threshold precision / recall / F1 / CSI / FAR, Brier score, ATMO index class
accuracy), with French notes on what limits the reading.

``station_scores`` scores every station with enough data at once (one pooled model): the
table of the real-data benchmarks (``benchmarks/air_quality_realdata.py`` and the
library-wide ``benchmarks/realdata.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from models import contract
from models import metrics as mt
from models.errors import BiblioError
from models.metrics import comparison_table

from .baselines import climatology_forecast, monthly_climatology, persistence
from .data import DEFAULT_POLLUTANT, ENTRY_ID, load
from .features import FORECAST_FEATURE_SUFFIX, FUTURE_SUFFIX
from .model import (
    ATMO_CLASSES,
    Forecaster,
    ForecastSetup,
    atmo_class,
    fit_setup,
    forecast_setup,
    pool_names,
    station_features,
    usual_thresholds,
)

MODEL_NAME = "gradient_boosting_veille"
MODEL_SUFFIXES = {"prevision": "_avec_prevision_meteo", "observee": "_avec_meteo_observee_j1"}


METHOD_LABELS = {
    "modele": "Modèle (gradient boosting, veille au soir)",
    "persistance": "Persistance (demain = aujourd'hui)",
    "climatologie_mensuelle": "Climatologie mensuelle",
}


METRIC_COLUMNS = ["mae", "rmse", "precision", "recall", "f1", "csi", "far", "atmo_accuracy"]


def atmo_accuracy(y_true, y_pred, pollutant: str) -> float:
    """Share of days whose forecast falls in the observed ATMO class."""
    t, p = atmo_class(y_true, pollutant), atmo_class(y_pred, pollutant)
    keep = t.notna() & p.notna()
    return float((t[keep] == p[keep]).mean()) if keep.any() else float("nan")


def forecast_table(
    model: Forecaster, X: pd.DataFrame, y: pd.Series, climatology: pd.Series
) -> pd.DataFrame:
    """One row per issue day: observed D+1, model, probability, alert, baselines."""
    target_day = X.index + pd.Timedelta(days=1)
    pred = model.predict(X)
    prob = model.probability(X)
    table = pd.DataFrame(
        {
            "date_emission": X.index,
            "date_prevue": target_day,
            "station": model.station,
            "polluant": model.pollutant,
            "mesure": model.target,
            "observe": y.to_numpy(),
            "prevision": pred.round(1).to_numpy(),
            "probabilite_depassement": prob.round(3).to_numpy(),
            "alerte": model.alert(X).to_numpy(),
            "persistance": persistence(X).to_numpy(),
            "climatologie": climatology_forecast(climatology, target_day),
        }
    )
    table["seuil"] = model.threshold
    table["depassement_observe"] = (table["observe"] > model.threshold).where(
        table["observe"].notna()
    )
    return table.reset_index(drop=True)


def score(table: pd.DataFrame, pollutant: str, threshold: float) -> dict[str, dict[str, float]]:
    """Scores of the model and the baselines on the same rows (observed and persistence known).

    Returns ``{"modele": {...}, "persistance": {...}, "climatologie_mensuelle": {...}}``.
    """
    rows = table[table["observe"].notna() & table["persistance"].notna()]
    truth = rows["observe"] > threshold
    out = {}
    for name, col, alert in (
        ("modele", "prevision", rows["alerte"].astype(bool)),
        ("persistance", "persistance", rows["persistance"] > threshold),
        ("climatologie_mensuelle", "climatologie", rows["climatologie"] > threshold),
    ):
        s = {
            "mae": mt.mae(rows["observe"], rows[col]),
            "rmse": mt.rmse(rows["observe"], rows[col]),
            **mt.threshold_scores(truth, alert),
            "atmo_accuracy": atmo_accuracy(rows["observe"], rows[col], pollutant),
            "n": int(len(rows)),
            "threshold_days": int(truth.sum()),
        }
        if name == "modele":
            p = rows["probabilite_depassement"].to_numpy(float)
            s["brier"] = float(np.mean((p - truth.to_numpy(float)) ** 2)) if len(p) else np.nan
        out[name] = s
    return out


def reliability(table: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """Mean forecast probability vs observed frequency of threshold days, per probability bin."""
    rows = table[table["observe"].notna()]
    edges = np.linspace(0, 1, bins + 1)
    cut = pd.cut(rows["probabilite_depassement"], edges, include_lowest=True)
    grouped = rows.groupby(cut, observed=True)
    return pd.DataFrame(
        {
            "probabilite_moyenne": grouped["probabilite_depassement"].mean(),
            "frequence_observee": grouped["depassement_observe"].mean(),
            "jours": grouped.size(),
        }
    ).reset_index(names="classe_probabilite")


@dataclass
class Result:
    """Everything a run produces (the notebook shows it, ``metrics_payload`` saves it)."""

    station: str
    pollutant: str
    target: str
    threshold: float
    use_weather_forecast: bool | None
    model: Forecaster
    test_year: int
    train_period: tuple[pd.Timestamp, pd.Timestamp]
    test_period: tuple[pd.Timestamp, pd.Timestamp]
    test_table: pd.DataFrame
    scores: dict[str, dict[str, float]]
    notes: list[str] = field(default_factory=list)


def run(
    daily: pd.DataFrame,
    station: str | None = None,
    pollutant: str | None = DEFAULT_POLLUTANT,
    *,
    threshold: float | None = None,
    use_weather_forecast: bool | None = None,
    quick: bool = False,
    seed: int = 0,
    pool_stations: int | None = None,
    test_period=None,
    target: str | None = None,
    zone: str | None = None,
) -> Result:
    """Features, time split, fit, forecasts and scores.

    ``test_period`` (two dates) defaults to the last full year; ``target`` ``"moyenne"`` or
    ``"max"`` (NO2, O3; default: the maximum when the data has it); ``use_weather_forecast``
    see ``features.weather_mode``; ``zone`` the school-vacation zone. The model learns from
    the chosen station and the other stations measuring the same quantity (all of them, or
    ``pool_stations``; ``model.QUICK_POOL`` in quick mode) over the days before the test
    period only; it is scored on the chosen station's test period.
    """
    setup = forecast_setup(
        daily,
        station,
        pollutant,
        threshold=threshold,
        use_weather_forecast=use_weather_forecast,
        test_period=test_period,
        target=target,
        zone=zone,
    )
    model = fit_setup(daily, setup, quick=quick, seed=seed, pool_stations=pool_stations)
    return result_of(model, setup)


def result_of(model: Forecaster, setup: ForecastSetup) -> Result:
    """Forecasts of the test period of ``setup``, scores and notes as a ``Result``."""
    table = forecast_test_period(model, setup)
    scores = score(table, setup.pollutant, setup.threshold)
    train_days = setup.target_days[setup.train & setup.y.notna().to_numpy()]
    return Result(
        station=setup.station,
        pollutant=setup.pollutant,
        target=setup.X.attrs["target"],
        threshold=setup.threshold,
        use_weather_forecast=setup.use_weather_forecast,
        model=model,
        test_year=setup.year,
        train_period=(train_days.min(), train_days.max()),
        test_period=(setup.test_start, table["date_prevue"].max()),
        test_table=table,
        scores=scores,
        notes=reading_notes(setup, scores),
    )


def forecast_test_period(model: Forecaster, setup: ForecastSetup) -> pd.DataFrame:
    """``forecast_table`` of the test period of ``setup`` (climatology of its training days)."""
    climatology = monthly_climatology(setup.y[setup.train].dropna())
    return forecast_table(model, setup.X[setup.test], setup.y[setup.test], climatology)


def evaluate(
    model: Forecaster, daily: pd.DataFrame, test_period=None
) -> dict[str, dict[str, float]]:
    """Scores of a fitted model and of the baselines on the test period of ``daily``
    (``score``; default the last full year). The station, pollutant, target, threshold and
    weather option are the model's.
    """
    from .model import target_kind

    setup = forecast_setup(
        daily,
        model.station,
        model.pollutant,
        threshold=model.threshold,
        use_weather_forecast=model.use_weather_forecast,
        test_period=test_period,
        target=target_kind(model.pollutant, model.target),
        zone=model.zone,
    )
    return score(forecast_test_period(model, setup), setup.pollutant, setup.threshold)


def reading_notes(setup: ForecastSetup, scores: dict[str, dict[str, float]]) -> list[str]:
    """French notes on what limits the reading of the scores (target, option, no event)."""
    notes = []
    pollutant, target = setup.pollutant, setup.X.attrs["target"]
    if pollutant in ("NO2", "O3") and target == pollutant:
        notes.append(
            f"Pas de maximum horaire de {pollutant} dans les données : la cible est la moyenne "
            "journalière, alors que le seuil réglementaire porte sur les valeurs horaires."
        )
    weather = setup.X.attrs.get("weather")
    if weather == "observee":
        notes.append(
            "Option « prévision météo » activée sans colonnes de prévision dans les données : "
            "la météo du lendemain est la météo observée (prévision parfaite), les scores sont "
            "donc optimistes."
        )
    elif weather == "prevision":
        notes.append(
            "Prévisions météo du lendemain utilisées (colonnes « _prevu » des données, émises "
            "la veille) : information disponible le soir même, pas une information future."
        )
    if scores["modele"]["threshold_days"] == 0:
        notes.append(
            f"Aucun jour au-dessus de {setup.threshold:g} µg/m³ sur la période de test : "
            "précision, rappel et F1 ne sont pas interprétables ; essayez un seuil plus bas."
        )
    return notes


ALERT_RULE_TEXTS = {
    "probabilite": "quand la probabilité prévue (calibrée) atteint {cutoff:.2f}",
    "persistance": "quand la valeur du jour dépasse déjà le seuil (persistance : sur les années "
    "d'apprentissage, elle repérait mieux les dépassements que la probabilité du modèle)",
    "probabilite_ou_persistance": "quand la probabilité prévue (calibrée) atteint {cutoff:.2f} "
    "ou que la valeur du jour dépasse déjà le seuil",
}


SETTING_TEXTS = {
    "standard": "variables standard",
    "etendu": "variables étendues (profil régional de la journée, oxydant NO2 + O3)",
    "rapide": "réglage rapide, sans sélection",
    "ensemble": "moyenne des prévisions de tous les réglages",
}


def setting_text(result: Result) -> str:
    """French sentence: the setting chosen by backtest on the training period, and why."""
    model = result.model
    family, _, trees = model.setting.partition("_")
    label = SETTING_TEXTS.get(family, model.setting) + (f", {trees} arbres" if trees else "")
    scores = model.info.get("backtest_relative_mae", {})
    listing = " ; ".join(f"{k} {v:.3f}" for k, v in scores.items())
    return (
        f"Réglage : {label} — choisi sur la période d'apprentissage (validation à origine "
        f"glissante, MAE rapportée à celle de la persistance : {listing}), jamais sur la "
        f"période de test. Apprentissage sur {model.info.get('pooled_stations', 0) + 1} "
        "station(s)."
    )


def alert_rule_text(result: Result) -> str:
    """French sentence: when the alert fires, as chosen on the training years."""
    rule = ALERT_RULE_TEXTS[result.model.alert_rule].format(cutoff=result.model.cutoff)
    return (
        f"Alerte {rule} — règle choisie sur les années d'apprentissage (meilleur F1 des "
        "prévisions hors échantillon), jamais sur l'année de test."
    )


def comparison(result: Result) -> pd.DataFrame:
    """French comparison table: the model and the baselines, one column per metric."""
    named = {METHOD_LABELS[k]: v for k, v in result.scores.items()}
    table = comparison_table(named, columns=METRIC_COLUMNS, french_labels=True, decimals=2)
    return table.rename(columns={"atmo_accuracy": "Classe ATMO exacte"})


def gain_over_persistence(result: Result) -> float:
    """Relative MAE gain of the model over persistence (0.12 = 12 % lower MAE)."""
    m, p = result.scores["modele"]["mae"], result.scores["persistance"]["mae"]
    return float(1 - m / p) if p else float("nan")


def parameters(result: Result, **extra: Any) -> dict[str, Any]:
    return {
        "station": result.station,
        "pollutant": result.pollutant,
        "target": result.target,
        "threshold": result.threshold,
        "use_weather_forecast": result.use_weather_forecast,
        "weather_tomorrow": result.model.weather,
        "weather_forecast_features": [
            f for f in result.model.feature_names if f.endswith(FORECAST_FEATURE_SUFFIX)
        ],
        "future_information": bool(
            any(f.endswith(FUTURE_SUFFIX) for f in result.model.feature_names)
        ),
        "setting": result.model.setting,
        "backtest_relative_mae": result.model.info.get("backtest_relative_mae", {}),
        "probability_cutoff": result.model.cutoff,
        "alert_rule": result.model.alert_rule,
        "calibrated_probability": result.model.calibration is not None,
        "pooled_stations": result.model.info.get("pooled_stations", 0),
        "training_rows": result.model.info.get("train_rows"),
        "train_period": [result.train_period[0], result.train_period[1]],
        **extra,
    }


def metrics_payload(
    result: Result, quality_rep, daily: pd.DataFrame | None = None, **extra_parameters: Any
) -> dict:
    """The ``metrics.json`` payload (shape in ``docs/design.md``); ``daily`` gives ``rows``."""
    scores = result.scores
    data = quality_rep.to_dict() if hasattr(quality_rep, "to_dict") else dict(quality_rep)
    if daily is not None:  # the quality report counts station × pollutant values
        data["summary"] = {**data.get("summary", {}), "values": data.get("rows")}
        data["rows"] = len(daily)
    return contract.metrics_payload(
        ENTRY_ID,
        quality=data,
        test_period=result.test_period,
        model_name=MODEL_NAME + MODEL_SUFFIXES.get(result.model.weather, ""),
        model_metrics={
            **scores["modele"],
            "mae_gain_vs_persistence": gain_over_persistence(result),
        },
        baselines={k: v for k, v in scores.items() if k != "modele"},
        parameters=parameters(result, **extra_parameters),
    )


def outputs(result: Result) -> dict[str, pd.DataFrame]:
    """Tables written beside ``metrics.json``: ``predictions.csv``, the test-year forecasts
    of ``result.test_table`` with the observed and forecast ATMO classes."""
    table = result.test_table.copy()
    names = np.array(ATMO_CLASSES, dtype=object)
    for col, src in (("classe_atmo_observee", "observe"), ("classe_atmo_prevue", "prevision")):
        cls = atmo_class(table[src], result.pollutant)
        table[col] = [names[int(c)] if np.isfinite(c) else None for c in cls]
    return {"predictions.csv": table}


MIN_SHARE = 0.75
"""A station is scored when its target is measured on at least this share of the days of the
training period and of the test period (the regulatory 75 % rule, applied to days)."""


def data_coverage(y: pd.Series, first_day: pd.Timestamp, start, end) -> tuple[float, float]:
    """Share of target days with a value in the training span (``first_day`` → day before
    ``start``) and in the test period (``start`` → ``end``)."""
    measured = y.dropna().index + pd.Timedelta(days=1)
    train_days = max((start - first_day).days, 1)
    test_days = max((end - start).days + 1, 1)
    in_train = ((measured >= first_day) & (measured < start)).sum()
    in_test = ((measured >= start) & (measured <= end)).sum()
    return in_train / train_days, in_test / test_days


def station_scores(
    data=None,
    pollutant: str | None = None,
    *,
    stations=None,
    test_period=None,
    target: str | None = None,
    thresholds=None,
    use_weather_forecast: bool | None = None,
    quick: bool = False,
    zone: str | None = None,
    seed: int = 0,
    min_share: float = MIN_SHARE,
) -> pd.DataFrame:
    """One row per station: MAE of the model, persistence and monthly climatology on the
    test period, the model / persistence ratio and the F1 of threshold days.

    ``data``: a daily table, a file or a list of files (``None``: the two Airparif files
    shipped with the entry). ``pollutant`` (default: the data's), ``target``,
    ``use_weather_forecast``, ``zone`` as in ``run``; ``test_period`` two dates (default: the
    last full year); ``thresholds`` (default ``model.usual_thresholds``). ``stations``
    (default: every station whose target is measured on ``min_share`` of the days of both
    the training and the test period). One model is fitted, pooled over every station
    measuring the target, with every choice made by backtest on the training period.

    ``attrs``: ``setting`` chosen, ``backtest_relative_mae``, ``train_period``,
    ``test_period``, ``thresholds``, ``weather`` (mode of D+1 weather) and ``excluded``
    (stations left out, with their coverage).
    """
    daily = data if isinstance(data, pd.DataFrame) else load(data, quick=False)
    chosen = list(stations) if stations is not None else None
    setup = forecast_setup(
        daily,
        chosen[0] if chosen else None,
        pollutant,
        use_weather_forecast=use_weather_forecast,
        test_period=test_period,
        target=target,
        zone=zone,
    )
    features = station_features(daily, setup, pool_names(daily, setup, None))
    model = fit_setup(daily, setup, quick=quick, seed=seed, features=features)
    target_col = setup.X.attrs["target"]
    thresholds = tuple(thresholds or usual_thresholds(setup.pollutant, target_col))
    start, end = setup.test_start, setup.test_end
    first_day = min(X.index.min() for X, _ in features.values()) + pd.Timedelta(days=1)
    excluded = {}
    names = chosen or []
    if chosen is None:
        for name, (_, y) in features.items():
            share = data_coverage(y, first_day, start, end)
            if min(share) >= min_share:
                names.append(name)
            else:
                excluded[name] = tuple(round(v, 3) for v in share)
    rows = []
    for name in sorted(names):
        if name not in features:
            raise BiblioError(f"Station « {name} » : aucune mesure de {target_col}.")
        X, y = features[name]
        days = X.index + pd.Timedelta(days=1)
        train, test = np.asarray(days < start), np.asarray((days >= start) & (days <= end))
        climatology = monthly_climatology(y[train].dropna())
        row: dict[str, Any] = {"station": name, "polluant": setup.pollutant, "mesure": target_col}
        for k, thr in enumerate(thresholds):
            station_model = replace(model.for_threshold(thr), station=name)
            table = forecast_table(station_model, X[test], y[test], climatology)
            s = score(table, setup.pollutant, thr)
            if k == 0:
                row |= {
                    "jours": s["modele"]["n"],
                    "mae_modele": s["modele"]["mae"],
                    "mae_persistance": s["persistance"]["mae"],
                    "mae_climatologie": s["climatologie_mensuelle"]["mae"],
                }
                row["ratio_persistance"] = row["mae_modele"] / row["mae_persistance"]
            row |= {
                f"jours_sup_{thr:g}": s["modele"]["threshold_days"],
                f"f1_modele_{thr:g}": s["modele"]["f1"],
                f"f1_persistance_{thr:g}": s["persistance"]["f1"],
            }
        rows.append(row)
    out = pd.DataFrame(rows)
    train_days = setup.target_days[setup.train]
    out.attrs = {
        "setting": model.setting,
        "backtest_relative_mae": model.info.get("backtest_relative_mae", {}),
        "train_period": (train_days.min(), start - pd.Timedelta(days=1)),
        "test_period": (start, end),
        "thresholds": thresholds,
        "weather": model.weather,
        "pooled_stations": model.info.get("pooled_stations", 0) + 1,
        "excluded": excluded,
    }
    return out


REALDATA_TARGETS = ("max", "moyenne")
TARGET_GOAL = 0.85
"""Figure to reach on real data: model MAE ≤ 0.85 × persistence MAE at every station."""


def realdata_figures(
    data=None,
    *,
    pollutants=("NO2", "O3"),
    targets=REALDATA_TARGETS,
    test_period=None,
    quick: bool = False,
) -> list[dict[str, Any]]:
    """Rows of ``station_scores`` for every pollutant and target (default: the two Airparif
    files shipped with the entry, test year 2019), each with ``cible``, the ``reglage``
    chosen by backtest and ``objectif_atteint`` (ratio ≤ ``TARGET_GOAL``); the real-data
    table of ``benchmarks/realdata.py`` and ``benchmarks/air_quality_realdata.py``."""
    daily = data if isinstance(data, pd.DataFrame) else load(data, quick=False)
    rows = []
    for pollutant in pollutants:
        for target in targets:
            table = station_scores(
                daily, pollutant, target=target, test_period=test_period, quick=quick
            )
            start, end = table.attrs["test_period"]
            for record in table.to_dict("records"):
                rows.append(
                    {
                        "cible": target,
                        **record,
                        "objectif_atteint": bool(record["ratio_persistance"] <= TARGET_GOAL),
                        "reglage": table.attrs["setting"],
                        "test": f"{start:%Y-%m-%d}/{end:%Y-%m-%d}",
                    }
                )
    return rows
