"""Readiness of a starting single-user server, polled by the spawner itself.

JupyterHub checks a new server with an exponential backoff (random waits up to 0.2, 0.4,
0.8, 1.6 s...), so a server ready after 1.1 s is typically seen 0.5 s or more later. Both
biblio-ia spawners (local and docker) poll the server's ``api`` URL every few tens of
milliseconds before ``start`` returns, so the hub's first check succeeds at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from tornado.httpclient import AsyncHTTPClient, HTTPClientError


async def wait_until_answering(
    target: str,
    *,
    timeout: float,
    interval: float,
    alive: Callable[[], Awaitable[bool]],
    check_alive_every: int = 1,
) -> bool:
    """Poll ``target`` until it answers (< 500); False on timeout or when ``alive()`` is False.

    ``alive`` is awaited before every ``check_alive_every``-th request (a cheap process check
    can run every time; a Docker API call every tenth).
    """
    client = AsyncHTTPClient()
    deadline = time.monotonic() + timeout
    checks = 0
    while time.monotonic() < deadline:
        if checks % check_alive_every == 0 and not await alive():
            return False
        checks += 1
        try:
            await client.fetch(target, follow_redirects=False, request_timeout=2)
            return True
        except HTTPClientError as error:
            if error.code < 500:
                return True
        except OSError:
            pass
        await asyncio.sleep(interval)
    return False
