"""Local-mode spawner: SimpleLocalProcessSpawner, started fast and returned only when up.

Two cuts in the time between "launch" and "notebook usable" (see README, "Performance"):

1. **Fork server** (``hub.forkserver``): when ``forkserver_socket`` is set and ``cmd`` is the
   default ``<python> -m hub.singleuser``, the server is forked from a process that already
   imported Jupyter Server and JupyterLab, instead of a fresh interpreter importing them.
   Any failure falls back to the plain ``Popen`` of ``SimpleLocalProcessSpawner``.
2. **Readiness**: after ``Spawner.start`` returns, JupyterHub polls the new server with an
   exponential backoff (random waits up to 0.2, 0.4, 0.8, 1.6 s...), so a server ready after
   1.1 s is typically seen 0.5 s or more later. ``start`` here polls the server's ``api`` URL
   itself every ``ready_poll_interval`` seconds (50 ms) before returning, so the hub's first
   check succeeds at once. If the process dies or ``http_timeout`` passes, it returns anyway
   and JupyterHub's own checks report the failure as usual.
"""

from __future__ import annotations

import os

from jupyterhub.spawner import SimpleLocalProcessSpawner
from jupyterhub.utils import random_port
from traitlets import Float, Unicode

from hub import forkserver
from hub.readiness import wait_until_answering

SINGLEUSER_MODULE = "hub.singleuser"


class BiblioLocalSpawner(SimpleLocalProcessSpawner):
    """Servers as local processes of the hub's user, in ``<state>/users/<name>``."""

    ready_poll_interval = Float(
        0.05, help="Seconds between two readiness checks inside start()."
    ).tag(config=True)
    forkserver_socket = Unicode(
        "", help="Unix socket of the fork server ('' = always start a new interpreter)."
    ).tag(config=True)

    def _forkable_args(self) -> list[str] | None:
        """Arguments for the fork server, or None if ``cmd`` is not the default command."""
        cmd = list(self.cmd)
        if len(cmd) == 3 and cmd[1:] == ["-m", SINGLEUSER_MODULE] and not self.shell_cmd:
            return self.get_args()
        return None

    async def _start_forked(self):
        args = self._forkable_args()
        if not self.forkserver_socket or args is None:
            return None
        if self.port == 0:
            self.port = random_port()
            args = self.get_args()
        try:
            pid = await forkserver.request_fork(
                self.forkserver_socket, args, self.get_env(), self.home_dir
            )
        except (OSError, TimeoutError) as error:
            self.log.warning("biblio: fork server unavailable (%s), plain start", error)
            return None
        self.log.info("biblio: forked server pid %s for %s", pid, self._log_name)
        self.proc = None
        self.pid = pid
        return (self.ip or "127.0.0.1", self.port)

    async def start(self):
        url = await self._start_forked()
        if url is None:
            url = await super().start()
        await self.wait_until_answering(url)
        return url

    def _alive(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        if not self.pid:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def _api_url(self, url) -> str:
        if not isinstance(url, str):
            ip, port = url
            url = f"http://{ip}:{int(port)}"
        return url.rstrip("/") + self.server.base_url + "api"

    async def wait_until_answering(self, url) -> bool:
        """Poll the server's ``api`` URL until it answers (< 500) or the process exits."""

        async def alive() -> bool:
            return self._alive()

        return await wait_until_answering(
            self._api_url(url),
            timeout=self.http_timeout,
            interval=self.ready_poll_interval,
            alive=alive,
        )
