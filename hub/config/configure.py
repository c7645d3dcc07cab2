"""The hub configuration: ``configure(c, env=None)`` sets JupyterHub traits on ``c``.

``jupyterhub_config.py`` calls it with JupyterHub's config object; tests call it on a bare
``traitlets.config.Config()``. Settings are read from ``env`` (``os.environ`` if None) by
``hub.config.settings.Settings`` when it runs, never at import. It only sets traits — the one
side effect is that the hub's secrets are generated under the state directory on first start
(``hub.config.secrets``); unknown ``BIBLIO_*`` variables are logged as warnings.

One small function per concern: hub, proxy, auth, spawner (local, or
``hub.spawners.docker_config`` / ``hub.spawners.kubernetes_config`` imported lazily), named
servers, roles and groups, services, lab.
"""

from __future__ import annotations

import functools
import logging
import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hub.config import roles
from hub.config.auth import USERNAME_PATTERN
from hub.config.database import sqlite_kwargs
from hub.config.demo import demo_accounts, demo_group_members
from hub.config.french import TemplateText
from hub.config.secrets import ensure_private_dir, hub_secrets
from hub.config.settings import Settings
from hub.shared import COOKIE_OPTIONS
from hub.spawners import forkserver
from hub.spawners.seed import parse_launch_options
from hub.workspaces.spawn import pre_spawn
from models.entries import entry_ids

HUB_DIR = Path(__file__).resolve().parents[1]
# JUPYTER_CONFIG_PATH of the single-user servers: server extensions, JupyterLab defaults.
SINGLEUSER_CONFIG_DIR = HUB_DIR / "jupyter"
CULLER_SERVICE = "idle-culler"
log = logging.getLogger("JupyterHub")
FORKSERVER_SERVICE = "forkserver"


def configure(c: Any, env: Mapping[str, str] | None = None) -> Settings:
    """Set every trait of the biblio-ia hub on ``c``; return the settings used."""
    settings = Settings.from_env(env)
    for name in settings.ignored:  # most likely a misspelt variable
        log.warning("biblio-ia : variable %s inconnue, ignorée (docs/configuration.md).", name)
    ensure_private_dir(settings.state_dir)
    configure_hub(c, settings)
    configure_proxy(c, settings)
    configure_auth(c, settings)
    configure_named_servers(c, settings)
    configure_spawner(c, settings)
    configure_services(c, settings)
    configure_roles(c, settings)
    _configure_catalog(c, settings)
    _configure_workspaces(c, settings)
    _configure_reproduce(c, settings, os.environ if env is None else env)
    return settings


def configure_hub(c: Any, s: Settings) -> None:
    """Public and internal addresses, database, cookie secret, logs."""
    secrets = hub_secrets(s.state_dir)
    c.JupyterHub.bind_url = f"http://{s.ip}:{s.port}{s.base_url}"
    c.JupyterHub.hub_bind_url = f"http://{s.hub_ip}:{s.hub_port}"
    c.JupyterHub.db_url = s.db_url
    c.JupyterHub.db_kwargs = sqlite_kwargs(s.db_url)
    c.JupyterHub.cookie_secret_file = str(secrets.cookie_secret_file)
    # SameSite on the hub's cookies; JupyterHub passes them on to the users' servers
    c.JupyterHub.tornado_settings = {"cookie_options": dict(COOKIE_OPTIONS)}
    if s.subdomain_host:  # docker and kubernetes modes (Settings.check): one origin per user
        c.JupyterHub.subdomain_host = s.subdomain_host  # with JupyterHub 5's "idna" names
    c.CryptKeeper.keys = [bytes.fromhex(secrets.crypt_key)]
    c.JupyterHub.pid_file = str(s.state_dir / "jupyterhub.pid")
    # JupyterHub's Enum accepts WARN but not WARNING: give it the numeric level.
    c.JupyterHub.log_level = logging.getLevelName(s.log_level)
    c.JupyterHub.template_vars = {
        "biblio_entries": entry_ids(s.repo_root),
        # English messages of JupyterHub and NativeAuthenticator, in French: biblio.fr(message)
        "biblio": TemplateText(),
    }
    # Stopping the hub stops the servers too, unless they are kept for the next hub on purpose
    # (it finds them again by their pid or container); see docs/operations.md.
    c.JupyterHub.cleanup_servers = not s.keep_servers


def configure_proxy(c: Any, s: Settings) -> None:
    """The node configurable-http-proxy, started by the hub, API on 127.0.0.1 only."""
    secrets = hub_secrets(s.state_dir)
    c.ConfigurableHTTPProxy.command = shlex.split(s.proxy_cmd)
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.proxy_api_port}"
    c.ConfigurableHTTPProxy.auth_token = secrets.proxy_auth_token
    c.ConfigurableHTTPProxy.pid_file = str(s.state_dir / "jupyterhub-proxy.pid")
    c.ConfigurableHTTPProxy.should_start = True


def configure_auth(c: Any, s: Settings) -> None:
    """NativeAuthenticator (sign-up + admin approval) with the admin and demo accounts, or
    ProConnect (``BIBLIO_AUTH=proconnect``, ``configure_proconnect``)."""
    if s.auth == "proconnect":
        from hub.config.proconnect import configure_proconnect

        configure_proconnect(c, s)
        return
    c.JupyterHub.authenticator_class = "hub.config.auth.BiblioAuthenticator"
    # The admin is named in the 'admin' role (hub.config.roles), not in admin_users: JupyterHub
    # warns when both are set. Its account is provisioned on first start (hub.config.auth).
    # Access is gated by the admin's approval of each sign-up, not by an allow list.
    c.Authenticator.allow_all = True
    c.Authenticator.username_pattern = USERNAME_PATTERN
    c.NativeAuthenticator.open_signup = s.open_signup
    c.NativeAuthenticator.minimum_password_length = 10
    c.NativeAuthenticator.check_common_password = True
    c.NativeAuthenticator.allowed_failed_logins = 5
    c.NativeAuthenticator.seconds_before_next_try = 600
    accounts = {s.admin: "once"}
    if s.demo:
        accounts.update({name: "always" for name in demo_accounts(s.admin)})
    c.BiblioAuthenticator.bootstrap_accounts = accounts
    c.BiblioAuthenticator.public_url = s.public_url


def configure_named_servers(c: Any, s: Settings) -> None:
    """One named server per entry (server name = entry_id), a few at once per user; a name
    that is no entry is refused before JupyterHub stores anything (``hub.spawners.names``)."""
    from hub.spawners.names import server_name_gate

    c.JupyterHub.allow_named_servers = True
    c.JupyterHub.named_server_limit_per_user = server_name_gate(s.named_server_limit, s.repo_root)


def singleuser_environment(
    s: Settings,
    config_dir: Path | str = SINGLEUSER_CONFIG_DIR,
    repo_root: Path | str | None = None,
) -> dict:
    """Environment of every single-user server (and so of its kernels); ``config_dir`` and
    ``repo_root`` as the server sees them (the image's paths in a container)."""
    return {
        "JUPYTER_CONFIG_PATH": str(config_dir),
        "BIBLIO_REPO_ROOT": str(s.repo_root if repo_root is None else repo_root),
        # read by hub/jupyter/jupyter_server_config.py (kernel culling)
        "BIBLIO_KERNEL_CULL_TIMEOUT": str(s.kernel_cull_timeout),
        "PYTHONUNBUFFERED": "1",
    }


def configure_spawner(c: Any, s: Settings) -> None:
    """What every mode shares, then the mode's own spawner."""
    c.Spawner.start_timeout = s.start_timeout
    c.Spawner.http_timeout = s.http_timeout
    # A server that died (killed, crashed) is reported stopped within this time.
    c.Spawner.poll_interval = s.poll_interval
    c.Spawner.default_url = "/lab"
    c.Spawner.disable_user_config = True
    c.Spawner.options_from_form = parse_launch_options
    c.Spawner.environment = singleuser_environment(s)
    if s.spawner == "local":
        configure_local_spawner(c, s)
    elif s.spawner == "docker":
        from hub.spawners.docker_config import configure_docker

        configure_docker(c, s)
    elif s.spawner == "kubernetes":
        from hub.spawners.kubernetes_config import configure_kubernetes

        configure_kubernetes(c, s)


def configure_local_spawner(c: Any, s: Settings) -> None:
    """Servers as processes of the hub's own user, each user in ``<state>/users/<name>``."""
    users_dir = s.users_dir
    users_dir.mkdir(parents=True, exist_ok=True)
    c.JupyterHub.spawner_class = "hub.spawners.local.BiblioLocalSpawner"
    c.Spawner.cmd = shlex.split(s.singleuser_cmd)
    c.Spawner.args = ["--allow-root"] if os.geteuid() == 0 else []
    c.Spawner.ip = "127.0.0.1"
    c.SimpleLocalProcessSpawner.home_dir_template = str(users_dir / "{username}")
    c.Spawner.notebook_dir = str(users_dir / "{username}")
    # jupyter-collaboration (if installed) makes SIGINT wait ~60 s: short grace periods.
    c.LocalProcessSpawner.interrupt_timeout = 3
    c.LocalProcessSpawner.term_timeout = 3
    # demonstrators are seeded, workspaces (ws-<slug>) prepared (hub.workspaces.spawn)
    c.Spawner.pre_spawn_hook = functools.partial(
        pre_spawn,
        users_dir=users_dir,
        repo_root=s.repo_root,
        workspaces_dir=s.workspaces_dir,
        access_check=s.workspace_access_check,
    )
    service = forkserver_service(s)
    c.BiblioLocalSpawner.forkserver_socket = (
        str(forkserver.socket_path(s.state_dir)) if service else ""
    )


def forkserver_service(s: Settings) -> dict[str, Any] | None:
    """The fork server (hub.spawners.forkserver) as a hub-managed service, local mode only.

    When it stops (with the hub), it stops the servers it forked, or leaves them running when
    the hub keeps them (``BIBLIO_KEEP_SERVERS``), as JupyterHub's ``cleanup_servers`` does.
    """
    if s.spawner != "local" or not s.forkserver:
        return None
    python = shlex.split(s.singleuser_cmd)[0]
    return {
        "name": FORKSERVER_SERVICE,
        "command": [
            python,
            "-m",
            "hub.spawners.forkserver",
            str(forkserver.socket_path(s.state_dir)),
            "--leave-servers" if s.keep_servers else "--stop-servers",
        ],
    }


def culler_service(s: Settings, python: str = sys.executable) -> dict[str, Any]:
    """jupyterhub-idle-culler as a hub-managed service (stops servers, keeps them named)."""
    command = [
        python,
        "-m",
        "jupyterhub_idle_culler",
        f"--timeout={s.cull_timeout}",
        f"--cull-every={s.cull_every}",
        f"--max-age={s.cull_max_age}",
    ]
    if s.cull_users:
        command += ["--cull-users", "--cull-admin-users=false"]
    return {"name": CULLER_SERVICE, "command": command}


def configure_services(c: Any, s: Settings) -> None:
    """Hub-managed services: the idle culler, and the fork server in local mode."""
    c.JupyterHub.services = [culler_service(s)]
    service = forkserver_service(s)
    if service:
        c.JupyterHub.services.append(service)


def configure_roles(c: Any, s: Settings) -> None:
    """Custom scopes, tier groups (demo members), roles for users, groups and services."""
    c.JupyterHub.custom_scopes = roles.CUSTOM_SCOPES
    demo = s.demo and s.auth == "native"  # demo accounts have passwords: native only
    c.JupyterHub.load_groups = roles.load_groups(demo_group_members(s.admin) if demo else {})
    c.JupyterHub.load_roles = roles.load_roles(
        s.admin, extra=[roles.culler_role(CULLER_SERVICE, cull_users=s.cull_users)]
    )
    if s.auth == "proconnect":  # each user reads their own profile (hub.config.proconnect)
        from hub.config.proconnect import PROFILE_SCOPES

        for role in c.JupyterHub.load_roles:
            if role["name"] == "user":
                role["scopes"] = [*role["scopes"], *PROFILE_SCOPES]


def _configure_catalog(c: Any, s: Settings) -> None:
    """The library catalog service, its roles, French templates, landing page (hub.catalog)."""
    from hub.catalog.config import configure_catalog

    configure_catalog(c, s)


def _configure_workspaces(c: Any, s: Settings) -> None:
    """The joint workspaces service and its roles (hub.workspaces), local and docker modes."""
    if s.spawner not in ("local", "docker"):
        return
    from hub.workspaces.config import configure_workspaces

    configure_workspaces(c, s)


def _configure_reproduce(c: Any, s: Settings, env: Mapping[str, str]) -> None:
    """« Essayer sur mes données »: the reproduce service and its access (hub.reproduce);
    in docker mode it reaches the hub's Docker engine (``DOCKER_HOST`` of ``env``)."""
    from hub.reproduce.config import configure_reproduce, engine_environment

    configure_reproduce(c, s, engine_environment(s, env))
