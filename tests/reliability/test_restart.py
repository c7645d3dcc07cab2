"""The hub or its proxy restarted while demonstrators run: nothing is lost.

``kept_hub`` leaves its servers running when it stops (``BIBLIO_KEEP_SERVERS=1``). Its
servers keep running across a restart of the hub, answer through the new proxy, keep their
kernels (a variable set before is still there) and their files (byte for byte); a kept
server killed afterwards is still noticed. The proxy killed alone is started again by the
hub, with every route.
"""

import os
import signal

import pytest

from hub.spawners.forkclient import pid_running
from tests.reliability.helpers import (
    answers,
    fingerprint,
    get_text,
    put_text,
    server_pid,
    wait_until,
)
from tests.support.kernel import Kernel

USERS = ("reprise0", "reprise1")


def workdir(hub, user, entry):
    return hub.state_dir / "users" / user / entry


@pytest.fixture(scope="module")
def restarted(kept_hub, entry):
    """Two running demonstrators (one with a live kernel) and the hub restarted under them."""
    hub = kept_hub
    tokens = hub.create_users(list(USERS), ("experts",))
    for user, token in tokens.items():
        hub.start_server(user, entry, token=token)
        put_text(hub, user, entry, token, f"{entry}/notes.txt", f"notes de {user}")
    kernel = Kernel(hub, USERS[0], entry, tokens[USERS[0]])
    kernel.run("x = 41")
    before = {
        "pids": {user: server_pid(user, entry) for user in USERS},
        "files": {user: fingerprint(workdir(hub, user, entry)) for user in USERS},
    }
    hub.stop()
    alive = {user: pid_running(pid) for user, pid in before["pids"].items()}
    hub.start()
    return {"tokens": tokens, "kernel": kernel, "before": before, "alive_while_down": alive}


def test_servers_keep_running_across_a_hub_restart(kept_hub, entry, restarted):
    hub, tokens = kept_hub, restarted["tokens"]
    assert all(restarted["alive_while_down"].values()), restarted["alive_while_down"]
    for user, token in tokens.items():
        ok, seconds = wait_until(lambda u=user, t=token: answers(hub, u, entry, t), 30)
        assert ok, f"{user}'s server does not answer through the new proxy ({seconds:.0f} s)"
        assert hub.server_state(user, entry)["ready"]
        assert server_pid(user, entry) == restarted["before"]["pids"][user]
        assert get_text(hub, user, entry, token, f"{entry}/notes.txt") == f"notes de {user}"
        assert fingerprint(workdir(hub, user, entry)) == restarted["before"]["files"][user]
    assert restarted["kernel"].run("print(x + 1)").strip() == "42"
    log = hub.log_text()
    for user in USERS:
        assert f"{user} still running" in log  # the new hub took the server back
        assert f"User {user} server stopped" not in log


def test_a_kept_server_killed_after_the_restart_is_noticed(kept_hub, entry, restarted):
    hub = kept_hub
    user, token = USERS[1], restarted["tokens"][USERS[1]]
    files = fingerprint(workdir(hub, user, entry))
    pid = server_pid(user, entry)
    os.kill(pid, signal.SIGKILL)
    seconds = hub.wait_stopped(user, entry, timeout=30)
    assert seconds <= 10, f"the hub noticed the death after {seconds:.1f} s"
    hub.start_server(user, entry, token=token)
    assert answers(hub, user, entry, token)
    assert server_pid(user, entry) != pid
    assert get_text(hub, user, entry, token, f"{entry}/notes.txt") == f"notes de {user}"
    assert fingerprint(workdir(hub, user, entry)) == files


def test_the_proxy_killed_is_restarted_with_every_route(kept_hub, entry):
    hub = kept_hub
    token = hub.create_user("proxy0", ("experts",))
    hub.start_server("proxy0", entry, token=token)
    put_text(hub, "proxy0", entry, token, f"{entry}/avant.txt", "écrit avant")
    pid_file = hub.state_dir / "jupyterhub-proxy.pid"
    old = int(pid_file.read_text())
    os.kill(old, signal.SIGKILL)
    ok, seconds = wait_until(lambda: answers(hub, "proxy0", entry, token), 20)
    assert ok, f"no route to the server {seconds:.0f} s after the proxy was killed"
    assert int(pid_file.read_text()) != old
    assert get_text(hub, "proxy0", entry, token, f"{entry}/avant.txt") == "écrit avant"
    assert hub.api("GET", "users/proxy0").json()["servers"][entry]["ready"]
