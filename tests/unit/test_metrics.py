"""Tests of models.metrics against values computed by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from models.metrics import (
    comparison_table,
    mae,
    mape,
    network_totals,
    over_production_pct,
    point_metrics,
    rmse,
    short_days,
    threshold_scores,
    zero_actuals,
)

TRUE = [100, 80, 0, 50]
PRED = [110, 70, 5, 50]


def test_errors_by_hand():
    assert mae(TRUE, PRED) == pytest.approx((10 + 10 + 5 + 0) / 4)
    assert rmse(TRUE, PRED) == pytest.approx(math.sqrt((100 + 100 + 25 + 0) / 4))


def test_mape_ignores_zero_actuals_and_counts_them():
    assert mape(TRUE, PRED) == pytest.approx((10 / 100 + 10 / 80 + 0) / 3 * 100)
    assert zero_actuals(TRUE, PRED) == 1
    assert math.isnan(mape([0, 0], [1, 2]))


def test_over_production_and_short_days():
    # excess: 10 (row 1) + 5 (row 3) over 230 actual meals
    assert over_production_pct(TRUE, PRED) == pytest.approx(15 / 230 * 100)
    assert short_days(TRUE, PRED) == 1
    assert short_days([1, 2], [1, 2]) == 0


def test_missing_pairs_are_dropped():
    assert mae([1, np.nan, 3], [2, 5, np.nan]) == 1.0
    assert math.isnan(mae([np.nan], [1]))


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        mae([1, 2], [1])


def test_per_group_and_network_level():
    groups = ["a", "a", "b", "b"]
    per_site = short_days([10, 10, 5, 5], [9, 11, 4, 4], groups=groups)
    assert per_site.to_dict() == {"a": 1, "b": 2}
    assert mae([10, 10, 5, 5], [9, 11, 4, 4], groups=groups).to_dict() == {"a": 1.0, "b": 1.0}
    days = ["d1", "d2", "d1", "d2"]
    totals = network_totals([10, 10, 5, 5], [9, 11, 4, 4], by=days)
    assert totals.loc["d1"].tolist() == [15, 13]
    assert totals.loc["d2"].tolist() == [15, 15]
    assert short_days(totals["y_true"], totals["y_pred"]) == 1


def test_point_metrics_dict_and_per_group():
    result = point_metrics(TRUE, PRED)
    assert result["n"] == 4 and result["short_days"] == 1
    assert result["mape_ignored_zeros"] == 1
    table = point_metrics([1, 2, 3, 4], [1, 2, 5, 4], groups=["x", "x", "y", "y"])
    assert table.loc["x", "mae"] == 0 and table.loc["y", "mae"] == 1


def test_threshold_scores_by_hand():
    truth = [1, 1, 1, 0, 0, 0, 0]
    alert = [1, 1, 0, 1, 0, 0, 0]
    s = threshold_scores(truth, alert)
    assert (s["tp"], s["fp"], s["fn"], s["tn"]) == (2, 1, 1, 3)
    assert s["precision"] == pytest.approx(2 / 3)
    assert s["recall"] == pytest.approx(2 / 3)
    assert s["f1"] == pytest.approx(2 / 3)
    assert s["csi"] == pytest.approx(2 / 4)
    assert s["far"] == pytest.approx(1 / 3)


def test_threshold_scores_zero_division():
    s = threshold_scores([0, 0, 0], [0, 0, 0])
    assert s["precision"] == s["recall"] == s["f1"] == s["csi"] == 0.0
    assert s["far"] == 0.0
    assert threshold_scores([0, 0], [0, 0], zero_division=1.0)["precision"] == 1.0
    s = threshold_scores(pd.Series([True, None, False]), [True, True, True])
    assert (s["tp"], s["fp"]) == (1, 1)


def test_comparison_table():
    table = comparison_table(
        {
            "modèle": {"mae": 1.234, "short_days": 3},
            "agents": {"metrics": {"mae": 2.0, "short_days": 2, "extra": 1}},
        }
    )
    assert table.index.tolist() == ["modèle", "agents"]
    assert table.loc["modèle", "MAE"] == 1.23
    assert table.loc["agents", "Jours de manque"] == 2
    assert math.isnan(table.loc["modèle", "extra"])
    raw = comparison_table({"m": {"mae": 1.0}}, french_labels=False, columns=["mae", "rmse"])
    assert list(raw.columns) == ["mae", "rmse"]
