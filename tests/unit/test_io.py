"""Tests of models.io: each quirk of real French open-data files, on small files we write."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.errors import DataReadError
from models.io import normalise_name, parse_dates, read_table, sniff_separator, wide_to_long

REALDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"


def write(tmp_path, text, encoding="utf-8", name="data.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_semicolon_and_decimal_comma(tmp_path):
    path = write(tmp_path, "site;valeur;taux\nA;12;3,5\nB;7;-0,25\n")
    df = read_table(path)
    assert df.attrs["separator"] == ";"
    assert df["taux"].tolist() == [3.5, -0.25]
    assert df["valeur"].dtype == "int64"
    assert df["valeur"].tolist() == [12, 7]


@pytest.mark.parametrize("sep", [",", "\t", ";", "|"])
def test_separator_sniffing(tmp_path, sep):
    rows = ["a", "b", "c"], ["1", "2", "x"], ["3", "4", "y"]
    path = write(tmp_path, "\n".join(sep.join(r) for r in rows) + "\n")
    df = read_table(path)
    assert list(df.columns) == ["a", "b", "c"]
    assert df.attrs["separator"] == sep
    assert df["b"].tolist() == [2, 4]


def test_semicolon_file_with_decimal_commas_is_not_taken_for_comma(tmp_path):
    text = "x;y\n" + "".join(f"{i},5;{i},25\n" for i in range(10))
    assert sniff_separator(text) == ";"
    df = read_table(write(tmp_path, text))
    assert df["x"].iloc[3] == 3.5


def test_comma_file_with_quoted_decimal_comma(tmp_path):
    df = read_table(write(tmp_path, 'nom,valeur\n"Dupont, Jean","1,5"\nMartin,2\n'))
    assert df["nom"].tolist() == ["Dupont, Jean", "Martin"]
    assert df["valeur"].tolist() == [1.5, 2.0]


def test_thousands_spaces_and_dot_thousands(tmp_path):
    df = read_table(write(tmp_path, "v;w\n1 234,5;1.234,5\n12\u00a0000;2\n"))
    assert df["v"].tolist() == [1234.5, 12000.0]
    assert df["w"].tolist() == [1234.5, 2.0]


def test_utf8_bom_header_is_clean(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffdate;nombre\n2020-01-02;5\n".encode())
    df = read_table(path, date_columns=["date"])
    assert df.attrs["encoding"] == "utf-8-sig"
    assert list(df.columns) == ["date", "nombre"]
    assert df["date"].iloc[0] == pd.Timestamp("2020-01-02")


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_legacy_encodings(tmp_path, encoding):
    path = write(tmp_path, "Libellé;Effectif\nÉcole Jean-Zay;12\nCollège Pasteur;7\n", encoding)
    df = read_table(path)
    assert list(df.columns) == ["Libellé", "Effectif"]
    assert df["Libellé"].tolist() == ["École Jean-Zay", "Collège Pasteur"]
    assert df.attrs["encoding"] in {"cp1252", "latin-1"}


def test_cp1252_only_characters(tmp_path):
    path = write(tmp_path, "menu;prix\nBœuf;3,5 €\n", "cp1252")
    df = read_table(path)
    assert df["menu"].iloc[0] == "Bœuf"
    assert df["prix"].iloc[0] == "3,5 €"


def test_missing_markers(tmp_path):
    text = "a;b\n1;NA\nn/d;2\n;N/D\n-;4\nnull;\n6; na \n"
    df = read_table(write(tmp_path, text))
    assert df["a"].isna().tolist() == [False, True, True, True, True, False]
    assert df["b"].isna().tolist() == [True, False, True, False, True, True]
    assert df["a"].dtype == "float64"


def test_extra_missing_marker(tmp_path):
    df = read_table(write(tmp_path, "a;b\n1;x\n-999;y\n"), missing_values=["-999"])
    assert df["a"].isna().tolist() == [False, True]


def test_french_headers_matched_by_aliases(tmp_path):
    path = write(
        tmp_path, " Numéro  de Boucle ;DATE DU JOUR;Nombre de passages\n0674;2021-05-30;6\n"
    )
    df = read_table(
        path,
        aliases={
            "counter_id": ["numero de boucle", "numéro"],
            "date": ["jour", "date du jour"],
            "count": ["nombre_de_passages"],
        },
        text_columns=["counter_id"],
        date_columns=["date"],
    )
    assert list(df.columns) == ["counter_id", "date", "count"]
    assert df["counter_id"].iloc[0] == "0674"
    assert df["date"].iloc[0] == pd.Timestamp("2021-05-30")


def test_our_names_in_date_columns_match_case_insensitively(tmp_path):
    df = read_table(write(tmp_path, "Date;Réel\n02/01/2020;3\n"), date_columns=["date"])
    assert "date" in df.columns
    assert df["date"].iloc[0] == pd.Timestamp("2020-01-02")


def test_user_column_map_wins_over_aliases(tmp_path):
    path = write(tmp_path, "jour;repas;Repas servis\n2020-01-02;1;2\n")
    df = read_table(
        path,
        aliases={"reel": ["repas"]},
        column_map={"Repas servis": "reel", "jour": "date"},
        date_columns=["date"],
    )
    assert df["reel"].iloc[0] == 2
    assert df["repas"].iloc[0] == 1
    assert df["date"].iloc[0] == pd.Timestamp("2020-01-02")


def test_user_column_map_matches_normalised_names(tmp_path):
    df = read_table(write(tmp_path, "Nb Élèves;x\n3;4\n"), column_map={"nb eleves": "enrolment"})
    assert "enrolment" in df.columns


def test_unknown_name_in_column_map_lists_the_file_columns(tmp_path):
    path = write(tmp_path, "jour;repas\n2020-01-02;1\n")
    with pytest.raises(DataReadError) as info:
        read_table(path, column_map={"couverts": "reel"})
    message = str(info.value)
    assert "« couverts »" in message
    assert "« jour »" in message and "« repas »" in message


def test_two_columns_mapped_to_one_name_is_an_error(tmp_path):
    path = write(tmp_path, "a;b\n1;2\n")
    with pytest.raises(DataReadError, match="même nom"):
        read_table(path, column_map={"a": "x", "b": "x"})


def test_dates_iso_and_french_with_times():
    values = pd.Series(
        [
            "2020-03-01",
            "01/03/2020",
            "1/3/2020 14:30",
            "2020-03-01 07:05:00",
            "",
            None,
            "32/13/2020",
        ]
    )
    parsed = parse_dates(values)
    assert (
        parsed.iloc[0] == parsed.iloc[1] == parsed.iloc[2].normalize() == pd.Timestamp("2020-03-01")
    )
    assert parsed.iloc[2] == pd.Timestamp("2020-03-01 14:30")
    assert parsed.iloc[3] == pd.Timestamp("2020-03-01 07:05")
    assert parsed.iloc[4:].isna().all()


def test_dates_with_offset_become_paris_wall_time():
    parsed = parse_dates(pd.Series(["2020-07-01T10:00:00Z"]))
    assert parsed.iloc[0] == pd.Timestamp("2020-07-01 12:00")


def test_unreadable_dates_are_recorded_with_their_row(tmp_path):
    path = write(tmp_path, "date;v\n2020-01-02;1\nbientôt;2\n03/01/2020;3\n")
    df = read_table(path, date_columns=["date"])
    assert df["date"].isna().tolist() == [False, True, False]
    assert df.attrs["read_problems"] == [
        {"row": 2, "column": "date", "value": "bientôt", "kind": "date"}
    ]


def test_unsorted_rows_keep_file_order_and_index(tmp_path):
    path = write(tmp_path, "date;v\n2020-01-03;3\n2020-01-01;1\n2020-01-02;2\n")
    df = read_table(path, date_columns=["date"])
    assert df["v"].tolist() == [3, 1, 2]
    ordered = df.sort_values("date")
    assert ordered.index.tolist() == [1, 2, 0]  # index = data row - 1, kept after sorting


def test_text_columns_and_automatic_leading_zero_ids(tmp_path):
    path = write(tmp_path, "code;insee;n\n0674;01004;1\n0675;75056;2\n")
    df = read_table(path, text_columns=["code"])
    assert df["code"].tolist() == ["0674", "0675"]
    assert df["insee"].tolist() == ["01004", "75056"]  # leading zero: kept as text
    assert df["n"].tolist() == [1, 2]


def test_mixed_column_stays_text(tmp_path):
    df = read_table(write(tmp_path, "v\n1\nabc\n3\n"))
    assert df["v"].tolist() == ["1", "abc", "3"]


def test_units_row_detected_and_skipped(tmp_path):
    text = "date;heure;PA01;PA02\n;;microg/m3;microg/m3\n01/03/2017;1;4;n/d\n01/03/2017;2;5;7\n"
    text += "01/03/2017;3;6;8\n"
    df = read_table(write(tmp_path, text), date_columns=["date"])
    assert df.attrs["skipped_rows"] == 1
    assert df.attrs["first_data_line"] == 3
    assert df["PA01"].tolist() == [4, 5, 6]
    assert df["PA02"].isna().tolist() == [True, False, False]
    kept = read_table(write(tmp_path, text, name="b.csv"), skip_rows_after_header=0)
    assert kept["PA01"].iloc[0] == "microg/m3"


def test_no_units_row_when_first_row_is_data(tmp_path):
    text = "a;b;c\nx;1;2\ny;3;4\nz;5;6\n"
    df = read_table(write(tmp_path, text))
    assert df.attrs["skipped_rows"] == 0
    assert df["a"].tolist() == ["x", "y", "z"]


def test_trailing_separator_and_blank_lines(tmp_path):
    df = read_table(write(tmp_path, "a;b;\n1;2;\n\n3;4;\n"))
    assert list(df.columns) == ["a", "b"]
    assert df["a"].tolist() == [1, 3]


def test_bytes_and_dataframe_sources():
    df = read_table(b"Date;x\n2020-01-02;1\n", date_columns=["date"])
    assert df["date"].iloc[0] == pd.Timestamp("2020-01-02")
    frame = pd.DataFrame({" Jour ": ["02/01/2020"], "N": [1]})
    out = read_table(frame, aliases={"date": ["jour"]}, date_columns=["date"])
    assert out["date"].iloc[0] == pd.Timestamp("2020-01-02")


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "introuvable"), (b"", "vide"), (b"a;b\n1;2\n1;2;3;4\n", "nombre de colonnes")],
)
def test_unreadable_files_give_french_errors(tmp_path, content, expected):
    path = tmp_path / "f.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataReadError, match=expected):
        read_table(path)


def test_directory_is_refused(tmp_path):
    with pytest.raises(DataReadError, match="dossier"):
        read_table(tmp_path)


def test_normalise_name():
    assert normalise_name(" Numéro de  Boucle ") == "numero_de_boucle"
    assert normalise_name("Probabilité de présence d'anomalies") == (
        "probabilite_de_presence_d_anomalies"
    )
    assert normalise_name("ŒUVRE") == "oeuvre"


def test_wide_to_long_keeps_missing_and_file_order():
    wide = pd.DataFrame({"date": ["d1", "d2"], "S1": [1.0, np.nan], "S2": [3.0, 4.0]})
    long = wide_to_long(wide, ["date"], "station", "no2")
    assert long["date"].tolist() == ["d1", "d1", "d2", "d2"]
    assert long["station"].tolist() == ["S1", "S2", "S1", "S2"]
    assert long["no2"].iloc[:2].tolist() == [1.0, 3.0]
    assert np.isnan(long["no2"].iloc[2]) and long["no2"].iloc[3] == 4.0
    assert len(wide_to_long(wide, ["date"], "station", "no2", dropna=True)) == 3


def test_wide_to_long_unknown_id_column():
    with pytest.raises(DataReadError, match="« jour »"):
        wide_to_long(pd.DataFrame({"a": [1]}), ["jour"], "v", "w")


# ---- real open-data files (skipped when ../shared/realdata is absent) ----------------------


def real(path):
    full = REALDATA / path
    if not full.is_file():
        pytest.skip(f"real data absent: {full}")
    return full


@pytest.mark.realdata
def test_real_canteen_file():
    df = read_table(real("canteen/frequentation.csv"), date_columns=["date"])
    assert list(df.columns) == ["site_type", "date", "prevision", "reel", "site_nom"]
    assert len(df) == 94_633
    assert df["date"].min() == pd.Timestamp("2011-01-03")
    assert df["date"].max() == pd.Timestamp("2018-12-21")
    assert 3_000 < df["reel"].isna().sum() < 5_000
    assert df.attrs["read_problems"] == []


@pytest.mark.realdata
def test_real_bike_file_keeps_leading_zeros_and_goes_long():
    df = read_table(
        real("bike_counters/Comptages_nantes_metropole_2020_2021.csv"),
        aliases={"counter_id": ["numero de boucle"], "date": ["jour"]},
        text_columns=["counter_id"],
        date_columns=["date"],
    )
    assert df.attrs["separator"] == ";"
    assert "0674" in set(df["counter_id"])
    assert df["counter_id"].nunique() == 58
    hours = [f"{h:02d}" for h in range(24)]
    assert all(df[h].dtype == "float64" for h in hours)
    long = wide_to_long(df, ["counter_id", "date"], "hour", "count", value_columns=hours)
    assert len(long) == 24 * len(df)
    assert long["count"].isna().sum() == 10_052


@pytest.mark.realdata
def test_real_airparif_file_units_row_and_nd():
    df = read_table(real("air_quality/20170301_20200511-NO2_auto.csv"), date_columns=["date"])
    assert df.attrs["skipped_rows"] == 1
    assert df["date"].iloc[0] == pd.Timestamp("2017-03-01")
    assert set(df["heure"].unique()) == set(range(1, 25))
    stations = [c for c in df.columns if c not in ("date", "heure")]
    assert len(stations) == 42
    assert all(df[s].dtype == "float64" for s in stations)
    assert df[stations].isna().to_numpy().sum() > 0  # the n/d cells
