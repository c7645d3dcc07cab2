"""An entry's package and title, for the runner, under this checkout or another root.

The entry registry (id pattern, paths, lookup, ``UnknownEntryError``, the repository root) is
``models.entries``; this module only adds what the runner needs on top of it. ``root`` is
always an argument (``None``: this checkout), never read from the environment.

- ``load_module(entry_id, root)`` imports the entry's package ``models/<entry_id>/``: the
  installed ``models.<entry_id>`` for this checkout, else the package of the other root,
  loaded under a private name (its own relative imports resolve inside it).
- ``entry_title`` gives the French title without importing scikit-learn when asked not to.
- ``known_columns`` lists the column names an entry reads (targets of ``--map``).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

from models.entries import REPO_ROOT, entry_paths, require_entry, resolve_root
from models.errors import BiblioError

PRIVATE_PREFIX = "_biblio_entry_"

# Older name of resolve_root, still called by hub.runner.checks; new code uses resolve_root.
repo_root = resolve_root


def _private_name(entry_id: str, package: Path) -> str:
    return f"{PRIVATE_PREFIX}{entry_id}_{abs(hash(str(package)))}"


def _load_package(name: str, package: Path) -> ModuleType:
    """Import the package folder ``package`` as the module ``name``."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, package / "__init__.py", submodule_search_locations=[str(package)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[loaded]
        raise
    return module


def load_module(entry_id: str, root: Path | str | None = None) -> ModuleType:
    """Import the package of an existing entry (``UnknownEntryError`` if there is none).

    Errors raised by the entry's own code (a broken import) propagate unchanged.
    """
    base = resolve_root(root)
    paths = require_entry(entry_id, base)
    if base == REPO_ROOT:
        return importlib.import_module(f"models.{entry_id}")
    if not paths.module.is_file():
        raise BiblioError(
            f"Le paquet de l'entrée « {entry_id} » est absent : {paths.module} n'existe pas."
        )
    return _load_package(_private_name(entry_id, paths.package), paths.package)


def is_loaded(entry_id: str, root: Path | str | None = None) -> bool:
    """True when the entry's package is already imported (so its title costs nothing)."""
    base = resolve_root(root)
    if base == REPO_ROOT:
        return f"models.{entry_id}" in sys.modules
    return _private_name(entry_id, entry_paths(entry_id, base).package) in sys.modules


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
    """The French title: the package's ``TITLE``, else the notebook's first heading, else id.

    ``cheap=True`` does not import the package (scikit-learn takes seconds to import) unless
    it is already imported: the notebook's heading is used instead.
    """
    title = None
    if not cheap or is_loaded(entry_id, root):
        try:
            title = getattr(load_module(entry_id, root), "TITLE", None)
        except Exception:  # a broken entry must not break `biblio list`
            title = None
    return title or notebook_title(entry_paths(entry_id, root).notebook) or entry_id


def known_columns(entry_id: str, root: Path | str | None = None) -> list[str]:
    """Column names the entry reads: its schemas' fields and its data module's aliases' keys.

    These are the valid targets of ``--map "leur colonne=notre colonne"``; empty when the
    entry declares neither (then nothing can be checked).
    """
    names: dict[str, None] = {}
    dataset = entry_paths(entry_id, root).schema.parent
    for schema in sorted(dataset.glob("schema*.json")) if dataset.is_dir() else []:
        try:
            fields = json.loads(schema.read_text(encoding="utf-8")).get("fields", [])
        except (OSError, ValueError, AttributeError):
            continue
        names.update({str(f["name"]): None for f in fields if isinstance(f, dict) and "name" in f})
    try:
        data = getattr(load_module(entry_id, root), "data", None)
    except Exception:  # a broken package is reported by the data check that follows
        data = None
    for attr in dir(data) if data is not None else []:
        value = getattr(data, attr)
        if attr.isupper() and attr.endswith("ALIASES") and isinstance(value, dict):
            names.update({str(k): None for k in value})
    return list(names)
