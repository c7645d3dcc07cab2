"""The air_quality entry: generated sample facts, schema, no leakage, model, baselines, skops."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import models.air_quality as aq
from models.air_quality import evaluation as aqe
from models.air_quality import model as aqm
from models.air_quality.features import FUTURE_SUFFIX, make_features
from models.air_quality.sample import generate
from models.contract import entry_paths
from models.errors import BiblioError, DataValidationError, UntrustedModelError
from models.persist import load_model


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return aq.load()


@pytest.fixture(scope="module")
def quick_run(sample) -> aq.Result:
    return aq.run(sample, "Lille Fives", "PM10", quick=True)


# ------------------------------------------------------------------------ generated sample


def test_committed_sample_is_the_generator_output(sample):
    fresh = generate()
    assert len(sample) == len(fresh)
    committed = sample.sort_values(["station", "date"]).reset_index(drop=True)
    fresh = fresh.sort_values(["station", "date"]).reset_index(drop=True)
    assert (committed["date"].to_numpy() == fresh["date"].to_numpy()).all()
    for col in ("PM10", "O3_max", "TN", "PMERM"):
        np.testing.assert_allclose(committed[col], fresh[col].astype(float), equal_nan=True)
    assert entry_paths("air_quality").sample.stat().st_size < 2_000_000


def test_generated_pm10_reproduces_the_real_facts(sample):
    background = sample[sample["station"] != "Lille Leeds"].set_index("date")
    pm10 = background["PM10"].dropna()
    assert 16 <= pm10.median() <= 22 and 19 <= pm10.mean() <= 26
    over = pm10[pm10 > 50]
    assert 0.02 <= len(over) / len(pm10) <= 0.08
    assert over.index.month.isin([6, 7, 8]).sum() == 0  # none in summer
    assert over.index.month.isin([2, 3, 4]).mean() > 0.5  # mostly February-April
    assert over.index.month.value_counts().idxmax() == 3  # March the worst
    fives = sample[sample["station"] == "Lille Fives"].set_index("date")["PM10"]
    assert 0.7 <= fives.autocorr(1) <= 0.85
    weekday = fives[fives.index.day_of_week < 5].mean()
    sunday = fives[fives.index.day_of_week == 6].mean()
    assert 1.1 <= weekday / sunday <= 1.3
    yearly = fives.groupby(fives.index.year).mean()
    assert yearly.loc[2019] < 0.8 * yearly.loc[2014]


def test_generated_ozone_peaks_with_heat_and_pm10_with_calm_high_pressure(sample):
    fives = sample[sample["station"] == "Lille Fives"]
    summer = fives[fives["date"].dt.month.isin([6, 7, 8])]
    assert summer["O3_max"].corr(summer["TX"]) > 0.5
    hot = summer[summer["TX"] >= 30]["O3_max"].mean()
    assert hot > summer[summer["TX"] < 22]["O3_max"].mean() + 40
    winter = fives[fives["date"].dt.month.isin([1, 2, 3, 11, 12])]
    assert winter["PM10"].corr(winter["PMERM"]) > 0.2
    assert winter["PM10"].corr(winter["FFM"]) < -0.2


def test_sample_validates_and_a_bad_file_lists_every_problem(tmp_path, sample):
    daily, report = aq.load_with_report()
    assert report.ok and report.rows == len(daily) == len(sample)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "date,station,PM10,UM\n2019-01-01,A,-5,50\n2019-13-45,A,20,50\n2019-01-03,A,30,140\n",
        encoding="utf-8",
    )
    report = aq.validate_file(bad)
    assert not report.ok
    text = report.to_text()
    columns = {p.column for p in report.all_problems}
    assert {"PM10", "UM", "date"} <= columns, text
    with pytest.raises(DataValidationError):
        aq.load(bad)


# ------------------------------------------------------------------------ features


def test_target_is_tomorrow_and_features_describe_today(sample):
    X, y = make_features(sample, "Roubaix Serres", "O3")
    assert X.attrs["target"] == "O3_max"
    series = sample[sample["station"] == "Roubaix Serres"].set_index("date")
    day = pd.Timestamp("2018-07-10")
    assert X.loc[day, "obs_j0"] == series.loc[day, "O3_max"]
    assert y.loc[day] == series.loc[day + pd.Timedelta(days=1), "O3_max"]
    assert X.loc[day, "TX_j0"] == series.loc[day, "TX"]
    assert X.loc[day, "jour_semaine_j1"] == (day + pd.Timedelta(days=1)).day_of_week


def _corrupt_after(daily: pd.DataFrame, day: pd.Timestamp, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = daily.copy()
    later = out["date"] > day
    for col in out.columns.drop(["date", "station"]):
        out.loc[later, col] = rng.uniform(0, 500, int(later.sum()))
    return out


@pytest.mark.parametrize("day", ["2016-03-14", "2018-12-31"])
def test_no_feature_uses_data_after_day_d(sample, day):
    day = pd.Timestamp(day)
    X, _ = make_features(sample, "Lille Fives", "PM10")
    X2, _ = make_features(_corrupt_after(sample, day, 1), "Lille Fives", "PM10")
    pd.testing.assert_series_equal(X.loc[day], X2.loc[day], check_names=False)
    # the test has teeth: the day after D changes
    assert not X.loc[day + pd.Timedelta(days=1)].equals(X2.loc[day + pd.Timedelta(days=1)])


def test_hourly_regional_and_weekly_features_use_nothing_after_day_d(sample):
    rng = np.random.default_rng(3)
    hourly = sample.copy()  # end-of-day columns as an hourly file would give them
    for suffix in ("soir", "fin", "min"):
        hourly[f"PM10_{suffix}"] = hourly["PM10"] * rng.uniform(0.5, 1.5, len(hourly))
    day = pd.Timestamp("2018-03-20")
    X, _ = make_features(hourly, "Lille Fives", "PM10")
    for col in ("soir_j0", "fin_j0", "pente_soir", "region_max_j0", "region_soir_j0", "hebdo_j1"):
        assert col in X.columns
    X2, _ = make_features(_corrupt_after(hourly, day, 4), "Lille Fives", "PM10")
    pd.testing.assert_series_equal(X.loc[day], X2.loc[day], check_names=False)
    later = day + pd.Timedelta(days=1)
    assert X.loc[later, "soir_j0"] != X2.loc[later, "soir_j0"]
    # the weekly feature is the mean of the 4 previous values of tomorrow's weekday
    obs = hourly[hourly["station"] == "Lille Fives"].set_index("date")["PM10"]
    lags = [obs[day - pd.Timedelta(days=6 + 7 * k)] for k in range(4)]
    assert X.loc[day, "hebdo_j1"] == pytest.approx(np.mean(lags))


def test_weather_forecast_option_is_the_only_future_information(sample):
    day = pd.Timestamp("2017-02-20")
    X, _ = make_features(sample, "Lille Fives", "PM10", use_weather_forecast=True)
    X2, _ = make_features(
        _corrupt_after(sample, day, 2), "Lille Fives", "PM10", use_weather_forecast=True
    )
    changed = {
        c for c in X.columns if not np.isclose(X.loc[day, c], X2.loc[day, c], equal_nan=True)
    }
    assert changed and all(c.endswith(FUTURE_SUFFIX) for c in changed)


# ------------------------------------------------------------------------ model


def test_quick_model_beats_persistence_on_the_sample(quick_run):
    s = quick_run.scores
    assert quick_run.test_year == 2019 and quick_run.target == "PM10"
    assert s["modele"]["n"] == s["persistance"]["n"] > 300
    assert s["modele"]["mae"] < s["persistance"]["mae"] < s["climatologie_mensuelle"]["mae"]
    assert s["modele"]["threshold_days"] > 0
    assert not quick_run.notes
    table = quick_run.test_table
    assert table["date_prevue"].min() == pd.Timestamp("2019-01-01")
    assert table["date_prevue"].max() == pd.Timestamp("2019-12-31")
    assert table["probabilite_depassement"].between(0, 1).all()
    high = table[table["observe"] > 50]["probabilite_depassement"].mean()
    low = table[table["observe"] < 20]["probabilite_depassement"].mean()
    assert high > 5 * low


def test_exceedance_probability_is_monotonic():
    residuals = np.random.default_rng(0).normal(0, 0.3, 500)
    log_pred = np.log1p(np.array([10.0, 30.0, 45.0, 60.0, 200.0]))
    p50 = aqm.exceedance_probability(log_pred, residuals, 50)
    assert np.all(np.diff(p50) >= 0) and p50[0] < 0.01 and p50[-1] > 0.99
    p80 = aqm.exceedance_probability(log_pred, residuals, 80)
    assert np.all(p80 <= p50)


def test_calibration_is_monotonic_and_identity_without_events():
    rng = np.random.default_rng(1)
    raw = rng.uniform(0, 1, 2000)
    truth = rng.uniform(0, 1, 2000) < raw**2  # raw probabilities are too high
    knots = aqm.fit_calibration(raw, truth)
    assert knots is not None
    grid = np.linspace(0, 1, 21)
    calibrated = aqm.calibrate(grid, knots)
    assert np.all(np.diff(calibrated) >= 0) and calibrated[10] < 0.4  # ≈ 0.25 at 0.5
    assert aqm.fit_calibration(raw, np.zeros(2000, bool)) is None
    np.testing.assert_array_equal(aqm.calibrate(grid, None), grid)


def test_alert_rule_is_chosen_on_out_of_fold_f1():
    rng = np.random.default_rng(2)
    truth = rng.uniform(0, 1, 400) < 0.1
    today = truth.copy()  # persistence perfect, probability noise
    rule, _ = aqm.best_alert_rule(rng.uniform(0, 1, 400), today, truth)
    assert rule == "persistance"
    prob = np.where(truth, 0.9, 0.1)  # probability perfect, persistence noise
    rule, cutoff = aqm.best_alert_rule(prob, rng.uniform(0, 1, 400) < 0.1, truth)
    assert rule == "probabilite" and 0.1 < cutoff <= 0.9
    rule, _ = aqm.best_alert_rule(prob, today, np.zeros(400, bool))  # no events: fallback
    assert rule == "probabilite_ou_persistance"
    flags = aqm.apply_alert_rule(rule, np.array([True, False, False]), np.array([0, 1, 0], bool))
    assert flags.tolist() == [True, True, False]


def test_atmo_classes_and_thresholds():
    cls = aqm.atmo_class([0, 19.9, 20, 40, 50, 99, 100, 150, np.nan], "PM10")
    assert cls.iloc[:8].tolist() == [0, 0, 1, 2, 3, 3, 4, 5] and np.isnan(cls.iloc[8])
    assert aqe.atmo_accuracy([10, 45, 60], [15, 30, 70], "PM10") == pytest.approx(2 / 3)
    assert aqm.default_threshold("O3") == 180 and aqm.default_threshold("PM25") == 25


def test_persistence_and_climatology_baselines(quick_run):
    t = quick_run.test_table
    X, y = make_features(aq.load(), "Lille Fives", "PM10")
    today = t["date_emission"].iloc[40]
    assert t["persistance"].iloc[40] == X.loc[today, "obs_j0"]
    train = y[(y.index + pd.Timedelta(days=1)).year < 2019].dropna()
    march = train[(train.index + pd.Timedelta(days=1)).month == 3].mean()
    row = t[t["date_prevue"] == pd.Timestamp("2019-03-15")].iloc[0]
    assert row["climatologie"] == pytest.approx(march, abs=0.05)


def test_test_year_needs_a_full_year_after_training():
    days = pd.date_range("2017-03-01", "2020-05-11")
    assert aq.test_year(days, pd.Series(1.0, index=days)) == 2019
    short = pd.date_range("2019-01-01", "2019-10-01")
    with pytest.raises(BiblioError, match="année complète"):
        aq.test_year(short, pd.Series(1.0, index=short))


def test_french_errors_for_unknown_station_or_pollutant(sample):
    with pytest.raises(BiblioError, match="Stations possibles"):
        aq.run(sample, "Paris", "PM10", quick=True)
    with pytest.raises(BiblioError, match="Polluant"):
        aq.run(sample, "Lille Fives", "SO2", quick=True)
    with pytest.raises(BiblioError, match="ne mesure pas PM25"):
        aq.run(sample, "Armentières", "PM25", quick=True)


def test_no2_without_hourly_max_is_flagged(tmp_path):
    rows = ["date,station,NO2"]
    rows += [
        f"{d:%Y-%m-%d},S,{20 + (d.day % 7)}" for d in pd.date_range("2017-01-01", "2019-12-31")
    ]
    path = tmp_path / "no2.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    result = aq.run(aq.read_air_quality(path), "S", "NO2", quick=True)
    assert result.target == "NO2"
    assert any("moyenne journalière" in n for n in result.notes)
    assert any("Aucun jour au-dessus" in n for n in result.notes)


def test_reference_model_round_trip_and_untrusted_refusal(tmp_path):
    result = aq.build_reference(quick=True, output_root=tmp_path)
    doc = result["metrics"]
    paths = entry_paths("air_quality", tmp_path)
    assert (result["artifact"], result["card"]) == (paths.artifact, paths.card)
    assert paths.artifact.is_file() and paths.card.is_file()
    card = paths.card.read_text(encoding="utf-8")
    assert "Persistance" in card or "persistance" in card
    regressor, meta = aq.load_reference(paths.artifact)
    assert meta["station"] == "Lille Fives" and meta["threshold"] == 50
    daily = aq.load()
    X, _ = make_features(daily, "Lille Fives", "PM10")
    recent = X.iloc[-30:]
    log_pred = aqm.log_anchor(recent) + regressor.predict(recent[meta["feature_names"]])
    assert np.all(np.isfinite(log_pred)) and 5 < np.expm1(log_pred).mean() < 80
    assert doc["model"]["metrics"]["mae"] == pytest.approx(meta["model_metrics"]["mae"])
    with pytest.raises(UntrustedModelError):
        load_model(paths.artifact, trusted=())


def test_fit_predict_and_evaluate_are_the_steps_of_run(sample, quick_run):
    model = aq.fit(sample, "Lille Fives", "PM10", quick=True)
    assert model.station == "Lille Fives" and model.alert_rule == quick_run.model.alert_rule
    pd.testing.assert_frame_equal(
        pd.DataFrame(aq.evaluate(model, sample)), pd.DataFrame(quick_run.scores)
    )
    forecasts = aq.predict(model, sample)
    assert forecasts["date_prevue"].equals(forecasts["date_emission"] + pd.Timedelta(days=1))
    test_year = forecasts[forecasts["date_prevue"].dt.year == 2019].reset_index(drop=True)
    table = quick_run.test_table
    for column in ("date_prevue", "prevision", "probabilite_depassement", "alerte"):
        pd.testing.assert_series_equal(test_year[column], table[column], check_dtype=False)


def test_outputs_add_the_atmo_classes_to_the_test_table(quick_run):
    tables = aq.outputs(quick_run)
    assert list(tables) == ["predictions.csv"]
    predictions = tables["predictions.csv"]
    assert len(predictions) == len(quick_run.test_table)
    row = predictions[predictions["observe"] > 55].iloc[0]
    assert row["classe_atmo_observee"] == "mauvais"  # PM10 50-100: « mauvais »
