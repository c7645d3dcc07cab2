"""A throwaway biblio-ia hub in a subprocess, for the integration, e2e and docker tests and the
benchmarks (test support: not part of the installed package).

``LocalHub`` writes a config file that calls ``hub.config.configure.configure(c)`` (the real
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
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from hub.config.settings import Settings
from hub.shared import free_port
from hub.spawners import forkserver

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
    "read:shares",
]

_CONFIG = f'''
import os
from hub.config.configure import configure
from hub.config.process import prepare_hub_process

c = get_config()  # noqa: F821
configure(c)
prepare_hub_process()
c.JupyterHub.services.append(
    {{"name": "{TEST_SERVICE}", "api_token": os.environ["LOCALHUB_API_TOKEN"]}}
)
c.JupyterHub.load_roles.append(
    {{"name": "{TEST_SERVICE}-role", "scopes": {TEST_SERVICE_SCOPES!r},
     "services": ["{TEST_SERVICE}"]}}
)
'''

PASSWORD_LINE = re.compile(r"identifiant : (\S+)\s+mot de passe : (\S+)")


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
                "LOCALHUB_API_TOKEN": self.token,
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
        settings = Settings.from_env(self.environment())
        if settings.spawner != "local" or not settings.forkserver:
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

    def login(self, name: str, password: str | None = None, *, next_url: str = ""):
        """A ``requests.Session`` logged in through the hub's login form (XSRF included);
        ``password`` defaults to the one the hub printed for ``name``."""
        session = requests.Session()
        session.get(f"{self.url}/hub/login", timeout=30)
        r = session.post(
            f"{self.url}/hub/login" + (f"?next={next_url}" if next_url else ""),
            data={
                "username": name,
                "password": password or self.printed_passwords()[name],
                "_xsrf": session.cookies.get("_xsrf"),
            },
            timeout=30,
            allow_redirects=False,
        )
        if r.status_code != 302:
            raise AssertionError(f"login of {name} refused: {r.status_code} {r.text[:300]}")
        return session

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

    def create_users(self, names: list[str], groups: tuple[str, ...] = ()) -> dict[str, str]:
        """Create ``names`` in one call (in ``groups``); return a token of each."""
        r = self.api("POST", "users", json={"usernames": names})
        if r.status_code not in (201, 409):
            raise RuntimeError(f"creating {len(names)} users: {r.status_code} {r.text}")
        for group in groups:
            self.api("POST", f"groups/{group}/users", json={"users": names}).raise_for_status()
        tokens = {}
        for name in names:
            r = self.api("POST", f"users/{name}/tokens", json={"note": "tests", "expires_in": 3600})
            r.raise_for_status()
            tokens[name] = r.json()["token"]
        return tokens

    def server_state(self, user: str, server: str) -> dict | None:
        """The server's model in the hub (None once it is stopped)."""
        return self.api("GET", f"users/{user}").json().get("servers", {}).get(server)

    def wait_ready(self, user: str, server: str, timeout: float = 60, interval=0.02) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api("GET", f"users/{user}").json()
            state = model.get("servers", {}).get(server)
            if state and state.get("ready"):
                return state
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
        self.wait_stopped(user, server, timeout)

    def wait_stopped(self, user: str, server: str, timeout: float = 60) -> float:
        """Wait until the hub no longer lists the server; return the seconds it took."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if not self.server_state(user, server):
                return time.monotonic() - t0
            time.sleep(0.05)
        raise TimeoutError(f"{user}/{server} did not stop")


def running_hub(workdir: Path | str, env: dict[str, str] | None = None):
    """Fixture body: a started ``LocalHub`` (the test fails, not errors, when it does not
    start), stopped afterwards. Use as ``yield from running_hub(...)``."""
    import pytest

    hub = LocalHub(workdir, env=env)
    try:
        hub.start()
    except RuntimeError as error:
        hub.stop()
        pytest.fail(f"the hub did not start: {error}")
    try:
        yield hub
    finally:
        hub.stop()
