"""Every real entry's notebook runs under ``biblio run --all`` (quick), as in CI.

The HTML reports stay in ``test-artifacts/runs/<id>/`` for CI to keep as artifacts. Fails
when the library has no entry. Also: a freshly scaffolded entry runs end to end.
"""

import json
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from hub.runner.checks import contract_problems
from hub.runner.run import run_entry
from hub.runner.scaffold import scaffold_entry
from models.entries import REPO_ROOT, entry_ids, entry_paths
from tests.support.layout import make_repo_layout

ARTIFACTS = REPO_ROOT / "test-artifacts" / "runs"
OUTPUTS = {"metrics.json", "rapport.html", "run.json"}


def code_lines(notebook):
    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            for line in cell.source.splitlines():
                if len(line.strip()) > 25 and not line.strip().startswith("#"):
                    yield line.strip()


def assert_report_has_no_code(html, notebook):
    code_cells = re.findall(r'<div class="jp-Cell jp-CodeCell[^"]*"', html)
    assert all("jp-mod-noInput" in c for c in code_cells)
    assert 'class="highlight' not in html
    for line in code_lines(notebook):
        assert line not in html, f"code in the report: {line}"


@pytest.fixture(scope="module")
def run_all_result():
    ids = entry_ids()
    assert ids, f"no entry: no notebook in {REPO_ROOT / 'notebooks'}"
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    proc = subprocess.run(
        [sys.executable, "-m", "hub.runner.cli", "run", "--all", "--out", str(ARTIFACTS)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    return ids, proc


def test_run_all_succeeds(run_all_result):
    ids, proc = run_all_result
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((ARTIFACTS / "resume.json").read_text(encoding="utf-8"))
    assert sorted(summary["entries"]) == ids
    assert summary["quick"] is True


@pytest.mark.parametrize("entry_id", entry_ids())
def test_each_entry_wrote_its_outputs_and_a_codeless_report(run_all_result, entry_id):
    out = ARTIFACTS / entry_id
    assert OUTPUTS <= {p.name for p in out.iterdir()}
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["entry_id"] == entry_id
    assert metrics["data"]["grade"] in {"A", "B", "C", "D", "E"}
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["status"] == "success" and run["quick"] is True
    assert run["footprint"]["energy_kwh"] > 0
    html = (out / "rapport.html").read_text(encoding="utf-8")
    assert "Rapport d'exécution" in html and "Énergie estimée" in html
    assert_report_has_no_code(html, entry_paths(entry_id).notebook)


def test_scaffolded_entry_runs_end_to_end(tmp_path):
    root = make_repo_layout(tmp_path / "repo", REPO_ROOT)
    scaffold_entry("eau_potable", title="Consommation d'eau potable", root=root)
    assert contract_problems("eau_potable", root) == []
    result = run_entry("eau_potable", root=root, quick=True, out=tmp_path / "sortie")
    assert result.ok, result.message
    out = tmp_path / "sortie"
    assert {"predictions.csv", *OUTPUTS} <= {p.name for p in out.iterdir()}
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["baselines"]) == {"moyenne_site_jour_semaine"}
    html = (out / "rapport.html").read_text(encoding="utf-8")
    assert "Consommation d'eau potable" in html and "Note de qualité" in html
    assert "<img" in html  # the plot is embedded
    assert_report_has_no_code(html, entry_paths("eau_potable", root).notebook)
