"""Sub-commands ``run``, ``validate``, ``list`` and ``build-model`` of the ``biblio`` CLI.

Each works on ``args.root`` with ``args.settings`` (set by ``hub.runner.cli.main``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from hub.runner import entries
from hub.runner.params import check_map_targets, parse_map_args
from models.entries import entry_ids, require_entry
from models.errors import BiblioError
from models.io import check_data_path

EPILOG_RUN = (
    "Codes de sortie : 0 réussite, 1 échec du notebook, 2 paramètres ou données refusés.\n"
    "Exemple : biblio run canteen_attendance --data mes_effectifs.csv "
    '--map "nb_repas=reel" --param horizon=14 --out resultats/cantine'
)


MIN_SHARE_HELP = (
    "part minimale de lignes utilisables (0 à 1, ou 90 %%) : les lignes en défaut sont "
    "écartées (lignes_ecartees.csv) ; en dessous, le fichier est refusé "
    "(par défaut : BIBLIO_MIN_USABLE_SHARE, 0.9)"
)


def share_argument(text: str) -> float:
    """``--min-share``: a share in ]0, 1] (``0.8`` or ``80 %``), French error otherwise."""
    from hub.config.settings import SettingsError, as_share

    try:
        return as_share(text, "--min-share")
    except SettingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _min_share(args: argparse.Namespace) -> float:
    if args.min_share is not None:
        return args.min_share
    return args.settings.min_usable_share


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
    run.add_argument(
        "--min-share",
        type=share_argument,
        default=None,
        metavar="PART",
        help=MIN_SHARE_HELP,
    )
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
    val.add_argument(
        "--min-share", type=share_argument, default=None, metavar="PART", help=MIN_SHARE_HELP
    )
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

        code, _, text = run_all(
            out=args.out, quick=True, root=args.root, jobs=args.jobs, timeout=args.timeout
        )
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
        root=args.root,
        timeout=args.timeout,
        log_output=args.verbose,
        keep_failed=not args.no_keep_failed,
        settings=args.settings,
        min_share=_min_share(args),
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


def quality_text(
    module, path: Path, column_map: dict[str, str], min_share: float | None = None
) -> str:
    """The entry's data-quality report of a file, in French (Markdown when it has one)."""
    from hub.runner.run import min_share_option

    options = min_share_option(module.load_with_report, min_share)
    data, _ = module.load_with_report(str(path), column_map or None, **options)
    return quality_markdown(module.quality(data))


def quality_markdown(quality) -> str:
    """An entry's quality report as text (Markdown when the report has it)."""
    to_markdown = getattr(quality, "to_markdown", None)
    return to_markdown() if callable(to_markdown) else str(quality)


def set_aside_sentence(report) -> str:
    """French sentence: how many rows ``biblio run`` would set aside."""
    acceptance = getattr(report, "acceptance", None)
    n = int(getattr(acceptance, "rows_set_aside", 0) or 0)
    if not n:
        return "Aucune ligne ne serait écartée."
    if n == 1:
        return "1 ligne serait écartée par biblio run (listée dans lignes_ecartees.csv)."
    return f"{n} lignes seraient écartées par biblio run (listées dans lignes_ecartees.csv)."


def cmd_validate(args: argparse.Namespace) -> int:
    from hub.runner.run import check_report

    require_entry(args.entry_id, args.root)
    column_map = parse_map_args(args.map)
    if column_map:
        known = entries.known_columns(args.entry_id, args.root)
        check_map_targets(column_map, known, args.entry_id)
    min_share = _min_share(args)
    path = check_data_path(args.file)
    ok, text, report = check_report(args.entry_id, path, column_map, args.root, min_share=min_share)
    if not ok:
        print(f"Fichier refusé pour l'entrée « {args.entry_id} » :\n{text}", file=sys.stderr)
        return 2
    try:
        module = entries.load_module(args.entry_id, args.root)
        quality = quality_text(module, path, column_map, min_share)
    except BiblioError as exc:  # readable and valid, but the entry cannot use it
        print(f"Fichier refusé pour l'entrée « {args.entry_id} » :\n{exc}", file=sys.stderr)
        return 2
    print(f"Fichier utilisable pour l'entrée « {args.entry_id} ».\n{text}")
    if getattr(report, "acceptance", None) is not None:
        print(set_aside_sentence(report))
    print(f"\nQualité des données :\n{quality}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    ids = entry_ids(args.root)
    items = [{"entry_id": i, "title": entries.entry_title(i, args.root)} for i in ids]
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
    module = entries.load_module(args.entry_id, args.root)
    result = module.build_reference(quick=args.quick)
    from models.contract import to_jsonable

    print(json.dumps(to_jsonable(result or {}), ensure_ascii=False, indent=2))
    return 0
