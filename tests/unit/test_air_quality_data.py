"""Readers of the air_quality entry: hourly wide (hours 1..24, units row, n/d), the 75 %
completeness rule, long and daily wide layouts, French errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.air_quality.data import (
    MIN_HOURS,
    daily_from_hourly,
    pollutant_from_name,
    read_air_quality,
)
from models.errors import DataReadError


def hourly_wide_text(values: dict[str, list], days=("01/03/2017", "02/03/2017")) -> str:
    """Airparif-like export: ``date;heure;<stations>``, a units row, ``n/d`` for missing."""
    stations = list(values)
    lines = ["date;heure;" + ";".join(stations), ";;" + ";".join("microg/m3" for _ in stations)]
    for d, day in enumerate(days):
        for hour in range(1, 25):
            cells = [values[s][d * 24 + hour - 1] for s in stations]
            lines.append(f"{day};{hour};" + ";".join("n/d" if c is None else str(c) for c in cells))
    return "\n".join(lines) + "\n"


def test_hourly_wide_units_row_nd_and_hour_24_on_the_same_day(tmp_path):
    a = [10] * 23 + [100] + [20] * 24  # hour 24 of day 1 is the day's maximum
    b = [None] * 48  # a station never measured
    c = ["5,5"] * 48  # decimal comma
    path = tmp_path / "20170301_20170302-NO2_auto.csv"
    path.write_text(hourly_wide_text({"PA13": a, "VIDE": b, "AUT": c}), encoding="utf-8")
    daily = read_air_quality(path)
    assert daily.attrs["layout"] == "hourly_wide"
    pa13 = daily[daily["station"] == "PA13"].set_index("date")
    day1, day2 = pd.Timestamp("2017-03-01"), pd.Timestamp("2017-03-02")
    assert list(pa13.index) == [day1, day2]  # hour 24 did not create a 3rd day
    assert pa13.loc[day1, "NO2_max"] == 100
    assert pa13.loc[day1, "NO2"] == pytest.approx((23 * 10 + 100) / 24)
    assert pa13.loc[day2, "NO2_max"] == 20 and pa13.loc[day2, "NO2"] == 20
    vide = daily[daily["station"] == "VIDE"]
    assert vide["NO2"].isna().all() and vide["NO2_max"].isna().all()
    assert daily.loc[daily["station"] == "AUT", "NO2"].tolist() == [5.5, 5.5]
    assert daily["PM10"].isna().all()  # the pollutant came from the file name only


def test_hours_0_to_23_are_accepted(tmp_path):
    lines = ["date;heure;S1"] + [f"2019-07-01;{h};{h}" for h in range(24)]
    path = tmp_path / "o3.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    daily = read_air_quality(path, pollutant="O3")
    assert len(daily) == 1 and daily["O3_max"].iloc[0] == 23 and daily["O3"].iloc[0] == 11.5


@pytest.mark.parametrize("valid_hours, expect_value", [(MIN_HOURS, True), (MIN_HOURS - 1, False)])
def test_completeness_rule_75_percent(tmp_path, valid_hours, expect_value):
    values = [30] * valid_hours + [None] * (24 - valid_hours)
    path = tmp_path / "export_O3.csv"
    path.write_text(hourly_wide_text({"S1": values}, days=("15/07/2019",)), encoding="utf-8")
    daily = read_air_quality(path)
    assert len(daily) == 1
    if expect_value:
        assert daily["O3"].iloc[0] == 30 and daily["O3_max"].iloc[0] == 30
    else:
        assert np.isnan(daily["O3"].iloc[0]) and np.isnan(daily["O3_max"].iloc[0])


def test_daily_from_hourly_counts_hours():
    hourly = pd.DataFrame(
        {
            "date": [pd.Timestamp("2020-01-01")] * 20 + [pd.Timestamp("2020-01-02")] * 10,
            "station": "S",
            "valeur": list(range(20)) + [1.0] * 10,
        }
    )
    daily = daily_from_hourly(hourly)
    assert daily["n_hours"].tolist() == [20, 10]
    assert daily["max"].iloc[0] == 19 and np.isnan(daily["mean"].iloc[1])


def test_hourly_wide_without_pollutant_is_a_french_error(tmp_path):
    path = tmp_path / "mesures.csv"
    path.write_text(hourly_wide_text({"S1": [1] * 48}), encoding="utf-8")
    with pytest.raises(DataReadError, match="polluant n'est pas indiqué"):
        read_air_quality(path)
    assert pollutant_from_name("20170301_20200511-NO2_auto.csv") == "NO2"
    assert pollutant_from_name("pm2.5_lille.csv") == "PM25"
    assert pollutant_from_name("mesures.csv") is None


def test_long_layout_daily_with_weather_codes(tmp_path):
    text = (
        "Date;Station;Polluant;Valeur\n"
        "01/02/2019;Lille Fives;PM10;41,5\n"
        "01/02/2019;Lille Fives;PM2.5;30\n"
        "01/02/2019;Lille Fives;TN;-2,5\n"
        "02/02/2019;Lille Fives;PM10;n/d\n"
        "01/02/2019;Roubaix;PM10;38\n"
    )
    path = tmp_path / "long.csv"
    path.write_text(text, encoding="cp1252")
    daily = read_air_quality(path)
    assert daily.attrs["layout"] == "long"
    fives = daily[daily["station"] == "Lille Fives"].set_index("date")
    assert fives.loc["2019-02-01", "PM10"] == 41.5 and fives.loc["2019-02-01", "PM25"] == 30
    assert fives.loc["2019-02-01", "TN"] == -2.5
    assert np.isnan(fives.loc["2019-02-02", "PM10"])
    assert set(daily["station"]) == {"Lille Fives", "Roubaix"}


def test_long_layout_hourly_applies_the_completeness_rule(tmp_path):
    rows = ["date,heure,station,polluant,valeur"]
    rows += [f"2019-06-01,{h},S1,O3,{100 + h}" for h in range(1, 25)]
    rows += [f"2019-06-02,{h},S1,O3,50" for h in range(1, 11)]  # 10 hours only
    path = tmp_path / "long_h.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    daily = read_air_quality(path).set_index("date")
    assert daily.loc["2019-06-01", "O3_max"] == 124
    assert daily.loc["2019-06-01", "O3"] == pytest.approx(112.5)
    assert np.isnan(daily.loc["2019-06-02", "O3"])


def test_daily_wide_stations_beside_suffixed_weather(tmp_path):
    text = (
        "date;PM10_Lille Fives;PM10_Roubaix;NO2_max_Roubaix;TN_LILLE-LESQUIN;RR_LILLE-LESQUIN\n"
        "2019-03-01;55;48;120;-1,2;0\n"
        "2019-03-02;35;n/d;90;2,0;3,4\n"
    )
    path = tmp_path / "wide.csv"
    path.write_text(text, encoding="utf-8")
    daily = read_air_quality(path)
    assert daily.attrs["layout"] == "daily_wide"
    roubaix = daily[daily["station"] == "Roubaix"].set_index("date")
    assert roubaix.loc["2019-03-01", "NO2_max"] == 120 and np.isnan(
        roubaix.loc["2019-03-02", "PM10"]
    )
    fives = daily[daily["station"] == "Lille Fives"].set_index("date")
    assert fives.loc["2019-03-01", "PM10"] == 55
    assert fives["TN"].tolist() == [-1.2, 2.0] and roubaix["RR"].tolist() == [0.0, 3.4]


def test_column_map_and_unknown_layout(tmp_path):
    path = tmp_path / "perso.csv"
    path.write_text("jour_mesure,site_mesure,particules\n2019-01-01,A,12\n", encoding="utf-8")
    with pytest.raises(DataReadError, match="Aucune colonne de date"):
        read_air_quality(path)
    other = tmp_path / "autre.csv"
    other.write_text("date,foo\n2019-01-01,3\n", encoding="utf-8")
    with pytest.raises(DataReadError, match="Disposition du fichier non reconnue"):
        read_air_quality(other)
    daily = read_air_quality(
        path, column_map={"jour_mesure": "date", "site_mesure": "station", "particules": "PM10"}
    )
    assert daily["PM10"].tolist() == [12.0] and daily["station"].tolist() == ["A"]


def test_hourly_wide_gives_end_of_day_columns(tmp_path):
    # day 1: 10 all day, evening 19h-24h = 40, 50, 60, 70, 80, 90 (hour 24 = last hour)
    day1 = [10] * 18 + [40, 50, 60, 70, 80, 90]
    day2 = [20] * 18 + [None, None, None, 5, None, None]  # evening too sparse, 1 last hour
    path = tmp_path / "export_NO2.csv"
    path.write_text(hourly_wide_text({"S1": day1 + day2}), encoding="utf-8")
    daily = read_air_quality(path).set_index("date")
    d1, d2 = pd.Timestamp("2017-03-01"), pd.Timestamp("2017-03-02")
    assert daily.loc[d1, "NO2_soir"] == pytest.approx(65.0)
    assert daily.loc[d1, "NO2_fin"] == pytest.approx(80.0)  # hours 22, 23, 24
    assert daily.loc[d1, "NO2_min"] == 10
    assert np.isnan(daily.loc[d2, "NO2_soir"]) and np.isnan(daily.loc[d2, "NO2_fin"])
    assert daily.loc[d2, "NO2_min"] == 5  # 19 valid hours of 24: the 75 % rule is met


def test_hours_0_to_23_end_of_day_window_is_shifted(tmp_path):
    lines = ["date;heure;S1"] + [f"2019-07-01;{h};{h}" for h in range(24)]
    path = tmp_path / "o3.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    daily = read_air_quality(path, pollutant="O3")
    assert daily["O3_fin"].iloc[0] == pytest.approx(22.0)  # hours 21, 22, 23
    assert daily["O3_soir"].iloc[0] == pytest.approx(20.5)  # hours 18..23


def test_long_hourly_layout_gives_end_of_day_columns(tmp_path):
    times = pd.date_range("2019-07-01 00:00", periods=24, freq="h")
    rows = ["date,station,polluant,valeur"]
    rows += [f"{t:%Y-%m-%d %H:%M},S1,O3,{t.hour * 2}" for t in times]
    path = tmp_path / "long.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    daily = read_air_quality(path)
    assert daily["O3_max"].iloc[0] == 46 and daily["O3_min"].iloc[0] == 0
    assert daily["O3_fin"].iloc[0] == pytest.approx(44.0)
