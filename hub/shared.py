"""Small helpers shared by the hub's rooms (configuration, spawners, command line, test hub)."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

#: Options of every cookie set by the hub, its services and the users' servers: sent on
#: top-level navigation from other sites (following a link) but not on their sub-requests.
COOKIE_OPTIONS = {"samesite": "Lax"}

#: The same, as hub-managed services read them (``JUPYTERHUB_COOKIE_OPTIONS``).
COOKIE_OPTIONS_ENV = {"JUPYTERHUB_COOKIE_OPTIONS": json.dumps(COOKIE_OPTIONS)}

#: The project's root, on the path of the hub-managed services (they run ``python -m hub.…``).
PROJECT_ROOT = str(Path(__file__).resolve().parents[1])


def managed_service(
    name: str,
    module: str,
    args: list[str],
    *,
    port: int,
    description: str,
    display: bool,
    cwd: Path | str,
    scopes: list[str],
    python: str = sys.executable,
    environment: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A ``c.JupyterHub.services`` entry for one of the project's hub-managed services:
    ``python -m <module> <args>`` run from ``cwd``, listening on 127.0.0.1 only, its OAuth
    client limited to ``scopes`` and without the confirmation page; ``environment`` defaults
    to ``service_environment()``."""
    return {
        "name": name,
        "display": display,
        "info": {"description": description},
        "url": f"http://127.0.0.1:{port}",
        "command": [str(Path(python).absolute()), "-m", module, *args],
        "cwd": str(cwd),
        "environment": service_environment() if environment is None else environment,
        "oauth_no_confirm": True,
        "oauth_client_allowed_scopes": scopes,
    }


def service_environment() -> dict[str, str]:
    """What every hub-managed service of the project gets in its environment: the project on
    its path and the cookie options (``COOKIE_OPTIONS``)."""
    return {"PYTHONPATH": PROJECT_ROOT, **COOKIE_OPTIONS_ENV}


#: Optional modules that are slow to import and that nothing of biblio-ia needs (see below).
SLOW_OPTIONAL_MODULES = ("rfc3987_syntax",)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def block_slow_optional_imports() -> None:
    """Make ``jsonschema`` go without its optional ``rfc3987_syntax`` format checker.

    ``jsonschema`` imports ``rfc3987_syntax`` eagerly for its ``iri``/``iri-reference`` format
    checkers, and that import compiles Lark/Earley grammars: 1.2 to 2.7 s measured here (about
    half of a single-user server's start, see jupyter-server/jupyter_server#1559, and most of
    ``biblio``'s). No Jupyter or biblio-ia schema uses those formats. The modules become
    unimportable in this process only, and only while ``jsonschema`` is not imported yet (after
    that, it has already chosen its format checkers).
    """
    if "jsonschema" in sys.modules:
        return
    for name in SLOW_OPTIONAL_MODULES:
        sys.modules.setdefault(name, None)
