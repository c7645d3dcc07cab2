"""Tests of models.validation: every problem at once, in French, precise to row and column."""

import json
from pathlib import Path

import pandas as pd
import pytest

from models.errors import BiblioError, DataValidationError
from models.io import read_table
from models.validation import Problem, load_schema, validate

REALDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"

SCHEMA = {
    "title": "Fréquentation des restaurants scolaires",
    "fields": [
        {
            "name": "date",
            "type": "date",
            "title": "Date du repas",
            "constraints": {"required": True, "minimum": "2010-01-01"},
        },
        {
            "name": "site_id",
            "type": "string",
            "title": "Identifiant du restaurant",
            "constraints": {"required": True, "pattern": "[0-9]{4}"},
        },
        {
            "name": "site_type",
            "type": "string",
            "title": "Type de restaurant",
            "constraints": {"enum": ["M", "E", "M/E"]},
        },
        {
            "name": "reel",
            "type": "integer",
            "title": "Repas servis",
            "constraints": {"required": True, "minimum": 0, "maximum": 2000},
        },
        {"name": "prevision", "type": "number", "title": "Repas prévus"},
        {"name": "menu", "type": "string", "title": "Menu", "constraints": {"maxLength": 10}},
        {"name": "ouvert", "type": "boolean", "title": "Restaurant ouvert"},
    ],
    "primaryKey": ["site_id", "date"],
}

GOOD = """date;site_id;site_type;reel;prevision;menu;ouvert
2020-01-02;0001;M;120;130,5;poisson;oui
2020-01-02;0002;E;80;85;;non
03/01/2020;0001;M;118;;végé;1
"""


def read(tmp_path, text, **kwargs):
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return read_table(path, text_columns=["site_id"], date_columns=["date"], **kwargs)


def test_valid_file(tmp_path):
    report = validate(read(tmp_path, GOOD), SCHEMA)
    assert report.ok, report.to_text()
    assert report.problems == []
    assert "valides" in report.to_text()
    report.raise_if_errors()  # does not raise


def test_all_problems_at_once_with_rows_columns_and_titles(tmp_path):
    bad = """date;site_id;site_type;reel;prevision;menu;ouvert
2020-01-02;0001;M;120;130;poisson;oui
2020-01-02;0001;X;-5;abc;poisson;peut-être
bientôt;12;E;;90;un menu très long;non
2020-01-06;0003;E;12,5;90;;non
2009-12-31;0004;E;3000;90;;non
"""
    report = validate(read(tmp_path, bad), SCHEMA)
    found = {(p.line, p.column, p.check) for p in report.problems}
    expected = {
        (3, "site_id, date", "primary_key"),
        (3, "site_type", "enum"),
        (3, "reel", "minimum"),
        (3, "prevision", "type"),
        (3, "ouvert", "type"),
        (4, "date", "type"),
        (4, "site_id", "pattern"),
        (4, "reel", "required"),
        (4, "menu", "max_length"),
        (5, "reel", "type"),
        (6, "date", "minimum"),
        (6, "reel", "maximum"),
    }
    assert found == expected, report.to_text()
    # the unreadable date is reported once, not again as a missing value
    assert len([p for p in report.problems if p.line == 4 and p.column == "date"]) == 1
    text = report.to_text()
    assert "« Repas servis » (reel) : -5 est inférieur au minimum 0." in text
    assert "« Date du repas » (date) : « bientôt » n'est pas une date" in text
    assert "« Type de restaurant » (site_type) : « X » n'est pas une valeur autorisée" in text
    assert "la ligne 1 est l'en-tête" in text
    assert "Ligne 4" in text
    assert "même clé (site_id, date) = (0001, 2020-01-02) (déjà en ligne 2)" in text
    rows = {p.row for p in report.problems}
    assert rows == {2, 3, 4, 5}  # data rows = file line - 1


def test_missing_required_columns_reported_by_title(tmp_path):
    df = read(tmp_path, "date;site_id;prevision\n2020-01-02;0001;3\n")
    report = validate(df, SCHEMA)
    missing = [p for p in report.problems if p.check == "missing_column"]
    assert [p.column for p in missing] == ["reel"]
    assert missing[0].row is None
    assert "« Repas servis » (reel)" in missing[0].message
    assert "« prevision »" in report.to_text()  # lists the file's columns once
    assert "column_map" in report.to_text()


def test_units_row_offset_is_in_line_numbers(tmp_path):
    text = "date;site_id;reel\n;;repas\n2020-01-02;0001;1\n2020-01-03;0001;-1\n2020-01-06;0001;2\n"
    df = read(tmp_path, text)
    assert df.attrs["first_data_line"] == 3
    report = validate(df, {"fields": SCHEMA["fields"][:4]})
    [problem] = report.problems
    assert (problem.row, problem.line) == (2, 4)
    assert "première ligne de données est la ligne 3" in report.to_text()


def test_rows_survive_sorting(tmp_path):
    text = "date;site_id;reel\n2020-01-03;0001;5\n2020-01-01;0001;-1\n2020-01-02;0001;4\n"
    df = read(tmp_path, text).sort_values("date")
    [problem] = validate(df, {"fields": SCHEMA["fields"][:4]}).problems
    assert problem.line == 3


def test_raise_if_errors_and_machine_readable(tmp_path):
    df = read(tmp_path, "date;site_id;reel\n2020-01-02;0001;-1\n")
    report = validate(df, SCHEMA)
    with pytest.raises(DataValidationError) as info:
        report.raise_if_errors()
    assert info.value.report is report
    assert "Repas servis" in str(info.value)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False
    assert {"row", "column", "message", "line", "check", "value", "title"} <= set(
        data["problems"][0]
    )
    assert isinstance(report.problems[0], Problem)


def test_never_raises_on_garbage():
    df = pd.DataFrame({"date": ["x", None, 3], "reel": [object(), "", "1e999"], "site_id": 1})
    report = validate(df, SCHEMA)
    assert not report.ok
    assert all(isinstance(p.message, str) and p.message for p in report.problems)


def test_many_problems_are_grouped_in_text():
    df = pd.DataFrame(
        {"date": pd.date_range("2020-01-01", periods=50), "site_id": "0001", "reel": -1}
    )
    report = validate(df, {"fields": SCHEMA["fields"][:4]})
    assert len(report.problems) == 50
    text = report.to_text()
    assert "50 lignes" in text and "…" in text
    assert len(text.splitlines()) < 10
    md = report.to_markdown()
    assert "| Ligne | Colonne | Problème |" in md and "autres lignes" in md


def test_unique_constraint_and_single_primary_key():
    schema = {
        "fields": [{"name": "code", "type": "string", "constraints": {"unique": True}}],
        "primaryKey": "code",
    }
    report = validate(pd.DataFrame({"code": ["a", "b", "a"]}), schema)
    assert [(p.row, p.check) for p in report.problems] == [(3, "unique")]
    assert "déjà en ligne 2" in report.problems[0].message


def test_load_schema(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(SCHEMA), encoding="utf-8")
    assert load_schema(path)["title"] == SCHEMA["title"]
    assert load_schema(SCHEMA) is SCHEMA
    with pytest.raises(BiblioError, match="introuvable"):
        load_schema(tmp_path / "absent.json")
    path.write_text("{", encoding="utf-8")
    with pytest.raises(BiblioError, match="JSON"):
        load_schema(path)
    with pytest.raises(BiblioError, match="fields"):
        load_schema({"title": "x"})


@pytest.mark.realdata
def test_real_national_catalog_against_its_schema():
    folder = REALDATA / "bibliotheque"
    if not (folder / "data.csv").is_file():
        pytest.skip("real data absent")
    df = read_table(folder / "data.csv", text_columns=["SIRET"])
    assert len(df) == 33
    report = validate(df, folder / "schema.json")
    checks = {p.check for p in report.problems}
    assert {"missing_column", "enum"} <= checks
    missing = {p.column for p in report.problems if p.check == "missing_column"}
    assert "projet_contact" in missing  # a restricted field, absent from the public CSV
    statut = [p for p in report.problems if p.column == "Statut_du_projet"]
    assert statut and all("« Maturité »" in p.message for p in statut)
    assert any("« Terminé »" in p.message for p in statut)
    json.dumps(report.to_dict())
