"""Readers of the ``air_quality`` entry: every real layout becomes one daily table.

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
Hourly data also gives **end-of-day columns** (``HOURLY_SUFFIXES``), known on the evening of
the day and richer than daily means for a next-day forecast: ``<P>_soir`` (mean of the last
6 hours, 19h-24h, ≥ 4 valid), ``<P>_fin`` (mean of the last 3 hours, ≥ 2 valid) and
``<P>_min`` (daily minimum, 75 % rule). They are extra columns of the daily table, absent
when the input is daily.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.errors import DataReadError
from models.io import normalise_name, parse_dates, read_table

POLLUTANTS = ("PM10", "PM25", "NO2", "O3")
MAX_COLUMNS = {"NO2": "NO2_max", "O3": "O3_max"}
POLLUTANT_COLUMNS = ["PM10", "PM25", "NO2", "NO2_max", "O3", "O3_max"]
WEATHER_CODES = ["RR", "TN", "TX", "TM", "FFM", "DXY", "PMERM", "UM", "GLOT"]
CANONICAL_COLUMNS = ["date", "station", *POLLUTANT_COLUMNS, *WEATHER_CODES]

HOURLY_SUFFIXES = ("soir", "fin", "min")
"""End-of-day columns derived from hourly values (``NO2_soir``...; see the module docstring)."""
HOURLY_COLUMNS = [f"{p}_{suffix}" for p in POLLUTANTS for suffix in HOURLY_SUFFIXES]
EVENING_HOURS = (19, 24)
LAST_HOURS = (22, 24)
"""Hour positions (1 = 0h-1h ... 24 = 23h-24h) of the evening and last-hours windows."""
MIN_EVENING_HOURS = 4
MIN_LAST_HOURS = 2

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
_WIDE = re.compile(r"^(pm10|pm2_5|pm25|no2|o3)(_max)?_(.+)$")
_WEATHER_SUFFIX = re.compile(r"^(rr|tn|tx|tm|ffm|dxy|pmerm|um|glot)_(.+)$")


def _pollutant_code(value: Any) -> str | None:
    """``PM10``, ``PM25``, ``NO2``, ``O3`` (or ``*_max``, or a weather code) from a label."""
    norm = normalise_name(value)
    if norm in _POLLUTANT_NAMES:
        return _POLLUTANT_NAMES[norm]
    upper = str(value).strip().upper()
    if upper in WEATHER_CODES:
        return upper
    return None


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
    day); with a ``position`` column (hour 1..24 of the day) also ``soir`` and ``fin``, the
    means of the evening and last-hours windows.

    A day with fewer than ``min_hours`` valid hourly values (75 % of 24) gets no mean, maximum
    or minimum (regulatory completeness rule); ``n_hours`` keeps the count.
    """
    grouped = hourly.groupby(list(keys), sort=True)[value_column]
    daily = grouped.agg(mean="mean", max="max", min="min", n_hours="count").reset_index()
    incomplete = daily["n_hours"] < min_hours
    daily.loc[incomplete, ["mean", "max", "min"]] = np.nan
    if "position" in hourly.columns:
        for name, (first, last), need in (
            ("soir", EVENING_HOURS, MIN_EVENING_HOURS),
            ("fin", LAST_HOURS, MIN_LAST_HOURS),
        ):
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
    """Weather code → column; with several suffixed columns the first one in file order wins."""
    found: dict[str, pd.Series] = {}
    for col in df.columns:
        if str(col).upper() in WEATHER_CODES:
            found[str(col).upper()] = df[col]
    for col in df.columns:
        match = _WEATHER_SUFFIX.match(normalise_name(col))
        if match:
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
    for col in [*POLLUTANT_COLUMNS, *WEATHER_CODES, *(c for c in HOURLY_COLUMNS if c in out)]:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    out["date"] = parse_dates(out["date"]).dt.normalize()
    out["station"] = out["station"].astype("string")
    out = out.dropna(subset=["date", "station"])
    out = out.sort_values(["station", "date"], kind="stable")
    return out if keep_index else out.reset_index(drop=True)


def read_air_quality(
    source: Any,
    *,
    column_map: Mapping[str, str] | None = None,
    pollutant: str | None = None,
) -> pd.DataFrame:
    """Read any accepted layout into the canonical daily table (see the module docstring).

    ``pollutant`` names the pollutant of an hourly wide file when its name does not say it.
    ``df.attrs["layout"]`` records the detected layout. Raises ``DataReadError`` (French).
    """
    raw = _read(source, column_map)
    layout = detect_layout(raw)
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
