"""An empty repository layout with a copy of the shared foundation, for scaffolding tests."""

from __future__ import annotations

import shutil
from pathlib import Path


def make_repo_layout(root: Path, repo: Path) -> Path:
    """An empty repository layout under ``root`` with a copy of ``repo``'s shared foundation.

    The kernel of a run imports ``models`` from the run's root, so the copy must hold the
    foundation that a scaffolded entry uses: the flat modules of ``models/`` (each entry is a
    package, which is not copied).
    """
    for sub in ("models/artifacts", "models/cards", "notebooks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "datasets").mkdir(exist_ok=True)
    (root / "hub" / "catalog" / "entries").mkdir(parents=True, exist_ok=True)
    for source in sorted((repo / "models").glob("*.py")):
        shutil.copy2(source, root / "models" / source.name)
    return root
