"""The national catalog out of the box: the shipped snapshot, imported once on first start.

``hub/catalog/snapshot/`` holds a copy of the national library's CSV and Table Schema (with
their provenance in ``SOURCE.md``). When the catalog service starts and no import file exists
yet, ``ensure_import`` imports that snapshot exactly as ``biblio catalog import`` would, so a
fresh hub lists the national projects beside ours. An existing import (a newer export the admin
imported) is never touched.
"""

from __future__ import annotations

import json
from pathlib import Path

from hub.catalog.importer import ImportResult, import_csv, write_import
from hub.catalog.national import fields_from_table_schema

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshot"
SNAPSHOT_CSV = SNAPSHOT_DIR / "bibliotheque_ia_territoriale.csv"
SNAPSHOT_SCHEMA = SNAPSHOT_DIR / "schema.json"


def import_snapshot() -> ImportResult:
    """Import the shipped snapshot with the shipped national schema (nothing written)."""
    specs = fields_from_table_schema(json.loads(SNAPSHOT_SCHEMA.read_text(encoding="utf-8")))
    return import_csv(SNAPSHOT_CSV, specs)


def ensure_import(import_file: Path | str | None) -> ImportResult | None:
    """Write the snapshot's import to ``import_file`` when it does not exist yet.

    Returns the import made, or ``None`` when there was nothing to do (no import file
    configured, or one already there).
    """
    if import_file is None or Path(import_file).exists():
        return None
    result = import_snapshot()
    write_import(result, import_file)
    return result
