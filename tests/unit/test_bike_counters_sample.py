"""The bike_counters sample generator: Nantes facts, labelled anomalies, committed files."""

import numpy as np
import pandas as pd
import pytest

from models import bike_counters as bc
from models.bike_counters import sample as gen

HOURS = gen.HOURS


@pytest.fixture(scope="module")
def sample():
    return gen.generate(seed=7, start="2022-01-01", end="2023-12-31")


def test_generation_is_seeded(sample):
    again = gen.generate(seed=7, start="2022-01-01", end="2023-12-31")
    pd.testing.assert_frame_equal(sample["hourly"], again["hourly"])
    other = gen.generate(seed=8, start="2022-01-01", end="2023-12-31")
    assert not sample["hourly"][HOURS].equals(other["hourly"][HOURS])


def test_layout_is_nantes_hourly_wide(sample):
    hourly = sample["hourly"]
    assert list(hourly.columns) == [
        "Numéro de boucle",
        "Libellé",
        "Jour",
        *HOURS,
        "Probabilité de présence d'anomalies",
        "Jour de la semaine",
    ]
    assert hourly["Numéro de boucle"].str.fullmatch(r"0\d{3}").all()
    assert hourly["Numéro de boucle"].nunique() == 15
    assert hourly["Jour"].nunique() >= 730
    assert set(hourly["Jour de la semaine"]) == set(range(1, 8))


def _clean_days(sample):
    hourly = sample["hourly"].copy()
    labels = sample["labels"]
    hourly["date"] = pd.to_datetime(hourly["Jour"])
    bad = set()
    for ev in labels.itertuples(index=False):
        for d in pd.date_range(ev[1].normalize(), ev[2].normalize()):
            bad.add((ev[0], d))
    keep = [
        (c, d) not in bad for c, d in zip(hourly["Numéro de boucle"], hourly["date"], strict=True)
    ]
    return hourly[keep]


def test_weekday_factors_and_hourly_profile(sample):
    clean = _clean_days(sample)
    commute = clean[clean["Numéro de boucle"] == "0701"].copy()
    commute["total"] = commute[HOURS].sum(axis=1)
    factors = commute.groupby("Jour de la semaine")["total"].median() / commute["total"].median()
    assert factors[2:5].mean() == pytest.approx(1.22, abs=0.08)  # Tue–Thu ≈ 1.25
    assert factors[7] == pytest.approx(0.64, abs=0.1)
    assert factors[6] == pytest.approx(0.76, abs=0.1)
    weekday = commute[commute["Jour de la semaine"] <= 5]
    shares = weekday[HOURS].sum() / weekday[HOURS].to_numpy().sum()
    assert shares["08"] == pytest.approx(0.125, abs=0.015)
    assert shares["17"] == pytest.approx(0.11, abs=0.015)
    weekend = commute[commute["Jour de la semaine"] == 7]
    peak = (weekend[HOURS].sum()).idxmax()
    assert 13 <= int(peak) <= 17


def test_daily_medians_span_the_network(sample):
    clean = _clean_days(sample)
    totals = clean.assign(t=clean[HOURS].sum(axis=1)).groupby("Numéro de boucle")["t"].median()
    assert totals.min() < 20
    assert 1700 < totals.max() < 2800


def test_labels_cover_every_kind_and_match_the_counts(sample):
    labels, hourly = sample["labels"], sample["hourly"]
    assert set(labels["Type d'anomalie"]) == set(gen.KINDS)
    by_key = hourly.set_index(["Numéro de boucle", "Jour"])
    for ev in labels.itertuples(index=False):
        loop, start, kind, injected = ev[0], ev[1], ev[3], ev[4]
        value = by_key.loc[(loop, start.strftime("%Y-%m-%d")), f"{start.hour:02d}"]
        if injected == "manquante":
            assert pd.isna(value)
        elif injected == "zéro":
            assert value == 0
        elif kind == "valeur_bloquee":
            after = start + pd.Timedelta(hours=1)
            nxt = by_key.loc[(loop, after.strftime("%Y-%m-%d")), f"{after.hour:02d}"]
            assert value == nxt == ev[5]
    outages = labels[labels["Type d'anomalie"] == "panne"]
    hours = (outages["Fin"] - outages["Début"]).dt.total_seconds() / 3600
    assert hours.min() < 24 and hours.max() > 24 * 30  # from hours to months


def test_committed_sample_matches_generator_and_is_small():
    paths = bc.PATHS
    assert paths.sample.stat().st_size < 3_000_000
    committed = pd.read_csv(paths.sample, sep=";", dtype={"Numéro de boucle": str})
    fresh = gen.generate()["hourly"]
    assert committed.shape == fresh.shape
    assert np.array_equal(
        committed[HOURS].to_numpy(dtype=float),
        fresh[HOURS].to_numpy(dtype=float),
        equal_nan=True,
    )
