"""Readers of bike-counter files: Nantes's hourly wide layout, the daily long layout, locations.

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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.errors import DataReadError
from models.io import read_table

HOURS = [f"{h:02d}" for h in range(24)]

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
