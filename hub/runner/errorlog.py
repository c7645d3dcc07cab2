"""The last resort of ``biblio``: an unexpected error becomes a French message and a log file.

``write_log`` writes the traceback (with the command line and versions) into a new file under
``~/.cache/biblio-ia/erreurs/`` (the system's temporary folder when that cannot be written)
and returns its path; ``unexpected_message`` is what the user reads instead of a traceback.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

LOG_DIR = Path("~/.cache/biblio-ia/erreurs")


def _open_log(directory: Path):
    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    fd, name = tempfile.mkstemp(prefix=f"biblio-{stamp}-", suffix=".log", dir=directory)
    return os.fdopen(fd, "w", encoding="utf-8"), Path(name)


def write_log(exc: BaseException, argv: Sequence[str] | None = None) -> Path | None:
    """Write ``exc``'s traceback to a new log file; its path, or ``None`` if none could be."""
    for directory in (LOG_DIR.expanduser(), Path(tempfile.gettempdir())):
        try:
            handle, path = _open_log(directory)
        except (OSError, RuntimeError):
            continue
        with handle:
            handle.write(f"biblio {' '.join(argv or sys.argv[1:])}\n")
            handle.write(f"date : {dt.datetime.now().astimezone().isoformat()}\n")
            handle.write(f"python {platform.python_version()} sur {platform.platform()}\n\n")
            handle.write("".join(traceback.format_exception(exc)))
        return path
    return None


def unexpected_message(exc: BaseException, log: Path | None) -> str:
    """French message for an error biblio did not expect (no traceback on the terminal)."""
    where = (
        f"Le détail technique est dans le fichier {log} : joignez-le à votre signalement."
        if log is not None
        else "Le détail technique n'a pas pu être écrit (aucun dossier accessible en écriture)."
    )
    return (
        f"Erreur inattendue de biblio ({type(exc).__name__}). Ce n'est probablement pas une "
        "erreur de votre part : la commande s'est arrêtée sans rien publier.\n" + where
    )
