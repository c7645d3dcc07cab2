"""The canteen_attendance notebook under papermill: quick run on the sample, and the whole
pipeline on the real Nantes file (realdata, skipped when ../shared/realdata is absent)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pandas as pd
import papermill as pm
import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "canteen_attendance.ipynb"
REAL_FILE = REPO / ".." / "shared" / "realdata" / "canteen" / "frequentation.csv"


def run(tmp_path: Path, **parameters) -> tuple[dict, pd.DataFrame, float]:
    out = tmp_path / "resultats"
    start = time.perf_counter()
    pm.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "executed.ipynb"),
        parameters={"output_dir": str(out), **parameters},
        kernel_name="python3",
        cwd=str(REPO),
        progress_bar=False,
    )
    elapsed = time.perf_counter() - start
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    predictions = pd.read_csv(out / "predictions.csv", parse_dates=["date"])
    return metrics, predictions, elapsed


def test_notebook_is_committed_thin_and_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    for line in code[0].source.splitlines():
        name, _, value = line.partition("=")
        assert name.strip().isidentifier() and value.strip()
        compile(value.strip(), "<parameter>", "eval")  # literals only
    assert "quick = False" in code[0].source and "data_path = None" in code[0].source
    for cell in code:
        assert not cell.get("outputs") and cell.get("execution_count") is None
        assert "def " not in cell.source and "class " not in cell.source


def test_notebook_quick_on_sample(tmp_path):
    metrics, predictions, elapsed = run(tmp_path, quick=True)
    print(f"quick run: {elapsed:.1f} s")
    assert metrics["entry_id"] == "canteen_attendance"
    assert metrics["data"]["rows"] > 10000 and metrics["data"]["grade"] in "ABCDE"
    start, end = metrics["test_period"]["start"], metrics["test_period"]["end"]
    assert start < end and end == "2019-07-05"
    model = metrics["model"]["metrics"]
    for key in ("mae", "mape", "over_production_pct", "short_days", "short_days_network"):
        assert model[key] is not None and model[key] >= 0
    assert set(metrics["baselines"]) == {
        "prevision_agents",
        "moyenne_8_semaines",
        "ratio_effectif",
    }
    assert "meals_saved_vs_agents" in model
    assert metrics["parameters"]["quick"] is True and metrics["parameters"]["horizon_days"] == 14
    # predictions: one row per canteen-day of the test period, every forecast present
    assert predictions["date"].min() == pd.Timestamp(start)
    assert predictions["date"].max() == pd.Timestamp(end)
    assert predictions["site_id"].nunique() == 30
    assert {"reel", "modele_quantile", "prevision_agents", "moyenne_8_semaines"} <= set(
        predictions.columns
    )
    scored = predictions[predictions["reel"] > 0].dropna()
    assert len(scored) == model["n_rows"]
    excess = (scored["modele_quantile"] - scored["reel"]).clip(lower=0).sum()
    assert excess / scored["reel"].sum() * 100 == pytest.approx(model["over_production_pct"])
    assert elapsed < 60  # the ≤ 15 s goal is measured on an idle machine (see the report)


@pytest.mark.realdata
@pytest.mark.skipif(not REAL_FILE.is_file(), reason="../shared/realdata absent")
def test_notebook_on_real_nantes_file_beats_agents(tmp_path):
    metrics, predictions, _ = run(tmp_path, data_path=str(REAL_FILE.resolve()), test_months=4)
    assert metrics["test_period"]["start"] >= "2018-08-22"
    assert metrics["test_period"]["end"] == "2018-12-21"
    assert predictions["date"].dt.month.isin([9, 10, 11, 12]).all()
    model = metrics["model"]["metrics"]
    agents = metrics["baselines"]["prevision_agents"]["metrics"]
    assert model["n_rows"] == agents["n_rows"] > 4000
    assert model["over_production_pct"] < agents["over_production_pct"]
    assert model["short_days"] <= agents["short_days"]
    assert model["over_production_pct"] <= 6
