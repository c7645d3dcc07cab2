"""Data of the ``air_quality`` entry: readers of every real layout, validation, quality.

Every accepted layout becomes one daily table (``read_air_quality``).

The canonical table has one row per day and station::

    date, station, PM10, PM25, NO2, NO2_max, O3, O3_max, RR, TN, TX, TM, FFM, DXY, PMERM, UM, GLOT

(pollutants in µg/m³: daily means, and for NO2/O3 the daily maximum of hourly values;
weather with Météo-France daily codes). Accepted layouts, detected from the columns:

- **tidy** (the committed sample): ``date, station`` + pollutant and weather columns;
- **long**: ``date, station, polluant, valeur`` (pollutant codes or weather codes in
  ``polluant``), daily or hourly (with ``heure`` or a time in ``date``);
- **hourly wide** (Airparif / Atmo exports): ``date;heure`` then one column per station, a
  units row, ``n/d`` for missing; ``heure`` runs 1..24, hour 24 being the **last hour of the
  same day** (0..23 is accepted too). The pollutant is not in the file: it comes from the
  ``pollutant`` argument or the file name (``..._NO2_...``);
- **daily wide**: ``date`` then ``PM10_<station>``, ``NO2_max_<station>``... beside weather
  columns (``TN`` or ``TN_<weather station>``).

Hourly values become daily values with the regulatory completeness rule: a daily mean (and
a daily maximum) needs at least 75 % of the day's hours (18 of 24), otherwise it is missing.
Hourly data also gives the **profile of the day** (``HOURLY_SUFFIXES``), all known on the
evening of the day and richer than daily means for a next-day forecast: ``<P>_soir`` (mean
of the last 6 hours, 19h-24h, ≥ 4 valid), ``<P>_fin`` (last 3 hours, ≥ 2 valid), ``<P>_nuit``
(0h-6h, ≥ 4), ``<P>_matin`` (6h-10h, ≥ 3), ``<P>_apresmidi`` (12h-18h, ≥ 4) and ``<P>_min``
(daily minimum, 75 % rule). They are extra columns of the daily table, absent when the input
is daily.

**Weather forecasts.** Besides the weather observed on each day (``RR``, ``TX``...), a file
may carry the weather **forecast** for that day, issued the day before (what a forecaster
has on the evening of D for D+1): columns ``<code>_prevu`` (``TX_prevu``, ``FFM_prevu``...;
``_prevision`` and ``prevision_<code>`` are accepted too), on the row of the day they
forecast. The model uses them only when asked (``features``).

**Several files.** ``read_air_quality`` also takes a list of files (one per pollutant, as
Airparif publishes them): their daily tables are merged on date and station. The default
data of full runs (``default_data``) are the two Airparif hourly files shipped in
``datasets/air_quality/`` (NO2 and O3, Île-de-France, 2017-2020); quick runs and tests use
the generated Lille sample.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.entries import entry_paths
from models.errors import BiblioError, DataReadError
from models.io import normalise_name, parse_dates, read_table
from models.quality import quality_report
from models.validation import ValidationReport, validate

ENTRY_ID = "air_quality"
TITLE = "Anticiper les pics de pollution de l'air la veille"
SCHEMA = entry_paths(ENTRY_ID).schema
DEFAULT_STATION = "Lille Fives"
DEMO_STATIONS = (DEFAULT_STATION, "PA13")
"""Stations shown by default when the data has them: Lille Fives (the sample), Paris 13e
(urban background station of the Airparif files, measuring NO2 and O3)."""
DEFAULT_POLLUTANT = "PM10"

POLLUTANTS = ("PM10", "PM25", "NO2", "O3")
MAX_COLUMNS = {"NO2": "NO2_max", "O3": "O3_max"}
POLLUTANT_COLUMNS = ["PM10", "PM25", "NO2", "NO2_max", "O3", "O3_max"]
WEATHER_CODES = ["RR", "TN", "TX", "TM", "FFM", "DXY", "PMERM", "UM", "GLOT"]
CANONICAL_COLUMNS = ["date", "station", *POLLUTANT_COLUMNS, *WEATHER_CODES]

HOURLY_WINDOWS = {
    "soir": (19, 24, 4),
    "fin": (22, 24, 2),
    "nuit": (1, 6, 4),
    "matin": (7, 10, 3),
    "apresmidi": (13, 18, 4),
}
"""Windows of the day: first and last hour positions (1 = 0h-1h ... 24 = 23h-24h) and the
least number of valid hours for a window mean."""
HOURLY_SUFFIXES = (*HOURLY_WINDOWS, "min")
"""Profile columns derived from hourly values (``NO2_soir``...; see the module docstring)."""
HOURLY_COLUMNS = [f"{p}_{suffix}" for p in POLLUTANTS for suffix in HOURLY_SUFFIXES]

FORECAST_SUFFIX = "_prevu"
FORECAST_COLUMNS = [f"{code}{FORECAST_SUFFIX}" for code in WEATHER_CODES]
"""Weather forecast for the row's day, issued the day before (see the module docstring)."""

HOURS_PER_DAY = 24
MIN_HOURS = 18
"""Regulatory completeness rule: a daily value needs ≥ 75 % of the 24 hourly values."""

ALIASES: dict[str, list[str]] = {
    "date": ["jour", "date_debut", "date de debut", "datetime", "date_heure", "AAAAMMJJ"],
    "heure": ["hour", "h"],
    "station": ["nom_station", "nom station", "site", "nom_site", "code_station"],
    "polluant": ["pollutant", "nom_polluant", "parametre", "nom_poll"],
    "valeur": ["value", "concentration", "valeur_mesure", "mesure"],
    "PM10": ["pm_10"],
    "PM25": ["PM2.5", "PM2_5", "pm_2_5", "pm25"],
    "NO2": ["dioxyde d'azote"],
    "O3": ["ozone"],
    "NO2_max": ["NO2 max", "NO2_max_horaire", "max NO2"],
    "O3_max": ["O3 max", "O3_max_horaire", "max O3"],
    "RR": ["precipitations", "pluie"],
    "TN": ["tmin", "temperature minimale"],
    "TX": ["tmax", "temperature maximale"],
    "TM": ["tmoy", "temperature moyenne"],
    "FFM": ["vent moyen", "vitesse du vent"],
    "DXY": ["direction du vent"],
    "PMERM": ["pression", "pression mer"],
    "UM": ["humidite", "humidite relative"],
    "GLOT": ["rayonnement", "rayonnement global"],
    **{
        f"{code}{FORECAST_SUFFIX}": [f"{code}_prevue", f"{code}_prevision", f"prevision_{code}"]
        for code in WEATHER_CODES
    },
}
"""Known column-name variants of the entry (matched accent/case/space-insensitively)."""

_POLLUTANT_NAMES = {
    "pm10": "PM10",
    "pm25": "PM25",
    "pm2_5": "PM25",
    "no2": "NO2",
    "o3": "O3",
    "no2_max": "NO2_max",
    "o3_max": "O3_max",
}
_WIDE = re.compile(r"^(pm10|pm2_5|pm25|no2|o3)(_max)?_(?!max$)(.+)$")
_WEATHER_SUFFIX = re.compile(r"^(rr|tn|tx|tm|ffm|dxy|pmerm|um|glot)_(.+)$")
_FORECAST = re.compile(
    r"^(?:(rr|tn|tx|tm|ffm|dxy|pmerm|um|glot)_(?:prevu|prevue|prevision)"
    r"|(?:prevu|prevue|prevision)_(rr|tn|tx|tm|ffm|dxy|pmerm|um|glot))$"
)

REAL_DATA = tuple(
    entry_paths(ENTRY_ID).dataset_dir / name
    for name in ("airparif_no2_2017_2020.csv.gz", "airparif_o3_2017_2020.csv.gz")
)
"""The real data of full runs: Airparif hourly NO2 and O3 (datasheet in the README beside)."""
REAL_DATA_ZONE = "C"
"""School-vacation zone of the real data (Île-de-France)."""


def default_data(quick: bool = True) -> Path | tuple[Path, ...]:
    """What is read without ``data_path``: the generated sample in quick mode (the default,
    for tests), the two Airparif files otherwise."""
    return entry_paths(ENTRY_ID).sample if quick else REAL_DATA


def forecast_code(name: Any) -> str | None:
    """``TX_prevu`` for a weather-forecast column name (``TX_prevu``, ``tx_prevision``,
    ``Prévision_TX``...), else None."""
    match = _FORECAST.match(normalise_name(name))
    if not match:
        return None
    return f"{(match.group(1) or match.group(2)).upper()}{FORECAST_SUFFIX}"


def _pollutant_code(value: Any) -> str | None:
    """``PM10``, ``PM25``, ``NO2``, ``O3`` (or ``*_max``, or a weather code) from a label."""
    norm = normalise_name(value)
    if norm in _POLLUTANT_NAMES:
        return _POLLUTANT_NAMES[norm]
    upper = str(value).strip().upper()
    if upper in WEATHER_CODES:
        return upper
    return forecast_code(value)


def pollutant_from_name(name: str | Path) -> str | None:
    """The pollutant written in a file name (``20170301_20200511-NO2_auto.csv`` → ``NO2``)."""
    stem = normalise_name(Path(str(name)).stem)
    for token in ("pm2_5", "pm25", "pm10", "no2", "o3"):
        if re.search(rf"(^|_){token}(_|$)", stem):
            return _POLLUTANT_NAMES[token]
    return None


def _hour_numbers(values: pd.Series) -> pd.Series:
    """Hours as integers from ``1``, ``"01"``, ``"24:00"``, ``"1h"``..."""
    if pd.api.types.is_numeric_dtype(values):
        return pd.to_numeric(values, errors="coerce")
    digits = values.astype("string").str.extract(r"^\s*(\d{1,2})", expand=False)
    return pd.to_numeric(digits, errors="coerce")


def daily_from_hourly(
    hourly: pd.DataFrame,
    *,
    value_column: str = "valeur",
    keys: tuple[str, ...] = ("date", "station"),
    min_hours: int = MIN_HOURS,
) -> pd.DataFrame:
    """Daily mean, maximum, minimum and count of hourly values per ``keys`` (``date`` = the
    day); with a ``position`` column (hour 1..24 of the day) also the window means of
    ``HOURLY_WINDOWS`` (``soir``, ``fin``, ``nuit``, ``matin``, ``apresmidi``).

    A day with fewer than ``min_hours`` valid hourly values (75 % of 24) gets no mean, maximum
    or minimum (regulatory completeness rule); ``n_hours`` keeps the count.
    """
    grouped = hourly.groupby(list(keys), sort=True)[value_column]
    daily = grouped.agg(mean="mean", max="max", min="min", n_hours="count").reset_index()
    incomplete = daily["n_hours"] < min_hours
    daily.loc[incomplete, ["mean", "max", "min"]] = np.nan
    if "position" in hourly.columns:
        for name, (first, last, need) in HOURLY_WINDOWS.items():
            window = hourly[hourly["position"].between(first, last)]
            part = window.groupby(list(keys), sort=True)[value_column].agg(["mean", "count"])
            value = part["mean"].where(part["count"] >= need).rename(name)
            daily = daily.merge(value.reset_index(), on=list(keys), how="left")
    return daily


def hour_positions(df: pd.DataFrame) -> pd.Series:
    """Position 1..24 of each hourly row in its day (24 = 23h-24h): ``heure`` 1..24 as given,
    0..23 (hour starts) shifted by one; without ``heure``, the time of ``date`` + 1."""
    if "heure" in df.columns:
        hours = _hour_numbers(df["heure"])
        return hours + 1 if bool((hours == 0).any()) else hours
    return (df["date"].dt.hour + 1).astype(float)


def _hourly_dates(df: pd.DataFrame) -> pd.Series:
    """The day each hourly row belongs to; hour 24 is the last hour of the same day."""
    dates = df["date"]
    if "heure" in df.columns:
        hours = _hour_numbers(df["heure"])
        bad = hours.notna() & ~hours.between(0, HOURS_PER_DAY)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
            raise DataReadError(
                f"Colonne « heure » : valeur « {df['heure'].iloc[row - 1]} » à la ligne de "
                f"données {row}, attendu une heure de 0 à 24 (24 = dernière heure du jour)."
            )
    return dates.dt.normalize()


def _is_hourly(df: pd.DataFrame) -> bool:
    if "heure" in df.columns:
        return True
    dates = df["date"].dropna()
    if dates.empty:
        return False
    has_time = bool((dates != dates.dt.normalize()).any())
    key = [c for c in ("station", "polluant") if c in df.columns]
    per_day = df.assign(_d=df["date"].dt.normalize()).groupby(["_d", *key]).size()
    return has_time and bool((per_day > 1).any())


def _read(source: Any, column_map: Mapping[str, str] | None) -> pd.DataFrame:
    df = read_table(
        source,
        column_map=column_map,
        aliases=ALIASES,
        text_columns=("station", "polluant"),
        date_columns=("date",),
    )
    if "date" not in df.columns:
        listing = ", ".join(f"« {c} »" for c in df.columns)
        raise DataReadError(
            "Aucune colonne de date trouvée (attendu « date », ou « date » et « heure » pour "
            f"des données horaires). Colonnes du fichier : {listing}. Indiquez la colonne de "
            'date avec column_map, par exemple {"Date de mesure": "date"}.'
        )
    bad_dates = [p for p in df.attrs.get("read_problems", []) if p.get("column") == "date"]
    if bad_dates and df["date"].isna().all():
        raise DataReadError(
            f"Les dates de la colonne « date » sont illisibles (par exemple "
            f"« {bad_dates[0]['value']} »). Formats acceptés : AAAA-MM-JJ ou JJ/MM/AAAA."
        )
    return df


def _tidy(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["station"] = out["station"].astype("string").str.strip()
    return out


def _long(df: pd.DataFrame) -> pd.DataFrame:
    codes = df["polluant"].map(_pollutant_code)
    unknown = sorted(df.loc[codes.isna() & df["polluant"].notna(), "polluant"].unique())
    if codes.isna().all():
        raise DataReadError(
            "Colonne « polluant » : aucun polluant reconnu (attendu PM10, PM2.5, NO2 ou O3, "
            "ou un code météo RR, TN, TX...). Valeurs lues : "
            + ", ".join(f"« {u} »" for u in unknown[:8])
            + "."
        )
    data = df.assign(code=codes).dropna(subset=["code"])
    data["station"] = data["station"].astype("string").str.strip()
    data["valeur"] = pd.to_numeric(data["valeur"], errors="coerce")
    if _is_hourly(df):
        data = data.assign(position=hour_positions(data), date=_hourly_dates(data))
        daily = daily_from_hourly(data, keys=("date", "station", "code"))
        means = daily.pivot_table(
            index=["date", "station"], columns="code", values="mean", dropna=False
        )
        maxima = daily[daily["code"].isin(MAX_COLUMNS)].pivot_table(
            index=["date", "station"], columns="code", values="max", dropna=False
        )
        maxima.columns = [MAX_COLUMNS[c] for c in maxima.columns]
        wide = means.join(maxima, how="outer")
        polluted = daily[daily["code"].isin(POLLUTANTS)]
        for suffix in HOURLY_SUFFIXES:
            extra = polluted.pivot_table(
                index=["date", "station"], columns="code", values=suffix, dropna=False
            )
            extra.columns = [f"{c}_{suffix}" for c in extra.columns]
            wide = wide.join(extra, how="outer")
    else:
        wide = data.groupby(["date", "station", "code"])["valeur"].mean().unstack("code")
    wide.columns.name = None
    return wide.reset_index()


def _hourly_wide(df: pd.DataFrame, pollutant: str | None, source: Any) -> pd.DataFrame:
    code = pollutant or (pollutant_from_name(source) if isinstance(source, str | Path) else None)
    if code is None:
        raise DataReadError(
            "Fichier horaire « une colonne par station » : le polluant n'est pas indiqué. "
            'Précisez-le (paramètre pollutant = "NO2", "O3", "PM10" ou "PM25") ou '
            "gardez-le dans le nom du fichier (par exemple « ..._NO2_auto.csv »)."
        )
    code = _pollutant_code(code) or str(code)
    if code not in POLLUTANTS:
        raise DataReadError(f"Polluant « {pollutant} » inconnu : choisissez PM10, PM25, NO2 ou O3.")
    stations = [c for c in df.columns if c not in ("date", "heure")]
    values = df[stations].apply(pd.to_numeric, errors="coerce")
    frame = pd.concat([df[["date", "heure"]], values], axis=1)
    frame["position"] = hour_positions(frame)
    frame["date"] = _hourly_dates(frame)
    long = frame.drop(columns="heure").melt(
        id_vars=["date", "position"], var_name="station", value_name="valeur"
    )
    daily = daily_from_hourly(long, keys=("date", "station"))
    out = daily.rename(columns={"mean": code}).drop(columns="n_hours")
    out = out.rename(columns={suffix: f"{code}_{suffix}" for suffix in HOURLY_SUFFIXES})
    if code in MAX_COLUMNS:
        out[MAX_COLUMNS[code]] = out.pop("max")
    else:
        out = out.drop(columns="max")
    out["station"] = out["station"].astype("string")
    return out


def _weather_columns(df: pd.DataFrame) -> dict[str, pd.Series]:
    """Weather code (or ``<code>_prevu`` forecast) → column; with several suffixed columns the
    first one in file order wins."""
    found: dict[str, pd.Series] = {}
    for col in df.columns:
        code = forecast_code(col)
        if code:
            found.setdefault(code, df[col])
    for col in df.columns:
        if str(col).upper() in WEATHER_CODES:
            found[str(col).upper()] = df[col]
    for col in df.columns:
        match = _WEATHER_SUFFIX.match(normalise_name(col))
        if match and not forecast_code(col):
            code = match.group(1).upper()
            found.setdefault(code, df[col])
    return found


def _daily_wide(df: pd.DataFrame) -> pd.DataFrame:
    pieces: dict[tuple[str, str], pd.Series] = {}
    labels: dict[str, str] = {}
    for col in df.columns:
        if col == "date" or normalise_name(col) in {"date"}:
            continue
        match = _WIDE.match(normalise_name(col))
        if not match:
            continue
        code = _POLLUTANT_NAMES[match.group(1)]
        if match.group(2):
            code = MAX_COLUMNS.get(code, code)
        raw = str(col)
        station = raw.split("_", 2 if match.group(2) else 1)[-1].strip()
        labels.setdefault(normalise_name(station), station)
        pieces[(code, labels[normalise_name(station)])] = pd.to_numeric(df[col], errors="coerce")
    if not pieces:
        return pd.DataFrame()
    weather = _weather_columns(df)
    frames = []
    for station in dict.fromkeys(s for _, s in pieces):
        part = pd.DataFrame({"date": df["date"], "station": station})
        for (code, st), series in pieces.items():
            if st == station:
                part[code] = series.to_numpy()
        for code, series in weather.items():
            part[code] = pd.to_numeric(series, errors="coerce").to_numpy()
        frames.append(part)
    out = pd.concat(frames, ignore_index=True)
    out["station"] = out["station"].astype("string")
    return out


def detect_layout(df: pd.DataFrame) -> str:
    """``tidy``, ``long``, ``hourly_wide`` or ``daily_wide`` from the columns of a read table."""
    cols = set(df.columns)
    if {"station", "polluant", "valeur"} <= cols:
        return "long"
    if "station" in cols:
        return "tidy"
    if any(_WIDE.match(normalise_name(c)) for c in df.columns):
        return "daily_wide"
    if "heure" in cols or _is_hourly(df):
        return "hourly_wide"
    return "unknown"


def to_canonical(df: pd.DataFrame, *, keep_index: bool = False) -> pd.DataFrame:
    """Order and type the canonical columns (missing ones added empty), sort by station, date.

    ``keep_index`` keeps the reader's index (the file's data row - 1) for precise reports.
    """
    out = df.copy()
    for col in CANONICAL_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    out = out[CANONICAL_COLUMNS + [c for c in out.columns if c not in CANONICAL_COLUMNS]]
    extra = [c for c in [*HOURLY_COLUMNS, *FORECAST_COLUMNS] if c in out]
    for col in [*POLLUTANT_COLUMNS, *WEATHER_CODES, *extra]:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    out["date"] = parse_dates(out["date"]).dt.normalize()
    out["station"] = out["station"].astype("string")
    out = out.dropna(subset=["date", "station"])
    out = out.sort_values(["station", "date"], kind="stable")
    return out if keep_index else out.reset_index(drop=True)


SINGLE_STATION = "station unique"
"""Station name given to a daily file of one station that has no station column."""


def _one_station(raw: pd.DataFrame) -> pd.DataFrame:
    """A daily table with pollutant columns (``PM10``, ``NO2``…) but no station column is one
    station's file: it gets a ``station`` column (``SINGLE_STATION``) and reads as tidy."""
    names = {normalise_name(c) for c in raw.columns}
    if "station" in raw.columns or "polluant" in names or not names & set(_POLLUTANT_NAMES):
        return raw
    out = raw.copy()
    out.insert(min(1, len(out.columns)), "station", SINGLE_STATION)
    out.attrs = raw.attrs
    return out


def read_layout(source: Any, column_map: Mapping[str, str] | None = None):
    """The file as read (``models.io.read_table``) and its layout (``detect_layout``)."""
    raw = _one_station(_read(source, column_map))
    return raw, detect_layout(raw)


def canonical_from_layout(
    raw: pd.DataFrame, layout: str, *, pollutant: str | None = None, source: Any = None
) -> pd.DataFrame:
    """The canonical daily table of a file read by ``read_layout``. Raises ``DataReadError``."""
    if layout == "tidy":
        out = _tidy(raw)
    elif layout == "long":
        out = _long(raw)
    elif layout == "hourly_wide":
        out = _hourly_wide(raw, pollutant, source)
    elif layout == "daily_wide":
        out = _daily_wide(raw)
    else:
        listing = ", ".join(f"« {c} »" for c in raw.columns)
        raise DataReadError(
            "Disposition du fichier non reconnue. Formats acceptés : « date, station, PM10, "
            "NO2, O3... » ; « date, station, polluant, valeur » ; horaire « date, heure » puis "
            "une colonne par station ; journalier « date, PM10_<station>... » avec la météo. "
            f"Colonnes du fichier : {listing}. Utilisez column_map pour renommer vos colonnes."
        )
    canonical = to_canonical(out, keep_index=layout == "tidy")
    if canonical.empty:
        raise DataReadError("Le fichier ne contient aucune ligne datée exploitable.")
    canonical.attrs = {"layout": layout, "source": raw.attrs.get("source")}
    if layout == "tidy":
        canonical.attrs["read_problems"] = raw.attrs.get("read_problems", [])
        canonical.attrs["first_data_line"] = raw.attrs.get("first_data_line", 2)
    return canonical


def read_air_quality(
    source: Any,
    *,
    column_map: Mapping[str, str] | None = None,
    pollutant: str | None = None,
) -> pd.DataFrame:
    """Read any accepted layout into the canonical daily table (see the module docstring).

    ``source`` may be a list of files (one per pollutant): their tables are merged
    (``merge_daily``). ``pollutant`` names the pollutant of an hourly wide file when its
    name does not say it. ``df.attrs["layout"]`` records the detected layout. Raises
    ``DataReadError`` (French).
    """
    if isinstance(source, list | tuple):
        if not source:
            raise DataReadError("Aucun fichier indiqué.")
        tables = [read_air_quality(s, column_map=column_map, pollutant=pollutant) for s in source]
        return merge_daily(tables)
    raw, layout = read_layout(source, column_map)
    return canonical_from_layout(raw, layout, pollutant=pollutant, source=source)


def merge_daily(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """One canonical table from several (one per pollutant): merged on date and station, a
    value given by several files taken from the first that has it."""
    keyed = [t.set_index(["date", "station"]) for t in tables]
    merged = keyed[0]
    for table in keyed[1:]:
        merged = merged.combine_first(table)
    out = to_canonical(merged.reset_index())
    layouts = dict.fromkeys(t.attrs.get("layout") for t in tables)
    out.attrs = {
        "layout": "+".join(str(x) for x in layouts),
        "source": [t.attrs.get("source") for t in tables],
    }
    return out


def _source(data_path, quick: bool = True):
    return default_data(quick) if data_path is None else data_path


def describe_source(data_path=None, quick: bool = True) -> str:
    """French sentence naming the data a run reads (for the notebook)."""
    if data_path is not None:
        return f"Vos données : {data_path}."
    if quick:
        return (
            "Échantillon généré (mode rapide) : 4 stations fictives de la métropole lilloise, "
            "2013-2019, polluants journaliers et météo aux codes Météo-France."
        )
    return (
        "Données réelles d'Airparif : NO2 et O3 horaires de 2017 à 2020 (stations "
        "d'Île-de-France, sans météo). La démonstration porte sur des stations franciliennes ; "
        "la méthode est celle dont le projet de Lille a besoin."
    )


MIN_DAYS = 665
"""Fewest measured days: a full year of test after about 300 days of training."""
_VALUE = {"type": "number", "constraints": {"minimum": 0, "maximum": 2000}}


def layout_schema(raw: pd.DataFrame, layout: str) -> tuple[dict[str, Any], list[str]]:
    """Table Schema of the rows as the file has them, and their key (for duplicates): the
    entry's schema for the tidy layout; for the others, a date (and a station) per row and
    numbers in the value columns, so that a bad row is set aside before daily values."""
    from models.validation import load_schema

    if layout == "tidy":
        return load_schema(SCHEMA), ["date", "station"]
    date = {"name": "date", "type": "date", "title": "Date", "constraints": {"required": True}}
    hour = ["heure"] if "heure" in raw.columns else []
    if layout == "long":
        fields = [
            date,
            {
                "name": "station",
                "type": "string",
                "title": "Station",
                "constraints": {"required": True},
            },
            {
                "name": "polluant",
                "type": "string",
                "title": "Polluant",
                "constraints": {"required": True},
            },
            {"name": "valeur", "title": "Valeur", **_VALUE},
        ]
        return {"fields": fields}, ["date", *hour, "station", "polluant"]
    values = [c for c in raw.columns if c not in ("date", "heure")]
    if layout == "daily_wide":
        values = [c for c in values if _WIDE.match(normalise_name(c))]
    fields = [date, *({"name": c, "title": f"Station {c}", **_VALUE} for c in values)]
    if layout == "daily_wide":
        fields = [date, *({"name": c, "title": c, **_VALUE} for c in values)]
    return {"fields": fields}, ["date", *hour]


def _accepted(data_path, column_map, pollutant, min_share, quick=True):
    """Read, validate and accept a file or a list of files (``models.acceptance``):
    ``(daily, report)``; the daily table is ``None`` when a file is refused."""
    source = _source(data_path, quick)
    if isinstance(source, list | tuple):
        if not source:
            raise DataReadError("Aucun fichier indiqué.")
        results = [_accepted_file(s, column_map, pollutant, min_share) for s in source]
        for (daily, report), name in zip(results, source, strict=True):
            if daily is None:
                report.refusal = f"{Path(str(name)).name} : {report.refusal}"
                return None, report
        daily = merge_daily([d for d, _ in results])
        report = merge_reports([r for _, r in results], source)
        daily.attrs["acceptance"] = report.acceptance
        daily.attrs["rows_read"] = sum(r.acceptance.rows_read for _, r in results)
    else:
        daily, report = _accepted_file(source, column_map, pollutant, min_share)
    if daily is not None and data_path is None and not quick:
        daily.attrs["zone"] = REAL_DATA_ZONE
    return daily, report


def merge_reports(reports: list[ValidationReport], sources) -> ValidationReport:
    """One report for several files: problems and rows set aside named by file, counts
    summed."""
    from dataclasses import replace

    from models.acceptance import Acceptance

    def named(problem, source):
        label = problem.title or problem.column or ""
        return replace(problem, title=f"{Path(str(source)).name} — {label}".rstrip(" —"))

    parts = [r.acceptance for r in reports]
    acceptance = Acceptance(
        rows_read=sum(a.rows_read for a in parts),
        rows_kept=sum(a.rows_kept for a in parts),
        set_aside=[named(p, s) for a, s in zip(parts, sources, strict=True) for p in a.set_aside],
        duplicates_exact=sum(a.duplicates_exact for a in parts),
        duplicates_conflicting=sum(a.duplicates_conflicting for a in parts),
        derived=[d for a in parts for d in a.derived],
        min_share=parts[0].min_share,
    )
    first = reports[0]
    return ValidationReport(
        problems=[named(p, s) for r, s in zip(reports, sources, strict=True) for p in r.problems],
        rows=sum(r.rows for r in reports),
        first_data_line=first.first_data_line,
        schema_title=first.schema_title,
        file_columns=list(dict.fromkeys(c for r in reports for c in r.file_columns)),
        acceptance=acceptance,
    )


def _accepted_file(source, column_map, pollutant, min_share):
    """``_accepted`` for one file."""
    from models.acceptance import accept, require_rows, titles_of

    raw, layout = read_layout(source, column_map or None)
    schema, key = layout_schema(raw, layout)
    report = validate(raw, schema)
    kept = accept(
        raw,
        report,
        key=key,
        date_columns=("date",),
        min_share=min_share,
        titles=titles_of(schema),
    )
    if not report.usable:
        return None, report
    daily = canonical_from_layout(kept, layout, pollutant=pollutant, source=source)
    if layout != "tidy":  # daily values checked against the entry's schema as well
        daily_report = validate(daily, SCHEMA)
        if not daily_report.ok:
            report.problems += [p for p in daily_report.problems if p.row is None]
            report.refusal = "valeurs journalières hors du schéma :\n" + daily_report.to_text()
            return None, report
    measured = daily[POLLUTANT_COLUMNS].notna().any(axis=1)
    require_rows(
        report,
        int(daily.loc[measured, "date"].nunique()),
        MIN_DAYS,
        ("jour mesuré", "jours mesurés"),
    )
    daily.attrs["acceptance"] = report.acceptance
    daily.attrs["rows_read"] = len(raw)
    return daily, report


def validate_file(path, column_map=None, pollutant=None, min_share=None) -> ValidationReport:
    """The report of a file or a list of files (any accepted layout), in French: problems,
    rows that would be set aside, refusal (``models.acceptance``). ``path`` None: the
    sample."""
    return _accepted(path, column_map, pollutant, min_share)[1]


def load_with_report(
    data_path=None, column_map=None, pollutant=None, min_share=None, *, quick=True
):
    """Read, validate and accept: ``(daily table, report)``.

    ``data_path`` None reads ``default_data(quick)``: the generated sample in quick mode (the
    default, for tests), the Airparif NO2 and O3 files otherwise (the notebook passes its
    ``quick``); ``data_path`` may be a list of files (one per pollutant). ``pollutant`` names
    the pollutant of an hourly wide file when its name does not say it. Rows with a problem
    are set aside (``report.acceptance``, ``lignes_ecartees.csv``) while at least
    ``min_share`` of them are usable. Raises ``DataReadError`` / ``DataValidationError``
    with a French message.
    """
    daily, report = _accepted(data_path, column_map, pollutant, min_share, quick)
    report.raise_if_refused()
    return daily, report


def load(
    data_path=None, column_map=None, pollutant=None, min_share=None, *, quick=True
) -> pd.DataFrame:
    """The canonical daily table of ``load_with_report`` without the report."""
    return load_with_report(data_path, column_map, pollutant, min_share, quick=quick)[0]


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
    series = measured_series(daily)
    series.attrs["acceptance"] = daily.attrs.get("acceptance")
    return quality_report(
        series,
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


def default_pollutant(daily: pd.DataFrame) -> str:
    """``DEFAULT_POLLUTANT`` when measured, else the first measured of ``POLLUTANTS``."""
    for candidate in (DEFAULT_POLLUTANT, *POLLUTANTS):
        if not stations(daily, candidate).empty:
            return candidate
    raise BiblioError("Aucun polluant mesuré dans ces données (PM10, PM2,5, NO2 ou O3).")


def choose_station(daily: pd.DataFrame, pollutant: str, station: str | None = None) -> str:
    """``station`` if given (checked), else a demonstration station (``DEMO_STATIONS``) or
    the best-measured one."""
    if pollutant not in POLLUTANTS:
        raise BiblioError(
            f"Polluant « {pollutant} » inconnu : choisissez parmi {', '.join(POLLUTANTS)}."
        )
    available = stations(daily, pollutant)
    if available.empty:
        raise BiblioError(f"Aucune station ne mesure {pollutant} dans ces données.")
    if station is None:
        demo = [s for s in DEMO_STATIONS if s in available.index]
        return demo[0] if demo else available.index[0]
    if station not in available.index:
        listing = ", ".join(f"« {s} »" for s in available.index[:30])
        raise BiblioError(
            f"La station « {station} » ne mesure pas {pollutant}. Stations possibles : {listing}."
        )
    return station
