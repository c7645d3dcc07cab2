"""A forked single-user server tells the hub it is up: a Jupyter Server extension.

Enabled for every single-user server (``hub/jupyter/jupyter_server_config.json``). In a server
forked by ``hub.spawners.forkserver``, the fork server hands the child the write end of a pipe
(``use_channel``) before the server starts; once Jupyter Server's event loop runs, its HTTP
socket is bound and the extensions' start hooks are called: ``_start_jupyter_server_extension``
writes one line to the pipe and closes it, the fork server relays ``{"ready": true}`` to the
spawner, and ``BiblioLocalSpawner.start`` returns — no polling of the server by the hub. In any
other server (a plain start, a container) there is no channel and the extension does nothing.
"""

from __future__ import annotations

import os

_channel: int | None = None


def use_channel(fd: int) -> None:
    """In a forked child, before the server starts: where to announce that it is up."""
    global _channel
    _channel = fd


def notify_ready() -> bool:
    """Announce that the server is up (once); False if there is no channel."""
    global _channel
    fd, _channel = _channel, None
    if fd is None:
        return False
    try:
        os.write(fd, b"ready\n")
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "hub.spawners.ready"}]


def _load_jupyter_server_extension(serverapp) -> None:
    """Nothing to load: the notice is sent once the server runs."""


async def _start_jupyter_server_extension(serverapp) -> None:
    notify_ready()
