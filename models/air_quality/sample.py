"""Seeded generator of the ``air_quality`` sample: daily pollution and weather around Lille.

The sample is **generated**, not measured. It imitates what Atmo Hauts-de-France stations and
the Météo-France station of Lille-Lesquin show, so that the notebook and the reference model
can run on realistic data without redistributing anyone's file.

Process (one row per day and station, ``generate()`` documents the knobs):

1. **Weather** (shared by the stations, Météo-France daily codes): a synoptic "anticyclone"
   index ``S`` (AR(1), ρ = 0.85) and a temperature anomaly (AR(1), ρ = 0.8) drive sea-level
   pressure ``PMERM`` (hPa), mean wind ``FFM`` (m/s, low under high pressure), rain ``RR``
   (mm, rare under high pressure), humidity ``UM`` (%), radiation ``GLOT`` (J/cm²), the wind
   direction ``DXY`` (degrees, continental north-east flow more frequent under high
   pressure) and ``TN``/``TX``/``TM`` (°C, seasonal cycle + anomaly, wider daily range on
   sunny days).
2. **PM10** (daily mean, µg/m³), log-normal: seasonal bump in February–April (spring
   ammonium-nitrate episodes), low summer; episodes when it is cold, dry, calm, under high
   pressure with a continental flow; weekdays ≈ +20 % over Sundays and public holidays;
   a ≈ 5 %/year decline; a regional AR(1) residual (ρ = 0.6) and a small station residual.
   Calibrated on the figures of real Hauts-de-France stations: median ≈ 19, mean ≈ 23,
   ≈ 5 % of days above 50 (mostly February–April, none in summer), lag-1 autocorrelation
   ≈ 0.77. **PM2.5** ≈ 0.6–0.7 × PM10 (measured at two stations only).
3. **NO2** (daily mean and daily maximum of hourly values): traffic-driven (weekdays, the
   traffic station), higher in winter and with calm, stable weather; ≈ 3 %/year decline.
4. **O3** (daily mean and daily maximum of hourly values): photochemistry — rises with
   radiation and heat (``TX`` above ≈ 24 °C), peaks in heat waves, titrated by NO2 (lower at
   the traffic station).
5. Realistic gaps: ≈ 1.5 % of missing values per pollutant and one station outage of a few
   weeks.

``add_weather_forecasts(table)`` adds day-ahead weather **forecasts** (``TX_prevu``…: the
observed weather of the day plus a realistic forecast error), for tests and demonstrations of
the D+1 weather option; the committed sample has observations only.

``generate(seed=...)`` returns the table; ``write_sample(dataset_dir)`` writes
``sample.csv`` atomically. Run ``python -m models.air_quality.sample`` to rebuild the
committed sample.
"""

from __future__ import annotations

from pathlib import Path

import holidays
import numpy as np
import pandas as pd

from models.fsutil import atomic_path

STATIONS: dict[str, dict[str, float]] = {
    # name: multiplicative factors (PM10, NO2, O3), PM2.5 measured (1/0), traffic weight
    "Lille Fives": {"pm": 1.00, "no2": 1.00, "o3": 1.00, "pm25": 1, "traffic": 0.0},
    "Roubaix Serres": {"pm": 1.04, "no2": 0.95, "o3": 1.02, "pm25": 1, "traffic": 0.0},
    "Armentières": {"pm": 0.92, "no2": 0.70, "o3": 1.08, "pm25": 0, "traffic": 0.0},
    "Lille Leeds": {"pm": 1.12, "no2": 1.75, "o3": 0.72, "pm25": 0, "traffic": 1.0},
}
"""Stations of the sample (names of real Lille métropole sites, values generated)."""

POLLUTANT_COLUMNS = ["PM10", "PM25", "NO2", "NO2_max", "O3", "O3_max"]
WEATHER_COLUMNS = ["RR", "TN", "TX", "TM", "FFM", "DXY", "PMERM", "UM", "GLOT"]
COLUMNS = ["date", "station", *POLLUTANT_COLUMNS, *WEATHER_COLUMNS]

DEFAULT_START = "2013-01-01"
DEFAULT_END = "2019-12-31"


def _ar1(rng: np.random.Generator, n: int, rho: float, sd: float) -> np.ndarray:
    """Stationary AR(1) series of length ``n`` with lag-1 correlation ``rho`` and s.d. ``sd``."""
    eps = rng.normal(0.0, sd * np.sqrt(1.0 - rho**2), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sd)
    for i in range(1, n):
        out[i] = rho * out[i - 1] + eps[i]
    return out


def generate_weather(dates: pd.DatetimeIndex, rng: np.random.Generator) -> pd.DataFrame:
    """Daily weather with Météo-France codes (one regional station, Lille-Lesquin-like)."""
    n = len(dates)
    doy = dates.day_of_year.to_numpy()
    season = np.sin(2 * np.pi * (doy - 110) / 365.25)  # +1 mid-summer, -1 mid-winter
    daylen = 0.5 + 0.5 * season
    s = _ar1(rng, n, 0.85, 1.0)  # anticyclone index
    summer = np.clip(season, 0, None)
    t_anom = (
        (1.9 + 1.6 * summer) * _ar1(rng, n, 0.8, 1.0)
        + (1.0 + 2.2 * summer) * np.clip(s, 0, None)
        - 0.8 * np.clip(-season, 0, None) * np.clip(s, 0, None)
        + 0.8 * _ar1(rng, n, 0.5, 1.0)
    )

    pmerm = 1016.0 + 8.5 * s + rng.normal(0, 2.0, n)
    wind = np.exp(np.log(4.0) - 0.22 * s + 0.12 * (-season) + rng.normal(0, 0.25, n))
    p_rain = 1.0 / (1.0 + np.exp(-(-0.1 - 1.6 * s + 0.2 * (-season))))
    rainy = rng.random(n) < p_rain
    rr = np.where(rainy, rng.gamma(0.8, 4.5, n), 0.0)
    rr = np.where(rainy & (rr < 0.2), 0.2, rr)
    sun = np.clip(0.45 + 0.22 * s - 0.25 * rainy + rng.normal(0, 0.12, n), 0.05, 0.98)
    clear_sky = 350 + 2450 * daylen  # J/cm2
    glot = clear_sky * (0.25 + 0.7 * sun)
    tm = 10.8 + 7.6 * season + t_anom
    dtr = np.clip(4.0 + 7.0 * sun + 2.0 * daylen + rng.normal(0, 1.0, n), 1.0, 18.0)
    tn = tm - dtr / 2 + rng.normal(0, 0.4, n)
    tx = tm + dtr / 2 + rng.normal(0, 0.4, n)
    um = np.clip(80 - 10 * sun * (0.5 + daylen) + 7 * rainy + rng.normal(0, 5, n), 30, 100)
    east = (-1.0 + 1.0 * s + _ar1(rng, n, 0.7, 1.0)) > 0  # continental flow, persistent
    direction = np.where(east, rng.normal(60, 35, n), rng.normal(235, 45, n)) % 360
    dxy = np.round(direction / 10.0) * 10
    dxy = np.where(dxy == 0, 360, dxy)
    return pd.DataFrame(
        {
            "RR": np.round(rr, 1),
            "TN": np.round(tn, 1),
            "TX": np.round(tx, 1),
            "TM": np.round(tm, 1),
            "FFM": np.round(wind, 1),
            "DXY": dxy.astype(int),
            "PMERM": np.round(pmerm, 1),
            "UM": np.round(um).astype(int),
            "GLOT": np.round(glot).astype(int),
        },
        index=dates,
    ).assign(_s=s, _east=east.astype(float), _rain=rainy.astype(float), _season=season)


def generate(
    seed: int = 59350,
    start: str = DEFAULT_START,
    end: str = DEFAULT_END,
    stations: list[str] | None = None,
    missing_rate: float = 0.015,
) -> pd.DataFrame:
    """Generate the sample: one row per day and station, pollutants then weather columns.

    ``seed`` fixes everything; ``start``/``end`` bound the period; ``stations`` picks among
    ``STATIONS``; ``missing_rate`` is the share of pollutant values blanked at random.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, end, freq="D")
    n = len(dates)
    wx = generate_weather(dates, rng)
    doy = dates.day_of_year.to_numpy()
    years = (dates.year - 2013 + doy / 365.25).to_numpy()
    fr_holidays = holidays.France(years=range(dates.year.min(), dates.year.max() + 1))
    off_day = np.array(
        [d.weekday() == 6 or d.date() in fr_holidays for d in dates], dtype=float
    )  # Sundays and public holidays: less traffic, less heating of offices
    saturday = (dates.day_of_week == 5).astype(float)

    s, east, rain, season = wx["_s"].to_numpy(), wx["_east"], wx["_rain"], wx["_season"]
    season = season.to_numpy()
    wind = wx["FFM"].to_numpy()
    tm = wx["TM"].to_numpy()
    tx = wx["TX"].to_numpy()
    glot = wx["GLOT"].to_numpy()
    spring = np.exp(-0.5 * ((doy - 75) / 28.0) ** 2)  # February-April peak (mid-March)
    summer = np.clip(season, 0, None)

    # Regional PM10 (log scale): season, trend, weekly cycle, weather, persistence.
    regional_pm = (
        np.log(26.0)
        + 0.16 * spring
        - 0.34 * summer
        - 0.05 * years
        - 0.22 * off_day
        - 0.08 * saturday
        + 0.12 * s
        - 0.22 * (np.log(wind) - np.log(4.0))
        - 0.16 * rain.to_numpy()
        + 0.06 * east.to_numpy()
        + 0.020 * np.clip(6 - tm, 0, None)
        + 0.50 * spring * np.clip(s - 0.3, 0, None) * (0.5 + east.to_numpy())
        + (1.0 - 0.4 * summer) * _ar1(rng, n, 0.8, 0.34)
    )
    regional_no2 = (
        np.log(27.0)
        + 0.22 * (-season)
        - 0.03 * years
        - 0.36 * off_day
        - 0.15 * saturday
        + 0.09 * s
        - 0.38 * (np.log(wind) - np.log(4.0))
        - 0.10 * rain.to_numpy()
        + _ar1(rng, n, 0.5, 0.18)
    )
    o3_base = (
        52
        + 28 * spring
        + 8 * summer
        + 0.9 * years
        + 4.2 * np.clip(tx - 24, 0, None)
        + 0.8 * np.clip(tx - 29, 0, None) ** 2
        + 0.012 * (glot - 1200)
        + 5 * off_day
        + 6 * np.clip(s, 0, None) * summer
        + _ar1(rng, n, 0.55, 9.0)
    )

    frames = []
    for name in stations or list(STATIONS):
        conf = STATIONS[name]
        pm10 = np.exp(regional_pm + np.log(conf["pm"]) + rng.normal(0, 0.07, n))
        pm10 *= 1 + 0.10 * conf["traffic"] * (1 - off_day)
        ratio = np.clip(0.64 + 0.06 * (-season) + rng.normal(0, 0.05, n), 0.4, 0.9)
        pm25 = pm10 * ratio if conf["pm25"] else np.full(n, np.nan)
        no2 = np.exp(
            regional_no2
            + np.log(conf["no2"])
            - 0.25 * conf["traffic"] * off_day
            + rng.normal(0, 0.12, n)
        )
        no2_max = no2 * np.exp(np.log(1.9) + 0.05 * s + rng.normal(0, 0.15, n))
        o3_max = np.clip(o3_base * conf["o3"] - 0.25 * (no2 - 25) + rng.normal(0, 6, n), 8, None)
        o3 = np.clip(o3_max * (0.62 - 0.10 * summer) - 0.35 * no2 + rng.normal(0, 4, n), 2, None)
        frame = pd.DataFrame(
            {
                "date": dates,
                "station": name,
                "PM10": np.round(pm10, 1),
                "PM25": np.round(pm25, 1),
                "NO2": np.round(no2, 1),
                "NO2_max": np.round(np.maximum(no2_max, no2), 0),
                "O3": np.round(o3, 1),
                "O3_max": np.round(np.maximum(o3_max, o3), 0),
            }
        )
        for col in POLLUTANT_COLUMNS:
            blank = rng.random(n) < missing_rate
            frame.loc[blank, col] = np.nan
        frames.append(frame)

    out = pd.concat(frames, ignore_index=True)
    # One station outage of a few weeks (all pollutants), as real networks have.
    outage_station = (stations or list(STATIONS))[-1]
    start_gap = dates[int(rng.integers(n // 3, 2 * n // 3))]
    gap = (out["station"] == outage_station) & out["date"].between(
        start_gap, start_gap + pd.Timedelta(days=int(rng.integers(14, 35)))
    )
    out.loc[gap, POLLUTANT_COLUMNS] = np.nan
    weather = wx[WEATHER_COLUMNS].reset_index(drop=True)
    weather = pd.concat([weather] * len(frames), ignore_index=True)
    out = pd.concat([out, weather], axis=1)
    return out[COLUMNS]


FORECAST_ERRORS = {
    "TN": 1.5,
    "TX": 1.5,
    "TM": 1.2,
    "FFM": 0.8,
    "PMERM": 2.0,
    "UM": 7.0,
    "DXY": 30.0,
}
"""Standard deviation of the day-ahead forecast error per weather code (°C, m/s, hPa, %,
degrees); rain and radiation get a multiplicative error (``add_weather_forecasts``)."""


def add_weather_forecasts(table: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """A copy of ``table`` with ``<code>_prevu`` columns: the forecast for the row's day,
    issued the day before (observed weather + an error per day, the same at every station)."""
    rng = np.random.default_rng(seed)
    days = pd.Index(table["date"].unique()).sort_values()
    out = table.copy()
    position = days.get_indexer(out["date"])
    for code in WEATHER_COLUMNS:
        observed = out[code].astype(float).to_numpy()
        if code in FORECAST_ERRORS:
            error = rng.normal(0, FORECAST_ERRORS[code], len(days))[position]
            forecast = observed + error
        else:  # RR, GLOT: multiplicative error, rain sometimes missed or invented
            factor = rng.lognormal(0, 0.35, len(days))[position]
            forecast = observed * factor
            if code == "RR":
                flip = rng.uniform(0, 1, len(days))[position] < 0.1
                forecast = np.where(flip, np.where(observed > 0, 0.0, 2.0), forecast)
        if code == "DXY":
            forecast = np.mod(forecast, 360)
        elif code in ("FFM", "RR", "GLOT", "UM"):
            forecast = np.clip(forecast, 0, 100 if code == "UM" else None)
        out[f"{code}_prevu"] = np.round(forecast, 1)
    return out


def write_sample(dataset_dir: Path | str, seed: int = 59350) -> Path:
    """Write ``sample.csv`` (UTF-8, ``,`` separator, ISO dates) into ``dataset_dir`` atomically."""
    df = generate(seed=seed)
    target = Path(dataset_dir) / "sample.csv"
    with atomic_path(target) as tmp:
        df.to_csv(tmp, index=False, date_format="%Y-%m-%d", encoding="utf-8")
    return target


if __name__ == "__main__":  # pragma: no cover - manual rebuild
    from models.entries import entry_paths

    print(write_sample(entry_paths("air_quality").dataset_dir))
