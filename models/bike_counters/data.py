"""Data of the ``bike_counters`` entry: readers, validation, counts per counter-day, quality.

Readers of bike-counter files (Nantes's hourly wide layout, the daily long layout, locations,
weather, labels); ``load_with_report`` validates a counts file against the schema of its
layout; ``prepare`` turns the tidy counts into ``CountData`` (one row per counter-day and the
counts of its hours) for the model; ``quality`` grades the daily totals.

All readers are built on ``models.io.read_table`` (encoding, separator, missing markers, column
aliases and the user's ``column_map``) and return tidy frames with English column names:

- counts, hourly: ``counter_id`` (text, leading zeros kept), ``counter_name``, ``date``,
  ``hour`` (0–23), ``count`` (float, NaN when missing); one row per counter-hour;
- counts, daily: ``counter_id``, ``counter_name``, ``date``, ``count`` and, when the file has
  them, ``label`` (the published ``Anomalie`` column, True/False) and ``modelled`` (the
  published ``Valeur modélisée``);
- ``source_flag`` (the published ``Probabilité de présence d'anomalies``, one per counter-day)
  when present;
- locations: ``counter_id``, ``counter_name``, ``observations``, ``lat``, ``lon``;
- weather: ``date``, ``rain_mm``, ``temperature_c``;
- labels (``labels.csv`` of the generated sample): one row per event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.entries import entry_paths
from models.errors import DataReadError
from models.io import read_table

HOURS = [f"{h:02d}" for h in range(24)]

KINDS = (
    "panne",
    "journee_partielle",
    "pic",
    "sous_comptage",
    "valeur_bloquee",
    "double_comptage",
)
"""Kinds of anomaly, as written in ``labels.csv`` and in the model's output."""

ID, NAME, DAY = "Numéro de boucle", "Libellé", "Jour"
FLAG, WEEKDAY = "Probabilité de présence d'anomalies", "Jour de la semaine"
COUNT, ANOMALY, MODELLED = "Comptage relevé", "Anomalie", "Valeur modélisée"

HOUR_ALIASES: dict[str, list[str]] = {
    f"{h:02d}": [str(h), f"{h}h", f"{h:02d}h", f"h{h:02d}", f"{h:02d}:00", f"{h}h00"]
    for h in range(24)
}
ALIASES: dict[str, list[str]] = {
    ID: [
        "Identifiant du compteur",
        "Numéro",
        "Numero boucle",
        "boucle",
        "id_compteur",
        "compteur_id",
        "counter_id",
        "Identifiant",
    ],
    NAME: ["Nom du compteur", "Nom", "Libelle compteur", "counter_name", "nom_compteur"],
    DAY: ["Date", "Jour de comptage", "jour_comptage", "date_comptage", "day"],
    FLAG: ["Probabilité d'anomalie", "Probabilite anomalies", "Anomalies probables"],
    WEEKDAY: ["jour_semaine", "Jour semaine"],
    COUNT: [
        "Comptage",
        "Comptage releve",
        "Total",
        "Nombre de passages",
        "Passages",
        "count",
        "Comptage journalier",
    ],
    ANOMALY: ["Anomalie détectée", "anomaly"],
    MODELLED: ["Valeur modelisee", "Valeur corrigée", "modelled"],
    **HOUR_ALIASES,
}
"""Known column-name variants (our name: variants), for both count layouts."""

LOCATION_ALIASES: dict[str, list[str]] = {
    "counter_id": ["Numéro", "Numéro de boucle", "Identifiant du compteur", "Identifiant"],
    "counter_name": ["Libellé", "Nom du compteur", "Nom"],
    "observations": ["Observations", "Commentaire"],
    "geo": ["Géolocalisation", "geo_point_2d", "Coordonnées", "geolocalisation", "lat_lon"],
}
WEATHER_ALIASES: dict[str, list[str]] = {
    "date": ["Jour", "Date"],
    "rain_mm": ["pluie_mm", "pluie", "précipitations", "precipitations_mm", "rr", "rain"],
    "temperature_c": ["temperature_c", "température", "temperature", "tm", "temp"],
}
LABEL_ALIASES: dict[str, list[str]] = {
    "counter_id": [ID, "Identifiant du compteur"],
    "start": ["Début", "debut"],
    "end": ["Fin"],
    "kind": ["Type d'anomalie", "type"],
    "injected": ["Valeur injectée"],
    "factor": ["Facteur"],
}

_FLAG_VALUES = {"forte": "Forte", "faible": "Faible"}


def layout_of(columns: Any) -> str:
    """``"hourly"`` (one column per hour), ``"daily"`` (one count column) or ``"unknown"``."""
    cols = set(map(str, columns))
    if sum(h in cols for h in HOURS) >= 20:
        return "hourly"
    if COUNT in cols:
        return "daily"
    return "unknown"


def read_counts_table(
    source: Any, column_map: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, str]:
    """Read a counts file with Nantes's column names (ours); return ``(frame, layout)``.

    Loop ids stay text (``0674``). Raises ``DataReadError`` (French) when the file has neither
    hour columns nor a count column, or no counter/day column.
    """
    raw = read_table(
        source,
        column_map=column_map,
        aliases=ALIASES,
        text_columns=(ID, NAME, FLAG),
        date_columns=(DAY,),
    )
    layout = layout_of(raw.columns)
    if layout == "unknown":
        listing = ", ".join(f"« {c} »" for c in raw.columns)
        raise DataReadError(
            "Impossible de reconnaître le format du fichier de comptages : il faut soit une "
            "colonne par heure (« 00 » à « 23 », format horaire de Nantes Métropole), soit une "
            f"colonne « {COUNT} » (format journalier). Colonnes du fichier : {listing}. "
            "Indiquez la correspondance de colonnes (column_map) si les noms diffèrent."
        )
    missing = [c for c in (ID, DAY) if c not in raw.columns]
    if missing:
        listing = ", ".join(f"« {c} »" for c in raw.columns)
        raise DataReadError(
            "Colonnes indispensables absentes : "
            + ", ".join(f"« {c} »" for c in missing)
            + f". Colonnes du fichier : {listing}. Indiquez la correspondance de colonnes "
            '(column_map), par exemple {"Compteur": "Numéro de boucle"}.'
        )
    return raw, layout


def _numbers(values: pd.Series) -> pd.Series:
    """Counts as floats: unreadable or negative values become NaN (validation reports them)."""
    out = pd.to_numeric(values, errors="coerce").astype("float64")
    return out.where(out >= 0)


def _ids(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.str.replace(r"\.0$", "", regex=True).astype("str")


def _flag(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.lower()
    return text.map(_FLAG_VALUES).fillna("").astype("str")


def tidy_counts(raw: pd.DataFrame, layout: str) -> pd.DataFrame:
    """Turn a frame from ``read_counts_table`` into the tidy English layout (see module doc).

    Rows without a counter or a readable day are dropped (validation reports them); duplicated
    counter-days (or counter-hours) keep their first row. Sorted by counter, day (and hour).
    """
    base = pd.DataFrame(
        {
            "counter_id": _ids(raw[ID]),
            "counter_name": (raw[NAME].astype("str") if NAME in raw else _ids(raw[ID])),
            "date": pd.to_datetime(raw[DAY]).dt.normalize(),
        }
    )
    base["counter_name"] = base["counter_name"].where(
        base["counter_name"].notna() & (base["counter_name"] != "nan"), base["counter_id"]
    )
    if FLAG in raw:
        base["source_flag"] = _flag(raw[FLAG])
    keep = base["counter_id"].notna() & (base["counter_id"] != "nan") & base["date"].notna()
    if layout == "hourly":
        hours = [h for h in HOURS if h in raw.columns]
        values = np.column_stack([_numbers(raw[h]).to_numpy() for h in hours])
        full = np.full((len(raw), 24), np.nan)
        full[:, [int(h) for h in hours]] = values
        base = base[keep].reset_index(drop=True)
        full = full[keep.to_numpy()]
        base = base.drop_duplicates(["counter_id", "date"]).sort_values(["counter_id", "date"])
        full = full[base.index.to_numpy()]
        base = base.reset_index(drop=True)
        n = len(base)
        long = base.loc[np.repeat(np.arange(n), 24)].reset_index(drop=True)
        long["hour"] = np.tile(np.arange(24), n)
        long["count"] = full.reshape(-1)
        return long
    base["count"] = _numbers(raw[COUNT])
    if ANOMALY in raw:
        flag = pd.to_numeric(raw[ANOMALY], errors="coerce")
        text = raw[ANOMALY].astype("string").str.strip().str.lower()
        base["label"] = (flag.fillna(0) > 0) | text.isin(["oui", "true", "vrai"]).fillna(False)
    if MODELLED in raw:
        base["modelled"] = pd.to_numeric(raw[MODELLED], errors="coerce")
    base = base[keep].drop_duplicates(["counter_id", "date"])
    return base.sort_values(["counter_id", "date"]).reset_index(drop=True)


def read_counts(
    source: Any, column_map: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, str]:
    """Read and tidy a counts file (hourly wide or daily long); return ``(frame, layout)``."""
    raw, layout = read_counts_table(source, column_map)
    return tidy_counts(raw, layout), layout


def to_hourly_matrix(hourly: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Tidy hourly rows to ``(days, values)``: one row per counter-day and a ``(n, 24)`` array.

    Missing counter-days inside each counter's period are added (all hours missing), so that an
    outage that removed whole rows from the file is seen too.
    """
    frames, blocks = [], []
    for cid, group in hourly.groupby("counter_id", sort=True):
        dates = pd.date_range(group["date"].min(), group["date"].max(), freq="D")
        values = np.full((len(dates), 24), np.nan)
        pos = dates.get_indexer(group["date"])
        values[pos, group["hour"].to_numpy()] = group["count"].to_numpy()
        names = group.groupby("date")["counter_name"].first().reindex(dates).ffill().bfill()
        frame = pd.DataFrame({"counter_id": cid, "counter_name": names.to_numpy(), "date": dates})
        if "source_flag" in group:
            flags = group.groupby("date")["source_flag"].first().reindex(dates)
            frame["source_flag"] = flags.fillna("").to_numpy()
        frames.append(frame)
        blocks.append(values)
    if not frames:
        return pd.DataFrame(columns=["counter_id", "counter_name", "date"]), np.empty((0, 24))
    return pd.concat(frames, ignore_index=True), np.vstack(blocks)


def complete_daily(daily: pd.DataFrame) -> pd.DataFrame:
    """Add missing counter-days (count NaN) inside each counter's period of a daily frame."""
    frames = []
    for cid, group in daily.groupby("counter_id", sort=True):
        dates = pd.date_range(group["date"].min(), group["date"].max(), freq="D")
        full = group.set_index("date").reindex(dates)
        full.index.name = "date"
        full["counter_id"] = cid
        full["counter_name"] = full["counter_name"].ffill().bfill()
        if "label" in full:
            full["label"] = full["label"].astype("boolean").fillna(False).astype(bool)
        if "source_flag" in full:
            full["source_flag"] = full["source_flag"].fillna("")
        frames.append(full.reset_index())
    if not frames:
        return daily.copy()
    return pd.concat(frames, ignore_index=True)


def read_locations(source: Any, column_map: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read counter locations whose coordinates are one ``"lat,lon"`` field.

    ``counter_id`` is text padded to 4 digits when numeric (``788`` → ``0788``, as in the
    counts files); unreadable coordinates become NaN.
    """
    raw = read_table(
        source,
        column_map=column_map,
        aliases=LOCATION_ALIASES,
        text_columns=("counter_id", "counter_name", "observations", "geo"),
    )
    for col in ("counter_id", "geo"):
        if col not in raw:
            listing = ", ".join(f"« {c} »" for c in raw.columns)
            raise DataReadError(
                "Le fichier des emplacements doit contenir un numéro de compteur et une "
                f"colonne « Géolocalisation » (« lat,lon »). Colonnes du fichier : {listing}."
            )
    ids = _ids(raw["counter_id"])
    ids = ids.where(~ids.str.fullmatch(r"\d+"), ids.str.zfill(4))
    parts = raw["geo"].astype("string").str.split(",", n=1, expand=True)
    if parts.shape[1] < 2:
        parts[1] = pd.NA
    out = pd.DataFrame(
        {
            "counter_id": ids,
            "counter_name": raw["counter_name"] if "counter_name" in raw else ids,
            "observations": raw["observations"] if "observations" in raw else "",
            "lat": pd.to_numeric(parts[0].str.strip(), errors="coerce").astype("float64"),
            "lon": pd.to_numeric(parts[1].str.strip(), errors="coerce").astype("float64"),
        }
    )
    ok = out["lat"].between(-90, 90) & out["lon"].between(-180, 180)
    out.loc[~ok, ["lat", "lon"]] = np.nan
    return out


def read_weather(source: Any, column_map: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read daily weather: ``date`` and any of ``rain_mm``, ``temperature_c``."""
    raw = read_table(source, column_map=column_map, aliases=WEATHER_ALIASES, date_columns=("date",))
    if "date" not in raw or not ({"rain_mm", "temperature_c"} & set(raw.columns)):
        listing = ", ".join(f"« {c} »" for c in raw.columns)
        raise DataReadError(
            "Le fichier météo doit contenir une colonne « date » et « pluie_mm » et/ou "
            f"« temperature_c ». Colonnes du fichier : {listing}."
        )
    cols = ["date", *[c for c in ("rain_mm", "temperature_c") if c in raw]]
    out = raw[cols].dropna(subset=["date"]).copy()
    out["date"] = pd.to_datetime(out["date"]).dt.normalize()
    for col in cols[1:]:
        out[col] = pd.to_numeric(out[col], errors="coerce")
    return out.drop_duplicates("date").sort_values("date").reset_index(drop=True)


def read_labels(source: Any) -> pd.DataFrame:
    """Read a labels file (one row per event: counter, start, end excluded, kind)."""
    raw = read_table(
        source,
        aliases=LABEL_ALIASES,
        text_columns=("counter_id", "kind"),
        date_columns=("start", "end"),
    )
    missing = [c for c in ("counter_id", "start", "end", "kind") if c not in raw]
    if missing:
        raise DataReadError(
            "Le fichier d'étiquettes doit contenir les colonnes « Numéro de boucle », « Début », "
            "« Fin » et « Type d'anomalie »."
        )
    out = raw.copy()
    out["counter_id"] = _ids(out["counter_id"])
    return out.dropna(subset=["start", "end"]).reset_index(drop=True)


def default_paths(dataset_dir: Path) -> dict[str, Path]:
    """Companion files of the committed sample."""
    return {
        "labels": dataset_dir / "labels.csv",
        "weather": dataset_dir / "meteo.csv",
        "locations": dataset_dir / "lieux.csv",
    }


ENTRY_ID = "bike_counters"
TITLE = "Détection d'anomalies dans les comptages vélo"
PATHS = entry_paths(ENTRY_ID)
SCHEMA = PATHS.schema
SCHEMA_DAILY = PATHS.dataset_dir / "schema_journalier.json"
COMPANIONS = default_paths(PATHS.dataset_dir)
QUICK_DAYS = 365
QUICK_COUNTERS = 10
"""Quick mode keeps the last ``QUICK_DAYS`` days of at most ``QUICK_COUNTERS`` counters."""
REAL_DATA = PATHS.dataset_dir / "nantes_comptages_2020_2021.csv.gz"
"""Nantes Métropole's hourly counts, 2020-01-01 → 2021-05-30 (58 loops; datasheet in
``datasets/bike_counters/README.md``)."""
REAL_LOCATIONS = PATHS.dataset_dir / "nantes_lieux_comptages.csv"


def run_data(data_path: Any = None, quick: bool = False) -> Any:
    """The counts a run checks: the user's file, else the generated sample in quick mode,
    else the real Nantes file shipped with the entry."""
    if data_path is not None:
        return data_path
    return PATHS.sample if quick else REAL_DATA


def real_data_path() -> Path:
    """The shipped real Nantes hourly file (``REAL_DATA``)."""
    return REAL_DATA


def is_sample(data_path: Any) -> bool:
    """``True`` for ``None`` or the committed sample's path (its companions apply)."""
    if data_path is None:
        return True
    try:
        return Path(data_path).resolve() == PATHS.sample.resolve()
    except (TypeError, OSError):
        return False


def describe_data(frame: pd.DataFrame, source: Any, weather=None, events=None) -> str:
    """One French paragraph saying plainly which counts a run shows."""
    counters = frame["counter_id"].nunique()
    dates = pd.to_datetime(frame["date"])
    span = f"du {dates.min():%d/%m/%Y} au {dates.max():%d/%m/%Y}"
    layout = "horaires" if frame.attrs.get("layout") == "hourly" else "journaliers"
    if is_sample(source):
        what = (
            f"Échantillon **généré** au format de Nantes Métropole ({counters} boucles, {span}) : "
            "ce ne sont pas de vraies données ; ses anomalies injectées sont connues (labels.csv)."
        )
    elif str(source) == str(REAL_DATA):
        what = (
            f"**Vrais comptages {layout} de Nantes Métropole** ({counters} boucles, {span}), "
            "livrés avec l'entrée (données ouvertes « comptages vélo », voir la fiche de données "
            "datasets/bike_counters/README.md) ; aucune anomalie n'y est étiquetée."
        )
    else:
        name = Path(str(source)).name
        what = f"Votre fichier « {name} » : comptages {layout}, {counters} compteurs, {span}."
    extras = [
        f"météo : {'oui' if weather is not None else 'non'}",
        f"anomalies connues : {'oui' if events is not None else 'non'}",
        f"lignes lues : {frame.attrs.get('rows_read', len(frame))}",
    ]
    return what + " (" + " ; ".join(extras) + ")."


def _read(data_path: Any = None, column_map: Mapping[str, str] | None = None):
    source = PATHS.sample if data_path is None else data_path
    return read_counts_table(source, column_map)


def _schema_for(layout: str) -> Path:
    return SCHEMA if layout == "hourly" else SCHEMA_DAILY


MIN_DAYS = 28
"""Fewest days of counts the detector can learn a counter's weekly profile from."""


def _accepted(data_path: Any, column_map: Mapping[str, str] | None, min_share: float | None):
    """Read, validate and accept a counts file (``models.acceptance``): ``(tidy, report)``;
    the tidy frame is ``None`` when the file is refused. An empty counter id is derived from
    the counter's name when the name has one id elsewhere in the file."""
    from models.acceptance import accept, derive_key, require_rows, titles_of
    from models.validation import load_schema, validate

    raw, layout = _read(data_path, column_map)
    schema = load_schema(_schema_for(layout))
    titles = titles_of(schema)
    raw, derived = derive_key(raw, ID, NAME, titles=titles)
    report = validate(raw, schema)
    kept = accept(
        raw,
        report,
        key=(ID, DAY),
        date_columns=(DAY,),
        min_share=min_share,
        titles=titles,
        derived=[derived],
    )
    if not report.usable:
        return None, report
    frame = tidy_counts(kept, layout)
    require_rows(report, int(frame["date"].nunique()), MIN_DAYS, ("jour", "jours"))
    frame.attrs = {
        "layout": layout,
        "rows_read": len(raw),
        "source": raw.attrs.get("source"),
        "acceptance": report.acceptance,
    }
    return frame, report


def validate_file(
    path: Any, column_map: Mapping[str, str] | None = None, min_share: float | None = None
):
    """Report of a counts file against the schema of its layout (hourly or daily): problems,
    rows that would be set aside, refusal (``models.acceptance``)."""
    return _accepted(path, column_map, min_share)[1]


def load_with_report(
    data_path: Any = None,
    column_map: Mapping[str, str] | None = None,
    min_share: float | None = None,
):
    """Read, validate, accept and tidy a counts file (``None`` = the committed sample):
    ``(frame, report)``.

    The frame has one row per counter-hour (hourly layout) or counter-day (daily layout) with
    the columns of the module docstring; ``frame.attrs["layout"]`` says which. The file is
    read once. Rows with a problem are set aside (``report.acceptance``) while at least
    ``min_share`` of them are usable. Raises ``DataReadError`` / ``DataValidationError``
    (French) on unusable data.
    """
    frame, report = _accepted(data_path, column_map, min_share)
    report.raise_if_refused()
    if frame.empty:
        raise DataReadError("Le fichier ne contient aucune ligne de comptage datée utilisable.")
    return frame, report


def load(
    data_path: Any = None,
    column_map: Mapping[str, str] | None = None,
    min_share: float | None = None,
) -> pd.DataFrame:
    """The tidy frame of ``load_with_report`` without the report."""
    return load_with_report(data_path, column_map, min_share)[0]


def companions(data_path: Any = None, weather_path: Any = None, labels_path: Any = None):
    """``(weather, events)`` for a run: the sample's files for the sample (``None`` or its
    path), else the given paths (``None`` = none)."""
    sample = is_sample(data_path)
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


def locations_for(data_path: Any = None) -> pd.DataFrame | None:
    """The locations that go with a counts file: the sample's, the shipped Nantes file's
    (``REAL_LOCATIONS``), else ``None``."""
    if is_sample(data_path):
        return load_locations()
    try:
        if Path(data_path).resolve() == REAL_DATA.resolve():
            return load_locations(REAL_LOCATIONS)
    except (TypeError, OSError):
        return None
    return None


@dataclass
class CountData:
    """Counts of several counters: ``days`` (one row per counter-day) and ``values``."""

    days: pd.DataFrame
    values: np.ndarray
    layout: str  # "hourly" or "daily"

    @property
    def per_day(self) -> int:
        return self.values.shape[1]

    def select(self, counters: list[str] | None = None, start=None, end=None) -> CountData:
        """A subset by counter ids (or names) and period."""
        keep = np.ones(len(self.days), dtype=bool)
        if counters:
            wanted = {str(c) for c in counters}
            keep &= (
                self.days["counter_id"].isin(wanted) | self.days["counter_name"].isin(wanted)
            ).to_numpy()
        if start is not None:
            keep &= (self.days["date"] >= pd.Timestamp(start)).to_numpy()
        if end is not None:
            keep &= (self.days["date"] <= pd.Timestamp(end)).to_numpy()
        return CountData(self.days[keep].reset_index(drop=True), self.values[keep], self.layout)


def from_tidy(frame: pd.DataFrame, layout: str) -> CountData:
    """Build ``CountData`` from a tidy frame (``read_counts``, ``load_with_report``); its
    ``days`` keep the file's acceptance (``models.acceptance``) for the quality report."""
    if layout == "hourly":
        days, values = to_hourly_matrix(frame)
        data = CountData(days, values, "hourly")
    else:
        daily = complete_daily(frame)
        values = daily["count"].to_numpy(dtype=float)[:, None]
        data = CountData(daily.drop(columns=["count"]), values, "daily")
    data.days.attrs["acceptance"] = frame.attrs.get("acceptance")
    return data


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


def quality(data: CountData | pd.DataFrame):
    """Data-quality report (``models.quality``) of the daily totals per counter.

    ``data``: prepared counts (``prepare``), or the frame of ``load_with_report`` (all of it).
    """
    from models.quality import quality_report

    if not isinstance(data, CountData):
        data = from_tidy(data, data.attrs.get("layout", "hourly"))
    total = np.where(np.isnan(data.values).any(axis=1), np.nan, np.nansum(data.values, axis=1))
    frame = data.days[["counter_id", "date"]].assign(count=total)
    return quality_report(
        frame, date_column="date", value_columns=["count"], series_column="counter_id", freq="D"
    )


# ---------------------------------------------------------------------------------------------
# Labelled events per counter-day


MIN_DAYTIME_HOURS = 3


DAYTIME = (6, 22)


NORMAL = ""


IGNORE = "hors_evaluation"


def day_labels(days: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """Kind of anomaly of each counter-day of ``days`` ("" = normal), from the events."""
    kinds = np.full(len(days), NORMAL, dtype=object)
    if events is None or events.empty:
        return pd.Series(kinds, index=days.index, dtype=object)
    day_number = pd.DatetimeIndex(days["date"]).to_numpy().astype("datetime64[D]").astype(int)
    pos = {
        (str(c), int(d)): i
        for i, (c, d) in enumerate(zip(days["counter_id"], day_number, strict=True))
    }
    for ev in events.itertuples(index=False):
        first = int(np.datetime64(pd.Timestamp(ev.start), "h").astype(int))
        last = int(np.datetime64(pd.Timestamp(ev.end), "h").astype(int))
        if last <= first:
            continue
        hours = np.arange(first, last)
        hour_of_day = hours % 24
        daytime = (hour_of_day >= DAYTIME[0]) & (hour_of_day < DAYTIME[1])
        event_days, where = np.unique(hours // 24, return_inverse=True)
        daytime_hours = np.bincount(where, weights=daytime, minlength=len(event_days))
        missing = str(getattr(ev, "injected", "")) == "manquante"
        for day, n in zip(event_days.tolist(), daytime_hours.tolist(), strict=True):
            i = pos.get((str(ev.counter_id), day))
            if i is None:
                continue
            if missing or n >= MIN_DAYTIME_HOURS:
                kinds[i] = ev.kind
            elif kinds[i] == NORMAL:
                kinds[i] = IGNORE
    return pd.Series(kinds, index=days.index, dtype=object)
