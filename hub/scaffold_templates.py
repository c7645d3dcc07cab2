"""Text templates of a new entry's Python files, for ``biblio new-entry`` (``string.Template``).

Placeholders: ``$entry_id``, ``$title_doc`` (title for docstrings), ``$title_repr`` (title as
a Python literal) and ``$seed``. Kept as Python strings so that they ship with the package.
"""

MODULE = r'''"""Library entry ``${entry_id}``, scaffolded by ``biblio new-entry`` (adapt it).

${title_doc}.

A daily value per site (e.g. a count, a consumption) forecast from the calendar: the model is
a ridge regression of ``log(1 + value)`` on one-hot site, weekday and month (multiplicative
effects); the reference it must beat is the mean of the same site and weekday over the
training period. Replace the features, the model and
the baselines by the entry's own, keeping the functions the notebook calls.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from models.contract import entry_paths

ROOT = Path(__file__).resolve().parents[1]

ENTRY_ID = "${entry_id}"
TITLE = ${title_repr}
SCHEMA = entry_paths(ENTRY_ID, ROOT).schema
ALIASES: dict[str, list[str]] = {
    "site": ["nom_site", "lieu", "station", "compteur", "identifiant"],
    "date": ["jour", "date_mesure", "date_releve"],
    "valeur": ["value", "nombre", "total", "mesure", "quantite"],
}
TEXT_COLUMNS = ("site",)
FEATURES = ["site", "weekday", "month"]
MODEL_NAME = "regression_calendrier"
BASELINE_NAME = "moyenne_site_jour_semaine"
LABELS = {"reel": "Réel", MODEL_NAME: "Modèle", BASELINE_NAME: "Moyenne site × jour"}


def _read(data_path, column_map):
    from models.io import read_table

    source = entry_paths(ENTRY_ID, ROOT).sample if data_path is None else data_path
    return read_table(
        source,
        column_map=column_map or None,
        aliases=ALIASES,
        text_columns=TEXT_COLUMNS,
        date_columns=("date",),
    )


def validate_file(path, column_map=None):
    """Validation report of a file against ``datasets/${entry_id}/schema.json``."""
    from models.validation import load_schema, validate

    return validate(_read(path, column_map), load_schema(SCHEMA))


def load(data_path=None, column_map=None) -> pd.DataFrame:
    """Read and validate a file (``None``: the committed sample); canonical, sorted frame.

    Raises ``DataReadError`` / ``DataValidationError`` (French) when the file is unusable.
    """
    from models.validation import load_schema, validate

    raw = _read(data_path, column_map)
    validate(raw, load_schema(SCHEMA)).raise_if_errors()
    frame = raw.copy()
    if "site" not in frame.columns:
        frame["site"] = "ensemble"
    frame["site"] = frame["site"].astype(str)
    frame = frame.dropna(subset=["date", "valeur"])
    return frame[["site", "date", "valeur"]].sort_values(["site", "date"]).reset_index(drop=True)


def quality(frame: pd.DataFrame):
    """Data-quality report (grade A–E, French reasons) of a canonical frame."""
    from models.quality import quality_report

    return quality_report(
        frame, date_column="date", value_columns=["valeur"], series_column="site"
    )


def features(frame: pd.DataFrame) -> pd.DataFrame:
    dates = pd.to_datetime(frame["date"])
    return pd.DataFrame(
        {
            "site": frame["site"].astype(str).to_numpy(),
            "weekday": dates.dt.day_of_week.astype(str).to_numpy(),
            "month": dates.dt.month.astype(str).to_numpy(),
        },
        index=frame.index,
    )


def split(frame: pd.DataFrame, test_days: int = 60) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on everything before the last ``test_days`` days, test on them."""
    cutoff = pd.Timestamp(frame["date"].max()) - pd.Timedelta(days=test_days)
    return frame[frame["date"] <= cutoff], frame[frame["date"] > cutoff]


def fit(train: pd.DataFrame, quick: bool = False):
    """Ridge regression of ``log(1 + valeur)`` on one-hot site, weekday and month."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    encoder = ColumnTransformer(
        [("calendrier", OneHotEncoder(handle_unknown="ignore"), FEATURES)]
    )
    model = Pipeline([("encodage", encoder), ("ridge", Ridge(alpha=1.0))])
    return model.fit(features(train), np.log1p(train["valeur"].to_numpy(dtype=float)))


def predict(model, frame: pd.DataFrame) -> np.ndarray:
    return np.clip(np.expm1(model.predict(features(frame))), 0, None)


def baseline(train: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """Mean of the same site and weekday over ``train`` (else the site's, else overall mean)."""
    t, f = features(train), features(frame)
    t["valeur"] = train["valeur"].to_numpy(dtype=float)
    by_day = t.groupby(["site", "weekday"])["valeur"].mean()
    by_site = t.groupby("site")["valeur"].mean()
    keys = pd.MultiIndex.from_frame(f[["site", "weekday"]])
    values = by_day.reindex(keys).to_numpy()
    values = np.where(np.isnan(values), by_site.reindex(f["site"]).to_numpy(), values)
    return np.where(np.isnan(values), t["valeur"].mean(), values)


def evaluate(frame: pd.DataFrame, forecasts: dict[str, np.ndarray]) -> dict[str, dict]:
    """MAE, RMSE and MAPE of each forecast against ``frame["valeur"]``."""
    from models.metrics import mae, mape, rmse

    y = frame["valeur"].to_numpy(dtype=float)
    return {
        name: {"mae": mae(y, p), "rmse": rmse(y, p), "mape": mape(y, p)}
        for name, p in forecasts.items()
    }


def comparison(scores: dict[str, dict]) -> pd.DataFrame:
    """French comparison table, one row per forecast."""
    table = pd.DataFrame(scores).T.rename(
        index=LABELS, columns={"mae": "MAE", "rmse": "RMSE", "mape": "MAPE (%)"}
    )
    return table.astype(float).round(2)


def prediction_table(frame: pd.DataFrame, forecasts: dict[str, np.ndarray]) -> pd.DataFrame:
    out = frame[["site", "date"]].copy()
    out["reel"] = frame["valeur"].to_numpy()
    for name, values in forecasts.items():
        out[name] = np.round(values, 2)
    return out.reset_index(drop=True)


def plot(frame: pd.DataFrame, forecasts: dict[str, np.ndarray]):
    """Daily total over every site: actual values and each forecast."""
    import matplotlib.pyplot as plt

    table = prediction_table(frame, forecasts).groupby("date").sum(numeric_only=True)
    fig, ax = plt.subplots(figsize=(9, 3.5))
    for column in table.columns:
        ax.plot(table.index, table[column], label=LABELS.get(column, column))
    ax.set_xlabel("Date")
    ax.set_ylabel("Total journalier")
    ax.set_title("Période de test : réel et prévisions")
    ax.legend()
    fig.tight_layout()
    return fig


def build_reference(quick: bool = False, output_root: Path | None = None) -> dict:
    """Train on the sample, score on its last 60 days, write the artifact and the card."""
    from models.card import measure_footprint, render_card, write_card
    from models.contract import metrics_payload
    from models.persist import save_model

    paths = entry_paths(ENTRY_ID, output_root or ROOT)
    frame = load()
    train, test = split(frame)
    with measure_footprint() as footprint:
        model = fit(train, quick=quick)
    forecasts = {MODEL_NAME: predict(model, test), BASELINE_NAME: baseline(train, test)}
    scores = evaluate(test, forecasts)
    metrics = metrics_payload(
        ENTRY_ID,
        quality=quality(frame),
        test_period=(test["date"].min(), test["date"].max()),
        model_name=MODEL_NAME,
        model_metrics=scores[MODEL_NAME],
        baselines={BASELINE_NAME: scores[BASELINE_NAME]},
        parameters={"test_days": 60, "quick": quick},
    )
    save_model(model, paths.artifact, metadata={"entry_id": ENTRY_ID, "metrics": metrics})
    card = render_card(
        ENTRY_ID,
        title=TITLE,
        intended_use="Exemple d'entrée : prévoir une valeur journalière par site (à adapter).",
        data=metrics["data"],
        metrics=metrics,
        limits=[
            "Entraîné sur un échantillon généré, pas sur des données réelles.",
            "Le calendrier seul (site, jour, mois) ne voit ni la météo ni les événements.",
        ],
        footprint=footprint,
    )
    write_card(paths.card, card)
    return {"artifact": paths.artifact, "card": paths.card, "metrics": metrics}
'''

GENERATOR = r'''"""Seeded generator of the ``${entry_id}`` sample (made by ``biblio new-entry``).

One value per site and per day: ``level[site] × weekday effect × (1 + 0.1 sin(season))``
times a log-normal noise (sd 0.08), rounded. Replace it by a generator that reproduces the
entry's real format and its pitfalls.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from models.fsutil import atomic_path

DEFAULT_SEED = ${seed}
WEEKDAY_EFFECT = (1.0, 1.05, 1.1, 1.05, 0.95, 0.6, 0.5)


def generate(seed: int = DEFAULT_SEED, sites: int = 3, days: int = 240) -> pd.DataFrame:
    """The sample table: columns ``site``, ``date``, ``valeur``."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    frames = []
    for i in range(sites):
        level = rng.uniform(80, 300)
        weekday = np.array(WEEKDAY_EFFECT)[dates.day_of_week]
        season = 1 + 0.1 * np.sin(2 * np.pi * dates.day_of_year / 365.25)
        noise = rng.lognormal(0, 0.08, size=days)
        frames.append(
            pd.DataFrame(
                {
                    "site": f"site_{i + 1:02d}",
                    "date": dates.strftime("%Y-%m-%d"),
                    "valeur": np.round(level * weekday * season * noise).astype(int),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def write_sample(dataset_dir: Path | str, seed: int = DEFAULT_SEED) -> Path:
    """Write ``sample.csv`` into ``dataset_dir`` atomically."""
    target = Path(dataset_dir) / "sample.csv"
    with atomic_path(target) as tmp:
        generate(seed=seed).to_csv(tmp, index=False, encoding="utf-8")
    return target
'''
