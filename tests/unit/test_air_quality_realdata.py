"""The air_quality pipeline on the real Airparif hourly files (realdata marker; skipped when
../shared/realdata/air_quality is absent): reading, completeness rule, the shipped copies,
model vs baselines at one station and at every station (quick models: ≤ about a minute)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import models.air_quality as aq
from models.air_quality.data import read_air_quality
from models.validation import validate

REPO = Path(__file__).resolve().parents[2]
REAL_DIR = REPO / ".." / "shared" / "realdata" / "air_quality"
if not REAL_DIR.is_dir():  # a git worktree in <folder>/wt/<name>: ../shared is one level up
    REAL_DIR = REPO / ".." / ".." / "shared" / "realdata" / "air_quality"

pytestmark = pytest.mark.realdata


def real_file(pollutant: str) -> Path:
    files = sorted(REAL_DIR.glob(f"*-{pollutant}_auto.csv")) if REAL_DIR.is_dir() else []
    if not files:
        pytest.skip("../shared/realdata/air_quality absent")
    return files[0]


@pytest.fixture(scope="module")
def no2() -> pd.DataFrame:
    return read_air_quality(real_file("NO2"))


@pytest.fixture(scope="module")
def o3() -> pd.DataFrame:
    return read_air_quality(real_file("O3"))


@pytest.fixture(scope="module")
def o3_and_no2() -> pd.DataFrame:
    return read_air_quality([real_file("O3"), real_file("NO2")])


def test_hourly_files_become_daily_tables(no2, o3):
    assert no2.attrs["layout"] == "hourly_wide" and o3.attrs["layout"] == "hourly_wide"
    assert no2["station"].nunique() == 42 and o3["station"].nunique() == 24
    for daily in (no2, o3):
        assert daily["date"].min() == pd.Timestamp("2017-03-01")
        assert daily["date"].max() == pd.Timestamp("2020-05-11")  # hour 24 adds no day
        assert daily.groupby("station").size().eq(1168).all()
    assert no2["NO2_max"].notna().sum() > 30000 and no2["O3"].isna().all()
    assert (
        no2["NO2_max"].dropna()
        >= no2["NO2"].dropna().reindex(no2["NO2_max"].dropna().index).fillna(0)
    ).all()
    # PA01H is almost always "n/d": the completeness rule leaves few days
    assert no2.loc[no2["station"] == "PA01H", "NO2"].notna().mean() < 0.25
    assert validate(no2, aq.SCHEMA).ok


def test_shipped_files_are_the_real_files_merged(no2, o3):
    shipped = aq.load(quick=False)  # what full runs read without data_path
    assert shipped.attrs["zone"] == "C" and shipped["station"].nunique() == 50
    keyed = shipped.set_index(["date", "station"])
    for table, column in ((no2, "NO2_max"), (o3, "O3_soir")):
        expected = table.set_index(["date", "station"])[column]
        pd.testing.assert_series_equal(
            keyed[column].reindex(expected.index), expected, check_names=False
        )
    both = keyed.dropna(subset=["NO2", "O3"])
    assert both.index.get_level_values("station").nunique() >= 12  # NO2 and O3 at one site


def test_every_station_scored_at_once(o3_and_no2):
    table = aq.station_scores(o3_and_no2, "O3", quick=True)
    attrs = table.attrs
    assert attrs["test_period"] == (pd.Timestamp("2019-01-01"), pd.Timestamp("2019-12-31"))
    assert attrs["thresholds"] == (180.0, 130.0) and attrs["weather"] == "aucune"
    assert set(attrs["excluded"]) == {"PA01H", "PA04C"}  # < 75 % of days measured
    assert len(table) == 22 and table["mesure"].eq("O3_max").all()
    assert (table["jours"] > 300).all()
    assert (table["mae_modele"] < table["mae_climatologie"]).all()
    # quick model, no weather: below persistence everywhere (measured 0.85-0.92, quick)
    assert (table["ratio_persistance"] < 0.95).all() and table["ratio_persistance"].median() < 0.92
    assert {"f1_modele_180", "f1_persistance_130", "jours_sup_130"} <= set(table.columns)
    assert table["jours_sup_130"].sum() > 100


@pytest.mark.parametrize("station", ["AUT", "RN20"])
def test_no2_pipeline_against_persistence(no2, station):
    result = aq.run(no2, station, "NO2", threshold=120, quick=True)
    s = result.scores
    assert result.target == "NO2_max" and result.test_year == 2019
    assert s["modele"]["threshold_days"] > 50
    assert s["modele"]["mae"] < s["climatologie_mensuelle"]["mae"]
    # end of day from hourly data, region and weekly cycle: ≥ 10 % (measured 13-14 %, quick)
    assert aq.gain_over_persistence(result) >= 0.10
    # threshold days: about as well found as by persistence (measured F1 0.52-0.66 against
    # 0.53-0.63, quick)
    assert s["modele"]["recall"] > 0.4
    assert s["modele"]["f1"] >= s["persistance"]["f1"] - 0.05
    assert "soir_j0" in result.model.feature_names


@pytest.mark.parametrize("station", ["CERGY", "LOGNES"])
def test_o3_pipeline_against_persistence(o3, station):
    result = aq.run(o3, station, "O3", quick=True)  # information threshold 180
    s = result.scores
    assert result.target == "O3_max" and result.threshold == 180
    assert s["modele"]["threshold_days"] >= 1
    assert s["modele"]["mae"] < s["climatologie_mensuelle"]["mae"]
    assert aq.gain_over_persistence(result) >= 0.05  # no weather (measured 10-13 %, quick)
    assert s["modele"]["tp"] >= s["persistance"]["tp"]
