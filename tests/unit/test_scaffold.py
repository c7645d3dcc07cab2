"""``biblio new-entry``: a scaffolded entry passes the contract checks; failures roll back."""

import json
import subprocess
import sys

import nbformat
import pytest

from hub.runner import checks, cli, entries
from hub.runner.scaffold import TEMPLATES, ScaffoldError, scaffold_entry
from models.entries import ENTRY_API, ENTRY_MODULES, REPO_ROOT, entry_paths
from tests.support.layout import make_repo_layout


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory):
    root = make_repo_layout(tmp_path_factory.mktemp("repo"), REPO_ROOT)
    created = scaffold_entry("eau_potable", title="Consommation d'eau potable", root=root)
    return root, created


def test_every_part_is_written(scaffolded):
    root, created = scaffolded
    paths = entry_paths("eau_potable", root)
    expected = [paths.module, *(paths.package / f"{name}.py" for name in ENTRY_MODULES)]
    expected += [paths.schema, paths.datasheet, paths.sample, paths.notebook]
    expected += [paths.catalog_record, paths.artifact, paths.card]
    assert paths.generator in expected
    assert sorted(created) == sorted(expected)
    assert all(p.is_file() and p.stat().st_size > 0 for p in expected)


def test_the_package_has_every_module_and_exposes_the_common_api(scaffolded):
    root, _ = scaffolded
    package = entry_paths("eau_potable", root).package
    modules = {p.stem for p in package.glob("*.py")}
    assert modules == {"__init__", *ENTRY_MODULES}
    module = entries.load_module("eau_potable", root)
    assert (module.ENTRY_ID, module.TITLE) == ("eau_potable", "Consommation d'eau potable")
    missing = [name for name in ENTRY_API if not callable(getattr(module, name, None))]
    assert missing == []
    data, report = module.load_with_report()
    assert report.ok and module.quality(data).grade in {"A", "B", "C", "D", "E"}
    assert len(module.generate_sample(sites=2, days=10)) == 20


def test_the_templates_are_files_and_the_package_is_lint_clean(scaffolded):
    root, _ = scaffolded
    names = {p.name for p in TEMPLATES.iterdir()}
    assert {f"{name}.py.tmpl" for name in ENTRY_MODULES} | {"__init__.py.tmpl"} <= names
    package = entry_paths("eau_potable", root).package
    ruff = [sys.executable, "-m", "ruff"]
    config = ["--config", str(REPO_ROOT / "pyproject.toml")]
    for command in (["check", *config, str(package)], ["format", "--check", *config, str(package)]):
        done = subprocess.run([*ruff, *command], capture_output=True, text=True, cwd=root)
        assert done.returncode == 0, done.stdout + done.stderr


def test_scaffolded_entry_passes_the_contract_checks(scaffolded):
    root, _ = scaffolded
    assert checks.contract_problems("eau_potable", root) == []


def test_biblio_run_works_on_the_scaffolded_entry(scaffolded, tmp_path, capsys):
    root, _ = scaffolded
    out = tmp_path / "sortie"
    code = cli.main(["--root", str(root), "run", "eau_potable", "--quick", "--out", str(out)])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert "Exécution réussie de « eau_potable »" in stdout
    assert {"metrics.json", "predictions.csv", "rapport.html", "run.json"} <= {
        p.name for p in out.iterdir()
    }
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["entry_id"] == "eau_potable" and metrics["parameters"]["quick"] is True
    assert set(metrics["baselines"]) == {"moyenne_site_jour_semaine"}
    header = (out / "predictions.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "site,date,reel,regression_calendrier,moyenne_site_jour_semaine"


def test_scaffold_writes_french_schema_and_national_record(scaffolded):
    root, _ = scaffolded
    paths = entry_paths("eau_potable", root)
    schema = json.loads(paths.schema.read_text(encoding="utf-8"))
    assert {f["name"]: f["title"] for f in schema["fields"]}["valeur"] == "Valeur journalière"
    record = paths.catalog_record.read_text(encoding="utf-8")
    assert "id: eau_potable" in record
    for field in ("Nom_collectivite", "Nom_du_projet", "Description_service"):
        assert f"{field}:" in record
    assert "Consommation d'eau potable" in record


def test_the_reference_model_beats_its_baseline_on_the_sample(scaffolded):
    root, _ = scaffolded
    card = entry_paths("eau_potable", root).card.read_text(encoding="utf-8")
    assert "# Fiche modèle : Consommation d'eau potable" in card
    # The scaffold's model is a real one: on its own sample it must beat the naive reference.
    rows = [
        line
        for line in card.splitlines()
        if line.startswith("| regression") or line.startswith("| moyenne")
    ]
    mae = {row.split("|")[1].split()[0]: float(row.split("|")[2].replace(",", ".")) for row in rows}
    assert mae["regression_calendrier"] < mae["moyenne_site_jour_semaine"]


def test_existing_entry_is_never_overwritten(scaffolded):
    root, _ = scaffolded
    before = entry_paths("eau_potable", root).module.read_bytes()
    with pytest.raises(ScaffoldError, match="existe déjà"):
        scaffold_entry("eau_potable", root=root, build=False)
    assert entry_paths("eau_potable", root).module.read_bytes() == before


@pytest.mark.parametrize("bad", ["EauPotable", "eau-potable", "1eau", "eau__potable", ""])
def test_invalid_ids_are_refused(tmp_path, bad):
    with pytest.raises(ScaffoldError, match="snake_case"):
        scaffold_entry(bad, root=tmp_path, build=False)
    assert list(tmp_path.iterdir()) == []


def test_failure_removes_every_file_written(tmp_path):
    root = make_repo_layout(tmp_path / "repo", REPO_ROOT)
    (root / "hub" / "catalog" / "entries").rmdir()
    (root / "hub" / "catalog" / "entries").write_text("pas un dossier", encoding="utf-8")
    before = sorted(p for p in root.rglob("*"))
    with pytest.raises(OSError):
        scaffold_entry("eau_potable", root=root, build=False)
    assert sorted(p for p in root.rglob("*")) == before


def test_contract_checks_catch_broken_notebooks(scaffolded, tmp_path):
    root, _ = scaffolded
    path = entry_paths("eau_potable", root).notebook
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("quick = False", "quick = 1 + 1")
    nb.cells[2].source += "\ndef aide():\n    pass"
    nb.cells[4].outputs = [nbformat.v4.new_output("stream", text="sortie")]
    broken = tmp_path / "eau_potable.ipynb"
    nbformat.write(nb, str(broken))
    problems = "\n".join(checks.notebook_problems(broken))
    assert "« quick » n'est pas une valeur littérale" in problems
    assert "définit « def aide »" in problems
    assert "cellule n° 5 enregistrée avec ses sorties" in problems


def test_contract_checks_catch_a_bad_schema(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(
        json.dumps(
            {
                "title": "T",
                "fields": [
                    {"name": "a", "type": "texte"},
                    {"name": "b"},
                    {"name": "site_id", "title": "site_id"},
                    {"name": "date", "title": "date"},
                    {"name": "Jour", "title": "Jour"},
                ],
            }
        ),
        encoding="utf-8",
    )
    problems = "\n".join(checks.schema_problems(path))
    assert "not supported" in problems  # frictionless: unknown field type
    assert "« a » n'a pas de titre" in problems and "« b » n'a pas de titre" in problems
    assert "« site_id » doit être un libellé en français" in problems
    assert "« date » doit être un libellé en français" in problems
    assert "« Jour »" not in problems  # a French header used as name and title is fine


def test_new_entry_command(tmp_path, capsys):
    root = make_repo_layout(tmp_path / "repo", REPO_ROOT)
    code = cli.main(["--root", str(root), "new-entry", "dechets_collecte", "--no-build"])
    out = capsys.readouterr().out
    assert code == 0 and "Entrée « dechets_collecte » créée" in out
    assert "notebooks/dechets_collecte.ipynb" in out
    problems = checks.contract_problems("dechets_collecte", root)
    # Without --build, only the reference model and its card are missing.
    assert problems == [
        "partie manquante (modèle de référence) : models/artifacts/dechets_collecte.skops",
        "partie manquante (fiche modèle) : models/cards/dechets_collecte.md",
    ]
