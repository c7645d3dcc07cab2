"""Readers of the bike_counters entry: hourly wide, daily long, locations, weather, labels."""

from pathlib import Path

import numpy as np
import pytest

from models import bike_counters as bc
from models.bike_counters.data import (
    read_counts,
    read_labels,
    read_locations,
    read_weather,
    to_hourly_matrix,
)
from models.errors import DataReadError, DataValidationError

REALDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata" / "bike_counters"
HOURS = ";".join(f"{h:02d}" for h in range(24))
HEADER = (
    f"Numéro de boucle;Libellé;Jour;{HOURS};Probabilité de présence d'anomalies;Jour de la semaine"
)


def _row(loop, day, values, flag="", weekday=1):
    cells = ";".join("" if v is None else str(v) for v in values)
    return f"{loop};Pont test;{day};{cells};{flag};{weekday}"


def _write(tmp_path, lines, name="c.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_hourly_reader_keeps_leading_zeros_and_missing_hours(tmp_path):
    values = list(range(24))
    values[5] = None
    path = _write(
        tmp_path,
        [
            HEADER,
            _row("0674", "2021-05-30", values, "Forte", 7),
            _row("0674", "2021-05-29", range(24)),
        ],
    )
    frame, layout = read_counts(path)
    assert layout == "hourly"
    assert set(frame["counter_id"]) == {"0674"}
    assert len(frame) == 48
    day = frame[frame["date"] == "2021-05-30"].set_index("hour")["count"]
    assert np.isnan(day[5]) and day[23] == 23
    days, matrix = to_hourly_matrix(frame)
    assert list(days["date"].dt.strftime("%Y-%m-%d")) == ["2021-05-29", "2021-05-30"]
    assert days["source_flag"].tolist() == ["", "Forte"]
    assert matrix.shape == (2, 24) and np.isnan(matrix[1, 5])


def test_hourly_reader_fills_absent_days_and_cp1252(tmp_path):
    lines = [
        HEADER.replace("Libellé", "Libellé"),
        _row("0701", "01/03/2022", range(24)),
        _row("0701", "03/03/2022", range(24)),
    ]
    path = _write(tmp_path, lines, encoding="cp1252")
    frame, _ = read_counts(path)
    days, matrix = to_hourly_matrix(frame)
    assert len(days) == 3  # the absent 2 March is added, all hours missing
    assert np.isnan(matrix[1]).all() and not np.isnan(matrix[0]).any()


def test_column_map_and_unknown_layout(tmp_path):
    path = _write(tmp_path, ["Compteur;Date;Passages", "0042;2022-01-01;12", "0042;2022-01-02;"])
    with pytest.raises(DataReadError, match="Colonnes indispensables"):
        read_counts(path)
    frame, layout = read_counts(path, {"Compteur": "Numéro de boucle"})
    assert layout == "daily"
    assert frame["counter_id"].tolist() == ["0042", "0042"]
    assert np.isnan(frame["count"].iloc[1])
    bad = _write(tmp_path, ["a;b", "1;2"], name="bad.csv")
    with pytest.raises(DataReadError, match="format du fichier de comptages"):
        read_counts(bad)


def test_daily_long_layout_with_published_labels(tmp_path):
    path = _write(
        tmp_path,
        [
            "Identifiant du compteur;Jour;Nom du compteur;Comptage relevé;Anomalie;"
            "Valeur modélisée",
            "0880;2020-01-02;Madeleine;0;1;812",
            "0880;2020-01-01;Madeleine;745;;",
        ],
    )
    frame, layout = read_counts(path)
    assert layout == "daily"
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == ["2020-01-01", "2020-01-02"]
    assert frame["label"].tolist() == [False, True]
    assert frame["modelled"].iloc[1] == 812


def test_locations_single_lat_lon_field(tmp_path):
    path = _write(
        tmp_path,
        [
            "Numéro;Libellé;Observations;Géolocalisation",
            "788;50 Otages;;47.2199566357,-1.55503537379",
            "977;3 Continents;en travaux;pas de coordonnées",
        ],
    )
    loc = read_locations(path)
    assert loc["counter_id"].tolist() == ["0788", "0977"]
    assert loc["lat"].iloc[0] == pytest.approx(47.2199566357)
    assert loc["lon"].iloc[0] == pytest.approx(-1.55503537379)
    assert np.isnan(loc["lat"].iloc[1])


def test_validation_reports_every_problem_in_french(tmp_path):
    values = list(range(24))
    values[3] = -4
    path = _write(
        tmp_path,
        [
            HEADER,
            _row("0701", "2022-02-30", range(24)),
            _row("0701", "2022-03-01", values, "Peut-être"),
        ],
    )
    report = bc.validate_file(path)
    assert not report.ok
    columns = {p.column for p in report.all_problems}
    assert {"Jour", "03", "Probabilité de présence d'anomalies"} <= columns
    with pytest.raises(DataValidationError) as err:
        bc.load(path)
    assert "ligne" in str(err.value).lower()


def test_sample_companions_are_readable():
    weather = read_weather(bc.COMPANIONS["weather"])
    assert {"rain_mm", "temperature_c"} <= set(weather.columns)
    labels = read_labels(bc.COMPANIONS["labels"])
    assert labels["counter_id"].str.fullmatch(r"0\d{3}").all()
    assert (labels["end"] > labels["start"]).all()


@pytest.mark.realdata
def test_real_nantes_files_are_read():
    counts = REALDATA / "Comptages_nantes_metropole_2020_2021.csv"
    places = REALDATA / "Lieux_comptages_velo_nantes_metropole.csv"
    if not counts.exists() or not places.exists():
        pytest.skip("../shared/realdata/bike_counters absent")
    report = bc.validate_file(counts)
    assert report.ok, report.to_text()
    frame = bc.load(counts)
    assert frame.attrs["layout"] == "hourly"
    assert "0674" in set(frame["counter_id"])
    assert frame["count"].isna().sum() >= 10_000
    loc = read_locations(places)
    assert loc["lat"].between(47, 47.5).mean() > 0.9
    assert set(loc["counter_id"]) & set(frame["counter_id"])


def test_quality_takes_the_loaded_frame_or_the_prepared_counts():
    frame = bc.load()
    report = bc.quality(frame)
    assert report.to_dict() == bc.quality(bc.prepare(frame)).to_dict()
    assert report.summary["n_series"] == frame["counter_id"].nunique()


DAILY_HEADER = "Identifiant du compteur;Jour;Nom du compteur;Comptage relevé"


def test_empty_ids_are_derived_from_the_counter_name(tmp_path):
    """A real export leaves the id empty on some rows but keeps the name: the id is derived
    (``models.acceptance.derive_key``) when the name maps to one id elsewhere in the file,
    the rows are kept and the French report says so."""
    lines = [DAILY_HEADER]
    for day in range(1, 29):
        lines += [f"0674;2021-03-{day:02d};Pont Sud;{300 + day}"]
        nord = "" if day % 4 == 0 else "0675"
        lines += [f"{nord};2021-03-{day:02d};Pont Nord;{200 + day}"]
    path = _write(tmp_path, lines)
    frame, report = bc.load_with_report(path)
    assert report.usable and report.refusal is None
    assert [d["rows"] for d in report.acceptance.derived] == [7]
    assert "vide sur 7 lignes : déduit de « Nom du compteur »" in report.to_text()
    nord = frame[frame["counter_id"] == "0675"]
    assert len(nord) == 28 and nord["count"].tolist() == [200 + d for d in range(1, 29)]
    data = bc.prepare(frame)
    assert sorted(data.days["counter_id"].unique()) == ["0674", "0675"]


def test_ids_are_not_guessed_across_names(tmp_path):
    """A name carried by two ids (or by no id at all) is not derivable: those rows are set
    aside, never given a guessed id."""
    lines = [DAILY_HEADER]
    for day in range(1, 29):
        lines += [f"0674;2021-03-{day:02d};Pont;300", f"0675;2021-03-{day:02d};Pont;200"]
    lines += [";2021-04-01;Pont;310", ";2021-04-01;Inconnu;12"]
    report = bc.validate_file(_write(tmp_path, lines))
    assert report.acceptance.derived == []
    assert report.refusal is None and report.acceptance.rows_kept == 56  # the two are set aside


def test_run_data_is_the_real_file_in_full_mode_and_the_sample_in_quick_mode(tmp_path):
    assert bc.run_data(None, quick=False) == bc.real_data_path()
    assert bc.real_data_path().name == "nantes_comptages_2020_2021.csv.gz"
    assert bc.run_data(None, quick=True) == bc.PATHS.sample
    mine = tmp_path / "mine.csv"
    assert bc.run_data(mine, quick=True) == mine
    weather, events = bc.companions(bc.PATHS.sample)
    assert weather is not None and events is not None
    assert bc.companions(bc.real_data_path()) == (None, None)
    places = bc.locations_for(bc.real_data_path())
    assert "0674" in set(places["counter_id"]) and places["lat"].between(47, 47.5).mean() > 0.9
    assert bc.locations_for(mine) is None
