"""Unit tests of the canteen_attendance entry: generator, features (no leakage), model and its
calibrated safety margin (backtests, conformal level, test period never used), baselines,
scores, loading of user files and the reference model file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import models.canteen_attendance as ca
from models.calendar import french_calendar
from models.canteen_attendance import baselines as bl
from models.canteen_attendance.data import prepare, site_key
from models.canteen_attendance.evaluation import common_mask, score_forecasts
from models.canteen_attendance.features import make_features
from models.canteen_attendance.sample import generate
from models.errors import DataReadError, DataValidationError


@pytest.fixture(scope="module")
def raw():
    return generate(seed=7, n_sites=8, start="2016-09-01", end="2018-07-06")


@pytest.fixture(scope="module")
def data(raw):
    return prepare(raw)


@pytest.fixture(scope="module")
def split(data):
    return ca.split(data, test_months=3)


@pytest.fixture(scope="module")
def model(split):
    train, _ = split
    return ca.fit(train, quick=True)


# ------------------------------------------------------------------------------ generator


def test_generator_is_seeded(raw):
    again = generate(seed=7, n_sites=8, start="2016-09-01", end="2018-07-06")
    other = generate(seed=8, n_sites=8, start="2016-09-01", end="2018-07-06")
    pd.testing.assert_frame_equal(raw, again)
    assert not raw["reel"].equals(other["reel"])


def test_generator_layout_and_service_days(raw):
    assert list(raw.columns[:6]) == [
        "site_id",
        "site_type",
        "date",
        "prevision",
        "reel",
        "site_nom",
    ]
    assert not (raw["date"].dt.day_of_week.isin([2, 5, 6])).any()  # no Wednesday, no weekend
    cal = french_calendar(raw["date"].unique(), zone="B")
    assert not cal["is_school_vacation"].any()
    assert not cal["is_public_holiday"].any()
    assert set(raw["site_type"]) <= {"M", "E", "M/E"}


def test_generator_effects(raw):
    ok = raw[raw["reel"].notna() & (raw["reel"] > 0)].copy()
    ok["rate"] = ok["reel"] / ok["effectif"]
    by_day = ok.groupby(ok["date"].dt.day_of_week)["rate"].mean()
    assert by_day.idxmax() == 4  # Friday highest
    assert 0.88 < by_day[0] / by_day[[1, 3]].mean() < 0.97  # Monday about -7 %
    july = (
        ok[ok["date"].dt.month == 7]["rate"].mean()
        / ok[ok["date"].dt.month.isin([3, 4, 5])]["rate"].mean()
    )
    assert 0.75 < july < 0.93
    assert 0.68 < ok["rate"].median() < 0.80
    both = raw.dropna(subset=["reel", "prevision"])
    both = both[both["reel"] > 0]
    bias = both["prevision"].sum() / both["reel"].sum()
    assert 1.04 < bias < 1.10  # agents over-forecast by 5-9 %
    cv = (
        ok["reel"] / ok.groupby(["site_id", ok["date"].dt.to_period("M")])["reel"].transform("mean")
    ).std()
    assert 0.07 < cv < 0.16


def test_generator_enrolment_grows(raw):
    per_year = raw.groupby(
        raw["date"].dt.year.where(raw["date"].dt.month >= 9, raw["date"].dt.year - 1)
    )["effectif"].mean()
    growth = per_year.iloc[-1] / per_year.iloc[0]
    assert 1.0 < growth < 1.06


# ------------------------------------------------------------------------------- features


@pytest.mark.parametrize("horizon", [14, 21])
def test_features_do_not_use_data_after_forecast_date_minus_horizon(data, horizon):
    cutoff = pd.Timestamp("2017-11-15")
    changed = data.copy()
    later = changed["date"] > cutoff
    changed.loc[later, "reel"] = changed.loc[later, "reel"] * 3 + 50
    before = make_features(data, horizon)
    after = make_features(changed, horizon)
    safe = data["date"] <= cutoff + pd.Timedelta(days=horizon)
    pd.testing.assert_frame_equal(before[safe], after[safe])
    # the perturbation is visible once it is older than the horizon: the check has teeth
    late = data["date"] > cutoff + pd.Timedelta(days=horizon + 7)
    assert not before.loc[late, "base"].equals(after.loc[late, "base"])


def test_baselines_do_not_use_recent_data(data):
    cutoff = pd.Timestamp("2017-11-15")
    changed = data.copy()
    later = changed["date"] > cutoff
    changed.loc[later, "reel"] = 999.0
    safe = data["date"] <= cutoff + pd.Timedelta(days=bl.NAIVE_GAP_DAYS)
    a, b = bl.same_weekday_mean(data), bl.same_weekday_mean(changed)
    pd.testing.assert_series_equal(a[safe], b[safe])


def test_site_key_merges_spelling_variants():
    assert site_key("CHENE D'ARON", "E") == site_key("Chêne Daron", "E")
    assert site_key("ALAIN FOURNIER", "M") != site_key("ALAIN FOURNIER", "E")


def test_prepare_without_site_column_is_one_network_series():
    frame = pd.DataFrame(
        {
            "date": ["2018-09-03", "2018-09-03", "2018-09-04"],
            "reel": [100, 50, 120],
            "prevision": [110, None, 130],
        }
    )
    out = prepare(frame)
    assert list(out["series"].unique()) == ["reseau"]
    assert out["reel"].tolist() == [150.0, 120.0]
    assert out["prevision"].tolist() == [110.0, 130.0]


def test_prepare_merges_rows_split_over_two_spellings():
    frame = pd.DataFrame(
        {
            "site_type": ["E", "E"],
            "date": ["2011-01-03", "2011-01-03"],
            "prevision": [131, None],
            "reel": [None, 122],
            "site_nom": ["CHENE DARON", "CHENE D'ARON"],
        }
    )
    out = prepare(frame)
    assert len(out) == 1
    assert (out["prevision"].iloc[0], out["reel"].iloc[0]) == (131.0, 122.0)


# ---------------------------------------------------------------------------------- model


def test_fit_predict_safety_level_and_median(model, data, split):
    _, test = split
    high = ca.predict(model, data).loc[test.index]
    median = ca.predict(model, data, 0.5).loc[test.index]
    ok = test["reel"].notna() & (test["reel"] > 0)
    assert high[ok].notna().all() and (high[ok] > 0).all()
    assert high[ok].mean() > median[ok].mean()
    short_high = (high[ok] < test.loc[ok, "reel"]).mean()
    short_median = (median[ok] < test.loc[ok, "reel"]).mean()
    assert short_high < short_median
    assert short_median == pytest.approx(0.5, abs=0.15)
    # the default level promises 2.5 short days a month: one canteen-day in five or six,
    # and the generated test months keep that promise within 10 points
    assert model.safety.scope == "cantine" and model.safety.short_days_per_month == 2.5
    assert 0.1 < model.safety.miss_rate < 0.25
    assert short_high == pytest.approx(model.safety.miss_rate, abs=0.1)


def test_model_beats_naive_baseline_on_mae_at_median(model, data, split):
    train, test = split
    forecasts = ca.forecast_table(model, data, train, test)
    scores = ca.evaluate(model, data, train, test, forecasts=forecasts)
    by_canteen = ca.per_canteen(test, forecasts)
    assert set(forecasts) == {ca.MODEL_NAME, ca.AGENTS, ca.NAIVE, ca.ENROLMENT}
    assert list(scores) == list(forecasts)  # model first, then every baseline
    assert scores == ca.evaluate(model, data, train, test)  # the forecasts are the same
    median = ca.predict(model, data, 0.5).loc[test.index]
    s = score_forecasts(test, {"median": median, "naive": forecasts[ca.NAIVE]})
    assert s["median"]["mae"] < s["naive"]["mae"]
    assert set(by_canteen["forecast"]) == set(forecasts)
    assert by_canteen["series"].nunique() == test["series"].nunique()


def test_naive_baseline_is_mean_of_8_same_weekdays_3_weeks_before(data):
    naive = bl.same_weekday_mean(data)
    one = data[data["series"] == data["series"].iloc[0]]
    row = one[one["date"] >= "2018-03-01"].iloc[0]
    past = one[
        (one["date"] <= row["date"] - pd.Timedelta(days=21))
        & (one["date"].dt.day_of_week == row["date"].day_of_week)
        & (one["reel"] > 0)
    ].tail(8)
    assert naive.loc[row.name] == round(past["reel"].mean())


def test_enrolment_ratio_baseline(split):
    train, test = split
    ratios = bl.fit_enrolment_ratio(train)
    pred = bl.enrolment_ratio(test, ratios)
    ok = train[train["reel"] > 0]
    weeks = ok["date"].dt.isocalendar().week
    checked = {"week": 0, "fallback": 0}
    for index, row in test.iloc[::7].iterrows():
        mine = ok[ok["series"] == row["series"]]
        obs = mine[weeks[mine.index] == row["date"].isocalendar().week]
        if len(obs):
            expected = (obs["reel"] / obs["effectif"]).mean() * row["effectif"]
            checked["week"] += 1
        else:  # a week never seen in training falls back to the canteen's mean ratio
            expected = (mine["reel"] / mine["effectif"]).mean() * row["effectif"]
            checked["fallback"] += 1
        assert pred.loc[index] == round(expected)
    assert checked["week"] > 10
    assert bl.enrolment_ratio(test.drop(columns="effectif"), ratios) is None
    assert bl.agents_forecast(test.drop(columns="prevision")) is None


def test_scores_by_hand():
    frame = pd.DataFrame(
        {
            "series": ["a", "b", "a", "b"],
            "site_nom": ["A", "B", "A", "B"],
            "date": pd.to_datetime(["2018-09-03"] * 2 + ["2018-09-04"] * 2),
            "reel": [100.0, 50.0, 100.0, 0.0],
        }
    )
    fc = {"m": pd.Series([110.0, 45.0, 90.0, 10.0]), "ag": pd.Series([120.0, 60.0, 100.0, 5.0])}
    s = score_forecasts(frame, fc, agents="ag")
    # the closed day (reel = 0) is left out of every score
    assert s["m"]["n_rows"] == 3
    assert s["m"]["over_production_pct"] == pytest.approx(10 / 250 * 100)
    assert s["m"]["short_days"] == 2
    assert s["m"]["coverage_pct"] == pytest.approx(100 / 3)  # enough on 1 of the 3 rows
    assert s["m"]["short_days_network"] == 1  # day 2: 90 < 100
    assert s["m"]["meals_saved_vs_agents"] == pytest.approx(280 - 245)
    assert s["m"]["waste_avoided_vs_agents"] == pytest.approx(30 - 10)


# ------------------------------------------------------------------------------ user files


def test_load_user_file_with_french_layout(tmp_path):
    text = (
        "Date du repas;Cantine;Type;Repas servis;Prévu\n"
        "04/09/2018;École Jules Verne;E;120;130\n"
        "03/09/2018;École Jules Verne;E;NA;128\n"
        "03/09/2018;Ecole Zola;M;n/d;80\n"
    )
    # enough earlier service days for the model (data.MIN_DAYS), same layout
    days = pd.bdate_range("2017-09-04", periods=ca.data.MIN_DAYS)
    text += "".join(f"{d:%d/%m/%Y};Ecole Zola;M;75;80\n" for d in days)
    path = tmp_path / "cantines.csv"
    path.write_bytes(text.encode("cp1252"))
    frame = ca.load(
        path,
        column_map={"Date du repas": "date", "Cantine": "site_nom", "Repas servis": "reel"},
    )
    assert frame["series"].nunique() == 2
    assert frame["date"].max() == pd.Timestamp("2018-09-04")
    assert frame["reel"].isna().sum() == 2
    assert "prevision" in frame.columns


def test_load_reports_every_problem_in_french(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "site_nom,date,reel\nA,2018-09-03,-5\nA,pas une date,10\nB,2018-09-03,douze\n",
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError) as info:
        ca.load(path)
    problems = info.value.report.all_problems
    assert {p.row for p in problems} >= {1, 2, 3}
    assert "Repas servis" in str(info.value)


def test_load_without_actual_column_is_a_french_error(tmp_path):
    path = tmp_path / "nocol.csv"
    path.write_text("site_nom,date,repas\nA,2018-09-03,5\n", encoding="utf-8")
    with pytest.raises(DataReadError, match="column_map"):
        ca.load(path)


def test_fit_needs_history(data):
    tiny = data[data["date"] < data["date"].min() + pd.Timedelta(days=20)]
    with pytest.raises(DataValidationError, match="historique"):
        ca.fit(tiny, quick=True)


# ------------------------------------------------------------------------- reference model


def test_reference_round_trip(tmp_path, model, data):
    from models.canteen_attendance.reference import load_reference, model_metadata
    from models.persist import save_model

    path = tmp_path / "m.skops"
    save_model(model.median, path, metadata=model_metadata(model, "test"))
    loaded = load_reference(path)
    pd.testing.assert_series_equal(ca.predict(loaded, data), ca.predict(model, data))
    pd.testing.assert_series_equal(ca.predict(loaded, data, 0.9), ca.predict(model, data, 0.9))
    assert loaded.safety == model.safety and loaded.curve == model.curve


def test_committed_reference_model_loads_and_predicts(data):
    loaded = ca.load_reference()
    assert loaded.horizon_days == ca.DEFAULT_HORIZON
    pred = ca.predict(loaded, data)
    assert np.isfinite(pred[data["date"] > "2017-01-01"]).mean() > 0.95


# ------------------------------------------------------------------- speed-ups stay exact


def test_features_computed_once_on_all_data_give_the_same_model(data, split):
    """fit(feats=features(data)) uses the rows of train only, and equals fitting on train."""
    train, test = split
    feats = ca.features(data, 14)
    alone = ca.fit(train, quick=True)
    shared = ca.fit(train, quick=True, feats=feats)
    pd.testing.assert_series_equal(
        ca.predict(alone, data, index=test.index),
        ca.predict(shared, data, feats=feats, index=test.index),
    )
    # the test rows alone are forecast, identically to a forecast of every row
    assert ca.predict(shared, data, feats=feats, index=test.index).index.equals(test.index)
    pd.testing.assert_series_equal(
        ca.predict(shared, data, feats=feats, index=test.index),
        ca.predict(shared, data).loc[test.index],
    )
    with pytest.raises(ValueError, match="horizon_days"):
        ca.fit(train, quick=True, horizon_days=21, feats=feats)


def test_per_canteen_scores_match_the_shared_metrics(model, data, split):
    from models import metrics as m

    train, test = split
    forecasts = ca.forecast_table(model, data, train, test)
    table = ca.per_canteen(test, forecasts)
    assert len(table) == test["series"].nunique() * len(forecasts)
    mask = common_mask(test, forecasts)
    rows = test[mask]
    for _, rec in table.sample(6, random_state=0).iterrows():
        part = rows[rows["series"] == rec["series"]]
        p = forecasts[rec["forecast"]].loc[part.index]
        assert rec["mae"] == pytest.approx(m.mae(part["reel"], p))
        assert rec["mape"] == pytest.approx(m.mape(part["reel"], p))
        assert rec["over_production_pct"] == pytest.approx(m.over_production_pct(part["reel"], p))
        assert rec["short_days"] == m.short_days(part["reel"], p)
        assert rec["n_days"] == len(part) and rec["site_nom"] == part["site_nom"].iloc[0]


def test_quality_counts_missing_service_days_but_not_vacations(data):
    one = data[data["series"] == data["series"].iloc[0]]
    one = one[(one["date"] >= "2017-09-04") & (one["date"] <= "2017-11-30")]
    dropped = one[one["date"].isin(pd.to_datetime(["2017-10-05", "2017-10-06"]))].index
    report = ca.quality(one.drop(index=dropped))
    assert report.summary["gaps"]["missing"] == 2  # Toussaint vacation days are not gaps
    assert ca.quality(one).summary["gaps"]["missing"] == 0


def test_load_with_report_reads_once_and_reports(tmp_path):
    frame, report = ca.load_with_report(None)
    assert report.ok and report.rows == frame.attrs["rows_read"]
    pd.testing.assert_frame_equal(frame, ca.load(None))


def test_outputs_are_the_tables_written_beside_metrics(model, data, split):
    train, test = split
    forecasts = ca.forecast_table(model, data, train, test)
    median = ca.predict(model, data, 0.5, index=test.index)
    tables = ca.outputs(test, forecasts, median, ca.per_canteen(test, forecasts))
    assert list(tables) == ["predictions.csv", "par_cantine.csv"]
    predictions = tables["predictions.csv"]
    assert len(predictions) == len(test)
    assert {"date", "site_id", "reel", "modele_mediane", *forecasts} <= set(predictions.columns)
    assert predictions["date"].is_monotonic_increasing
    assert list(ca.outputs(test, forecasts)) == ["predictions.csv"]


def test_build_reference_writes_under_output_root_and_refuses_untrusted_types(tmp_path):
    from models.errors import UntrustedModelError
    from models.persist import load_model

    result = ca.build_reference(quick=True, output_root=tmp_path)
    assert result["artifact"] == tmp_path / "models" / "artifacts" / "canteen_attendance.skops"
    card = result["card"].read_text(encoding="utf-8")
    assert card.startswith("# Fiche modèle") and "models/canteen_attendance/sample.py" in card
    assert result["metrics"]["parameters"]["quick"] is True
    loaded = ca.load_reference(result["artifact"])
    coverage = result["metrics"]["coverage"]
    assert loaded.level == pytest.approx(coverage["level_pct"] / 100) and loaded.features
    assert loaded.safety.short_days_per_month == ca.DEFAULT_SHORT_DAYS_PER_MONTH
    assert "Couverture visée (nominale)" in card and "Couverture mesurée" in card
    with pytest.raises(UntrustedModelError):
        load_model(result["artifact"], trusted=())
