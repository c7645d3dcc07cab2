"""The air_quality pipeline on the real Airparif hourly files (realdata marker; skipped when
../shared/realdata/air_quality is absent): reading, completeness rule, model vs baselines."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import models.air_quality as aq
from models.air_quality_io import read_air_quality

REAL_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata" / "air_quality"

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
    assert aq.validate(no2, aq.SCHEMA).ok


@pytest.mark.parametrize("station", ["AUT", "RN20"])
def test_no2_pipeline_against_persistence(no2, station):
    result = aq.run(no2, station, "NO2", threshold=120, quick=True)
    s = result.scores
    assert result.target == "NO2_max" and result.test_year == 2019
    assert s["modele"]["threshold_days"] > 50
    assert s["modele"]["mae"] < s["climatologie_mensuelle"]["mae"]
    # end of day from hourly data, region and weekly cycle: ≥ 10 % (measured 13-14 %, quick)
    assert aq.gain_over_persistence(result) >= 0.10
    assert s["modele"]["recall"] > 0.5
    assert s["modele"]["f1"] >= s["persistance"]["f1"]
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
