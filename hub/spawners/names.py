"""Which named servers may exist: checked before JupyterHub stores a server record.

JupyterHub creates a user's named-server record as soon as a start is asked for, before any
spawner hook runs; a refused name (unknown entry, 5,000 characters, a ``/`` or NUL) would
stay as a stopped record and use up the user's named-server limit. JupyterHub asks for that
limit — ``c.JupyterHub.named_server_limit_per_user`` may be a callable of the request
handler — right before it creates the record, on the REST API and the spawn page alike:
``ServerNameGate`` answers with the limit, and refuses a server name that is not one of the
library's entries (nor a joint workspace's ``ws-<slug>``, see ``hub.workspaces``) with a French
404 there, so nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.workspaces.names import is_workspace
from models.entries import entry_ids, is_entry_id


def server_name_of(handler: Any) -> str | None:
    """The server name a JupyterHub handler was called for (``None`` on other pages).

    The REST API (``/users/<user>/servers/<name>``) and the spawn page
    (``/spawn/<user>/<name>``) both take the user then the server name as path arguments.
    """
    args = list(getattr(handler, "path_args", None) or [])
    if len(args) < 2 or not args[1]:
        return None
    name = args[1]
    return name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)


def refusal(name: str, repo_root: Path) -> str | None:
    """The French reason a server ``name`` cannot be created, or ``None`` when it can."""
    known = entry_ids(repo_root)
    if (is_entry_id(name) and name in known) or is_workspace(name):
        return None  # a demonstrator, or a joint workspace (hub.workspaces, ws-<slug>)
    shown = name if len(name) <= 60 and name.isprintable() else repr(name[:60]) + "…"
    return (
        f"Démonstrateur inconnu : « {shown} ». "
        f"Démonstrateurs disponibles : {', '.join(known) or 'aucun'}."
    )


class ServerNameGate:
    """``named_server_limit_per_user`` as a callable that also refuses unknown names."""

    def __init__(self, limit: int, repo_root: Path | str):
        self.limit = int(limit)
        self.repo_root = Path(repo_root)

    def __call__(self, handler: Any) -> int:
        name = server_name_of(handler)
        if name is not None:
            from tornado import web

            reason = refusal(name, self.repo_root)
            if reason:
                raise web.HTTPError(404, reason)
            if is_workspace(name) and not _owner_may_create(handler):
                raise web.HTTPError(
                    403, "Les espaces de travail communs sont réservés aux comptes experts."
                )
        return self.limit


def _owner_may_create(handler: Any) -> bool:
    """True if the owner named in the path holds the workspace scope (hub.workspaces)."""
    from hub.workspaces.spawn import owner_may_create

    owner = handler.path_args[0]
    owner = owner.decode("utf-8", "replace") if isinstance(owner, bytes) else str(owner)
    user = handler.find_user(owner)
    return user is not None and owner_may_create(user)


def server_name_gate(limit: int, repo_root: Path | str) -> Callable[[Any], int]:
    """The callable for ``c.JupyterHub.named_server_limit_per_user``."""
    return ServerNameGate(limit, repo_root)
