"""Hub configuration of the reproduce service (« Essayer sur mes données »).

``configure_reproduce(c, settings)`` is called by ``hub.config.configure.configure``; it only
*adds* to what the hub configured: the service entry (hub-managed, 127.0.0.1, the
``BIBLIO_*`` values it needs passed in its environment, in docker mode also ``DOCKER_HOST``)
and the role scope that lets every signed-in user reach it — the service itself answers 403
to users without ``custom:biblio:reproduire`` (granted to the groups in ``hub.config.roles``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from hub import shared
from hub.catalog.config import add_service, catalog_url
from hub.config.roles import SCOPE_EXPERT, SCOPE_REPRODUIRE
from hub.config.settings import VARIABLES, Settings
from hub.shared import free_port, managed_service

SERVICE_NAME = "reproduce"
# The variables the service and its analyses read (Settings.from_env in the service).
PASSED_PREFIXES = ("BIBLIO_REPRO_", "BIBLIO_DOCKER_", "BIBLIO_K8S_")
PASSED = (
    "BIBLIO_SPAWNER",
    "BIBLIO_STATE_DIR",
    "BIBLIO_REPO_ROOT",
    "BIBLIO_BASE_URL",
    "BIBLIO_IP",
    "BIBLIO_PORT",
    "BIBLIO_SERVICE_BIND",
    "BIBLIO_IMAGE",
    "BIBLIO_MIN_USABLE_SHARE",
    "BIBLIO_TDP_PER_CORE_W",
    "BIBLIO_PUE",
    "BIBLIO_CARBON_INTENSITY",
)
# What the service may do with a user's own token, on the user's own servers only (each
# intersected with what the user may do): « Ouvrir dans mon démonstrateur » starts the
# expert's demonstrator and writes the analysis's notebook in it (hub.reproduce.demonstrator).
ON_BEHALF_SCOPES = (
    "read:users:name!user",
    "read:servers!user",
    "servers!user",
    "access:servers!user",
)
# How the Docker SDK finds the engine (docker.from_env), passed in docker mode only: a
# hub-managed service gets only the environment it is given.
DOCKER_ENGINE_VARIABLES = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")


def reproduce_prefix(settings: Settings) -> str:
    return f"{settings.base_url}services/{SERVICE_NAME}/"


def reproduce_origin(subdomain_host: str) -> str:
    """``""``, or the service's own origin with ``BIBLIO_SUBDOMAIN_HOST`` (as JupyterHub
    names it: ``reproduce--service.<host>``, like the catalog's)."""
    if not subdomain_host:
        return ""
    from jupyterhub.utils import subdomain_hook_idna

    parsed = urlparse(subdomain_host)
    domain = subdomain_hook_idna(SERVICE_NAME, parsed.hostname, "service")
    return f"{parsed.scheme}://{domain}" + (f":{parsed.port}" if parsed.port else "")


def reproduce_url(settings: Settings) -> str:
    """The service's address as other pages link to it (absolute with subdomains)."""
    return reproduce_origin(settings.subdomain_host) + reproduce_prefix(settings)


def as_env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return str(value)


def service_environment(settings: Settings) -> dict[str, str]:
    """The ``BIBLIO_*`` values of ``settings`` the service needs, as text."""
    env = shared.service_environment()
    for field, spec in ((f, VARIABLES[n]) for n, f in _fields_by_name().items()):
        if spec.name in PASSED or spec.name.startswith(PASSED_PREFIXES):
            value = getattr(settings, field)
            if value is not None:
                env[spec.name] = as_env_text(value)
    return env


def _fields_by_name() -> dict[str, str]:
    from hub.config.settings import declared

    return {spec.name: field for field, spec in declared().items()}


def engine_environment(settings: Settings, env: Mapping[str, str]) -> dict[str, str]:
    """In docker mode, the variables of ``env`` that locate the Docker engine (the same
    engine as the demonstrators'); nothing in the other modes."""
    if settings.spawner != "docker":
        return {}
    return {k: env[k] for k in DOCKER_ENGINE_VARIABLES if env.get(k)}


def reproduce_service(
    settings: Settings, python: str = sys.executable, extra_env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The ``c.JupyterHub.services`` entry (``extra_env``: the engine's variables)."""
    return managed_service(
        SERVICE_NAME,
        "hub.reproduce",
        ["--catalog-url", catalog_url(settings), "--hub-origin", settings.subdomain_host],
        port=settings.repro_port or free_port(),
        description="Essayer les modèles de référence sur ses propres données",
        display=False,
        cwd=settings.repo_root,
        scopes=[SCOPE_REPRODUIRE, SCOPE_EXPERT, *ON_BEHALF_SCOPES],
        python=python,
        environment={**service_environment(settings), **(extra_env or {})},
    )


def configure_reproduce(
    c: Any, settings: Settings, extra_env: Mapping[str, str] | None = None
) -> None:
    """Add the reproduce service and its access scope to a hub configuration."""
    add_service(
        c,
        reproduce_service(settings, extra_env=extra_env),
        [{"name": "user", "scopes": [f"access:services!service={SERVICE_NAME}"]}],
        {"biblio_reproduce_url": reproduce_url(settings)},
    )
