"""The runner on the tiny fixture entry: outputs complete or absent, errors in French."""

import hashlib
import json
import re

import pytest
from runner_fixture import CELLS, CODE_MARKER, make_repo, read_json

from hub.runner.run import EXIT_FAILED, EXIT_INVALID, EXIT_OK, run_entry

EXPECTED_FILES = {"metrics.json", "predictions.csv", "rapport.html", "run.json", "tiny.ipynb"}


def leftovers(parent):
    return sorted(p.name for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return make_repo(tmp_path_factory.mktemp("repo"))


@pytest.fixture(scope="module")
def user_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "mes données.csv"
    path.write_text("jour,valeur\n2024-02-01,4\n2024-02-02,6\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def good_run(repo, user_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "cantine"
    result = run_entry(
        "tiny",
        root=repo,
        data=user_file,
        column_map={"jour": "date", "valeur": "value"},
        param_args=["horizon=3", "label=mon essai"],
        out=out,
        quick=True,
    )
    return result, out


def test_success_writes_every_output(good_run):
    result, out = good_run
    assert result.exit_code == EXIT_OK, result.message
    assert {p.name for p in out.iterdir()} == EXPECTED_FILES
    assert leftovers(out.parent) == []


def test_parameters_and_user_file_reach_the_notebook(good_run, user_file):
    _, out = good_run
    metrics = read_json(out / "metrics.json")
    assert metrics["parameters"]["horizon"] == 3
    assert metrics["parameters"]["label"] == "mon essai"
    assert metrics["parameters"]["quick"] is True
    assert metrics["parameters"]["data_path"] == str(user_file.resolve())
    lines = (out / "predictions.csv").read_text(encoding="utf-8").splitlines()
    assert lines == ["date,prediction", "2024-02-01,2.0", "2024-02-02,3.0"]


def test_run_json_records_the_run(good_run, user_file):
    _, out = good_run
    run = read_json(out / "run.json")
    assert run["status"] == "success" and run["exit_code"] == 0
    assert run["entry_id"] == "tiny"
    assert run["title"] == "Petite entrée de démonstration"
    assert run["input"]["sha256"] == hashlib.sha256(user_file.read_bytes()).hexdigest()
    assert run["parameters_user"] == {"horizon": 3, "label": "mon essai"}
    assert run["column_map"] == {"jour": "date", "valeur": "value"}
    assert set(run["versions"]) >= {"python", "pandas", "scikit-learn", "papermill", "biblio-ia"}
    fp = run["footprint"]
    assert 0 < fp["cpu_kernel_s"] and 0 < fp["wall_s"] < 60
    assert fp["peak_kernel_memory_mb"] > 10  # the kernel process was sampled
    assert fp["energy_kwh"] > 0 and fp["co2e_kg"] > 0 and fp["is_estimate"] is True
    timings = run["timings"]
    cells = {c["cell_number"]: c for c in timings["cells"]}
    assert sorted(cells) == [2, 3, 4, 5, 7]  # every code cell, numbered as in the notebook
    assert cells[4]["first_line"].startswith(CODE_MARKER)
    assert all(c["duration_s"] >= 0 for c in cells.values())
    assert timings["execute_s"] == fp["wall_s"]
    assert timings["total_s"] >= timings["prepare_s"] + timings["execute_s"] + timings["report_s"]


def test_html_report_has_no_code_and_is_french(good_run):
    _, out = good_run
    html = (out / "rapport.html").read_text(encoding="utf-8")
    assert '<html lang="fr"' in html
    assert "Rapport d'exécution — Petite entrée de démonstration" in html
    assert "Résultat : 42" in html  # outputs are kept...
    assert "Limites" in html  # ...and the notebook's own Markdown
    assert "Énergie estimée" in html and "estimation" in html
    # ...but no code: no source line of any code cell, no input area of a code cell.
    assert CODE_MARKER not in html
    for kind, source in CELLS:
        if kind != "markdown":
            for line in source.splitlines():
                if len(line.strip()) > 12:
                    assert line.strip() not in html, line
    code_cells = re.findall(r'<div class="jp-Cell jp-CodeCell[^"]*"', html)
    assert code_cells and all("jp-mod-noInput" in c for c in code_cells)
    assert 'class="highlight' not in html


def test_bad_file_stops_before_running_with_the_french_report(repo, tmp_path):
    bad = tmp_path / "mauvais.csv"
    bad.write_text("date,value\n2024-01-01,dix\n2024-01-02,3\n", encoding="utf-8")
    out = tmp_path / "sortie"
    result = run_entry("tiny", root=repo, data=bad, out=out)
    assert result.exit_code == EXIT_INVALID
    assert "ne peut pas être utilisé" in result.message
    assert "ligne 1, colonne value : « dix » n'est pas un nombre" in result.message
    assert list(tmp_path.iterdir()) == [bad]  # nothing ran, nothing was written


def test_data_refused_inside_the_notebook_is_a_data_error(repo, tmp_path):
    # validate_file accepts negative values, the entry's load() refuses them in the notebook.
    odd = tmp_path / "negatif.csv"
    odd.write_text("date,value\n2024-01-01,-3\n", encoding="utf-8")
    result = run_entry("tiny", root=repo, data=odd, out=tmp_path / "o", keep_failed=False)
    assert result.exit_code == EXIT_INVALID
    assert "ne peut pas être utilisé par l'entrée « tiny » (arrêt dans la cellule n° 7)" in (
        result.message
    )
    assert "Valeurs négatives" in result.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["negatif.csv"]


def test_missing_file_is_refused(repo, tmp_path):
    result = run_entry("tiny", root=repo, data=tmp_path / "absent.csv", out=tmp_path / "o")
    assert result.exit_code == EXIT_INVALID and "Fichier introuvable" in result.message


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"param_args": ["horizn=2"]}, "paramètre inconnu"),
        ({"param_args": ["horizon=deux"]}, "de type entier"),
        ({"column_map": {"a": "b"}}, "--map s'utilise avec --data"),
    ],
)
def test_bad_options_are_refused_before_running(repo, tmp_path, kwargs, expected):
    result = run_entry("tiny", root=repo, out=tmp_path / "o", **kwargs)
    assert result.exit_code == EXIT_INVALID and expected in result.message
    assert not any(tmp_path.iterdir())


def test_unknown_entry_lists_the_known_ones(repo, tmp_path):
    result = run_entry("cantine", root=repo, out=tmp_path / "o")
    assert result.exit_code == EXIT_INVALID
    assert "Entrée inconnue : « cantine »" in result.message and "tiny" in result.message


def test_failing_cell_is_named_and_outputs_are_complete_or_absent(repo, tmp_path):
    out = tmp_path / "sortie"
    first = run_entry("tiny", root=repo, out=out, param_args=["label=premier"])
    assert first.exit_code == EXIT_OK
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    result = run_entry("tiny", root=repo, out=out, param_args=["fail=True"])
    assert result.exit_code == EXIT_FAILED
    assert "la cellule n° 5 (« if fail: »)" in result.message
    assert "ValueError : échec voulu pour le test" in result.message
    # The previous complete run is untouched, the failed one is kept aside.
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert result.failed_dir is not None and result.failed_dir.name.startswith("sortie.echec-")
    assert str(result.failed_dir) in result.message
    failed_run = read_json(result.failed_dir / "run.json")
    assert failed_run["status"] == "failed" and failed_run["error"]["cell_number"] == 5
    assert not (result.failed_dir / "metrics.json").exists()
    assert leftovers(tmp_path) == []

    # A new successful run replaces the previous run's own files (listed in its run.json) but
    # keeps what the user added to the folder (a former defect).
    assert set(read_json(out / "run.json")["files"]) == EXPECTED_FILES
    (out / "mes notes.txt").write_text("à garder", encoding="utf-8")
    (out / "analyses").mkdir()
    (out / "analyses" / "graphique.png").write_bytes(b"png")
    stale = read_json(out / "run.json")
    stale["files"].append("ancienne_sortie.csv")  # an output the next run does not write
    (out / "run.json").write_text(json.dumps(stale), encoding="utf-8")
    (out / "ancienne_sortie.csv").write_text("a\n1\n", encoding="utf-8")
    assert run_entry("tiny", root=repo, out=out, params={"horizon": 9}).exit_code == EXIT_OK
    assert {p.name for p in out.iterdir()} == EXPECTED_FILES | {"mes notes.txt", "analyses"}
    assert (out / "mes notes.txt").read_text(encoding="utf-8") == "à garder"
    assert (out / "analyses" / "graphique.png").read_bytes() == b"png"
    assert json.loads((out / "metrics.json").read_text())["parameters"]["horizon"] == 9
    assert leftovers(tmp_path) == []


def test_output_folders_have_the_usual_permissions(repo, tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        ok = run_entry("tiny", root=repo, out=tmp_path / "ok")
        failed = run_entry("tiny", root=repo, out=tmp_path / "ko", params={"fail": True})
    finally:
        os.umask(old)
    assert ok.exit_code == EXIT_OK and failed.exit_code == EXIT_FAILED
    for folder in (tmp_path / "ok", failed.failed_dir):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755, folder


def test_failure_without_keeping_leaves_nothing(repo, tmp_path):
    result = run_entry(
        "tiny", root=repo, out=tmp_path / "o", params={"fail": True}, keep_failed=False
    )
    assert result.exit_code == EXIT_FAILED and "Rien n'a été écrit" in result.message
    assert list(tmp_path.iterdir()) == []


def test_notebook_that_writes_no_metrics_is_a_failure(tmp_path):
    cells = [c for c in CELLS if "metrics" not in c[1]]
    root = make_repo(tmp_path / "repo", cells=cells)
    result = run_entry("tiny", root=root, out=tmp_path / "o", keep_failed=False)
    assert result.exit_code == EXIT_FAILED
    assert "n'a pas écrit metrics.json" in result.message
    assert not (tmp_path / "o").exists()


def test_foreign_output_folder_is_not_overwritten(repo, tmp_path):
    out = tmp_path / "mes documents"
    out.mkdir()
    (out / "important.txt").write_text("ne pas effacer", encoding="utf-8")
    result = run_entry("tiny", root=repo, out=out)
    assert result.exit_code == EXIT_INVALID and "choisissez un autre dossier" in result.message
    assert [p.name for p in out.iterdir()] == ["important.txt"]


def test_broken_entry_module_is_a_french_error(tmp_path):
    root = make_repo(tmp_path / "repo")
    (root / "models" / "tiny" / "__init__.py").write_text("raise RuntimeError('cassé')\n", "utf-8")
    data = tmp_path / "d.csv"
    data.write_text("date,value\n2024-01-01,1\n", encoding="utf-8")
    result = run_entry("tiny", root=root, data=data, out=tmp_path / "o")
    assert result.exit_code == EXIT_INVALID
    assert "ne peut pas être importé : RuntimeError : cassé" in result.message
    assert not (tmp_path / "o").exists()


def test_unwritable_output_place_is_a_french_error(repo, tmp_path):
    blocker = tmp_path / "fichier.txt"
    blocker.write_text("x", encoding="utf-8")
    result = run_entry("tiny", root=repo, out=blocker / "sortie")
    assert result.exit_code == EXIT_INVALID and "Impossible d'écrire dans" in result.message
