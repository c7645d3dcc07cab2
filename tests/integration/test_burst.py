"""A room of experts launching at once, servers that die, and a hub that stops in seconds.

Real hub, real proxy, real fork server (local mode). What is asserted comes from the hub's
REST API, its log (the fork server's and the spawner's lines) and ``/proc``.
"""

import os
import signal
import subprocess
import threading
import time

import psutil
import pytest
import requests

from hub.config.settings import Settings
from hub.spawners.forkclient import pid_running, server_title
from hub.spawners.local import FALLBACK_LOG, FORKED_LOG
from models.entries import entry_ids
from tests.support.localhub import LocalHub

ENTRY_REPO = Settings.from_env().repo_root
ENTRY = (entry_ids(ENTRY_REPO) or [None])[0]
BURST = 20


@pytest.fixture(scope="module")
def entry():
    if ENTRY is None:
        pytest.fail(f"aucune entrée : aucun notebooks/*.ipynb dans {ENTRY_REPO}")
    return ENTRY


def cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode().strip()


def server_pid(user: str, server: str) -> int:
    """The pid of the process whose title names ``user/server`` (exactly one)."""
    title = server_title(user, server)
    found = []
    for proc in psutil.process_iter():
        try:
            if cmdline(proc.pid) == title:
                found.append(proc.pid)
        except (OSError, psutil.Error):
            continue
    assert len(found) == 1, (title, found)
    return found[0]


def answers(hub, user, server, token) -> bool:
    r = requests.get(
        f"{hub.url}/user/{user}/{server}/api/status",
        headers={"Authorization": f"token {token}"},
        timeout=30,
        allow_redirects=False,
    )
    return r.status_code == 200


def launch_all(hub, tokens, server):
    """POST every launch at the same instant; return {user: seconds or exception}."""
    release, outcome = threading.Event(), {}

    def launch(user, token):
        release.wait()
        try:
            outcome[user] = hub.start_server(user, server, token=token)
        except Exception as error:  # noqa: BLE001 -- reported by the assertion
            outcome[user] = error

    threads = [threading.Thread(target=launch, args=item) for item in tokens.items()]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(120)
    return outcome


def stop_all(hub, users, server):
    threads = [threading.Thread(target=hub.stop_server, args=(u, server)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)


def test_a_burst_is_forked_without_fallback(live_hub, entry):
    hub = live_hub
    tokens = hub.create_users([f"salle{i:02d}" for i in range(BURST)], ("experts",))
    try:
        outcome = launch_all(hub, tokens, entry)
        failed = {u: v for u, v in outcome.items() if not isinstance(v, float)}
        assert not failed, failed
        assert all(answers(hub, u, entry, t) for u, t in tokens.items())
        log = hub.log_text()
        for user in tokens:
            assert f"{FORKED_LOG} pid {server_pid(user, entry)} for {user}:{entry}" in log
        assert not [line for line in log.splitlines() if FALLBACK_LOG in line]
    finally:
        stop_all(hub, list(tokens), entry)


def test_server_process_is_named_after_user_and_server(live_hub, entry):
    token = live_hub.create_user("nommee", ("experts",))
    live_hub.start_server("nommee", entry, token=token)
    try:
        pid = server_pid("nommee", entry)
        assert cmdline(pid) == f"biblio-ia singleuser nommee/{entry}"
        assert "hub.spawners.forkserver" not in cmdline(pid)
        ps = subprocess.run(["ps", "-o", "args=", "-p", str(pid)], capture_output=True, text=True)
        assert ps.stdout.strip() == f"biblio-ia singleuser nommee/{entry}"
    finally:
        live_hub.stop_server("nommee", entry)


def test_a_killed_server_is_reported_with_its_signal_and_relaunches(live_hub, entry):
    hub = live_hub
    token = hub.create_user("tuee", ("experts",))
    hub.start_server("tuee", entry, token=token)
    notes = hub.state_dir / "users" / "tuee" / entry / "notes.txt"
    notes.write_text("gardé", encoding="utf-8")
    pid = server_pid("tuee", entry)
    os.kill(pid, signal.SIGKILL)
    seconds = hub.wait_stopped("tuee", entry, timeout=30)
    assert seconds <= 10, f"the hub noticed the death after {seconds:.1f} s"
    log = hub.log_text()
    assert f"tuee/{entry} (pid {pid}) ended: killed by signal 9 (SIGKILL)" in log
    assert f"server tuee:{entry} (pid {pid}) ended: killed by signal 9 (SIGKILL)" in log
    assert "User tuee server stopped, with exit code: -9" in log
    assert "User tuee server stopped, with exit code: 0" not in log
    try:
        hub.start_server("tuee", entry, token=token)
        assert answers(hub, "tuee", entry, token)
        assert server_pid("tuee", entry) != pid
        assert notes.read_text(encoding="utf-8") == "gardé"
    finally:
        hub.stop_server("tuee", entry)


@pytest.fixture
def own_hub(tmp_path):
    """A hub of this test only: it is stopped by the test itself."""
    hub = LocalHub(tmp_path / "hub", env={"BIBLIO_REPO_ROOT": str(ENTRY_REPO)})
    try:
        hub.start()
    except RuntimeError as error:
        hub.stop()
        pytest.fail(f"the hub did not start: {error}")
    yield hub
    hub.stop()


def start_kernel(hub, user, server, token) -> None:
    r = requests.post(
        f"{hub.url}/user/{user}/{server}/api/kernels",
        headers={"Authorization": f"token {token}"},
        json={"name": "python3"},
        timeout=60,
    )
    assert r.status_code == 201, r.text


def test_hub_stops_within_5_s_and_leaves_no_process(own_hub, entry):
    hub = own_hub
    tokens = hub.create_users(["arret0", "arret1", "arret2"], ("experts",))
    for user, token in list(tokens.items())[:2]:
        hub.start_server(user, entry, token=token)
    start_kernel(hub, "arret0", entry, tokens["arret0"])

    # The fork server goes away: the next launch still succeeds, as a plain start, with a
    # warning giving the reason; the servers it had forked keep running (their parent is gone).
    (forkserver,) = [
        p for p in psutil.Process(hub.proc.pid).children() if "forkserver" in " ".join(p.cmdline())
    ]
    forkserver.kill()
    deadline = time.monotonic() + 10
    while pid_running(forkserver.pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # dead; the hub reaps it at its next poll of the service
    hub.start_server("arret2", entry, token=tokens["arret2"])
    assert answers(hub, "arret2", entry, tokens["arret2"])
    warnings = [line for line in hub.log_text().splitlines() if FALLBACK_LOG in line]
    assert len(warnings) == 1 and "[W " in warnings[0] and "arret2" in warnings[0]
    assert "no socket" in warnings[0] or "nobody listens" in warnings[0]
    assert all(answers(hub, u, entry, t) for u, t in tokens.items())

    # Everything the hub started, kernels included, goes with it.
    mine = psutil.Process(hub.proc.pid).children(recursive=True)
    orphans = [psutil.Process(server_pid(u, entry)) for u in ("arret0", "arret1")]
    processes = {p.pid: p for p in [*mine, *orphans, *orphans[0].children(recursive=True)]}
    assert len(processes) >= 7  # proxy, culler, catalog, 3 servers, 1 kernel
    t0 = time.monotonic()
    hub.proc.send_signal(signal.SIGTERM)
    hub.proc.wait(30)
    seconds = time.monotonic() - t0
    assert seconds <= 5, f"the hub took {seconds:.1f} s to stop"
    time.sleep(0.5)
    left = []
    for proc in processes.values():
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(" ".join(proc.cmdline()))
        except psutil.NoSuchProcess:
            continue
    assert not left, left


def test_forkserver_stops_its_servers_with_the_hub(own_hub, entry):
    hub = own_hub
    tokens = hub.create_users(["fin0", "fin1"], ("experts",))
    for user, token in tokens.items():
        hub.start_server(user, entry, token=token)
    start_kernel(hub, "fin0", entry, tokens["fin0"])
    servers = [psutil.Process(server_pid(u, entry)) for u in tokens]
    kernels = servers[0].children(recursive=True)
    assert kernels
    t0 = time.monotonic()
    hub.proc.send_signal(signal.SIGTERM)
    hub.proc.wait(30)
    assert time.monotonic() - t0 <= 5
    gone, alive = psutil.wait_procs([*servers, *kernels], timeout=1)
    assert not alive, alive
    log = hub.log_text()
    assert "biblio forkserver: stopping 2 server(s)" in log
    assert "biblio forkserver: stopped" in log
    assert "server(s) did not stop" not in log
