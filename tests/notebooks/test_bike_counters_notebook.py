"""The bike_counters notebook under papermill: sample (quick), a daily file, the real file."""

import json
import time
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import papermill as pm
import pytest

from models import bike_counters as bc

NOTEBOOK = bc.PATHS.notebook
REALDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata" / "bike_counters"
REAL_HOURLY = REALDATA / "Comptages_nantes_metropole_2020_2021.csv"


def _run(tmp_path, **params):
    out = tmp_path / "resultats"
    start = time.perf_counter()
    pm.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "out.ipynb"),
        kernel_name="python3",
        parameters={"output_dir": str(out), **params},
        cwd=str(tmp_path),
        progress_bar=False,
    )
    return out, time.perf_counter() - start


def test_notebook_contract():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    for name in ("data_path", "column_map", "counters", "sensitivity", "quick", "output_dir"):
        assert f"{name} = " in code[0].source
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert not any(
        line.lstrip().startswith(("def ", "class ")) for c in code for line in c.source.splitlines()
    )


def test_quick_run_on_the_sample(tmp_path):
    out, seconds = _run(tmp_path, quick=True)
    print(f"quick run under papermill: {seconds:.1f} s")
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["entry_id"] == "bike_counters"
    assert set(metrics) >= {"data", "test_period", "model", "baselines", "parameters"}
    model = metrics["model"]["metrics"]
    assert model["f1"] > max(b["metrics"]["f1"] for b in metrics["baselines"].values())
    assert model["false_alarm_rate"] < 0.02
    assert "panne" in model["by_kind"] and "events" in model
    anomalies = pd.read_csv(out / "anomalies.csv", dtype={"Numéro de boucle": str})
    assert anomalies["Numéro de boucle"].str.fullmatch(r"0\d{3}").all()
    flagged = anomalies[anomalies["Anomalie"] == 1]
    assert flagged["Valeur corrigée"].notna().all() and flagged["Type d'anomalie"].notna().all()
    assert (out / "anomalies_horaires.csv").exists()
    assert seconds < 60  # ≤ 15 s measured on an idle 2-core machine; margin for shared load


def test_daily_file_with_column_map(tmp_path):
    frame = bc.load()
    data = bc.prepare(frame, counters=["0701", "0702", "0715", "0716", "0733", "0741"])
    total = np.where(np.isnan(data.values).any(axis=1), np.nan, np.nansum(data.values, axis=1))
    daily = pd.DataFrame(
        {
            "Compteur": data.days["counter_id"],
            "Jour": data.days["date"].dt.strftime("%d/%m/%Y"),
            "Passages": total,
        }
    )
    path = tmp_path / "journalier.csv"
    daily.to_csv(path, sep=";", index=False, decimal=",")
    out, _ = _run(
        tmp_path,
        data_path=str(path),
        column_map={"Compteur": "Numéro de boucle", "Passages": "Comptage relevé"},
    )
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["model"]["metrics"]["layout"] == "daily"
    assert 0 < metrics["model"]["metrics"]["flagged_share"] < 0.3
    anomalies = pd.read_csv(out / "anomalies.csv", dtype={"Numéro de boucle": str})
    zero_days = anomalies[anomalies["Comptage relevé"] == 0]
    assert len(zero_days) and (zero_days["Anomalie"] == 1).all()


@pytest.mark.realdata
def test_real_nantes_hourly_file(tmp_path):
    if not REAL_HOURLY.exists():
        pytest.skip("../shared/realdata/bike_counters absent")
    out, seconds = _run(tmp_path, data_path=str(REAL_HOURLY))
    print(f"real file under papermill: {seconds:.1f} s")
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    model = metrics["model"]["metrics"]
    agreement = model["agreement_with_published_flag"]
    print(json.dumps(agreement, indent=1))
    # the published "Forte" days of the judged period (2021, never seen) are found. Was > 0.95
    # over both years with a detector fitted on them; on 2021 alone, 10 of the 145 "Forte"
    # days are days of 1 to 3 bikes at a loop that counted about 10 a day in training, too few
    # to be surely abnormal. The kappa with "Forte" is no longer compared with the isolation
    # forest's: "Forte" marks days without bikes only; both flag about 5 % of the judged days,
    # the forest mostly the days without bikes, the detector also the other faults.
    assert model["train_period"] == ["2020-01-01", "2020-12-31"]
    assert agreement["modele"]["recall"] > 0.9
    assert agreement["modele"]["agreement"] > 0.95
    assert model["flagged_share"] < 0.3
    protocol = model["injection_protocol"]
    assert protocol["judged_period"] == ["2021-01-01", "2021-05-30"]
    assert protocol["recall"]["panne"]["recall"] > 0.95 and protocol["false_alarm_rate"] < 0.06
    anomalies = pd.read_csv(out / "anomalies.csv", dtype={"Numéro de boucle": str})
    assert "0674" in set(anomalies["Numéro de boucle"])
    whole_zero = (anomalies["Comptage relevé"] == 0) & (anomalies["Heures manquantes"] == 0)
    assert whole_zero.sum() > 1000
    assert (anomalies.loc[whole_zero, "Anomalie"] == 1).all()
    assert (anomalies.loc[whole_zero, "Type d'anomalie"] == "panne").all()
