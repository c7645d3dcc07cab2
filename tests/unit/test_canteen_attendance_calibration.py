"""Unit tests of the canteen safety margin: safety level in the kitchen's words, rolling-origin
backtests inside the training period, conformal quantile and level choice, per-canteen
spreads, trade-off table, and the rule that the judged period never moves the margin."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

import models.canteen_attendance as ca
from models.canteen_attendance.data import city_wide, prepare
from models.canteen_attendance.sample import generate
from models.errors import DataValidationError

M = sys.modules["models.canteen_attendance.model"]  # the package exports fit, not the module
F = sys.modules["models.canteen_attendance.features"]


@pytest.fixture(scope="module")
def raw():
    return generate(seed=11, n_sites=6, start="2016-09-01", end="2018-12-21")


@pytest.fixture(scope="module")
def data(raw):
    return prepare(raw)


@pytest.fixture(scope="module")
def split(data):
    return ca.split(data, test_start="2018-09-01", test_end="2018-12-21")


@pytest.fixture(scope="module")
def feats(data):
    return ca.features(data, 14)


@pytest.fixture(scope="module")
def model(split, feats):
    train, _ = split
    return ca.fit(train, quick=True, feats=feats)


# ---------------------------------------------------------------------- safety level


def test_safety_level_in_the_kitchens_words():
    level = M.SafetyLevel(2.5, 12.0, "cantine")
    assert level.miss_rate == pytest.approx(2.5 / 12)
    assert level.nominal_coverage == pytest.approx(1 - 2.5 / 12)
    text = level.text()
    assert text.startswith("au plus 2,5 jours de manque par mois et par cantine")
    assert "79,2 % des cantine-jours" in text
    city = M.SafetyLevel(0.5, 12.0, "reseau").text()
    assert city.startswith("au plus 0,5 jour de manque par mois pour l'ensemble de la ville")


@pytest.mark.parametrize("bad", [0.05, 7, -1, "beaucoup", None, float("nan")])
def test_safety_level_out_of_bounds_is_a_french_error(bad):
    with pytest.raises(ca.SafetyLevelError, match="entre 0.1 et 6"):
        M.check_short_days(bad)
    assert M.check_short_days("3") == 3.0  # a text number is accepted


def test_fit_refuses_a_level_out_of_bounds_before_any_training(split):
    train, _ = split
    with pytest.raises(ca.SafetyLevelError, match="jours_de_manque_par_mois"):
        ca.fit(train, quick=True, short_days_per_month=10)


def test_days_per_month_is_the_median_month_of_service():
    dates = pd.to_datetime(
        [f"2018-01-{d:02d}" for d in range(1, 13)]  # January: 12 days
        + [f"2018-02-{d:02d}" for d in range(1, 11)]  # February: 10 days
        + ["2018-03-01"]  # March: 1 day
    )
    frame = pd.DataFrame({"series": "a", "date": dates, "reel": 10.0})
    assert M.days_per_month(frame) == 10.0
    frame.loc[frame["date"] >= "2018-02-01", "reel"] = 0.0  # closed days do not count
    assert M.days_per_month(frame) == 12.0


def test_a_city_wide_file_takes_the_network_level(raw, data):
    city = city_wide(data)
    # the same as a file without canteen column
    pd.testing.assert_frame_equal(
        city[["date", "reel", "prevision"]],
        prepare(raw[["date", "reel", "prevision"]])[["date", "reel", "prevision"]],
    )
    train, _ = ca.split(city, test_start="2018-09-01")
    assert M.is_network(train) and not M.is_network(data)
    level = M.safety_level(train, 2.5, 0.5)
    assert level.scope == "reseau" and level.short_days_per_month == 0.5
    with pytest.raises(ca.SafetyLevelError, match="jours_de_manque_par_mois_reseau"):
        M.safety_level(train, 2.5, 0.01)


# ---------------------------------------------------------------- conformal machinery


def test_conformal_quantile_is_the_finite_sample_rank():
    scores = np.arange(1.0, 10.0)  # 1..9
    assert M.conformal_quantile(scores, 0.8) == 8.0  # rank ceil(10 × 0.8) = 8
    assert M.conformal_quantile(scores, 0.5) == 5.0
    assert M.conformal_quantile(scores, 0.95) == 9.0  # rank 10 > 9: the largest
    assert M.conformal_quantile(scores[::-1], 0.8) == 8.0  # order does not matter
    assert np.isnan(M.conformal_quantile(np.array([]), 0.8))


def _folds(shifts, n=20000, seed=0):
    rng = np.random.default_rng(seed)
    scores = np.concatenate([rng.normal(shift, 1, n) for shift in shifts])
    folds = np.repeat(np.arange(len(shifts)), n)
    return pd.Series(scores), pd.Series(folds)


def test_choose_level_keeps_the_nominal_level_when_folds_are_alike():
    scores, folds = _folds([0, 0, 0, 0])
    level, met = M.choose_level(M.NestedFolds.split(scores, folds), 0.2)
    assert met and 0.8 <= level <= 0.8 + 3 * M.LEVEL_STEP  # sampling noise: a step or two


def test_choose_level_rises_when_later_folds_drift_upwards():
    scores, folds = _folds([0, 0.3, 0.6, 0.9])  # attendance drifts above the past margins
    nested = M.NestedFolds.split(scores, folds)
    assert nested.miss_rate(0.8) > 0.25  # the nominal level would miss too often
    level, met = M.choose_level(nested, 0.2)
    assert met and level >= 0.9
    assert nested.miss_rate(level) <= 0.2
    assert nested.miss_rate(level - M.LEVEL_STEP) > 0.2  # the lowest level that meets it


def test_choose_level_never_goes_below_nominal_and_flags_an_unreachable_level():
    scores, folds = _folds([0, -1, -2, -3])  # later folds far below: a low level would do
    level, _ = M.choose_level(M.NestedFolds.split(scores, folds), 0.2)
    assert level == pytest.approx(0.8)
    scores, folds = _folds([0, 5, 10, 15])  # every later fold above everything before
    level, met = M.choose_level(M.NestedFolds.split(scores, folds), 0.2)
    assert not met and level == M.MAX_LEVEL


def test_series_scales_follow_each_canteen_and_shrink_small_ones():
    rng = np.random.default_rng(1)
    residuals = pd.DataFrame(
        {
            "series": ["calme"] * 2000 + ["agitee"] * 2000 + ["petite"] * 4,
            "residual": np.concatenate(
                [rng.normal(0, 0.02, 2000), rng.normal(0, 0.2, 2000), [0.5, -0.5, 0.5, -0.5]]
            ),
        }
    )
    scales, pooled = M.series_scales(residuals)
    assert scales["calme"] == pytest.approx(0.02 * 0.6745, rel=0.1)  # MAD of a normal
    assert scales["agitee"] == pytest.approx(0.2 * 0.6745, rel=0.1)
    # four residuals only: pulled most of the way towards the pooled spread
    assert abs(scales["petite"] - pooled) < abs(0.5 - pooled) / 4


# ---------------------------------------------------------------------- backtests


def test_backtests_stay_inside_training_and_forecast_unseen_folds(model, split, feats):
    train, _ = split
    X, ratio = M.training_rows(train, 14, feats)
    dates = train.loc[X.index, "date"]
    origins = M.fold_origins(dates, M.QUICK_BACKTEST_FOLDS)
    assert origins[-1] + pd.DateOffset(months=M.FOLD_MONTHS) == dates.max() + pd.Timedelta(days=1)
    table, leaf, errors = M.backtest_residuals(
        X[model.features], ratio, dates, train.loc[X.index, "series"], leaves=(40,),
        n_folds=M.QUICK_BACKTEST_FOLDS, quick=True,
    )  # fmt: skip
    assert leaf == 40 and set(errors) == {40}
    assert table["date"].max() <= dates.max()
    for fold, origin in enumerate(origins):
        rows = table[table["fold"] == fold]
        assert rows["date"].min() >= origin
        assert rows["date"].max() < origin + pd.DateOffset(months=M.FOLD_MONTHS)
    # what the model keeps of them
    info = model.backtest
    assert info["rows"] == len(table) and info["folds"] == M.QUICK_BACKTEST_FOLDS
    assert info["end"] <= model.trained_until


def test_a_fold_model_never_sees_its_fold(split, feats):
    """Changing the actual attendance inside the last fold changes its residuals only by
    the change itself: the forecasts of that fold come from a model fitted before it."""
    train, _ = split
    X, ratio = M.training_rows(train, 14, feats)
    dates, series = train.loc[X.index, "date"], train.loc[X.index, "series"]
    origin = M.fold_origins(dates, 2)[-1]
    args = {"leaves": (40,), "n_folds": 2, "quick": True}
    before, *_ = M.backtest_residuals(X, ratio, dates, series, **args)
    changed = ratio.where(dates < origin, ratio * 1.5)
    after, *_ = M.backtest_residuals(X, changed, dates, series, **args)
    last = before["fold"] == 1
    np.testing.assert_allclose(
        after.loc[last, "residual"], before.loc[last, "residual"] + np.log(1.5)
    )
    pd.testing.assert_series_equal(after.loc[~last, "residual"], before.loc[~last, "residual"])


def test_the_judged_period_never_moves_the_level_or_the_margins(data, split, model):
    """Changing every actual and agents' value of the test period (and the features computed
    on the whole file) leaves the chosen level, the margins and the spreads unchanged."""
    _, test = split
    changed = data.copy()
    later = changed.index.isin(test.index)
    changed.loc[later, "reel"] = changed.loc[later, "reel"] * 2 + 30
    changed.loc[later, "prevision"] = changed.loc[later, "prevision"] * 0.5
    feats = ca.features(changed, 14)
    train, test_changed = ca.split(changed, test_start="2018-09-01", test_end="2018-12-21")
    other = ca.fit(train, quick=True, feats=feats)
    assert other.level == model.level and other.margin == model.margin
    assert other.margins == model.margins and other.scales == model.scales
    assert other.curve == model.curve and other.backtest == model.backtest
    # the change is real: the forecasts of the test period do move
    ours = ca.predict(model, data, index=test.index)
    theirs = ca.predict(other, changed, feats=feats, index=test_changed.index)
    assert not ours.equals(theirs)


def test_too_short_a_history_to_calibrate_is_a_french_error(data):
    one = data[(data["series"] == data["series"].iloc[0]) & (data["date"] < "2017-03-01")]
    with pytest.raises(DataValidationError, match="Historique trop court pour calibrer"):
        ca.fit(one, quick=True)


# -------------------------------------------------------------- coverage and curve


def test_coverage_is_reported_beside_the_nominal_one(model, data, split, feats):
    train, test = split
    forecasts = ca.forecast_table(model, data, train, test, feats=feats)
    scores = ca.evaluate(model, data, train, test, forecasts=forecasts)
    payload = ca.metrics_payload({"rows": len(data)}, test, scores, {"quick": True}, model)
    cover = payload["coverage"]
    mine = scores[ca.MODEL_NAME]
    assert cover["nominal_pct"] == pytest.approx(model.safety.nominal_coverage * 100)
    assert cover["empirical_pct"] == pytest.approx(100 * (1 - mine["short_days"] / mine["n_rows"]))
    assert payload["model"]["metrics"]["coverage_nominal_pct"] == cover["nominal_pct"]
    assert abs(cover["gap_points"]) < 10  # generated data: the promise holds within 10 points
    assert payload["calibration"]["folds"] == M.QUICK_BACKTEST_FOLDS
    assert "Couverture visée" in ca.coverage_text(model, scores)
    assert "au plus 2,5 jours de manque par mois" in ca.calibration_text(model)


def test_tradeoff_table_moves_monotonically_with_the_safety_level(model, data, split, feats):
    _, test = split
    table = ca.safety_tradeoff(model, data, test, feats=feats)
    assert table["jours_de_manque_par_mois"].is_monotonic_increasing
    assert table["couverture_visee_pct"].is_monotonic_decreasing
    assert table["surproduction_essais_pct"].is_monotonic_decreasing
    assert table["surproduction_test_pct"].is_monotonic_decreasing
    assert table["jours_de_manque_test"].is_monotonic_increasing
    chosen = table[table["retenu"]]
    assert len(chosen) == 1 and chosen["jours_de_manque_par_mois"].iloc[0] == 2.5
    assert chosen["niveau_conforme_pct"].iloc[0] == pytest.approx(model.level * 100)
    # the retained row on the test period is the model's own forecast
    pred = ca.predict(model, data, feats=feats, index=test.index)
    ok = test["reel"] > 0
    assert chosen["jours_de_manque_test"].iloc[0] == (pred[ok] < test.loc[ok, "reel"]).sum()
    assert list(ca.safety_tradeoff(model).columns[:3]) == [
        "jours_de_manque_par_mois",
        "couverture_visee_pct",
        "niveau_conforme_pct",
    ]


def test_predict_at_other_levels(model, data, split, feats):
    _, test = split
    levels = M.predict_levels(model, data, [None, 0.5, 0.9], feats=feats, index=test.index)
    pd.testing.assert_series_equal(
        levels[0.5], ca.predict(model, data, 0.5, feats=feats, index=test.index)
    )
    pd.testing.assert_series_equal(
        levels[None], ca.predict(model, data, feats=feats, index=test.index)
    )
    ok = test["reel"] > 0
    assert (levels[0.9][ok] >= levels[0.5][ok]).all()
    with pytest.raises(ValueError, match="no margin for quantile 0.42"):
        ca.predict(model, data, 0.42, index=test.index)


# -------------------------------------------------------------------------- features


def test_strike_days_do_not_drag_the_history_level():
    dates = pd.bdate_range("2018-01-08", periods=60)
    dates = dates[dates.day_of_week != 2]
    frame = pd.DataFrame({"series": "a", "site_type": "E", "date": dates, "reel": 100.0})
    strike = frame.copy()
    strike.loc[20, "reel"] = 20.0  # a strike: a fifth of the usual attendance
    assert F.low_days(F.observed(strike)).sum() == 1
    plain, struck = F.make_features(frame, 14), F.make_features(strike, 14)
    pd.testing.assert_series_equal(plain["base"], struck["base"])
    assert (struck["base"].dropna() == 100).all()


def test_agents_forecast_is_a_feature_only_when_asked(split, feats, model):
    train, _ = split
    assert F.AGENTS_FEATURE in model.features and model.backtest["uses_agents"]
    without = ca.fit(train, quick=True, feats=feats, use_agents=False)
    assert F.AGENTS_FEATURE not in without.features and not without.backtest["uses_agents"]


def test_fits_side_by_side_give_the_same_backtests_as_one_after_the_other(
    split, feats, monkeypatch
):
    """``FIT_THREADS`` changes the time only: the residual table, the leaf and the errors are
    those of the fits made one after the other (two leaves, so both phases run in threads)."""
    train, _ = split
    X, ratio = M.training_rows(train, 14, feats)
    dates, series = train.loc[X.index, "date"], train.loc[X.index, "series"]
    args = {"leaves": (40, 10), "n_folds": 3, "quick": True}
    monkeypatch.setattr(M, "FIT_THREADS", 1)
    alone = M.backtest_residuals(X, ratio, dates, series, **args)
    monkeypatch.setattr(M, "FIT_THREADS", 2)
    calls = []
    real = M.in_parallel
    monkeypatch.setattr(M, "in_parallel", lambda *a: calls.append(a[2]) or real(*a))
    together = M.backtest_residuals(X, ratio, dates, series, **args)
    assert calls == [2, 2]
    pd.testing.assert_frame_equal(together[0], alone[0])
    assert together[1:] == alone[1:]
    # a large training frame runs its fits one after the other (memory)
    monkeypatch.setattr(M, "PARALLEL_MAX_ROWS", len(X) - 1)
    calls.clear()
    M.backtest_residuals(X, ratio, dates, series, **args)
    assert calls == [1, 1]


def test_in_parallel_keeps_the_order_of_its_calls():
    assert M.in_parallel(pow, [(2, k) for k in range(9)], 2) == [2**k for k in range(9)]
