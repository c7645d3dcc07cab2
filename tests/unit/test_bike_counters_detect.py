"""Detection rules and robust residual scores of bike_counters, on controlled series."""

import numpy as np
import pandas as pd
import pytest

from models import bike_counters_eval as ev
from models.bike_counters_detect import score_series
from models.bike_counters_run import CountData, detect
from models.generators.bike_counters import WEEKDAY_PROFILE

DAYS = 120


def _series(level=800.0, seed=0):
    rng = np.random.default_rng(seed)
    lam = np.tile(level * WEEKDAY_PROFILE, DAYS)
    y = rng.poisson(lam * rng.gamma(25, 1 / 25, lam.shape)).astype(float)
    return y, lam


def _score(y, lam, tail=0):
    return score_series(
        y, lam, layout="hourly", unit_day=np.repeat(np.arange(DAYS), 24), protect_tail=tail
    )


def test_clean_series_is_not_flagged():
    y, lam = _series()
    out = _score(y, lam)
    assert out["flag"].mean() < 0.002


@pytest.mark.parametrize(
    ("kind", "start", "length"),
    [
        ("panne", 30 * 24 + 7, 24 * 5),
        ("journee_partielle", 40 * 24 + 9, 4),
        ("pic", 50 * 24 + 8, 4),
        ("sous_comptage", 60 * 24, 24 * 6),
        ("valeur_bloquee", 70 * 24 + 8, 30),
        ("double_comptage", 80 * 24, 24 * 6),
    ],
)
def test_each_kind_is_found_and_named(kind, start, length):
    y, lam = _series(seed=3)
    seg = slice(start, start + length)
    if kind == "panne":
        y[seg] = 0
    elif kind == "journee_partielle":
        y[seg] = np.nan
    elif kind == "pic":
        y[seg] = np.round(y[seg] * 3)
    elif kind == "sous_comptage":
        y[seg] = np.round(y[seg] * 0.3)
    elif kind == "valeur_bloquee":
        y[seg] = 37
    else:
        y[seg] = y[seg] * 2
    out = _score(y, lam)
    inside = out["flag"][seg]
    assert inside.mean() > 0.8
    assert pd.Series(out["kind"][seg][inside]).mode().iloc[0] == kind
    outside = np.ones(len(y), bool)
    outside[max(0, start - 48) : start + length + 48] = False
    assert out["flag"][outside].mean() < 0.003


def test_trailing_unpublished_hours_are_not_flagged():
    y, lam = _series()
    y[-5:] = np.nan
    assert not _score(y, lam, tail=24)["flag"][-5:].any()
    assert _score(y, lam, tail=0)["flag"][-5:].all()


def test_sensitivity_changes_the_number_of_flags():
    y, lam = _series(level=200, seed=5)
    y[50 * 24 : 53 * 24] = np.round(y[50 * 24 : 53 * 24] * 0.6)
    low = score_series(
        y, lam, layout="hourly", unit_day=np.repeat(np.arange(DAYS), 24), sensitivity=0.5
    )["flag"].sum()
    high = score_series(
        y, lam, layout="hourly", unit_day=np.repeat(np.arange(DAYS), 24), sensitivity=2.0
    )["flag"].sum()
    assert high > low


def _count_data(n_counters=6, days=240, seed=1):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=days, freq="D")
    frames, blocks = [], []
    for c in range(n_counters):
        level = 100 * (c + 1)
        weekday = dates.day_of_week.to_numpy()
        daily = level * np.where(weekday >= 5, 0.7, 1.2)
        lam = daily[:, None] * WEEKDAY_PROFILE[None, :]
        blocks.append(rng.poisson(lam).astype(float))
        frames.append(
            pd.DataFrame({"counter_id": f"0{c:03d}", "counter_name": f"C{c}", "date": dates})
        )
    return CountData(pd.concat(frames, ignore_index=True), np.vstack(blocks), "hourly")


def test_detect_end_to_end_hourly_and_daily():
    data = _count_data()
    values = data.values
    rows = np.flatnonzero(data.days["counter_id"] == "0003")
    values[rows[100:104]] *= 3  # four days of spikes ×3
    values[rows[150:153]] = 0  # three days of outage
    det = detect(data, None, quick=True)
    flagged = det.days.loc[rows, "flag"].to_numpy()
    assert flagged[100:104].all() and flagged[150:153].all()
    assert (det.days.loc[rows[100:104], "kind"] == "pic").all()
    assert (det.days.loc[rows[150:153], "kind"] == "panne").all()
    # corrected value = expected for the flagged days, observed otherwise
    corrected = det.days.loc[rows[100:104], "corrected"].to_numpy()
    assert np.all(corrected < det.days.loc[rows[100:104], "count"].to_numpy() * 0.6)
    normal = np.ones(len(det.days), bool)
    normal[rows[98:106]] = normal[rows[148:155]] = False
    assert det.days["flag"][normal].mean() < 0.01
    assert det.hours is not None and len(det.hours) == 24 * len(det.days)

    daily = CountData(data.days.copy(), values.sum(axis=1, keepdims=True), "daily")
    ddet = detect(daily, None, quick=True)
    assert ddet.hours is None
    assert ddet.days.loc[rows[150:153], "flag"].all()
    assert ddet.days.loc[rows[100:104], "flag"].all()


def test_baselines_and_labels():
    data = _count_data(n_counters=2, days=30)
    values = data.values
    values[5:9] = 0  # four zero days for counter 0000
    values[20, 8:12] = np.nan
    flags = ev.zero_days_rule(data.days, values)
    assert flags[5:9].all() and flags.sum() == 4
    hours_rule = ev.zero_missing_hours_rule(values)
    assert hours_rule[20] and hours_rule[5]
    assert ev.isolation_forest(data.days, values).mean() == pytest.approx(0.05, abs=0.02)
    events = pd.DataFrame(
        {
            "counter_id": ["0000", "0001"],
            "start": pd.to_datetime(["2022-01-08 00:00", "2022-01-10 21:00"]),
            "end": pd.to_datetime(["2022-01-12 00:00", "2022-01-11 12:00"]),
            "kind": ["panne", "pic"],
            "injected": ["zéro", "multipliée"],
        }
    )
    truth = ev.day_labels(data.days, events)
    assert (truth.iloc[5:9] == "panne").all()
    second = data.days.index[data.days["counter_id"] == "0001"]
    assert truth.loc[second[7]] == ev.IGNORE  # 21h–24h: too few daytime hours
    assert truth.loc[second[8]] == "pic"
    scores = ev.detection_scores(truth, flags)
    assert scores["by_kind"]["panne"]["recall"] == 1.0
    assert scores["by_kind"]["pic"]["recall"] == 0.0
