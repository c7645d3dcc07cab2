"""Where each part of a library entry lives (see ``docs/design.md``).

An entry exists when ``notebooks/<id>.ipynb`` exists; every other part is found from the id.
Standard library only: the hub, its spawner hooks and the container entry point import this
without paying for pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class EntryPaths:
    """Paths of every part of one entry (they may not all exist)."""

    entry_id: str
    dataset_dir: Path
    sample: Path
    schema: Path
    datasheet: Path
    module: Path
    generator: Path
    notebook: Path
    artifact: Path
    card: Path
    catalog_record: Path


def entry_ids(root: Path | str | None = None) -> list[str]:
    """Ids of the entries, i.e. the stems of ``notebooks/*.ipynb``, sorted."""
    base = Path(root) if root is not None else REPO_ROOT
    return sorted(p.stem for p in (base / "notebooks").glob("*.ipynb") if p.is_file())


def entry_paths(entry_id: str, root: Path | str | None = None) -> EntryPaths:
    """Paths of every part of ``entry_id`` (see the table in ``docs/design.md``)."""
    base = Path(root) if root is not None else REPO_ROOT
    dataset_dir = base / "datasets" / entry_id
    return EntryPaths(
        entry_id=entry_id,
        dataset_dir=dataset_dir,
        sample=dataset_dir / "sample.csv",
        schema=dataset_dir / "schema.json",
        datasheet=dataset_dir / "README.md",
        module=base / "models" / f"{entry_id}.py",
        generator=base / "models" / "generators" / f"{entry_id}.py",
        notebook=base / "notebooks" / f"{entry_id}.ipynb",
        artifact=base / "models" / "artifacts" / f"{entry_id}.skops",
        card=base / "models" / "cards" / f"{entry_id}.md",
        catalog_record=base / "hub" / "catalog" / "entries" / f"{entry_id}.yaml",
    )
