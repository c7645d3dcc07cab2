"""The ``biblio`` command line, in-process (``main``) and as the installed console script."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from runner_fixture import make_repo

from hub.runner import cli


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return make_repo(tmp_path_factory.mktemp("repo"))


def run_main(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_ids_and_french_titles(repo, capsys):
    code, out, _ = run_main(capsys, "--root", str(repo), "list")
    assert code == 0
    assert out.split()[:1] == ["tiny"] and "Petite entrée de démonstration" in out
    code, out, _ = run_main(capsys, "--root", str(repo), "list", "--json")
    assert json.loads(out) == [{"entry_id": "tiny", "title": "Petite entrée de démonstration"}]


def test_root_option_does_not_leak_into_the_environment(repo, capsys):
    import os

    before = dict(os.environ)
    code, out, _ = run_main(capsys, "--root", str(repo), "list")
    assert code == 0 and out.startswith("tiny")
    assert dict(os.environ) == before


def test_validate_good_and_bad_files(repo, tmp_path, capsys):
    good = tmp_path / "bon.csv"
    good.write_text("Jour,value\n2024-01-01,3\n", encoding="utf-8")
    code, out, _ = run_main(
        capsys, "--root", str(repo), "validate", "tiny", str(good), "--map", "Jour=date"
    )
    assert code == 0 and "Fichier utilisable" in out
    assert "Note de qualité : C" in out  # the entry's quality report follows

    odd = tmp_path / "negatif.csv"
    odd.write_text("date,value\n2024-01-01,-1\n", encoding="utf-8")
    code, out, err = run_main(capsys, "--root", str(repo), "validate", "tiny", str(odd))
    assert code == 2 and "Fichier refusé" in err and "Valeurs négatives" in err
    assert "utilisable" not in out

    bad = tmp_path / "mauvais.csv"
    bad.write_text("date,value\n2024-01-01,trois\n", encoding="utf-8")
    code, _, err = run_main(capsys, "--root", str(repo), "validate", "tiny", str(bad))
    assert code == 2
    assert "Fichier refusé" in err and "« trois » n'est pas un nombre" in err


def test_run_refuses_unknown_parameter_with_exit_code_2(repo, tmp_path, capsys):
    code, _, err = run_main(
        capsys,
        "--root",
        str(repo),
        "run",
        "tiny",
        "--param",
        "vitesse=3",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2
    assert "paramètre inconnu : « vitesse »" in err and "horizon (entier" in err
    assert "Traceback" not in err


def test_run_needs_an_entry_or_all(capsys):
    code, _, err = run_main(capsys, "run")
    assert code == 2 and "--all" in err


def test_unknown_entry_is_a_french_error(repo, capsys):
    code, _, err = run_main(capsys, "--root", str(repo), "validate", "inconnue", "x.csv")
    assert code == 2 and "Entrée inconnue : « inconnue »" in err


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in ("run", "validate", "list", "new-entry", "build-model"):
        assert command in out


def test_optional_command_modules_are_registered(monkeypatch, capsys, tmp_path):
    # A later module (e.g. the catalog's) only has to define register(subparsers).
    module = tmp_path / "biblio_test_extra_commands.py"
    module.write_text(
        '"""Extra commands."""\n'
        "def register(subparsers):\n"
        "    p = subparsers.add_parser('bonjour')\n"
        "    p.set_defaults(func=lambda args: print('bonjour') or 0)\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(
        cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "biblio_test_extra_commands", "absent.mod")
    )
    code, out, _ = run_main(capsys, "bonjour")
    assert code == 0 and out.strip() == "bonjour"


def test_console_script_runs_an_entry_end_to_end(repo, tmp_path):
    biblio = shutil.which("biblio", path=str(Path(sys.executable).parent))
    assert biblio, "the biblio console script is not installed in this environment"
    out = tmp_path / "résultats"
    proc = subprocess.run(
        [biblio, "--root", str(repo), "run", "tiny", "--param", "horizon=5", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Exécution réussie" in proc.stdout and "Énergie estimée" in proc.stdout
    assert "WARNING" not in proc.stderr  # the kernel's TCP warning is silenced
    assert json.loads((out / "metrics.json").read_text())["parameters"]["horizon"] == 5


def test_an_unexpected_error_is_a_french_message_and_a_log(monkeypatch, capsys, tmp_path):
    module = tmp_path / "biblio_test_broken_command.py"
    module.write_text(
        '"""A command with a bug."""\n'
        "def register(subparsers):\n"
        "    p = subparsers.add_parser('panne')\n"
        "    p.set_defaults(func=lambda args: {}['clé absente'])\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HOME", str(tmp_path / "maison"))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, module.stem))
    code, out, err = run_main(capsys, "panne")
    assert code == 1 and out == ""
    assert "Traceback" not in err and "Erreur inattendue de biblio (KeyError)" in err
    logs = list((tmp_path / "maison" / ".cache" / "biblio-ia" / "erreurs").glob("biblio-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    text = logs[0].read_text(encoding="utf-8")
    assert "Traceback" in text and "clé absente" in text and text.startswith("biblio panne")


def test_map_errors_show_a_map_example_and_name_unknown_targets(capsys):
    sample = Path(__file__).resolve().parents[2] / "datasets/canteen_attendance/sample.csv"
    code, _, err = run_main(capsys, "validate", "canteen_attendance", str(sample), "--map", "reel")
    assert code == 2 and '--map "Nombre de repas=reel"' in err and "--param" not in err
    code, _, err = run_main(
        capsys, "validate", "canteen_attendance", str(sample), "--map", "reel=nb_repas"
    )
    assert code == 2 and "« nb_repas » n'est pas une colonne attendue" in err
    assert "« reel »" in err and "Traceback" not in err


@pytest.mark.parametrize("entry", ["canteen_attendance", "air_quality", "bike_counters"])
def test_validate_accepts_each_entry_s_own_sample(entry, capsys):
    # a former defect: `biblio validate bike_counters` crashed on its own sample (TypeError)
    sample = Path(__file__).resolve().parents[2] / "datasets" / entry / "sample.csv"
    code, out, err = run_main(capsys, "validate", entry, str(sample))
    assert code == 0, err
    assert "Fichier utilisable" in out and "Note de qualité" in out
