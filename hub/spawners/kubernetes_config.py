"""Kubernetes mode (``BIBLIO_SPAWNER=kubernetes``): KubeSpawner, inside Zero to JupyterHub.

``configure_kubernetes(c, settings)`` is called by ``hub.config.configure.configure``. It only sets
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

Its variables are the ``k8s_*`` fields of ``hub.config.settings.Settings``
(``BIBLIO_K8S_*``, see ``docs/configuration.md``), validated there.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from copy import deepcopy
from typing import Any
from urllib.parse import urlparse

from hub.config.settings import Settings, SettingsError
from hub.spawners.docker_config import (
    SINGLEUSER_CMD,
    WORK_DIR,
    container_environment,
    prepare_spawn,
)
from models.entries import entry_ids

SPAWNER_CLASS = "kubespawner.KubeSpawner"
NB_UID = 1000
NB_GID = 1000

# What the Zero to JupyterHub chart configures and biblio-ia must not override in the pod:
# (section, trait) — restored after ``hub.config.configure.configure`` by ``configure_z2jh``.
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


def reset_token(spawner: Any) -> str:
    """``environment`` callable: the launch link's one-time reset token ('' if none)."""
    return str((getattr(spawner, "user_options", None) or {}).get("reset") or "")


def entry_profile(
    entry_id: str, environment: Mapping[str, Any], *, default: bool = False
) -> dict[str, Any]:
    """The KubeSpawner profile of one entry (``environment``: the containers' own)."""
    profile = {
        "display_name": entry_id,
        "slug": entry_id.replace("_", "-"),
        "description": f"Démonstrateur « {entry_id} »",
        "kubespawner_override": {
            "environment": {**environment, "BIBLIO_ENTRY_ID": entry_id},
        },
    }
    if default:
        profile["default"] = True
    return profile


def profiles_for(
    spawner: Any, *, repo_root: Any, environment: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """``profile_list`` callable: the named server's entry profile only (no form shown)."""
    name = getattr(spawner, "name", "")
    if name and name in entry_ids(repo_root):
        return [entry_profile(name, environment, default=True)]
    return []


def configure_kubernetes(c: Any, s: Settings) -> dict[str, Any]:
    """Set the KubeSpawner traits on ``c``; return the values used."""
    c.JupyterHub.spawner_class = SPAWNER_CLASS
    k = c.KubeSpawner
    k.image = s.k8s_image
    k.image_pull_policy = s.k8s_pull_policy
    k.cmd = list(SINGLEUSER_CMD)
    k.args = []
    k.notebook_dir = WORK_DIR
    k.working_dir = WORK_DIR
    k.environment = {**container_environment(s), "BIBLIO_RESET_TOKEN": reset_token}
    k.uid = NB_UID
    k.gid = NB_GID
    k.fs_gid = NB_GID
    k.allow_privilege_escalation = False
    k.container_security_context = {"capabilities": {"drop": ["ALL"]}}
    k.mem_limit = s.mem_limit
    k.mem_guarantee = s.k8s_mem_guarantee
    k.cpu_limit = s.cpu_limit
    k.cpu_guarantee = s.k8s_cpu_guarantee
    k.start_timeout = max(s.start_timeout, 300)  # pulling the image on a new node is slow
    k.http_timeout = s.http_timeout
    # One volume claim per user and entry, mounted on the work folder, erased with them.
    k.storage_pvc_ensure = True
    k.pvc_name_template = "biblio-ia-{user_server}"
    k.storage_capacity = s.k8s_storage
    k.storage_access_modes = ["ReadWriteOnce"]
    if s.k8s_storage_class:
        k.storage_class = s.k8s_storage_class
    k.volumes = [{"name": "work", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}]
    k.volume_mounts = [{"name": "work", "mountPath": WORK_DIR}]
    k.delete_pvc = True
    k.profile_list = functools.partial(
        profiles_for, repo_root=s.repo_root, environment=k.environment
    )
    k.pre_spawn_hook = functools.partial(prepare_spawn, repo_root=s.repo_root)
    return {
        "image": s.k8s_image,
        "pull_policy": s.k8s_pull_policy,
        "storage": s.k8s_storage,
        "mem_limit": s.mem_limit,
        "mem_guarantee": s.k8s_mem_guarantee,
        "cpu_guarantee": s.k8s_cpu_guarantee,
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
    """Hub-managed services listen in the hub pod: the proxy pod reaches them via its service.

    So they listen on the pod's interfaces (``BIBLIO_SERVICE_BIND``), not only its loopback.
    """
    services = list(c.JupyterHub.services) if "services" in c.JupyterHub else []
    for service in services:
        url = service.get("url")
        if url and urlparse(url).hostname in {"127.0.0.1", "localhost"}:
            service["url"] = f"http://{hub_host}:{urlparse(url).port}"
            service["environment"] = {
                **service.get("environment", {}),
                "BIBLIO_SERVICE_BIND": "0.0.0.0",
            }
    c.JupyterHub.services = services


def configure_z2jh(c: Any, env: Mapping[str, str] | None = None) -> Settings:
    """``hub.extraConfig`` of the chart: biblio-ia's configuration over the chart's."""
    from hub.config.configure import configure

    env = {"BIBLIO_SPAWNER": "kubernetes", **(os.environ if env is None else env)}
    if Settings.from_env(env).spawner != "kubernetes":
        raise SettingsError("Dans Kubernetes, BIBLIO_SPAWNER doit valoir « kubernetes ».")
    saved = _snapshot(c)
    settings = configure(c, env)
    _restore(c, saved)
    _reachable_services(c, settings.k8s_hub_service)
    return settings
