"""What the ``bike_counters`` detector looks at: calendar features, the days as arrays, evidence.

- ``day_features``: calendar (weekday, public holidays, school vacations of zone B, bridge
  days, season) and weather of each counter-day, the inputs of the gradient-boosting
  expectation; ``day_type`` (working day, Saturday, Sunday or public holiday) picks the hourly
  profile and ``day_category`` adds the school vacations (peer ratios);
- ``units_of``: the days to check as arrays (``Units``): counts with the structural gaps
  filled (02h of the day clocks go forward, unpublished hours of the file's last day),
  totals, the missing units that count, the days usable to learn;
- ``evidence``: against expected counts, the log ratio of each day (and of windows of
  ``DAY_WINDOWS`` days) to its expectation, of each window of a few hours to the rest of its
  own day (``shape_log_ratios``), and the improbability of stuck values and runs of zeros
  (negative binomial: ``log_collision``, ``log_p_zero``);
- ``scales_of`` / ``component_scores``: each counter's spread of those ratios on days the
  model had not seen, and the normal scores of ``COMPONENTS`` per counter-day.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.stats import nbinom

from models.calendar import french_calendar

from .data import CountData

WEATHER_COLUMNS = ("rain_mm", "temperature_c")


def day_type(dates: pd.Series | pd.DatetimeIndex, holiday: np.ndarray) -> np.ndarray:
    """0 = working day, 1 = Saturday, 2 = Sunday or public holiday."""
    weekday = pd.DatetimeIndex(dates).day_of_week.to_numpy()
    return np.where(holiday | (weekday == 6), 2, np.where(weekday == 5, 1, 0))


def day_features(
    days: pd.DataFrame, counters: list[str], weather: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Features of each counter-day (``days`` has ``counter_id`` and ``date``)."""
    dates = pd.DatetimeIndex(days["date"])
    cal = french_calendar(dates).reindex(dates.normalize())
    code = {c: i for i, c in enumerate(counters)}
    doy = dates.day_of_year.to_numpy()
    feats = pd.DataFrame(
        {
            "counter": days["counter_id"].map(code).to_numpy(dtype=float),
            "weekday": dates.day_of_week.to_numpy(),
            "public_holiday": cal["is_public_holiday"].to_numpy(dtype=float),
            "school_vacation": cal["is_school_vacation"].to_numpy(dtype=float),
            "bridge_day": cal["is_bridge_day"].to_numpy(dtype=float),
            "days_to_vacation": np.minimum(cal["days_to_next_vacation"].to_numpy(float), 30),
            "season_sin": np.sin(2 * np.pi * doy / 365.25),
            "season_cos": np.cos(2 * np.pi * doy / 365.25),
            "month": dates.month.to_numpy(),
        }
    )
    if weather is not None and len(weather):
        table = weather.set_index("date")
        for col in WEATHER_COLUMNS:
            if col in table:
                feats[col] = table[col].reindex(dates.normalize()).to_numpy(dtype=float)
    return feats


@lru_cache(maxsize=4)
def _collision_table(k: float) -> tuple[np.ndarray, np.ndarray]:
    """log P(Y1 = Y2) for two independent NB(mean λ, shape k) draws, on a grid of log λ."""
    grid = np.linspace(np.log(1e-3), np.log(2e4), 240)
    out = np.empty_like(grid)
    for i, lg in enumerate(grid):
        lam = float(np.exp(lg))
        sd = np.sqrt(lam + lam * lam / k)
        top = int(lam + 12 * sd + 30)
        pmf = nbinom.pmf(np.arange(top), k, k / (k + lam))
        out[i] = np.log(max(float(np.sum(pmf * pmf)), 1e-300))
    return grid, out


def log_collision(lam: np.ndarray, k: float) -> np.ndarray:
    """log P(two draws are equal) at expected count ``lam`` (vectorised by interpolation)."""
    grid, table = _collision_table(float(k))
    return np.interp(np.log(np.clip(lam, 1e-3, 2e4)), grid, table)


def log_p_zero(lam: np.ndarray, k: float) -> np.ndarray:
    """log P(Y = 0) for NB(mean λ, shape k)."""
    return k * np.log(k / (k + np.clip(lam, 0, None)))


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, end)`` (end excluded) of each run of True in ``mask``."""
    padded = np.concatenate([[False], mask.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(int)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def equal_runs(y: np.ndarray) -> list[tuple[int, int]]:
    """Runs of identical observed values (length ≥ 2), NaN breaking runs."""
    y = np.asarray(y, dtype=float)
    if len(y) < 2:
        return []
    same = np.isfinite(y[1:]) & (y[1:] == y[:-1])
    return [(a, b + 1) for a, b in runs(same)]


def _window_sums(x: np.ndarray, L: int) -> np.ndarray:
    c = np.concatenate([[0.0], np.cumsum(x)])
    return c[L:] - c[:-L]


# ---------------------------------------------------------------------------------------------
# Evidence of one counter-day against its expected counts (used by ``model``)

DAY_WINDOWS = (1, 2, 3, 7)
"""Lengths (days) of the windows of daily totals compared with their expected sum."""
SHAPE_WINDOWS = (2, 3, 4, 6, 8, 12)
"""Lengths (hours) of the windows of a day compared with the rest of the same day."""
SHAPE_HOURS = (5, 24)
"""Hours where a shape window may lie (the night before 05h carries too few bikes)."""


def window_log_ratios(total: np.ndarray, expected: np.ndarray, length: int):
    """``log((observed + 1) / (expected + 1))`` of the windows of ``length`` days ending at each
    day (NaN when a day of the window is missing), and the Poisson variance of each."""
    ok = np.isfinite(total) & np.isfinite(expected)
    observed = _window_sums(np.where(ok, total, 0.0), length)
    wanted = _window_sums(np.where(ok, expected, 0.0), length)
    complete = _window_sums(ok.astype(float), length) >= length
    pad = np.full(length - 1, np.nan)
    ratio = np.where(complete, np.log((observed + 1.0) / (wanted + 1.0)), np.nan)
    return np.concatenate([pad, ratio]), np.concatenate([pad, 1.0 / (wanted + 1.0)])


def shape_log_ratios(values: np.ndarray, shares: np.ndarray, length: int):
    """Each window of ``length`` hours against the rest of its own day (``(days, windows)``).

    The expected count of the window is the rest of the day times the window's share of the
    day over the share of the rest; ``log((observed + ½) / (expected + ½))`` does not depend on
    the day's level, only on its shape. Returns the log ratios and their Poisson variance.
    """
    first, last = SHAPE_HOURS
    starts = np.arange(first, last - length + 1)
    zeros = np.zeros((len(values), 1))
    cum = np.concatenate([zeros, np.cumsum(values, axis=1)], axis=1)
    cum_share = np.concatenate([zeros, np.cumsum(shares, axis=1)], axis=1)
    window = cum[:, starts + length] - cum[:, starts]
    share = np.clip(cum_share[:, starts + length] - cum_share[:, starts], 1e-4, 1 - 1e-4)
    rest = values.sum(axis=1, keepdims=True) - window
    expected = rest * share / (1 - share)
    ratio = np.log((window + 0.5) / (expected + 0.5))
    return ratio, 1.0 / (expected + 0.5) + 1.0 / (rest + 0.5)


def best_run_per_day(evidence: np.ndarray, per_day: int) -> np.ndarray:
    """Largest sum of consecutive positive entries inside each day (``evidence`` flattened)."""
    days = evidence.reshape(-1, per_day)
    best = np.zeros(len(days))
    current = np.zeros(len(days))
    for h in range(per_day):
        current = np.where(days[:, h] > 0, current + days[:, h], 0.0)
        best = np.maximum(best, current)
    return best


def flat_evidence(y: np.ndarray, lam: np.ndarray, k: float) -> np.ndarray:
    """Per unit ``-log P(value repeats)`` inside runs of one repeated non-zero value (≥ 3)."""
    out = np.zeros(len(y))
    collision = log_collision(np.where(np.isfinite(lam), lam, 1.0), k)
    for a, b in equal_runs(y):
        if y[a] > 0 and b - a >= 3:
            out[a] = 1e-12  # starts the run without evidence of its own
            out[a + 1 : b] = -collision[a + 1 : b]
    return out


def zero_evidence(y: np.ndarray, lam: np.ndarray, k: float) -> np.ndarray:
    """Per unit ``-log P(Y = 0)`` of the observed zeros (0 elsewhere)."""
    zero = np.isfinite(y) & (y == 0)
    return np.where(zero, 1e-12 - log_p_zero(np.where(np.isfinite(lam), lam, 0.0), k), 0.0)


# ---------------------------------------------------------------------------------------------
# The days to check as arrays


def day_category(dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Day type (0 working day, 1 Saturday, 2 Sunday or holiday), + 3 in school vacation."""
    index = pd.DatetimeIndex(dates).normalize()
    cal = french_calendar(index).reindex(index)
    dtype = day_type(index, cal["is_public_holiday"].to_numpy(dtype=bool))
    return dtype + 3 * cal["is_school_vacation"].to_numpy(dtype=bool)


def wide_table(days: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    """Dates × counters table of one value per counter-day."""
    frame = pd.DataFrame(
        {"c": days["counter_id"].to_numpy(), "d": days["date"].to_numpy(), "v": values}
    )
    return frame.pivot_table(index="d", columns="c", values="v", dropna=False, sort=True)


LEVEL_DAYS = 28
"""Days of a counter's recent past whose median residual is its level."""


def lagged_level(frame: pd.DataFrame) -> pd.DataFrame:
    """Median of the previous ``LEVEL_DAYS`` values of each column (the day itself excluded)."""
    return frame.shift(1).rolling(LEVEL_DAYS, min_periods=LEVEL_DAYS // 2).median()


def nanmedian(a: np.ndarray, axis: int) -> np.ndarray:
    """Median along ``axis`` ignoring NaN (NaN where all are NaN), through pandas, whose
    skipping median is many times faster than ``np.nanmedian`` on wide arrays."""
    a = np.moveaxis(np.asarray(a, dtype=float), axis, -1)
    flat = a.reshape(-1, a.shape[-1]) if a.shape[-1] else np.empty((int(np.prod(a.shape[:-1])), 0))
    med = (
        pd.DataFrame(flat).median(axis=1).to_numpy()
        if flat.shape[1]
        else np.full(len(flat), np.nan)
    )
    return med.reshape(a.shape[:-1])


def positions_of(days: pd.DataFrame) -> dict[str, pd.Series]:
    """Per counter: its rows of ``days``, indexed by date."""
    dates = pd.DatetimeIndex(days["date"].to_numpy())
    return {
        str(c): pd.Series(idx, index=dates[idx])
        for c, idx in days.groupby("counter_id", sort=False).indices.items()
    }


def peer_values(
    positions: dict[str, pd.Series], counter: str, peers: list[str], values: np.ndarray
) -> np.ndarray:
    """``values`` of ``peers`` on the dates of ``counter``: ``(n_days, n_peers, ...)``."""
    own = positions[counter]
    out = np.full((len(own), len(peers)) + values.shape[1:], np.nan)
    for j, p in enumerate(peers):
        rows = positions.get(p)
        if rows is None:
            continue
        where = rows.reindex(own.index)
        hit = where.notna().to_numpy()
        out[hit, j] = values[where[hit].astype(int).to_numpy()]
    return out


@dataclass
class Units:
    """The days to check as arrays: observed units (structural gaps filled), totals, masks."""

    days: pd.DataFrame
    values: np.ndarray
    total: np.ndarray
    missing_mask: np.ndarray  # missing units that count as anomalies
    usable: np.ndarray
    dtype: np.ndarray
    category: np.ndarray
    positions: dict[str, pd.Series]
    layout: str

    @property
    def per_day(self) -> int:
        return self.values.shape[1]


def _spring_forward(dates: pd.DatetimeIndex) -> np.ndarray:
    """Days whose 02:00 does not exist in Paris (last Sunday of March)."""
    return (dates.month == 3) & (dates.day_of_week == 6) & (dates.day >= 25)


def units_of(data: CountData) -> Units:
    """Arrays of ``data``: the missing 02h of the day clocks go forward is no gap (0 bikes),
    nor are the hours after the last published one on the file's last day."""
    days = data.days.reset_index(drop=True)
    values = data.values.astype(float).copy()
    dates = pd.DatetimeIndex(days["date"])
    missing = np.isnan(values)
    if data.layout == "hourly" and len(days):
        dst = _spring_forward(dates) & missing[:, 2]
        values[dst, 2] = 0.0
        missing[dst, 2] = False
        last = np.asarray(dates == dates.max())
        for i in np.flatnonzero(last):
            seen = np.flatnonzero(~np.isnan(values[i]))
            if len(seen) and seen[-1] < 23:
                missing[i, seen[-1] + 1 :] = False
    n_missing = np.isnan(values).sum(axis=1)
    total = np.where(n_missing == 0, np.nansum(values, axis=1), np.nan)
    forte = (
        (days["source_flag"] == "Forte").to_numpy()
        if "source_flag" in days
        else np.zeros(len(days), dtype=bool)
    )
    usable = np.isfinite(total) & (np.nan_to_num(total) > 0) & ~forte
    if data.layout == "hourly":
        ordered = np.sort(values, axis=1)
        distinct = 1 + (np.diff(ordered, axis=1) != 0).sum(axis=1)
        usable &= ~((distinct <= 3) & (np.nan_to_num(total) > 24))
    holiday = (
        french_calendar(dates).reindex(dates.normalize())["is_public_holiday"].to_numpy(bool)
        if len(days)
        else np.zeros(0, dtype=bool)
    )
    return Units(
        days,
        values,
        total,
        missing,
        usable,
        day_type(dates, holiday),
        day_category(dates) if len(days) else np.zeros(0, dtype=int),
        positions_of(days),
        data.layout,
    )


# ---------------------------------------------------------------------------------------------
# Evidence and scores


DISPERSION = {"hourly": 10.0, "daily": 20.0}
"""Shape of the negative binomial of the counts (stuck values, zeros)."""
SCALE_FLOOR = 0.03
REFINE = 2.0
COMPONENTS = ("day_up", "day_down", "shape_up", "both_up", "flat", "zeros")
"""Scores of a counter-day (see ``models.bike_counters.model``): ``both_up`` is the larger of
``day_up`` and the day's own total and its best shape window added up (Stouffer)."""


@dataclass
class Evidence:
    """Per counter-day ratios and run evidence of ``units`` against their expected counts."""

    units: Units
    expected_day: np.ndarray
    lam: np.ndarray
    day_ratios: dict[int, tuple[np.ndarray, np.ndarray]]
    shape_ratios: dict[int, tuple[np.ndarray, np.ndarray]]
    flat: np.ndarray
    zeros: np.ndarray


def evidence(units: Units, day: np.ndarray, shares: np.ndarray) -> Evidence:
    """The evidence of every counter-day of ``units`` against its expected daily count ``day``
    spread over the expected ``shares`` of its hours (``(n, 1)`` ones for daily data)."""
    lam = day[:, None] * shares
    n = len(units.days)
    day_ratios = {L: (np.full(n, np.nan), np.full(n, np.nan)) for L in DAY_WINDOWS}
    total = np.where(units.usable, units.total, np.nan)
    for rows in units.positions.values():
        idx = rows.to_numpy()
        for L in DAY_WINDOWS:
            ratio, var = window_log_ratios(total[idx], day[idx], L)
            day_ratios[L][0][idx], day_ratios[L][1][idx] = ratio, var
    shape_ratios = {}
    if units.layout == "hourly":
        complete = units.usable
        for L in SHAPE_WINDOWS:
            ratio, var = shape_log_ratios(np.nan_to_num(units.values), shares, L)
            ratio[~complete] = np.nan
            shape_ratios[L] = (ratio, var)
    k = DISPERSION[units.layout]
    flat = np.zeros(n)
    zeros = np.zeros(n)
    for rows in units.positions.values():
        idx = rows.to_numpy()
        y = units.values[idx].reshape(-1)
        lm = lam[idx].reshape(-1)
        flat[idx] = best_run_per_day(flat_evidence(y, lm, k), units.per_day)
        zeros[idx] = best_run_per_day(zero_evidence(y, lm, k), units.per_day)
    return Evidence(units, day, lam, day_ratios, shape_ratios, flat, zeros)


def _robust(x: np.ndarray) -> tuple[float, float] | None:
    x = x[np.isfinite(x)]
    if len(x) < 20:
        return None
    med = float(np.median(x))
    return med, 1.4826 * float(np.median(np.abs(x - med)))


def scales_of(parts: list[tuple[Evidence, np.ndarray]], counters: list[str]):
    """Per counter, the median and extra variance (beyond Poisson) of each window's log ratio
    on the ``mask`` days of each evidence; the median over the parts (the backtest folds)."""
    day_scales: dict[str, np.ndarray] = {}
    shape_scales: dict[str, np.ndarray] = {}
    for c in counters:
        per_part_day, per_part_shape = [], []
        for ev, mask in parts:
            rows = ev.units.positions.get(c)
            if rows is None:
                continue
            idx = rows.to_numpy()
            idx = idx[mask[idx]]
            scale = np.full((len(DAY_WINDOWS), 2), np.nan)
            for i, L in enumerate(DAY_WINDOWS):
                ratio, var = ev.day_ratios[L]
                fit = _robust(ratio[idx])
                if fit:
                    extra = max(fit[1] ** 2 - float(np.nanmedian(var[idx])), SCALE_FLOOR**2)
                    scale[i] = fit[0], extra
            per_part_day.append(scale)
            if ev.shape_ratios:
                n_pos = ev.shape_ratios[SHAPE_WINDOWS[0]][0].shape[1]
                shape = np.full((len(SHAPE_WINDOWS), 1 + n_pos), np.nan)
                for i, L in enumerate(SHAPE_WINDOWS):
                    ratio, var = ev.shape_ratios[L]
                    sub = ratio[idx]
                    sub = sub[np.isfinite(sub).all(axis=1)]
                    if len(sub) < 20:
                        continue
                    med = np.median(sub, axis=0)
                    fit = _robust((sub - med).ravel())
                    extra = max(fit[1] ** 2 - float(np.median(var[idx])), SCALE_FLOOR**2)
                    shape[i, 0] = extra
                    shape[i, 1 : 1 + len(med)] = med
                per_part_shape.append(shape)
        if per_part_day:
            day_scales[c] = nanmedian(np.stack(per_part_day), 0)
        if per_part_shape:
            shape_scales[c] = nanmedian(np.stack(per_part_shape), 0)
    _fill_missing_scales(day_scales, counters)
    if shape_scales:
        _fill_missing_scales(shape_scales, counters)
    return day_scales, shape_scales


def _fill_missing_scales(scales: dict[str, np.ndarray], counters: list[str]) -> None:
    """Counters (or windows) without enough days take the median over the other counters."""
    known = [v for v in scales.values() if np.isfinite(v).any()]
    if not known:
        return
    pooled = nanmedian(np.stack(known), 0)
    for c in counters:
        own = scales.get(c, np.full_like(pooled, np.nan))
        scales[c] = np.where(np.isfinite(own), own, pooled)


def _cover(z: np.ndarray, length: int) -> np.ndarray:
    """For each day, the max of ``z`` over the windows of ``length`` days ending at or after it
    (``z`` is indexed by a window's last day)."""
    out = np.full(len(z), -np.inf)
    for k in range(length):
        out[: len(z) - k] = np.maximum(out[: len(z) - k], z[k:])
    return out


def component_scores(ev: Evidence, day_scales, shape_scales) -> pd.DataFrame:
    """The ``COMPONENTS`` of every counter-day (−inf where not computable), plus the hours of
    the strongest shape window (``shape_start``, ``shape_length``)."""
    n = len(ev.units.days)
    out = {c: np.full(n, -np.inf) for c in COMPONENTS}
    out["flat"] = ev.flat.copy()
    out["zeros"] = ev.zeros.copy()
    start = np.full(n, -1)
    length = np.zeros(n, dtype=int)
    for c, rows in ev.units.positions.items():
        if c not in day_scales:
            continue
        idx = rows.to_numpy()
        up = np.full(len(idx), -np.inf)
        down = np.full(len(idx), -np.inf)
        own = np.zeros(len(idx))
        for i, L in enumerate(DAY_WINDOWS):
            med, extra = day_scales[c][i]
            ratio, var = ev.day_ratios[L]
            z = (ratio[idx] - med) / np.sqrt(extra + var[idx])
            z_up = np.nan_to_num(z, nan=-np.inf)
            z_down = np.nan_to_num(-z, nan=-np.inf)
            if L == 1:
                own = np.nan_to_num(z)
                up, down = np.maximum(up, z_up), np.maximum(down, z_down)
            else:
                up = np.maximum(up, np.where(own > REFINE, _cover(z_up, L), -np.inf))
                down = np.maximum(down, np.where(own < -REFINE, _cover(z_down, L), -np.inf))
        out["day_up"][idx] = up
        out["both_up"][idx] = up
        out["day_down"][idx] = down
        if ev.shape_ratios and c in shape_scales:
            best = np.full(len(idx), -np.inf)
            for i, L in enumerate(SHAPE_WINDOWS):
                extra, med = shape_scales[c][i, 0], shape_scales[c][i, 1:]
                ratio, var = ev.shape_ratios[L]
                z = (ratio[idx] - med[: ratio.shape[1]]) / np.sqrt(extra + var[idx])
                z = np.nan_to_num(z, nan=-np.inf)
                pos = z.argmax(axis=1)
                top = z[np.arange(len(idx)), pos]
                better = top > best
                best = np.where(better, top, best)
                start[idx[better]] = SHAPE_HOURS[0] + pos[better]
                length[idx[better]] = L
            out["shape_up"][idx] = best
            both = np.where((own > 0) & (best > 0), (own + best) / np.sqrt(2.0), -np.inf)
            out["both_up"][idx] = np.maximum(up, both)
    frame = pd.DataFrame(out)
    frame["shape_start"] = start
    frame["shape_length"] = length
    return frame
