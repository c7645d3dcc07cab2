"""A throwaway biblio-ia hub in a subprocess, for the integration tests and the benchmark.

``LocalHub`` writes a config file that calls ``hub.config.configure(c)`` (the real
configuration) and adds one API service, ``biblio-tests``, whose token can create users,
groups and tokens and start or stop servers. It starts ``jupyterhub`` with the real node
proxy on free ports, keeps every state file under ``workdir``, and its log in
``workdir/hub.log``. It is a developer tool: never used by the production configuration.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from hub import forkserver

TEST_SERVICE = "biblio-tests"
TEST_SERVICE_SCOPES = [
    "admin:users",
    "admin:servers",
    "admin:groups",
    "tokens",
    "access:servers",
    "read:hub",
    "read:roles",
    "read:services",
    "list:services",
]

_CONFIG = f'''
import os
from hub.config import configure

c = get_config()  # noqa: F821
configure(c)
c.JupyterHub.services.append(
    {{"name": "{TEST_SERVICE}", "api_token": os.environ["BIBLIO_TEST_API_TOKEN"]}}
)
c.JupyterHub.load_roles.append(
    {{"name": "{TEST_SERVICE}-role", "scopes": {TEST_SERVICE_SCOPES!r},
     "services": ["{TEST_SERVICE}"]}}
)
'''

PASSWORD_LINE = re.compile(r"identifiant : (\S+)\s+mot de passe : (\S+)")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalHub:
    """A real JupyterHub subprocess with the project's configuration."""

    def __init__(self, workdir: Path | str, env: dict[str, str] | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.token = secrets.token_hex(32)
        self.extra_env = dict(env or {})
        self.log_path = self.workdir / "hub.log"
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    @property
    def state_dir(self) -> Path:
        return self.workdir / "state"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BIBLIO_")}
        env.update(
            {
                "BIBLIO_STATE_DIR": str(self.state_dir),
                "BIBLIO_PORT": str(self.port),
                "BIBLIO_HUB_PORT": str(free_port()),
                "BIBLIO_PROXY_API_PORT": str(free_port()),
                "BIBLIO_TEST_API_TOKEN": self.token,
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 90) -> LocalHub:
        config = self.workdir / "jupyterhub_test_config.py"
        config.write_text(_CONFIG, encoding="utf-8")
        jupyterhub = Path(sys.prefix) / "bin" / "jupyterhub"
        log = open(self.log_path, "ab")  # noqa: SIM115 -- closed in stop()
        self._log = log
        self.proc = subprocess.Popen(
            [str(jupyterhub), "-f", str(config)],
            cwd=self.workdir,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the hub exited ({self.proc.returncode}):\n{self.log_text()}")
            try:
                if requests.get(self.url + "/hub/api/", timeout=2).status_code == 200:
                    self._wait_forkserver(deadline)
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the hub did not answer in {timeout} s:\n{self.log_text()}")

    def _wait_forkserver(self, deadline: float) -> None:
        """Wait for the fork server's socket (local mode, unless BIBLIO_FORKSERVER=0)."""
        if self.environment().get("BIBLIO_FORKSERVER", "1") in ("0", "false", "non", "no"):
            return
        sock = forkserver.socket_path(self.state_dir)
        while time.monotonic() < deadline and not sock.exists():
            time.sleep(0.05)

    def stop(self, timeout: float = 20) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        # anything left in the hub's session (proxy, servers, culler)
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if getattr(self, "_log", None):
            self._log.close()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def printed_passwords(self) -> dict[str, str]:
        """Passwords printed by the hub at start (admin, demo accounts)."""
        return dict(PASSWORD_LINE.findall(self.log_text()))

    # --- REST helpers -------------------------------------------------------------------

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any):
        headers = {"Authorization": f"token {token or self.token}"}
        return requests.request(
            method, f"{self.url}/hub/api/{path}", headers=headers, timeout=60, **kwargs
        )

    def create_user(self, name: str, groups: tuple[str, ...] = ()) -> str:
        """Create ``name`` (in ``groups``) and return a token of theirs."""
        r = self.api("POST", f"users/{name}")
        if r.status_code not in (201, 409):
            raise RuntimeError(f"creating {name}: {r.status_code} {r.text}")
        for group in groups:
            r = self.api("POST", f"groups/{group}/users", json={"users": [name]})
            r.raise_for_status()
        r = self.api("POST", f"users/{name}/tokens", json={"note": "tests", "expires_in": 3600})
        r.raise_for_status()
        return r.json()["token"]

    def wait_ready(self, user: str, server: str, timeout: float = 60, interval=0.02) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api("GET", f"users/{user}").json()
            state = model.get("servers", {}).get(server)
            if state and state.get("ready"):
                return state
            if state is None and "servers" in model and not model.get("pending"):
                pass
            time.sleep(interval)
        raise TimeoutError(f"{user}/{server} not ready after {timeout} s")

    def start_server(self, user: str, server: str, token: str | None = None, **options) -> float:
        """Start ``user``'s named server; return seconds from request to ready."""
        t0 = time.perf_counter()
        r = self.api("POST", f"users/{user}/servers/{server}", token=token, json=options)
        if r.status_code not in (201, 202):
            raise RuntimeError(f"start {user}/{server}: {r.status_code} {r.text}")
        if r.status_code == 202:
            self.wait_ready(user, server)
        return time.perf_counter() - t0

    def stop_server(self, user: str, server: str, timeout: float = 60) -> None:
        r = self.api("DELETE", f"users/{user}/servers/{server}")
        if r.status_code not in (202, 204):
            raise RuntimeError(f"stop {user}/{server}: {r.status_code} {r.text}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.api("GET", f"users/{user}").json().get("servers", {}).get(server)
            if not state:
                return
            time.sleep(0.05)
        raise TimeoutError(f"{user}/{server} did not stop")
