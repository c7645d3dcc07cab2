"""Partial acceptance of real files (``models.acceptance``), on small generated files.

Structural problems refuse the file; row-level problems set rows aside (French report,
``lignes_ecartees.csv``); duplicates are counted and graded; future dates and too-short
series are named; a missing key is derived from its name when the file says which it is.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pandas as pd
import pytest

import models.air_quality as aq
import models.bike_counters as bc
import models.canteen_attendance as ca
from hub.config.settings import Settings
from models.acceptance import (
    DEFAULT_MIN_SHARE,
    SET_ASIDE_FILE,
    accept,
    derive_key,
    pct_fr,
    titles_of,
)
from models.air_quality.data import read_air_quality
from models.contract import metrics_payload, neutralise_cell, write_outputs
from models.errors import DataReadError, DataValidationError
from models.io import read_table, sniff_separator
from models.validation import lines_fr, validate

SCHEMA = {
    "title": "Essai",
    "primaryKey": ["site", "date"],
    "fields": [
        {"name": "site", "type": "string", "title": "Site", "constraints": {"required": True}},
        {"name": "date", "type": "date", "title": "Date", "constraints": {"required": True}},
        {"name": "valeur", "type": "integer", "title": "Valeur", "constraints": {"minimum": 0}},
        {"name": "genre", "type": "string", "title": "Genre", "constraints": {"enum": ["a", "b"]}},
    ],
}


def _rows(n: int, start: str = "2020-01-01") -> list[list[str]]:
    days = pd.date_range(start, periods=n, freq="D")
    return [["S1", f"{d:%Y-%m-%d}", str(10 + i % 7), "a"] for i, d in enumerate(days)]


def _csv(path: Path, rows: list[list[str]], header=("site", "date", "valeur", "genre")) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _accept(path: Path, **options):
    raw = read_table(path, text_columns=("site", "genre"), date_columns=("date",))
    report = validate(raw, SCHEMA)
    kept = accept(
        raw,
        report,
        key=("site", "date"),
        date_columns=("date",),
        titles=titles_of(SCHEMA),
        **options,
    )
    return kept, report


# ------------------------------------------------------------------------ row-level problems


def test_bad_rows_are_set_aside_with_line_column_and_french_reason(tmp_path):
    rows = _rows(80)
    rows[2][2] = "trois"  # bad type, file line 4
    rows[5][2] = "-5"  # below the minimum, line 7
    rows[8][3] = "z"  # bad enum, line 10
    rows[11][1] = "2020-13-45"  # bad date, line 13
    rows[14][0] = ""  # empty key, line 16
    rows[17][1] = "2099-01-05"  # future date, line 19
    kept, report = _accept(_csv(tmp_path / "f.csv", rows))
    assert report.usable and not report.ok
    acc = report.acceptance
    assert (acc.rows_read, acc.rows_kept, acc.rows_set_aside) == (80, 74, 6)
    assert len(kept) == 74 and "trois" not in set(kept["valeur"].astype(str))
    assert sorted(p.line for p in acc.set_aside) == [4, 7, 10, 13, 16, 19]
    checks = {p.line: p.check for p in acc.set_aside}
    assert checks[7] == "minimum" and checks[10] == "enum" and checks[19] == "future"
    text = report.to_text()
    assert "80 lignes lues, 74 lignes gardées, 6 lignes écartées" in text
    assert "Ligne 19 : « Date » (date) : 05/01/2099 est dans le futur" in text
    assert "Ligne 16 : « Site » (site) : valeur manquante" in text


def test_below_the_share_the_file_is_refused_with_the_share(tmp_path):
    rows = _rows(10)
    for i in range(3):
        rows[i][2] = "x"
    path = _csv(tmp_path / "f.csv", rows)
    _, report = _accept(path)
    assert not report.usable
    assert "seulement 70 % des lignes sont utilisables (7 lignes sur 10 lignes)" in report.refusal
    assert "au moins 90 %" in report.refusal
    with pytest.raises(DataValidationError, match="70 %"):
        report.raise_if_refused()
    _, lenient = _accept(path, min_share=0.6)
    assert lenient.usable and lenient.acceptance.rows_kept == 7


def test_one_row_set_aside_is_singular(tmp_path):
    rows = _rows(40)
    rows[0][2] = "x"
    _, report = _accept(_csv(tmp_path / "f.csv", rows))
    text = report.to_text()
    assert "1 ligne écartée" in text and "1 lignes" not in text
    assert lines_fr(1) == "1 ligne" and lines_fr(0) == "0 ligne" and lines_fr(2) == "2 lignes"
    assert pct_fr(0.625) == "62,5 %" and pct_fr(0.9) == "90 %"


def test_many_problems_are_grouped_and_counted(tmp_path):
    rows = _rows(300)
    for i in range(0, 25):
        rows[i][2] = "x"
    _, report = _accept(_csv(tmp_path / "f.csv", rows))
    text = report.to_text()
    assert "25 lignes : « Valeur » (valeur) : « x » n'est pas un nombre entier" in text
    assert text.count("\n") < 10


# ------------------------------------------------------------------------------ duplicates


def test_exact_duplicates_keep_one_and_conflicts_are_all_set_aside(tmp_path):
    rows = _rows(40)
    rows.append(list(rows[3]))  # exact copy of line 5 → line 42
    rows.append(list(rows[6]))
    rows[-1][2] = "999"  # same site and date as line 8, other value → line 43
    kept, report = _accept(_csv(tmp_path / "f.csv", rows))
    acc = report.acceptance
    assert acc.duplicates_exact == 1 and acc.duplicates_conflicting == 2
    assert {p.line for p in acc.set_aside} == {8, 43}
    assert len(kept) == 40 - 1 and not kept.duplicated(["site", "date"]).any()
    assert "revient à la ligne 43" in report.to_text()
    assert "Doublons exacts : 1 ligne identique" in report.to_text()


def test_duplicates_cap_the_quality_grade(tmp_path):
    """Every row twice, or the same canteen and day with two counts: not ``Doublons 0``."""
    data = ca.load()
    sample = ca.data._read(None, None)
    head = sample[sample["date"] < sample["date"].min() + pd.Timedelta(days=400)]
    path = tmp_path / "double.csv"
    pd.concat([head, head]).to_csv(path, index=False)
    frame, report = ca.load_with_report(path)
    assert report.acceptance.duplicates_exact == len(head)
    quality = ca.quality(frame)
    assert quality.summary["duplicates"]["count"] == len(head)
    assert quality.grade >= "D" and quality.grade != ca.quality(data).grade
    assert "doublons" in " ".join(quality.reasons)


def test_complementary_rows_are_not_a_conflict(tmp_path):
    rows = _rows(40)
    rows.append(["S1", rows[0][1], "", ""])  # same key, nothing that contradicts line 2
    _, report = _accept(_csv(tmp_path / "f.csv", rows))
    assert report.acceptance.duplicates_conflicting == 0


# ------------------------------------------------------------------------- structural


def test_repeated_header_name_refuses_the_file(tmp_path):
    path = tmp_path / "deux_reel.csv"
    path.write_text("site_nom,date,reel,reel\nA,2018-09-03,5,6\n", encoding="utf-8")
    with pytest.raises(DataReadError, match=r"« reel » \(colonnes 3, 4\)"):
        ca.load(path)


def test_repeated_hour_column_refuses_a_bike_file(tmp_path):
    hours = [f"{h:02d}" for h in range(24)]
    hours[10] = "09"
    header = ";".join(["Numéro de boucle", "Libellé", "Jour", *hours])
    line = ";".join(["0701", "A", "2022-03-01", *["1"] * 24])
    path = tmp_path / "velo.csv"
    path.write_text(f"{header}\n{line}\n", encoding="utf-8")
    with pytest.raises(DataReadError, match="« 09 »"):
        bc.validate_file(path)


def test_missing_required_column_refuses(tmp_path):
    path = _csv(tmp_path / "f.csv", [["S1", "1", "a"]], header=("site", "valeur", "genre"))
    kept, report = _accept(path)
    assert not report.usable and kept.empty
    assert "Colonne obligatoire absente : « Date » (date)" in report.to_text()


def test_huge_field_is_read_without_csv_error(tmp_path):
    big = "x" * 200_000
    text = f"site;date;valeur\n{big};2020-01-01;3\nB;2020-01-02;4\n"
    assert sniff_separator(text) == ";"
    path = tmp_path / "gros.csv"
    path.write_text(text, encoding="utf-8")
    assert len(read_table(path)) == 2


def test_binary_file_is_refused_in_french(tmp_path):
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4 + bytes(300))
    with pytest.raises(DataReadError, match="pas un fichier texte"):
        read_table(path)


def test_utf16_without_bom_is_still_read(tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes("site;date\nA;2020-01-01\n".encode("utf-16-le"))
    assert list(read_table(path).columns) == ["site", "date"]


def test_symlink_loop_and_directory_are_named(tmp_path):
    loop = tmp_path / "boucle.csv"
    os.symlink(loop, loop)
    with pytest.raises(DataReadError, match="boucle de liens symboliques|lien symbolique"):
        read_table(loop)
    with pytest.raises(DataReadError, match="est un dossier"):
        read_table(tmp_path)


# --------------------------------------------------------------------------- derived key


def test_missing_key_is_derived_from_the_name_and_reported(tmp_path):
    frame = pd.DataFrame(
        {"id": ["0701", None, "0702", ""], "nom": ["Pont", "Pont", "Gare", "Inconnu"]}
    )
    out, derived = derive_key(frame, "id", "nom", titles={"id": "Numéro"})
    assert out["id"].tolist()[:3] == ["0701", "0701", "0702"]
    assert derived["rows"] == 1 and "« Numéro » (id) vide sur 1 ligne" in derived["message"]
    assert derive_key(out.iloc[:3], "id", "nom")[1] is None  # nothing left to derive


def test_bike_daily_file_with_empty_ids_derives_them(tmp_path):
    days = pd.date_range("2021-01-01", periods=60, freq="D")
    lines = ["Numéro de boucle;Libellé;Jour;Comptage relevé"]
    for i, d in enumerate(days):
        cid = "" if i % 10 == 0 else "0701"
        lines.append(f"{cid};Pont Anne;{d:%Y-%m-%d};{100 + i}")
    path = tmp_path / "journalier.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame, report = bc.load_with_report(path)
    assert set(frame["counter_id"]) == {"0701"} and len(frame) == 60
    assert report.acceptance.derived[0]["rows"] == 6
    assert "vide sur 6 lignes : déduit de « Nom du compteur »" in report.to_text()


# -------------------------------------------------------------------------- short series


def test_too_short_series_is_refused_by_validate_and_load(tmp_path):
    sample = ca.data._read(None, None)
    for n in (1, 20):
        path = tmp_path / f"court{n}.csv"
        sample.head(n).to_csv(path, index=False)
        report = ca.validate_file(path)
        assert not report.usable and "série trop courte" in report.refusal
        with pytest.raises(DataValidationError, match="il en faut au moins"):
            ca.load(path)


@pytest.mark.parametrize(
    "entry, minimum",
    [(bc, bc.data.MIN_DAYS), (aq, aq.data.MIN_DAYS), (ca, ca.data.MIN_DAYS)],
)
def test_every_entry_declares_its_minimum_and_its_sample_passes(entry, minimum):
    assert isinstance(minimum, int) and minimum > 1
    assert entry.validate_file(None if entry is not ca else ca.data.SCHEMA.parent / "sample.csv")


# ----------------------------------------------------------------------- air quality


def test_air_quality_empty_station_and_text_values_are_set_aside(tmp_path):
    sample = aq.data.read_layout(aq.data._source(None))[0]
    rows = sample.copy()
    rows["station"] = rows["station"].astype(object)
    rows["PM10"] = rows["PM10"].astype(object)
    rows.loc[rows.index[3], "station"] = ""
    rows.loc[rows.index[4], "PM10"] = "erreur capteur"
    path = tmp_path / "air.csv"
    rows.to_csv(path, index=False)
    daily, report = aq.load_with_report(path)
    lines = {p.line: p for p in report.acceptance.set_aside}
    assert set(lines) == {5, 6}
    assert lines[6].column == "PM10" and "erreur capteur" in lines[6].message
    assert len(daily) == len(sample) - 2


def test_air_quality_file_without_station_is_one_station_not_station_max(tmp_path):
    path = tmp_path / "sans_station.csv"
    path.write_text("date,PM10,NO2,NO2_max,TN\n2020-01-01,3,4,5,-2\n", encoding="utf-8")
    daily = read_air_quality(path)  # read only: one day is too short to train
    assert list(daily["station"].unique()) == ["station unique"]
    assert daily[["PM10", "NO2", "NO2_max", "TN"]].iloc[0].tolist() == [3, 4, 5, -2]


# ---------------------------------------------------------------- outputs and settings


def test_set_aside_cells_use_the_one_neutralisation():
    neutralise = neutralise_cell
    assert neutralise("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("\tx") == "'\tx" and neutralise("\rx") == "'\rx"
    assert neutralise("+33 6") == "'+33 6"
    assert neutralise("-5") == "-5" and neutralise("+3,5") == "+3,5"
    assert neutralise(-5) == -5 and neutralise(2.5) == 2.5 and neutralise("abc") == "abc"


def test_write_outputs_writes_the_rows_set_aside_neutralised(tmp_path):
    rows = _rows(40)
    rows[1][2] = '=HYPERLINK("http://x")'
    rows[2][2] = "-7"
    frame, report = _accept(_csv(tmp_path / "f.csv", rows))
    from models.quality import quality_report

    quality = quality_report(frame, date_column="date", value_columns=["valeur"])
    metrics = metrics_payload(
        "essai", quality=quality, test_period=None, model_name="m", model_metrics={}
    )
    out = tmp_path / "sortie"
    written = write_outputs(out, metrics, {"predictions.csv": pd.DataFrame({"a": [1]})})
    assert SET_ASIDE_FILE in written
    table = pd.read_csv(out / SET_ASIDE_FILE, dtype=str)
    assert list(table.columns) == ["ligne", "colonne", "valeur", "motif"]
    assert table["ligne"].tolist() == ["3", "4"]
    assert table["valeur"].tolist() == ['\'=HYPERLINK("http://x")', "-7"]
    assert "inférieur au minimum" in table["motif"].iloc[1]
    saved = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    acc = saved["data"]["acceptance"]
    assert (acc["rows_read"], acc["rows_kept"], acc["rows_set_aside"]) == (40, 38, 2)
    assert "set_aside" not in acc


def test_min_share_setting_is_declared_once_with_the_same_default():
    assert Settings.from_env({}).min_usable_share == DEFAULT_MIN_SHARE
    assert Settings.from_env({"BIBLIO_MIN_USABLE_SHARE": "80 %"}).min_usable_share == 0.8
    with pytest.raises(ValueError, match="BIBLIO_MIN_USABLE_SHARE"):
        Settings.from_env({"BIBLIO_MIN_USABLE_SHARE": "1.5"})


def test_air_quality_hourly_text_value_sets_its_hour_aside(tmp_path):
    lines = ["date;heure;Paris 1;Paris 2"]
    for day in pd.date_range("2020-01-01", periods=3, freq="D"):
        lines += [f"{day:%Y-%m-%d};{h};{10 + h};{20 + h}" for h in range(1, 25)]
    lines[5] = "2020-01-01;5;erreur;25"
    path = tmp_path / "horaire_NO2.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = aq.validate_file(path)
    (problem,) = report.acceptance.set_aside
    assert problem.line == 6 and problem.column == "Paris 1" and "erreur" in problem.message
    assert report.acceptance.rows_kept == 71
    assert "série trop courte" in report.refusal and "jours mesurés" in report.refusal


def test_a_stray_nul_byte_does_not_make_a_text_file_binary(tmp_path):
    path = tmp_path / "nul.csv"
    rows = "".join(f"A;2020-01-{d:02d};{d}\n" for d in range(1, 29))
    path.write_bytes(("site;date;valeur\n" + rows).encode() + b"\x00")
    assert len(read_table(path)) >= 28
