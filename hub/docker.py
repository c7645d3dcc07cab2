"""Docker mode (``BIBLIO_SPAWNER=docker``): each demonstrator in its own container.

``configure_docker(c, settings)`` is called by ``hub.config.configure`` and only sets traits
(of ``BiblioDockerSpawner``, in its own config section so that the local-mode values set on
``c.Spawner`` — host paths, ``--allow-root`` — never reach a container). The Docker-specific
variables are read by ``DockerSettings.from_env`` when it runs, never at import; the
variables are listed in ``VARIABLES`` below (name -> default, meaning), the README table's
source. ``BIBLIO_DOCKER_ALLOWED_IMAGES`` never accepts ``*``.

The Docker engine is the one of ``DOCKER_HOST`` (``scripts/dockerd.sh env``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.launch import default_url
from hub.seed import UnknownEntryError, seed_sources
from hub.settings import Settings, SettingsError

SPAWNER_CLASS = "hub.dockerspawner.BiblioDockerSpawner"
WORK_DIR = "/home/jovyan/work"
IMAGE_REPO_ROOT = "/opt/biblio-ia"
SINGLEUSER_CMD = ["python", "-m", "hub.singleuser"]
PULL_POLICIES = ("never", "ifnotpresent", "always")
_BYTES = re.compile(r"^[0-9]+(\.[0-9]+)?[KMGT]?$")
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")

VARIABLES: dict[str, tuple[str, str]] = {
    "BIBLIO_DOCKER_IMAGE": ("BIBLIO_IMAGE", "demonstrator image"),
    "BIBLIO_DOCKER_ALLOWED_IMAGES": ("the image", "other allowed images, comma-separated"),
    "BIBLIO_DOCKER_NETWORK": ("host", "host, or a Docker network shared with hub and proxy"),
    "BIBLIO_DOCKER_HUB_CONNECT_IP": ("", "hub address seen from containers (non-host network)"),
    "BIBLIO_DOCKER_MEM_LIMIT": ("BIBLIO_MEM_LIMIT", "memory limit per server"),
    "BIBLIO_DOCKER_CPU_LIMIT": ("BIBLIO_CPU_LIMIT", "CPU limit per server"),
    "BIBLIO_DOCKER_PIDS_LIMIT": ("512", "process limit per server"),
    "BIBLIO_DOCKER_PULL_POLICY": ("never", "never, ifnotpresent or always"),
    "BIBLIO_DOCKER_START_TIMEOUT": ("BIBLIO_START_TIMEOUT", "seconds to start a container"),
    "BIBLIO_DOCKER_HTTP_TIMEOUT": ("BIBLIO_HTTP_TIMEOUT", "seconds for a server to answer"),
    "BIBLIO_DOCKER_VOLUME_PREFIX": ("biblio-ia", "prefix of container and volume names"),
}


def env_text(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name)
    return default if raw is None or not raw.strip() else raw.strip()


def env_positive(env: Mapping[str, str], name: str, default: float, *, integer: bool) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0 or (integer and value != int(value)):
        kind = "un nombre entier" if integer else "un nombre"
        raise SettingsError(f"{name} vaut « {raw} » : {kind} strictement positif est attendu.")
    return int(value) if integer else value


def byte_size(value: str, name: str) -> str:
    spec = value.strip().upper().removesuffix("B") if value.strip().upper() != "B" else value
    if not _BYTES.match(spec):
        raise SettingsError(
            f"{name} vaut « {value} » : une taille est attendue, par exemple 512M ou 2G."
        )
    return spec


def image_name(value: str, name: str) -> str:
    if value == "*" or not value or any(ch.isspace() for ch in value):
        raise SettingsError(
            f"{name} vaut « {value} » : nommez une image précise (jamais « * »), "
            "par exemple biblio-ia-singleuser:latest."
        )
    return value


@dataclass(frozen=True)
class DockerSettings:
    """Validated Docker-mode settings. Build with ``DockerSettings.from_env``."""

    image: str
    allowed_images: tuple[str, ...]
    network: str = "host"
    hub_connect_ip: str = ""
    mem_limit: str = "2G"
    cpu_limit: float = 1.0
    pids_limit: int = 512
    pull_policy: str = "never"
    start_timeout: int = 60
    http_timeout: int = 30
    volume_prefix: str = "biblio-ia"

    @classmethod
    def from_env(cls, env: Mapping[str, str], base: Settings) -> DockerSettings:
        """Read the ``BIBLIO_DOCKER_*`` variables of ``env``; defaults come from ``base``."""
        image = image_name(env_text(env, "BIBLIO_DOCKER_IMAGE", base.image), "BIBLIO_DOCKER_IMAGE")
        extra = [
            image_name(item.strip(), "BIBLIO_DOCKER_ALLOWED_IMAGES")
            for item in env_text(env, "BIBLIO_DOCKER_ALLOWED_IMAGES", "").split(",")
            if item.strip()
        ]
        allowed = tuple(dict.fromkeys([image, *extra]))
        network = env_text(env, "BIBLIO_DOCKER_NETWORK", "host")
        if not _NAME.match(network) or network in {"bridge", "none"}:
            raise SettingsError(
                f"BIBLIO_DOCKER_NETWORK vaut « {network} » : « host » ou le nom d'un réseau "
                "Docker créé pour le hub (docker network create …) ; ni « bridge » ni « none »."
            )
        hub_connect_ip = env_text(env, "BIBLIO_DOCKER_HUB_CONNECT_IP", "")
        if network != "host" and not hub_connect_ip:
            raise SettingsError(
                f"BIBLIO_DOCKER_NETWORK vaut « {network} » : indiquez aussi "
                "BIBLIO_DOCKER_HUB_CONNECT_IP (nom ou adresse du hub sur ce réseau)."
            )
        policy = env_text(env, "BIBLIO_DOCKER_PULL_POLICY", "never").lower()
        if policy not in PULL_POLICIES:
            raise SettingsError(
                f"BIBLIO_DOCKER_PULL_POLICY vaut « {policy} » : valeurs admises "
                f"{', '.join(PULL_POLICIES)}."
            )
        prefix = env_text(env, "BIBLIO_DOCKER_VOLUME_PREFIX", "biblio-ia")
        if not _NAME.match(prefix) or "--" in prefix:
            raise SettingsError(
                f"BIBLIO_DOCKER_VOLUME_PREFIX vaut « {prefix} » : lettres, chiffres, « _ », "
                "« . » et « - » (pas « -- »)."
            )
        return cls(
            image=image,
            allowed_images=allowed,
            network=network,
            hub_connect_ip=hub_connect_ip,
            mem_limit=byte_size(
                env_text(env, "BIBLIO_DOCKER_MEM_LIMIT", base.mem_limit), "BIBLIO_DOCKER_MEM_LIMIT"
            ),
            cpu_limit=env_positive(env, "BIBLIO_DOCKER_CPU_LIMIT", base.cpu_limit, integer=False),
            pids_limit=env_positive(env, "BIBLIO_DOCKER_PIDS_LIMIT", 512, integer=True),
            pull_policy=policy,
            start_timeout=env_positive(
                env, "BIBLIO_DOCKER_START_TIMEOUT", base.start_timeout, integer=True
            ),
            http_timeout=env_positive(
                env, "BIBLIO_DOCKER_HTTP_TIMEOUT", base.http_timeout, integer=True
            ),
            volume_prefix=prefix,
        )


def container_environment() -> dict[str, str]:
    """Environment of every demonstrator container (paths inside the image)."""
    return {
        "JUPYTER_CONFIG_PATH": f"{IMAGE_REPO_ROOT}/hub/jupyter",
        "BIBLIO_REPO_ROOT": IMAGE_REPO_ROOT,
        "BIBLIO_HOME": WORK_DIR,
        "PYTHONUNBUFFERED": "1",
    }


def host_config(d: DockerSettings) -> dict[str, Any]:
    """Hardening of every container: no privilege gain, no capability, bounded processes."""
    return {
        "pids_limit": d.pids_limit,
        "security_opt": ["no-new-privileges"],
        "cap_drop": ["ALL"],
    }


def prepare_spawn(spawner: Any, *, repo_root: Any) -> None:
    """``pre_spawn_hook`` of docker mode: refuse an unknown entry, open its notebook.

    The files are seeded inside the container by the image's entry point
    (``hub.container_start``), from the copy of the entries baked into the image.
    """
    entry_id = spawner.name
    if not entry_id:
        return
    try:
        seed_sources(entry_id, repo_root)
    except (ValueError, UnknownEntryError):
        from tornado import web

        raise web.HTTPError(404, f"Démonstrateur inconnu : « {entry_id} ».") from None
    spawner.default_url = default_url(entry_id)


def configure_docker(c: Any, s: Settings, env: Mapping[str, str] | None = None) -> DockerSettings:
    """Set the Docker-mode traits on ``c``; ``env`` defaults to ``s.env`` (BIBLIO_* variables)."""
    d = DockerSettings.from_env(s.env if env is None else env, s)
    c.JupyterHub.spawner_class = SPAWNER_CLASS
    sp = c.BiblioDockerSpawner
    sp.image = d.image
    sp.allowed_images = list(d.allowed_images)
    sp.pull_policy = d.pull_policy
    sp.remove = True
    sp.prefix = d.volume_prefix
    sp.volume_prefix = d.volume_prefix
    sp.work_dir = WORK_DIR
    sp.notebook_dir = WORK_DIR
    sp.cmd = list(SINGLEUSER_CMD)
    sp.args = []
    sp.environment = container_environment()
    sp.mem_limit = d.mem_limit
    sp.cpu_limit = d.cpu_limit
    sp.extra_host_config = host_config(d)
    sp.network_name = d.network
    sp.start_timeout = d.start_timeout
    sp.http_timeout = d.http_timeout
    sp.pre_spawn_hook = functools.partial(prepare_spawn, repo_root=s.repo_root)
    if d.network == "host":
        sp.host_ip_for_hub = "127.0.0.1"
    else:
        sp.use_internal_ip = True
        c.JupyterHub.hub_connect_ip = d.hub_connect_ip
    return d
