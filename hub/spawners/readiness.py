"""Readiness of a starting single-user server, polled with a back-off by the spawner itself.

JupyterHub checks a new server with an exponential backoff (random waits up to 0.2, 0.4,
0.8, 1.6 s...), so a server ready after 1.1 s is typically seen 0.5 s or more later. The
biblio-ia spawners return from ``start`` only once the server is up, so the hub's first check
succeeds at once. A forked server says so itself (``hub.spawners.ready``); otherwise (a plain
start, a container, a notice that did not come) ``wait_until_answering`` asks the server's
``api`` URL, first after ``interval`` seconds, then waiting ``BACKOFF`` times longer each time
up to ``max_interval``: quick for one server, and fifty servers starting together do not
flood the hub's event loop (and its ten-connection HTTP client) with requests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

BACKOFF = 1.5


async def _pause(seconds: float, notice: asyncio.Event | None) -> None:
    """Sleep ``seconds``, or less if ``notice`` is set meanwhile."""
    if notice is None:
        await asyncio.sleep(seconds)
        return
    notice.clear()
    try:
        await asyncio.wait_for(notice.wait(), seconds)
    except TimeoutError:
        pass


async def wait_until_answering(
    target: str,
    *,
    timeout: float,
    alive: Callable[[], Awaitable[bool]],
    interval: float = 0.05,
    max_interval: float = 1.0,
    check_alive_every: int = 1,
    notice: asyncio.Event | None = None,
    noticed: Callable[[], bool] | None = None,
) -> bool:
    """Poll ``target`` until it answers (< 500); False on timeout or when ``alive()`` is False.

    ``alive`` is awaited before every ``check_alive_every``-th request (a cheap process check
    can run every time; a Docker API call every few). ``notice`` (an event) cuts a wait short,
    and ``noticed()`` True means the server said it is up: no more requests needed.
    """
    client = AsyncHTTPClient()
    deadline = time.monotonic() + timeout
    wait = interval
    checks = 0
    while (remaining := deadline - time.monotonic()) > 0:
        if noticed is not None and noticed():
            return True
        if checks % check_alive_every == 0 and not await alive():
            return False
        checks += 1
        try:
            await client.fetch(
                target, follow_redirects=False, request_timeout=max(0.1, min(2.0, remaining))
            )
            return True
        except HTTPClientError as error:
            if error.code < 500:
                return True
        except OSError:
            pass
        await _pause(max(0.0, min(wait, deadline - time.monotonic())), notice)
        wait = min(max_interval, wait * BACKOFF)
    return noticed is not None and noticed()
