"""The ``biblio`` command line: ``biblio <command> ...`` (French help and messages).

Commands are registered by small modules listed in ``COMMAND_MODULES``; each exposes
``register(subparsers)`` which adds its sub-parsers and sets ``func`` (``args -> exit code``)
with ``set_defaults``. To add commands (e.g. ``biblio catalog ...``), write such a module and
add its name to the list; a listed module that does not exist yet is skipped.

Before a command runs, ``main`` reads the settings once (``Settings.from_env``) and resolves
the repository root (``--root``, else ``BIBLIO_REPO_ROOT``, else this checkout); commands get
both as ``args.settings`` and ``args.root`` and pass them down as arguments.

Exit codes: 0 success, 1 a notebook or a command failed, 2 refused input (unknown entry,
bad parameter, unusable data file, bad setting), 130 interrupted. A ``BiblioError`` prints
its French message (exit 2); any other exception is the last resort's: a French message
pointing to a log file that holds the traceback (``hub.runner.errorlog``), exit 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from hub.config.settings import Settings
from hub.runner.errorlog import unexpected_message, write_log
from hub.shared import block_slow_optional_imports
from models.entries import resolve_root
from models.errors import BiblioError

COMMAND_MODULES: tuple[str, ...] = (
    "hub.runner.commands",  # run, validate, list, build-model
    "hub.runner.scaffold",  # new-entry
    "hub.catalog.commands",  # catalog ... (optional, owned by the catalog)
)


def _register_optional(name: str, subparsers: argparse._SubParsersAction) -> None:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return  # the module (or its package) is not written yet
        raise
    module.register(subparsers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="biblio",
        description="Bibliothèque IA territoriale — exécuter, valider et créer des entrées.",
    )
    parser.add_argument(
        "--root",
        default=None,
        help="racine du dépôt à utiliser (par défaut : $BIBLIO_REPO_ROOT, sinon celle du paquet)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="commande")
    for name in COMMAND_MODULES:
        _register_optional(name, subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    block_slow_optional_imports()  # nbformat, hence papermill, imports jsonschema
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        args.settings = Settings.from_env()
        args.root = resolve_root(args.root or args.settings.repo_root)
        return int(func(args) or 0)
    except BiblioError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    except Exception as exc:  # the last resort: never a traceback on the user's terminal
        print(unexpected_message(exc, write_log(exc, argv)), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
