"""What the hub's own services (catalog, reproduce, workspaces) share: their visitor.

``HubUserHandler`` resolves the hub user of a request once, asynchronously, through
JupyterHub's ``HubOAuth``; a token without access to the service counts as no user (the
service then shows its public or refusal page instead of failing).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from jupyterhub.services.auth import HubOAuth, HubOAuthenticated
from tornado import web


def cookie_secret(api_token: str | None = None) -> bytes | None:
    """The secret that signs a service's cookies, derived from its hub API token
    (``JUPYTERHUB_API_TOKEN`` by default); ``None`` without one.

    The hub gives a managed service the same token each time it starts it again: a restarted
    service (a crash, a kill) still reads the cookies of the users logged in to it, instead of
    treating them as visitors until they log in again. A new hub means a new token.
    """
    if api_token is None:
        api_token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
    if not api_token:
        return None
    label = b"biblio-ia catalog cookies"  # the catalog's first: kept, its cookies stay valid
    return hmac.new(api_token.encode(), label, hashlib.sha256).digest()


class HubUserHandler(HubOAuthenticated, web.RequestHandler):
    """A request handler of a hub service that knows its visitor."""

    hub_auth_class = HubOAuth

    async def resolve_hub_user(self) -> dict[str, Any] | None:
        """The visitor's hub model (``None`` when anonymous or not allowed here), cached as
        ``current_user`` for the rest of the request."""
        user = None
        model = await self.hub_auth.get_user(self, sync=False)
        if model:
            try:
                user = self.check_hub_user(model)
            except Exception:  # noqa: BLE001 -- HTTPError or UserNotAllowed: no access here
                user = None
        self._hub_auth_user_cache = user
        return user
