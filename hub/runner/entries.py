"""Find entries and their modules, under the repository root or an override of it.

The root is ``models.contract.REPO_ROOT`` unless ``BIBLIO_ROOT`` (or an explicit ``root``)
points elsewhere — tests use that to run against small fixture entries.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from types import ModuleType

from models import contract
from models.errors import BiblioError

ENTRY_ID_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


class EntryError(BiblioError):
    """An unknown entry, or an entry whose module cannot be used."""


def repo_root(root: Path | str | None = None) -> Path:
    if root is not None:
        return Path(root).resolve()
    env = os.environ.get("BIBLIO_ROOT")
    return Path(env).resolve() if env else contract.REPO_ROOT


def entry_ids(root: Path | str | None = None) -> list[str]:
    return contract.entry_ids(repo_root(root))


def entry_paths(entry_id: str, root: Path | str | None = None) -> contract.EntryPaths:
    return contract.entry_paths(entry_id, repo_root(root))


def require_entry(entry_id: str, root: Path | str | None = None) -> contract.EntryPaths:
    """Paths of ``entry_id``, or a French error listing the known entries."""
    ids = entry_ids(root)
    if entry_id not in ids:
        known = ", ".join(ids) if ids else "aucune"
        raise EntryError(f"Entrée inconnue : « {entry_id} ». Entrées disponibles : {known}.")
    return entry_paths(entry_id, root)


def load_module(entry_id: str, root: Path | str | None = None) -> ModuleType:
    """Import ``models/<id>.py`` of the root (the installed package for the real repository)."""
    paths = entry_paths(entry_id, root)
    if not paths.module.is_file():
        raise EntryError(f"Le module de l'entrée est absent : {paths.module}.")
    if repo_root(root) == contract.REPO_ROOT:
        return importlib.import_module(f"models.{entry_id}")
    name = f"_biblio_entry_{entry_id}_{abs(hash(str(paths.module)))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, paths.module)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def notebook_title(notebook: Path) -> str | None:
    """The first Markdown ``# `` heading of a notebook, if any."""
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        for line in text.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return None


def entry_title(entry_id: str, root: Path | str | None = None, *, cheap: bool = False) -> str:
    """The French title: the module's ``TITLE``, else the notebook's first heading, else id.

    ``cheap=True`` does not import the module (imports of scikit-learn take seconds) unless
    it is already imported: the notebook's heading is used instead.
    """
    title = None
    if not cheap or _loaded(entry_id, root):
        try:
            title = getattr(load_module(entry_id, root), "TITLE", None)
        except Exception:  # a broken module must not break `biblio list`
            title = None
    return title or notebook_title(entry_paths(entry_id, root).notebook) or entry_id


def _loaded(entry_id: str, root: Path | str | None) -> bool:
    if repo_root(root) == contract.REPO_ROOT:
        return f"models.{entry_id}" in sys.modules
    return any(name.startswith(f"_biblio_entry_{entry_id}_") for name in sys.modules)
