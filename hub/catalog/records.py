"""Our own entries' catalog records: ``hub/catalog/entries/<entry_id>.yaml`` (French).

A record has three parts (format documented in ``docs/design.md``, "Catalog records"):

- ``id``: the entry id (the file's stem);
- ``national``: the project in the national data model, with the national field names
  (each field's tier comes from ``hub.catalog.national``, never from the record);
- ``expert``: the expert part — notebook, model card, datasheet, sources (paths relative to
  the repository root; a folder such as an entry's package ``models/<id>/`` stands for its
  Python files, see ``source_files``), ``launch: true`` when the entry has a demonstrator,
  and optionally ``last_run``, the folder where CI writes ``metrics.json`` and ``run.json``.

``scaffold_record`` writes the skeleton used by ``biblio new-entry``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hub.catalog import normalise as n
from hub.catalog.importer import Problem, normalise_fields
from hub.catalog.national import FIELDS_BY_NAME
from models.entries import entry_paths, resolve_root

TOP_KEYS = {"id", "national", "expert"}
EXPERT_KEYS = {"notebook", "model_card", "datasheet", "sources", "launch", "last_run"}
EXPERT_PATH_KEYS = ("notebook", "model_card", "datasheet")


def entries_dir(root: Path | str | None = None) -> Path:
    return resolve_root(root) / "hub" / "catalog" / "entries"


def source_files(rel: str, root: Path | str | None = None) -> list[str]:
    """A record's source path as files: a folder gives its ``*.py`` files (sorted, relative)."""
    base = resolve_root(root)
    folder = (base / rel).resolve()
    if not folder.is_dir() or not folder.is_relative_to(base):
        return [rel]
    found = sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)
    return [p.relative_to(base).as_posix() for p in found]


def read_record(path: Path | str) -> tuple[dict[str, Any], list[Problem]]:
    """One record, normalised like an import, with its problems (French)."""
    p = Path(path)
    problems: list[Problem] = []
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        problem = Problem(n.ERROR, f"fiche illisible : {exc}", record=p.stem)
        return {"id": p.stem, "origin": "biblio-ia", "fields": {}, "expert": None}, [problem]
    if not isinstance(data, dict):
        data = {}
        problems.append(Problem(n.ERROR, "la fiche doit être un dictionnaire YAML", record=p.stem))
    record_id = str(data.get("id") or p.stem)
    if record_id != p.stem:
        problems.append(
            Problem(n.ERROR, f"id « {record_id} » différent du nom du fichier", record=p.stem)
        )
    for key in sorted(set(data) - TOP_KEYS):
        problems.append(Problem(n.ERROR, f"clé « {key} » inconnue", record=record_id, field=key))
    national = data.get("national") or {}
    for key in national:
        if key not in FIELDS_BY_NAME:
            problems.append(
                Problem(n.ERROR, "champ absent du modèle national", record=record_id, field=key)
            )
    fields, notes = normalise_fields(national)
    problems += [Problem(level, msg, None, record_id, f) for f, level, msg in notes]
    for spec in FIELDS_BY_NAME.values():
        if spec.required and spec.name not in fields:
            problems.append(
                Problem(n.WARNING, "champ obligatoire absent", record=record_id, field=spec.name)
            )
    expert = data.get("expert")
    if expert is not None:
        expert = dict(expert)
        for key in sorted(set(expert) - EXPERT_KEYS):
            problems.append(
                Problem(n.ERROR, f"clé expert « {key} » inconnue", record=record_id, field=key)
            )
        expert["sources"] = [str(s) for s in expert.get("sources") or []]
        expert["launch"] = bool(expert.get("launch", False))
    return {"id": record_id, "origin": "biblio-ia", "fields": fields, "expert": expert}, problems


def check_expert_files(record: dict[str, Any], root: Path | str | None = None) -> list[Problem]:
    """Problems for expert files that do not exist (paths are relative to ``root``)."""
    base = resolve_root(root)
    expert = record.get("expert") or {}
    paths = [expert.get(k) for k in EXPERT_PATH_KEYS] + list(expert.get("sources") or [])
    return [
        Problem(n.WARNING, f"fichier « {rel} » introuvable", record=record["id"], field="expert")
        for rel in paths
        if rel and not ((base / rel).is_file() or (base / rel).is_dir())
    ]


def load_records(root: Path | str | None = None) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Every record of ``hub/catalog/entries`` (sorted by id) and all their problems."""
    records, problems = [], []
    for path in sorted(entries_dir(root).glob("*.yaml")):
        record, found = read_record(path)
        records.append(record)
        problems += found
    return records, problems


def scaffold_record(
    entry_id: str,
    *,
    title: str,
    collectivite: str = "À compléter",
    description: str = "À compléter : à quoi sert ce service, quels bénéfices sont attendus ?",
    root: Path | str | None = None,
) -> str:
    """YAML text of a new entry's record (public fields to complete, expert part filled)."""
    paths = entry_paths(entry_id, root)
    base = resolve_root(root)

    def rel(p: Path) -> str:
        return p.relative_to(base).as_posix()

    data = {
        "id": entry_id,
        "national": {
            "Nom_collectivite": collectivite,
            "Nom_du_projet": title,
            "SIRET": "",
            "Type_de_collectivite": "EPCI",
            "Date_de_demarrage": "",
            "Statut_du_projet": "En expérimentation",
            "Description_service": description,
            "Theme": "",
            "Audience": ["Agent"],
            "URL_Logo": "",
            "Date_de_derniere_mise_a_jour": "",
            "type_algorithme": "Machine Learning",
            "nom_algorithme": "",
        },
        "expert": {
            "notebook": rel(paths.notebook),
            "model_card": rel(paths.card),
            "datasheet": rel(paths.datasheet),
            "sources": [rel(paths.package) + "/", rel(paths.schema)],
            "launch": True,
        },
    }
    header = (
        f"# Fiche du catalogue de l'entrée {entry_id} (modèle de données national).\n"
        "# Champs publics et restreints : noms du modèle national ; voir docs/design.md.\n"
    )
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
