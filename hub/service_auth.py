"""What the hub's own services (catalog, reproduce, workspaces) share: their visitor.

``HubUserHandler`` resolves the hub user of a request once, asynchronously, through
JupyterHub's ``HubOAuth``; a token without access to the service counts as no user (the
service then shows its public or refusal page instead of failing).
"""

from __future__ import annotations

from typing import Any

from jupyterhub.services.auth import HubOAuth, HubOAuthenticated
from tornado import web


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
