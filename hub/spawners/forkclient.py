"""The hub's side of the fork server (``hub.spawners.forkserver``): ask for a server, watch it.

``spawn`` sends a server's arguments, environment, working folder and process title, and
returns a ``Watch`` as soon as the fork server answers the child's pid. ``Watch.follow`` (a
task of the spawner) then reads the two messages that may come: ``ready`` (the server listens)
and ``exit`` (its real exit status, as ``Popen.returncode``); ``Watch.changed`` wakes whoever
waits for them. ``ForkServerGone`` means the fork server is not there (no socket, nobody
listening, no answer): the spawner then starts the plain command. ``exit_status`` asks for the
status of a pid the fork server reaped; ``pid_running`` checks a pid without the fork server
(a hub restarted while servers kept running).
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def server_title(user: str, server: str = "") -> str:
    """The process title of a user's server, as ``ps`` shows it."""
    return f"biblio-ia singleuser {user}/{server}" if server else f"biblio-ia singleuser {user}"


def describe_returncode(code: int | None) -> str:
    """``exit code 1``, ``killed by signal 9 (SIGKILL)``, or ``exit status unknown``."""
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "?"
        return f"killed by signal {-code} ({name})"
    return f"exit code {code}"


def pid_running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (a dead process nobody has reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in (b"Z", b"X")


class ForkServerGone(OSError):
    """The fork server is not there (no socket, nobody listening) or does not answer."""


async def _connect(path: Path | str, timeout: float):
    try:
        return await asyncio.wait_for(asyncio.open_unix_connection(str(path)), timeout)
    except FileNotFoundError:
        raise ForkServerGone(errno.ENOENT, f"no socket at {path}") from None
    except ConnectionRefusedError:
        raise ForkServerGone(errno.ECONNREFUSED, f"nobody listens on {path}") from None
    except TimeoutError:
        raise ForkServerGone(errno.ETIMEDOUT, f"no connection in {timeout:g} s") from None


async def _read_message(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    line = await reader.readline()
    if not line:
        return None
    try:
        message = json.loads(line)
    except ValueError:
        raise OSError(f"fork server: unreadable answer {line[:200]!r}") from None
    if not isinstance(message, dict):
        raise OSError(f"fork server: unreadable answer {line[:200]!r}")
    return message


@dataclass(eq=False)
class Watch:
    """A forked server seen from the hub: its pid, then ``ready`` and ``exit`` as they come."""

    pid: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    ready: bool = False
    returncode: int | None = None
    lost: bool = False  # the fork server went away before the server ended
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def watching(self) -> bool:
        """True while the fork server will report this server's end."""
        return self.returncode is None and not self.lost

    async def follow(self) -> None:
        """Read ``ready`` and ``exit`` until the connection closes."""
        try:
            while True:
                message = await _read_message(self.reader)
                if message is None:
                    break
                if message.get("ready"):
                    self.ready = True
                if "exit" in message:
                    self.returncode = int(message["exit"])
                self.changed.set()
        except (OSError, ValueError, asyncio.IncompleteReadError):
            pass
        finally:
            if self.returncode is None:
                self.lost = True
            self.changed.set()
            self.close()

    def close(self) -> None:
        self.writer.close()


async def spawn(
    path: Path | str,
    args: list[str],
    env: dict[str, str],
    cwd: str,
    title: str,
    *,
    nice: int = 0,
    connect_timeout: float = 10,
    answer_timeout: float = 10,
) -> Watch:
    """Ask the fork server at ``path`` for a server process; return its ``Watch``.

    Raises ``ForkServerGone`` if the fork server is not there or does not answer (its first
    answer, ``queued``, comes at once; the pid when the request's turn comes), ``OSError`` if
    it refuses the request.
    """
    reader, writer = await _connect(path, connect_timeout)
    try:
        payload = {
            "op": "spawn",
            "args": args,
            "env": env,
            "cwd": cwd,
            "title": title,
            "nice": nice,
        }
        writer.write(json.dumps(payload).encode() + b"\n")
        await writer.drain()
        try:
            answer = await asyncio.wait_for(_read_message(reader), answer_timeout)
        except TimeoutError:
            raise ForkServerGone(errno.ETIMEDOUT, f"no answer in {answer_timeout:g} s") from None
        if answer is not None and "queued" in answer:
            # Alive and queued: the fork comes when a start slot is free (the spawner's own
            # start_timeout bounds the wait; cancelling closes the connection, which dequeues).
            answer = await _read_message(reader)
        if answer is None:
            raise ForkServerGone(errno.ECONNRESET, "connection closed without an answer")
        if "pid" not in answer:
            raise OSError(f"fork server: {answer.get('error', answer)}")
    except BaseException:
        writer.close()
        raise
    return Watch(int(answer["pid"]), reader, writer)


async def exit_status(path: Path | str, pid: int, timeout: float = 5) -> int | None:
    """The returncode of ``pid`` if the fork server at ``path`` reaped it, else None."""
    try:
        reader, writer = await _connect(path, timeout)
    except OSError:
        return None
    try:
        writer.write(json.dumps({"op": "status", "pid": pid}).encode() + b"\n")
        await writer.drain()
        answer = await asyncio.wait_for(_read_message(reader), timeout)
    except (OSError, TimeoutError):
        return None
    finally:
        writer.close()
    if answer and answer.get("state") == "exited":
        return int(answer["returncode"])
    return None
