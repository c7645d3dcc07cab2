"""Forecast features of the canteen table, known ``horizon_days`` before the day.

``make_features`` builds, for every row of the canonical frame (``data.prepare``), features
that only use

- the calendar of the forecast day (known in advance: weekday, month, public holidays,
  zone B school vacations, bridge days, distance to the next vacation),
- the menu and the enrolment of the day when the file gives them (planned in advance),
- the agents' own forecast of the day (``prevision``) when the file gives it: the canteens
  enter it about three weeks ahead (the order to the central kitchen), so it is known at the
  forecast date; ``model.fit(use_agents=False)`` leaves it out,
- attendance history observed **on or before** ``date - horizon_days`` (as-of joins).

History leaves out **atypical low days** (strikes, partial closures: under
``LOW_DAY_FRACTION`` of the median of the series' previous ``LOW_DAY_WINDOW`` observed days):
one strike day would otherwise pull the same-weekday level down for eight weeks.

The model learns the ratio ``reel / base`` where ``base`` is the same-weekday mean of the last
8 observed service days known at forecast time; a forecast is ``ratio * base``. The other
history features describe, relative to ``base``, the more recent levels (last 4 same
weekdays, exponentially weighted, last one, last 5 days), the level since the start of the
current school term, and the same day one year (364 days) before.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

DEFAULT_HORIZON = 14
"""Days between the forecast and the forecast day (the kitchen orders two weeks ahead)."""
MENU_KINDS = ("poisson", "vegetarien", "favori", "noel")
AGENTS_FEATURE = "agents_ratio"
"""The agents' forecast of the day over ``base`` (when the file has ``prevision``)."""


LOW_DAY_FRACTION = 0.6
LOW_DAY_WINDOW = 10
TERM_GAP_DAYS = 20
"""A gap of more than this many days without service starts a new school term."""
LAST_YEAR_DAYS = 364
"""One year back on the same weekday."""


CALENDAR_COLUMNS = (
    "is_bridge_day",
    "days_to_next_vacation",
    "days_since_vacation",
    "school_days_to_vacation",
)


def menu_kind(value: object) -> str:
    """Menu category from free text: poisson, vegetarien, favori, noel or autre."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "autre"
    text = unicodedata.normalize("NFKD", str(value).lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    if "noel" in text:
        return "noel"
    if "poisson" in text or "fish" in text:
        return "poisson"
    if "vege" in text:
        return "vegetarien"
    if "favori" in text or "frite" in text:
        return "favori"
    return "autre"


def observed(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows usable as history or training target: ``reel`` present and above zero.

    Zeros are closures (strikes, works): they are not attendance and would drag the levels.
    """
    return frame[frame["reel"].notna() & (frame["reel"] > 0)]


def history_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per-series rolling statistics of observed attendance, one row per observed day.

    Atypical low days (``low_days``) are left out: they are not the level to expect.
    """
    hist = observed(frame)[["series", "date", "reel"]].copy()
    hist = hist[~low_days(hist)]
    if "effectif" in frame.columns:
        hist["effectif"] = frame.loc[hist.index, "effectif"]
    hist["mean5"] = _rolling(hist, ["series"], 5, 2, "mean")
    hist["mean20"] = _rolling(hist, ["series"], 20, 3, "mean")
    hist["mean60"] = _rolling(hist, ["series"], 60, 3, "mean")
    hist["std60"] = _rolling(hist, ["series"], 60, 5, "std")
    hist["last"] = hist["reel"]
    hist["last_date"] = hist["date"]
    hist["weekday"] = hist["date"].dt.day_of_week
    hist["wd_mean8"] = _rolling(hist, ["series", "weekday"], 8, 2, "mean")
    hist["wd_mean4"] = _rolling(hist, ["series", "weekday"], 4, 1, "mean")
    hist["wd_last"] = hist["reel"]
    ewm = hist.groupby(["series", "weekday"], sort=False)["reel"].ewm(halflife=2).mean()
    hist["wd_ewm"] = ewm.reset_index(level=[0, 1], drop=True).reindex(hist.index)
    # school term: a new one starts after a gap of more than TERM_GAP_DAYS days
    gap = hist.groupby("series", sort=False)["date"].diff().dt.days
    term = (gap.isna() | (gap > TERM_GAP_DAYS)).groupby(hist["series"]).cumsum()
    by_term = hist.groupby([hist["series"], term], sort=False)["reel"]
    hist["term_days"] = by_term.cumcount().astype(float) + 1
    hist["term_mean"] = by_term.cumsum() / hist["term_days"]
    return hist.sort_values("date", kind="stable")


def low_days(hist: pd.DataFrame) -> pd.Series:
    """Observed rows far below their series' recent level (strikes, partial closures).

    ``True`` when ``reel < LOW_DAY_FRACTION ×`` the median of the series' previous
    ``LOW_DAY_WINDOW`` observed days (the day itself excluded, so only the past decides).
    ``hist``: observed rows in date order within each series.
    """
    median = _rolling(hist, ["series"], LOW_DAY_WINDOW, 3, "median")
    previous = median.groupby(hist["series"], sort=False).shift(1)
    return (hist["reel"] < LOW_DAY_FRACTION * previous).fillna(False).astype(bool)


def _rolling(hist: pd.DataFrame, by: list[str], window: int, min_periods: int, how: str):
    """Trailing ``window``-row statistic of ``reel`` within each ``by`` group, in row order.

    One grouped rolling call (compiled) instead of a Python function per group; rows must be
    in date order within each group (``prepare`` sorts by series then date).
    """
    rolled = hist.groupby(by, sort=False)["reel"].rolling(window, min_periods=min_periods)
    values = getattr(rolled, how)()
    return values.reset_index(level=list(range(len(by))), drop=True).reindex(hist.index)


def asof(
    targets: pd.DataFrame, hist: pd.DataFrame, lag_days: int, columns: list[str], by: list[str]
) -> pd.DataFrame:
    """For each target row, ``columns`` of the last ``hist`` row dated ``<= date - lag_days``.

    Returns a frame aligned on ``targets.index``. The only way history enters the features,
    so no feature can see a value observed later than ``date - lag_days``.
    """
    left = targets[by + ["date"]].copy()
    left["_row"] = np.arange(len(left))
    left["_key"] = left["date"] - pd.Timedelta(days=int(lag_days))
    left = left.sort_values("_key", kind="stable")
    right = hist[by + ["date"] + columns].rename(columns={"date": "_key"})
    right = right.sort_values("_key", kind="stable")
    merged = pd.merge_asof(left, right, on="_key", by=by, direction="backward")
    merged = merged.sort_values("_row")
    result = merged[columns].reset_index(drop=True)
    result.index = targets.index
    return result


def calendar_features(dates: pd.Series) -> pd.DataFrame:
    """Calendar of each date (``models.calendar.french_calendar``, zone B) aligned on ``dates``."""
    from models.calendar import french_calendar

    unique = pd.DatetimeIndex(pd.to_datetime(dates.unique())).sort_values()
    cal = french_calendar(unique, zone="B")
    cal.index = pd.DatetimeIndex(cal.index).normalize()
    table = pd.DataFrame(index=unique)
    table["weekday"] = unique.day_of_week
    table["month"] = unique.month
    table["week_of_year"] = unique.isocalendar().week.to_numpy().astype(int)
    for column in CALENDAR_COLUMNS:
        values = cal[column].reindex(unique) if column in cal.columns else np.nan
        table[column] = pd.Series(values, index=unique).astype(float)
    table["days_to_next_vacation"] = table["days_to_next_vacation"].clip(upper=60)
    table["days_since_vacation"] = table["days_since_vacation"].clip(upper=60)
    table["school_days_to_vacation"] = table["school_days_to_vacation"].clip(upper=15)
    aligned = table.reindex(pd.DatetimeIndex(dates))
    aligned.index = dates.index
    return aligned


def make_features(frame: pd.DataFrame, horizon_days: int = 14) -> pd.DataFrame:
    """Features of every row of the canonical ``frame`` (same index), plus the ``base`` column.

    ``base`` (same-weekday mean of the last 8 observed days known ``horizon_days`` before,
    else the 60-day mean) is the scale the model multiplies its ratio forecast by; it is NaN
    when the series has no history yet.
    """
    if horizon_days < 1:
        raise ValueError("horizon_days must be >= 1")
    hist = history_table(frame)
    targets = frame[["series", "date"]].copy()
    targets["weekday"] = targets["date"].dt.day_of_week
    known = asof(
        targets,
        hist,
        horizon_days,
        ["mean5", "mean20", "mean60", "std60", "last", "last_date", "term_days", "term_mean"]
        + (["effectif"] if "effectif" in hist.columns else []),
        by=["series"],
    )
    weekday = asof(
        targets,
        hist,
        horizon_days,
        ["wd_mean8", "wd_mean4", "wd_ewm", "wd_last"],
        by=["series", "weekday"],
    )
    # Last year: level around the same day (2 weeks after it, still known) over the level known
    # at the same forecast origin one year before (364 days keeps the weekday).
    ly_lag = max(364 - horizon_days, horizon_days)
    ly_target = asof(targets, hist, ly_lag, ["mean20"], by=["series"])["mean20"]
    ly_origin = asof(targets, hist, 364 + horizon_days, ["mean60"], by=["series"])["mean60"]

    base = weekday["wd_mean8"].fillna(known["mean60"])
    feats = calendar_features(frame["date"])
    feats["base"] = base
    feats["log_base"] = np.log(base)
    feats["weekday_profile"] = weekday["wd_mean8"] / known["mean60"]
    feats["trend"] = known["mean20"] / known["mean60"]
    feats["last_ratio"] = known["last"] / known["mean60"]
    feats["cv"] = known["std60"] / known["mean60"]
    feats["gap_days"] = (frame["date"] - known["last_date"]).dt.days.astype(float)
    feats["last_year_ratio"] = ly_target / ly_origin
    feats["recent_weekday_ratio"] = weekday["wd_mean4"] / base
    feats["weighted_weekday_ratio"] = weekday["wd_ewm"] / base
    feats["last_weekday_ratio"] = weekday["wd_last"] / base
    feats["last_week_ratio"] = known["mean5"] / known["mean20"]
    feats["term_days"] = known["term_days"]
    feats["term_ratio"] = known["term_mean"] / base
    feats["last_year_day_ratio"] = _last_year_day(frame, hist, horizon_days) / ly_origin
    if "prevision" in frame.columns:
        feats[AGENTS_FEATURE] = frame["prevision"] / base
    if "effectif" in frame.columns:
        feats["enrolment_change"] = frame["effectif"] / known["effectif"]
        feats["attendance_rate"] = known["mean60"] / known["effectif"]
    if "menu" in frame.columns:
        kinds = _map_distinct(frame["menu"], menu_kind)
        for kind in MENU_KINDS:
            feats[f"menu_{kind}"] = (kinds == kind).astype(float)
    feats["site_type_code"] = _map_distinct(frame["site_type"], _site_type_code).astype(float)
    return feats


def _last_year_day(frame: pd.DataFrame, hist: pd.DataFrame, horizon_days: int) -> pd.Series:
    """Attendance of the same series ``LAST_YEAR_DAYS`` days before each row (NaN when that
    day was not served, atypically low, or not yet known ``horizon_days`` before the row)."""
    if horizon_days > LAST_YEAR_DAYS:
        return pd.Series(np.nan, index=frame.index)
    served = hist.set_index(["series", "date"])["reel"]
    back = frame["date"] - pd.Timedelta(days=LAST_YEAR_DAYS)
    keys = pd.MultiIndex.from_arrays([frame["series"], back])
    return pd.Series(served.reindex(keys).to_numpy(), index=frame.index)


def _map_distinct(values: pd.Series, func) -> pd.Series:
    """``values.map(func)`` calling ``func`` once per distinct value (menus repeat a lot)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([func(u) for u in uniques] + [func(None)], dtype=object)
    return pd.Series(mapped[codes], index=values.index)


def _site_type_code(value: object) -> int:
    text = str(value).upper().replace(" ", "")
    return {"M": 0, "E": 1, "M/E": 2}.get(text, 3)


def feature_columns(feats: pd.DataFrame) -> list[str]:
    """Model inputs: every feature column except ``base``."""
    return [c for c in feats.columns if c != "base"]


def features(frame: pd.DataFrame, horizon_days: int = DEFAULT_HORIZON) -> pd.DataFrame:
    """Features of every row of ``frame`` (``make_features``), to compute once and pass as
    ``feats`` to ``fit``, ``predict``, ``evaluate`` and ``safety_tradeoff``.

    Computing them on the whole data set and using them for the training rows is safe: a
    feature only uses what was observed ``horizon_days`` before its own row (no-leakage test).
    """
    feats = make_features(frame, horizon_days)
    feats.attrs["horizon_days"] = int(horizon_days)
    return feats
