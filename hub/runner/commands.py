"""Sub-commands ``run``, ``validate``, ``list`` and ``build-model`` of the ``biblio`` CLI."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from hub.runner import entries
from hub.runner.params import parse_map_args
from models.errors import BiblioError

EPILOG_RUN = (
    "Codes de sortie : 0 réussite, 1 échec du notebook, 2 paramètres ou données refusés.\n"
    "Exemple : biblio run canteen_attendance --data mes_effectifs.csv "
    '--map "nb_repas=reel" --param horizon=14 --out resultats/cantine'
)


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run",
        help="exécuter le notebook d'une entrée (sur l'échantillon ou sur vos données)",
        description="Exécute le notebook d'une entrée et écrit le rapport HTML, metrics.json, "
        "les prédictions et run.json dans le dossier de sortie.",
        epilog=EPILOG_RUN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("entry_id", nargs="?", help="identifiant de l'entrée (voir biblio list)")
    run.add_argument("--all", action="store_true", help="exécuter toutes les entrées (CI)")
    run.add_argument("--data", help="votre fichier de données (CSV)")
    run.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="LEUR=NOTRE",
        help="correspondance de colonnes : nom dans votre fichier=nom attendu (répétable)",
    )
    run.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NOM=VALEUR",
        help="paramètre du notebook (répétable), valeur Python ou JSON",
    )
    run.add_argument("--out", help="dossier de sortie (par défaut resultats/<entrée>)")
    run.add_argument("--quick", action="store_true", help="mode rapide (moins de calculs)")
    run.add_argument("--timeout", type=int, default=600, help="délai par cellule, en secondes")
    run.add_argument("--jobs", type=int, default=None, help="avec --all : processus parallèles")
    run.add_argument(
        "--no-keep-failed",
        action="store_true",
        help="en cas d'échec, ne pas conserver le dossier <sortie>.echec-<date>",
    )
    run.add_argument(
        "-v", "--verbose", action="store_true", help="afficher les sorties des cellules"
    )
    run.set_defaults(func=cmd_run)

    val = subparsers.add_parser(
        "validate",
        help="vérifier un fichier de données pour une entrée (rapport de validation et de qualité)",
    )
    val.add_argument("entry_id")
    val.add_argument("file", help="votre fichier de données")
    val.add_argument("--map", action="append", default=[], metavar="LEUR=NOTRE")
    val.set_defaults(func=cmd_validate)

    lst = subparsers.add_parser("list", help="lister les entrées de la bibliothèque")
    lst.add_argument("--json", action="store_true", help="sortie JSON")
    lst.set_defaults(func=cmd_list)

    build = subparsers.add_parser(
        "build-model", help="reconstruire le modèle de référence d'une entrée"
    )
    build.add_argument("entry_id")
    build.add_argument("--quick", action="store_true")
    build.set_defaults(func=cmd_build_model)


def cmd_run(args: argparse.Namespace) -> int:
    if args.all:
        if args.entry_id or args.data or args.map or args.param:
            print(
                "Erreur : --all ne se combine pas avec une entrée, --data, --map ni --param.",
                file=sys.stderr,
            )
            return 2
        from hub.runner.run_all import run_all

        code, _, text = run_all(out=args.out, quick=True, jobs=args.jobs, timeout=args.timeout)
        print(text, file=sys.stdout if code == 0 else sys.stderr)
        return code
    if not args.entry_id:
        print("Erreur : indiquez une entrée (biblio list) ou --all.", file=sys.stderr)
        return 2
    if args.verbose:
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        logging.getLogger("papermill").setLevel(logging.INFO)
    from hub.runner.run import run_entry

    result = run_entry(
        args.entry_id,
        data=args.data,
        column_map=parse_map_args(args.map),
        param_args=args.param,
        out=args.out,
        quick=args.quick,
        timeout=args.timeout,
        log_output=args.verbose,
        keep_failed=not args.no_keep_failed,
    )
    if result.ok:
        from hub.runner.footprint import to_french

        print(result.message)
        print(f"Rapport : {result.out_dir / 'rapport.html'}")
        for line in to_french(result.run["footprint"]):
            print(f"  {line}")
    else:
        print(result.message, file=sys.stderr)
    return result.exit_code


def _quality(module, path: str, column_map: dict[str, str]) -> str | None:
    """The entry's data-quality report when its module exposes ``quality(df)``."""
    quality = getattr(module, "quality", None) or getattr(module, "quality_report", None)
    if not callable(quality):
        return None
    report = quality(module.load(path, column_map or None))
    to_md = getattr(report, "to_markdown", None)
    return to_md() if callable(to_md) else str(report)


def cmd_validate(args: argparse.Namespace) -> int:
    from hub.runner.run import check_data

    entries.require_entry(args.entry_id)
    column_map = parse_map_args(args.map)
    path = Path(args.file).expanduser().resolve()
    ok, text = check_data(args.entry_id, path, column_map, entries.repo_root())
    if not ok:
        print(f"Fichier refusé pour l'entrée « {args.entry_id} » :\n{text}", file=sys.stderr)
        return 2
    try:
        quality = _quality(entries.load_module(args.entry_id), str(path), column_map)
    except BiblioError as exc:  # readable and valid, but the entry cannot use it
        print(f"Fichier refusé pour l'entrée « {args.entry_id} » :\n{exc}", file=sys.stderr)
        return 2
    print(f"Fichier utilisable pour l'entrée « {args.entry_id} ».\n{text}")
    if quality:
        print(f"\nQualité des données :\n{quality}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    ids = entries.entry_ids()
    items = [{"entry_id": i, "title": entries.entry_title(i)} for i in ids]
    if args.json:
        print(json.dumps(items, ensure_ascii=False, indent=2))
    elif not items:
        print("Aucune entrée.")
    else:
        width = max(len(i) for i in ids)
        for item in items:
            print(f"{item['entry_id']:<{width}}  {item['title']}")
    return 0


def cmd_build_model(args: argparse.Namespace) -> int:
    entries.require_entry(args.entry_id)
    module = entries.load_module(args.entry_id)
    build = getattr(module, "build_reference", None)
    if not callable(build):
        print(f"Erreur : models/{args.entry_id}.py n'a pas de build_reference().", file=sys.stderr)
        return 1
    result = build(quick=args.quick)
    from models.contract import to_jsonable

    print(json.dumps(to_jsonable(result or {}), ensure_ascii=False, indent=2))
    return 0
