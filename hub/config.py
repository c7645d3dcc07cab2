"""The hub configuration: ``configure(c, env=None)`` sets JupyterHub traits on ``c``.

``jupyterhub_config.py`` calls it with JupyterHub's config object; tests call it on a bare
``traitlets.config.Config()``. Settings are read from ``env`` (``os.environ`` if None) when it
runs, never at import. It only sets traits — the one side effect is that the hub's secrets
are generated under the state directory on first start (``hub.secrets``).

One small function per concern: hub, proxy, auth, spawner (local, or ``hub.docker`` /
``hub.kubernetes`` imported lazily), named servers, roles and groups, services, lab.
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

from hub import forkserver, roles
from hub.demo import demo_accounts, demo_group_members
from hub.secrets import ensure_private_dir, hub_secrets
from hub.seed import parse_launch_options, seed_for_spawner
from hub.settings import Settings
from models.entries import entry_ids

HUB_DIR = Path(__file__).resolve().parent
# JUPYTER_CONFIG_PATH of the single-user servers: server extensions, JupyterLab defaults.
SINGLEUSER_CONFIG_DIR = HUB_DIR / "jupyter"
CULLER_SERVICE = "idle-culler"
FORKSERVER_SERVICE = "forkserver"


def configure(c: Any, env: Mapping[str, str] | None = None) -> Settings:
    """Set every trait of the biblio-ia hub on ``c``; return the settings used."""
    settings = Settings.from_env(env)
    ensure_private_dir(settings.state_dir)
    configure_hub(c, settings)
    configure_proxy(c, settings)
    configure_auth(c, settings)
    configure_named_servers(c, settings)
    configure_spawner(c, settings)
    configure_services(c, settings)
    configure_roles(c, settings)
    _configure_catalog(c, settings)
    return settings


def configure_hub(c: Any, s: Settings) -> None:
    """Public and internal addresses, database, cookie secret, logs."""
    secrets = hub_secrets(s.state_dir)
    c.JupyterHub.bind_url = f"http://{s.ip}:{s.port}{s.base_url}"
    c.JupyterHub.hub_bind_url = f"http://{s.hub_ip}:{s.hub_port}"
    c.JupyterHub.db_url = s.db_url
    c.JupyterHub.cookie_secret_file = str(secrets.cookie_secret_file)
    c.CryptKeeper.keys = [bytes.fromhex(secrets.crypt_key)]
    c.JupyterHub.pid_file = str(s.state_dir / "jupyterhub.pid")
    # JupyterHub's Enum accepts WARN but not WARNING: give it the numeric level.
    c.JupyterHub.log_level = logging.getLevelName(s.log_level)
    c.JupyterHub.template_vars = {"biblio_entries": entry_ids(s.repo_root)}


def configure_proxy(c: Any, s: Settings) -> None:
    """The node configurable-http-proxy, started by the hub, API on 127.0.0.1 only."""
    secrets = hub_secrets(s.state_dir)
    c.ConfigurableHTTPProxy.command = shlex.split(s.proxy_cmd)
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.proxy_api_port}"
    c.ConfigurableHTTPProxy.auth_token = secrets.proxy_auth_token
    c.ConfigurableHTTPProxy.pid_file = str(s.state_dir / "jupyterhub-proxy.pid")
    c.ConfigurableHTTPProxy.should_start = True


def configure_auth(c: Any, s: Settings) -> None:
    """NativeAuthenticator (sign-up + admin approval) with the admin and demo accounts."""
    c.JupyterHub.authenticator_class = "hub.auth.BiblioAuthenticator"
    # The admin is named in the 'admin' role (hub.roles), not in admin_users: JupyterHub
    # warns when both are set. Its account is provisioned on first start (hub.auth).
    # Access is gated by the admin's approval of each sign-up, not by an allow list.
    c.Authenticator.allow_all = True
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
    """One named server per entry (server name = entry_id), a few at once per user."""
    c.JupyterHub.allow_named_servers = True
    c.JupyterHub.named_server_limit_per_user = s.named_server_limit


def singleuser_environment(s: Settings, config_dir: Path | str = SINGLEUSER_CONFIG_DIR) -> dict:
    """Environment of every single-user server (and so of its kernels)."""
    return {
        "JUPYTER_CONFIG_PATH": str(config_dir),
        "BIBLIO_REPO_ROOT": str(s.repo_root),
        "PYTHONUNBUFFERED": "1",
    }


def configure_spawner(c: Any, s: Settings) -> None:
    """What every mode shares, then the mode's own spawner."""
    c.Spawner.start_timeout = s.start_timeout
    c.Spawner.http_timeout = s.http_timeout
    c.Spawner.default_url = "/lab"
    c.Spawner.disable_user_config = True
    c.Spawner.options_from_form = parse_launch_options
    c.Spawner.environment = singleuser_environment(s)
    if s.spawner == "local":
        configure_local_spawner(c, s)
    elif s.spawner == "docker":
        from hub.docker import configure_docker

        configure_docker(c, s)
    elif s.spawner == "kubernetes":
        from hub.kubernetes import configure_kubernetes

        configure_kubernetes(c, s)


def configure_local_spawner(c: Any, s: Settings) -> None:
    """Servers as processes of the hub's own user, each user in ``<state>/users/<name>``."""
    users_dir = s.users_dir
    users_dir.mkdir(parents=True, exist_ok=True)
    c.JupyterHub.spawner_class = "hub.spawner.BiblioLocalSpawner"
    c.Spawner.cmd = shlex.split(s.singleuser_cmd)
    c.Spawner.args = ["--allow-root"] if os.geteuid() == 0 else []
    c.Spawner.ip = "127.0.0.1"
    c.SimpleLocalProcessSpawner.home_dir_template = str(users_dir / "{username}")
    c.Spawner.notebook_dir = str(users_dir / "{username}")
    # jupyter-collaboration (if installed) makes SIGINT wait ~60 s: short grace periods.
    c.LocalProcessSpawner.interrupt_timeout = 3
    c.LocalProcessSpawner.term_timeout = 3
    c.Spawner.pre_spawn_hook = functools.partial(
        seed_for_spawner, users_dir=users_dir, repo_root=s.repo_root
    )
    service = forkserver_service(s)
    c.BiblioLocalSpawner.forkserver_socket = service["command"][-1] if service else ""


def forkserver_service(s: Settings) -> dict[str, Any] | None:
    """The fork server (hub.forkserver) as a hub-managed service, local mode only."""
    if s.spawner != "local" or not s.forkserver:
        return None
    python = shlex.split(s.singleuser_cmd)[0]
    return {
        "name": FORKSERVER_SERVICE,
        "command": [python, "-m", "hub.forkserver", str(forkserver.socket_path(s.state_dir))],
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
    c.JupyterHub.load_groups = roles.load_groups(demo_group_members(s.admin) if s.demo else {})
    c.JupyterHub.load_roles = roles.load_roles(
        s.admin, extra=[roles.culler_role(CULLER_SERVICE, cull_users=s.cull_users)]
    )


def _configure_catalog(c: Any, s: Settings) -> None:
    """The library catalog service, its roles, French templates, landing page (hub.catalog)."""
    from hub.catalog.config import configure_catalog

    configure_catalog(c, s)
