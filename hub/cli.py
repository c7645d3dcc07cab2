"""The ``biblio`` command line: ``biblio <command> ...`` (French help and messages).

Commands are registered by small modules listed in ``COMMAND_MODULES``; each exposes
``register(subparsers)`` which adds its sub-parsers and sets ``func`` (``args -> exit code``)
with ``set_defaults``. To add commands (e.g. ``biblio catalog ...``), write such a module and
add its name to the list; a listed module that does not exist yet is skipped.

Exit codes: 0 success, 1 a notebook or a command failed, 2 refused input (unknown entry,
bad parameter, unusable data file), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from models.errors import BiblioError

COMMAND_MODULES: tuple[str, ...] = (
    "hub.runner.commands",  # run, validate, list, build-model
    "hub.scaffold",  # new-entry
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
        help="racine du dépôt à utiliser (par défaut : celle du paquet, ou $BIBLIO_ROOT)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="commande")
    for name in COMMAND_MODULES:
        _register_optional(name, subparsers)
    return parser


def _skip_slow_optional_imports() -> None:
    """Make ``jsonschema`` skip its optional ``rfc3987_syntax`` format checker in this process.

    ``rfc3987_syntax`` builds a Lark grammar when imported (2.7 s measured here) and nbformat,
    hence papermill, imports ``jsonschema``; the checker only serves the ``iri`` formats,
    which no notebook schema uses. The CLI process alone is affected, not library users.
    """
    if "jsonschema" not in sys.modules:  # a fresh process: nothing relies on it yet
        sys.modules.setdefault("rfc3987_syntax", None)


def main(argv: Sequence[str] | None = None) -> int:
    _skip_slow_optional_imports()
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    old_root = os.environ.get("BIBLIO_ROOT")
    if args.root:
        os.environ["BIBLIO_ROOT"] = os.path.abspath(args.root)
    try:
        return int(func(args) or 0)
    except BiblioError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    finally:
        if old_root is None:
            os.environ.pop("BIBLIO_ROOT", None)
        else:
            os.environ["BIBLIO_ROOT"] = old_root


if __name__ == "__main__":
    sys.exit(main())
