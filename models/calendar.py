"""French calendar features: public holidays, school vacations per zone, bridge days.

Public holidays come from ``holidays`` (France, French names), school vacations from
``vacances-scolaires-france`` (zones A, B, C; known from 1990 to about two years ahead).
``french_calendar`` returns one row per distinct date; the daily table of a date range is
computed once and cached, so thousands of dates cost a few milliseconds after the first call.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import holidays
import numpy as np
import pandas as pd
import vacances_scolaires_france as vsf

from models.errors import BiblioError
from models.io import parse_dates

ZONES = ("A", "B", "C")
WEEKDAY_NAMES_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MARGIN_DAYS = 400  # look this far around the range for the previous/next vacation

CALENDAR_COLUMNS = (
    "weekday",
    "weekday_name",
    "day",
    "month",
    "year",
    "day_of_year",
    "week_of_year",
    "school_year",
    "is_weekend",
    "is_public_holiday",
    "public_holiday_name",
    "is_school_vacation",
    "vacation_name",
    "days_to_next_vacation",
    "days_since_vacation",
    "is_bridge_day",
    "school_days_to_vacation",
    "is_last_school_day",
    "vacation_known",
)


def _check_zone(zone: str) -> str:
    key = str(zone).strip().upper().removeprefix("ZONE ").strip()
    if key not in ZONES:
        raise BiblioError(
            f"Zone de vacances scolaires inconnue : « {zone} ». Valeurs possibles : A, B ou C."
        )
    return key


@lru_cache(maxsize=1)
def _vacation_table() -> pd.DataFrame:
    """Every vacation day known by vacances-scolaires-france, one column per zone."""
    data = vsf.SchoolHolidayDates().data
    frame = pd.DataFrame.from_records(list(data.values()))
    frame["date"] = pd.to_datetime(frame["date"])
    frame = frame.set_index("date").sort_index()
    return frame


@lru_cache(maxsize=64)
def _daily(start: dt.date, end: dt.date, zone: str, subdiv: str | None) -> pd.DataFrame:
    """The calendar of every day from ``start`` to ``end`` (inclusive), cached."""
    wide = pd.date_range(
        pd.Timestamp(start) - pd.Timedelta(days=_MARGIN_DAYS),
        pd.Timestamp(end) + pd.Timedelta(days=_MARGIN_DAYS),
        freq="D",
    )
    years = range(wide[0].year, wide[-1].year + 1)
    public = holidays.France(years=years, language="fr", subdiv=subdiv)
    holiday_names = pd.Series([public.get(d.date()) for d in wide], index=wide, dtype="object")
    is_holiday = holiday_names.notna().to_numpy()

    vac = _vacation_table()
    known_from, known_to = vac.index.min(), vac.index.max()
    vac_flag = vac[f"vacances_zone_{zone.lower()}"].astype(bool)
    vac_days = vac_flag[vac_flag]
    is_vacation = wide.isin(vac_days.index)
    vacation_name = (
        pd.Series(vac["nom_vacances"], dtype="object").reindex(wide).where(is_vacation, None)
    )
    # Summer vacation is in the library data; "known" means inside its coverage (whole years).
    vacation_known = (wide >= pd.Timestamp(known_from.year, 1, 1)) & (
        wide <= pd.Timestamp(known_to.year, 12, 31)
    )

    weekday = wide.day_of_week.to_numpy()
    is_weekend = weekday >= 5
    non_working = is_weekend | is_holiday
    prev_nw = np.r_[True, non_working[:-1]]
    next_nw = np.r_[non_working[1:], True]
    prev_h = np.r_[False, is_holiday[:-1]]
    next_h = np.r_[is_holiday[1:], False]
    is_bridge = ~non_working & prev_nw & next_nw & (prev_h | next_h)

    positions = np.arange(len(wide))
    vac_pos = np.where(is_vacation, positions, -1)
    last_vac = np.maximum.accumulate(vac_pos)
    days_since = np.where(last_vac >= 0, positions - last_vac, np.nan).astype(float)
    next_pos = np.where(is_vacation, positions, len(wide))
    next_vac = np.minimum.accumulate(next_pos[::-1])[::-1]
    days_to = np.where(next_vac < len(wide), next_vac - positions, np.nan).astype(float)

    school_day = ~is_weekend & ~is_holiday & ~is_vacation
    # School days from here to the next vacation, counting this day (1 = last school day).
    counts = np.zeros(len(wide))
    running = np.nan
    for i in range(len(wide) - 1, -1, -1):
        if is_vacation[i]:
            running = 0.0
            counts[i] = np.nan
            continue
        if school_day[i] and not np.isnan(running):
            running += 1
        counts[i] = running if school_day[i] else np.nan
    school_days_to = counts

    iso = wide.isocalendar()
    frame = pd.DataFrame(
        {
            "weekday": weekday.astype("int64"),
            "weekday_name": [WEEKDAY_NAMES_FR[w] for w in weekday],
            "day": wide.day.astype("int64"),
            "month": wide.month.astype("int64"),
            "year": wide.year.astype("int64"),
            "day_of_year": wide.day_of_year.astype("int64"),
            "week_of_year": iso["week"].to_numpy().astype("int64"),
            "school_year": np.where(wide.month >= 9, wide.year, wide.year - 1).astype("int64"),
            "is_weekend": is_weekend,
            "is_public_holiday": is_holiday,
            "public_holiday_name": holiday_names.to_numpy(),
            "is_school_vacation": np.asarray(is_vacation),
            "vacation_name": vacation_name.to_numpy(),
            "days_to_next_vacation": days_to,
            "days_since_vacation": days_since,
            "is_bridge_day": is_bridge,
            "school_days_to_vacation": school_days_to,
            "is_last_school_day": school_days_to == 1,
            "vacation_known": np.asarray(vacation_known),
        },
        index=pd.DatetimeIndex(wide, name="date"),
    )
    unknown = ~frame["vacation_known"]
    for col in ("days_to_next_vacation", "days_since_vacation", "school_days_to_vacation"):
        frame.loc[unknown, col] = np.nan
    return frame.loc[pd.Timestamp(start) : pd.Timestamp(end)]


def french_calendar(dates: Any, zone: str = "B", *, subdiv: str | None = None) -> pd.DataFrame:
    """Calendar features of the distinct ``dates`` (sorted), indexed by the date (midnight).

    Columns: ``weekday`` (0 = Monday), ``weekday_name`` (French), ``day``, ``month``,
    ``year``, ``day_of_year``, ``week_of_year`` (ISO), ``school_year`` (year of its September),
    ``is_weekend``, ``is_public_holiday``, ``public_holiday_name`` (French), ``is_school_vacation``,
    ``vacation_name`` (zone ``zone``), ``days_to_next_vacation`` / ``days_since_vacation``
    (calendar days, 0 during a vacation), ``is_bridge_day`` (a working day between a public
    holiday and a weekend or another holiday), ``school_days_to_vacation`` (school days — Monday
    to Friday, not holiday — left before the next vacation, this day included, so 1 = the last
    school day), ``is_last_school_day``, ``vacation_known`` (False outside the years covered
    by vacances-scolaires-france: vacation columns are then False/NaN).
    ``subdiv`` selects local public holidays (e.g. ``"57"`` for Moselle).
    """
    key = _check_zone(zone)
    values = pd.Series(dates)
    if not pd.api.types.is_datetime64_any_dtype(values):
        values = parse_dates(values.astype("string"))
    index = pd.DatetimeIndex(values.dropna())
    if index.tz is not None:
        index = index.tz_convert("Europe/Paris").tz_localize(None)
    days = index.normalize().unique().sort_values()
    if days.empty:
        return pd.DataFrame(columns=list(CALENDAR_COLUMNS), index=pd.DatetimeIndex([], name="date"))
    table = _daily(days[0].date(), days[-1].date(), key, subdiv)
    return table.loc[days].copy()


def add_calendar(
    df: pd.DataFrame,
    date_column: str = "date",
    zone: str = "B",
    *,
    columns: Any = None,
    prefix: str = "",
    subdiv: str | None = None,
) -> pd.DataFrame:
    """``df`` with calendar columns of its ``date_column`` added (rows and order unchanged).

    ``columns`` picks calendar columns (default all); ``prefix`` is put before their names.
    Times of day are ignored (the calendar of the day applies).
    """
    dates = df[date_column]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = parse_dates(dates.astype("string"))
    calendar = french_calendar(dates, zone, subdiv=subdiv)
    if columns is not None:
        calendar = calendar[list(columns)]
    aligned = calendar.reindex(dates.dt.normalize())
    aligned.index = df.index
    return df.join(aligned.add_prefix(prefix))
