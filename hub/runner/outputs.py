"""Atomic output folders: a run writes into a temporary folder next to its target, then moves.

``prepare`` checks the target and makes the temporary folder on the same file system;
``publish`` swaps it in with ``os.replace`` (an older run's folder is replaced whole);
``discard`` keeps a failed run aside in ``<target>.echec-<timestamp>`` or removes it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from models import fsutil
from models.contract import to_jsonable
from models.errors import BiblioError

RUN_FILE = "run.json"


class OutputDirError(BiblioError):
    """The output folder cannot be used (e.g. a non-empty folder that is not a previous run)."""


def prepare(target: Path) -> Path:
    """Check ``target`` can receive a run; return a fresh temporary folder beside it."""
    target = Path(target).resolve()
    if target.exists():
        if not target.is_dir():
            raise OutputDirError(f"Le dossier de sortie {target} existe et n'est pas un dossier.")
        if any(target.iterdir()) and not (target / RUN_FILE).is_file():
            raise OutputDirError(
                f"Le dossier de sortie {target} existe déjà, n'est pas vide et ne contient pas "
                f"une exécution précédente ({RUN_FILE}) : choisissez un autre dossier avec --out."
            )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as exc:
        raise OutputDirError(
            f"Impossible d'écrire dans {target.parent} : {exc.strerror or exc}."
        ) from exc


def publish(tmp: Path, target: Path) -> Path:
    """Move ``tmp`` to ``target`` (replacing a previous run's folder as a whole)."""
    target = Path(target).resolve()
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, old / "run")
    try:
        os.replace(tmp, target)
    except OSError:
        if old is not None:
            os.replace(old / "run", target)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return target


def discard(tmp: Path, target: Path, *, keep: bool) -> Path | None:
    """Remove a failed run's folder, or keep it as ``<target>.echec-<timestamp>``."""
    if not keep:
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    failed = Path(target).resolve().with_name(f"{Path(target).name}.echec-{stamp}")
    n = 1
    while failed.exists():
        n += 1
        failed = failed.with_name(f"{Path(target).name}.echec-{stamp}-{n}")
    os.replace(tmp, failed)
    return failed


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON through a temporary file and ``os.replace``."""
    fsutil.write_json(path, to_jsonable(payload), allow_nan=False)
