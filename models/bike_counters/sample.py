"""Seeded generator of the ``bike_counters`` sample: hourly bike counts with labelled anomalies.

The sample imitates Nantes Métropole's open data set ``244400404_comptages-velo-nantes-metropole``
(hourly wide layout ``Numéro de boucle;Libellé;Jour;00;…;23;Probabilité de présence
d'anomalies;Jour de la semaine``, loop ids with leading zeros) for 15 counters over two years,
and reproduces the facts published by Nantes:

- weekday factors versus the median day: Mon 1.12, Tue–Thu 1.25, Fri 1.20, Sat 0.76, Sun 0.64
  (two "leisure" counters along the Loire have the opposite pattern);
- weekday hourly peaks at 08h (≈ 12.5 % of the day) and 17–18h (≈ 11 % each), weekend peak in
  the afternoon; public holidays follow the Sunday pattern;
- seasonality: winter ≈ 0.7×, September ≈ 1.35×; trends of +6 to +17 %/yr; dips in the school
  vacations of zone B (``vacances-scolaires-france``) and on public holidays (``holidays``);
- daily medians from ≈ 10 to ≈ 2,250 across counters;
- rain (daily mm) and temperature (daily mean °C) effects, the weather being written to its own
  file ``meteo.csv``.

Anomalies are then injected and written to ``labels.csv`` (one row per event, hour resolution,
start included and end excluded): outages (zeros or missing values, from hours to months),
partial days (a few missing hours), spikes (2–4× for hours to days), scale-downs (25–40 % for
days to weeks), stuck constant values and doubled counts. The column ``Probabilité de présence
d'anomalies`` is filled like Nantes's crude daily flag (``Forte`` for a day without any count,
``Faible`` for a day with several zero or missing hours, empty otherwise): it is *not* the truth,
``labels.csv`` is.

``write_sample(dataset_dir)`` writes ``sample.csv``, ``labels.csv``, ``meteo.csv`` and
``lieux.csv`` (locations with a single ``"lat,lon"`` field).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import holidays
import numpy as np
import pandas as pd
from vacances_scolaires_france import SchoolHolidayDates

from models.fsutil import atomic_path

from .data import HOURS, KINDS, CountData

SEED = 2024
START = "2022-01-01"
END = "2023-12-31"

# (loop id, label, median daily count, profile) — names of Nantes places, invented ids.
COUNTERS: tuple[tuple[str, str, float, str], ...] = (
    ("0701", "Pont Anne de Bretagne vers Sud", 2250, "commute"),
    ("0702", "Pont Anne de Bretagne vers Nord", 1650, "commute"),
    ("0715", "Cours des 50 Otages vers Nord", 1200, "commute"),
    ("0716", "Cours des 50 Otages vers Sud", 950, "commute"),
    ("0733", "Quai de la Fosse vers Ouest", 720, "commute"),
    ("0741", "Boulevard Michelet vers Nord", 560, "commute"),
    ("0752", "Pont de Pirmil vers Sud", 430, "commute"),
    ("0768", "Bords de Loire Trentemoult", 330, "leisure"),
    ("0774", "Rue de Strasbourg vers Sud", 250, "commute"),
    ("0789", "Boulevard de Doulon vers Est", 180, "commute"),
    ("0803", "Pont de la Jonelière vers Nord", 120, "commute"),
    ("0817", "Île de Nantes Prairie au Duc", 80, "leisure"),
    ("0826", "Route de Vannes vers Ouest", 45, "commute"),
    ("0842", "Rezé Trocardière vers Nord", 22, "commute"),
    ("0859", "Chemin de la Chézine vers Est", 10, "commute"),
)

WEEKDAY_FACTORS = {
    "commute": np.array([1.12, 1.25, 1.25, 1.25, 1.20, 0.76, 0.64]),
    "leisure": np.array([0.85, 0.90, 0.95, 0.90, 1.00, 1.35, 1.55]),
}

_WEEKDAY_PROFILE = np.array(
    [
        0.4,
        0.2,
        0.15,
        0.1,
        0.15,
        0.5,
        1.8,
        6.5,
        12.5,
        6.0,
        3.6,
        3.8,
        5.5,
        5.2,
        4.4,
        5.0,
        8.2,
        11.0,
        11.0,
        6.0,
        3.4,
        2.4,
        1.4,
        0.8,
    ]
)
_WEEKEND_PROFILE = np.array(
    [
        1.5,
        1.0,
        0.7,
        0.4,
        0.3,
        0.3,
        0.6,
        1.2,
        2.5,
        4.5,
        6.5,
        7.5,
        7.0,
        7.0,
        8.5,
        9.5,
        10.0,
        9.5,
        8.0,
        6.0,
        4.0,
        2.5,
        1.8,
        1.2,
    ]
)
WEEKDAY_PROFILE = _WEEKDAY_PROFILE / _WEEKDAY_PROFILE.sum()
WEEKEND_PROFILE = _WEEKEND_PROFILE / _WEEKEND_PROFILE.sum()

# Monthly level (mid-month anchors, interpolated by day of year): winter ≈ 0.7, September ≈ 1.35.
MONTH_FACTORS = np.array([0.70, 0.74, 0.88, 1.00, 1.10, 1.18, 1.05, 0.85, 1.35, 1.15, 0.88, 0.70])

VACATION_FACTOR = {"commute": 0.78, "leisure": 1.05}
HOLIDAY_FACTOR = 0.85  # on top of the Sunday pattern
DAY_NOISE_SD = 0.07
HOUR_GAMMA_SHAPE = 25.0
LEVEL_CALIBRATION = 0.77  # mean weather and vacation dips, so that medians match the targets


def _season(dates: pd.DatetimeIndex) -> np.ndarray:
    anchors = np.array([15 + 30.4 * m for m in range(12)])
    x = np.concatenate([anchors - 365, anchors, anchors + 365])
    y = np.tile(MONTH_FACTORS, 3)
    return np.interp(dates.day_of_year.to_numpy(), x, y)


def _calendar(dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Public holidays and school vacations (zone B) of each date."""
    fr = holidays.France(years=sorted(set(dates.year)))
    school = SchoolHolidayDates()
    return pd.DataFrame(
        {
            "holiday": [d.date() in fr for d in dates],
            "vacation": [bool(school.is_holiday_for_zone(d.date(), "B")) for d in dates],
        },
        index=dates,
    )


def generate_weather(dates: pd.DatetimeIndex, rng: np.random.Generator) -> pd.DataFrame:
    """Daily rain (mm) and mean temperature (°C) with a Nantes-like climate."""
    doy = dates.day_of_year.to_numpy()
    seasonal = 12.5 + 7.0 * np.cos(2 * np.pi * (doy - 205) / 365.25)
    anomaly = np.zeros(len(dates))
    for i in range(1, len(dates)):
        anomaly[i] = 0.75 * anomaly[i - 1] + rng.normal(0, 2.0)
    wet_prob = 0.42 + 0.12 * np.cos(2 * np.pi * (doy - 15) / 365.25)
    wet = rng.random(len(dates)) < wet_prob
    rain = np.where(wet, rng.gamma(0.8, 6.0, len(dates)), 0.0)
    return pd.DataFrame(
        {
            "date": dates,
            "pluie_mm": np.round(rain, 1),
            "temperature_c": np.round(seasonal + anomaly, 1),
        }
    )


def weather_factor(rain_mm: np.ndarray, temperature_c: np.ndarray) -> np.ndarray:
    """Multiplicative effect of the day's weather on bike traffic."""
    rain = np.exp(-0.025 * np.minimum(rain_mm, 30.0))
    temp = 1.0 - 0.02 * np.maximum(0.0, 8.0 - temperature_c)
    temp -= 0.015 * np.maximum(0.0, temperature_c - 28.0)
    return rain * temp


def clean_counts(
    dates: pd.DatetimeIndex, weather: pd.DataFrame, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Hourly counts without anomalies, ``(counters, days, 24)``, and their expected values."""
    cal = _calendar(dates)
    weekday = dates.day_of_week.to_numpy()
    years = (dates - dates[0]).days.to_numpy() / 365.25
    season = _season(dates)
    wfac = weather_factor(weather["pluie_mm"].to_numpy(), weather["temperature_c"].to_numpy())
    holiday = cal["holiday"].to_numpy()
    vacation = cal["vacation"].to_numpy()
    n_c, n_d = len(COUNTERS), len(dates)
    expected = np.zeros((n_c, n_d, 24))
    for c, (_, _, median, profile) in enumerate(COUNTERS):
        factors = WEEKDAY_FACTORS[profile]
        day_factor = np.where(holiday, factors[6] * HOLIDAY_FACTOR, factors[weekday])
        trend = (1.0 + rng.uniform(0.06, 0.17)) ** years
        vac = np.where(vacation & ~holiday & (weekday < 5), VACATION_FACTOR[profile], 1.0)
        level = median / np.median(factors) / LEVEL_CALIBRATION
        daily = level * day_factor * season * trend * vac * wfac
        daily *= np.exp(rng.normal(0, DAY_NOISE_SD, n_d))
        weekend_like = holiday | (weekday >= 5)
        if profile == "leisure":
            wk = 0.5 * WEEKDAY_PROFILE + 0.5 * WEEKEND_PROFILE
        else:
            wk = WEEKDAY_PROFILE
        shares = np.where(weekend_like[:, None], WEEKEND_PROFILE[None, :], wk[None, :])
        expected[c] = daily[:, None] * shares
    mixed = expected * rng.gamma(HOUR_GAMMA_SHAPE, 1.0 / HOUR_GAMMA_SHAPE, expected.shape)
    return rng.poisson(mixed).astype(float), expected


# ---------------------------------------------------------------------------------------------
# Anomalies


def _event_plan(rng: np.random.Generator, c: int) -> list[tuple[str, int, int, float, str]]:
    """Events ``(kind, start_hour_index, n_hours, factor, injected)`` for counter ``c``."""
    plan: list[tuple[str, int, int, float, str]] = []

    def start_hour(lo: int, hi: int) -> int:
        return int(rng.integers(lo, hi))

    # outages: one short (hours to a few days), one of days to weeks, a long one for 2 counters
    for length in (
        int(rng.integers(8, 72)),
        24 * int(rng.integers(3, 21)),
        *([24 * int(rng.integers(35, 90))] if c in (3, 9) else []),
    ):
        hour = start_hour(6, 19)
        injected = "zéro" if rng.random() < 0.6 else "manquante"
        plan.append(("panne", hour, length, 0.0, injected))
    for _ in range(5):
        hour = start_hour(5, 19)
        plan.append(("journee_partielle", hour, int(rng.integers(2, 9)), np.nan, "manquante"))
    for _ in range(4):
        hour = start_hour(7, 17)
        length = int(rng.choice([3, 5, 8, 14, 24, 48]))
        plan.append(("pic", hour, length, float(rng.uniform(2.0, 4.0)), "multipliée"))
    for _ in range(2):
        plan.append(
            (
                "sous_comptage",
                0,
                24 * int(rng.integers(2, 31)),
                float(rng.uniform(0.25, 0.40)),
                "multipliée",
            )
        )
    for _ in range(2):
        hour = start_hour(7, 15)
        plan.append(("valeur_bloquee", hour, int(rng.integers(8, 97)), np.nan, "constante"))
    plan.append(("double_comptage", 0, 24 * int(rng.integers(3, 21)), 2.0, "multipliée"))
    return plan


def inject_anomalies(
    counts: np.ndarray, rng: np.random.Generator, dates: pd.DatetimeIndex
) -> tuple[np.ndarray, pd.DataFrame]:
    """Inject non-overlapping events into ``counts`` (copy); return it with the event table."""
    out = counts.copy()
    n_c, n_d, _ = counts.shape
    n_hours = n_d * 24
    rows = []
    for c in range(n_c):
        flat = out[c].reshape(-1)
        busy = np.zeros(n_hours, dtype=bool)
        for kind, hour, length, factor, injected in _event_plan(rng, c):
            for _attempt in range(200):
                day = int(rng.integers(1, n_d - 1 - length // 24 - 1))
                start = day * 24 + hour
                end = min(start + length, n_hours)
                margin = slice(max(0, start - 48), min(n_hours, end + 48))
                if not busy[margin].any():
                    break
            else:
                continue
            busy[start:end] = True
            seg = slice(start, end)
            if kind in ("panne", "journee_partielle"):
                flat[seg] = 0.0 if injected == "zéro" else np.nan
            elif kind == "valeur_bloquee":
                factor = float(max(flat[start], 1.0))
                flat[seg] = factor
            else:
                flat[seg] = np.round(flat[seg] * factor)
            rows.append(
                {
                    "Numéro de boucle": COUNTERS[c][0],
                    "Début": dates[0] + pd.Timedelta(hours=start),
                    "Fin": dates[0] + pd.Timedelta(hours=end),
                    "Type d'anomalie": kind,
                    "Valeur injectée": injected,
                    "Facteur": round(factor, 3) if np.isfinite(factor) else np.nan,
                }
            )
    labels = pd.DataFrame(rows).sort_values(["Numéro de boucle", "Début"], ignore_index=True)
    return out, labels


def nantes_like_flag(day_counts: np.ndarray) -> np.ndarray:
    """Nantes's crude daily flag: ``Forte`` when no count at all, ``Faible`` for ≥ 5 zero or
    missing hours between 07h and 20h, else empty."""
    total = np.nansum(day_counts, axis=-1)
    all_missing = np.isnan(day_counts).all(axis=-1)
    day_hours = day_counts[..., 7:21]
    bad = (np.isnan(day_hours) | (day_hours == 0)).sum(axis=-1)
    flag = np.where(bad >= 5, "Faible", "")
    return np.where(all_missing | (total == 0), "Forte", flag)


def generate(seed: int = SEED, start: str = START, end: str = END) -> dict[str, pd.DataFrame]:
    """Generate the sample: ``{"hourly", "labels", "weather", "locations"}`` DataFrames.

    ``hourly`` is in Nantes's wide layout (one row per loop and day, rows ordered like the
    published file: most recent day first); ``labels`` has one row per injected event.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, end, freq="D")
    weather = generate_weather(dates, rng)
    counts, _ = clean_counts(dates, weather, rng)
    counts, labels = inject_anomalies(counts, rng, dates)
    flags = nantes_like_flag(counts)
    frames = []
    for c, (loop, name, _, _) in enumerate(COUNTERS):
        block = pd.DataFrame(counts[c], columns=HOURS).astype("Int64")
        block.insert(0, "Jour", dates.strftime("%Y-%m-%d"))
        block.insert(0, "Libellé", name)
        block.insert(0, "Numéro de boucle", loop)
        block["Probabilité de présence d'anomalies"] = flags[c]
        block["Jour de la semaine"] = dates.day_of_week + 1
        frames.append(block)
    hourly = pd.concat(frames, ignore_index=True)
    hourly = hourly.sort_values(["Jour", "Numéro de boucle"], ascending=[False, True])
    hourly = hourly.reset_index(drop=True)
    lat0, lon0 = 47.2140, -1.5550
    locations = pd.DataFrame(
        {
            "Numéro": [int(loop) for loop, *_ in COUNTERS],
            "Libellé": [name for _, name, *_ in COUNTERS],
            "Observations": "",
            "Géolocalisation": [
                f"{lat0 + rng.normal(0, 0.02):.10f},{lon0 + rng.normal(0, 0.03):.10f}"
                for _ in COUNTERS
            ],
        }
    )
    return {"hourly": hourly, "labels": labels, "weather": weather, "locations": locations}


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, sep=";", index=False, encoding="utf-8", lineterminator="\n")


def write_sample(dataset_dir: Path | str, seed: int = SEED) -> dict[str, Path]:
    """Write ``sample.csv``, ``labels.csv``, ``meteo.csv``, ``lieux.csv`` into ``dataset_dir``."""
    out = Path(dataset_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = generate(seed=seed)
    labels = data["labels"].copy()
    for col in ("Début", "Fin"):
        labels[col] = labels[col].dt.strftime("%Y-%m-%d %H:%M")
    weather = data["weather"].assign(date=data["weather"]["date"].dt.strftime("%Y-%m-%d"))
    paths = {
        "sample": out / "sample.csv",
        "labels": out / "labels.csv",
        "weather": out / "meteo.csv",
        "locations": out / "lieux.csv",
    }
    _write_csv(data["hourly"], paths["sample"])
    _write_csv(labels, paths["labels"])
    _write_csv(weather, paths["weather"])
    _write_csv(data["locations"], paths["locations"])
    return paths


if __name__ == "__main__":  # pragma: no cover - manual regeneration
    from models.entries import entry_paths

    for key, path in write_sample(entry_paths("bike_counters").dataset_dir).items():
        print(f"{key}: {path} ({path.stat().st_size / 1e6:.2f} Mo)")


# ---------------------------------------------------------------------------------------------
# Anomalies injected into real counts (evaluation protocol, backtests)


SLOT_DAYS = 14
"""Each counter's judged period is cut into slots of two weeks, one event in each."""
MAX_EVENT_DAYS = 12


def draw_event(kind: str, rng: np.random.Generator) -> tuple[int, int, float, str]:
    """``(start hour, hours, factor, injected)`` of one event, drawn like ``_event_plan`` draws
    the sample's (the multi-day ones capped at ``MAX_EVENT_DAYS`` days to fit in a slot)."""
    if kind == "panne":
        short = rng.random() < 0.5
        hours = int(rng.integers(8, 72)) if short else 24 * int(rng.integers(3, MAX_EVENT_DAYS + 1))
        injected = "zéro" if rng.random() < 0.6 else "manquante"
        return int(rng.integers(6, 19)), hours, 0.0, injected
    if kind == "journee_partielle":
        return int(rng.integers(5, 19)), int(rng.integers(2, 9)), np.nan, "manquante"
    if kind == "pic":
        hours = int(rng.choice([3, 5, 8, 14, 24, 48]))
        return int(rng.integers(7, 17)), hours, float(rng.uniform(2.0, 4.0)), "multipliée"
    if kind == "sous_comptage":
        days = int(rng.integers(2, MAX_EVENT_DAYS + 1))
        return 0, 24 * days, float(rng.uniform(0.25, 0.40)), "multipliée"
    if kind == "valeur_bloquee":
        return int(rng.integers(7, 15)), int(rng.integers(8, 97)), np.nan, "constante"
    return 0, 24 * int(rng.integers(3, MAX_EVENT_DAYS + 1)), 2.0, "multipliée"


def _clean_days(data: CountData) -> np.ndarray:
    """Days that may receive an event: complete, some bikes, not flagged ``Forte``."""
    values = data.values
    flag = (
        data.days["source_flag"].to_numpy()
        if "source_flag" in data.days
        else np.full(len(values), "")
    )
    return np.isfinite(values).all(axis=1) & (np.nansum(values, axis=1) > 0) & (flag != "Forte")


def _apply(unit_values: np.ndarray, a: int, b: int, kind: str, factor: float, injected: str):
    """Write one event into a counter's flattened units; returns the factor (stuck value)."""
    if kind in ("panne", "journee_partielle"):
        unit_values[a:b] = 0.0 if injected == "zéro" else np.nan
    elif kind == "valeur_bloquee":
        factor = float(max(unit_values[a], 1.0))
        unit_values[a:b] = factor
    else:
        unit_values[a:b] = np.round(unit_values[a:b] * factor)
    return factor


def inject_anomalies_into(
    data: CountData, start: Any, end: Any, *, seed: int = 0, avoid: pd.DataFrame | None = None
) -> tuple[CountData, pd.DataFrame]:
    """Counts with one labelled event per counter and ``SLOT_DAYS`` slot of ``[start, end]``.

    The kinds take turns (shifted from one counter to the next, so each kind is as frequent),
    each event lies on clean days of its slot only (complete, some bikes, not ``Forte``) and
    is drawn by ``draw_event``; days touched by the events ``avoid`` (anomalies already
    labelled) are not clean. Daily counts get whole-day events (no partial days). Returns
    the new counts (``data`` is not changed) and the events (``counter_id``, ``start``,
    ``end`` excluded, ``kind``, ``injected``, ``factor``), like ``read_labels``.
    """
    rng = np.random.default_rng(seed)
    hourly = data.layout == "hourly"
    kinds = KINDS if hourly else tuple(k for k in KINDS if k != "journee_partielle")
    per_day = 24 if hourly else 1
    values = data.values.astype(float).copy()
    clean = _clean_days(data)
    if avoid is not None and len(avoid):
        from .data import NORMAL, day_labels

        clean &= day_labels(data.days, avoid).to_numpy() == NORMAL
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    groups = data.days.groupby("counter_id", sort=True).indices
    rows = []
    for j, (counter, idx) in enumerate(groups.items()):
        idx = np.sort(idx)
        dates = pd.DatetimeIndex(data.days["date"].to_numpy()[idx])
        inside = np.flatnonzero((dates >= first) & (dates <= last))
        if len(inside) < SLOT_DAYS:
            continue
        units = values[idx].reshape(-1)
        for s in range(len(inside) // SLOT_DAYS):
            kind = kinds[(j + s) % len(kinds)]
            hour, hours, factor, injected = draw_event(kind, rng)
            if not hourly:
                hour, hours = 0, 24 * max(1, -(-hours // 24))
            n_days = (hour + hours - 1) // 24 + 1
            slot = inside[0] + s * SLOT_DAYS
            options = [
                d
                for d in range(slot + 1, slot + SLOT_DAYS - n_days)
                if clean[idx[d : d + n_days]].all()
            ]
            if not options:
                continue
            day = int(rng.choice(options))
            a = (day * 24 + hour) // (24 // per_day)
            b = a + hours // (24 // per_day)
            factor = _apply(units, a, b, kind, factor, injected)
            t0 = dates[0] + pd.Timedelta(hours=day * 24 + hour)
            rows.append(
                {
                    "counter_id": str(counter),
                    "start": t0,
                    "end": t0 + pd.Timedelta(hours=hours),
                    "kind": kind,
                    "injected": injected,
                    "factor": round(factor, 3) if np.isfinite(factor) else np.nan,
                }
            )
        values[idx] = units.reshape(len(idx), per_day)
    events = pd.DataFrame(
        rows, columns=["counter_id", "start", "end", "kind", "injected", "factor"]
    )
    return CountData(data.days.copy(), values, data.layout), events
