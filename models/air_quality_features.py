"""Features of the ``air_quality`` forecast: what is known on the evening of day D.

One row per issue day D (the evening the forecast is made) for one station and pollutant;
the target is the value of D+1. Features use only:

- the station's concentrations of D and earlier days (lags, short means, the other
  pollutants of the same station on D), the regional level (other stations) on D and D-1;
- ``FEATURE_GROUPS`` (all on by default): ``horaire`` — the end of day D from hourly data
  (evening and last-hours means, daily minimum, evening trend; only when the input was
  hourly); ``region`` — regional maximum, change and evening level of the other stations,
  the station's gap to the region; ``hebdo`` — the recent level of tomorrow's weekday (mean
  of the 4 previous same weekdays) and of today's, the 28-day mean and today's anomaly;
- the weather observed on D (and its change since D-1) — Météo-France daily codes;
- the calendar of D+1 (weekday, public holiday, school vacation, bridge day, season), known
  in advance.

``use_weather_forecast=True`` adds the weather **of D+1** (columns ending ``_prevu``): in
real use it would come from a weather forecast; on historical data it is the observed
weather, i.e. a perfect forecast — an optimistic option, off by default and always flagged in
reports. ``FUTURE_SUFFIX`` marks those columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.air_quality_io import MAX_COLUMNS, POLLUTANTS, WEATHER_CODES
from models.calendar import french_calendar
from models.errors import BiblioError

FUTURE_SUFFIX = "_prevu"
"""Suffix of features that use the weather of D+1 (weather-forecast option only)."""

WEATHER_FEATURES = [c for c in WEATHER_CODES if c != "DXY"]

FEATURE_GROUPS = ("horaire", "region", "hebdo")
"""Optional feature groups (see the module docstring); all used by default."""


def target_column(daily: pd.DataFrame, station: str, pollutant: str) -> str:
    """Column forecast for ``pollutant``: the daily maximum of hourly values for NO2/O3 when
    the data has it for ``station``, else the daily mean."""
    if pollutant not in POLLUTANTS:
        raise BiblioError(
            f"Polluant « {pollutant} » inconnu : choisissez parmi {', '.join(POLLUTANTS)}."
        )
    max_col = MAX_COLUMNS.get(pollutant)
    rows = daily[daily["station"] == station]
    if max_col and max_col in rows and rows[max_col].notna().any():
        return max_col
    if pollutant in rows and rows[pollutant].notna().any():
        return pollutant
    available = [p for p in POLLUTANTS if p in rows and rows[p].notna().any()] + [
        m for m in MAX_COLUMNS.values() if m in rows and rows[m].notna().any()
    ]
    raise BiblioError(
        f"Aucune mesure de {pollutant} pour la station « {station} ». Mesures disponibles : "
        + (", ".join(available) or "aucune")
        + "."
    )


def station_series(daily: pd.DataFrame, station: str) -> pd.DataFrame:
    """The station's rows on a complete daily calendar (missing days as empty rows)."""
    stations = sorted(daily["station"].dropna().unique())
    if station not in stations:
        listing = ", ".join(f"« {s} »" for s in stations[:30])
        raise BiblioError(f"Station « {station} » absente des données. Stations : {listing}.")
    rows = daily[daily["station"] == station].drop_duplicates("date", keep="last")
    rows = rows.set_index("date").sort_index()
    full = pd.date_range(rows.index.min(), rows.index.max(), freq="D")
    return rows.reindex(full)


def _regional(
    daily: pd.DataFrame, station: str, column: str, index: pd.DatetimeIndex, how: str = "median"
):
    """``how`` (median, max...) of ``column`` over the other stations, per day of ``index``."""
    if column not in daily:
        return None
    others = daily[(daily["station"] != station) & daily[column].notna()]
    if others.empty:
        return None
    return others.groupby("date")[column].agg(how).reindex(index)


def _same_weekday_mean(obs: pd.Series, first_lag: int, weeks: int = 4) -> pd.Series:
    """Mean of ``obs`` at lags ``first_lag``, ``first_lag + 7``... (``weeks`` values, ≥ 2)."""
    lagged = pd.concat([obs.shift(first_lag + 7 * k) for k in range(weeks)], axis=1)
    return lagged.mean(axis=1).where(lagged.notna().sum(axis=1) >= 2)


def _hourly_features(X: pd.DataFrame, s: pd.DataFrame, pollutant: str) -> None:
    """End of day D from hourly data (columns ``<P>_soir``, ``<P>_fin``, ``<P>_min``)."""
    cols = {k: f"{pollutant}_{k}" for k in ("soir", "fin", "min")}
    if not all(c in s and s[c].notna().any() for c in cols.values()):
        return
    evening, last = s[cols["soir"]].astype(float), s[cols["fin"]].astype(float)
    X["soir_j0"], X["fin_j0"], X["min_j0"] = evening, last, s[cols["min"]].astype(float)
    X["pente_soir"] = last - evening
    X["soir_j1"] = evening.shift(1)
    X["soir_var_1j"] = evening - evening.shift(1)


def _regional_features(
    X: pd.DataFrame, daily: pd.DataFrame, station: str, pollutant: str, target: str
) -> None:
    idx = X.index
    peak = _regional(daily, station, target, idx, "max")
    if peak is not None:
        X["region_max_j0"] = peak
    if "region_j0" in X:
        X["region_var_1j"] = X["region_j0"] - X["region_j1"]
        X["ecart_region_j0"] = X["obs_j0"] - X["region_j0"]
    evening = _regional(daily, station, f"{pollutant}_soir", idx)
    if evening is not None:
        X["region_soir_j0"] = evening
        X["region_soir_var_1j"] = evening - evening.shift(1)


def _weekly_features(X: pd.DataFrame, obs: pd.Series) -> None:
    X["hebdo_j1"] = _same_weekday_mean(obs, 6)  # D-6, D-13...: tomorrow's weekday
    X["hebdo_j0"] = _same_weekday_mean(obs, 0)  # D, D-7...: today's weekday
    X["hebdo_var"] = X["hebdo_j1"] - X["hebdo_j0"]
    X["moy_28j"] = obs.rolling(28, min_periods=14).mean()
    X["anomalie_j0"] = obs - X["moy_28j"]


def make_features(
    daily: pd.DataFrame,
    station: str,
    pollutant: str,
    *,
    use_weather_forecast: bool = False,
    zone: str = "B",
    groups: tuple[str, ...] = FEATURE_GROUPS,
) -> tuple[pd.DataFrame, pd.Series]:
    """Features known on the evening of each day D, and the target value of D+1.

    ``groups`` selects the optional feature groups (``FEATURE_GROUPS``).

    Returns ``(X, y)`` indexed by the issue day D (``X.attrs["target"]`` names the target
    column). ``y`` is missing where D+1 was not measured.
    """
    target = target_column(daily, station, pollutant)
    s = station_series(daily, station)
    idx = s.index
    obs = s[target].astype(float)
    X = pd.DataFrame(index=idx)
    X["obs_j0"] = obs
    for lag in (1, 2, 6):
        X[f"obs_j{lag}"] = obs.shift(lag)
    X["moy_3j"] = obs.rolling(3, min_periods=1).mean()
    X["moy_7j"] = obs.rolling(7, min_periods=3).mean()
    X["max_7j"] = obs.rolling(7, min_periods=3).max()
    X["var_1j"] = obs - obs.shift(1)
    if target != pollutant and pollutant in s:
        X["moyenne_j0"] = s[pollutant].astype(float)
    for other in POLLUTANTS:
        if other != pollutant and other in s and s[other].notna().any():
            X[f"{other}_j0"] = s[other].astype(float)
    region = _regional(daily, station, target, idx)
    if region is not None:
        X["region_j0"] = region
        X["region_j1"] = region.shift(1)
    if "horaire" in groups:
        _hourly_features(X, s, pollutant)
    if "region" in groups:
        _regional_features(X, daily, station, pollutant, target)
    if "hebdo" in groups:
        _weekly_features(X, obs)

    weather = [c for c in WEATHER_FEATURES if c in s and s[c].notna().any()]
    for code in weather:
        X[f"{code}_j0"] = s[code].astype(float)
    if "PMERM" in weather:
        X["PMERM_var_1j"] = s["PMERM"] - s["PMERM"].shift(1)
    if "TX" in weather:
        X["TX_var_1j"] = s["TX"] - s["TX"].shift(1)
    has_dir = "DXY" in s and s["DXY"].notna().any()
    if has_dir:
        rad = np.deg2rad(s["DXY"].astype(float))
        X["vent_nord_j0"], X["vent_est_j0"] = np.cos(rad), np.sin(rad)

    tomorrow = idx + pd.Timedelta(days=1)
    cal = french_calendar(tomorrow, zone=zone).reindex(tomorrow)
    cal_today = french_calendar(idx, zone=zone).reindex(idx)
    X["jour_semaine_j1"] = cal["weekday"].to_numpy(dtype=float)
    X["ferie_j1"] = cal["is_public_holiday"].to_numpy(dtype=float)
    X["ferie_j0"] = cal_today["is_public_holiday"].to_numpy(dtype=float)
    X["pont_j1"] = cal["is_bridge_day"].to_numpy(dtype=float)
    X["vacances_j1"] = cal["is_school_vacation"].to_numpy(dtype=float)
    doy = tomorrow.day_of_year.to_numpy()
    X["saison_sin"] = np.sin(2 * np.pi * doy / 365.25)
    X["saison_cos"] = np.cos(2 * np.pi * doy / 365.25)

    if use_weather_forecast:
        for code in weather:
            X[f"{code}{FUTURE_SUFFIX}"] = s[code].shift(-1).astype(float)
        if has_dir:
            rad = np.deg2rad(s["DXY"].shift(-1).astype(float))
            X[f"vent_est{FUTURE_SUFFIX}"] = np.sin(rad)

    y = obs.shift(-1).rename("cible")
    X.index.name = "date_emission"
    y.index.name = "date_emission"
    X.attrs["target"] = target
    X.attrs["station"] = station
    X.attrs["pollutant"] = pollutant
    return X, y
