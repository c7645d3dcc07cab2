"""Library entry ``canteen_attendance``: forecast school-canteen meals 2 weeks ahead.

The central kitchen orders meals 2–3 weeks in advance and children must eat, so the reference
model forecasts a **high quantile** of attendance (``HistGradientBoostingRegressor`` with the
quantile loss) from features known ``horizon_days`` before the day (see
``models.canteen.features``), and is judged on over-production **and** short days against the
agents' forecast and naive baselines (``models.canteen.baselines``).

Typical use (the notebook does exactly this)::

    data, report = load_checked(data_path, column_map)   # sample when data_path is None
    train, test = split(data, test_months=4)
    feats = features(data, horizon_days=14)               # once, for every step below
    model = fit(train, horizon_days=14, quantile=DEFAULT_QUANTILE, feats=feats, calibrate=True)
    forecasts, scores, by_canteen = evaluate(model, data, train, test, feats=feats)
    curve = quantile_tradeoff(model, data, test, feats=feats)

``python -m models.canteen_attendance build`` rebuilds the reference model file and its card.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from models.canteen import baselines as bl
from models.canteen import tradeoff as to
from models.canteen.evaluation import (  # noqa: F401 - re-exported for the notebook
    errors_by_weekday,
    per_canteen,
    per_canteen_summary,
    score_forecasts,
)
from models.canteen.features import feature_columns, make_features, observed, prepare
from models.contract import entry_paths

if TYPE_CHECKING:  # scikit-learn is imported when a model is fitted (the runner's checks and
    # ``biblio validate`` import this module without needing it)
    from sklearn.ensemble import HistGradientBoostingRegressor

ENTRY_ID = "canteen_attendance"
TITLE = "Prévision de la fréquentation des cantines scolaires"
SCHEMA = entry_paths(ENTRY_ID).schema
DEFAULT_HORIZON = 14
DEFAULT_QUANTILE = 0.8
DEFAULT_TEST_MONTHS = 4
OPENMP_THREADS = 1
"""Threads of the gradient boosting. One: on a small shared machine OpenMP threads fighting
for busy cores made fits ~10x slower (measured), and one thread is fast enough here."""
MAX_TRAIN_ROWS = 60_000
"""Full mode trains on the most recent rows only, at most this many (cost grows with rows)."""
QUICK_HISTORY_DAYS = 550
MODEL_NAME = "modele_quantile"
AGENTS = "prevision_agents"
NAIVE = "moyenne_8_semaines"
ENROLMENT = "ratio_effectif"
FORECAST_LABELS = {
    MODEL_NAME: "Modèle (quantile haut)",
    AGENTS: "Prévision des agents",
    NAIVE: "Moyenne même jour, 8 semaines (J-21)",
    ENROLMENT: "Ratio semaine × effectif",
}
ALIASES: dict[str, list[str]] = {
    "site_id": ["id_site", "code_site", "id_cantine", "code_cantine", "identifiant_site"],
    "site_nom": ["nom_site", "nom_cantine", "cantine", "restaurant", "nom_restaurant", "ecole"],
    "site_type": ["type_site", "type", "type_ecole", "type_restaurant"],
    "date": ["jour", "date_repas", "date_service", "date_du_repas"],
    "reel": ["reels", "frequentation", "repas_servis", "nb_repas", "convives", "nombre_convives"],
    "prevision": ["prevu", "previsions", "prevision_agents", "repas_prevus", "repas_commandes"],
    "effectif": ["effectifs", "inscrits", "nb_inscrits", "nombre_inscrits"],
    "menu": ["menus", "plat", "plat_principal", "type_menu"],
}
TEXT_COLUMNS = ("site_id", "site_nom", "site_type", "menu")


# ------------------------------------------------------------------------------------ data


def _read(data_path, column_map):
    from models.io import read_table

    source = entry_paths(ENTRY_ID).sample if data_path is None else data_path
    return read_table(
        source,
        column_map=column_map or None,
        aliases=ALIASES,
        text_columns=TEXT_COLUMNS,
        date_columns=("date",),
    )


def validate_file(path, column_map=None):
    """Validation report of a file against ``datasets/canteen_attendance/schema.json``."""
    from models.validation import load_schema, validate

    return validate(_read(path, column_map), load_schema(SCHEMA))


def load(data_path=None, column_map=None) -> pd.DataFrame:
    """Read, validate and put into canonical form (``features.prepare``) a canteen file.

    ``None`` reads the committed sample. Raises ``DataReadError`` / ``DataValidationError``
    (French messages) when the file cannot be used.
    """
    return load_checked(data_path, column_map)[0]


def load_checked(data_path=None, column_map=None):
    """``load`` and the validation report of the same reading: ``(frame, report)``.

    The notebook shows the report and uses the frame: the file is read once.
    """
    from models.validation import load_schema, validate

    raw = _read(data_path, column_map)
    report = validate(raw, load_schema(SCHEMA))
    report.raise_if_errors()
    if "reel" not in raw.columns:
        from models.errors import DataReadError

        listing = ", ".join(f"« {c} »" for c in raw.columns)
        raise DataReadError(
            "Colonne des repas servis introuvable (« reel »). Colonnes du fichier : "
            f"{listing}. Indiquez la correspondance, par exemple column_map = "
            '{"nom de votre colonne": "reel"}.'
        )
    frame = prepare(raw)
    if frame.empty:
        from models.errors import DataReadError

        raise DataReadError("Le fichier ne contient aucune ligne datée utilisable.")
    frame.attrs["rows_read"] = len(raw)
    frame.attrs["duplicates_dropped"] = int(len(raw) - len(frame))
    return frame, report


def quality(frame: pd.DataFrame):
    """Data-quality report (``models.quality``) of a canonical frame."""
    from models.calendar import french_calendar
    from models.quality import quality_report

    # the calendar of the whole period once (quality_report asks once per canteen)
    days = pd.date_range(frame["date"].min(), frame["date"].max(), freq="D")
    cal = french_calendar(days, zone="B").reindex(days)
    is_closed = cal["is_public_holiday"].fillna(False) | cal["is_school_vacation"].fillna(False)
    closed = days[is_closed.to_numpy(bool)]

    def service_days(index: pd.DatetimeIndex):
        shut = index.normalize().isin(closed)
        return ~shut & np.isin(index.day_of_week, [0, 1, 3, 4])

    values = [c for c in ("reel", "prevision", "effectif") if c in frame.columns]
    return quality_report(
        frame,
        date_column="date",
        value_columns=values,
        series_column="series",
        expected_weekdays=[0, 1, 3, 4],
        expected=service_days,
    )


def split(
    frame: pd.DataFrame,
    *,
    test_months: int | None = DEFAULT_TEST_MONTHS,
    test_start: str | None = None,
    test_end: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time split: the test set is ``[test_start, test_end]`` or the last ``test_months``."""
    if test_start is None:
        last = frame["date"].max()
        start = last - pd.DateOffset(months=int(test_months)) + pd.Timedelta(days=1)
    else:
        start = pd.Timestamp(test_start)
    end = pd.Timestamp(test_end) if test_end is not None else frame["date"].max()
    train = frame[frame["date"] < start]
    test = frame[(frame["date"] >= start) & (frame["date"] <= end)]
    return train, test


# ----------------------------------------------------------------------------------- model


@dataclass
class CanteenForecaster:
    """Fitted quantile model(s): ``estimators`` maps a quantile to its regressor.

    With ``fit(..., calibrate=True)``: ``median`` is a median model fitted without the last
    training days and ``offsets`` the margins (log scale, per level) calibrated on those days,
    which draw the trade-off curve (``models.canteen.tradeoff``); ``calibration`` describes
    the slice.
    """

    estimators: dict[float, HistGradientBoostingRegressor]
    features: list[str]
    horizon_days: int
    quantile: float
    trained_until: str = ""
    metadata: dict = field(default_factory=dict)
    median: HistGradientBoostingRegressor | None = None
    offsets: dict[float, float] = field(default_factory=dict)
    calibration: dict = field(default_factory=dict)


FULL_MAX_ITER = 120
FULL_LEARNING_RATE = 0.1
"""Full mode: 120 trees at 0.1 (was 250 at 0.05: same scores on the real Nantes file within
noise, half the time; see ``benchmarks/canteen_realdata.py``)."""
CALIBRATION_MAX_ITER = 60
CALIBRATION_LEARNING_RATE = 0.2
"""The calibrated median model (band and trade-off curve only) is lighter still: on the real
Nantes file its curve moved by less than 0.1 point of over-production (measured)."""


def _regressor(
    quantile: float, quick: bool, seed: int, *, light: bool = False
) -> HistGradientBoostingRegressor:
    from sklearn.ensemble import HistGradientBoostingRegressor

    if quick:
        max_iter, learning_rate = 40, 0.15
    elif light:
        max_iter, learning_rate = CALIBRATION_MAX_ITER, CALIBRATION_LEARNING_RATE
    else:
        max_iter, learning_rate = FULL_MAX_ITER, FULL_LEARNING_RATE
    return HistGradientBoostingRegressor(
        loss="quantile",
        quantile=quantile,
        max_iter=max_iter,
        learning_rate=learning_rate,
        max_leaf_nodes=31,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )


def features(frame: pd.DataFrame, horizon_days: int = DEFAULT_HORIZON) -> pd.DataFrame:
    """Features of every row of ``frame`` (``make_features``), to compute once and pass as
    ``feats`` to ``fit``, ``predict``, ``evaluate`` and ``quantile_tradeoff``.

    Computing them on the whole data set and using them for the training rows is safe: a
    feature only uses what was observed ``horizon_days`` before its own row (no-leakage test).
    """
    feats = make_features(frame, horizon_days)
    feats.attrs["horizon_days"] = int(horizon_days)
    return feats


def training_rows(
    frame: pd.DataFrame, horizon_days: int, feats: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    """Features and target ratio (``reel / base``) of the rows usable for training.

    ``feats``: features of a frame holding every row of ``frame`` (``features``), else computed.
    """
    if feats is None:
        feats = make_features(frame, horizon_days)
    else:
        known = feats.attrs.get("horizon_days", horizon_days)
        if known != horizon_days:
            raise ValueError(f"feats were built for horizon_days={known}, not {horizon_days}")
        feats = feats.loc[frame.index]
    keep = frame.index.isin(observed(frame).index) & feats["base"].notna().to_numpy()
    feats = feats[keep]
    ratio = (frame.loc[feats.index, "reel"] / feats["base"]).clip(0, 3)
    return feats, ratio


def recent_rows(dates: pd.Series, quick: bool) -> np.ndarray:
    """Training rows kept: quick mode the last ``QUICK_HISTORY_DAYS`` days, full mode the most
    recent ``MAX_TRAIN_ROWS`` rows (older years add cost more than skill)."""
    if quick:
        return (dates >= dates.max() - pd.Timedelta(days=QUICK_HISTORY_DAYS)).to_numpy()
    keep = np.ones(len(dates), dtype=bool)
    if len(dates) > MAX_TRAIN_ROWS:
        order = np.argsort(dates.to_numpy(), kind="stable")
        keep[order[: len(dates) - MAX_TRAIN_ROWS]] = False
    return keep


def fit(
    train: pd.DataFrame,
    *,
    horizon_days: int = DEFAULT_HORIZON,
    quantile: float = DEFAULT_QUANTILE,
    quantiles: tuple[float, ...] = (0.5,),
    quick: bool = False,
    seed: int = 0,
    feats: pd.DataFrame | None = None,
    calibrate: bool = False,
) -> CanteenForecaster:
    """Fit the quantile model on the canonical ``train`` frame (plus ``quantiles``, for bands).

    ``feats``: precomputed ``features(data, horizon_days)`` of a frame containing ``train``.
    ``calibrate``: also fit the median model and margins of the trade-off curve
    (``models.canteen.tradeoff``); the notebook then needs no other quantile model.
    """
    if not 0 < quantile < 1:
        raise ValueError("quantile must be in (0, 1)")
    X, ratio = training_rows(train, horizon_days, feats)
    dates = train.loc[X.index, "date"]
    keep = recent_rows(dates, quick)
    X, ratio, dates = X[keep], ratio[keep], dates[keep]
    if len(X) < 50:
        from models.errors import DataValidationError

        raise DataValidationError(
            None,
            "Pas assez d'historique pour entraîner le modèle : il faut au moins 50 jours "
            f"observés précédés de {horizon_days} jours d'historique (trouvés : {len(X)}).",
        )
    # a feature never known in training (e.g. last year's level with under a year of history)
    # is left out: scikit-learn cannot bin an all-empty column
    columns = [c for c in feature_columns(X) if X[c].notna().any()]
    X = X[columns]
    # Build the regressors first: this imports scikit-learn and loads its OpenMP runtime,
    # which ``threadpool_limits`` can only limit once loaded (else 2 threads, ~10x slower
    # on a busy machine: measured).
    levels = sorted({float(quantile), *map(float, quantiles)})
    estimators = {q: _regressor(q, quick, seed) for q in levels}
    with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
        for estimator in estimators.values():
            estimator.fit(X, ratio)
        median, offsets, calibration = (
            _calibrate(X, ratio, dates, quick, seed) if calibrate else (None, {}, {})
        )
    return CanteenForecaster(
        estimators=estimators,
        features=columns,
        horizon_days=int(horizon_days),
        quantile=float(quantile),
        trained_until=str(train["date"].max().date()),
        metadata={"training_rows": int(len(X))},
        median=median,
        offsets=offsets,
        calibration=calibration,
    )


def _calibrate(X: pd.DataFrame, ratio: pd.Series, dates: pd.Series, quick: bool, seed: int):
    """Median model fitted before the calibration slice, and the margins learnt on the slice."""
    mask = to.calibration_mask(dates)
    if mask.sum() < 30 or (~mask).sum() < 50:  # too short to hold days out: no margins, and
        # a median model on every row for the band
        median = _regressor(0.5, quick, seed, light=True).fit(X, ratio)
        return median, {}, {"rows": int(mask.sum()), "skipped": True}
    median = _regressor(0.5, quick, seed, light=True).fit(X[~mask], ratio[~mask])
    # ratio = reel / base and forecast = prediction × base, so log(reel / forecast) is
    # log(ratio / prediction)
    offsets = to.log_offsets(ratio[mask].to_numpy(), median.predict(X[mask]))
    info = {
        "start": str(dates[mask].min().date()),
        "end": str(dates[mask].max().date()),
        "rows": int(mask.sum()),
        "median_training_rows": int((~mask).sum()),
    }
    return median, offsets, info


def _estimator(model: CanteenForecaster, quantile: float):
    if quantile in model.estimators:
        return model.estimators[quantile]
    if quantile == 0.5 and model.median is not None:
        return model.median
    raise ValueError(f"no model for quantile {quantile:g} (fitted: {sorted(model.estimators)})")


def predict(
    model: CanteenForecaster,
    frame: pd.DataFrame,
    quantile: float | None = None,
    *,
    feats: pd.DataFrame | None = None,
    index: pd.Index | None = None,
) -> pd.Series:
    """Forecast meals for every row of ``frame`` (its history gives the lagged features).

    Rows of a series without ``horizon_days`` of history get NaN. ``feats`` (the result of
    ``features(frame, model.horizon_days)``) avoids computing the features again; ``index``
    limits the forecast to those rows (e.g. the test period: much cheaper).
    Quantile 0.5 falls back to the calibrated median model when no full one was fitted.
    """
    q = model.quantile if quantile is None else float(quantile)
    return _forecast(model, _estimator(model, q), frame, feats, index, name=f"q{q:g}")


def _forecast(model, estimator, frame, feats, index, name) -> pd.Series:
    if feats is None:
        feats = _cached_features(model, frame)
    rows = feats if index is None else feats.loc[index]
    X = rows.reindex(columns=model.features)
    with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
        ratio = estimator.predict(X)
    values = np.round(np.clip(ratio, 0, None) * rows["base"].to_numpy())
    return pd.Series(values, index=rows.index, name=name)


def _cached_features(model: CanteenForecaster, frame: pd.DataFrame) -> pd.DataFrame:
    """Features of ``frame``, kept on the model for the last frame seen (same object, shape,
    last date and actual total): the notebook predicts several quantiles on the same data."""
    key = (id(frame), frame.shape, frame["date"].max(), float(frame["reel"].sum()))
    cached = model.metadata.get("_features")
    if cached is None or cached[0] != key:
        cached = (key, make_features(frame, model.horizon_days))
        model.metadata["_features"] = cached
    return cached[1]


def forecast_table(
    model: CanteenForecaster,
    data: pd.DataFrame,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    feats: pd.DataFrame | None = None,
) -> dict[str, pd.Series]:
    """Model and baseline forecasts of the ``test`` rows (index of ``test``)."""
    forecasts = {MODEL_NAME: predict(model, data, feats=feats, index=test.index)}
    agents = bl.agents_forecast(test)
    if agents is not None:
        forecasts[AGENTS] = agents
    forecasts[NAIVE] = bl.same_weekday_mean(data).loc[test.index]
    ratio = bl.enrolment_ratio(test, bl.fit_enrolment_ratio(train))
    if ratio is not None:
        forecasts[ENROLMENT] = ratio
    return forecasts


def tradeoff_quantiles(quick: bool = False) -> tuple[float, ...]:
    """Levels of the over-production / short-days trade-off curve (both modes since the curve
    comes from one calibrated median model; ``quick`` kept for compatibility)."""
    return to.TRADEOFF_GRID


def quantile_tradeoff(
    model: CanteenForecaster,
    data: pd.DataFrame,
    test: pd.DataFrame,
    *,
    feats: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Over-production %, short days and MAE on ``test`` for each level of the curve.

    With calibrated margins (``fit(..., calibrate=True)``): the median model × ``exp(offset)``
    for each level (``marge_pct`` = the margin in %); otherwise one row per fitted quantile
    model (``marge_pct`` empty).
    """
    mask = test["reel"].notna() & (test["reel"] > 0)
    rows = []
    if model.offsets and model.median is not None:
        median = _forecast(model, model.median, data, feats, test.index, name="q0.5")
        curve = {q: (to.with_margin(median, off), off) for q, off in model.offsets.items()}
    else:
        levels = set(model.estimators) | ({0.5} if model.median is not None else set())
        curve = {
            q: (predict(model, data, q, feats=feats, index=test.index), np.nan) for q in levels
        }
    for q in sorted(curve):
        pred, offset = curve[q]
        s = score_forecasts(test[mask], {"m": pred[mask]})["m"]
        margin = float(np.expm1(offset) * 100) if np.isfinite(offset) else np.nan
        rows.append({"quantile": q, "marge_pct": margin, **{k: s[k] for k in _TRADEOFF_KEYS}})
    return pd.DataFrame(rows)


_TRADEOFF_KEYS = ("over_production_pct", "short_days", "short_days_network", "mae")


def calibration_text(model: CanteenForecaster) -> str:
    """French sentence describing where the margins of the trade-off curve were learnt."""
    info = model.calibration
    if not model.offsets or "start" not in info:
        return (
            "Pas de marges calibrées (historique trop court) : la courbe montre les modèles "
            "quantiles entraînés."
        )
    start, end = (pd.Timestamp(info[k]).strftime("%d/%m/%Y") for k in ("start", "end"))
    return (
        f"Marges calibrées sur {info['rows']} cantine-jours du {start} au {end} ; "
        f"modèle médian entraîné sur les {info['median_training_rows']} cantine-jours d'avant."
    )


def comparison(scores: dict[str, dict], per_canteen_table: pd.DataFrame | None = None):
    """French comparison table (one row per forecast) of the main scores."""
    keys = {
        "mae": "MAE (repas/cantine/jour)",
        "mape": "MAPE (%)",
        "over_production_pct": "Surproduction (%)",
        "short_days": "Jours de manque (cantine-jours)",
        "over_production_pct_network": "Surproduction réseau (%)",
        "short_days_network": "Jours de manque réseau",
        "meals_saved_vs_agents": "Repas économisés vs agents",
    }
    table = pd.DataFrame({FORECAST_LABELS.get(n, n): s for n, s in scores.items()}).T
    table = table[[k for k in keys if k in table.columns]].rename(columns=keys)
    if per_canteen_table is not None and len(per_canteen_table):
        summary = per_canteen_summary(per_canteen_table)
        summary.index = [FORECAST_LABELS.get(n, n) for n in summary.index]
        table["MAE moyenne par cantine"] = summary["mae"]
        table["MAPE moyen par cantine (%)"] = summary["mape"]
    return table.astype(float).round(2)


# --------------------------------------------------------------------------------- outputs

CARD_METRICS = (
    "mae",
    "mape",
    "over_production_pct",
    "short_days",
    "over_production_pct_network",
    "short_days_network",
)


def evaluate(
    model: CanteenForecaster,
    data: pd.DataFrame,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    feats: pd.DataFrame | None = None,
) -> tuple[dict[str, pd.Series], dict[str, dict], pd.DataFrame]:
    """Forecasts of the test rows, their scores and the per-canteen table."""
    forecasts = forecast_table(model, data, train, test, feats=feats)
    agents = AGENTS if AGENTS in forecasts else None
    return forecasts, score_forecasts(test, forecasts, agents=agents), per_canteen(test, forecasts)


def metrics_document(
    quality_report, test: pd.DataFrame, scores: dict[str, dict], parameters: dict
) -> dict:
    """The ``metrics.json`` payload (``models.contract.metrics_payload``)."""
    from models.contract import metrics_payload

    return metrics_payload(
        ENTRY_ID,
        quality=quality_report,
        test_period=(test["date"].min(), test["date"].max()),
        model_name=MODEL_NAME,
        model_metrics=scores[MODEL_NAME],
        baselines={name: s for name, s in scores.items() if name != MODEL_NAME},
        parameters=parameters,
    )


def predictions_table(
    test: pd.DataFrame, forecasts: dict[str, pd.Series], median: pd.Series | None = None
) -> pd.DataFrame:
    """Rows of ``predictions.csv``: date, canteen, actual meals and every forecast."""
    out = test[["date", "site_id", "site_nom", "site_type", "reel"]].copy()
    if median is not None:
        out["modele_mediane"] = median.loc[test.index]
    for name, values in forecasts.items():
        out[name] = pd.Series(values, index=test.index)
    return out.sort_values(["date", "site_id"], kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------- reference


def build_reference(
    quick: bool = False, *, artifact: Path | None = None, card: Path | None = None
) -> dict:
    """Train on the sample (all but the last months), score on them, write artifact and card.

    Returns ``{"artifact": path, "card": path, "metrics": payload}``. ``artifact`` / ``card``
    default to ``models/artifacts/canteen_attendance.skops`` / ``models/cards/...md``.
    """
    from models.canteen.reference import build

    return build(quick=quick, artifact=artifact, card=card)


def load_reference(path: Path | None = None) -> CanteenForecaster:
    """Load the reference model file (skops, explicit trusted types)."""
    from models.canteen.reference import load

    return load(path)


def main(argv: list[str] | None = None) -> int:
    """``python -m models.canteen_attendance build [--quick]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "build":
        print("Usage : python -m models.canteen_attendance build [--quick]", file=sys.stderr)
        return 2
    result = build_reference(quick="--quick" in args)
    print(f"Modèle écrit : {result['artifact']}\nFiche écrite : {result['card']}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
