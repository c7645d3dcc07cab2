"""The hub side of a workspace server: its folder, its configuration, who may start it.

``pre_spawn`` is the ``Spawner.pre_spawn_hook`` of local mode: a workspace server name
(``ws-<slug>``) goes to ``prepare_workspace``, anything else to the demonstrators' seeding
(``hub.spawners.seed.seed_for_spawner``). Docker mode's hook
(``hub.spawners.docker_config.prepare_docker_spawn``) calls the same ``prepare_workspace``
with the paths the container sees (``server_dir``, ``config_dir``), then mounts the folder
and hands it to the image's user (``container_user``). ``prepare_workspace``

1. refuses (403, French) an owner without the workspace scope (``custom:biblio:espaces``):
   creating a workspace through the hub API directly is no way around the expert right;
2. creates the folder on the first start (``user_options``: ``entree`` = an entry id or
   nothing, ``titre``), in a worker thread, and keeps it as is afterwards;
3. points the server at it: root folder, ``JUPYTER_CONFIG_PATH`` with the workspace
   configuration first (jupyter-collaboration, jupyterlab-git, ``hub.workspaces.extension``),
   ``PYTHONPATH`` on the folder (kernels import the workspace's own ``models``), and
   ``HubOAuth.cache_max_age`` set to ``access_check`` seconds (a revoked member's cached
   authorization lasts no longer);
4. lets members in without JupyterHub's OAuth confirmation page ("Authorize access"): accepting
   the invitation was their consent; the server's OAuth client joins the hub's
   ``oauth_no_confirm_list`` (the set the hub builds from its no-confirm services);
5. shortens the stop grace periods (``STOP_GRACE``, for the traits the spawner has): a local
   process gets SIGINT, then SIGTERM, then SIGKILL; a container (``docker stop``) SIGTERM, then
   SIGKILL. jupyter-collaboration's shutdown can wait tens of seconds (jupyter-collaboration
   issue #161) while every document is already saved on each change.

The folder is created on the hub's side in every mode (the service reads its history and
exports it); a server only ever sees it at ``server_dir`` (the folder itself in local mode,
the container's work folder in docker mode): no host path reaches a container.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path, PurePath
from typing import Any

from hub.config.roles import SCOPE_WORKSPACES
from hub.workspaces.folder import create_workspace, workspace_dir
from hub.workspaces.names import WorkspaceError, is_workspace

HUB_DIR = Path(__file__).resolve().parents[1]
WORKSPACE_CONFIG_DIR = HUB_DIR / "jupyter" / "espace"
CACHE_ARG = "--HubOAuth.cache_max_age="
#: Grace periods (s) of a workspace server's stop. Local process: SIGINT, 2 s, SIGTERM, 1 s,
#: SIGKILL (``LocalProcessSpawner``); container: SIGTERM, 3 s, SIGKILL (``docker stop``,
#: ``BiblioDockerSpawner.stop_timeout``). Only the traits a spawner has are set.
STOP_GRACE = {"interrupt_timeout": 2, "term_timeout": 1, "kill_timeout": 2, "stop_timeout": 3}
#: The user of the demonstrator image (NB_UID of images/singleuser/Dockerfile).
IMAGE_UID = IMAGE_GID = 1000


def owner_may_create(user: Any) -> bool:
    """True if the hub user (``jupyterhub.user.User``) holds the workspace scope."""
    from jupyterhub.scopes import get_scopes_for

    return SCOPE_WORKSPACES in get_scopes_for(user.orm_user)


def default_url(folder: Path, entry_id: str | None) -> str:
    """JupyterLab on the entry's notebook when there is one, else on the folder."""
    if entry_id and (folder / "notebooks" / f"{entry_id}.ipynb").is_file():
        return f"/lab/tree/notebooks/{entry_id}.ipynb"
    return "/lab"


def skip_oauth_confirmation(spawner: Any) -> bool:
    """Add the server's OAuth client to the hub's no-confirm set; False if not possible."""
    no_confirm = (getattr(spawner.user, "settings", None) or {}).get("oauth_no_confirm_list")
    if not isinstance(no_confirm, set):
        return False
    no_confirm.add(spawner.oauth_client_id)
    return True


def workspace_environment(base: dict[str, str], folder: PurePath, config_dir: PurePath) -> dict:
    """``base`` with the workspace configuration first and the folder on ``PYTHONPATH``
    (paths as the server sees them)."""
    env = dict(base)
    paths = [str(config_dir)] + [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(":") if p]
    env["JUPYTER_CONFIG_PATH"] = ":".join(dict.fromkeys(paths))
    env["PYTHONPATH"] = str(folder)
    return env


def point_at_workspace(
    spawner: Any,
    folder: Path,
    entry_id: str | None,
    *,
    access_check: int,
    config_dir: PurePath = WORKSPACE_CONFIG_DIR,
    server_dir: PurePath | None = None,
) -> None:
    """Set the traits of a workspace server (steps 3 to 5 above); idempotent on restarts.

    ``folder`` is the hub's path of the folder (read here), ``server_dir`` where the server
    sees it (``folder`` itself by default), ``config_dir`` its workspace configuration there.
    """
    if not entry_id:
        notebooks = sorted((folder / "notebooks").glob("*.ipynb"))
        entry_id = notebooks[0].stem if notebooks else None
    seen = folder if server_dir is None else server_dir
    spawner.notebook_dir = str(seen)
    spawner.default_url = default_url(folder, entry_id)
    spawner.environment = workspace_environment(spawner.environment, seen, config_dir)
    args = [a for a in spawner.args if not a.startswith(CACHE_ARG)]
    spawner.args = [*args, f"{CACHE_ARG}{int(access_check)}"]
    skip_oauth_confirmation(spawner)
    for trait, seconds in STOP_GRACE.items():
        if spawner.has_trait(trait):
            setattr(spawner, trait, seconds)


def container_user(folder: Path, euid: int | None = None) -> str | None:
    """Make ``folder`` writable by the workspace's container; the ``uid:gid`` it must run as,
    or ``None`` for the image's own user.

    A hub running as root gives the folder to the image's user, uid and gid 1000, once (while
    the folder is still the hub's: no member could have placed a link in it yet; links are
    never followed); mode bits are kept (the folder stays 0700: nobody else on the host reads
    it). A hub running as uid 1000 has nothing to do. A hub running as another user keeps its
    files and runs the container as its own ``uid:gid``. Nothing is made world-writable. The
    hub still reads the folder (history, export): as root, or as its owner; git is told that
    the folder is safe (``hub.workspaces.folder.git``).
    """
    euid = os.geteuid() if euid is None else euid
    if euid == IMAGE_UID:
        return None
    if euid != 0:
        return f"{euid}:{os.getegid()}"
    if folder.lstat().st_uid != IMAGE_UID:
        for path in (folder, *folder.rglob("*")):
            os.chown(path, IMAGE_UID, IMAGE_GID, follow_symlinks=False)
    return None


async def prepare_workspace(
    spawner: Any,
    *,
    workspaces_dir: Path,
    repo_root: Path,
    access_check: int,
    config_dir: PurePath = WORKSPACE_CONFIG_DIR,
    server_dir: PurePath | None = None,
) -> Path:
    """Prepare ``spawner`` (a ``ws-…`` named server) as a workspace; return its folder."""
    from tornado import web

    owner = spawner.user.name
    if not owner_may_create(spawner.user):
        raise web.HTTPError(
            403, "Les espaces de travail communs sont réservés aux comptes experts."
        )
    options = dict(getattr(spawner, "user_options", None) or {})
    entry_id = options.get("entree") or None
    try:
        folder = workspace_dir(workspaces_dir, owner, spawner.name)
        created = await asyncio.to_thread(
            create_workspace,
            workspaces_dir,
            owner,
            spawner.name,
            title=str(options.get("titre") or ""),
            entry_id=entry_id,
            repo_root=repo_root,
        )
    except (WorkspaceError, LookupError) as error:
        raise web.HTTPError(400, str(error)) from None
    point_at_workspace(
        spawner, folder, entry_id,
        access_check=access_check, config_dir=config_dir, server_dir=server_dir,
    )  # fmt: skip
    spawner.log.info(
        "biblio: workspace %s/%s %s in %s", owner, spawner.name,
        "created" if created else "reopened", folder,
    )  # fmt: skip
    return folder


async def pre_spawn(
    spawner: Any,
    *,
    users_dir: Path,
    repo_root: Path,
    workspaces_dir: Path,
    access_check: int,
) -> Any:
    """``Spawner.pre_spawn_hook``: a workspace, or a demonstrator (seeded as before)."""
    if spawner.name and is_workspace(spawner.name):
        return await prepare_workspace(
            spawner, workspaces_dir=workspaces_dir, repo_root=repo_root, access_check=access_check
        )
    from hub.spawners.seed import seed_for_spawner

    return await seed_for_spawner(spawner, users_dir=users_dir, repo_root=repo_root)
