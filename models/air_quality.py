"""Library entry ``air_quality``: anticipate air-pollution peaks one day ahead.

For a chosen station and pollutant (PM10, PM2.5, NO2, O3), forecast on the evening of day D
the value of D+1 — the daily mean, or for NO2/O3 the daily maximum of hourly values when the
data has it — and the probability of crossing the information threshold, from what is known
on that evening only (``models.air_quality_features``). Baselines: persistence and monthly
climatology (``models.air_quality_model``). Readers of the real layouts (hourly wide with the
75 % completeness rule, daily wide, long) live in ``models.air_quality_io``.

Typical use (the notebook does exactly this)::

    daily = load(data_path, column_map)          # sample when data_path is None
    result = run(daily, station, pollutant, threshold=None, quick=False)
    result.scores, result.test_table             # model vs persistence vs climatology

``python -m models.air_quality build`` rebuilds the reference model file and its card.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models import air_quality_model as aqm
from models.air_quality_features import FUTURE_SUFFIX, make_features
from models.air_quality_io import (
    ALIASES,  # noqa: F401 - part of the entry contract
    POLLUTANT_COLUMNS,
    POLLUTANTS,
    WEATHER_CODES,
    read_air_quality,
)
from models.contract import entry_paths, metrics_payload
from models.errors import BiblioError
from models.metrics import comparison_table
from models.quality import quality_report
from models.validation import ValidationReport, validate

ENTRY_ID = "air_quality"
TITLE = "Anticiper les pics de pollution de l'air la veille"
SCHEMA = entry_paths(ENTRY_ID).schema
MODEL_NAME = "gradient_boosting_veille"
DEFAULT_STATION = "Lille Fives"
DEFAULT_POLLUTANT = "PM10"
METHOD_LABELS = {
    "modele": "Modèle (gradient boosting, veille au soir)",
    "persistance": "Persistance (demain = aujourd'hui)",
    "climatologie_mensuelle": "Climatologie mensuelle",
}
METRIC_COLUMNS = ["mae", "rmse", "precision", "recall", "f1", "csi", "far", "atmo_accuracy"]
TRUSTED_TYPES = (
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.Interval",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
)


# ------------------------------------------------------------------------------------ data


def _source(data_path):
    return entry_paths(ENTRY_ID).sample if data_path is None else data_path


def validate_file(path, column_map=None, pollutant=None) -> ValidationReport:
    """The validation report of a file (any accepted layout), in French."""
    daily = read_air_quality(_source(path), column_map=column_map or None, pollutant=pollutant)
    return validate(daily, SCHEMA)


def load(data_path=None, column_map=None, pollutant=None) -> pd.DataFrame:
    """Read (sample when ``data_path`` is None) and validate; the canonical daily table.

    Raises ``DataReadError`` / ``DataValidationError`` with a French message.
    """
    daily = read_air_quality(_source(data_path), column_map=column_map or None, pollutant=pollutant)
    report = validate(daily, SCHEMA)
    report.raise_if_errors()
    daily.attrs["validation"] = report
    return daily


def measured_columns(daily: pd.DataFrame) -> list[str]:
    """Pollutant and weather columns holding at least one value."""
    return [c for c in [*POLLUTANT_COLUMNS, *WEATHER_CODES] if daily[c].notna().any()]


def measured_series(daily: pd.DataFrame) -> pd.DataFrame:
    """Long table ``date, station, mesure, valeur`` of the pollutant series actually measured
    (a station that never measures PM2.5 is not counted as 100 % missing)."""
    long = daily.melt(
        id_vars=["date", "station"],
        value_vars=POLLUTANT_COLUMNS,
        var_name="mesure",
        value_name="valeur",
    )
    measured = long.groupby(["station", "mesure"])["valeur"].transform("count") > 0
    return long[measured].reset_index(drop=True)


def quality(daily: pd.DataFrame):
    """Quality report (grade A–E) of every measured station × pollutant series."""
    return quality_report(
        measured_series(daily),
        date_column="date",
        value_columns=["valeur"],
        series_column=["station", "mesure"],
        zeros_expected=True,
    )


def stations(daily: pd.DataFrame, pollutant: str) -> pd.Series:
    """Stations measuring ``pollutant`` with their number of measured days (most first)."""
    cols = [c for c in (pollutant, {"NO2": "NO2_max", "O3": "O3_max"}.get(pollutant)) if c]
    counts = daily.assign(_n=daily[cols].notna().any(axis=1)).groupby("station")["_n"].sum()
    return counts[counts > 0].sort_values(ascending=False, kind="stable").astype(int)


def choose_station(daily: pd.DataFrame, pollutant: str, station: str | None = None) -> str:
    """``station`` if given (checked), else the default station or the best-measured one."""
    if pollutant not in POLLUTANTS:
        raise BiblioError(
            f"Polluant « {pollutant} » inconnu : choisissez parmi {', '.join(POLLUTANTS)}."
        )
    available = stations(daily, pollutant)
    if available.empty:
        raise BiblioError(f"Aucune station ne mesure {pollutant} dans ces données.")
    if station is None:
        return DEFAULT_STATION if DEFAULT_STATION in available.index else available.index[0]
    if station not in available.index:
        listing = ", ".join(f"« {s} »" for s in available.index[:30])
        raise BiblioError(
            f"La station « {station} » ne mesure pas {pollutant}. Stations possibles : {listing}."
        )
    return station


# ------------------------------------------------------------------------------------ split


def test_year(target_days: pd.DatetimeIndex, observed: pd.Series) -> int:
    """The last calendar year fully covered by the data, with at least one earlier year.

    Raises ``BiblioError`` (French) when the data does not cover a full year after a first
    year of training.
    """
    days = target_days[observed.notna().to_numpy()]
    if len(days) == 0:
        raise BiblioError("Aucune valeur mesurée pour la cible choisie.")
    first, last = days.min(), days.max()
    for year in range(last.year, first.year, -1):
        start, end = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
        if last >= end - pd.Timedelta(days=7) and first <= start - pd.Timedelta(days=300):
            return year
    raise BiblioError(
        f"Les données couvrent du {first:%d/%m/%Y} au {last:%d/%m/%Y} : il faut au moins une "
        "année complète de test précédée d'environ un an d'apprentissage."
    )


# ------------------------------------------------------------------------------------ run

POOL = 8
QUICK_POOL = 2
"""Other stations whose training years are added to the training rows (same target)."""


def pooled_training_rows(
    daily: pd.DataFrame,
    X: pd.DataFrame,
    y: pd.Series,
    year: int,
    n_pool: int,
    *,
    use_weather_forecast: bool = False,
) -> tuple[pd.DataFrame, pd.Series]:
    """Training rows (target day before ``year``) of the station and of up to ``n_pool``
    other stations with the same target column, sorted by issue day (time-ordered folds)."""
    station, pollutant, target = X.attrs["station"], X.attrs["pollutant"], X.attrs["target"]
    frames_X, frames_y = [X], [y]
    others = [s for s in stations(daily, pollutant).index if s != station]
    for other in others:
        if len(frames_X) > n_pool:
            break
        Xo, yo = make_features(daily, other, pollutant, use_weather_forecast=use_weather_forecast)
        if Xo.attrs["target"] == target:
            frames_X.append(Xo)
            frames_y.append(yo)
    Xp = pd.concat(frames_X).reindex(columns=X.columns)
    yp = pd.concat(frames_y)
    keep = np.asarray((Xp.index + pd.Timedelta(days=1)).year < year)
    Xp, yp = Xp[keep], yp[keep]
    order = np.argsort(Xp.index.to_numpy(), kind="stable")
    Xp, yp = Xp.iloc[order], yp.iloc[order]
    Xp.attrs.update(X.attrs)
    Xp.attrs["pooled_stations"] = len(frames_X) - 1
    return Xp, yp


@dataclass
class Result:
    """Everything a run produces (the notebook shows it, ``metrics_document`` saves it)."""

    station: str
    pollutant: str
    target: str
    threshold: float
    use_weather_forecast: bool
    model: aqm.Forecaster
    test_year: int
    train_period: tuple[pd.Timestamp, pd.Timestamp]
    test_period: tuple[pd.Timestamp, pd.Timestamp]
    test_table: pd.DataFrame
    scores: dict[str, dict[str, float]]
    notes: list[str] = field(default_factory=list)


def run(
    daily: pd.DataFrame,
    station: str | None = None,
    pollutant: str = DEFAULT_POLLUTANT,
    *,
    threshold: float | None = None,
    use_weather_forecast: bool = False,
    quick: bool = False,
    seed: int = 0,
    pool_stations: int | None = None,
) -> Result:
    """Features, time split (the last full year as test), fit, forecasts and scores.

    The model learns from the chosen station and up to ``pool_stations`` other stations
    measuring the same quantity (default ``POOL``, ``QUICK_POOL`` in quick mode), over the
    training years only; it is scored on the chosen station's test year.
    """
    pollutant = str(pollutant).upper().replace(".", "")
    station = choose_station(daily, pollutant, station)
    thr = float(aqm.default_threshold(pollutant) if threshold is None else threshold)
    X, y = make_features(daily, station, pollutant, use_weather_forecast=use_weather_forecast)
    target_days = X.index + pd.Timedelta(days=1)
    year = test_year(target_days, y)
    train = np.asarray(target_days.year < year)
    test = np.asarray(target_days.year == year)
    n_pool = (QUICK_POOL if quick else POOL) if pool_stations is None else pool_stations
    X_train, y_train = pooled_training_rows(
        daily, X, y, year, n_pool, use_weather_forecast=use_weather_forecast
    )
    model = aqm.fit(
        X_train,
        y_train,
        threshold=thr,
        quick=quick,
        seed=seed,
        use_weather_forecast=use_weather_forecast,
    )
    model.station, model.info["pooled_stations"] = station, X_train.attrs["pooled_stations"]
    clim = aqm.monthly_climatology(y[train].dropna())
    table = aqm.forecast_table(model, X[test], y[test], clim)
    scores = aqm.score(table, pollutant, thr)
    notes = []
    target = X.attrs["target"]
    if pollutant in ("NO2", "O3") and target == pollutant:
        notes.append(
            f"Pas de maximum horaire de {pollutant} dans les données : la cible est la moyenne "
            "journalière, alors que le seuil réglementaire porte sur les valeurs horaires."
        )
    if use_weather_forecast:
        notes.append(
            "Option « prévision météo » activée : la météo du lendemain est la météo observée "
            "(prévision parfaite), les scores sont donc optimistes."
        )
    if scores["modele"]["threshold_days"] == 0:
        notes.append(
            f"Aucun jour au-dessus de {thr:g} µg/m³ sur la période de test : précision, rappel "
            "et F1 ne sont pas interprétables ; essayez un seuil plus bas."
        )
    train_days = target_days[train]
    return Result(
        station=station,
        pollutant=pollutant,
        target=target,
        threshold=thr,
        use_weather_forecast=use_weather_forecast,
        model=model,
        test_year=year,
        train_period=(train_days.min(), train_days.max()),
        test_period=(pd.Timestamp(year, 1, 1), table["date_prevue"].max()),
        test_table=table,
        scores=scores,
        notes=notes,
    )


ALERT_RULE_TEXTS = {
    "probabilite": "quand la probabilité prévue (calibrée) atteint {cutoff:.2f}",
    "persistance": "quand la valeur du jour dépasse déjà le seuil (persistance : sur les années "
    "d'apprentissage, elle repérait mieux les dépassements que la probabilité du modèle)",
    "probabilite_ou_persistance": "quand la probabilité prévue (calibrée) atteint {cutoff:.2f} "
    "ou que la valeur du jour dépasse déjà le seuil",
}


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
        "future_information": bool(
            any(f.endswith(FUTURE_SUFFIX) for f in result.model.feature_names)
        ),
        "probability_cutoff": result.model.cutoff,
        "alert_rule": result.model.alert_rule,
        "calibrated_probability": result.model.calibration is not None,
        "pooled_stations": result.model.info.get("pooled_stations", 0),
        "training_rows": result.model.info.get("train_rows"),
        "train_period": [result.train_period[0], result.train_period[1]],
        **extra,
    }


def metrics_document(
    result: Result, quality_rep, daily: pd.DataFrame | None = None, **extra_parameters: Any
) -> dict:
    """The ``metrics.json`` payload (shape in ``docs/design.md``); ``daily`` gives ``rows``."""
    scores = result.scores
    data = quality_rep.to_dict() if hasattr(quality_rep, "to_dict") else dict(quality_rep)
    if daily is not None:  # the quality report counts station × pollutant values
        data["summary"] = {**data.get("summary", {}), "values": data.get("rows")}
        data["rows"] = len(daily)
    return metrics_payload(
        ENTRY_ID,
        quality=data,
        test_period=result.test_period,
        model_name=MODEL_NAME + ("_avec_prevision_meteo" if result.use_weather_forecast else ""),
        model_metrics={
            **scores["modele"],
            "mae_gain_vs_persistence": gain_over_persistence(result),
        },
        baselines={k: v for k, v in scores.items() if k != "modele"},
        parameters=parameters(result, **extra_parameters),
    )


def predictions(result: Result) -> pd.DataFrame:
    """The predictions table written to ``predictions.csv`` (with ATMO classes)."""
    table = result.test_table.copy()
    names = np.array(aqm.ATMO_CLASSES, dtype=object)
    for col, src in (("classe_atmo_observee", "observe"), ("classe_atmo_prevue", "prevision")):
        cls = aqm.atmo_class(table[src], result.pollutant)
        table[col] = [names[int(c)] if np.isfinite(c) else None for c in cls]
    return table


# ------------------------------------------------------------------------------------ reference


def build_reference(quick: bool = False, output_root: Path | None = None) -> dict:
    """Train on the committed sample (Lille Fives, PM10), write the ``.skops`` file and card."""
    from models.card import measure_footprint, render_card, write_card
    from models.persist import save_model

    paths = entry_paths(ENTRY_ID, output_root) if output_root else entry_paths(ENTRY_ID)
    daily = load()
    with measure_footprint() as footprint:
        result = run(daily, DEFAULT_STATION, DEFAULT_POLLUTANT, quick=quick)
    rep = quality(daily)
    doc = metrics_document(result, rep, daily, quick=quick)
    model = result.model
    metadata = {
        "entry_id": ENTRY_ID,
        "station": model.station,
        "pollutant": model.pollutant,
        "target": model.target,
        "threshold": model.threshold,
        "probability_cutoff": model.cutoff,
        "alert_rule": model.alert_rule,
        "calibration": model.calibration,
        "feature_names": model.feature_names,
        "log_residuals": [float(r) for r in model.residuals],
        "use_weather_forecast": model.use_weather_forecast,
        "test_period": doc["test_period"],
        "model_metrics": doc["model"]["metrics"],
    }
    save_model(model.regressor, paths.artifact, metadata=metadata)
    footprint["model_size_kb"] = paths.artifact.stat().st_size / 1024
    card = render_card(
        ENTRY_ID,
        title=TITLE,
        intended_use=[
            "Prévoir chaque soir, pour une station et un polluant, la concentration du "
            "lendemain et la probabilité de dépasser le seuil d'information, afin de préparer "
            "l'information du public et les mesures d'urgence plus tôt.",
            "Aide à la décision pour les services environnement : la procédure préfectorale "
            "reste fondée sur les prévisions officielles de l'AASQA (Atmo).",
            "Méthode : gradient boosting (perte absolue, en log) sur la variation du niveau, "
            "avec les niveaux récents de la station, la fin de journée horaire (soirée, "
            "dernières heures, minimum) quand les données sont horaires, le niveau régional des "
            "autres stations, le niveau récent du même jour de la semaine et le calendrier. "
            "Probabilité calibrée (isotonique) et règle d'alerte choisies sur les années "
            "d'apprentissage uniquement (prévisions hors échantillon).",
        ],
        data={
            **doc["data"],
            "description": "Échantillon généré (processus documenté, données non réelles) : "
            "4 stations de la métropole lilloise, 2013-2019, polluants journaliers et météo "
            "aux codes Météo-France. Modèle de référence : station Lille Fives, PM10.",
        },
        metrics=doc,
        limits=[
            "Échantillon généré : les scores mesurent la méthode, pas une performance réelle.",
            "Peu de jours de dépassement par an : précision, rappel et F1 varient beaucoup "
            "d'une année à l'autre.",
            "Sans prévision météo du lendemain (option désactivée par défaut), le modèle ne "
            "voit venir un épisode que par la situation du jour.",
            "Un modèle par station et par polluant ; à réentraîner sur les données locales.",
            "Données réelles Airparif (horaires, sans météo, test 2019, commande "
            "benchmarks/air_quality_realdata.py) : MAE 9 à 25 % sous la persistance pour le "
            "maximum horaire de NO2 et d'O3 (16 stations ; 8,7 % à Cergy pour l'O3) ; pour les "
            "jours de dépassement, F1 proche de la persistance (souvent un peu au-dessus, "
            "parfois en dessous : la règle d'alerte combine souvent probabilité et "
            "persistance). Les seuils rares (NO2 200, O3 180 : 0 à 9 jours par an) restent "
            "mal prévus ; pour les pics d'ozone, il faut la prévision météo du lendemain.",
        ],
        footprint=footprint,
        metric_columns=METRIC_COLUMNS,
    )
    write_card(paths.card, card)
    return doc


def load_reference(path: Path | None = None) -> tuple[Any, dict]:
    """The reference regressor (explicitly trusted types only) and its metadata."""
    from models.persist import load_metadata, load_model

    target = Path(path) if path else entry_paths(ENTRY_ID).artifact
    return load_model(target, trusted=TRUSTED_TYPES), load_metadata(target)


def main(argv: list[str] | None = None) -> int:
    """``python -m models.air_quality build [--quick]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "build":
        print("usage : python -m models.air_quality build [--quick]")
        return 2
    doc = build_reference(quick="--quick" in args)
    m = doc["model"]["metrics"]
    print(
        f"Modèle de référence écrit : MAE {m['mae']:.2f}, F1 {m['f1']:.2f} "
        f"(persistance : MAE {doc['baselines']['persistance']['metrics']['mae']:.2f})."
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
