"""What the reliability tests share: find a server's process, read and write through the
proxy, fingerprint a folder, clean up servers kept on purpose (kernels: tests.support.kernel)."""

import hashlib
import os
import signal
import time
from pathlib import Path

import psutil
import requests

from hub.spawners.forkclient import server_title


def wait_until(check, timeout: float, interval: float = 0.1):
    """Call ``check`` until it returns something true; return it and the seconds it took."""
    t0 = time.monotonic()
    while True:
        try:
            value = check()
        except (requests.RequestException, OSError):
            value = None
        if value:
            return value, time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            return None, time.monotonic() - t0
        time.sleep(interval)


def cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode(errors="replace").strip()


def server_pid(user: str, server: str) -> int:
    """The pid of the one process titled after ``user/server``."""
    title = server_title(user, server)
    found = []
    for proc in psutil.process_iter():
        try:
            if cmdline(proc.pid) == title and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
        except (OSError, psutil.Error):
            continue
    assert len(found) == 1, (title, found)
    return found[0]


def service_pids(hub, fragment: str) -> list[int]:
    """The pids of the hub's living managed services whose command line contains ``fragment``
    (none while a killed one waits for the hub to start it again)."""
    found = []
    for proc in psutil.Process(hub.proc.pid).children():
        try:  # a service that just died is a zombie until the hub reaps it
            if proc.status() != psutil.STATUS_ZOMBIE and fragment in " ".join(proc.cmdline()):
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


def service_pid(hub, fragment: str) -> int:
    """The pid of the hub's one managed service whose command line contains ``fragment``."""
    found = service_pids(hub, fragment)
    assert len(found) == 1, (fragment, found)
    return found[0]


def server_url(hub, user: str, server: str, path: str = "") -> str:
    return f"{hub.url}/user/{user}/{server}/{path}"


def answers(hub, user: str, server: str, token: str) -> bool:
    """The server answers its API through the public proxy."""
    r = requests.get(
        server_url(hub, user, server, "api/status"),
        headers={"Authorization": f"token {token}"},
        timeout=10,
        allow_redirects=False,
    )
    return r.status_code == 200


def put_text(hub, user, server, token, path, text) -> None:
    r = requests.put(
        server_url(hub, user, server, f"api/contents/{path}"),
        headers={"Authorization": f"token {token}"},
        json={"type": "file", "format": "text", "content": text},
        timeout=30,
    )
    assert r.status_code in (200, 201), r.text


def get_text(hub, user, server, token, path) -> str:
    r = requests.get(
        server_url(hub, user, server, f"api/contents/{path}"),
        headers={"Authorization": f"token {token}"},
        params={"format": "text", "type": "file"},
        timeout=30,
    )
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.json()["content"]


def fingerprint(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder``."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".ipynb_checkpoints" not in p.parts
    }


def stop_all_servers(hub) -> None:
    """Stop, through the hub, every server it lists (the kept ones too)."""
    users = hub.api("GET", "users").json()
    for user in users:
        for name in user.get("servers") or {}:
            hub.api("DELETE", f"users/{user['name']}/servers/{name}")
    for user in users:
        for name in user.get("servers") or {}:
            try:
                hub.wait_stopped(user["name"], name, timeout=15)
            except TimeoutError:
                pass


def kill_leftovers(workdir: Path) -> list[int]:
    """Kill every process working under ``workdir`` (servers and kernels kept on purpose)."""
    root = str(Path(workdir).resolve())
    killed = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            if proc.cwd().startswith(root):
                os.kill(proc.pid, signal.SIGKILL)
                killed.append(proc.pid)
        except (psutil.Error, OSError):
            continue
    return killed
