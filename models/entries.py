"""The entry registry: what an entry id is, where each part of an entry lives, how to find one.

An entry exists when ``notebooks/<id>.ipynb`` exists; every other part is found from the id
(see ``docs/design.md``). This module is the only place that defines the id pattern, its
length limit, the repository root and the "unknown entry" error. Standard library only: the
hub, its spawner hooks and the container entry point import it without paying for pandas.

The root is always passed as an argument (``root=None`` means this checkout's ``REPO_ROOT``);
nothing here reads the environment. ``BIBLIO_REPO_ROOT`` is read once, by ``hub`` settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from models.errors import BiblioError

REPO_ROOT = Path(__file__).resolve().parents[1]

#: Longest entry id: it names a JupyterHub server, a folder, a Python package and a URL part.
ENTRY_ID_MAX_LENGTH = 40
#: snake_case: a lower-case letter, then words of lower-case letters and digits joined by one _.
ENTRY_ID_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")

#: The modules of every entry package ``models/<entry_id>/`` (same names in every entry).
ENTRY_MODULES = (
    "data",
    "features",
    "model",
    "baselines",
    "evaluation",
    "plots",
    "reference",
    "sample",
)

#: The common API that every entry package exposes in its ``__init__`` (checked by name).
ENTRY_API = (
    "load_with_report",
    "validate_file",
    "quality",
    "fit",
    "predict",
    "evaluate",
    "metrics_payload",
    "outputs",
    "build_reference",
    "generate_sample",
)


class UnknownEntryError(BiblioError, LookupError):
    """An entry id that is malformed or names no entry of the library."""


@dataclass(frozen=True)
class EntryPaths:
    """Paths of every part of one entry (they may not all exist)."""

    entry_id: str
    dataset_dir: Path
    sample: Path
    schema: Path
    datasheet: Path
    package: Path
    module: Path
    generator: Path
    notebook: Path
    artifact: Path
    card: Path
    catalog_record: Path


def resolve_root(root: Path | str | None = None) -> Path:
    """The repository root to use: ``root`` when given, else this checkout's ``REPO_ROOT``."""
    return Path(root).resolve() if root is not None else REPO_ROOT


def is_entry_id(value: object) -> bool:
    """True when ``value`` has the form of an entry id (it may still name no entry)."""
    return (
        isinstance(value, str)
        and len(value) <= ENTRY_ID_MAX_LENGTH
        and ENTRY_ID_RE.match(value) is not None
    )


def check_entry_id(value: object) -> str:
    """Return ``value`` when it has the form of an entry id, else raise ``UnknownEntryError``."""
    if not is_entry_id(value):
        shown = value[:60] + "…" if isinstance(value, str) and len(value) > 60 else value
        raise UnknownEntryError(
            f"Identifiant d'entrée invalide : {shown!r}. Un identifiant s'écrit en minuscules, "
            f"chiffres et « _ » (par exemple canteen_attendance), {ENTRY_ID_MAX_LENGTH} "
            "caractères au plus."
        )
    return value


def entry_ids(root: Path | str | None = None) -> list[str]:
    """Ids of the entries, i.e. the valid stems of ``notebooks/*.ipynb``, sorted."""
    base = resolve_root(root)
    return sorted(
        p.stem for p in (base / "notebooks").glob("*.ipynb") if p.is_file() and is_entry_id(p.stem)
    )


def entry_paths(entry_id: str, root: Path | str | None = None) -> EntryPaths:
    """Paths of every part of ``entry_id`` (see the table in ``docs/design.md``)."""
    check_entry_id(entry_id)
    base = resolve_root(root)
    dataset_dir = base / "datasets" / entry_id
    package = base / "models" / entry_id
    return EntryPaths(
        entry_id=entry_id,
        dataset_dir=dataset_dir,
        sample=dataset_dir / "sample.csv",
        schema=dataset_dir / "schema.json",
        datasheet=dataset_dir / "README.md",
        package=package,
        module=package / "__init__.py",
        generator=package / "sample.py",
        notebook=base / "notebooks" / f"{entry_id}.ipynb",
        artifact=base / "models" / "artifacts" / f"{entry_id}.skops",
        card=base / "models" / "cards" / f"{entry_id}.md",
        catalog_record=base / "hub" / "catalog" / "entries" / f"{entry_id}.yaml",
    )


def require_entry(entry_id: str, root: Path | str | None = None) -> EntryPaths:
    """Paths of an existing entry, or ``UnknownEntryError`` in French listing the known ones."""
    check_entry_id(entry_id)
    ids = entry_ids(root)
    if entry_id not in ids:
        known = ", ".join(ids) if ids else "aucune"
        raise UnknownEntryError(f"Entrée inconnue : « {entry_id} ». Entrées disponibles : {known}.")
    return entry_paths(entry_id, root)
