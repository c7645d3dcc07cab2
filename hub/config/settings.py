"""Every ``BIBLIO_*`` variable of biblio-ia, declared once: ``Settings.from_env(env)``.

Each field of ``Settings`` is one environment variable, declared with ``variable(name,
default, help)`` (like a traitlets trait with its ``help=``): its default, a one-line help and
how its text is read and checked. ``Settings.from_env`` reads them all from a mapping
(``os.environ`` when none is given), in declaration order, so that a default may follow an
earlier value (``BIBLIO_DB_URL`` lives under ``BIBLIO_STATE_DIR``). It runs when the hub
configuration, the command line or the container entry point starts, never at import; tests
pass their own mapping. Nothing else in biblio-ia reads a ``BIBLIO_*`` variable.

Bad values raise ``SettingsError`` with a French message naming the variable; an empty
variable means its default. ``docs/configuration.md`` is generated from these declarations:
``python -m hub.config.settings docs/configuration.md`` (a unit test compares them).
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from models.entries import REPO_ROOT
from models.errors import BiblioError

SPAWNERS = ("local", "docker", "kubernetes")
AUTH_MODES = ("native", "proconnect")
PROCONNECT_ENVS = ("integration", "production")
#: ProConnect's domains on the Internet (partner documentation, « Valeur de PROCONNECT_DOMAIN »)
PROCONNECT_DOMAINS = {
    "integration": "fca.integ01.dev-agentconnect.fr",
    "production": "auth.agentconnect.gouv.fr",
}
#: acr values ProConnect documents, weakest first (the order biblio-ia compares them in)
ACR_LEVELS = ("eidas0", "eidas0-mfa", "eidas1", "eidas1-mfa", "eidas2", "eidas3")
PROCONNECT_SCOPES = "openid given_name usual_name email uid siret idp_id organization_label"
COLLECTIVITE_RULES = ("liste", "categorie")
OTHER_AGENTS = ("public", "refus")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DOCKER_PULL_POLICIES = ("never", "ifnotpresent", "always")
K8S_PULL_POLICIES = ("IfNotPresent", "Always", "Never")
TRUE_WORDS = frozenset({"1", "true", "yes", "on", "oui", "vrai"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", "non", "faux"})
_BYTES = re.compile(r"^[0-9]+(\.[0-9]+)?[KMGT]?$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$")
_DOCKER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")

Reader = Callable[[str, str], Any]


class SettingsError(BiblioError, ValueError):
    """A ``BIBLIO_*`` variable has a value biblio-ia cannot use (French message)."""


# --- readers: (text of the variable, its name) -> value, or SettingsError --------------------


def as_text(raw: str, name: str) -> str:
    return raw


def as_flag(raw: str, name: str) -> bool:
    word = raw.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingsError(f"{name} vaut « {raw} » : valeurs admises 1/0, true/false, oui/non.")


def as_number(minimum: float = 0) -> Reader:
    def read(raw: str, name: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} vaut « {raw} » : un nombre est attendu.") from None
        if value != value or value < minimum:
            raise SettingsError(f"{name} vaut « {raw} » : un nombre ≥ {minimum:g} est attendu.")
        return value

    return read


def as_share(raw: str, name: str) -> float:
    """A share in ]0, 1] (``0.9``; ``90 %`` is read as 0.9 too)."""
    text = raw.replace(",", ".").strip()
    percent = text.endswith("%")
    try:
        value = float(text.rstrip("%").strip())
    except ValueError:
        raise SettingsError(
            f"{name} vaut « {raw} » : une part entre 0 et 1 est attendue."
        ) from None
    value = value / 100 if percent else value
    if not 0 < value <= 1:
        raise SettingsError(f"{name} vaut « {raw} » : une part entre 0 (exclu) et 1 est attendue.")
    return value


def as_integer(minimum: int = 0) -> Reader:
    def read(raw: str, name: str) -> int:
        value = as_number(minimum)(raw, name)
        if value != int(value):
            raise SettingsError(f"{name} vaut « {raw} » : un nombre entier est attendu.")
        return int(value)

    return read


def as_positive(*, whole: bool) -> Reader:
    """A number (``whole``: an integer) strictly greater than zero."""

    def read(raw: str, name: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not value > 0 or (whole and value != int(value)):
            kind = "un nombre entier" if whole else "un nombre"
            raise SettingsError(f"{name} vaut « {raw} » : {kind} strictement positif est attendu.")
        return int(value) if whole else value

    return read


def as_port(raw: str, name: str) -> int:
    value = as_integer(1)(raw, name)
    if value > 65535:
        raise SettingsError(f"{name} vaut « {raw} » : un port entre 1 et 65535 est attendu.")
    return value


def one_of(*options: str, fold: bool = True) -> Reader:
    """One of ``options`` (compared in lower case when ``fold``)."""

    def read(raw: str, name: str) -> str:
        value = raw.lower() if fold else raw
        if value not in options:
            raise SettingsError(f"{name} vaut « {raw} » : valeurs admises {', '.join(options)}.")
        return value

    return read


def as_path(raw: str, name: str) -> Path:
    return Path(raw).expanduser().absolute()


def as_url_prefix(raw: str, name: str) -> str:
    url = "/" + raw.strip("/")
    return url if url == "/" else url + "/"


def as_origin(raw: str, name: str) -> str:
    """``""`` or ``scheme://host[:port]`` (no path), e.g. ``https://biblio.exemple.fr``."""
    text = raw.strip().rstrip("/")
    if not text:
        return ""
    m = re.fullmatch(r"(https?)://([a-z0-9.-]+)(:\d{1,5})?", text.lower())
    if not m or m.group(2).startswith((".", "-")) or "." not in m.group(2):
        raise SettingsError(
            f"{name} vaut « {raw} » : une origine sans chemin est attendue, par exemple "
            "https://biblio.exemple.fr (les serveurs seront sur <utilisateur>.biblio.exemple.fr)."
        )
    return text.lower()


def as_account_name(raw: str, name: str) -> str:
    if not raw.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise SettingsError(
            f"{name} vaut « {raw} » : lettres, chiffres, « - », « _ » ou « . » seulement."
        )
    return raw


def as_log_level(raw: str, name: str) -> str:
    level = raw.upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"{name} vaut « {raw} » : DEBUG, INFO, WARNING ou ERROR.")
    return level


def as_byte_size(raw: str, name: str) -> str:
    """A memory size for Docker and KubeSpawner: ``512M``, ``2G`` (upper case, no ``B``)."""
    spec = raw.upper().removesuffix("B") if raw.upper() != "B" else raw
    if not _BYTES.match(spec):
        raise SettingsError(
            f"{name} vaut « {raw} » : une taille est attendue, par exemple 512M ou 2G."
        )
    return spec


def as_byte_count(raw: str, name: str) -> int:
    """A size in bytes written like ``50M`` or ``1.5G`` (K, M, G, T: powers of 1024)."""
    spec = as_byte_size(raw, name)
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    factor = units.get(spec[-1], 1)
    value = int(float(spec.rstrip("KMGT")) * factor)
    if value <= 0:
        raise SettingsError(
            f"{name} vaut « {raw} » : une taille strictement positive est attendue."
        )
    return value


def as_quantity(raw: str, name: str) -> str:
    """A Kubernetes storage quantity such as ``1Gi``."""
    if not _QUANTITY.match(raw):
        raise SettingsError(f"{name} vaut « {raw} » : une taille est attendue, par exemple 1Gi.")
    return raw


def as_image(raw: str, name: str) -> str:
    if raw == "*" or not raw or any(ch.isspace() for ch in raw):
        raise SettingsError(
            f"{name} vaut « {raw} » : nommez une image précise (jamais « * »), "
            "par exemple biblio-ia-singleuser:latest."
        )
    return raw


def as_images(raw: str, name: str) -> tuple[str, ...]:
    """Comma-separated image names (never ``*``)."""
    return tuple(as_image(item.strip(), name) for item in raw.split(",") if item.strip())


def as_docker_network(raw: str, name: str) -> str:
    if not _DOCKER_NAME.match(raw) or raw in {"bridge", "none"}:
        raise SettingsError(
            f"{name} vaut « {raw} » : « host » ou le nom d'un réseau Docker créé pour le hub "
            "(docker network create …) ; ni « bridge » ni « none »."
        )
    return raw


def as_docker_prefix(raw: str, name: str) -> str:
    if not _DOCKER_NAME.match(raw) or "--" in raw:
        raise SettingsError(
            f"{name} vaut « {raw} » : lettres, chiffres, « _ », « . » et « - » (pas « -- »)."
        )
    return raw


def as_issuer(raw: str, name: str) -> str:
    """An OpenID issuer URL: https, or http on the loopback only (tests)."""
    text = raw.strip().rstrip("/")
    m = re.fullmatch(r"(https?)://([^/:]+)(:\d{1,5})?(/[^?#]*)?", text)
    loopback = bool(m) and m.group(2) in {"127.0.0.1", "localhost", "[::1]"}
    if not m or (m.group(1) == "http" and not loopback):
        raise SettingsError(
            f"{name} vaut « {raw} » : une adresse https:// est attendue (http:// seulement sur "
            "127.0.0.1, pour les tests)."
        )
    return text


def as_scopes(raw: str, name: str) -> tuple[str, ...]:
    scopes = tuple(dict.fromkeys(raw.replace(",", " ").split()))
    if "openid" not in scopes or not all(re.fullmatch(r"[a-z_:]+", s) for s in scopes):
        raise SettingsError(
            f"{name} vaut « {raw} » : des scopes séparés par des espaces, dont « openid »."
        )
    return scopes


# --- declarations ------------------------------------------------------------------------------

HUB = "Hub and proxy"
ACCOUNTS = "Accounts"
SERVERS = "Demonstrators (single-user servers)"
CULLER = "Idle culler"
CATALOG = "Catalog"
WORKSPACES = "Joint workspaces"
REPRODUCE = "Try on my data (reproduce service)"
RUNNER = "Runner footprint (biblio run)"
DATA = "User data files (biblio validate, biblio run, the notebooks)"
DOCKER = "Docker mode (BIBLIO_SPAWNER=docker)"
KUBERNETES = "Kubernetes mode (BIBLIO_SPAWNER=kubernetes)"
CONTAINER = "Inside a demonstrator's container"
PROCONNECT = "ProConnect (BIBLIO_AUTH=proconnect)"

#: Group -> one sentence for the documentation, in the order of the documentation.
GROUPS: dict[str, str] = {
    HUB: "Where the hub, its proxy and its services listen, and where they keep their state.",
    ACCOUNTS: "The admin account and the demo mode (passwords are generated, never defaulted).",
    SERVERS: "What every mode shares: limits, timeouts and how a server is started.",
    CULLER: "jupyterhub-idle-culler, a hub-managed service.",
    CATALOG: "The library catalog service (hub.catalog).",
    WORKSPACES: "Joint development workspaces (hub.workspaces, docs/workspaces.md).",
    REPRODUCE: "The service where collectivités run a reference model on their own file "
    "(hub.reproduce, docs/reproduction.md): uploads, job queue, limits, retention.",
    RUNNER: "Constants of the energy and CO2e estimate of each run (Green Algorithms method).",
    DATA: "How much of a user's file may be set aside (bad rows) before the file is refused.",
    DOCKER: "Read in docker mode; the shared value applies when a Docker variable is empty.",
    KUBERNETES: "Read in Kubernetes mode, inside the Zero to JupyterHub chart.",
    PROCONNECT: "Log in with ProConnect, the State's OpenID Connect federation for public agents "
    "(docs/proconnect.md). The client id and secret come from ProConnect's partner space: "
    "a variable or a file, never a default.",
    CONTAINER: "Set by the docker and Kubernetes spawners for the image's entry point "
    "(hub.spawners.container_start); an operator does not set them.",
}


@dataclass(frozen=True)
class Variable:
    """One ``BIBLIO_*`` variable: its name, default, one-line help and reader."""

    name: str
    group: str
    help: str
    read: Reader
    default: Any = None
    derive: Callable[[dict[str, Any]], Any] | None = None  # default from earlier values
    shown: str = ""  # the default as the documentation shows it

    def value(self, env: Mapping[str, str], earlier: dict[str, Any]) -> Any:
        """The variable's value in ``env``, else its default."""
        raw = (env.get(self.name) or "").strip()
        if raw:
            return self.read(raw, self.name)
        return self.derive(earlier) if self.derive is not None else self.default


def variable(
    name: str,
    default: Any,
    help: str,
    *,
    group: str,
    read: Reader = as_text,
    derive: Callable[[dict[str, Any]], Any] | None = None,
    shown: str | None = None,
) -> Any:
    """A ``Settings`` field read from the environment variable ``name``."""
    if shown is None:
        shown = "" if default is None else str(default)
    spec = Variable(name, group, help, read, default, derive, shown)
    return field(metadata={"variable": spec})


def default_singleuser_cmd(values: dict[str, Any] | None = None) -> str:
    """``<venv python> -m hub.spawners.singleuser``, the Python running the hub, absolute."""
    python = Path(sys.prefix) / "bin" / "python"
    python = python if python.exists() else Path(sys.executable)
    return shlex.join([str(python), "-m", "hub.spawners.singleuser"])


PROXY_CMD = REPO_ROOT / "node_modules" / ".bin" / "configurable-http-proxy"


@dataclass(frozen=True)
class Settings:
    """Validated settings of every part of biblio-ia. Build with ``from_env``."""

    # hub and proxy
    spawner: str = variable(
        "BIBLIO_SPAWNER", "local", "local, docker or kubernetes", group=HUB, read=one_of(*SPAWNERS)
    )
    ip: str = variable("BIBLIO_IP", "127.0.0.1", "address the public proxy listens on", group=HUB)
    port: int = variable("BIBLIO_PORT", 8000, "public port", group=HUB, read=as_port)
    hub_ip: str = variable(
        "BIBLIO_HUB_IP", "127.0.0.1", "address of the hub's internal API", group=HUB
    )
    hub_port: int = variable(
        "BIBLIO_HUB_PORT", 8081, "port of the hub's internal API", group=HUB, read=as_port
    )
    proxy_api_port: int = variable(
        "BIBLIO_PROXY_API_PORT",
        8001,
        "port of the proxy's REST API (always on 127.0.0.1)",
        group=HUB,
        read=as_port,
    )
    base_url: str = variable(
        "BIBLIO_BASE_URL", "/", "URL prefix of the whole site", group=HUB, read=as_url_prefix
    )
    subdomain_host: str = variable(
        "BIBLIO_SUBDOMAIN_HOST",
        "",
        "docker and kubernetes modes: origin of the site (https://biblio.exemple.fr); each user's "
        "servers then get their own subdomain (<user>.biblio.exemple.fr) and the catalog its "
        "own (catalog--service.biblio.exemple.fr), isolating them from the hub and each other; "
        "needs a wildcard DNS entry and certificate",
        group=HUB,
        read=as_origin,
        shown="(none: one origin)",
    )
    state_dir: Path = variable(
        "BIBLIO_STATE_DIR",
        REPO_ROOT / "state",
        "database, secrets and users' folders",
        group=HUB,
        read=as_path,
        shown="<repo>/state",
    )
    repo_root: Path = variable(
        "BIBLIO_REPO_ROOT",
        REPO_ROOT,
        "repository whose entries (notebooks/, datasets/, models/) are served and run",
        group=HUB,
        read=as_path,
        shown="<repo>",
    )
    db_url: str = variable(
        "BIBLIO_DB_URL",
        None,
        "hub database (PostgreSQL in production)",
        group=HUB,
        derive=lambda v: f"sqlite:///{v['state_dir'] / 'jupyterhub.sqlite'}",
        shown="sqlite:///<state>/jupyterhub.sqlite",
    )
    proxy_cmd: str = variable(
        "BIBLIO_PROXY_CMD",
        str(PROXY_CMD),
        "node configurable-http-proxy command",
        group=HUB,
        shown="<repo>/node_modules/.bin/configurable-http-proxy",
    )
    service_bind: str = variable(
        "BIBLIO_SERVICE_BIND",
        "127.0.0.1",
        "address the hub-managed services listen on (0.0.0.0 in Kubernetes, set for them)",
        group=HUB,
    )
    log_level: str = variable(
        "BIBLIO_LOG_LEVEL", "INFO", "hub log level", group=HUB, read=as_log_level
    )
    # accounts
    admin: str = variable(
        "BIBLIO_ADMIN",
        "admin",
        "admin account, created on first start (its password is printed once)",
        group=ACCOUNTS,
        read=as_account_name,
    )
    demo: bool = variable(
        "BIBLIO_DEMO",
        False,
        "1 creates the demo accounts expert, collectivite and the admin (new passwords each start)",
        group=ACCOUNTS,
        read=as_flag,
        shown="0",
    )
    open_signup: bool = variable(
        "BIBLIO_OPEN_SIGNUP",
        False,
        "1 lets sign-ups in without the admin's approval (never in production)",
        group=ACCOUNTS,
        read=as_flag,
        shown="0",
    )
    auth: str = variable(
        "BIBLIO_AUTH",
        "native",
        "native (accounts and passwords of the hub, admin approval) or proconnect "
        "(docs/proconnect.md)",
        group=ACCOUNTS,
        read=one_of(*AUTH_MODES),
    )
    # demonstrators
    named_server_limit: int = variable(
        "BIBLIO_NAMED_SERVER_LIMIT",
        8,
        "named servers per user, demonstrators and joint workspaces together, stopped ones "
        "included (JupyterHub counts every server record)",
        group=SERVERS,
        read=as_integer(1),
    )
    start_timeout: int = variable(
        "BIBLIO_START_TIMEOUT", 60, "seconds a server may take to start", group=SERVERS,
        read=as_integer(1),
    )  # fmt: skip
    http_timeout: int = variable(
        "BIBLIO_HTTP_TIMEOUT",
        30,
        "seconds a started server may take to answer",
        group=SERVERS,
        read=as_integer(1),
    )
    poll_interval: int = variable(
        "BIBLIO_POLL_INTERVAL",
        5,
        "seconds between two checks that a server still runs (a dead one is reported then)",
        group=SERVERS,
        read=as_integer(1),
    )
    kernel_cull_timeout: int = variable(
        "BIBLIO_KERNEL_CULL_TIMEOUT",
        1200,
        "seconds an idle kernel with no open tab keeps its memory before its server stops it "
        "(0: never); the server itself stays up for the idle culler",
        group=SERVERS,
        read=as_integer(0),
    )
    keep_servers: bool = variable(
        "BIBLIO_KEEP_SERVERS",
        None,
        "1: stopping the hub leaves the servers running, the next hub takes them back "
        "(0: the hub stops them when it stops). Default 0 in local mode; 1 in docker and "
        "kubernetes modes, where containers and pods outlive the hub as in Zero to "
        "JupyterHub (stopping twenty containers takes the engine about 8.5 s on 2 cores)",
        group=SERVERS,
        read=as_flag,
        derive=lambda v: v["spawner"] != "local",
        shown="0 (local), 1 (docker, kubernetes)",
    )
    singleuser_cmd: str = variable(
        "BIBLIO_SINGLEUSER_CMD",
        None,
        "single-user server command (local mode)",
        group=SERVERS,
        derive=default_singleuser_cmd,
        shown="<venv>/bin/python -m hub.spawners.singleuser",
    )
    forkserver: bool = variable(
        "BIBLIO_FORKSERVER",
        True,
        "local mode: fork servers from a pre-imported process (0: a new interpreter each time)",
        group=SERVERS,
        read=as_flag,
        shown="1",
    )
    mem_limit: str = variable(
        "BIBLIO_MEM_LIMIT",
        "2G",
        "memory limit per server (docker, kubernetes)",
        group=SERVERS,
        read=as_byte_size,
    )
    cpu_limit: float = variable(
        "BIBLIO_CPU_LIMIT",
        1.0,
        "CPU limit per server (docker, kubernetes)",
        group=SERVERS,
        read=as_number(0.01),
    )
    image: str = variable(
        "BIBLIO_IMAGE",
        "biblio-ia-singleuser:latest",
        "demonstrator image (docker, kubernetes)",
        group=SERVERS,
        read=as_image,
    )
    # culler
    cull_timeout: int = variable(
        "BIBLIO_CULL_TIMEOUT",
        3600,
        "seconds of inactivity before a server is stopped",
        group=CULLER,
        read=as_integer(1),
    )
    cull_every: int = variable(
        "BIBLIO_CULL_EVERY", 300, "seconds between two culler passes", group=CULLER,
        read=as_integer(1),
    )  # fmt: skip
    cull_max_age: int = variable(
        "BIBLIO_CULL_MAX_AGE",
        0,
        "stop servers older than this many seconds (0: never)",
        group=CULLER,
        read=as_integer(0),
    )
    cull_users: bool = variable(
        "BIBLIO_CULL_USERS",
        False,
        "1 also deletes users idle for BIBLIO_CULL_TIMEOUT (never admins)",
        group=CULLER,
        read=as_flag,
        shown="0",
    )
    # catalog
    catalog_port: int | None = variable(
        "BIBLIO_CATALOG_PORT",
        None,
        "port of the catalog service on 127.0.0.1",
        group=CATALOG,
        read=as_port,
        shown="(a free port, chosen when the hub starts)",
    )
    catalog_import: Path = variable(
        "BIBLIO_CATALOG_IMPORT",
        None,
        "records imported from the national catalog (biblio catalog import)",
        group=CATALOG,
        read=as_path,
        derive=lambda v: v["state_dir"] / "catalog" / "national.json",
        shown="<state>/catalog/national.json",
    )
    catalog_runs: Path = variable(
        "BIBLIO_CATALOG_RUNS",
        None,
        "outputs of biblio run --all shown on the expert pages",
        group=CATALOG,
        read=as_path,
        derive=lambda v: v["repo_root"] / "test-artifacts" / "runs",
        shown="<repo>/test-artifacts/runs",
    )
    # joint workspaces
    workspaces_port: int | None = variable(
        "BIBLIO_WORKSPACES_PORT",
        None,
        "port of the workspaces service on 127.0.0.1",
        group=WORKSPACES,
        read=as_port,
        shown="(a free port, chosen when the hub starts)",
    )
    workspace_access_check: int = variable(
        "BIBLIO_WORKSPACE_ACCESS_CHECK",
        20,
        "seconds a workspace server trusts a member's access before asking the hub again "
        "(open connections too): a revoked member is out within twice this",
        group=WORKSPACES,
        read=as_integer(1),
    )
    # try on my data (hub.reproduce)
    repro_port: int | None = variable(
        "BIBLIO_REPRO_PORT",
        None,
        "port of the reproduce service on 127.0.0.1",
        group=REPRODUCE,
        read=as_port,
        shown="(a free port, chosen when the hub starts)",
    )
    repro_dir: Path = variable(
        "BIBLIO_REPRO_DIR",
        None,
        "users' uploaded files, job folders and results (one folder per user)",
        group=REPRODUCE,
        read=as_path,
        derive=lambda v: v["state_dir"] / "reproduce",
        shown="<state>/reproduce",
    )
    repro_db_url: str = variable(
        "BIBLIO_REPRO_DB_URL",
        None,
        "database of the job queue (SQLAlchemy URL; PostgreSQL in production)",
        group=REPRODUCE,
        derive=lambda v: f"sqlite:///{v['repro_dir'] / 'jobs.sqlite'}",
        shown="sqlite:///<state>/reproduce/jobs.sqlite",
    )
    repro_max_upload: int = variable(
        "BIBLIO_REPRO_MAX_UPLOAD",
        50 << 20,
        "largest file a user may upload (50M, 1G...)",
        group=REPRODUCE,
        read=as_byte_count,
        shown="50M",
    )
    repro_max_jobs: int = variable(
        "BIBLIO_REPRO_MAX_JOBS",
        None,
        "analyses running at once (the others wait in the queue)",
        group=REPRODUCE,
        read=as_integer(1),
        derive=lambda v: os.cpu_count() or 1,
        shown="(number of cores)",
    )
    repro_queue_per_user: int = variable(
        "BIBLIO_REPRO_QUEUE_PER_USER",
        3,
        "analyses one user may have waiting or running at once",
        group=REPRODUCE,
        read=as_integer(1),
    )
    repro_time_limit: int = variable(
        "BIBLIO_REPRO_TIME_LIMIT",
        1800,
        "seconds an analysis may run before it is stopped",
        group=REPRODUCE,
        read=as_integer(1),
    )
    repro_mem_limit: str = variable(
        "BIBLIO_REPRO_MEM_LIMIT",
        "4G",
        "memory limit of an analysis (docker: its container's memory, swap included; local: "
        "address space of each process)",
        group=REPRODUCE,
        read=as_byte_size,
    )
    repro_cpu_limit: float = variable(
        "BIBLIO_REPRO_CPU_LIMIT",
        1.0,
        "cores of an analysis (docker, kubernetes); local mode: CPU seconds = this × time limit",
        group=REPRODUCE,
        read=as_positive(whole=False),
    )
    repro_retention_days: int = variable(
        "BIBLIO_REPRO_RETENTION_DAYS",
        30,
        "days an uploaded file and its analyses are kept before the automatic purge",
        group=REPRODUCE,
        read=as_integer(1),
    )
    # runner footprint
    tdp_per_core_w: float = variable(
        "BIBLIO_TDP_PER_CORE_W",
        12.0,
        "watts per core in use (Green Algorithms' value for an unknown CPU)",
        group=RUNNER,
        read=as_number(0),
    )
    pue: float = variable(
        "BIBLIO_PUE",
        1.67,
        "power usage effectiveness of the data centre (Green Algorithms' world average)",
        group=RUNNER,
        read=as_number(1),
    )
    carbon_intensity: float = variable(
        "BIBLIO_CARBON_INTENSITY",
        0.052,
        "kgCO2e per kWh (order of magnitude of the French mix, ADEME Base Empreinte)",
        group=RUNNER,
        read=as_number(0),
    )
    # user data files
    min_usable_share: float = variable(
        "BIBLIO_MIN_USABLE_SHARE",
        0.9,
        "least share of a file's rows that must be usable (bad rows are set aside, listed in "
        "lignes_ecartees.csv); below it the file is refused",
        group=DATA,
        read=as_share,
    )
    # docker mode
    docker_image: str = variable(
        "BIBLIO_DOCKER_IMAGE",
        None,
        "demonstrator image (also runs the analyses of the reproduce service)",
        group=DOCKER,
        read=as_image,
        derive=lambda v: v["image"],
        shown="BIBLIO_IMAGE",
    )
    docker_allowed_images: tuple[str, ...] = variable(
        "BIBLIO_DOCKER_ALLOWED_IMAGES",
        (),
        "other images a server may use, comma-separated (never *)",
        group=DOCKER,
        read=as_images,
        shown="",
    )
    docker_network: str = variable(
        "BIBLIO_DOCKER_NETWORK",
        "host",
        "host, or a Docker network shared by the hub, the proxy and the servers",
        group=DOCKER,
        read=as_docker_network,
    )
    docker_hub_connect_ip: str = variable(
        "BIBLIO_DOCKER_HUB_CONNECT_IP",
        "",
        "the hub's address seen from the containers (needed on a network other than host)",
        group=DOCKER,
    )
    docker_mem_limit: str = variable(
        "BIBLIO_DOCKER_MEM_LIMIT",
        None,
        "memory limit per server",
        group=DOCKER,
        read=as_byte_size,
        derive=lambda v: v["mem_limit"],
        shown="BIBLIO_MEM_LIMIT",
    )
    docker_cpu_limit: float = variable(
        "BIBLIO_DOCKER_CPU_LIMIT",
        None,
        "CPU limit per server",
        group=DOCKER,
        read=as_positive(whole=False),
        derive=lambda v: v["cpu_limit"],
        shown="BIBLIO_CPU_LIMIT",
    )
    docker_pids_limit: int = variable(
        "BIBLIO_DOCKER_PIDS_LIMIT",
        512,
        "processes per server (and per analysis container of the reproduce service)",
        group=DOCKER,
        read=as_positive(whole=True),
    )
    docker_pull_policy: str = variable(
        "BIBLIO_DOCKER_PULL_POLICY",
        "never",
        "never, ifnotpresent or always",
        group=DOCKER,
        read=one_of(*DOCKER_PULL_POLICIES),
    )
    docker_start_timeout: int = variable(
        "BIBLIO_DOCKER_START_TIMEOUT",
        None,
        "seconds a container may take to start",
        group=DOCKER,
        read=as_positive(whole=True),
        derive=lambda v: v["start_timeout"],
        shown="BIBLIO_START_TIMEOUT",
    )
    docker_http_timeout: int = variable(
        "BIBLIO_DOCKER_HTTP_TIMEOUT",
        None,
        "seconds a started server may take to answer",
        group=DOCKER,
        read=as_positive(whole=True),
        derive=lambda v: v["http_timeout"],
        shown="BIBLIO_HTTP_TIMEOUT",
    )
    docker_api_threads: int = variable(
        "BIBLIO_DOCKER_API_THREADS",
        8,
        "calls to the Docker engine the hub makes side by side (containers of a burst are "
        "created, started and stopped in parallel rather than one after the other)",
        group=DOCKER,
        read=as_positive(whole=True),
    )
    docker_volume_prefix: str = variable(
        "BIBLIO_DOCKER_VOLUME_PREFIX",
        "biblio-ia",
        "prefix of the containers' and volumes' names (analyses: <prefix>-analyse-<job>; the "
        "reproduce service removes those left over when it starts)",
        group=DOCKER,
        read=as_docker_prefix,
    )
    # kubernetes mode
    k8s_image: str = variable(
        "BIBLIO_K8S_IMAGE",
        None,
        "demonstrator image, in a registry the cluster reaches",
        group=KUBERNETES,
        read=as_image,
        derive=lambda v: v["image"],
        shown="BIBLIO_IMAGE",
    )
    k8s_pull_policy: str = variable(
        "BIBLIO_K8S_PULL_POLICY",
        "IfNotPresent",
        "IfNotPresent, Always or Never",
        group=KUBERNETES,
        read=one_of(*K8S_PULL_POLICIES, fold=False),
    )
    k8s_storage: str = variable(
        "BIBLIO_K8S_STORAGE",
        "1Gi",
        "size of each user's volume per entry",
        group=KUBERNETES,
        read=as_quantity,
    )
    k8s_storage_class: str = variable(
        "BIBLIO_K8S_STORAGE_CLASS",
        "",
        "storage class of the volumes (the cluster's default when empty)",
        group=KUBERNETES,
    )
    k8s_mem_guarantee: str = variable(
        "BIBLIO_K8S_MEM_GUARANTEE",
        "512M",
        "memory reserved per server",
        group=KUBERNETES,
        read=as_byte_size,
    )
    k8s_cpu_guarantee: float = variable(
        "BIBLIO_K8S_CPU_GUARANTEE",
        0.2,
        "CPU reserved per server",
        group=KUBERNETES,
        read=as_positive(whole=False),
    )
    k8s_hub_service: str = variable(
        "BIBLIO_K8S_HUB_SERVICE",
        "hub",
        "service name of the hub pod, where the proxy pod reaches the hub-managed services",
        group=KUBERNETES,
    )
    # ProConnect
    proconnect_env: str = variable(
        "BIBLIO_PROCONNECT_ENV",
        "integration",
        "integration or production: which ProConnect domain the hub uses "
        f"({PROCONNECT_DOMAINS['integration']}, {PROCONNECT_DOMAINS['production']})",
        group=PROCONNECT,
        read=one_of(*PROCONNECT_ENVS),
    )
    proconnect_issuer: str = variable(
        "BIBLIO_PROCONNECT_ISSUER",
        None,
        "issuer whose discovery document (/.well-known/openid-configuration) the hub reads; "
        "another one only for a RIE domain or the tests' provider on 127.0.0.1",
        group=PROCONNECT,
        read=as_issuer,
        derive=lambda v: f"https://{PROCONNECT_DOMAINS[v['proconnect_env']]}/api/v2",
        shown="https://<domain of BIBLIO_PROCONNECT_ENV>/api/v2",
    )
    proconnect_client_id: str = variable(
        "BIBLIO_PROCONNECT_CLIENT_ID",
        "",
        "client id given by ProConnect (or BIBLIO_PROCONNECT_CLIENT_ID_FILE)",
        group=PROCONNECT,
        shown="(none: required)",
    )
    proconnect_client_id_file: Path | None = variable(
        "BIBLIO_PROCONNECT_CLIENT_ID_FILE",
        None,
        "file holding the client id",
        group=PROCONNECT,
        read=as_path,
        shown="(none)",
    )
    proconnect_client_secret: str = variable(
        "BIBLIO_PROCONNECT_CLIENT_SECRET",
        "",
        "client secret given by ProConnect (prefer BIBLIO_PROCONNECT_CLIENT_SECRET_FILE)",
        group=PROCONNECT,
        shown="(none: required)",
    )
    proconnect_client_secret_file: Path | None = variable(
        "BIBLIO_PROCONNECT_CLIENT_SECRET_FILE",
        None,
        "file holding the client secret (mode 0600)",
        group=PROCONNECT,
        read=as_path,
        shown="(none)",
    )
    proconnect_scopes: tuple[str, ...] = variable(
        "BIBLIO_PROCONNECT_SCOPES",
        tuple(PROCONNECT_SCOPES.split()),
        "scopes asked for, separated by spaces",
        group=PROCONNECT,
        read=as_scopes,
        shown=PROCONNECT_SCOPES,
    )
    proconnect_acr_min: str = variable(
        "BIBLIO_PROCONNECT_ACR_MIN",
        "eidas1",
        "least acr level accepted (asked for, and checked in the ID token): "
        + ", ".join(ACR_LEVELS),
        group=PROCONNECT,
        read=one_of(*ACR_LEVELS),
    )
    proconnect_pkce: bool = variable(
        "BIBLIO_PROCONNECT_PKCE",
        True,
        "1 sends a PKCE S256 challenge with every login",
        group=PROCONNECT,
        read=as_flag,
        shown="1",
    )
    proconnect_rule: str = variable(
        "BIBLIO_PROCONNECT_REGLE",
        "liste",
        "who is a collectivité: liste (SIRET in BIBLIO_PROCONNECT_COLLECTIVITES) or categorie "
        "(legal category claim BIBLIO_PROCONNECT_CATEGORIE_CLAIM, 72xx or an EPCI)",
        group=PROCONNECT,
        read=one_of(*COLLECTIVITE_RULES),
    )
    proconnect_collectivites: Path = variable(
        "BIBLIO_PROCONNECT_COLLECTIVITES",
        None,
        "file of the collectivités' SIRETs, one a line (# comments), read at each login",
        group=PROCONNECT,
        read=as_path,
        derive=lambda v: v["state_dir"] / "proconnect" / "collectivites.txt",
        shown="<state>/proconnect/collectivites.txt",
    )
    proconnect_category_claim: str = variable(
        "BIBLIO_PROCONNECT_CATEGORIE_CLAIM",
        "categorie_juridique",
        "claim carrying the organisation's legal category (rule categorie)",
        group=PROCONNECT,
    )
    proconnect_others: str = variable(
        "BIBLIO_PROCONNECT_AUTRES",
        "public",
        "agents of other organisations: public (public tier) or refus (login refused)",
        group=PROCONNECT,
        read=one_of(*OTHER_AGENTS),
    )
    # inside a demonstrator's container
    home: Path = variable(
        "BIBLIO_HOME",
        Path("/home/jovyan/work"),
        "the user's work folder (a volume per user and entry)",
        group=CONTAINER,
        read=as_path,
    )
    entry_id: str = variable(
        "BIBLIO_ENTRY_ID",
        "",
        "the entry this server serves (else the named server's name)",
        group=CONTAINER,
    )
    reset_token: str = variable(
        "BIBLIO_RESET_TOKEN",
        "",
        "one-time token of a launch link's reset=1: back up and seed the folder again",
        group=CONTAINER,
    )
    # not a variable: the BIBLIO_* names found in the environment that nothing declares
    ignored: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every ``BIBLIO_*`` variable of ``env`` (``os.environ`` if None)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, spec in declared().items():
            values[name] = spec.value(env, values)
        known = {spec.name for spec in declared().values()}
        values["ignored"] = tuple(
            sorted(k for k in env if k.startswith("BIBLIO_") and k not in known)
        )
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Checks that involve several variables (those of the active mode only)."""
        if self.subdomain_host and self.spawner == "local":
            raise SettingsError(
                "BIBLIO_SUBDOMAIN_HOST ne s'utilise qu'en mode docker ou kubernetes : en mode "
                "local, tous les serveurs tournent sous le même compte système, des sous-domaines "
                "n'y isoleraient rien."
            )
        if self.auth == "proconnect":
            for what in ("client_id", "client_secret"):
                var = f"BIBLIO_PROCONNECT_{what.upper()}"
                given = (
                    getattr(self, f"proconnect_{what}"),
                    getattr(self, f"proconnect_{what}_file"),
                )
                if all(given) or not any(given):
                    raise SettingsError(
                        f"BIBLIO_AUTH=proconnect : indiquez {var} ou {var}_FILE (l'un des deux), "
                        "valeur donnée par l'espace partenaires de ProConnect (docs/proconnect.md)."
                    )
        if (
            self.spawner == "docker"
            and self.docker_network != "host"
            and not self.docker_hub_connect_ip
        ):
            raise SettingsError(
                f"BIBLIO_DOCKER_NETWORK vaut « {self.docker_network} » : indiquez aussi "
                "BIBLIO_DOCKER_HUB_CONNECT_IP (nom ou adresse du hub sur ce réseau)."
            )

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied (the dataclass is frozen)."""
        return replace(self, **changes)

    @property
    def users_dir(self) -> Path:
        """Parent of every user's working folder in local mode."""
        return self.state_dir / "users"

    @property
    def workspaces_dir(self) -> Path:
        """Parent of the joint workspaces' folders (``<owner>/ws-<slug>/``), local mode."""
        return self.state_dir / "espaces"

    @property
    def public_url(self) -> str:
        """The URL users open, e.g. ``http://127.0.0.1:8000/``."""
        return f"http://{self.ip}:{self.port}{self.base_url}"


def declared() -> dict[str, Variable]:
    """Field name -> its variable, in declaration order."""
    return {f.name: f.metadata["variable"] for f in fields(Settings) if "variable" in f.metadata}


#: Variable name -> its declaration, in declaration order.
VARIABLES: dict[str, Variable] = {spec.name: spec for spec in declared().values()}


# --- the generated documentation ---------------------------------------------------------------

DOC_COMMAND = "python -m hub.config.settings docs/configuration.md"


def _default_cell(shown: str) -> str:
    if not shown:
        return "(empty)"
    return shown if shown.startswith("(") else f"`{shown}`"


def markdown() -> str:
    """``docs/configuration.md``: every variable, grouped, with its default and help."""
    lines = [
        "# Configuration",
        "",
        f"<!-- Generated by `{DOC_COMMAND}` from hub/config/settings.py: do not edit. -->",
        "",
        "biblio-ia reads only environment variables named `BIBLIO_*`, all declared in "
        "`hub/config/settings.py` (`Settings`). They are read when the hub, `biblio` or a "
        "demonstrator's container starts. A bad value stops the start with a French message "
        "naming the variable; an empty variable means its default. `<repo>` is the checkout, "
        "`<state>` is `BIBLIO_STATE_DIR`.",
    ]
    for group, intro in GROUPS.items():
        specs = [spec for spec in VARIABLES.values() if spec.group == group]
        lines += ["", f"## {group}", "", intro, "", "| Variable | Default | Meaning |"]
        lines.append("|---|---|---|")
        for spec in specs:
            lines.append(f"| `{spec.name}` | {_default_cell(spec.shown)} | {spec.help} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m hub.config.settings [FILE]``: write the documentation (stdout without FILE)."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        sys.stdout.write(markdown())
        return 0
    from models.fsutil import write_text

    write_text(Path(args[0]), markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
