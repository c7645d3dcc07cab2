"""Fork server of local mode: single-user servers forked from a pre-imported process.

Starting ``jupyterhub-singleuser`` spends most of its time importing Python modules (Jupyter
Server, JupyterLab, the JupyterHub mixins, SQLAlchemy...): ~1.2 s of a ~1.5 s start on an idle
machine, several seconds when the cores are busy. The fork server is a hub-managed service
(``python -m hub.spawners.forkserver <socket>``) that imports all of it once, then listens on a
Unix socket (mode 0600 in a 0700 folder of the state directory).

**Protocol**: one JSON object per line. ``{"op": "spawn", "args", "env", "cwd", "title",
"nice"}`` asks for a server; the answer ``{"queued": n}`` comes at once, then ``{"pid": N}``
when the child is forked: a new session, exactly the environment the spawner computed (nothing
inherited from the service), stdin on ``/dev/null``, ``nice`` added to its niceness, its process
title ``title`` (what ``ps`` shows, ``hub.spawners.forkclient.server_title``); it runs
``jupyterhub.singleuser`` as ``python -m hub.spawners.singleuser`` would. The connection then
stays open as the server's *watch*: ``{"ready": true}`` when the server listens (the Jupyter
Server extension ``hub.spawners.ready`` says so through a pipe), then ``{"exit": code}`` when it
ended (``code`` as ``Popen.returncode``: ``-9`` for SIGKILL), and the connection closes.
``{"op": "status", "pid": N}`` answers ``running``, ``exited`` with its ``returncode`` (the last
``KEPT_STATUSES`` exits are remembered), or ``unknown``.

**A burst**: one process, one ``selectors`` loop that never blocks. The listen backlog holds
``BACKLOG`` connections, every pending one is accepted at once, and every request is answered
at once (``queued``): requests wait in a queue, never refused. At most ``--max-starting``
servers (twice the cores by default) are starting at a time: the next one is forked as soon as
one says it is up (or ended, or has had ``START_SLOT`` seconds). Fifty servers starting
together on two cores would all share the CPU and be up together at the end, with the hub
starved meanwhile; started a few at a time they come up one after another, and the hub (whose
event loop must answer everyone) keeps its share of the CPU.

**Its children**: the fork server is their parent and reaps them (SIGCHLD wakes the loop),
so the real exit status is logged (``biblio forkserver: <title> (pid N) ...``) and reported.
On SIGINT/SIGTERM, or when its parent (the hub) is gone, it stops: with ``--stop-servers``
(JupyterHub's ``cleanup_servers``, the default) it first sends SIGTERM to every server, gives
them ``STOP_GRACE`` seconds, then SIGKILLs what is left of them and of their kernels; with
``--leave-servers`` it leaves them running for the next hub, which finds them by pid. Either
way it exits within about ``STOP_GRACE`` + 0.5 s.

If the socket is missing or the fork server does not answer, the spawner starts the plain
command instead: the fork server is an optimisation, never a requirement
(``BIBLIO_FORKSERVER=0`` turns it off).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import random
import selectors
import signal
import socket
import sys
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.shared import block_slow_optional_imports
from hub.spawners.forkclient import describe_returncode

SOCKET_NAME = "forkserver.sock"
MAX_REQUEST = 1 << 20
#: Connections waiting to be accepted (the kernel caps it at net.core.somaxconn).
BACKLOG = 4096
#: Exit statuses remembered for ``status`` requests.
KEPT_STATUSES = 4096
#: Seconds servers get to stop after SIGTERM when the fork server stops them.
STOP_GRACE = 1.0
#: Seconds a starting server holds its start slot at most (if it never says it is up).
START_SLOT = 15.0
LOG_PREFIX = "biblio forkserver:"
# Imported once in the fork server; what a single-user server imports on its way up.
WARM_MODULES = (
    "jupyterhub.singleuser",
    "jupyterhub.singleuser.extension",
    "jupyter_server.serverapp",
    "jupyter_server.services.contents.largefilemanager",
    "jupyter_server.services.kernels.kernelmanager",
    "jupyter_server.services.sessions.sessionmanager",
    "jupyter_server.gateway.managers",
    "jupyter_client.manager",
    "jupyterlab",
    "jupyterlab.labapp",
    "jupyterlab_server",
    "jupyter_server_terminals",
    "terminado",
    "nbformat",
    # imported by the server while it builds its web application
    "jupyter_server.kernelspecs.handlers",
    "jupyter_server.nbconvert.handlers",
    "jupyter_server.services.api.handlers",
    "jupyter_server.services.config.handlers",
    "jupyter_server.services.contents.handlers",
    "jupyter_server.services.events.handlers",
    "jupyter_server.services.kernels.handlers",
    "jupyter_server.services.kernelspecs.handlers",
    "jupyter_server.services.nbconvert.handlers",
    "jupyter_server.services.security.handlers",
    "jupyter_server.services.sessions.handlers",
    "jupyter_server.services.shutdown",
    "jupyter_server.view.handlers",
    "jupyter_core.migrate",
    "jinja2.ext",
    "tornado.platform.asyncio",
    "hub.spawners.ready",
)


def socket_path(state_dir: Path | str) -> Path:
    """Where the fork server of a hub listens."""
    return Path(state_dir) / "run" / SOCKET_NAME


def set_title(title: str) -> None:
    """Set this process's title (``/proc/<pid>/cmdline``, ``ps``); ignored if unsupported."""
    try:
        import setproctitle
    except ImportError:
        return
    setproctitle.setproctitle(title)


def warm_up(modules=WARM_MODULES) -> list[str]:
    """Import ``modules`` (those that fail are skipped); return the ones imported.

    What is imported then moves out of the garbage collector's sight (``gc.freeze``): the
    children do not touch those objects' pages while collecting, so the pages stay shared
    with the fork server instead of being copied into every server.
    """
    block_slow_optional_imports()
    done = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 -- an optional module may be missing
            continue
        done.append(name)
    gc.collect()
    gc.freeze()
    return done


def _log(message: str) -> None:
    print(f"{LOG_PREFIX} {message}", file=sys.stderr, flush=True)


@dataclass(eq=False)
class _Conn:
    sock: socket.socket
    buffer: bytes = b""
    pid: int = 0  # the server this connection watches (after a spawn)
    spec: dict[str, Any] | None = None  # the spawn request waiting in the queue
    closed: bool = False


@dataclass(eq=False)
class _Child:
    pid: int
    title: str
    watcher: _Conn | None
    ready_fd: int | None
    descendants: list = field(default_factory=list)


class ForkServer:
    """The fork server's state and loop (see the module docstring)."""

    def __init__(
        self,
        path: Path | str,
        *,
        stop_servers: bool = True,
        grace: float = STOP_GRACE,
        max_starting: int = 0,
    ):
        self.path = Path(path)
        self.stop_servers = stop_servers
        self.grace = grace
        self.max_starting = max_starting or 2 * (os.cpu_count() or 1)
        self.queue: deque[_Conn] = deque()
        self.starting: dict[int, float] = {}  # pid -> when its start slot expires
        self.selector = selectors.DefaultSelector()
        self.listener: socket.socket | None = None
        self.wake_r = self.wake_w = -1
        self.conns: dict[int, _Conn] = {}
        self.children: dict[int, _Child] = {}
        self.ready_fds: dict[int, int] = {}  # pipe read end -> pid
        self.exited: OrderedDict[int, int] = OrderedDict()
        self.stop_signal = 0
        self.parent = os.getppid()

    # -- set up --------------------------------------------------------------------------------

    def open(self) -> None:
        """Listen on the socket; route SIGCHLD, SIGINT and SIGTERM to the loop."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        self.path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            listener.bind(str(self.path))
        finally:
            os.umask(old_umask)
        listener.listen(BACKLOG)
        listener.setblocking(False)
        self.listener = listener
        self.selector.register(listener, selectors.EVENT_READ, "listener")
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)
        for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        if signum in (signal.SIGINT, signal.SIGTERM):
            self.stop_signal = signum

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        """Serve until a stop signal, or until the parent (the hub) is gone."""
        while not self.stop_signal:
            for key, _ in self.selector.select(timeout=self._timeout()):
                kind = key.data
                if kind == "listener":
                    self._accept()
                elif kind == "wake":
                    self._drain_wake()
                elif kind == "ready":
                    self._on_ready(key.fd)
                else:
                    self._on_readable(kind)
            self._expire_slots()
            if os.getppid() != self.parent:
                _log("the hub is gone")
                self.stop_signal = signal.SIGTERM

    def _timeout(self) -> float:
        if not self.starting:
            return 1.0
        return max(0.0, min(1.0, min(self.starting.values()) - time.monotonic()))

    def _expire_slots(self) -> None:
        now = time.monotonic()
        for pid, until in list(self.starting.items()):
            if until <= now:
                self._free_slot(pid)

    def _free_slot(self, pid: int) -> None:
        if self.starting.pop(pid, None) is not None:
            self._start_queued()

    def _start_queued(self) -> None:
        """Fork the servers waiting in the queue while start slots are free."""
        while self.queue and len(self.starting) < self.max_starting and not self.stop_signal:
            conn = self.queue.popleft()
            if not conn.closed and conn.spec is not None:
                spec, conn.spec = conn.spec, None
                self._fork(conn, spec)

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:  # EMFILE...: leave the rest queued for the next turn
                _log(f"accept: {error}")
                return
            sock.setblocking(False)
            conn = _Conn(sock)
            self.conns[sock.fileno()] = conn
            self.selector.register(sock, selectors.EVENT_READ, conn)

    def _drain_wake(self) -> None:
        try:
            while os.read(self.wake_r, 4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        self._reap()

    def _on_readable(self, conn: _Conn) -> None:
        try:
            chunk = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # the client went away: its server (if any) runs on, unwatched
            child = self.children.get(conn.pid)
            if child is not None and child.watcher is conn:
                child.watcher = None
            self._drop(conn)  # a request still queued is forgotten
            return
        if conn.pid or conn.spec is not None:
            return  # a queued request or a watch: nothing more is expected from the client
        conn.buffer += chunk
        if b"\n" not in conn.buffer:
            if len(conn.buffer) > MAX_REQUEST:
                self._reply_and_drop(conn, {"error": "request too large"})
            return
        line = conn.buffer.split(b"\n", 1)[0]
        conn.buffer = b""
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise TypeError("not an object")
            op = request.get("op", "spawn")
            if op == "status":
                self._reply_and_drop(conn, self.status(int(request["pid"])))
            elif op == "spawn":
                self._spawn(conn, request)
            else:
                raise ValueError(f"unknown op {op!r}")
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            self._reply_and_drop(conn, {"error": f"bad request: {error}"})

    # -- requests ------------------------------------------------------------------------------

    def status(self, pid: int) -> dict[str, Any]:
        if pid in self.children:
            return {"pid": pid, "state": "running"}
        if pid in self.exited:
            return {"pid": pid, "state": "exited", "returncode": self.exited[pid]}
        return {"pid": pid, "state": "unknown"}

    def _spawn(self, conn: _Conn, request: dict[str, Any]) -> None:
        """Queue a spawn request (answered at once), and start it if a slot is free."""
        conn.spec = {
            "args": [str(a) for a in request["args"]],
            "env": {str(k): str(v) for k, v in request["env"].items()},
            "cwd": str(request["cwd"]),
            "title": str(request.get("title") or "biblio-ia singleuser"),
            "nice": max(0, min(19, int(request.get("nice", 0)))),
        }
        self.queue.append(conn)
        if not self._send(conn, {"queued": len(self.queue)}):
            self._drop(conn)
            return
        self._start_queued()

    def _fork(self, conn: _Conn, spec: dict[str, Any]) -> None:
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            self._become_server(spec, ready_r, ready_w)  # never returns
        os.close(ready_w)
        os.set_blocking(ready_r, False)
        self.children[pid] = _Child(pid, spec["title"], conn, ready_r)
        self.ready_fds[ready_r] = pid
        self.selector.register(ready_r, selectors.EVENT_READ, "ready")
        self.starting[pid] = time.monotonic() + START_SLOT
        conn.pid = pid
        if not self._send(conn, {"pid": pid}):
            # Nobody will ever know this server: it must not run.
            _log(f"{spec['title']} (pid {pid}): the hub went away before the answer, stopped")
            os.kill(pid, signal.SIGKILL)

    def _on_ready(self, fd: int) -> None:
        try:
            data = os.read(fd, 64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        pid = self.ready_fds.get(fd)
        child = self.children.get(pid) if pid else None
        if data and child is not None and child.watcher is not None:
            if not self._send(child.watcher, {"ready": True}):
                child.watcher = None
        if not data:
            self._close_ready(fd)
        if pid:
            self._free_slot(pid)

    def _close_ready(self, fd: int) -> None:
        if self.ready_fds.pop(fd, None) is None:
            return
        self.selector.unregister(fd)
        os.close(fd)
        for child in self.children.values():
            if child.ready_fd == fd:
                child.ready_fd = None

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            code = os.waitstatus_to_exitcode(status)
            self.exited[pid] = code
            while len(self.exited) > KEPT_STATUSES:
                self.exited.popitem(last=False)
            child = self.children.pop(pid, None)
            self._free_slot(pid)
            if child is None:
                continue
            _log(f"{child.title} (pid {pid}) ended: {describe_returncode(code)}")
            if child.ready_fd is not None:
                self._close_ready(child.ready_fd)
            if child.watcher is not None:
                self._send(child.watcher, {"exit": code})
                self._drop(child.watcher)

    # -- connections ---------------------------------------------------------------------------

    def _send(self, conn: _Conn, message: dict[str, Any]) -> bool:
        try:
            conn.sock.sendall(json.dumps(message).encode() + b"\n")
        except OSError:
            return False
        return True

    def _reply_and_drop(self, conn: _Conn, message: dict[str, Any]) -> None:
        self._send(conn, message)
        self._drop(conn)

    def _drop(self, conn: _Conn) -> None:
        if conn.closed:
            return
        conn.closed = True
        if self.conns.pop(conn.sock.fileno(), None) is not None:
            self.selector.unregister(conn.sock)
        conn.sock.close()

    # -- in the child --------------------------------------------------------------------------

    def _close_inherited(self) -> None:
        """In a forked child: close every descriptor of the fork server's own."""
        signal.set_wakeup_fd(-1)
        self.selector.close()
        self.listener.close()
        for conn in self.conns.values():
            conn.sock.close()
        for fd in (self.wake_r, self.wake_w, *self.ready_fds):
            os.close(fd)

    def _become_server(self, spec: dict[str, Any], ready_r: int, ready_w: int) -> None:
        """In the forked child: become the single-user server described by ``spec``."""
        code: Any = 1
        try:
            os.close(ready_r)
            self._close_inherited()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            os.setsid()
            if spec["nice"]:
                os.nice(spec["nice"])
            set_title(spec["title"])
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.close(devnull)
            os.environ.clear()
            os.environ.update(spec["env"])
            os.makedirs(spec["cwd"], 0o755, exist_ok=True)
            os.chdir(spec["cwd"])
            random.seed()
            from hub.spawners import ready

            ready.use_channel(ready_w)
            sys.argv = ["jupyterhub-singleuser", *spec["args"]]
            from jupyterhub.singleuser import main

            code = main()
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException:  # noqa: BLE001 -- report, then leave without running parent code
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code or 0)

    # -- stop ----------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop listening; stop the servers (``stop_servers``) or leave them running."""
        if self.listener is not None:
            self.listener.close()
            self.path.unlink(missing_ok=True)
        while self.queue:  # refused, not forgotten: their spawns fail now
            self._reply_and_drop(self.queue.popleft(), {"error": "the fork server is stopping"})
        if not self.children:
            return
        if not self.stop_servers:
            _log(f"stopping, {len(self.children)} server(s) left running for the next hub")
            return
        self._stop_children()

    def _stop_children(self) -> None:
        import psutil

        for child in self.children.values():
            try:
                child.descendants = psutil.Process(child.pid).children(recursive=True)
            except psutil.Error:
                child.descendants = []
        snapshot = list(self.children.values())
        _log(f"stopping {len(snapshot)} server(s)")
        for child in snapshot:
            _kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while self.children and time.monotonic() < deadline:
            self.selector.select(timeout=0.05)
            self._drain_wake()
        for child in self.children.values():
            _kill(child.pid, signal.SIGKILL)
        for child in snapshot:  # kernels and terminals of the servers, even of stopped ones
            for proc in child.descendants:
                try:
                    proc.kill()
                except psutil.Error:
                    pass
        deadline = time.monotonic() + 0.5
        while self.children and time.monotonic() < deadline:
            self.selector.select(timeout=0.02)
            self._drain_wake()
        if self.children:
            _log(f"{len(self.children)} server(s) did not stop: {sorted(self.children)}")


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def serve(
    path: Path | str,
    *,
    stop_servers: bool = True,
    grace: float = STOP_GRACE,
    max_starting: int = 0,
) -> None:
    """Import, listen on ``path``, fork on request; stop on a signal or when the hub is gone."""
    set_title(f"biblio-ia forkserver {path}")
    warm_up()
    server = ForkServer(path, stop_servers=stop_servers, grace=grace, max_starting=max_starting)
    server.open()
    _log(f"ready on {path}")
    try:
        server.run()
    finally:
        server.shutdown()
    _log("stopped")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hub.spawners.forkserver", description=__doc__.splitlines()[0]
    )
    parser.add_argument("socket", help="path of the Unix socket to listen on")
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--stop-servers",
        dest="stop_servers",
        action="store_true",
        default=True,
        help="stop the forked servers when stopping (default)",
    )
    group.add_argument(
        "--leave-servers",
        dest="stop_servers",
        action="store_false",
        help="leave them running for the next hub",
    )
    parser.add_argument(
        "--max-starting",
        type=int,
        default=0,
        help="servers starting at once, the others wait their turn (default: twice the cores)",
    )
    parser.add_argument("--grace", type=float, default=STOP_GRACE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    code = 0
    try:
        serve(
            args.socket,
            stop_servers=args.stop_servers,
            grace=args.grace,
            max_starting=args.max_starting,
        )
    except KeyboardInterrupt:  # SIGINT while still importing
        pass
    except BaseException:  # noqa: BLE001 -- reported, then the fast exit below
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip the interpreter's teardown of everything warm_up imported (about a second).
    os._exit(code)


if __name__ == "__main__":
    main()
