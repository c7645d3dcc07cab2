"""Seeding of a demonstrator's working folder, and its reset.

On the first launch of entry ``<id>`` for a user, ``seed_workdir`` copies into
``<home>/<id>/`` a fresh copy of the entry's notebook (``<id>.ipynb``) and of the files of
its dataset folder (under ``donnees/``), then writes a marker file. Later launches find the
marker and touch nothing: the user's edits (and deletions) are kept.

``reset_workdir`` moves the whole working folder to ``<home>/sauvegardes/<id>-<timestamp>/``
(nothing is deleted) and seeds it again. Users ask for it with the launch link's
``reset=1`` query argument while the server is stopped (``hub.launch.launch_url(...,
reset=True)``); the request carries a one-time token so that a later plain launch does not
reset again.

``seed_for_spawner`` is the ``Spawner.pre_spawn_hook`` of local mode.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.launch import check_entry_id, default_url
from models.entries import entry_ids, entry_paths
from models.fsutil import atomic_path, write_json

MARKER_NAME = ".biblio-seed.json"
DATA_DIRNAME = "donnees"
BACKUP_DIRNAME = "sauvegardes"
RESET_OPTION = "reset"
_SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class SeedResult:
    """What one seeding did: ``copied`` relative paths, or nothing if already ``seeded``."""

    workdir: Path
    copied: list[str] = field(default_factory=list)
    already_seeded: bool = False
    backup: Path | None = None


class UnknownEntryError(LookupError):
    """The requested entry has no notebook in the repository."""


def seed_sources(entry_id: str, repo_root: Path | str | None = None) -> dict[str, Path]:
    """Map each file to seed (path relative to the working folder) to its source file."""
    check_entry_id(entry_id)
    paths = entry_paths(entry_id, repo_root)
    if not paths.notebook.is_file():
        raise UnknownEntryError(entry_id)
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


def _copy_atomic(src: Path, dest: Path) -> None:
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)


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
    """Seed ``<home>/<entry_id>/`` on first launch; do nothing if it was already seeded."""
    sources = seed_sources(entry_id, repo_root)
    workdir = Path(home) / entry_id
    marker = read_marker(workdir)
    if marker is not None:
        return SeedResult(workdir=workdir, already_seeded=True)
    workdir.mkdir(parents=True, exist_ok=True)
    copied = []
    for rel, src in sources.items():
        dest = workdir / rel
        if dest.exists():  # a file the user made before any marker existed: keep it
            continue
        _copy_atomic(src, dest)
        copied.append(rel)
    stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    _write_marker(workdir, {"entry_id": entry_id, "seeded_at": stamp, "files": sorted(sources)})
    return SeedResult(workdir=workdir, copied=copied)


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
        backup.parent.mkdir(parents=True, exist_ok=True)
        os.replace(workdir, backup)
    result = seed_workdir(entry_id, home, repo_root, now=now)
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


def seed_for_spawner(spawner: Any, *, users_dir: Path, repo_root: Path) -> SeedResult | None:
    """``pre_spawn_hook`` of local mode: seed the named server's folder, open the notebook.

    The default (unnamed) server is left alone. An unknown server name is refused with a
    French 404 message before anything is written.
    """
    entry_id = spawner.name
    if not entry_id:
        return None
    from tornado import web

    if not _is_entry(entry_id, repo_root):
        known = ", ".join(entry_ids(repo_root)) or "aucun"
        raise web.HTTPError(
            404,
            f"Démonstrateur inconnu : « {entry_id} ». Démonstrateurs disponibles : {known}.",
        )
    home = user_home(users_dir, spawner.user.name)
    home.mkdir(parents=True, exist_ok=True)
    result = prepare_workdir(entry_id, home, repo_root, getattr(spawner, "user_options", None))
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


def _is_entry(entry_id: str, repo_root: Path) -> bool:
    try:
        check_entry_id(entry_id)
    except ValueError:
        return False
    return entry_id in entry_ids(repo_root)
