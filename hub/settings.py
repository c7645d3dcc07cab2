"""Settings of the hub, read from ``BIBLIO_*`` environment variables.

``Settings.from_env(env)`` turns a mapping (``os.environ`` by default in
``hub.config.configure``) into a frozen, validated value. It is called when the hub
configuration runs, never at import time, so tests pass their own mapping. Every variable is
documented in the README ("Configuration"); ``VARIABLES`` below is the single list of them.

Bad values raise ``SettingsError`` with a French message naming the variable.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from models.errors import BiblioError

REPO_ROOT = Path(__file__).resolve().parents[1]

SPAWNERS = ("local", "docker", "kubernetes")
TRUE_WORDS = frozenset({"1", "true", "yes", "on", "oui", "vrai"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", "non", "faux", ""})

# name -> (default shown in the README, description). Order = README table order.
VARIABLES: dict[str, tuple[str, str]] = {
    "BIBLIO_SPAWNER": ("local", "local, docker or kubernetes"),
    "BIBLIO_IP": ("127.0.0.1", "address the public proxy listens on"),
    "BIBLIO_PORT": ("8000", "public port"),
    "BIBLIO_HUB_IP": ("127.0.0.1", "address of the hub's internal API"),
    "BIBLIO_HUB_PORT": ("8081", "port of the hub's internal API"),
    "BIBLIO_PROXY_API_PORT": ("8001", "port of the proxy's REST API (always 127.0.0.1)"),
    "BIBLIO_BASE_URL": ("/", "URL prefix of the whole site"),
    "BIBLIO_STATE_DIR": ("<repo>/state", "database, secrets, users' folders"),
    "BIBLIO_REPO_ROOT": ("<repo>", "where notebooks/ and datasets/ of the entries are read"),
    "BIBLIO_DB_URL": ("sqlite:///<state>/jupyterhub.sqlite", "hub database (PostgreSQL in prod)"),
    "BIBLIO_ADMIN": ("admin", "admin account, created on first start (password printed once)"),
    "BIBLIO_DEMO": ("0", "1 creates the demo accounts expert, collectivite, admin"),
    "BIBLIO_OPEN_SIGNUP": ("0", "1 lets sign-ups in without admin approval (never in production)"),
    "BIBLIO_NAMED_SERVER_LIMIT": ("3", "demonstrators running at once per user"),
    "BIBLIO_CULL_TIMEOUT": ("3600", "seconds of inactivity before a server is stopped"),
    "BIBLIO_CULL_EVERY": ("300", "seconds between two culler passes"),
    "BIBLIO_CULL_MAX_AGE": ("0", "stop servers older than this many seconds (0: never)"),
    "BIBLIO_CULL_USERS": ("0", "1 also deletes users idle for BIBLIO_CULL_TIMEOUT (never admins)"),
    "BIBLIO_START_TIMEOUT": ("60", "seconds a server may take to start"),
    "BIBLIO_HTTP_TIMEOUT": ("30", "seconds a started server may take to answer"),
    "BIBLIO_SINGLEUSER_CMD": ("<venv>/bin/python -m hub.singleuser", "single-user server command"),
    "BIBLIO_FORKSERVER": ("1", "local mode: fork servers from a pre-imported process (0: off)"),
    "BIBLIO_PROXY_CMD": (
        "<repo>/node_modules/.bin/configurable-http-proxy",
        "node proxy command",
    ),
    "BIBLIO_MEM_LIMIT": ("2G", "memory limit per server (docker, kubernetes)"),
    "BIBLIO_CPU_LIMIT": ("1.0", "CPU limit per server (docker, kubernetes)"),
    "BIBLIO_IMAGE": ("biblio-ia-singleuser:latest", "single-user image (docker, kubernetes)"),
    "BIBLIO_LOG_LEVEL": ("INFO", "hub log level"),
}


class SettingsError(BiblioError, ValueError):
    """A ``BIBLIO_*`` variable has a value the hub cannot use (French message)."""


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingsError(f"{name} vaut « {raw} » : valeurs admises 1/0, true/false, oui/non.")


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} vaut « {raw} » : un nombre est attendu.") from None
    if value != value or value < minimum:
        raise SettingsError(f"{name} vaut « {raw} » : un nombre ≥ {minimum:g} est attendu.")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    value = _number(env, name, default, minimum=minimum)
    if value != int(value):
        raise SettingsError(f"{name} vaut « {env[name]} » : un nombre entier est attendu.")
    return int(value)


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    port = _integer(env, name, default, minimum=1)
    if port > 65535:
        raise SettingsError(f"{name} vaut « {env[name]} » : un port entre 1 et 65535 est attendu.")
    return port


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name)
    return default if raw is None or not raw.strip() else raw.strip()


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    return Path(raw.strip()).expanduser().absolute()


def _base_url(raw: str) -> str:
    url = "/" + raw.strip("/")
    return url if url == "/" else url + "/"


def default_singleuser_cmd() -> str:
    """``<venv python> -m hub.singleuser``: jupyterhub-singleuser, started faster.

    The Python is the one running the hub (the project's venv), by absolute path.
    """
    python = Path(sys.prefix) / "bin" / "python"
    return shlex.join([str(python if python.exists() else sys.executable), "-m", "hub.singleuser"])


@dataclass(frozen=True)
class Settings:
    """Validated hub settings. Build with ``Settings.from_env``; change with ``.replace``."""

    spawner: str = "local"
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_ip: str = "127.0.0.1"
    hub_port: int = 8081
    proxy_api_port: int = 8001
    base_url: str = "/"
    state_dir: Path = REPO_ROOT / "state"
    repo_root: Path = REPO_ROOT
    db_url: str = ""
    admin: str = "admin"
    demo: bool = False
    open_signup: bool = False
    named_server_limit: int = 3
    cull_timeout: int = 3600
    cull_every: int = 300
    cull_max_age: int = 0
    cull_users: bool = False
    start_timeout: int = 60
    http_timeout: int = 30
    singleuser_cmd: str = ""
    forkserver: bool = True
    proxy_cmd: str = str(REPO_ROOT / "node_modules" / ".bin" / "configurable-http-proxy")
    mem_limit: str = "2G"
    cpu_limit: float = 1.0
    image: str = "biblio-ia-singleuser:latest"
    log_level: str = "INFO"
    # Every BIBLIO_* variable as given (read-only), for modes that need more knobs
    # (hub.docker, hub.kubernetes) without changing this class.
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every ``BIBLIO_*`` variable of ``env`` (``os.environ`` if None)."""
        env = os.environ if env is None else env
        spawner = _text(env, "BIBLIO_SPAWNER", "local").lower()
        if spawner not in SPAWNERS:
            raise SettingsError(
                f"BIBLIO_SPAWNER vaut « {env['BIBLIO_SPAWNER']} » : "
                f"valeurs admises {', '.join(SPAWNERS)}."
            )
        state_dir = _path(env, "BIBLIO_STATE_DIR", REPO_ROOT / "state")
        repo_root = _path(env, "BIBLIO_REPO_ROOT", REPO_ROOT)
        admin = _text(env, "BIBLIO_ADMIN", "admin")
        if not admin.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise SettingsError(
                f"BIBLIO_ADMIN vaut « {admin} » : lettres, chiffres, « - », « _ » ou « . » "
                "seulement."
            )
        log_level = _text(env, "BIBLIO_LOG_LEVEL", "INFO").upper()
        if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise SettingsError(
                f"BIBLIO_LOG_LEVEL vaut « {log_level} » : DEBUG, INFO, WARNING ou ERROR."
            )
        return cls(
            spawner=spawner,
            ip=_text(env, "BIBLIO_IP", "127.0.0.1"),
            port=_port(env, "BIBLIO_PORT", 8000),
            hub_ip=_text(env, "BIBLIO_HUB_IP", "127.0.0.1"),
            hub_port=_port(env, "BIBLIO_HUB_PORT", 8081),
            proxy_api_port=_port(env, "BIBLIO_PROXY_API_PORT", 8001),
            base_url=_base_url(_text(env, "BIBLIO_BASE_URL", "/")),
            state_dir=state_dir,
            repo_root=repo_root,
            db_url=_text(env, "BIBLIO_DB_URL", f"sqlite:///{state_dir / 'jupyterhub.sqlite'}"),
            admin=admin,
            demo=_flag(env, "BIBLIO_DEMO", False),
            open_signup=_flag(env, "BIBLIO_OPEN_SIGNUP", False),
            named_server_limit=_integer(env, "BIBLIO_NAMED_SERVER_LIMIT", 3, minimum=1),
            cull_timeout=_integer(env, "BIBLIO_CULL_TIMEOUT", 3600, minimum=1),
            cull_every=_integer(env, "BIBLIO_CULL_EVERY", 300, minimum=1),
            cull_max_age=_integer(env, "BIBLIO_CULL_MAX_AGE", 0),
            cull_users=_flag(env, "BIBLIO_CULL_USERS", False),
            start_timeout=_integer(env, "BIBLIO_START_TIMEOUT", 60, minimum=1),
            http_timeout=_integer(env, "BIBLIO_HTTP_TIMEOUT", 30, minimum=1),
            singleuser_cmd=_text(env, "BIBLIO_SINGLEUSER_CMD", default_singleuser_cmd()),
            forkserver=_flag(env, "BIBLIO_FORKSERVER", True),
            proxy_cmd=_text(
                env,
                "BIBLIO_PROXY_CMD",
                str(REPO_ROOT / "node_modules" / ".bin" / "configurable-http-proxy"),
            ),
            mem_limit=_text(env, "BIBLIO_MEM_LIMIT", "2G"),
            cpu_limit=_number(env, "BIBLIO_CPU_LIMIT", 1.0, minimum=0.01),
            image=_text(env, "BIBLIO_IMAGE", "biblio-ia-singleuser:latest"),
            log_level=log_level,
            env=MappingProxyType({k: v for k, v in env.items() if k.startswith("BIBLIO_")}),
        )

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied (the dataclass is frozen)."""
        return replace(self, **changes)

    @property
    def users_dir(self) -> Path:
        """Parent of every user's working folder in local mode."""
        return self.state_dir / "users"

    @property
    def public_url(self) -> str:
        """The URL users open, e.g. ``http://127.0.0.1:8000/``."""
        return f"http://{self.ip}:{self.port}{self.base_url}"
