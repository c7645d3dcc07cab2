"""A tiny fixture repository (one entry, ``tiny``) for the runner's tests.

Its package ``models/tiny/`` has only an ``__init__`` with the parts of the entry API the
runner calls, in the standard library alone, so its notebook runs in about two seconds under
papermill: ``validate_file`` really reads the CSV and reports problems in French,
``load_with_report`` and ``quality`` serve ``biblio validate``, the notebook really writes
``metrics.json`` and ``predictions.csv``.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

CODE_MARKER = "CODE_MARKER_SHOULD_NOT_LEAK"

MODULE = '''"""Tiny fixture entry for the runner tests."""

import csv
from dataclasses import dataclass, field
from pathlib import Path

ENTRY_ID = "tiny"
TITLE = "Petite entrée de démonstration"
SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "tiny" / "sample.csv"


@dataclass
class Problem:
    row: object
    column: object
    message: str


@dataclass
class Report:
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems

    def to_text(self):
        if self.ok:
            return "Aucun problème détecté."
        return "\\n".join(
            f"- ligne {p.row}, colonne {p.column} : {p.message}" for p in self.problems
        )

    def to_markdown(self):
        return self.to_text()


def validate_file(path, column_map=None):
    column_map = column_map or {}
    report = Report()
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows = [{column_map.get(k, k): v for k, v in r.items()} for r in rows]
    if not rows:
        report.problems.append(Problem(None, None, "le fichier est vide"))
    for i, r in enumerate(rows, start=1):
        for col in ("date", "value"):
            if col not in r:
                report.problems.append(Problem(None, col, "colonne absente"))
                return report
        try:
            float(r["value"])
        except ValueError:
            report.problems.append(Problem(i, "value", f"« {r['value']} » n'est pas un nombre"))
    return report


def load_with_report(data_path=None, column_map=None):
    from models.errors import DataReadError

    column_map = column_map or {}
    with open(data_path or SAMPLE, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows = [{column_map.get(k, k): v for k, v in r.items()} for r in rows]
    if any(float(r["value"]) < 0 for r in rows):
        raise DataReadError("Valeurs négatives : cette entrée ne sait pas les traiter.")
    return rows, Report()


def load(data_path=None, column_map=None):
    return load_with_report(data_path, column_map)[0]


@dataclass
class Quality:
    grade: str

    def to_markdown(self):
        return f"**Note de qualité : {self.grade}**"


def quality(rows):
    return Quality("A" if len(rows) >= 3 else "C")
'''

PARAMETERS = """data_path = None
column_map = {}
quick = False
output_dir = "resultats"
horizon = 7
alpha = 0.5
label = "essai"
fail = False"""

CELLS = [
    ("markdown", "# Petite entrée de démonstration\n\nNote de qualité des données : **A**."),
    ("parameters", PARAMETERS),
    ("code", "import csv, json, sys\nfrom pathlib import Path\nfrom models import tiny"),
    ("code", f"{CODE_MARKER} = 41 + 1\nprint('Résultat :', {CODE_MARKER})"),
    ("code", "if fail:\n    raise ValueError('échec voulu pour le test')"),
    ("markdown", "## Limites\n\nCe modèle est un exemple."),
    (
        "code",
        "rows = tiny.load(data_path, column_map)\n"
        "values = [float(r['value']) for r in rows]\n"
        "out = Path(output_dir)\nout.mkdir(parents=True, exist_ok=True)\n"
        "with open(out / 'predictions.csv', 'w', encoding='utf-8') as f:\n"
        "    f.write('date,prediction\\n')\n"
        "    for r, v in zip(rows, values):\n"
        "        f.write(f\"{r['date']},{v * alpha}\\n\")\n"
        "metrics = {'entry_id': 'tiny', 'data': {'rows': len(rows), 'grade': 'A'},\n"
        "           'model': {'name': 'moitié', 'metrics': {'mae': 1.0}},\n"
        "           'parameters': {'horizon': horizon, 'alpha': alpha, 'quick': quick,\n"
        "                          'label': label, 'data_path': data_path}}\n"
        "(out / 'metrics.json').write_text(json.dumps(metrics), encoding='utf-8')\n"
        "print('lignes :', len(rows))",
    ),
]

SAMPLE = "date,value\n2024-01-01,10\n2024-01-02,12\n2024-01-03,9\n"


def make_notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for kind, source in cells:
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            cell = nbformat.v4.new_code_cell(source)
            if kind == "parameters":
                cell.metadata["tags"] = ["parameters"]
            nb.cells.append(cell)
    return nb


def make_repo(root: Path, *, cells: list[tuple[str, str]] | None = None) -> Path:
    """Write the fixture repository under ``root``; return ``root``."""
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    (root / "models" / "tiny").mkdir(parents=True, exist_ok=True)
    (root / "datasets" / "tiny").mkdir(parents=True, exist_ok=True)
    (root / "models" / "__init__.py").write_text('"""Fixture models."""\n', encoding="utf-8")
    (root / "models" / "tiny" / "__init__.py").write_text(MODULE, encoding="utf-8")
    (root / "datasets" / "tiny" / "sample.csv").write_text(SAMPLE, encoding="utf-8")
    nbformat.write(make_notebook(cells or CELLS), str(root / "notebooks" / "tiny.ipynb"))
    return root


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
