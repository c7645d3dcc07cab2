"""Rebuild the reference model and card of an entry: ``python -m models.reference_cli <id>``.

One command for every entry (``biblio build-model <id>`` does the same through the hub's
command line): it calls the entry package's ``build_reference`` and prints where the model
file and the card were written. ``--quick`` trains the light variant (tests, smoke checks).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

from models.entries import require_entry
from models.errors import BiblioError


def build_reference(
    entry_id: str, *, quick: bool = False, output_root: Path | str | None = None
) -> dict[str, Any]:
    """``models.<entry_id>.build_reference(quick, output_root)``: ``{"artifact", "card",
    "metrics"}``; the files go under ``output_root`` (default: this repository).

    Raises ``UnknownEntryError`` (French) for an id that names no entry of this repository.
    """
    require_entry(entry_id)
    module = importlib.import_module(f"models.{entry_id}")
    return module.build_reference(quick=quick, output_root=output_root)


def main(argv: list[str] | None = None) -> int:
    """``python -m models.reference_cli <entry_id> [--quick] [--out DIR]``; 0, or 2 on error."""
    parser = argparse.ArgumentParser(
        prog="python -m models.reference_cli",
        description="Reconstruit le modèle de référence d'une entrée et sa fiche modèle.",
    )
    parser.add_argument("entry_id", help="identifiant de l'entrée (par exemple air_quality)")
    parser.add_argument("--quick", action="store_true", help="variante rapide (moins d'arbres)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="racine où écrire models/artifacts/ et models/cards/ (par défaut : ce dépôt)",
    )
    args = parser.parse_args(argv)
    try:
        result = build_reference(args.entry_id, quick=args.quick, output_root=args.out)
    except BiblioError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    print(f"Modèle écrit : {result['artifact']}\nFiche écrite : {result['card']}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
