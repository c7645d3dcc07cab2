"""``biblio catalog ...`` commands, registered by ``hub.runner.cli`` (``register(subparsers)``).

``biblio catalog import FICHIER.csv [--dest F] [--schema schema.json]`` checks a national
export, prints every problem in French and writes the records for the catalog service.
``biblio catalog check`` validates our own records (``hub/catalog/entries``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hub.catalog.importer import import_csv, write_import
from hub.catalog.national import FIELDS, fields_from_table_schema
from hub.catalog.records import check_expert_files, load_records
from models.errors import BiblioError


def cmd_import(args: argparse.Namespace) -> int:
    specs = FIELDS
    if args.schema:
        try:
            specs = fields_from_table_schema(json.loads(Path(args.schema).read_text("utf-8")))
        except (OSError, ValueError) as exc:
            raise BiblioError(f"Schéma « {args.schema} » illisible : {exc}") from None
    result = import_csv(args.csv, specs)
    print(result.to_text())
    if args.check:
        return 0 if result.ok else 1
    dest = Path(args.dest) if args.dest else args.settings.catalog_import
    write_import(result, dest)
    print(f"{len(result.records)} fiches écrites dans {dest}.")
    print("Le service catalogue les affiche dans la seconde, sans redémarrage.")
    return 0 if result.ok else 1


def cmd_check(args: argparse.Namespace) -> int:
    records, problems = load_records(args.root)
    for record in records:
        problems += check_expert_files(record, args.root)
    for p in problems:
        print(p.to_text())
    print(f"{len(records)} fiche(s) vérifiée(s), {len(problems)} problème(s).")
    return 1 if problems else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("catalog", help="catalogue : importer, vérifier les fiches")
    sub = parser.add_subparsers(dest="catalog_command", metavar="action")
    imp = sub.add_parser("import", help="importer un export CSV du catalogue national")
    imp.add_argument("csv", help="fichier CSV exporté du catalogue national")
    imp.add_argument("--dest", help="fichier JSON produit (défaut : <état>/catalog/national.json)")
    imp.add_argument("--schema", help="schéma national (Table Schema JSON) à utiliser")
    imp.add_argument("--check", action="store_true", help="vérifier seulement, sans écrire")
    imp.set_defaults(func=cmd_import)
    chk = sub.add_parser("check", help="vérifier les fiches de nos entrées")
    chk.set_defaults(func=cmd_check)
    parser.set_defaults(func=lambda args: (parser.print_help(sys.stdout), 2)[1])
