"""Tests of models.calendar on dates whose French calendar is known."""

import time

import pandas as pd
import pytest

from models.calendar import add_calendar, french_calendar
from models.errors import BiblioError


def test_public_holidays_and_bridge_days_may_2018():
    cal = french_calendar(pd.date_range("2018-05-07", "2018-05-14"), zone="B")
    holidays = cal.index[cal["is_public_holiday"]].strftime("%m-%d").tolist()
    assert holidays == ["05-08", "05-10"]
    assert cal.loc["2018-05-10", "public_holiday_name"] == "Ascension"
    bridges = cal.index[cal["is_bridge_day"]].strftime("%m-%d").tolist()
    # Monday before Tuesday 8 May, Wednesday between two holidays, Friday after Ascension.
    assert bridges == ["05-07", "05-09", "05-11"]


def test_no_bridge_on_ordinary_weeks():
    cal = french_calendar(pd.date_range("2018-03-05", "2018-03-18"))
    assert not cal["is_bridge_day"].any()
    assert not cal["is_public_holiday"].any()


def test_toussaint_2018_zone_b():
    cal = french_calendar(pd.date_range("2018-10-15", "2018-11-06"), zone="B")
    assert not cal.loc["2018-10-19", "is_school_vacation"]
    assert cal.loc["2018-10-20", "is_school_vacation"]
    assert cal.loc["2018-11-04", "is_school_vacation"]
    assert not cal.loc["2018-11-05", "is_school_vacation"]
    assert cal.loc["2018-10-20", "vacation_name"] == "Vacances de la Toussaint"
    assert cal.loc["2018-10-15", "days_to_next_vacation"] == 5
    assert cal.loc["2018-11-06", "days_since_vacation"] == 2
    assert cal.loc["2018-10-19", "is_last_school_day"]
    assert cal.loc["2018-10-15", "school_days_to_vacation"] == 5
    assert cal.loc["2018-10-19", "weekday_name"] == "vendredi"


def test_zones_differ_in_winter():
    dates = pd.date_range("2019-02-09", "2019-03-10")
    weeks = {z: int(french_calendar(dates, zone=z)["is_school_vacation"].sum()) for z in "ABC"}
    assert all(v > 0 for v in weeks.values())
    starts = {
        z: french_calendar(dates, zone=z).query("is_school_vacation").index.min() for z in "ABC"
    }
    assert len(set(starts.values())) == 3  # the three zones start on different days


def test_one_row_per_distinct_date_sorted():
    dates = ["2020-01-03 10:00", "01/01/2020", "2020-01-03"]
    cal = french_calendar(dates)
    assert cal.index.tolist() == [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-03")]
    assert cal.loc["2020-01-01", "is_public_holiday"]


def test_add_calendar_keeps_rows_and_order():
    df = pd.DataFrame(
        {"date": pd.to_datetime(["2018-05-10", "2018-05-09", "2018-05-10"]), "v": [1, 2, 3]}
    )
    out = add_calendar(df, columns=["is_public_holiday", "weekday"], prefix="cal_")
    assert out["v"].tolist() == [1, 2, 3]
    assert out["cal_is_public_holiday"].tolist() == [True, False, True]
    assert out["cal_weekday"].tolist() == [3, 2, 3]


def test_unknown_zone_is_a_french_error():
    with pytest.raises(BiblioError, match="Zone"):
        french_calendar(["2020-01-01"], zone="Z")
    assert len(french_calendar(["2020-01-01"], zone="zone b")) == 1


def test_fast_on_3000_dates():
    dates = pd.date_range("2011-01-03", periods=3000, freq="D")
    french_calendar(dates)  # first call fills the cache
    start = time.perf_counter()
    for _ in range(10):
        cal = french_calendar(dates)
    assert (time.perf_counter() - start) / 10 < 0.05
    assert len(cal) == 3000


def test_outside_known_vacation_years():
    cal = french_calendar(pd.date_range("2040-01-01", "2040-01-10"))
    assert not cal["vacation_known"].any()
    assert cal["days_to_next_vacation"].isna().all()
    assert cal.loc["2040-01-01", "is_public_holiday"]
