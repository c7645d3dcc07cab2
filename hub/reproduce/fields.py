"""The fields an entry expects in a user's file, and the mapping form's first guesses.

``expected_fields(entry_id, root)`` reads the entry's Table Schema (French title,
description, required or not), an example value from its generated sample and the known
spellings of each column (``ALIASES`` of ``models/<entry>/data.py``, the same list
``models.io.read_table`` uses). ``suggest_mapping`` picks, for each field, the file's column
the readers would take anyway (same name or a known alias, compared with
``models.io.normalise_name``), after the mapping the user chose last time for this entry.
``column_map_from_form`` turns the form's choices into the runner's ``--map``
(``{"their column": "our field"}``), refusing a column chosen twice.
"""

from __future__ import annotations

import csv
import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.entries import entry_paths, resolve_root
from models.errors import BiblioError

NO_COLUMN = ""


class MappingError(BiblioError):
    """The choices of the mapping form cannot be used (French message)."""


@dataclass(frozen=True)
class ExpectedField:
    name: str
    title: str
    description: str
    required: bool
    example: str
    aliases: tuple[str, ...]


def _aliases(entry_id: str) -> dict[str, list[str]]:
    try:
        module = importlib.import_module(f"models.{entry_id}.data")
    except ImportError:
        return {}
    return dict(getattr(module, "ALIASES", {}) or {})


def _required_extra(entry_id: str) -> set[str]:
    try:
        module = importlib.import_module(f"models.{entry_id}.data")
    except ImportError:
        return set()
    return set(getattr(module, "REQUIRED_COLUMNS", ()) or ())


def _examples(sample: Path, names: list[str]) -> dict[str, str]:
    """The first non-empty value of each column in the entry's sample (first 50 rows)."""
    out: dict[str, str] = {}
    if not sample.is_file():
        return out
    with open(sample, encoding="utf-8", newline="") as f:
        head = f.readline()
        sep = ";" if head.count(";") > head.count(",") else ","
        f.seek(0)
        reader = csv.DictReader(f, delimiter=sep)
        for i, row in enumerate(reader):
            for name in names:
                value = (row.get(name) or "").strip()
                if value and name not in out:
                    out[name] = value
            if i >= 50 or len(out) == len(names):
                break
    return out


def expected_fields(entry_id: str, root: Path | str | None = None) -> list[ExpectedField]:
    """The entry's expected columns in schema order (see the module docstring)."""
    paths = entry_paths(entry_id, resolve_root(root))
    schema = json.loads(paths.schema.read_text(encoding="utf-8"))
    names = [f["name"] for f in schema.get("fields", [])]
    examples = _examples(paths.dataset_dir / "sample.csv", names)
    aliases = _aliases(entry_id)
    extra = _required_extra(entry_id)
    out = []
    for f in schema.get("fields", []):
        name = f["name"]
        required = bool((f.get("constraints") or {}).get("required")) or name in extra
        out.append(
            ExpectedField(
                name=name,
                title=str(f.get("title") or name),
                description=str(f.get("description") or ""),
                required=required,
                example=examples.get(name, ""),
                aliases=tuple(aliases.get(name, ())),
            )
        )
    return out


def suggest_mapping(
    fields: list[ExpectedField], columns: list[str], remembered: dict[str, str] | None = None
) -> dict[str, str]:
    """``{our field: their column}`` pre-selected in the form.

    First the user's remembered choices (``{their column: our field}``) whose column exists
    in this file, then the file's column with the field's own name or a known alias. A column
    is suggested for one field at most.
    """
    from models.io import normalise_name  # pandas, imported when a form is built

    out: dict[str, str] = {}
    used: set[str] = set()
    by_norm: dict[str, str] = {}
    for col in columns:
        by_norm.setdefault(normalise_name(col), col)
    known = {f.name for f in fields}
    for theirs, ours in (remembered or {}).items():
        col = theirs if theirs in columns else by_norm.get(normalise_name(theirs))
        if ours in known and col and col not in used and ours not in out:
            out[ours] = col
            used.add(col)
    for f in fields:
        if f.name in out:
            continue
        for candidate in (f.name, *f.aliases):
            col = by_norm.get(normalise_name(candidate))
            if col and col not in used:
                out[f.name] = col
                used.add(col)
                break
    return out


def column_map_from_form(
    fields: list[ExpectedField], columns: list[str], choices: dict[str, str]
) -> dict[str, str]:
    """The runner's ``column_map`` from the form (``{our field: their column or ""}``).

    Raises ``MappingError`` (French) for a column the file does not have, a column chosen for
    two fields, or a required field without column.
    """
    problems = []
    chosen: dict[str, str] = {}
    titles = {f.name: f.title for f in fields}
    for f in fields:
        col = (choices.get(f.name) or NO_COLUMN).strip()
        if col == NO_COLUMN:
            if f.required:
                problems.append(f"« {f.title} » est obligatoire : choisissez sa colonne.")
            continue
        if col not in columns:
            problems.append(f"« {f.title} » : le fichier n'a pas de colonne « {col} ».")
            continue
        chosen[f.name] = col
    seen: dict[str, str] = {}
    for ours, col in chosen.items():
        if col in seen:
            problems.append(
                f"La colonne « {col} » est choisie pour « {titles[seen[col]]} » et pour "
                f"« {titles[ours]} » : une colonne ne sert qu'une fois."
            )
        seen.setdefault(col, ours)
    if problems:
        raise MappingError("\n".join(problems))
    return {col: ours for ours, col in chosen.items()}


def as_dict(f: ExpectedField) -> dict[str, Any]:
    return {
        "nom": f.name,
        "titre": f.title,
        "description": f.description,
        "obligatoire": f.required,
        "exemple": f.example,
    }
