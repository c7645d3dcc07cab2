"""The entry contract as checks: ``contract_problems(entry_id, root)`` lists what is wrong.

Used by ``tests/unit/test_contract_entries.py`` (every real entry) and by the scaffold tests
(an entry made by ``biblio new-entry``). Each problem is a French sentence naming the file.
Checks: every part present; the notebook names the ``python3`` kernel, its first code cell is
tagged ``parameters`` with literal assignments only (including ``data_path = None``,
``column_map = {}``, ``quick = False``, ``output_dir = "resultats"``), no ``def``/``class``
anywhere, no committed outputs; the schema is a valid Table Schema whose fields have French
titles; the package ``models/<id>/`` has exactly the modules ``models.entries.ENTRY_MODULES``
and its ``__init__`` exposes ``ENTRY_ID``, ``TITLE`` and every function of
``models.entries.ENTRY_API``; the sample passes its own validation; the catalog record reads
without error.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat

from hub.runner import entries
from models.entries import ENTRY_API, ENTRY_MODULES

REQUIRED_DEFAULTS = {"data_path": None, "column_map": {}, "quick": False, "output_dir": "resultats"}


def _code(source: str) -> str:
    """Cell source without IPython magics / shell lines, for ``ast``."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def parameters_problems(cell_source: str) -> list[str]:
    try:
        tree = ast.parse(_code(cell_source))
    except SyntaxError as exc:
        return [f"cellule parameters illisible : {exc}"]
    problems, found = [], {}
    for node in tree.body:
        target = value = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if not isinstance(target, ast.Name):
            problems.append(f"cellule parameters : ligne {node.lineno} n'est pas « nom = valeur »")
            continue
        try:
            found[target.id] = ast.literal_eval(value)
        except ValueError:
            problems.append(
                f"cellule parameters : « {target.id} » n'est pas une valeur littérale "
                f"(ligne {node.lineno})"
            )
    for name, default in REQUIRED_DEFAULTS.items():
        if name not in found:
            problems.append(f"cellule parameters : paramètre obligatoire « {name} » absent")
        elif found[name] != default or type(found[name]) is not type(default):
            problems.append(
                f"cellule parameters : « {name} » doit valoir {default!r} (trouvé {found[name]!r})"
            )
    return problems


def notebook_problems(path: Path) -> list[str]:
    try:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # any unreadable notebook is one problem
        return [f"{path.name} : notebook invalide ({exc})"]
    problems = []
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        problems.append(f"{path.name} : le noyau (kernelspec) doit être « python3 »")
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    if not code_cells or "parameters" not in code_cells[0].metadata.get("tags", []):
        problems.append(f"{path.name} : la première cellule de code doit porter le tag parameters")
    else:
        problems += [f"{path.name} : {p}" for p in parameters_problems(code_cells[0].source)]
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            problems.append(f"{path.name} : cellule n° {number} enregistrée avec ses sorties")
        try:
            tree = ast.parse(_code(cell.source))
        except SyntaxError as exc:
            problems.append(f"{path.name} : cellule n° {number} illisible ({exc.msg})")
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                kind = "class" if isinstance(node, ast.ClassDef) else "def"
                problems.append(
                    f"{path.name} : cellule n° {number} définit « {kind} {node.name} » "
                    "(la logique va dans le module de l'entrée)"
                )
    return problems


def _technical(title: str, name: str) -> bool:
    """A title that is an identifier (``site_id``, or the lower-case name itself)."""
    if not any(ch.isalpha() for ch in title):
        return True
    if re.fullmatch(r"[A-Za-z0-9]+(_[A-Za-z0-9]+)+", title):
        return True
    return title == name and title.isascii() and title.islower()


def schema_problems(path: Path) -> list[str]:
    from frictionless import Schema

    try:
        descriptor = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{path.name} : JSON illisible ({exc})"]
    report = Schema.validate_descriptor(descriptor)
    problems = [f"{path.name} : {e.message}" for e in report.errors]
    if not str(descriptor.get("title") or "").strip():
        problems.append(f"{path.name} : titre (title) du schéma absent")
    for f in descriptor.get("fields") or []:
        title = str(f.get("title") or "").strip()
        if not title:
            problems.append(f"{path.name} : le champ « {f.get('name')} » n'a pas de titre")
        elif _technical(title, str(f.get("name"))):
            problems.append(
                f"{path.name} : le titre du champ « {f.get('name')} » doit être un libellé "
                "en français, pas son nom technique"
            )
    return problems


def package_problems(entry_id: str, package: Path) -> list[str]:
    """The modules of ``models/<id>/`` that are missing, or there beyond ``ENTRY_MODULES``."""
    where = f"models/{entry_id}/"
    if not package.is_dir():
        return []  # reported as a missing part
    present = {p.stem for p in package.glob("*.py")} - {"__init__"}
    expected = ", ".join(f"{m}.py" for m in ENTRY_MODULES)
    problems = [
        f"{where} : module {name}.py absent (modules d'une entrée : {expected})"
        for name in ENTRY_MODULES
        if name not in present
    ]
    problems += [
        f"{where} : module {name}.py en trop (modules d'une entrée : {expected})"
        for name in sorted(present - set(ENTRY_MODULES))
    ]
    return problems


def module_problems(entry_id: str, root: Path, sample: Path) -> list[str]:
    where = f"models/{entry_id}/"
    try:
        module = entries.load_module(entry_id, root)
    except Exception as exc:  # an import error is a contract problem, reported as such
        return [f"{where} : import impossible ({type(exc).__name__} : {exc})"]
    problems = []
    if getattr(module, "ENTRY_ID", None) != entry_id:
        problems.append(f"{where}__init__.py : ENTRY_ID doit valoir « {entry_id} »")
    if not str(getattr(module, "TITLE", "") or "").strip():
        problems.append(f"{where}__init__.py : TITLE (titre en français) absent")
    for name in ENTRY_API:
        if not callable(getattr(module, name, None)):
            problems.append(f"{where}__init__.py : fonction {name}() absente")
    if callable(getattr(module, "validate_file", None)) and sample.is_file():
        try:
            report = module.validate_file(str(sample))
            if not report.ok:
                problems.append(
                    f"{sample.name} ne passe pas sa propre validation :\n" + report.to_text()
                )
        except Exception as exc:  # a crash on the sample is a contract problem
            problems.append(f"validate_file(sample) échoue : {type(exc).__name__} : {exc}")
    return problems


def record_problems(entry_id: str, root: Path, path: Path) -> list[str]:
    try:
        from hub.catalog.records import read_record
    except ImportError:
        return []
    from hub.catalog import normalise

    _, problems = read_record(path)
    return [
        f"{path.name} : {p.to_text() if hasattr(p, 'to_text') else p}"
        for p in problems
        if getattr(p, "level", None) == normalise.ERROR
    ]


def contract_problems(entry_id: str, root: Path | str | None = None) -> list[str]:
    """Every way ``entry_id`` breaks the entry contract (empty list: it complies)."""
    base = entries.repo_root(root)
    paths = entries.entry_paths(entry_id, base)
    parts = {
        "dossier de données": paths.dataset_dir,
        "échantillon": paths.sample,
        "schéma": paths.schema,
        "fiche de données": paths.datasheet,
        "paquet de l'entrée": paths.module,
        "générateur": paths.generator,
        "notebook": paths.notebook,
        "modèle de référence": paths.artifact,
        "fiche modèle": paths.card,
        "fiche catalogue": paths.catalog_record,
    }
    problems = [
        f"partie manquante ({label}) : {path.relative_to(base)}"
        for label, path in parts.items()
        if not path.exists()
    ]
    if paths.notebook.is_file():
        problems += notebook_problems(paths.notebook)
    if paths.schema.is_file():
        problems += schema_problems(paths.schema)
    if paths.datasheet.is_file():
        text = paths.datasheet.read_text(encoding="utf-8")
        if not any(line.startswith("# ") for line in text.splitlines()):
            problems.append("fiche de données : titre « # ... » absent")
    problems += package_problems(entry_id, paths.package)
    if paths.module.is_file():
        problems += module_problems(entry_id, base, paths.sample)
    if paths.catalog_record.is_file():
        problems += record_problems(entry_id, base, paths.catalog_record)
    return problems
