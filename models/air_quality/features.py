"""Features of the ``air_quality`` forecast: what is known on the evening of day D.

One row per issue day D (the evening the forecast is made) for one station and pollutant;
the target is the value of D+1. Always used (group ``base``): the station's levels of D and
earlier days (lags, short means), its other pollutants on D, the regional median of the other
stations on D and D-1, the weather observed on D (Météo-France daily codes) and the calendar
of D+1 (weekday, public holiday, school vacation, bridge day, season), known in advance.
``FEATURE_GROUPS`` add, when the data allows it:

- ``horaire`` — the profile of day D from hourly data: evening and last-hours means, night,
  morning and afternoon means, daily minimum, evening trend;
- ``region`` — regional maximum, change and evening level of the other stations, the
  station's gap to the region;
- ``hebdo`` — the recent level of tomorrow's weekday (mean of the 4 previous same weekdays)
  and of today's, the 28-day mean and today's anomaly;
- ``croise`` — the other pollutants of the whole network on D (regional median of the daily
  mean, evening and maximum, change since D-1; e.g. NO2 for an ozone forecast: a stable,
  NO2-laden evening announces tomorrow's ozone), when several pollutants are given;
- ``etendu`` — more of the same: the regional profile of the day, the oxidant level
  Ox = NO2 + O3, the other pollutants' profile.

The model chooses between ``DEFAULT_GROUPS`` and all groups by backtesting (``model``).

**Weather of D+1** (``weather_mode``): ``"prevision"`` uses the weather *forecast* columns
of the data (``TX_prevu``… on the row of the day they forecast, issued the day before): they
are known on the evening of D, so features ``<code>_prevu_j1`` are **not** future
information. ``"observee"`` uses the weather *observed* on D+1 as a perfect forecast (to
measure what a forecast would bring on historical data): optimistic, flagged in every report,
its features end with ``FUTURE_SUFFIX``. ``"aucune"``: no weather of D+1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.calendar import french_calendar
from models.errors import BiblioError

from .data import FORECAST_SUFFIX, MAX_COLUMNS, POLLUTANTS, WEATHER_CODES

FUTURE_SUFFIX = "_observe_j1"
"""Suffix of features that use the weather observed on D+1 (future information)."""
FORECAST_FEATURE_SUFFIX = "_prevu_j1"
"""Suffix of features that use the weather forecast for D+1 (known on the evening of D)."""

WEATHER_FEATURES = [c for c in WEATHER_CODES if c != "DXY"]

FEATURE_GROUPS = ("horaire", "region", "hebdo", "croise", "etendu")
"""Optional feature groups (see the module docstring)."""
DEFAULT_GROUPS = ("horaire", "region", "hebdo", "croise")

TARGET_KINDS = ("moyenne", "max")
"""``target`` values: the daily mean, or the daily maximum of hourly values (NO2, O3)."""

WEATHER_MODES = ("aucune", "prevision", "observee")
DEFAULT_ZONE = "B"
"""School-vacation zone when neither the call nor the data says it (Lille: zone B)."""


def target_column(
    daily: pd.DataFrame, station: str, pollutant: str, target: str | None = None
) -> str:
    """Column forecast for ``pollutant``. ``target`` None: the daily maximum of hourly values
    for NO2/O3 when the data has it for ``station``, else the daily mean; ``"moyenne"``: the
    daily mean; ``"max"``: the daily maximum (NO2, O3)."""
    if pollutant not in POLLUTANTS:
        raise BiblioError(
            f"Polluant « {pollutant} » inconnu : choisissez parmi {', '.join(POLLUTANTS)}."
        )
    if target is not None and target not in TARGET_KINDS:
        raise BiblioError(
            f"Cible « {target} » inconnue : choisissez « moyenne » (moyenne journalière) ou "
            "« max » (maximum horaire du jour, NO2 et O3)."
        )
    rows = daily[daily["station"] == station]
    max_col = MAX_COLUMNS.get(pollutant)
    candidates = {None: [max_col, pollutant], "max": [max_col], "moyenne": [pollutant]}[target]
    for col in candidates:
        if col and col in rows and rows[col].notna().any():
            return col
    available = [p for p in POLLUTANTS if p in rows and rows[p].notna().any()] + [
        m for m in MAX_COLUMNS.values() if m in rows and rows[m].notna().any()
    ]
    what = {None: pollutant, "max": f"maximum horaire de {pollutant}", "moyenne": pollutant}
    raise BiblioError(
        f"Aucune mesure de {what[target]} pour la station « {station} ». Mesures disponibles : "
        + (", ".join(available) or "aucune")
        + "."
    )


def weather_mode(daily: pd.DataFrame, use_weather_forecast: bool | None = None) -> str:
    """``"prevision"``, ``"observee"`` or ``"aucune"`` (see the module docstring).

    ``None`` (the default): the forecast columns when the data has them, else nothing.
    ``True``: the forecast columns, or without them the observed weather of D+1 (perfect
    forecast, flagged). ``False``: nothing."""
    has_forecasts = any(
        f"{c}{FORECAST_SUFFIX}" in daily and daily[f"{c}{FORECAST_SUFFIX}"].notna().any()
        for c in WEATHER_CODES
    )
    if use_weather_forecast is False:
        return "aucune"
    if has_forecasts:
        return "prevision"
    return "observee" if use_weather_forecast else "aucune"


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


class Panel:
    """The daily table as wide tables (day × station), one per column, computed once and
    shared by the features of every station (regional statistics)."""

    def __init__(self, daily: pd.DataFrame):
        self.daily = daily
        self._wide: dict[str, pd.DataFrame | None] = {}

    def wide(self, column: str) -> pd.DataFrame | None:
        if column not in self._wide:
            rows = self.daily[["date", "station", column]] if column in self.daily else None
            if rows is None or rows[column].isna().all():
                self._wide[column] = None
            else:
                rows = rows.dropna(subset=[column]).drop_duplicates(
                    ["date", "station"], keep="last"
                )
                self._wide[column] = rows.pivot(index="date", columns="station", values=column)
        return self._wide[column]

    def others(self, column: str, station: str, index, how: str = "median") -> pd.Series | None:
        """``how`` of ``column`` over the stations other than ``station``, per day of ``index``."""
        wide = self.wide(column)
        if wide is None:
            return None
        others = wide.drop(columns=[station], errors="ignore")
        if others.empty or others.notna().sum().sum() == 0:
            return None
        return others.agg(how, axis=1).reindex(index)

    def network(self, column: str, index, how: str = "median") -> pd.Series | None:
        """``how`` of ``column`` over every station, per day of ``index``."""
        wide = self.wide(column)
        return None if wide is None else wide.agg(how, axis=1).reindex(index)


def _same_weekday_mean(obs: pd.Series, first_lag: int, weeks: int = 4) -> pd.Series:
    """Mean of ``obs`` at lags ``first_lag``, ``first_lag + 7``... (``weeks`` values, ≥ 2)."""
    lagged = pd.concat([obs.shift(first_lag + 7 * k) for k in range(weeks)], axis=1)
    return lagged.mean(axis=1).where(lagged.notna().sum(axis=1) >= 2)


def _series(s: pd.DataFrame, column: str) -> pd.Series | None:
    return s[column].astype(float) if column in s and s[column].notna().any() else None


def _base_features(X, s, panel, station, pollutant, target) -> None:
    obs = X["obs_j0"]
    for lag in (1, 2, 6):
        X[f"obs_j{lag}"] = obs.shift(lag)
    X["moy_3j"] = obs.rolling(3, min_periods=1).mean()
    X["moy_7j"] = obs.rolling(7, min_periods=3).mean()
    X["max_7j"] = obs.rolling(7, min_periods=3).max()
    X["var_1j"] = obs - obs.shift(1)
    mean, peak = _series(s, pollutant), _series(s, MAX_COLUMNS.get(pollutant, ""))
    if target != pollutant and mean is not None:
        X["moyenne_j0"] = mean
    if target == pollutant and peak is not None:
        X["max_j0"] = peak
    for other in POLLUTANTS:
        if other != pollutant and _series(s, other) is not None:
            X[f"{other}_j0"] = s[other].astype(float)
    region = panel.others(target, station, X.index)
    if region is not None:
        X["region_j0"] = region
        X["region_j1"] = region.shift(1)


def _hourly_features(X, s, pollutant) -> None:
    """Profile of day D from hourly data (columns ``<P>_soir``, ``<P>_fin``...)."""
    evening, last = _series(s, f"{pollutant}_soir"), _series(s, f"{pollutant}_fin")
    if evening is None or last is None:
        return
    X["soir_j0"], X["fin_j0"] = evening, last
    X["pente_soir"] = last - evening
    X["soir_j1"] = evening.shift(1)
    X["soir_var_1j"] = evening - evening.shift(1)
    for window in ("min", "nuit", "matin", "apresmidi"):
        values = _series(s, f"{pollutant}_{window}")
        if values is not None:
            X[f"{window}_j0"] = values


def _regional_features(X, panel, station, pollutant, target) -> None:
    idx = X.index
    peak = panel.others(target, station, idx, "max")
    if peak is not None:
        X["region_max_j0"] = peak
    if "region_j0" in X:
        X["region_var_1j"] = X["region_j0"] - X["region_j1"]
        X["ecart_region_j0"] = X["obs_j0"] - X["region_j0"]
    evening = panel.others(f"{pollutant}_soir", station, idx)
    if evening is not None:
        X["region_soir_j0"] = evening
        X["region_soir_var_1j"] = evening - evening.shift(1)


def _weekly_features(X) -> None:
    obs = X["obs_j0"]
    X["hebdo_j1"] = _same_weekday_mean(obs, 6)  # D-6, D-13...: tomorrow's weekday
    X["hebdo_j0"] = _same_weekday_mean(obs, 0)  # D, D-7...: today's weekday
    X["hebdo_var"] = X["hebdo_j1"] - X["hebdo_j0"]
    X["moy_28j"] = obs.rolling(28, min_periods=14).mean()
    X["anomalie_j0"] = obs - X["moy_28j"]


def _cross_features(X, s, panel, pollutant) -> None:
    """The other pollutants of the whole network on D (and the station's own evening)."""
    idx = X.index
    for other in POLLUTANTS:
        if other == pollutant:
            continue
        level = panel.network(other, idx)
        if level is None:
            continue
        X[f"{other}_region_j0"] = level
        X[f"{other}_region_var_1j"] = level - level.shift(1)
        for column, name in ((f"{other}_soir", "soir"), (MAX_COLUMNS.get(other, ""), "max")):
            values = panel.network(column, idx) if column else None
            if values is not None:
                X[f"{other}_region_{name}_j0"] = values
        own_evening = _series(s, f"{other}_soir")
        if own_evening is not None:
            X[f"{other}_soir_j0"] = own_evening


def _extended_features(X, s, panel, station, pollutant) -> None:
    """Regional profile of the day, oxidant level Ox = NO2 + O3, other pollutants' profile."""
    idx = X.index
    for window in ("nuit", "matin", "apresmidi", "fin", "min"):
        values = panel.others(f"{pollutant}_{window}", station, idx)
        if values is not None:
            X[f"region_{window}_j0"] = values
    for other in POLLUTANTS:
        if other == pollutant or panel.network(other, idx) is None:
            continue
        for window in ("fin", "min", "apresmidi", "nuit"):
            values = panel.network(f"{other}_{window}", idx)
            if values is not None:
                X[f"{other}_region_{window}_j0"] = values
        for name in ("max", "soir"):
            col = f"{other}_region_{name}_j0"
            if col in X:
                X[f"{other}_region_{name}_var_1j"] = X[col] - X[col].shift(1)
        for column, name in ((MAX_COLUMNS.get(other, ""), "max"), (f"{other}_fin", "fin")):
            own = _series(s, column) if column else None
            if own is not None:
                X[f"{other}_{name}_j0"] = own
    if pollutant in ("NO2", "O3"):
        other = "O3" if pollutant == "NO2" else "NO2"
        mine, theirs = panel.network(pollutant, idx), panel.network(other, idx)
        if mine is not None and theirs is not None:
            X["ox_region_j0"] = mine + theirs
            X["ox_region_var_1j"] = X["ox_region_j0"] - X["ox_region_j0"].shift(1)
            evenings = (panel.network(f"{p}_soir", idx) for p in (pollutant, other))
            a, b = evenings
            if a is not None and b is not None:
                X["ox_region_soir_j0"] = a + b
            own_mine, own_other = _series(s, pollutant), _series(s, other)
            if own_mine is not None and own_other is not None:
                X["ox_j0"] = own_mine + own_other


def _weather_features(X, s, mode: str) -> None:
    """Weather observed on D; with ``mode`` the weather of D+1 (see the module docstring)."""
    weather = [c for c in WEATHER_FEATURES if _series(s, c) is not None]
    for code in weather:
        X[f"{code}_j0"] = s[code].astype(float)
    if "PMERM" in weather:
        X["PMERM_var_1j"] = s["PMERM"] - s["PMERM"].shift(1)
    if "TX" in weather:
        X["TX_var_1j"] = s["TX"] - s["TX"].shift(1)
    if _series(s, "DXY") is not None:
        rad = np.deg2rad(s["DXY"].astype(float))
        X["vent_nord_j0"], X["vent_est_j0"] = np.cos(rad), np.sin(rad)
    if mode == "prevision":
        for code in WEATHER_CODES:
            forecast = _series(s, f"{code}{FORECAST_SUFFIX}")
            if forecast is None:
                continue
            tomorrow = forecast.shift(-1)  # the forecast for D+1, issued on D
            if code == "DXY":
                X[f"vent_est{FORECAST_FEATURE_SUFFIX}"] = np.sin(np.deg2rad(tomorrow))
            else:
                X[f"{code}{FORECAST_FEATURE_SUFFIX}"] = tomorrow
    elif mode == "observee":
        for code in weather:
            X[f"{code}{FUTURE_SUFFIX}"] = s[code].shift(-1).astype(float)
        if _series(s, "DXY") is not None:
            X[f"vent_est{FUTURE_SUFFIX}"] = np.sin(np.deg2rad(s["DXY"].shift(-1).astype(float)))


def _calendar_features(X, zone: str) -> None:
    idx = X.index
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


def make_features(
    daily: pd.DataFrame,
    station: str,
    pollutant: str,
    *,
    use_weather_forecast: bool | None = None,
    zone: str | None = None,
    groups: tuple[str, ...] = FEATURE_GROUPS,
    target: str | None = None,
    panel: Panel | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Features known on the evening of each day D, and the target value of D+1.

    ``groups`` selects the optional feature groups (``FEATURE_GROUPS``); ``target`` the
    quantity (``target_column``); ``use_weather_forecast`` the weather of D+1
    (``weather_mode``); ``zone`` the school-vacation zone (default: the data's, else
    ``DEFAULT_ZONE``); ``panel`` shares the regional tables between stations.

    Returns ``(X, y)`` indexed by the issue day D. ``X.attrs``: ``target`` (column),
    ``station``, ``pollutant``, ``weather`` (mode) and ``groups`` (feature → group, ``base``
    for the features always used). ``y`` is missing where D+1 was not measured.
    """
    target_col = target_column(daily, station, pollutant, target)
    panel = panel if panel is not None else Panel(daily)
    mode = weather_mode(daily, use_weather_forecast)
    s = station_series(daily, station)
    X = pd.DataFrame(index=s.index)
    X["obs_j0"] = s[target_col].astype(float)
    membership: dict[str, str] = {}

    def step(group: str, add, *args) -> None:
        before = set(X.columns)
        add(*args)
        membership.update(dict.fromkeys([c for c in X.columns if c not in before], group))

    step("base", _base_features, X, s, panel, station, pollutant, target_col)
    membership["obs_j0"] = "base"
    if "horaire" in groups:
        step("horaire", _hourly_features, X, s, pollutant)
    if "region" in groups:
        step("region", _regional_features, X, panel, station, pollutant, target_col)
    if "hebdo" in groups:
        step("hebdo", _weekly_features, X)
    if "croise" in groups:
        step("croise", _cross_features, X, s, panel, pollutant)
    if "etendu" in groups:
        step("etendu", _extended_features, X, s, panel, station, pollutant)
    step("base", _weather_features, X, s, mode)
    step("base", _calendar_features, X, zone or daily.attrs.get("zone") or DEFAULT_ZONE)

    y = X["obs_j0"].shift(-1).rename("cible")
    X.index.name = "date_emission"
    y.index.name = "date_emission"
    X.attrs.update(
        target=target_col, station=station, pollutant=pollutant, weather=mode, groups=membership
    )
    return X, y
