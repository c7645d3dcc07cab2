"""Tests of models.quality on small series with known defects, and on the real canteen file."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.calendar import french_calendar
from models.errors import BiblioError
from models.io import read_table
from models.quality import explain, fmt_fr, grade, measure, overall_grade, quality_report

REALDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"


def clean_frame(days=120, sites=("a", "b"), seed=0):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-04", periods=days, freq="D")
    parts = [
        pd.DataFrame({"site": s, "date": dates, "meals": rng.normal(100, 5, days).round()})
        for s in sites
    ]
    return pd.concat(parts, ignore_index=True)


def test_clean_data_gets_a():
    report = quality_report(
        clean_frame(), date_column="date", value_columns=["meals"], series_column="site"
    )
    assert report.grade == "A", report.reasons
    assert report.rows == 240
    assert report.period == ("2021-01-04", "2021-05-03")
    assert report.summary["n_series"] == 2
    assert report.summary["gaps"]["missing"] == 0
    assert report.summary["duplicates"]["count"] == 0


def test_duplicates_gaps_zeros_outliers_are_counted():
    df = clean_frame()
    df = pd.concat([df, df.iloc[[0, 1, 2]]], ignore_index=True)  # 3 duplicates
    df = df.drop(index=range(10, 30))  # 20 missing days for site a
    df.loc[40, "meals"] = 0
    df.loc[41, "meals"] = 1000  # an outlier
    df.loc[42, "meals"] = np.nan
    report = quality_report(df, date_column="date", value_columns=["meals"], series_column="site")
    s = report.summary
    assert s["duplicates"]["count"] == 3
    assert s["gaps"]["missing"] == 20 and s["gaps"]["longest"] == 20
    assert s["gaps"]["worst_series"] == {"a": 20}
    assert s["zeros"]["meals"]["count"] == 1
    assert s["outliers"]["meals"]["count"] == 2  # the 0 and the 1000
    assert bool(report.outlier_mask.loc[41]) and not report.outlier_mask.loc[43]
    assert s["completeness"]["meals"] < 100
    assert report.grade in "CDE"
    assert any("dates attendues manquantes" in r for r in report.reasons)
    assert any("doublons" in r for r in report.reasons)
    assert report.reasons[0].startswith(f"Note {report.grade}")


def test_expected_weekdays_and_excluded_dates():
    df = clean_frame(days=28, sites=("a",))
    no_wednesday = df[df["date"].dt.day_of_week != 2]
    plain = quality_report(no_wednesday, date_column="date", value_columns=["meals"])
    assert plain.summary["gaps"]["missing"] == 4
    told = quality_report(
        no_wednesday,
        date_column="date",
        value_columns=["meals"],
        expected_weekdays=[0, 1, 3, 4, 5, 6],
    )
    assert told.summary["gaps"]["missing"] == 0
    holidays = no_wednesday[no_wednesday["date"] != "2021-01-05"]
    excluded = quality_report(
        holidays,
        date_column="date",
        value_columns=["meals"],
        expected_weekdays=[0, 1, 3, 4, 5, 6],
        exclude_dates=["2021-01-05"],
    )
    assert excluded.summary["gaps"]["missing"] == 0
    custom = quality_report(
        holidays,
        date_column="date",
        value_columns=["meals"],
        expected=lambda idx: (idx.day_of_week != 2) & (idx.day != 5),
    )
    assert custom.summary["gaps"]["missing"] == 0


def test_hourly_frequency():
    ts = pd.date_range("2021-01-01", periods=48, freq="h")
    df = pd.DataFrame({"ts": ts.delete([5, 6]), "count": 1.0})
    report = quality_report(df, date_column="ts", value_columns=["count"], freq="h")
    assert report.summary["gaps"]["missing"] == 2
    assert report.period == ("2021-01-01", "2021-01-02 23:00")


def test_zeros_expected_does_not_lower_grade():
    df = clean_frame(days=100, sites=("a",))
    df.loc[df.index[::3], "meals"] = 0
    strict = quality_report(df, date_column="date", value_columns=["meals"])
    relaxed = quality_report(df, date_column="date", value_columns=["meals"], zeros_expected=True)
    assert strict.summary["zeros"]["meals"]["pct"] > 30
    assert strict.summary["criteria"]["zeros"] > "A"
    assert relaxed.summary["criteria"]["zeros"] == "A"


def test_too_few_rows_is_e():
    df = clean_frame(days=10, sites=("a",))
    report = quality_report(df, date_column="date", value_columns=["meals"])
    assert report.grade == "E"
    assert any("Trop peu de lignes" in r for r in report.reasons)


def test_outputs_are_french_and_serialisable():
    report = quality_report(
        clean_frame(), date_column="date", value_columns=["meals"], series_column="site"
    )
    data = report.to_dict()
    assert set(data) == {"rows", "period", "grade", "reasons", "summary"}
    json.dumps(data, allow_nan=False)
    md = report.to_markdown()
    assert "| Indicateur | Valeur |" in md
    assert "Période couverte | du 2021-01-04 au 2021-05-03" in md
    assert "**Note de qualité : A**" in md
    assert report._repr_markdown_() == md


def test_missing_column_is_a_french_error():
    with pytest.raises(BiblioError, match="« meals »"):
        quality_report(pd.DataFrame({"date": []}), date_column="date", value_columns=["meals"])


def test_fmt_fr():
    assert fmt_fr(12345.678) == "12\u202f345,7"
    assert fmt_fr(1234, 0) == "1\u202f234"
    assert fmt_fr(float("nan")) == "—"


@pytest.mark.realdata
def test_real_canteen_quality():
    path = REALDATA / "canteen" / "frequentation.csv"
    if not path.is_file():
        pytest.skip("real data absent")
    df = read_table(path, date_columns=["date"])
    cal = french_calendar(pd.date_range(df["date"].min(), df["date"].max()))
    closed = cal.index[cal["is_school_vacation"] | cal["is_public_holiday"]]
    naive = quality_report(
        df, date_column="date", value_columns=["reel"], series_column=["site_nom", "site_type"]
    )
    told = quality_report(
        df,
        date_column="date",
        value_columns=["reel"],
        series_column=["site_nom", "site_type"],
        expected_weekdays=[0, 1, 3, 4],
        exclude_dates=closed,
    )
    assert told.summary["gaps"]["missing"] < naive.summary["gaps"]["missing"] / 3
    assert told.summary["duplicates"]["count"] == 0
    assert 95 < told.summary["completeness"]["reel"] < 97
    assert told.period == ("2011-01-03", "2018-12-21")
    assert told.grade in "BCD"


def test_report_is_measure_then_grade_then_explain():
    df = clean_frame(days=40, sites=("a",))
    df = pd.concat([df, df.iloc[:6]], ignore_index=True)  # 6 duplicated days
    df = df.drop(index=range(10, 14))  # a four-day gap
    options = {"date_column": "date", "value_columns": ["meals"], "series_column": "site"}
    measures = measure(df, **options)
    assert measures.duplicates["count"] == 6 and measures.gaps["missing"] == 4
    criteria = grade(measures)
    assert criteria["duplicates"] == "D" and criteria["gaps"] == "C"  # 6 of 42 rows, 4 of 40
    assert overall_grade(measures, criteria) == "D"
    reasons = explain(measures, criteria, "D")
    assert reasons[0].startswith("Note D")  # what the grade means, then the worst first
    assert "doublons" in reasons[1] and "dates attendues manquantes" in reasons[2]
    report = quality_report(df, **options)
    assert (report.grade, report.reasons) == ("D", reasons)
    assert report.summary == measures.to_summary(criteria)
    few = measure(df.head(12), **options)
    assert overall_grade(few, grade(few)) == "E"
    assert explain(few, grade(few), "E")[1].startswith("Trop peu de lignes (12)")  # E first
