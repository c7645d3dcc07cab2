"""``biblio new-entry <entry_id>``: scaffold every part of a new library entry.

The parts are written from the template files of ``hub/runner/templates/entry/``, which
already satisfy the entry contract (``docs/design.md``): the package ``models/<id>/`` with
the same modules as every entry (``models.entries.ENTRY_MODULES``; a real baseline: ridge
regression on the calendar against a same-weekday mean) and its ``__init__`` exposing
``ENTRY_ID``, ``TITLE`` and the common API (``models.entries.ENTRY_API``); the dataset folder
(``schema.json`` Table Schema with French titles, ``README.md`` datasheet, ``sample.csv``
made by the package's seeded ``sample`` module); ``notebooks/<id>.ipynb`` (``parameters``
cell, writes ``metrics.json`` and ``predictions.csv``); the catalog record
``hub/catalog/entries/<id>.yaml`` (national data model field names); then the reference
model and its card (``build_reference``).

Templates use ``string.Template`` placeholders: ``$entry_id``, ``$title`` (plain text),
``$title_doc`` (for docstrings), ``$title_repr`` (a Python literal), ``$title_json`` (inside
a JSON string) and ``$seed``. Nothing is overwritten; if a step fails, everything written so
far is removed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import shutil
import string
from pathlib import Path

import nbformat

from hub.catalog.records import scaffold_record
from hub.runner import entries
from models.entries import ENTRY_MODULES, EntryPaths, entry_paths, is_entry_id, resolve_root
from models.errors import BiblioError
from models.fsutil import write_text

TEMPLATES = Path(__file__).resolve().parent / "templates" / "entry"


class ScaffoldError(BiblioError):
    """The entry id is invalid or some of its files already exist."""


def template_values(entry_id: str, title: str) -> dict[str, str]:
    """The placeholders' values for ``entry_id`` and its French ``title``."""
    return {
        "entry_id": entry_id,
        "title": title,
        "title_doc": title.replace('"', "'").replace("\\", "/"),
        "title_repr": json.dumps(title, ensure_ascii=False),
        "title_json": json.dumps(title, ensure_ascii=False)[1:-1],
        "seed": str(random.Random(entry_id).randrange(10**6, 10**7)),
    }


def render(name: str, values: dict[str, str]) -> str:
    """The template file ``name`` with its placeholders replaced."""
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    return string.Template(text).substitute(values)


def render_notebook(values: dict[str, str]) -> str:
    """The entry's notebook, checked by nbformat."""
    nb = nbformat.reads(render("notebook.ipynb.tmpl", values), as_version=4)
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def check_new(entry_id: str, base: Path) -> EntryPaths:
    """The paths of a new entry, or ``ScaffoldError`` (invalid id, parts already there)."""
    if not is_entry_id(entry_id):
        raise ScaffoldError(
            f"Identifiant invalide : « {entry_id} ». Utilisez des minuscules, chiffres et "
            "tirets bas (snake_case), en commençant par une lettre, par exemple eau_potable."
        )
    paths = entry_paths(entry_id, base)
    parts = [paths.notebook, paths.package, paths.dataset_dir]
    parts += [paths.catalog_record, paths.artifact, paths.card]
    existing = [p for p in parts if p.exists()]
    if existing:
        listing = ", ".join(str(p.relative_to(base)) for p in existing)
        raise ScaffoldError(f"L'entrée « {entry_id} » existe déjà en partie : {listing}.")
    return paths


def package_files(paths: EntryPaths, values: dict[str, str]) -> dict[Path, str]:
    """Every file of the package ``models/<id>/``: ``__init__`` and the entry's modules."""
    files = {paths.module: render("__init__.py.tmpl", values)}
    for name in ENTRY_MODULES:
        files[paths.package / f"{name}.py"] = render(f"{name}.py.tmpl", values)
    return files


def scaffold_entry(
    entry_id: str, *, title: str | None = None, root: Path | str | None = None, build: bool = True
) -> list[Path]:
    """Create every part of ``entry_id`` under ``root``; return the files written."""
    base = resolve_root(root)
    paths = check_new(entry_id, base)
    values = template_values(entry_id, title or f"Nouvelle entrée {entry_id.replace('_', ' ')}")
    files = package_files(paths, values)
    files[paths.schema] = render("schema.json.tmpl", values)
    files[paths.datasheet] = render("datasheet.md.tmpl", values)
    files[paths.catalog_record] = scaffold_record(entry_id, title=values["title"], root=base)
    files[paths.notebook] = render_notebook(values)
    created: list[Path] = []
    try:
        for path, text in files.items():
            write_text(path, text)
            created.append(path)
        importlib.invalidate_caches()  # the new package must be importable right away
        package = entries.load_module(entry_id, base)
        created.append(package.write_sample(paths.dataset_dir))
        if build:
            package.build_reference()
            created += [p for p in (paths.artifact, paths.card) if p.exists()]
    except BaseException:
        remove_entry(paths, created)
        raise
    return created


def remove_entry(paths: EntryPaths, created: list[Path]) -> None:
    """Undo a scaffold: the files written and the folders made for the new entry."""
    for path in reversed(created):
        path.unlink(missing_ok=True)
    for path in (paths.artifact, paths.card):
        path.unlink(missing_ok=True)
    for folder in (paths.package, paths.dataset_dir):  # both new: check_new refused otherwise
        shutil.rmtree(folder, ignore_errors=True)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "new-entry",
        help="créer le squelette d'une nouvelle entrée (données, modèle, notebook, fiche)",
    )
    parser.add_argument("entry_id", help="identifiant snake_case, par exemple eau_potable")
    parser.add_argument("--title", help="titre en français de l'entrée")
    parser.add_argument(
        "--no-build", action="store_true", help="ne pas entraîner le modèle de référence"
    )
    parser.set_defaults(func=cmd_new_entry)


def cmd_new_entry(args: argparse.Namespace) -> int:
    created = scaffold_entry(
        args.entry_id, title=args.title, root=args.root, build=not args.no_build
    )
    print(f"Entrée « {args.entry_id} » créée :")
    for path in created:
        print(f"  {path.relative_to(args.root)}")
    print(
        f"Étapes suivantes : adaptez le paquet models/{args.entry_id}/ (données, modèle, "
        f"références, échantillon), puis « biblio run {args.entry_id} --quick » et les tests "
        "de contrat (pytest tests/unit/test_contract_entries.py)."
    )
    return 0
