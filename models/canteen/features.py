"""Canonical canteen table and forecast features known ``horizon_days`` before the day.

``prepare`` turns a read table (Nantes layout, with or without ``site_id``) into the canonical
frame: one row per series (canteen, or the whole city when there is no site column) and
service day. ``make_features`` builds, for every row, features that only use

- the calendar of the forecast day (known in advance: weekday, month, public holidays,
  zone B school vacations, bridge days, distance to the next vacation),
- the menu and the enrolment of the day when the file gives them (planned in advance),
- attendance history observed **on or before** ``date - horizon_days`` (as-of joins).

The model learns the ratio ``reel / base`` where ``base`` is the same-weekday mean of the last
8 observed service days known at forecast time; a forecast is ``ratio * base``.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

NETWORK_SERIES = "reseau"
MENU_KINDS = ("poisson", "vegetarien", "favori", "noel")
CALENDAR_COLUMNS = (
    "is_bridge_day",
    "days_to_next_vacation",
    "days_since_vacation",
    "school_days_to_vacation",
)
HISTORY_COLUMNS = (
    "log_base",
    "weekday_profile",
    "trend",
    "last_ratio",
    "cv",
    "gap_days",
    "last_year_ratio",
)


def site_key(name: object, site_type: object = None) -> str:
    """Stable key of a canteen from its name (and type): capitals, no accents or punctuation.

    ``"Chêne d'Aron"`` and ``"CHENE DARON"`` give the same key, so typos in the apostrophes
    and accents of the real file do not split a canteen in two.
    """
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    text = re.sub(r"['’`.]", "", text)
    text = re.sub(r"[^A-Z0-9/]+", " ", text).strip()
    if site_type is not None and not (isinstance(site_type, float) and np.isnan(site_type)):
        kind = str(site_type).strip().upper()
        if kind and not text.endswith(f" {kind}"):
            text = f"{text} [{kind}]"
    return text


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


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Canonical frame sorted by ``series`` then ``date``.

    Columns: ``series, site_id, site_nom, site_type, date, reel`` (float, NaN = missing) and,
    when present, ``prevision``, ``effectif`` (floats) and ``menu`` (text). Without a site
    column all rows form one series, ``reseau`` (rows of the same day are summed). Rows with
    no date are dropped; rows of the same (series, date) are merged (first present value of
    each column).
    """
    out = pd.DataFrame(index=df.index)
    out["date"] = pd.to_datetime(df["date"], errors="coerce").dt.normalize()
    for column in ("reel", "prevision", "effectif"):
        if column in df.columns:
            out[column] = pd.to_numeric(df[column], errors="coerce").astype(float)
    if "menu" in df.columns:
        out["menu"] = df["menu"].astype("string")
    out = out[out["date"].notna()]
    has_site = "site_id" in df.columns or "site_nom" in df.columns
    if not has_site:
        numeric = [c for c in ("reel", "prevision", "effectif") if c in out.columns]
        agg = {c: (lambda s: s.sum(min_count=1)) for c in numeric}
        if "menu" in out.columns:
            agg["menu"] = "first"
        out = out.groupby("date", as_index=False).agg(agg)
        out["series"] = NETWORK_SERIES
        out["site_id"] = NETWORK_SERIES
        out["site_nom"] = "Ensemble du réseau"
        out["site_type"] = "tous"
    else:
        types = df["site_type"] if "site_type" in df.columns else pd.Series(None, index=df.index)
        out["site_type"] = types.loc[out.index].astype("string").fillna("inconnu").str.strip()
        if "site_nom" in df.columns:
            out["site_nom"] = df.loc[out.index, "site_nom"].astype("string").str.strip()
        else:
            out["site_nom"] = df.loc[out.index, "site_id"].astype("string")
        if "site_id" in df.columns:
            out["site_id"] = df.loc[out.index, "site_id"].astype("string").str.strip()
        else:
            pairs = list(zip(out["site_nom"], out["site_type"], strict=True))
            keys = {pair: site_key(*pair) for pair in dict.fromkeys(pairs)}  # once per pair
            out["site_id"] = [keys[pair] for pair in pairs]
        out["series"] = out["site_id"].astype(str)
    out = out.sort_values(["series", "date"], kind="stable")
    if out.duplicated(["series", "date"]).any():
        # The real file splits some days over two spellings of a name (prevision on one row,
        # reel on the other): merge them, keeping the first present value of each column.
        out = out.groupby(["series", "date"], as_index=False, sort=True).first()
    out = out.reset_index(drop=True)
    first = ["series", "site_id", "site_nom", "site_type", "date", "reel"]
    rest = [c for c in ("prevision", "effectif", "menu") if c in out.columns]
    return out[first + rest]


def observed(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows usable as history or training target: ``reel`` present and above zero.

    Zeros are closures (strikes, works): they are not attendance and would drag the levels.
    """
    return frame[frame["reel"].notna() & (frame["reel"] > 0)]


def history_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per-series rolling statistics of observed attendance, one row per observed day."""
    hist = observed(frame)[["series", "date", "reel"]].copy()
    if "effectif" in frame.columns:
        hist["effectif"] = frame.loc[hist.index, "effectif"]
    hist["mean20"] = _rolling(hist, ["series"], 20, 3, "mean")
    hist["mean60"] = _rolling(hist, ["series"], 60, 3, "mean")
    hist["std60"] = _rolling(hist, ["series"], 60, 5, "std")
    hist["last"] = hist["reel"]
    hist["last_date"] = hist["date"]
    hist["weekday"] = hist["date"].dt.day_of_week
    hist["wd_mean8"] = _rolling(hist, ["series", "weekday"], 8, 2, "mean")
    return hist.sort_values("date", kind="stable")


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
        ["mean20", "mean60", "std60", "last", "last_date"]
        + (["effectif"] if "effectif" in hist.columns else []),
        by=["series"],
    )
    weekday = asof(targets, hist, horizon_days, ["wd_mean8"], by=["series", "weekday"])
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
    if "effectif" in frame.columns:
        feats["enrolment_change"] = frame["effectif"] / known["effectif"]
        feats["attendance_rate"] = known["mean60"] / known["effectif"]
    if "menu" in frame.columns:
        kinds = _map_distinct(frame["menu"], menu_kind)
        for kind in MENU_KINDS:
            feats[f"menu_{kind}"] = (kinds == kind).astype(float)
    feats["site_type_code"] = _map_distinct(frame["site_type"], _site_type_code).astype(float)
    return feats


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
