"""The air_quality entry: D+1 weather forecasts as an option, and every choice made on the
training period only (rolling-origin backtest), on generated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import models.air_quality as aq
from models.air_quality import model as aqm
from models.air_quality.data import read_air_quality
from models.air_quality.features import FORECAST_FEATURE_SUFFIX, FUTURE_SUFFIX, make_features
from models.air_quality.sample import add_weather_forecasts
from models.errors import BiblioError

OBSERVATIONS = ["PM10", "PM25", "NO2", "NO2_max", "O3", "O3_max", "RR", "TN", "TX", "TM"]
OBSERVATIONS += ["FFM", "DXY", "PMERM", "UM", "GLOT"]


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return aq.load()


@pytest.fixture(scope="module")
def with_forecasts(sample) -> pd.DataFrame:
    return add_weather_forecasts(sample)


# ------------------------------------------------------------------------ D+1 weather


def test_forecast_columns_are_recognised_in_every_layout(tmp_path):
    tidy = tmp_path / "tidy.csv"
    tidy.write_text(
        "date,station,PM10,TX,TX_prevision,Prévision_FFM\n2019-01-01,A,20,5,6,3\n",
        encoding="utf-8",
    )
    daily = read_air_quality(tidy)
    assert daily[["TX", "TX_prevu", "FFM_prevu"]].iloc[0].tolist() == [5, 6, 3]
    wide = tmp_path / "wide.csv"
    wide.write_text("date,PM10_A,TX_Lesquin,TX_prevu\n2019-01-01,20,5,7\n", encoding="utf-8")
    daily = read_air_quality(wide)
    assert daily[["TX", "TX_prevu"]].iloc[0].tolist() == [5, 7]  # not taken for a station
    long = tmp_path / "long.csv"
    long.write_text(
        "date,station,polluant,valeur\n2019-01-01,A,PM10,20\n2019-01-01,A,TX_prevu,8\n",
        encoding="utf-8",
    )
    assert read_air_quality(long)["TX_prevu"].tolist() == [8]


def test_observations_only_leave_the_option_off_by_default(sample, with_forecasts):
    X, _ = make_features(sample, "Lille Fives", "PM10")
    assert X.attrs["weather"] == "aucune"
    assert not [c for c in X.columns if c.endswith((FUTURE_SUFFIX, FORECAST_FEATURE_SUFFIX))]
    X, _ = make_features(with_forecasts, "Lille Fives", "PM10", use_weather_forecast=False)
    assert X.attrs["weather"] == "aucune"
    assert not [c for c in X.columns if "prevu" in c]


def test_forecasts_for_d_plus_1_are_used_and_are_not_future_information(with_forecasts):
    day = pd.Timestamp("2018-06-20")
    tomorrow = day + pd.Timedelta(days=1)
    X, _ = make_features(with_forecasts, "Lille Fives", "O3")
    assert X.attrs["weather"] == "prevision"
    assert not [c for c in X.columns if c.endswith(FUTURE_SUFFIX)]
    rows = with_forecasts[with_forecasts["station"] == "Lille Fives"].set_index("date")
    assert X.loc[day, f"TX{FORECAST_FEATURE_SUFFIX}"] == rows.loc[tomorrow, "TX_prevu"]
    assert X.loc[day, "TX_j0"] == rows.loc[day, "TX"]
    # everything observed after D and every forecast issued after D may change: row D holds
    rng = np.random.default_rng(5)
    later = with_forecasts.copy()
    observed_after = later["date"] > day
    forecast_after = later["date"] > tomorrow
    for col in later.columns.drop(["date", "station"]):
        mask = forecast_after if col.endswith("_prevu") else observed_after
        later.loc[mask, col] = rng.uniform(0, 300, int(mask.sum()))
    X2, _ = make_features(later, "Lille Fives", "O3")
    pd.testing.assert_series_equal(X.loc[day], X2.loc[day], check_names=False)
    # teeth: the forecast issued on D for D+1 is what row D reads
    changed = with_forecasts.copy()
    changed.loc[changed["date"] == tomorrow, "TX_prevu"] += 10
    X3, _ = make_features(changed, "Lille Fives", "O3")
    assert (
        X3.loc[day, f"TX{FORECAST_FEATURE_SUFFIX}"]
        == X.loc[day, f"TX{FORECAST_FEATURE_SUFFIX}"] + 10
    )


def test_weather_forecasts_help_ozone_and_are_reported_as_forecasts(sample, with_forecasts):
    kwargs = {"threshold": 130, "quick": True}
    without = aq.run(sample, "Armentières", "O3", **kwargs)
    forecast = aq.run(with_forecasts, "Armentières", "O3", **kwargs)
    perfect = aq.run(sample, "Armentières", "O3", use_weather_forecast=True, **kwargs)
    assert forecast.scores["modele"]["mae"] < 0.97 * without.scores["modele"]["mae"]
    report = aq.metrics_payload(forecast, aq.quality(with_forecasts))
    params = report["parameters"]
    assert params["weather_tomorrow"] == "prevision" and params["future_information"] is False
    assert f"TX{FORECAST_FEATURE_SUFFIX}" in params["weather_forecast_features"]
    assert any("Prévisions météo du lendemain" in n for n in forecast.notes)
    # observed weather of D+1 as a perfect forecast: flagged as future information
    flagged = aq.metrics_payload(perfect, aq.quality(sample))["parameters"]
    assert flagged["weather_tomorrow"] == "observee" and flagged["future_information"] is True
    assert any("optimistes" in n for n in perfect.notes)
    assert without.model.weather == "aucune" and not without.notes


# ------------------------------------------------------------------------ honest choices


def test_backtest_folds_train_only_on_earlier_days():
    days = pd.DatetimeIndex(np.repeat(pd.date_range("2018-01-01", periods=100).values, 3))
    folds = aqm.backtest_folds(days, 3)
    assert len(folds) == 3
    scored = np.concatenate([test for _, test in folds])
    assert days[scored].min() == pd.Timestamp("2018-02-20")  # second half of the 100 days
    assert len(scored) == len(set(scored)) == 150
    for train, test in folds:
        assert days[train].max() < days[test].min()  # never a day on both sides
        assert len(train) == 3 * (days[test].min() - days.min()).days


def _scramble_from(daily: pd.DataFrame, start: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = daily.copy()
    later = out["date"] >= pd.Timestamp(start)  # every value of the test period
    for col in OBSERVATIONS:
        values = out.loc[later, col]
        out.loc[later, col] = values * rng.uniform(0.2, 3.0, len(values))
    return out


@pytest.mark.parametrize(
    ("period", "quick"),
    [(None, False), (("2018-07-01", "2019-06-30"), True)],
    ids=["derniere_annee_selection", "periode_rapide"],
)
def test_every_choice_ignores_the_test_period(sample, period, quick):
    recent = sample[sample["date"] >= "2016-01-01"].reset_index(drop=True)
    start = "2019-01-01" if period is None else period[0]
    changed = _scramble_from(recent, start, seed=7)
    kwargs = {"pool_stations": 0, "test_period": period, "quick": quick}
    a = aq.fit(recent, "Lille Fives", "PM10", **kwargs)
    b = aq.fit(changed, "Lille Fives", "PM10", **kwargs)
    assert a.setting == b.setting and a.info == b.info
    settings = 1 if quick else len(aqm.SETTINGS) + 1  # full runs: a real selection
    assert quick or aqm.ENSEMBLE in a.info["backtest_relative_mae"]
    assert len(a.info["backtest_relative_mae"]) == settings
    assert (a.alert_rule, a.cutoff, a.calibration) == (b.alert_rule, b.cutoff, b.calibration)
    np.testing.assert_array_equal(a.residuals, b.residuals)
    X, _ = make_features(recent, "Lille Fives", "PM10")
    train = X[X.index + pd.Timedelta(days=1) < pd.Timestamp(start)]
    np.testing.assert_array_equal(a.predict(train), b.predict(train))
    # teeth: the test-period scores do change
    assert aq.evaluate(a, recent, period)["modele"]["mae"] != pytest.approx(
        aq.evaluate(b, changed, period)["modele"]["mae"]
    )


def test_test_period_needs_training_days_before_it(sample):
    with pytest.raises(BiblioError, match="300 jours"):
        aq.run(sample, "Lille Fives", "PM10", quick=True, test_period=("2013-03-01", "2013-12-31"))
    with pytest.raises(BiblioError, match="illisible"):
        aq.run(sample, "Lille Fives", "PM10", quick=True, test_period=("hier", "demain"))
    result = aq.run(
        sample, "Lille Fives", "PM10", quick=True, test_period=("2019-04-01", "2019-06-30")
    )
    dates = result.test_table["date_prevue"]
    assert dates.min() == pd.Timestamp("2019-04-01") and dates.max() == pd.Timestamp("2019-06-30")
    assert result.train_period[1] < pd.Timestamp("2019-04-01")


def test_for_threshold_redoes_the_alert_without_refitting(sample):
    model = aq.fit(sample, "Lille Fives", "PM10", quick=True)
    other = model.for_threshold(30)
    assert other.regressor is model.regressor and other.threshold == 30
    X, _ = make_features(sample, "Lille Fives", "PM10")
    assert (other.probability(X) >= model.probability(X) - 1e-12).all()  # lower threshold
    again = aq.fit(sample, "Lille Fives", "PM10", quick=True, threshold=30)
    assert (again.alert_rule, again.cutoff) == (other.alert_rule, other.cutoff)
