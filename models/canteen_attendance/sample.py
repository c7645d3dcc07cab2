"""Seeded generator of the ``canteen_attendance`` sample (daily meals per school canteen).

The layout follows Nantes Métropole's open data set *nombre de convives par jour et par
cantine* (``site_type, date, prevision, reel, site_nom``) plus ``site_id`` and two optional
columns, ``effectif`` (enrolment) and ``menu``.

How a value is made, for canteen ``c`` on service day ``d`` (everything multiplicative)::

    expected = effectif[c, school year] * ratio[c]            # ratio ~ N(0.74, 0.03)
               * weekday effect  (Mon 0.93, Tue 1.00, Thu 0.99, Fri 1.05)
               * month effect    (July 0.85, June 0.97, Oct-Dec 1.02)
               * 0.90 / 0.95 on the last / second-to-last service day before a vacation
               * 0.80 on a bridge day (a working day between a public holiday and a weekend)
               * menu effect     (fish 0.94, vegetarian 0.96, favourite 1.04, Christmas 1.10)
               * slow per-canteen drift (random walk, sd 0.006 per service day, bounded)
    reel     = round(expected * network shock (sd 0.03) * own noise (sd 0.09))  -> CV ~ 0.10
    reel     = reel * strike factor (0.4-0.8, or 0 for a closed canteen) on ~3 strike days/yr
    prevision = round(expected without drift * (1 + bias[c]) * noise (sd 0.03)),
                bias[c] ~ U(0.05, 0.09): agents over-forecast by 5-9 % and ignore strikes.

Service days are Mondays, Tuesdays, Thursdays and Fridays that are neither a French public
holiday (``holidays``) nor a zone B school vacation day (``vacances-scolaires-france``).
Enrolment grows by about 2 % a year (per canteen ~ N(0.02, 0.01)), changing each September.
About 0.5 % of ``reel`` and of ``prevision`` values are left missing, like the real file.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import holidays as holidays_lib
import numpy as np
import pandas as pd

from models.fsutil import atomic_path

DEFAULT_SEED = 20180903
DEFAULT_START = "2015-09-01"
DEFAULT_END = "2019-07-05"
DEFAULT_SITES = 30

WEEKDAY_EFFECT = {0: 0.93, 1: 1.00, 3: 0.99, 4: 1.05}
MONTH_EFFECT = {6: 0.97, 7: 0.85, 10: 1.02, 11: 1.02, 12: 1.02}
LAST_DAY_EFFECT = 0.90
SECOND_LAST_DAY_EFFECT = 0.95
BRIDGE_EFFECT = 0.80
MENU_EFFECT = {
    "standard": 1.00,
    "poisson": 0.94,
    "végétarien": 0.96,
    "plat favori": 1.04,
    "repas de Noël": 1.10,
}
ATTENDANCE_RATIO = 0.74
STRIKES_PER_YEAR = 3

_NAME_PARTS = [
    "JULES VERNE", "ANNE DE BRETAGNE", "LA FONTAINE", "VICTOR HUGO", "LES DERVALLIERES",
    "PAUL BERT", "MARIE CURIE", "LES PLANTES", "CONDORCET", "JEAN MACE", "LE CORBUSIER",
    "ERDRE", "SAINT FELIX", "BEAULIEU", "LA BOTTIERE", "PORT BOYER", "CHANTENAY",
    "LES CHALATRES", "JACQUES PREVERT", "ALBERT CAMUS", "SEVIGNE", "LOUIS PASTEUR",
    "PETIT PORT", "LA MADELEINE", "MALAKOFF", "DOULON", "LES AUBEPINES", "ZOLA",
    "HALVEQUE", "TALENSAC", "RICHEBOURG", "LES MARSAUDERIES", "PILOTIERE", "LES BATIGNOLLES",
    "MONTPLAISIR", "LA CONTRIE",
]  # fmt: skip


@lru_cache(maxsize=8)
def _closed_days(start: str, end: str) -> tuple[frozenset, frozenset]:
    """Public holidays and zone B school vacation days between ``start`` and ``end``."""
    from vacances_scolaires_france import SchoolHolidayDates

    first, last = pd.Timestamp(start), pd.Timestamp(end)
    years = range(first.year, last.year + 1)
    public = frozenset(pd.Timestamp(d) for d in holidays_lib.France(years=list(years)))
    school = SchoolHolidayDates()
    vacation = set()
    for year in years:
        for day, info in school.holidays_for_year_and_zone(year, "B").items():
            if info.get("vacances_zone_b"):
                vacation.add(pd.Timestamp(day))
    return public, frozenset(vacation)


def service_days(start: str = DEFAULT_START, end: str = DEFAULT_END) -> pd.DataFrame:
    """Canteen service days with the calendar flags the generator uses.

    Columns: ``date``, ``weekday``, ``month``, ``bridge`` (a working day between a public
    holiday and a weekend), ``days_before_vacation`` (1 = last service day before a vacation
    or a long closure, 2 = the one before; 0 otherwise), ``school_year`` (0 for the first).
    """
    pad_end = (pd.Timestamp(end) + pd.Timedelta(days=30)).strftime("%Y-%m-%d")
    public_pad, vacation_pad = _closed_days(start, pad_end)
    calendar = pd.date_range(start, pad_end, freq="D")
    closed = {d for d in calendar if d in public_pad or d in vacation_pad}
    open_day = [(d.weekday() in WEEKDAY_EFFECT) and d not in closed for d in calendar]
    days = pd.DataFrame({"date": calendar, "open": open_day})
    days = days[days["open"]].reset_index(drop=True)
    gap_after = days["date"].shift(-1) - days["date"]
    long_gap = gap_after > pd.Timedelta(days=6)
    before = np.where(long_gap, 1, np.where(long_gap.shift(-1, fill_value=False), 2, 0))
    days["days_before_vacation"] = before
    wd = days["date"].dt.day_of_week
    prev_day = days["date"] - pd.Timedelta(days=1)
    next_day = days["date"] + pd.Timedelta(days=1)
    days["bridge"] = ((wd == 4) & prev_day.isin(public_pad)) | (
        (wd == 0) & next_day.isin(public_pad)
    )
    days = days[days["date"] <= pd.Timestamp(end)].reset_index(drop=True)
    days["weekday"] = days["date"].dt.day_of_week
    days["month"] = days["date"].dt.month
    first = pd.Timestamp(start)
    sy = days["date"].dt.year - np.where(days["date"].dt.month >= 8, 0, 1)
    days["school_year"] = sy - (first.year - (0 if first.month >= 8 else 1))
    return days.drop(columns="open")


def _menus(days: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """One network-wide menu label per service day."""
    n = len(days)
    menu = rng.choice(
        ["standard", "poisson", "végétarien", "plat favori"], size=n, p=[0.62, 0.16, 0.12, 0.10]
    )
    menu = menu.astype(object)
    dec = days["date"].dt.month == 12
    last_before_xmas = days.index[dec & (days["days_before_vacation"] == 2)]
    menu[np.asarray(last_before_xmas)] = "repas de Noël"
    return menu


def generate(
    seed: int = DEFAULT_SEED,
    *,
    n_sites: int = DEFAULT_SITES,
    start: str = DEFAULT_START,
    end: str = DEFAULT_END,
    with_enrolment: bool = True,
    with_menu: bool = True,
    missing_rate: float = 0.005,
) -> pd.DataFrame:
    """Generate the sample: one row per canteen and service day, sorted by date then site.

    Columns: ``site_id, site_type, date, prevision, reel, site_nom`` then ``effectif`` and
    ``menu`` when asked. Same ``seed`` and arguments give the same frame.
    """
    rng = np.random.default_rng(seed)
    days = service_days(start, end)
    n_days = len(days)
    n_years = int(days["school_year"].max()) + 1

    types = rng.choice(["M", "E", "M/E"], size=n_sites, p=[0.25, 0.25, 0.5])
    size_mu = {"M": np.log(110), "E": np.log(220), "M/E": np.log(300)}
    base_enrol = np.array([np.exp(rng.normal(size_mu[t], 0.25)) for t in types])
    growth = rng.normal(0.02, 0.01, size=n_sites)
    ratio = np.clip(rng.normal(ATTENDANCE_RATIO, 0.03, size=n_sites), 0.62, 0.86)
    bias = rng.uniform(0.05, 0.09, size=n_sites)
    enrol = np.rint(base_enrol[:, None] * (1 + growth[:, None]) ** np.arange(n_years)[None, :])
    names = [_NAME_PARTS[i % len(_NAME_PARTS)] for i in range(n_sites)]
    names = [f"{n} {t[0]}" if t != "M/E" else n for n, t in zip(names, types, strict=True)]

    calendar_effect = (
        days["weekday"].map(WEEKDAY_EFFECT).to_numpy()
        * days["month"].map(MONTH_EFFECT).fillna(1.0).to_numpy()
        * np.where(days["days_before_vacation"] == 1, LAST_DAY_EFFECT, 1.0)
        * np.where(days["days_before_vacation"] == 2, SECOND_LAST_DAY_EFFECT, 1.0)
        * np.where(days["bridge"], BRIDGE_EFFECT, 1.0)
    )
    menu = _menus(days, rng)
    menu_effect = np.array([MENU_EFFECT[m] for m in menu])
    network_shock = np.exp(rng.normal(0, 0.03, size=n_days))

    strike = np.ones((n_sites, n_days))
    for year in range(n_years):
        idx = np.flatnonzero(days["school_year"].to_numpy() == year)
        for day in rng.choice(idx, size=min(STRIKES_PER_YEAR, len(idx)), replace=False):
            factor = rng.uniform(0.4, 0.8, size=n_sites)
            factor[rng.random(n_sites) < 0.15] = 0.0
            strike[:, day] = factor

    year_idx = days["school_year"].to_numpy()
    effectif = enrol[:, year_idx]  # (sites, days)
    expected = effectif * ratio[:, None] * (calendar_effect * menu_effect)[None, :]
    drift = np.cumsum(rng.normal(0, 0.006, size=(n_sites, n_days)), axis=1)
    drift = np.exp(np.clip(drift, -0.12, 0.12))
    own_noise = np.exp(rng.normal(0, 0.09, size=(n_sites, n_days)))
    reel = np.rint(expected * drift * network_shock[None, :] * own_noise * strike)
    agent_noise = np.exp(rng.normal(0, 0.03, size=(n_sites, n_days)))
    prevision = np.rint(expected * (1 + bias[:, None]) * agent_noise)

    frame = pd.DataFrame(
        {
            "site_id": np.repeat([f"C{i + 1:03d}" for i in range(n_sites)], n_days),
            "site_type": np.repeat(types, n_days),
            "date": np.tile(days["date"].to_numpy(), n_sites),
            "prevision": prevision.ravel(),
            "reel": reel.ravel(),
            "site_nom": np.repeat(names, n_days),
        }
    )
    if with_enrolment:
        frame["effectif"] = effectif.ravel().astype(int)
    if with_menu:
        frame["menu"] = np.tile(menu, n_sites)
    for column in ("reel", "prevision"):
        frame.loc[rng.random(len(frame)) < missing_rate, column] = np.nan
        frame[column] = frame[column].astype("Int64")
    frame = frame.sort_values(["date", "site_id"], kind="stable").reset_index(drop=True)
    return frame


def write_sample(dataset_dir: Path | str, seed: int = DEFAULT_SEED) -> Path:
    """Write ``sample.csv`` (UTF-8, ``,`` separated, ISO dates, empty = missing) atomically."""
    frame = generate(seed)
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
    target = Path(dataset_dir) / "sample.csv"
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    return target


if __name__ == "__main__":  # pragma: no cover
    from models.entries import entry_paths

    print(write_sample(entry_paths("canteen_attendance").dataset_dir))
