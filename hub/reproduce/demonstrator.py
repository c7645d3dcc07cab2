"""« Ouvrir dans mon démonstrateur »: an expert's executed analysis, copied into their own
demonstrator of the same entry, opened in JupyterLab.

The service acts through JupyterHub, never on the demonstrators' files directly, so the same
path works in every mode (local folders, docker volumes, kubernetes claims):

1. ``ensure_running``: the expert's named server ``<entry_id>`` is started if it is not
   (the hub seeds it as a launch link would) and waited for, bounded in time;
2. ``put_notebook``: the notebook is written through the server's own contents API, under
   ``<entry_id>/analyses/`` (created if needed);
3. the lab URL of that notebook is where the page then sends the expert.

Every call carries the expert's own token (the one HubOAuth keeps for the service, whose
scopes include ``hub.reproduce.config.ON_BEHALF_SCOPES``: the user's own servers only), so
the service can do nothing the expert could not do themselves.

Errors are ``DemonstratorError`` with a French message (the page shows it).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import quote, urlparse

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from hub.workspaces.hubapi import HubAPI, HubAPIError
from models.errors import BiblioError

FOLDER = "analyses"
START_TIMEOUT_S = 120


class DemonstratorError(BiblioError):
    """The notebook could not be put in the demonstrator (French message)."""


def notebook_name(entry_id: str, job_id: str, created: float) -> str:
    """``analyse-<date>-<id8>.ipynb``: one file per analysis, sorted by date."""
    day = time.strftime("%Y-%m-%d", time.gmtime(created))
    return f"analyse-{day}-{job_id[:8]}.ipynb"


def server_base(public_url: str, server: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """Where to reach a server through the proxy from the service, and the Host to send.

    The hub gives a path (``/user/<u>/<name>/``), or a full URL with subdomains; either way
    the request goes to the proxy's own address, with the user's host when there is one.
    """
    url = urlparse(server["url"])
    proxy = urlparse(public_url)
    headers = {"Host": url.netloc} if url.netloc else {}
    return f"{proxy.scheme}://{proxy.netloc}{url.path}", headers


async def ensure_running(api: HubAPI, user: str, entry_id: str) -> dict[str, Any]:
    """The user's server ``entry_id``, started and waited for if needed."""
    server = ((await api.user(user)).get("servers") or {}).get(entry_id) or {}
    if server.get("ready"):
        return server
    if not server.get("pending"):
        try:
            await api.start(user, entry_id)
        except HubAPIError as error:
            if error.status == 400 and "already" in str(error):
                pass  # started meanwhile (another tab)
            else:
                raise DemonstratorError(
                    "Votre démonstrateur n'a pas pu démarrer : " + str(error)
                ) from None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        server = ((await api.user(user)).get("servers") or {}).get(entry_id) or {}
        if server.get("ready"):
            return server
        if not server.get("pending") and not server.get("ready") and server.get("stopped"):
            break
        await asyncio.sleep(0.5)
    raise DemonstratorError(
        "Votre démonstrateur n'a pas démarré à temps : relancez-le depuis le catalogue, "
        "puis réessayez."
    )


async def _contents(base: str, headers: dict[str, str], token: str, path: str, model: dict):
    await AsyncHTTPClient().fetch(
        f"{base}api/contents/{quote(path)}",
        method="PUT",
        headers={**headers, "Authorization": f"token {token}"},
        body=json.dumps(model),
        request_timeout=120,
    )


async def put_notebook(
    base: str, headers: dict[str, str], token: str, entry_id: str, name: str, notebook: dict
) -> str:
    """Write ``notebook`` as ``<entry_id>/analyses/<name>``; return its path on the server."""
    folder, path = f"{entry_id}/{FOLDER}", f"{entry_id}/{FOLDER}/{name}"
    try:
        await _contents(base, headers, token, folder, {"type": "directory"})
        await _contents(
            base, headers, token, path, {"type": "notebook", "format": "json", "content": notebook}
        )
    except (HTTPClientError, OSError) as error:
        raise DemonstratorError(
            f"Le notebook n'a pas pu être copié dans votre démonstrateur ({error})."
        ) from None
    return path


async def open_in_demonstrator(
    *, api: HubAPI, public_url: str, user: str, entry_id: str, name: str, notebook: dict
) -> str:
    """Start the demonstrator if needed, put the notebook in it; the URL that opens it."""
    server = await ensure_running(api, user, entry_id)
    base, headers = server_base(public_url, server)
    path = await put_notebook(base, headers, api.token, entry_id, name, notebook)
    lab = f"{server['url'].rstrip('/')}/lab/workspaces/{quote(entry_id)}/tree/{quote(path)}"
    return lab
