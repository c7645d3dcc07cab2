"""Atomic output folders: a run writes into a temporary folder next to its target, then moves.

``prepare`` checks the target and makes the temporary folder on the same file system, with
the usual permissions of a new folder (``0777`` less the umask: ``0755`` in general);
``publish`` swaps it in with ``os.replace``: an older run's own files (listed in its
``run.json``, ``files``) are replaced, while files the user added to that folder are moved
into the new one; ``discard`` keeps a failed run aside in ``<target>.echec-<timestamp>`` or
removes it.
"""

from __future__ import annotations

import datetime as dt
import json
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
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        tmp.chmod(0o777 & ~current_umask())  # mkdtemp makes 0700; a run folder is shared
        return tmp
    except OSError as exc:
        raise OutputDirError(
            f"Impossible d'écrire dans {target.parent} : {exc.strerror or exc}."
        ) from exc


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def run_files(folder: Path) -> set[str]:
    """Names of the files a previous run wrote in ``folder`` (its ``run.json``'s ``files``)."""
    try:
        files = json.loads((folder / RUN_FILE).read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        return {RUN_FILE}
    return {str(f) for f in files or []} | {RUN_FILE}


def publish(tmp: Path, target: Path) -> Path:
    """Move ``tmp`` to ``target``, replacing a previous run's files but keeping the user's.

    Files of ``target`` that its run did not write (not in its ``run.json``'s ``files``) and
    that the new run does not write either are moved into the new folder first.
    """
    target = Path(target).resolve()
    old = None
    carried: list[str] = []
    if target.exists():
        previous = run_files(target)
        for child in sorted(target.iterdir()):
            if child.name in previous or os.path.lexists(tmp / child.name):
                continue
            os.replace(child, tmp / child.name)
            carried.append(child.name)
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, old / "run")
    try:
        os.replace(tmp, target)
    except OSError:
        if old is not None:
            os.replace(old / "run", target)
            for name in carried:
                os.replace(tmp / name, target / name)
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
