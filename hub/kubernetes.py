"""Kubernetes mode (``BIBLIO_SPAWNER=kubernetes``): KubeSpawner, inside Zero to JupyterHub.

``configure_kubernetes(c, settings)`` is called by ``hub.config.configure``. It only sets
``KubeSpawner`` traits (by class name: kubespawner is not imported at configuration time),
with the same image, command, work folder, seeding and limits as docker mode:

- one persistent volume claim per user *and entry* (``biblio-ia-{user_server}``), mounted on
  the work folder, deleted with the server or the user (``delete_pvc``: GDPR);
- one profile per entry, chosen by the named server's name (a callable ``profile_list``
  returning that entry's profile, which KubeSpawner then applies without a form);
- ``pre_spawn_hook`` refusing unknown entries and opening the entry's notebook.

``configure_z2jh(c)`` is what the chart's ``hub.extraConfig`` runs (``images/z2jh-values.yaml``):
it applies the whole biblio-ia configuration (authentication, tiers and roles, named servers,
catalog, culler, spawner) and then puts back what the chart owns (addresses of the hub and
proxy pods, proxy token, database URL, secrets).

Kubernetes variables (read when configuration runs): ``BIBLIO_K8S_IMAGE`` (default
``BIBLIO_IMAGE``), ``BIBLIO_K8S_PULL_POLICY`` (``IfNotPresent``), ``BIBLIO_K8S_STORAGE``
(``1Gi`` per user and entry), ``BIBLIO_K8S_STORAGE_CLASS`` (cluster default),
``BIBLIO_K8S_MEM_GUARANTEE`` (``512M``), ``BIBLIO_K8S_CPU_GUARANTEE`` (``0.2``),
``BIBLIO_K8S_HUB_SERVICE`` (``hub``: host name of the hub pod's service, for the
hub-managed services the proxy pod must reach).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from copy import deepcopy
from typing import Any
from urllib.parse import urlparse

from hub.docker import (
    SINGLEUSER_CMD,
    WORK_DIR,
    byte_size,
    container_environment,
    env_positive,
    env_text,
    image_name,
    prepare_spawn,
)
from hub.settings import Settings, SettingsError
from models.entries import entry_ids

SPAWNER_CLASS = "kubespawner.KubeSpawner"
PULL_POLICIES = ("IfNotPresent", "Always", "Never")
NB_UID = 1000
NB_GID = 1000
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$")

VARIABLES: dict[str, tuple[str, str]] = {
    "BIBLIO_K8S_IMAGE": ("BIBLIO_IMAGE", "demonstrator image (in a registry the cluster reaches)"),
    "BIBLIO_K8S_PULL_POLICY": ("IfNotPresent", "IfNotPresent, Always or Never"),
    "BIBLIO_K8S_STORAGE": ("1Gi", "size of each user's volume per entry"),
    "BIBLIO_K8S_STORAGE_CLASS": ("", "storage class (cluster default if empty)"),
    "BIBLIO_K8S_MEM_GUARANTEE": ("512M", "memory reserved per server"),
    "BIBLIO_K8S_CPU_GUARANTEE": ("0.2", "CPU reserved per server"),
    "BIBLIO_K8S_HUB_SERVICE": ("hub", "service name of the hub pod (hub-managed services)"),
}

# What the Zero to JupyterHub chart configures and biblio-ia must not override in the pod:
# (section, trait) — restored after ``hub.config.configure`` by ``configure_z2jh``.
CHART_OWNED: dict[str, tuple[str, ...]] = {
    "JupyterHub": (
        "ip",
        "port",
        "bind_url",
        "hub_ip",
        "hub_port",
        "hub_bind_url",
        "hub_connect_ip",
        "hub_connect_url",
        "base_url",
        "db_url",
        "cookie_secret_file",
        "pid_file",
        "cleanup_servers",
    ),
    "ConfigurableHTTPProxy": ("*",),
    "CryptKeeper": ("*",),
}


def _quantity(value: str, name: str) -> str:
    if not _QUANTITY.match(value):
        raise SettingsError(f"{name} vaut « {value} » : une taille est attendue, par exemple 1Gi.")
    return value


def reset_token(spawner: Any) -> str:
    """``environment`` callable: the launch link's one-time reset token ('' if none)."""
    return str((getattr(spawner, "user_options", None) or {}).get("reset") or "")


def entry_profile(entry_id: str, *, default: bool = False) -> dict[str, Any]:
    """The KubeSpawner profile of one entry."""
    profile = {
        "display_name": entry_id,
        "slug": entry_id.replace("_", "-"),
        "description": f"Démonstrateur « {entry_id} »",
        "kubespawner_override": {
            "environment": {**container_environment(), "BIBLIO_ENTRY_ID": entry_id},
        },
    }
    if default:
        profile["default"] = True
    return profile


def profiles_for(spawner: Any, *, repo_root: Any) -> list[dict[str, Any]]:
    """``profile_list`` callable: the named server's entry profile only (no form shown)."""
    name = getattr(spawner, "name", "")
    if name and name in entry_ids(repo_root):
        return [entry_profile(name, default=True)]
    return []


def configure_kubernetes(
    c: Any, s: Settings, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Set the KubeSpawner traits on ``c``; return the values used."""
    env = s.env if env is None else env
    image = image_name(env_text(env, "BIBLIO_K8S_IMAGE", s.image), "BIBLIO_K8S_IMAGE")
    policy = env_text(env, "BIBLIO_K8S_PULL_POLICY", "IfNotPresent")
    if policy not in PULL_POLICIES:
        raise SettingsError(
            f"BIBLIO_K8S_PULL_POLICY vaut « {policy} » : "
            f"valeurs admises {', '.join(PULL_POLICIES)}."
        )
    storage = _quantity(env_text(env, "BIBLIO_K8S_STORAGE", "1Gi"), "BIBLIO_K8S_STORAGE")
    storage_class = env_text(env, "BIBLIO_K8S_STORAGE_CLASS", "")
    mem_limit = byte_size(s.mem_limit, "BIBLIO_MEM_LIMIT")
    mem_guarantee = byte_size(
        env_text(env, "BIBLIO_K8S_MEM_GUARANTEE", "512M"), "BIBLIO_K8S_MEM_GUARANTEE"
    )
    cpu_guarantee = env_positive(env, "BIBLIO_K8S_CPU_GUARANTEE", 0.2, integer=False)

    c.JupyterHub.spawner_class = SPAWNER_CLASS
    k = c.KubeSpawner
    k.image = image
    k.image_pull_policy = policy
    k.cmd = list(SINGLEUSER_CMD)
    k.args = []
    k.notebook_dir = WORK_DIR
    k.working_dir = WORK_DIR
    k.environment = {**container_environment(), "BIBLIO_RESET_TOKEN": reset_token}
    k.uid = NB_UID
    k.gid = NB_GID
    k.fs_gid = NB_GID
    k.allow_privilege_escalation = False
    k.container_security_context = {"capabilities": {"drop": ["ALL"]}}
    k.mem_limit = mem_limit
    k.mem_guarantee = mem_guarantee
    k.cpu_limit = s.cpu_limit
    k.cpu_guarantee = cpu_guarantee
    k.start_timeout = max(s.start_timeout, 300)  # pulling the image on a new node is slow
    k.http_timeout = s.http_timeout
    # One volume claim per user and entry, mounted on the work folder, erased with them.
    k.storage_pvc_ensure = True
    k.pvc_name_template = "biblio-ia-{user_server}"
    k.storage_capacity = storage
    k.storage_access_modes = ["ReadWriteOnce"]
    if storage_class:
        k.storage_class = storage_class
    k.volumes = [{"name": "work", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}]
    k.volume_mounts = [{"name": "work", "mountPath": WORK_DIR}]
    k.delete_pvc = True
    k.profile_list = functools.partial(profiles_for, repo_root=s.repo_root)
    k.pre_spawn_hook = functools.partial(prepare_spawn, repo_root=s.repo_root)
    return {
        "image": image,
        "pull_policy": policy,
        "storage": storage,
        "mem_limit": mem_limit,
        "mem_guarantee": mem_guarantee,
        "cpu_guarantee": cpu_guarantee,
    }


def _snapshot(c: Any) -> dict[str, dict[str, Any]]:
    saved = {}
    for section, traits in CHART_OWNED.items():
        current = c[section] if section in c else {}
        keep = current.keys() if traits == ("*",) else [t for t in traits if t in current]
        saved[section] = {t: deepcopy(current[t]) for t in keep}
    return saved


def _restore(c: Any, saved: dict[str, dict[str, Any]]) -> None:
    for section, traits in CHART_OWNED.items():
        if section not in c:
            continue
        current = c[section]
        names = list(current.keys()) if traits == ("*",) else [t for t in traits if t in current]
        for name in names:
            if name not in saved[section]:
                del current[name]
        for name, value in saved[section].items():
            current[name] = value


def _reachable_services(c: Any, hub_host: str) -> None:
    """Hub-managed services listen in the hub pod: the proxy pod reaches them via its service."""
    services = list(c.JupyterHub.services) if "services" in c.JupyterHub else []
    for service in services:
        url = service.get("url")
        if url and urlparse(url).hostname in {"127.0.0.1", "localhost"}:
            service["url"] = f"http://{hub_host}:{urlparse(url).port}"
            # listen on the pod's interfaces, not only its loopback
            service["environment"] = {
                **service.get("environment", {}),
                "BIBLIO_SERVICE_BIND": "0.0.0.0",
            }
    c.JupyterHub.services = services


def configure_z2jh(c: Any, env: Mapping[str, str] | None = None) -> Settings:
    """``hub.extraConfig`` of the chart: biblio-ia's configuration over the chart's."""
    from hub.config import configure

    env = dict(os.environ if env is None else env)
    env.setdefault("BIBLIO_SPAWNER", "kubernetes")
    if env["BIBLIO_SPAWNER"] != "kubernetes":
        raise SettingsError("Dans Kubernetes, BIBLIO_SPAWNER doit valoir « kubernetes ».")
    saved = _snapshot(c)
    settings = configure(c, env)
    _restore(c, saved)
    _reachable_services(c, env_text(env, "BIBLIO_K8S_HUB_SERVICE", "hub"))
    return settings
