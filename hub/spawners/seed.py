"""Seeding of a demonstrator's working folder, and its reset.

On the first launch of entry ``<id>`` for a user, ``seed_workdir`` copies into
``<home>/<id>/`` a fresh copy of the entry's notebook (``<id>.ipynb``) and of the files of
its dataset folder (under ``donnees/``), then writes a marker file. Later launches find the
marker and touch nothing: the user's edits (and deletions) are kept.

``reset_workdir`` moves the whole working folder to ``<home>/sauvegardes/<id>-<timestamp>/``
(nothing is deleted) and seeds it again. Users ask for it with the launch link's
``reset=1`` query argument while the server is stopped (``hub.spawners.launch.launch_url(...,
reset=True)``); the request carries a one-time token so that a later plain launch does not
reset again.

Seeding never leaves a half-written folder: the files are copied into a hidden staging
folder beside it (``.<id>.seeding-<random>``), which becomes the working folder in one
rename, marker included; on any error (full disk, read-only folder...) the staging folder is
removed, a reset puts the previous folder back, and ``SeedError`` explains it in French.

``seed_for_spawner`` is the ``Spawner.pre_spawn_hook`` of local mode. An id that names no
entry is refused with ``models.entries.UnknownEntryError`` before anything is written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.spawners.launch import default_url
from models.entries import UnknownEntryError, entry_ids, require_entry
from models.errors import BiblioError
from models.fsutil import write_json

MARKER_NAME = ".biblio-seed.json"
DATA_DIRNAME = "donnees"
BACKUP_DIRNAME = "sauvegardes"
RESET_OPTION = "reset"
_SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}
STAGING_INFIX = ".seeding-"
_NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}


class SeedError(BiblioError, OSError):
    """The working folder could not be prepared (disk full, read-only...): nothing was left
    half-written. The message is French; ``errno`` is the system's."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.errno = code


def seed_error(error: OSError, entry_id: str, home: Path | str) -> SeedError:
    """The French ``SeedError`` for a system error met while preparing ``<home>/<entry_id>``."""
    where = Path(home) / entry_id
    if error.errno in _NO_ROOM:
        message = (
            f"Espace disque insuffisant pour préparer le démonstrateur « {entry_id} » "
            f"({where}) : rien n'a été copié, vos fichiers sont intacts. Libérez de la place "
            "ou prévenez l'administrateur, puis relancez."
        )
    elif error.errno in _READ_ONLY:
        message = (
            f"Le dossier de travail du démonstrateur « {entry_id} » ({where}) est en lecture "
            "seule ou inaccessible : rien n'a été copié, vos fichiers sont intacts. Prévenez "
            "l'administrateur."
        )
    else:
        message = (
            f"Impossible de préparer le dossier du démonstrateur « {entry_id} » ({where}) : "
            f"{error.strerror or error}. Rien n'a été copié ; prévenez l'administrateur."
        )
    return SeedError(message, error.errno)


@dataclass(frozen=True)
class SeedResult:
    """What one seeding did: ``copied`` relative paths, or nothing if already ``seeded``."""

    workdir: Path
    copied: list[str] = field(default_factory=list)
    already_seeded: bool = False
    backup: Path | None = None


def seed_sources(entry_id: str, repo_root: Path | str | None = None) -> dict[str, Path]:
    """Map each file to seed (path relative to the working folder) to its source file."""
    paths = require_entry(entry_id, repo_root)
    sources = {f"{entry_id}.ipynb": paths.notebook}
    if paths.dataset_dir.is_dir():
        for src in sorted(paths.dataset_dir.rglob("*")):
            rel = src.relative_to(paths.dataset_dir)
            if not src.is_file() or any(
                part.startswith(".") or part in _SKIPPED_PARTS for part in rel.parts
            ):
                continue
            sources[f"{DATA_DIRNAME}/{rel.as_posix()}"] = src
    return sources


def read_marker(workdir: Path) -> dict[str, Any] | None:
    """The seed marker of ``workdir`` (``None`` if it was never seeded)."""
    try:
        return json.loads((Path(workdir) / MARKER_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}


def _write_marker(workdir: Path, data: dict[str, Any]) -> None:
    write_json(workdir / MARKER_NAME, data)


def seed_workdir(
    entry_id: str,
    home: Path | str,
    repo_root: Path | str | None = None,
    *,
    now: dt.datetime | None = None,
) -> SeedResult:
    """Seed ``<home>/<entry_id>/`` on first launch; do nothing if it was already seeded.

    All or nothing: ``SeedError`` (French) when the folder cannot be written, and then the
    folder is as it was.
    """
    sources = seed_sources(entry_id, repo_root)
    workdir = Path(home) / entry_id
    marker = read_marker(workdir)
    if marker is not None:
        return SeedResult(workdir=workdir, already_seeded=True)
    stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    staging = Path(home) / f".{entry_id}{STAGING_INFIX}{secrets.token_hex(4)}"
    try:
        staging.mkdir(parents=True)
        # A file the user made before any marker existed is kept (not copied over).
        copied = [rel for rel in sources if not (workdir / rel).exists()]
        for rel in copied:
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sources[rel], dest)
        marker = {"entry_id": entry_id, "seeded_at": stamp, "files": sorted(sources)}
        _write_marker(staging, marker)
        _move_into_place(staging, workdir, copied)
    except OSError as error:
        if isinstance(error, SeedError):
            raise
        raise seed_error(error, entry_id, home) from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SeedResult(workdir=workdir, copied=copied)


def _move_into_place(staging: Path, workdir: Path, copied: list[str]) -> None:
    """The staging folder becomes ``workdir`` in one rename (or, if ``workdir`` already holds
    the user's files, each copied file is renamed in, the marker last)."""
    try:
        os.rename(staging, workdir)
        return
    except OSError as error:
        if error.errno not in (errno.EEXIST, errno.ENOTEMPTY) and not workdir.is_dir():
            raise
    for rel in [*copied, MARKER_NAME]:
        dest = workdir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, dest)


def backup_path(home: Path | str, entry_id: str, now: dt.datetime | None = None) -> Path:
    """A free ``<home>/sauvegardes/<entry_id>-<YYYYmmdd-HHMMSS>[-n]`` path."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = Path(home) / BACKUP_DIRNAME / f"{entry_id}-{stamp}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def reset_workdir(
    entry_id: str,
    home: Path | str,
    repo_root: Path | str | None = None,
    *,
    now: dt.datetime | None = None,
    token: str | None = None,
) -> SeedResult:
    """Move ``<home>/<entry_id>/`` to a timestamped backup, then seed it again.

    Stop the entry's server first. ``token`` (the one-time reset token) is written in the new
    marker; the backup path is returned in ``SeedResult.backup`` (``None`` if there was
    nothing to back up).
    """
    seed_sources(entry_id, repo_root)  # unknown entry: fail before moving anything
    workdir = Path(home) / entry_id
    backup = None
    if workdir.exists():
        backup = backup_path(home, entry_id, now)
        try:
            backup.parent.mkdir(parents=True, exist_ok=True)
            os.replace(workdir, backup)
        except OSError as error:
            raise seed_error(error, entry_id, home) from error
    try:
        result = seed_workdir(entry_id, home, repo_root, now=now)
    except SeedError:
        if backup is not None:  # the previous folder goes back where it was
            os.replace(backup, workdir)
        raise
    if token is not None:
        marker = read_marker(result.workdir) or {}
        _write_marker(result.workdir, {**marker, "reset_token": token})
    return SeedResult(workdir=result.workdir, copied=result.copied, backup=backup)


def parse_launch_options(form_data: dict[str, list[str]]) -> dict[str, str]:
    """``Spawner.options_from_form``: keep only ``reset``, as a one-time token.

    Any other key is ignored (a launch link cannot inject spawner options).
    """
    values = form_data.get(RESET_OPTION) or []
    if values and str(values[0]).strip().lower() in {"1", "true", "oui", "yes", "on"}:
        return {RESET_OPTION: secrets.token_hex(8)}
    return {}


def prepare_workdir(
    entry_id: str,
    home: Path | str,
    repo_root: Path | str | None = None,
    user_options: dict[str, Any] | None = None,
) -> SeedResult:
    """Seed on first launch, or reset once when ``user_options`` carries a new reset token."""
    token = (user_options or {}).get(RESET_OPTION)
    workdir = Path(home) / entry_id
    if token and (read_marker(workdir) or {}).get("reset_token") != token:
        return reset_workdir(entry_id, home, repo_root, token=str(token))
    return seed_workdir(entry_id, home, repo_root)


def user_home(users_dir: Path | str, username: str) -> Path:
    """``<users_dir>/<username>``, refusing names that would leave ``users_dir``."""
    if not username or username in {".", ".."} or "/" in username or "\0" in username:
        raise ValueError(f"nom d'utilisateur inutilisable comme dossier : {username!r}")
    return Path(users_dir) / username


def _prepare_home(
    home: Path, entry_id: str, repo_root: Path, user_options: dict[str, Any]
) -> SeedResult:
    require_entry(entry_id, repo_root)  # an unknown entry: refused before anything is written
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise seed_error(error, entry_id, home) from error
    return prepare_workdir(entry_id, home, repo_root, user_options)


async def seed_for_spawner(spawner: Any, *, users_dir: Path, repo_root: Path) -> SeedResult | None:
    """``pre_spawn_hook`` of local mode: seed the named server's folder, open the notebook.

    The default (unnamed) server is left alone. An unknown server name is refused with a
    French 404 message before anything is written. The checks and copies run in a worker
    thread: the hub's event loop goes on serving while fifty folders are seeded at once.
    """
    entry_id = spawner.name
    if not entry_id:
        return None
    home = user_home(users_dir, spawner.user.name)
    options = dict(getattr(spawner, "user_options", None) or {})
    try:
        result = await asyncio.to_thread(_prepare_home, home, entry_id, repo_root, options)
    except UnknownEntryError:
        from tornado import web

        known = ", ".join(entry_ids(repo_root)) or "aucun"
        raise web.HTTPError(
            404,
            f"Démonstrateur inconnu : « {entry_id} ». Démonstrateurs disponibles : {known}.",
        ) from None
    except SeedError as error:
        from tornado import web

        spawner.log.error("biblio: seeding %s/%s failed: %s", spawner.user.name, entry_id, error)
        status = 507 if error.errno in _NO_ROOM else 503
        raise web.HTTPError(status, str(error)) from None
    spawner.default_url = default_url(entry_id)
    spawner.log.info(
        "biblio: %s for %s/%s (%d files copied%s)",
        "reset" if result.backup else "seed",
        spawner.user.name,
        entry_id,
        len(result.copied),
        f", backup in {result.backup}" if result.backup else "",
    )
    return result
