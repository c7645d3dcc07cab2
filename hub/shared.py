"""Small helpers shared by the hub's rooms (configuration, spawners, command line, test hub)."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

#: Options of every cookie set by the hub, its services and the users' servers: sent on
#: top-level navigation from other sites (following a link) but not on their sub-requests.
COOKIE_OPTIONS = {"samesite": "Lax"}

#: The same, as hub-managed services read them (``JUPYTERHUB_COOKIE_OPTIONS``).
COOKIE_OPTIONS_ENV = {"JUPYTERHUB_COOKIE_OPTIONS": json.dumps(COOKIE_OPTIONS)}

#: The project's root, on the path of the hub-managed services (they run ``python -m hub.…``).
PROJECT_ROOT = str(Path(__file__).resolve().parents[1])


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
