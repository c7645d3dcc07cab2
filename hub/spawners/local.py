"""Local-mode spawner: SimpleLocalProcessSpawner, started fast, returned only when up, watched.

1. **Fork server** (``hub.spawners.forkserver``, asked through ``hub.spawners.forkclient``):
   when ``forkserver_socket`` is set and ``cmd`` is the default ``<python> -m
   hub.spawners.singleuser``, the server is forked from a process that already imported Jupyter
   Server and JupyterLab, instead of a fresh interpreter importing them. Its process title
   names the user and the server (``biblio-ia singleuser <user>/<server>``), and ``nice``
   is added to its niceness (the hub stays responsive). Only a fork server that is really
   gone (no socket, nobody listening, no answer) makes the spawner start the plain command;
   that fallback is logged as a warning with the reason (``FALLBACK_LOG``). A request
   queued behind others (a burst) waits its turn.
2. **Readiness without polling**: a forked server announces that it listens (the Jupyter
   Server extension ``hub.spawners.ready``, relayed by the fork server), and ``start`` returns
   then, so JupyterHub's own first check succeeds at once. Only when no notice comes within
   ``ready_notice_timeout`` (or for a plain start) does ``start`` poll the server's ``api``
   URL, with a back-off from ``ready_poll_interval`` up to ``ready_poll_max_interval``: a burst
   of fifty launches costs the hub's event loop fifty short messages, not a thousand requests
   a second.
3. **The real exit status, soon**: the fork server reports each server's end on the same
   connection, so ``poll`` returns its real status (``-9`` for SIGKILL, like
   ``Popen.returncode``) without any system call, and JupyterHub's periodic ``poll`` (every
   ``Spawner.poll_interval`` seconds, ``BIBLIO_POLL_INTERVAL``) reports a dead server within that
   time. A server started before a hub restart is checked by its pid (a zombie counts as
   dead) and its status asked of the fork server.
4. **Ports out of the way**: each server gets a free port drawn from ``port_range``
   (20000-32767 by default), below Linux's ephemeral range (32768-60999) where JupyterHub's
   ``random_port`` draws. During a burst the hub, the proxy and the servers open hundreds of
   outgoing connections whose local ports come from that ephemeral range: a port picked
   there a second before the server binds it was sometimes taken meanwhile ("port ... is
   already in use"). Ports handed to this hub's starting or running servers are not given
   twice.

A server that ends before it is up makes ``start`` fail at once with a French message.

5. **Nothing left behind**: a server stopped by signal before it could shut its kernels down
   (a busy machine, a server whose fork server is gone) would leave them running, in their
   own sessions. ``stop`` notes the server's descendants first and kills any still alive once
   the server is gone.
"""

from __future__ import annotations

import asyncio
import random
import socket

from jupyterhub.spawner import SimpleLocalProcessSpawner
from jupyterhub.utils import random_port
from traitlets import Float, Int, Tuple, Unicode

from hub.spawners import forkclient
from hub.spawners.forkclient import describe_returncode
from hub.spawners.readiness import wait_until_answering

SINGLEUSER_MODULE = "hub.spawners.singleuser"
FORKED_LOG = "biblio: forked server"
FALLBACK_LOG = "biblio: fork server gone"


class ServerEndedError(RuntimeError):
    """A server ended before it was up (French message, shown by JupyterHub)."""


class BiblioLocalSpawner(SimpleLocalProcessSpawner):
    """Servers as local processes of the hub's user, in ``<state>/users/<name>``."""

    forkserver_socket = Unicode(
        "", help="Unix socket of the fork server ('' = always start a new interpreter)."
    ).tag(config=True)
    nice = Int(
        5,
        help="Niceness added to the servers (and their kernels): the hub and the fork server, "
        "at 0, keep answering while many servers start or compute.",
    ).tag(config=True)
    ready_notice_timeout = Float(
        5.0, help="Seconds to wait for a forked server's notice before polling it over HTTP."
    ).tag(config=True)
    ready_poll_interval = Float(
        0.05, help="First wait between two readiness checks over HTTP (then growing)."
    ).tag(config=True)
    ready_poll_max_interval = Float(
        1.0, help="Longest wait between two readiness checks over HTTP."
    ).tag(config=True)

    port_range = Tuple(
        Int(),
        Int(),
        default_value=(20000, 32767),
        help="Ports the servers listen on (below the system's ephemeral port range).",
    ).tag(config=True)

    _ports_in_use: set[int] = set()  # shared by every spawner of this hub
    _picked_port = 0
    _watch: forkclient.Watch | None = None
    _watch_task: asyncio.Task | None = None
    _returncode: int | None = None

    # -- start -------------------------------------------------------------------------------

    def _forkable_args(self) -> list[str] | None:
        """Arguments for the fork server, or None if ``cmd`` is not the default command."""
        cmd = list(self.cmd)
        if len(cmd) == 3 and cmd[1:] == ["-m", SINGLEUSER_MODULE] and not self.shell_cmd:
            return self.get_args()
        return None

    async def _start_forked(self):
        """Fork the server; None when it must be started as a plain command instead."""
        if not self.forkserver_socket or self._forkable_args() is None:
            return None
        title = forkclient.server_title(self.user.name, self.name)
        try:
            watch = await forkclient.spawn(
                self.forkserver_socket,
                self.get_args(),
                self.get_env(),
                self.home_dir,
                title,
                nice=self.nice,
            )
        except forkclient.ForkServerGone as error:
            self.log.warning("%s (%s): plain start of %s", FALLBACK_LOG, error, self._log_name)
            return None
        self.log.info("%s pid %s for %s", FORKED_LOG, watch.pid, self._log_name)
        self.proc = None
        self.pid = watch.pid
        self._watch = watch
        self._watch_task = asyncio.ensure_future(self._follow(watch))
        return (self.ip or "127.0.0.1", self.port)

    async def _follow(self, watch: forkclient.Watch) -> None:
        await watch.follow()
        if watch.returncode is not None:
            self.log.info(
                "biblio: server %s (pid %s) ended: %s",
                self._log_name,
                watch.pid,
                describe_returncode(watch.returncode),
            )

    def _pick_port(self) -> int:
        """A free port of ``port_range`` that no other server of this hub holds."""
        low, high = self.port_range
        for _ in range(200):
            port = random.randint(low, high)
            if port in self._ports_in_use:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                try:
                    probe.bind((self.ip or "127.0.0.1", port))
                except OSError:
                    continue
            self._ports_in_use.add(port)
            return port
        return random_port()

    def _release_port(self) -> None:
        if self._picked_port:
            self._ports_in_use.discard(self._picked_port)
            if self.port == self._picked_port:
                self.port = 0
            self._picked_port = 0

    async def start(self):
        self._returncode = None
        self._drop_watch()
        self._release_port()
        if self.port == 0:
            self.port = self._picked_port = self._pick_port()
        url = await self._start_forked()
        if url is None:
            url = await super().start()
        if not await self._until_up(url):
            status = await self.poll()
            if status is not None:
                raise ServerEndedError(
                    "Le démonstrateur s'est arrêté pendant son démarrage "
                    f"({describe_returncode(status)}) ; voir le journal du hub."
                )
        return url

    async def _until_up(self, url) -> bool:
        """Wait for the server's notice (forked), else poll its ``api`` URL with a back-off."""
        watch = self._watch
        if watch is not None:
            try:
                await asyncio.wait_for(self._settled(watch), self.ready_notice_timeout)
            except TimeoutError:
                self.log.info("biblio: no notice from %s yet, polling it", self._log_name)
            if watch.returncode is not None:
                return False
            if watch.ready:
                return True

        async def alive() -> bool:
            return await self.poll() is None

        return await wait_until_answering(
            self._api_url(url),
            timeout=self.http_timeout,
            interval=self.ready_poll_interval,
            max_interval=self.ready_poll_max_interval,
            alive=alive,
            notice=watch.changed if watch is not None else None,
            noticed=(lambda: watch.ready) if watch is not None else None,
        )

    @staticmethod
    async def _settled(watch: forkclient.Watch) -> None:
        while not watch.ready and watch.returncode is None and not watch.lost:
            watch.changed.clear()
            await watch.changed.wait()

    def _api_url(self, url) -> str:
        if not isinstance(url, str):
            ip, port = url
            url = f"http://{ip}:{int(port)}"
        return url.rstrip("/") + self.server.base_url + "api"

    # -- stop ----------------------------------------------------------------------------------

    def _descendants(self) -> list:
        """The server's kernels and their children, as they are now (empty if unknown)."""
        import psutil

        if not self.pid:
            return []
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            return []

    async def stop(self, now=False):
        left = self._descendants()
        await super().stop(now=now)
        import psutil

        for proc in left:
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    self.log.info("biblio: %s left process %s, killed", self._log_name, proc.pid)
                    proc.kill()
            except psutil.Error:
                continue

    # -- poll and state ----------------------------------------------------------------------

    async def poll(self):
        """None while the server runs, else its exit status (``-N``: killed by signal N)."""
        if self.proc is not None:  # a plain start: Popen knows
            return await super().poll()
        if self._returncode is not None:
            return self._returncode
        watch = self._watch
        if watch is not None and watch.returncode is not None:
            self._returncode = watch.returncode
            return self._returncode
        if watch is not None and not watch.lost:
            return None  # the fork server reports the end on the watch connection
        if not self.pid:
            self.clear_state()
            return 0
        if forkclient.pid_running(self.pid):
            return None
        # Resumed after a hub restart, or the fork server went away: ask it, if it knows.
        pid = self.pid
        code = None
        if self.forkserver_socket:
            code = await forkclient.exit_status(self.forkserver_socket, pid)
        ended = describe_returncode(code)
        self.log.info("biblio: server %s (pid %s) ended: %s", self._log_name, pid, ended)
        self._returncode = 0 if code is None else code
        self.clear_state()
        return self._returncode

    def _drop_watch(self) -> None:
        if self._watch is not None:
            self._watch.close()
        self._watch = None
        self._watch_task = None

    def clear_state(self):
        super().clear_state()
        self._drop_watch()
        self._release_port()
