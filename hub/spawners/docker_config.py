"""Docker mode (``BIBLIO_SPAWNER=docker``): each demonstrator in its own container.

``configure_docker(c, settings)`` is called by ``hub.config.configure.configure`` and only sets
traits (of ``BiblioDockerSpawner``, in its own config section so that the local-mode values set
on ``c.Spawner`` — host paths, ``--allow-root`` — never reach a container). Its variables are
the ``docker_*`` fields of ``hub.config.settings.Settings`` (``BIBLIO_DOCKER_*``), validated
there; ``BIBLIO_DOCKER_ALLOWED_IMAGES`` never accepts ``*``.

Joint workspaces (``ws-<slug>``) are prepared by ``prepare_docker_spawn`` with the local
mode's ``hub.workspaces.spawn.prepare_workspace`` (expert right, folder on the hub's side),
given the paths inside the image, then bind-mounted into their container
(``BiblioDockerSpawner.workspace_folder``), see docs/workspaces.md.

The Docker engine is the one of ``DOCKER_HOST`` (``scripts/dockerd.sh env``).
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path, PurePosixPath
from typing import Any

from hub.config.settings import Settings
from hub.spawners.launch import default_url
from hub.spawners.seed import seed_sources
from models.entries import UnknownEntryError

SPAWNER_CLASS = "hub.spawners.docker_spawner.BiblioDockerSpawner"
WORK_DIR = "/home/jovyan/work"
IMAGE_REPO_ROOT = "/opt/biblio-ia"
SINGLEUSER_CMD = ["python", "-m", "hub.spawners.singleuser"]
IMAGE_CONFIG_DIR = PurePosixPath(IMAGE_REPO_ROOT, "hub", "jupyter")


def container_environment(s: Settings) -> dict[str, str]:
    """Environment of every demonstrator container: the local servers' own
    (``hub.config.configure.singleuser_environment``) with the image's paths, and the work
    folder."""
    from hub.config.configure import singleuser_environment

    env = singleuser_environment(s, config_dir=IMAGE_CONFIG_DIR, repo_root=IMAGE_REPO_ROOT)
    return {**env, "BIBLIO_HOME": WORK_DIR}


def host_config(s: Settings) -> dict[str, Any]:
    """Hardening of every container: no privilege gain, no capability, bounded processes."""
    return {
        "pids_limit": s.docker_pids_limit,
        "security_opt": ["no-new-privileges"],
        "cap_drop": ["ALL"],
    }


def prepare_spawn(spawner: Any, *, repo_root: Any) -> None:
    """``pre_spawn_hook`` of docker mode: refuse an unknown entry, open its notebook.

    The files are seeded inside the container by the image's entry point
    (``hub.spawners.container_start``), from the copy of the entries baked into the image.
    """
    entry_id = spawner.name
    if not entry_id:
        return
    try:
        seed_sources(entry_id, repo_root)
    except UnknownEntryError:
        from tornado import web

        raise web.HTTPError(404, f"Démonstrateur inconnu : « {entry_id} ».") from None
    spawner.default_url = default_url(entry_id)


async def prepare_docker_spawn(
    spawner: Any, *, repo_root: Path, workspaces_dir: Path, access_check: int
) -> None:
    """``pre_spawn_hook`` of docker mode: a joint workspace, or a demonstrator.

    A workspace is prepared on the hub's side as in local mode (``prepare_workspace``: expert
    right, folder and its first commit), with the paths its container sees: the folder on the
    work folder, the workspace configuration of the image first in ``JUPYTER_CONFIG_PATH``.
    Its folder is then bind-mounted there and handed to the image's user.
    """
    from hub.workspaces.names import is_workspace

    if not (spawner.name and is_workspace(spawner.name)):
        prepare_spawn(spawner, repo_root=repo_root)
        return
    from hub.workspaces.spawn import container_user, prepare_workspace

    folder = await prepare_workspace(
        spawner,
        workspaces_dir=workspaces_dir,
        repo_root=repo_root,
        access_check=access_check,
        config_dir=IMAGE_CONFIG_DIR / "espace",
        server_dir=PurePosixPath(WORK_DIR),
    )
    spawner.workspace_user = await asyncio.to_thread(container_user, folder) or ""
    spawner.workspace_folder = str(folder.resolve())


def allowed_images(s: Settings) -> list[str]:
    """The demonstrator image first, then the other allowed ones (each once)."""
    return list(dict.fromkeys([s.docker_image, *s.docker_allowed_images]))


def configure_docker(c: Any, s: Settings) -> dict[str, Any]:
    """Set the Docker-mode traits on ``c``; return the values used."""
    c.JupyterHub.spawner_class = SPAWNER_CLASS
    sp = c.BiblioDockerSpawner
    sp.image = s.docker_image
    sp.allowed_images = allowed_images(s)
    sp.pull_policy = s.docker_pull_policy
    sp.remove = True
    sp.prefix = s.docker_volume_prefix
    sp.volume_prefix = s.docker_volume_prefix
    sp.work_dir = WORK_DIR
    sp.notebook_dir = WORK_DIR
    sp.cmd = list(SINGLEUSER_CMD)
    sp.args = []
    sp.environment = container_environment(s)
    sp.api_threads = s.docker_api_threads
    sp.mem_limit = s.docker_mem_limit
    sp.cpu_limit = s.docker_cpu_limit
    sp.extra_host_config = host_config(s)
    sp.network_name = s.docker_network
    sp.start_timeout = s.docker_start_timeout
    sp.http_timeout = s.docker_http_timeout
    sp.pre_spawn_hook = functools.partial(
        prepare_docker_spawn,
        repo_root=s.repo_root,
        workspaces_dir=s.workspaces_dir,
        access_check=s.workspace_access_check,
    )
    if s.docker_network == "host":
        sp.host_ip_for_hub = "127.0.0.1"
    else:
        sp.use_internal_ip = True
        c.JupyterHub.hub_connect_ip = s.docker_hub_connect_ip
    return {
        "image": s.docker_image,
        "allowed_images": sp.allowed_images,
        "network": s.docker_network,
    }
