"""The hub REST API as the workspaces service uses it (its own token, async, French errors)."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from hub.workspaces.names import WorkspaceError


class HubAPIError(WorkspaceError):
    """The hub refused or failed a request; ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def q(name: str) -> str:
    return quote(name, safe="")


class HubAPI:
    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        self.url = (url or os.environ["JUPYTERHUB_API_URL"]).rstrip("/") + "/"
        self.token = token or os.environ["JUPYTERHUB_API_TOKEN"]

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        """JSON answer of ``method path`` (None when empty); ``HubAPIError`` otherwise."""
        kwargs: dict[str, Any] = {}
        if body is not None or method in {"POST", "PATCH", "PUT"}:
            kwargs["body"] = json.dumps(body if body is not None else {})
        try:
            response = await AsyncHTTPClient().fetch(
                self.url + path,
                method=method,
                headers={"Authorization": f"token {self.token}"},
                request_timeout=60,
                **kwargs,
            )
        except HTTPClientError as error:
            text = error.response.body.decode("utf-8", "replace") if error.response else ""
            try:
                detail = json.loads(text).get("message", text)
            except ValueError:
                detail = text
            raise HubAPIError(f"le hub a refusé ({error.code}) : {detail}", error.code) from None
        return json.loads(response.body) if response.body else None

    async def user(self, name: str) -> dict[str, Any]:
        return await self.call("GET", f"users/{q(name)}")

    async def start(self, owner: str, server: str, options: dict | None = None) -> None:
        await self.call("POST", f"users/{q(owner)}/servers/{q(server)}", options or {})

    async def stop(self, owner: str, server: str) -> None:
        await self.call("DELETE", f"users/{q(owner)}/servers/{q(server)}")

    async def shares(self, owner: str, server: str) -> list[dict[str, Any]]:
        return (await self.call("GET", f"shares/{q(owner)}/{q(server)}"))["items"]

    async def share(self, owner: str, server: str, member: str) -> dict[str, Any]:
        return await self.call("POST", f"shares/{q(owner)}/{q(server)}", {"user": member})

    async def revoke(self, owner: str, server: str, member: str) -> None:
        await self.call("PATCH", f"shares/{q(owner)}/{q(server)}", {"user": member})

    async def share_code(self, owner: str, server: str, expires_in: int) -> dict[str, Any]:
        return await self.call(
            "POST", f"share-codes/{q(owner)}/{q(server)}", {"expires_in": expires_in}
        )

    async def share_codes(self, owner: str, server: str) -> list[dict[str, Any]]:
        return (await self.call("GET", f"share-codes/{q(owner)}/{q(server)}"))["items"]

    async def cancel_codes(self, owner: str, server: str) -> None:
        await self.call("DELETE", f"share-codes/{q(owner)}/{q(server)}")

    async def shared_with(self, user: str) -> list[dict[str, Any]]:
        return (await self.call("GET", f"users/{q(user)}/shared"))["items"]
