"""Fork server of local mode: single-user servers forked from a pre-imported process.

Starting ``jupyterhub-singleuser`` spends most of its time importing Python modules (Jupyter
Server, JupyterLab, the JupyterHub mixins, SQLAlchemy...): ~1.2 s of a ~1.5 s start on an idle
machine, several seconds when the cores are busy. The fork server is a hub-managed service
(``python -m hub.forkserver <socket>``) that imports all of it once, then listens on a Unix
socket (mode 0600 in a 0700 folder of the state directory). For each launch,
``hub.spawner.BiblioLocalSpawner`` sends the server's arguments, environment and working
folder; the fork server forks, and the child — a new session, with exactly the environment
the spawner computed (nothing inherited from the service), stdin on ``/dev/null`` — runs
``jupyterhub.singleuser`` as ``python -m hub.singleuser`` would. The reply is the child's pid;
JupyterHub then polls, signals and stops it by pid as it does for any local process. Children
are reaped by the kernel (SIGCHLD ignored), so a stopped server leaves no zombie.

If the socket is missing or the fork server fails, the spawner starts the plain command
instead: the fork server is an optimisation, never a requirement (``BIBLIO_FORKSERVER=0``
turns it off).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import random
import select
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from hub.singleuser import block_slow_optional_imports

SOCKET_NAME = "forkserver.sock"
MAX_REQUEST = 1 << 20
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
)


def socket_path(state_dir: Path | str) -> Path:
    """Where the fork server of a hub listens."""
    return Path(state_dir) / "run" / SOCKET_NAME


def warm_up(modules=WARM_MODULES) -> list[str]:
    """Import ``modules`` (those that fail are skipped); return the ones imported."""
    block_slow_optional_imports()
    done = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 -- an optional module may be missing
            continue
        done.append(name)
    return done


def _run_child(request: dict[str, Any], listener: socket.socket, conn: socket.socket) -> None:
    """In the forked child: become the single-user server described by ``request``."""
    try:
        listener.close()
        conn.close()
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.environ.clear()
        os.environ.update(request["env"])
        cwd = request["cwd"]
        os.makedirs(cwd, 0o755, exist_ok=True)
        os.chdir(cwd)
        random.seed()
        sys.argv = ["jupyterhub-singleuser", *request["args"]]
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


def _handle(conn: socket.socket, listener: socket.socket) -> None:
    data = b""
    while not data.endswith(b"\n") and len(data) < MAX_REQUEST:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    try:
        request = json.loads(data)
        args = [str(a) for a in request["args"]]
        env = {str(k): str(v) for k, v in request["env"].items()}
        cwd = str(request["cwd"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        conn.sendall(json.dumps({"error": f"bad request: {error}"}).encode() + b"\n")
        return
    pid = os.fork()
    if pid == 0:
        _run_child({"args": args, "env": env, "cwd": cwd}, listener, conn)
    conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def serve(path: Path | str) -> None:
    """Import, listen on ``path``, fork on request; exit when the parent (the hub) is gone."""
    path = Path(path)
    warm_up()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_umask)
    listener.listen(16)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the servers
    parent = os.getppid()
    print(f"biblio forkserver: ready on {path}", file=sys.stderr, flush=True)
    try:
        while os.getppid() == parent:
            ready, _, _ = select.select([listener], [], [], 1.0)
            if not ready:
                continue
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(10)
                try:
                    _handle(conn, listener)
                except OSError as error:
                    print(f"biblio forkserver: {error}", file=sys.stderr, flush=True)
    finally:
        listener.close()
        path.unlink(missing_ok=True)


async def request_fork(
    path: Path | str, args: list[str], env: dict[str, str], cwd: str, timeout: float = 10
) -> int:
    """Ask the fork server at ``path`` for a server process; return its pid.

    Raises ``OSError`` if the fork server is not there or answers an error.
    """
    reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), timeout)
    try:
        payload = {"args": args, "env": env, "cwd": cwd}
        writer.write(json.dumps(payload).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
    finally:
        writer.close()
    try:
        answer = json.loads(line)
    except ValueError:
        raise OSError(f"fork server gave no answer ({line!r})") from None
    if "pid" not in answer:
        raise OSError(f"fork server: {answer.get('error', answer)}")
    return int(answer["pid"])


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: python -m hub.forkserver <socket path>")
    serve(sys.argv[1])


if __name__ == "__main__":
    main()
