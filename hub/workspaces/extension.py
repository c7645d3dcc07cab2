"""Jupyter Server extension of workspace servers: revoked members leave, commits are signed.

Enabled only on workspace servers (``hub/jupyter/espace/jupyter_server_config.json``).

1. **Open connections are re-checked.** A member's HTTP requests are checked by the hub's
   answer cached ``HubOAuth.cache_max_age`` seconds; but a websocket (kernel, collaborative
   document, terminal) is checked once, when it opens. Every websocket handler is therefore
   remembered when it opens (``tornado.websocket.WebSocketHandler.get``, which every
   Jupyter websocket handler ends in), and every ``cache_max_age`` seconds the token of each
   open one is asked of the hub again, uncached: a member whose share was revoked (or whose
   token expired) sees their connections closed (code ``CLOSE_REVOKED``), and JupyterLab's
   reconnection is refused (403). A revoked member is out within two periods at most.
2. **Commits are signed by their author.** jupyterlab-git's commit request is given the
   accessing member as ``--author`` (``hub.workspaces.folder.member_identity``), so the
   history names who made each commit; the committer stays the workspace's own identity.
   A terminal is given the member who opens it as ``GIT_AUTHOR_NAME``/``GIT_AUTHOR_EMAIL``
   (terminado's per-terminal ``extra_env``, set by the server, never by the client): a
   ``git commit`` typed there is signed by that member (a terminal is shared by the
   members who open it: it keeps signing as the one who created it).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from tornado import websocket
from tornado.ioloop import PeriodicCallback

from hub.workspaces.folder import member_identity

CLOSE_REVOKED = 4403
_open: weakref.WeakSet = weakref.WeakSet()
_patched = False


def _patch_websockets() -> None:
    original = websocket.WebSocketHandler.get

    async def get(self, *args: Any, **kwargs: Any) -> None:
        _open.add(self)
        return await original(self, *args, **kwargs)

    websocket.WebSocketHandler.get = get


def _sign_requests(handler_class: Any, sign: Any) -> None:
    """Have ``handler_class`` read its JSON body through ``sign(body, member)``: what the
    server sets over what the client sent, for the member making the request."""
    original = handler_class.get_json_body

    def get_json_body(self):
        data = original(self) or {}
        user = self.current_user
        if user is not None and getattr(user, "username", ""):
            sign(data, user.username)
        return data

    handler_class.get_json_body = get_json_body


def author_environment(user: str) -> dict[str, str]:
    """``GIT_AUTHOR_*`` of a member, as ``member_identity`` writes them."""
    name, email = member_identity(user).rsplit(" <", 1)
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email.rstrip(">")}


def _sign_commit(data: dict, user: str) -> None:
    data["author"] = member_identity(user)


def _sign_terminal(data: dict, user: str) -> None:
    extra = data.get("extra_env") if isinstance(data.get("extra_env"), dict) else {}
    data["extra_env"] = {**extra, **author_environment(user)}


def _patch_signatures() -> None:
    """jupyterlab-git's commits and new terminals, when those extensions are installed."""
    try:
        from jupyterlab_git.handlers import GitCommitHandler
    except ImportError:
        pass
    else:
        _sign_requests(GitCommitHandler, _sign_commit)
    try:
        from jupyter_server_terminals.api_handlers import TerminalRootHandler
    except ImportError:
        pass
    else:
        _sign_requests(TerminalRootHandler, _sign_terminal)


async def still_allowed(hub_auth: Any, handler: Any) -> bool:
    """Ask the hub (uncached) whether the token behind ``handler`` still has access."""
    token = hub_auth.get_token(handler)
    if not token:
        return False
    try:
        model = await hub_auth.user_for_token(token, use_cache=False, sync=False)
    except Exception:  # the hub does not answer: keep the connection, check again later
        return True
    return bool(model) and bool(hub_auth.check_scopes(hub_auth.access_scopes, model))


async def recheck_open_connections(serverapp: Any) -> int:
    """Close the websockets whose member lost access; return how many were closed."""
    hub_auth = getattr(serverapp.identity_provider, "hub_auth", None)
    if hub_auth is None:
        return 0
    handlers = [h for h in list(_open) if h.ws_connection is not None]
    verdicts = await asyncio.gather(*(still_allowed(hub_auth, h) for h in handlers))
    closed = 0
    for handler, allowed in zip(handlers, verdicts, strict=True):
        if not allowed and handler.ws_connection is not None:
            handler.close(CLOSE_REVOKED, "Accès à l'espace retiré")
            closed += 1
    if closed:
        serverapp.log.info("biblio: %d connection(s) closed, access revoked", closed)
    return closed


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "hub.workspaces.extension"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    global _patched
    if not _patched:
        _patch_websockets()
        _patch_signatures()
        _patched = True
    hub_auth = getattr(serverapp.identity_provider, "hub_auth", None)
    period = max(1, int(getattr(hub_auth, "cache_max_age", 20) or 20))

    def tick() -> None:
        asyncio.ensure_future(recheck_open_connections(serverapp))

    serverapp.web_app.settings["biblio_access_check"] = PeriodicCallback(tick, period * 1000)
    serverapp.web_app.settings["biblio_access_check"].start()
