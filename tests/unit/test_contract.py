"""Tests of models.contract: entry discovery, paths, atomic outputs, metrics payload."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from models.contract import (
    REPO_ROOT,
    entry_ids,
    entry_paths,
    metrics_payload,
    to_jsonable,
    write_outputs,
)
from models.quality import quality_report


def test_entry_ids_are_notebook_stems_sorted(tmp_path):
    (tmp_path / "notebooks").mkdir()
    for name in ["zeta.ipynb", "alpha.ipynb", "notes.txt"]:
        (tmp_path / "notebooks" / name).write_text("{}")
    assert entry_ids(tmp_path) == ["alpha", "zeta"]
    assert entry_ids(tmp_path / "absent") == []


def test_entry_ids_of_the_repo_match_its_notebooks():
    expected = sorted(p.stem for p in (REPO_ROOT / "notebooks").glob("*.ipynb"))
    assert entry_ids() == expected


def test_entry_paths():
    paths = entry_paths("canteen_attendance")
    assert paths.sample == REPO_ROOT / "datasets" / "canteen_attendance" / "sample.csv"
    assert paths.schema.name == "schema.json" and paths.datasheet.name == "README.md"
    assert paths.package == REPO_ROOT / "models" / "canteen_attendance"
    assert paths.module == paths.package / "__init__.py"
    assert paths.generator == paths.package / "sample.py"
    assert paths.notebook == REPO_ROOT / "notebooks" / "canteen_attendance.ipynb"
    assert paths.artifact == REPO_ROOT / "models" / "artifacts" / "canteen_attendance.skops"
    assert paths.card == REPO_ROOT / "models" / "cards" / "canteen_attendance.md"
    assert paths.catalog_record == REPO_ROOT / "hub" / "catalog" / "entries" / (
        "canteen_attendance.yaml"
    )


def payload():
    df = pd.DataFrame(
        {"date": pd.date_range("2020-01-01", periods=60), "v": np.arange(60) % 7 + 10.0}
    )
    quality = quality_report(df, date_column="date", value_columns=["v"])
    return metrics_payload(
        "demo",
        quality=quality,
        test_period=(pd.Timestamp("2020-02-01"), pd.Timestamp("2020-02-29")),
        model_name="HGB quantile 0.9",
        model_metrics={"mae": np.float64(1.5), "short_days": np.int64(2), "mape": float("nan")},
        baselines={"agents": {"mae": 2.0}, "naive": {"metrics": {"mae": 3.0}}},
        parameters={"quantile": 0.9, "features": ("a", "b")},
    )


def test_metrics_payload_shape_and_json():
    p = payload()
    assert set(p) == {"entry_id", "data", "test_period", "model", "baselines", "parameters"}
    assert p["data"]["rows"] == 60
    assert p["data"]["period"] == ["2020-01-01", "2020-02-29"]
    assert p["data"]["grade"] in "ABCDE"
    assert isinstance(p["data"]["reasons"], list) and p["data"]["summary"]
    assert p["test_period"] == {"start": "2020-02-01", "end": "2020-02-29"}
    assert p["model"]["metrics"] == {"mae": 1.5, "short_days": 2, "mape": None}
    assert p["baselines"] == {
        "agents": {"metrics": {"mae": 2.0}},
        "naive": {"metrics": {"mae": 3.0}},
    }
    assert p["parameters"]["features"] == ["a", "b"]
    json.dumps(p, allow_nan=False)


def test_write_outputs_writes_all_files(tmp_path):
    out = tmp_path / "resultats"
    preds = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=3), "pred": [1.0, 2, 3]})
    written = write_outputs(out, payload(), preds, extra={"anomalies": preds.head(1)})
    assert set(written) == {"predictions.csv", "anomalies.csv", "metrics.json"}
    assert json.loads((out / "metrics.json").read_text())["entry_id"] == "demo"
    back = pd.read_csv(out / "predictions.csv")
    assert back["date"].tolist() == ["2020-01-01", "2020-01-02", "2020-01-03"]
    assert sorted(os.listdir(out)) == ["anomalies.csv", "metrics.json", "predictions.csv"]


def test_write_outputs_failure_leaves_previous_outputs(tmp_path):
    out = tmp_path / "r"
    preds = pd.DataFrame({"x": [1]})
    write_outputs(out, {"entry_id": "first"}, preds)
    with pytest.raises(TypeError):
        write_outputs(out, {"entry_id": "second", "bad": object.__new__(Unserialisable)}, preds)
    assert json.loads((out / "metrics.json").read_text()) == {"entry_id": "first"}
    assert sorted(os.listdir(out)) == ["metrics.json", "predictions.csv"]  # no temp dir left


class Unserialisable:
    def to_dict(self):
        raise TypeError("not serialisable")


def test_write_outputs_takes_the_tables_of_an_entry(tmp_path):
    first = pd.DataFrame({"a": [1, 2]})
    tables = {"anomalies.csv": first, "anomalies_horaires": first.head(1)}
    written = write_outputs(tmp_path, payload(), tables)
    assert list(written) == ["anomalies.csv", "anomalies_horaires.csv", "metrics.json"]
    assert pd.read_csv(written["anomalies_horaires.csv"]).equals(first.head(1))
    assert not (tmp_path / "predictions.csv").exists()
    with pytest.raises(ValueError):
        write_outputs(tmp_path, {}, {"../ailleurs.csv": first})


def test_write_outputs_refuses_paths_as_names(tmp_path):
    with pytest.raises(ValueError):
        write_outputs(tmp_path, {}, pd.DataFrame(), predictions_name="../evil.csv")


def test_to_jsonable():
    value = to_jsonable(
        {
            "a": np.int32(3),
            "b": np.array([1.5, np.nan]),
            "c": pd.Timestamp("2020-01-01 10:00"),
            "d": np.bool_(True),
            4: float("inf"),
        }
    )
    assert value == {"a": 3, "b": [1.5, None], "c": "2020-01-01T10:00:00", "d": True, "4": None}


def test_write_outputs_neutralises_formulas_and_keeps_numbers(tmp_path):
    # OWASP CSV injection: text starting with = + - @ tab or CR must not reach a spreadsheet
    # as a formula; numbers (negative too), dates and numbers written as text stay as they are.
    hostile = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x")', "+1+1", "-1+A1", "@SUM(A1)"]
    frame = pd.DataFrame(
        {
            "site_nom": [*hostile, "\tonglet", "\rretour", "Cantine Jules Verne"],
            "ecart": [-3.5, -1, 0, 2, 4, -7, 1e-3, 5],
            "texte_nombre": ["-3", "+2,5", "-1e3", "12", "-0.5", "3", "-4", "7"],
            "date": pd.date_range("2024-01-01", periods=8),
            "=colonne": pd.Categorical(["=a", "b"] * 4),
        }
    )
    write_outputs(tmp_path, payload(), {"par_cantine.csv": frame})
    back = pd.read_csv(tmp_path / "par_cantine.csv", keep_default_na=False)
    for cell in back["site_nom"].tolist()[:7]:
        assert cell.startswith("'") and cell[1] in "=+-@\t\r"
    assert back["site_nom"].iloc[-1] == "Cantine Jules Verne"
    assert back["ecart"].tolist() == frame["ecart"].tolist()  # still numbers
    assert back["texte_nombre"].astype(str).tolist()[:3] == ["-3", "+2,5", "-1e3"]
    assert back["date"].tolist()[0] == "2024-01-01"
    assert list(back.columns)[-1] == "'=colonne" and back.iloc[0, -1] == "'=a"
    raw = (tmp_path / "par_cantine.csv").read_text(encoding="utf-8")
    assert not any(line.startswith(("=", "+", "@")) for line in raw.splitlines())
    assert frame["site_nom"].iloc[0] == hostile[0]  # the caller's table is not modified
